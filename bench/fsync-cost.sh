#!/usr/bin/env bash
# What one durable commit costs this machine's kernel, apart from any database: N rounds of
# PAGES 4 KiB pwrites and one fdatasync on a file in DIR (default target/, on the disk the data
# directory would use). Prints the system and user CPU time and the wall time per round, and
# the fdatasync's wall-time percentiles.
#
#   bench/fsync-cost.sh [ROUNDS=2000] [PAGES=9] [DIR=target]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
python3 - "${1:-2000}" "${2:-9}" "${3:-$ROOT/target}" <<'EOF'
import os, resource, sys, tempfile, time
rounds, pages, where = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(where, exist_ok=True)
fd, path = tempfile.mkstemp(dir=where, prefix="fsync-cost.")
try:
    os.pwrite(fd, b"\0" * (64 * 4096), 0)
    os.fdatasync(fd)
    page = b"x" * 4096
    def run(sync):
        syncs = []
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for i in range(rounds):
            for p in range(pages):
                os.pwrite(fd, page, ((i * pages + p) % 64) * 4096)
            if sync:
                s = time.perf_counter()
                os.fdatasync(fd)
                syncs.append((time.perf_counter() - s) * 1e3)
        r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        per = lambda a, b: (b - a) / rounds * 1e6
        return per(r0.ru_stime, r1.ru_stime), per(r0.ru_utime, r1.ru_utime), per(t0, t1), sorted(syncs)
    for sync in (True, False):
        sys_us, user_us, wall_us, syncs = run(sync)
        what = f"{pages} pwrite" + (" + fdatasync" if sync else " only")
        line = f"{what:>22}: system {sys_us:.1f} µs, user {user_us:.1f} µs, wall {wall_us:.1f} µs per round"
        if syncs:
            q = lambda f: syncs[min(len(syncs) - 1, int(len(syncs) * f))]
            line += f"; fdatasync p50 {q(0.5):.3f} ms, p99 {q(0.99):.3f} ms"
        print(line)
finally:
    os.close(fd)
    os.unlink(path)
EOF
