#!/usr/bin/env bash
# How long `pwb` takes to show its first prompt on a terminal (target: well under half a second),
# in a working folder with the shipped examples imported; the median of 20 starts, release build.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product pwb >/dev/null
pwb="$PWD/.build/release/pwb"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r templates evalsets corpora "$work/"
(cd "$work" && "$pwb" import >/dev/null)
python3 - "$pwb" "$work" <<'PY'
import os, pty, select, statistics, sys, time
pwb, work = sys.argv[1], sys.argv[2]
times = []
for _ in range(20):
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(work)
        os.execv(pwb, [pwb])
    seen = b""
    while b"pwb> " not in seen:
        ready, _, _ = select.select([fd], [], [], 5)
        if not ready:
            sys.exit("no prompt within 5 s")
        seen += os.read(fd, 4096)
    times.append(time.monotonic() - start)
    os.write(fd, b"quit\r")
    os.waitpid(pid, 0)
times.sort()
print(f"REPL ready for input: median {statistics.median(times) * 1000:.0f} ms, slowest {times[-1] * 1000:.0f} ms over 20 starts (target well under 500 ms)")
PY
