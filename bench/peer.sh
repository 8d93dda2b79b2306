#!/usr/bin/env bash
# Tafel and Hocuspocus side by side on the shared harness (../shared/peer), back to back in one
# sitting: 10 rooms × 50 clients, 48 passive listeners per room, server on CPU 0, generator on
# CPU 1, 30 s windows; each load repeated and the medians printed as one table.
#
#   bench/peer.sh [REPEATS=3] [INTERVALS="40 20 10 5"]
#
# The acting interval T per acting client is the all-clients interval × 2/50 (≡1000 ms is 40).
# Env: PEER (the harness, default ../shared/peer), OUT (where the JSON goes, default
# bench/runs/peer-DATE). Builds Tafel with --release first; runs `npm ci` in the harness once.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER=${PEER:-$ROOT/../shared/peer}
REPEATS=${1:-3}
INTERVALS=${2:-"40 20 10 5"}
OUT=${OUT:-$ROOT/bench/runs/peer-$(date -u +%Y%m%d-%H%M)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd) # the harness runs in its own directory

(cd "$ROOT" && cargo build --release --bin tafel)
[ -d "$PEER/node_modules" ] || (cd "$PEER" && npm ci --no-audit --no-fund)

for interval in $INTERVALS; do
  for r in $(seq 1 "$REPEATS"); do
    (cd "$PEER" && ./run.sh 10 50 "$interval" 30 5 "$OUT/hocuspocus-$interval-$r.json" \
      -- --client lean --passive 48 --label "hocuspocus-$interval-$r") >/dev/null
    (cd "$PEER" && TAFEL_ROOT=$ROOT ADAPTER=tafel ./run.sh 10 50 "$interval" 30 5 "$OUT/tafel-$interval-$r.json" \
      -- --client json --passive 48 --label "tafel-$interval-$r") >/dev/null
  done
done
node "$ROOT/bench/peer-table.mjs" "$OUT"/*.json | tee "$OUT/table.md"
