#!/usr/bin/env bash
# Two Tafel binaries on the shared harness (../shared/peer), alternating A, B, A, B… so that a
# machine that drifts during the runs drifts for both; prints each run and the medians.
#
#   bench/ab.sh A_BINARY B_BINARY [REPEATS=3] [INTERVALS="40 20"]
#
# Same shape as bench/peer.sh: 10 rooms × 50 clients, 48 passive, 30 s windows. Env: PEER, OUT.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER=${PEER:-$ROOT/../shared/peer}
A=$(realpath "$1") B=$(realpath "$2")
REPEATS=${3:-3}
INTERVALS=${4:-"40 20"}
OUT=${OUT:-$ROOT/bench/runs/ab-$(date -u +%Y%m%d-%H%M)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd) # the harness runs in its own directory
[ -d "$PEER/node_modules" ] || (cd "$PEER" && npm ci --no-audit --no-fund)
for interval in $INTERVALS; do
  for r in $(seq 1 "$REPEATS"); do
    for side in a b; do
      bin=$A; [ $side = b ] && bin=$B
      (cd "$PEER" && TAFEL_BIN=$bin ADAPTER=tafel ./run.sh 10 50 "$interval" 30 5 "$OUT/$side-$interval-$r.json" \
        -- --client json --passive 48 --label "tafel-$side-$interval-$r") | tail -1 | sed "s/^.*\[/$side [/"
    done
  done
done
node - "$OUT" <<'JS'
const { readdirSync, readFileSync } = require("node:fs");
const dir = process.argv[2];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const groups = {};
for (const f of readdirSync(dir).filter((f) => /^[ab]-.*\.json$/.test(f))) {
  const r = JSON.parse(readFileSync(`${dir}/${f}`, "utf8"));
  const key = `${f[0]} ${r.config.intervalMs} ms`;
  (groups[key] ??= []).push(r);
}
for (const [key, runs] of Object.entries(groups).sort()) {
  const us = median(runs.map((r) => (r.server.cpuPct / 100) * 1e6 / r.deliveries.perS));
  console.log(`${key}: p50 ${median(runs.map((r) => r.latencyMs.p50)).toFixed(2)} ms, p99 ${median(runs.map((r) => r.latencyMs.p99)).toFixed(1)} ms, CPU ${median(runs.map((r) => r.server.cpuPct)).toFixed(1)} %, ${us.toFixed(2)} µs per delivery (${runs.length} runs)`);
}
JS
