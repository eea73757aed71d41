#!/usr/bin/env bash
# Imports a generated 100,000-case JSONL eval set into a fresh store and prints cases per second.
# Usage: bench/import.sh [CASES]   (builds pwb in release mode first)
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-100000}"
swift build -c release --product pwb >/dev/null
pwb="$PWD/.build/release/pwb"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/evalsets"
python3 - "$cases" "$work/evalsets/big.jsonl" <<'PY'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
words = "the service was quick friendly slow broken lovely awful great poor value price staff room food".split()
with open(path, "w") as f:
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 24)))
        label = rng.choice(["positive", "negative"])
        split = ["train", "dev", "test"][i % 3]
        f.write(json.dumps({"id": f"c{i:06d}", "vars": {"text": text}, "expected": label, "split": split}) + "\n")
PY
size=$(du -h "$work/evalsets/big.jsonl" | cut -f1)
cd "$work"
start=$(date +%s.%N)
"$pwb" import evalsets >/dev/null
end=$(date +%s.%N)
again_start=$(date +%s.%N)
"$pwb" import evalsets >/dev/null
again_end=$(date +%s.%N)
python3 - "$cases" "$start" "$end" "$again_start" "$again_end" "$size" <<'PY'
import sys
n = int(sys.argv[1]); first = float(sys.argv[3]) - float(sys.argv[2]); again = float(sys.argv[5]) - float(sys.argv[4])
print(f"import of {n} cases ({sys.argv[6]} JSONL): {first:.2f} s, {n / first:,.0f} cases/s")
print(f"re-import, unchanged: {again:.2f} s, {n / again:,.0f} cases/s")
PY
