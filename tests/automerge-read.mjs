// Reads a raw automerge file with the automerge package from npm and prints the document as
// JSON: how the tests check that other tools can open Tafel's export.
import { readFileSync } from 'node:fs';
import * as Automerge from '@automerge/automerge';

const doc = Automerge.load(new Uint8Array(readFileSync(process.argv[2])));
process.stdout.write(JSON.stringify(Automerge.toJS(doc)));
