#!/usr/bin/env bash
# The server's own instructions per delivery, counted by callgrind under a fixed load from
# tafel-load: repeatable on a noisy machine, where CPU percentages drift by a third between
# runs. Kernel time (the socket writes) is not counted; this measures Tafel's own code.
#
#   bench/callgrind.sh [TAFEL_BINARY=target/release/tafel] [ROOMS=2] [PHONES=50] [ROOM_RATE=5] [SECONDS=20]
#
# Cards only (`--mix 1,0,0`), as on ../shared/peer. Counting starts once every phone has
# joined. Prints the instructions per card delivered to a phone (an update in tafel-load).
# CG_OUT=FILE keeps the profile, for callgrind_annotate.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/target/release/tafel}")
ROOMS=${2:-2} PHONES=${3:-50} RATE=${4:-5} SECS=${5:-20}
DIR=$(mktemp -d)
PORT=$((20000 + RANDOM % 10000))
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
[ -x "$ROOT/target/release/tafel-load" ] || (cd "$ROOT" && cargo build --release -p tafel-tests --bin tafel-load)
valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out" "$BIN" --listen "127.0.0.1:$PORT" \
  --data-dir "$DIR/data" >"$DIR/server.log" 2>&1 &
SERVER=$!
until curl -sf "http://127.0.0.1:$PORT/" >/dev/null; do sleep 0.5; done
"$ROOT/target/release/tafel-load" --addr "127.0.0.1:$PORT" --pid "$SERVER" --rooms "$ROOMS" --phones "$PHONES" \
  --room-rate "$RATE" --warmup 0 --duration "$SECS" --mix 1,0,0 >"$DIR/load.log" 2>&1 &
LOAD=$!
until grep -q "phones joined" "$DIR/load.log"; do
  kill -0 $LOAD 2>/dev/null || { cat "$DIR/load.log"; exit 1; }
  sleep 0.2
done
callgrind_control -z "$SERVER" >/dev/null
wait $LOAD
kill -INT $SERVER; wait $SERVER || true
tail -15 "$DIR/load.log" >&2
[ -z "${CG_OUT:-}" ] || cat "$DIR"/cg.out* >"$CG_OUT"
# awk reads to the end: leaving early would fail the pipe (pipefail) when the output is long.
total=$(callgrind_annotate "$DIR"/cg.out* 2>/dev/null | awk '/PROGRAM TOTALS/ && !t {gsub(",","",$1); t=$1} END {print t}')
updates=$(grep -oE 'updates delivered [0-9]+' "$DIR/load.log" | grep -oE '[0-9]+$')
python3 -c "t=$total; u=$updates; print(f'{t:,} instructions for {u:,} updates delivered: {t/u:,.0f} per update')"
