#!/usr/bin/env bash
# How much of each server's CPU per delivery is the kernel's, on the shared harness
# (../shared/peer), same mode as bench/peer.sh: 10 rooms × 50 clients, 48 passive listeners per
# room, server on CPU 0, generator on CPU 1. Hocuspocus and Tafel run back to back.
#
#   bench/kernel-share.sh [INTERVAL=40] [REPEATS=1]
#
# For 20 s inside the measuring window it reads the server's user and system time from
# /proc/PID/stat, and the softirq time of CPU 0 from /proc/stat (interrupt work that the kernel
# does not charge to a process). It prints them in µs per delivery. Whatever the kernel spends
# per delivery is a floor under any server's total that writes each delivery once.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER=${PEER:-$ROOT/../shared/peer}
INTERVAL=${1:-40}
REPEATS=${2:-1}
TICK=$(getconf CLK_TCK)
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
(cd "$ROOT" && cargo build --release --bin tafel)
[ -d "$PEER/node_modules" ] || (cd "$PEER" && npm ci --no-audit --no-fund)

# utime stime of a process, in ticks (the fields after the command name).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12, $13}'; }
# softirq ticks of CPU 0.
softirq() { awk '$1 == "cpu0" {print $8}' /proc/stat; }

measure() { # NAME ADAPTER, then the harness's extra arguments
  local name=$1 adapter=$2 log=$DIR/$1.log json=$DIR/$1.json
  shift 2
  (cd "$PEER" && ADAPTER=$adapter TAFEL_ROOT=$ROOT ./run.sh 10 50 "$INTERVAL" 30 5 "$json" -- "$@" --label "$name") >"$log" 2>&1 &
  local run=$!
  until grep -q "^connected" "$log"; do
    kill -0 $run 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  local pid
  pid=$(grep -oE 'server pid [0-9]+' "$log" | grep -oE '[0-9]+$')
  sleep 7 # the 5 s warm-up, and a margin
  read -r u0 s0 < <(cpu_ticks "$pid")
  local q0
  q0=$(softirq)
  sleep 20
  read -r u1 s1 < <(cpu_ticks "$pid")
  local q1
  q1=$(softirq)
  wait $run
  local per_s
  per_s=$(node -e "console.log(require('$json').deliveries.perS)")
  python3 - "$name" "$per_s" "$TICK" "$u0" "$u1" "$s0" "$s1" "$q0" "$q1" <<'EOF'
import sys
name, per_s, tick = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
u0, u1, s0, s1, q0, q1 = map(int, sys.argv[4:])
us = lambda ticks: ticks / tick / 20 / per_s * 1e6
print(f"| {name} | {per_s:,.0f} | {us(u1 - u0):.1f} | {us(s1 - s0):.1f} | {us(q1 - q0):.1f} | {us(u1 - u0 + s1 - s0):.1f} |")
EOF
}

echo "| run (≡ interval $INTERVAL ms) | deliveries/s | user µs | system µs | CPU 0 softirq µs | user + system µs |"
echo "|---|---|---|---|---|---|"
for r in $(seq 1 "$REPEATS"); do
  measure "hocuspocus-$r" hocuspocus --client lean --passive 48
  measure "tafel-$r" tafel --client json --passive 48
done
