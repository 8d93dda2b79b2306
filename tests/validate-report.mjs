// Checks a report against docs/report.schema.json with ajv; prints what does not fit and
// exits with 1 if anything does not.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';

const [schemaFile, reportFile] = process.argv.slice(2);
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
if (!validate(JSON.parse(readFileSync(reportFile, 'utf8')))) {
  process.stdout.write(JSON.stringify(validate.errors, null, 2));
  process.exit(1);
}
