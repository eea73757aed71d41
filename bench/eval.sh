#!/usr/bin/env bash
# The eval engine's three speed figures, each measured in one run:
#  (a) pwb eval's wall time over a minimal client's, same prompts and concurrency, real llama-server
#      (six rounds, alternating who goes first: one round's ratio swings by ±15% on a shared machine);
#  (b) pwb's own CPU time per case against a stub that answers at once, 10,000 cases, and its
#      peak memory at 1,000 and 10,000 cases (flat means the ratio stays near 1);
#  (c) cases per second for a fully cached re-run of 1,000 and of 10,000 cases, its CPU per case
#      and peak memory, and what starting the process alone takes;
#  (d) the memory of a large plan: three variants, 4-shot, at 10,000 and at 200,000 cases, the
#      peak RSS over the first 40 s (the whole plan, then scoring), and how long the process takes
#      to end after one Ctrl-C there. The ratio of the two peaks is the bound: near 1 when memory
#      does not grow with the eval set.
# Usage: bench/eval.sh [a|b|c|d]...   (default: all four)
# PWB_BENCH_PWB=PATH measures another build of pwb (an older one, say) the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
which=("${@:-a b c d}")
swift build -c release --product pwb >/dev/null
swift build -c release --product pwb-stub-runtime >/dev/null
pwb="${PWB_BENCH_PWB:-$root/.build/release/pwb}"
stub="$root/.build/release/pwb-stub-runtime"
work="$(mktemp -d)"
trap 'cd /; [ -n "${stub_pid:-}" ] && kill "$stub_pid" 2>/dev/null; (cd "$work" && "$pwb" runtime stop >/dev/null 2>&1) ; rm -rf "$work"' EXIT

# A synthetic task of N cases for the stub.
synthetic() {
  local folder="$1" count="$2"
  mkdir -p "$folder/templates/bench" "$folder/evalsets"
  cat >"$folder/templates/bench/plain.prompt" <<'PROMPT'
---
evalset: bench
max_tokens: 3
stop: ["\n"]
---
Classify the review as positive or negative.
Review: {{text}}
Sentiment:
PROMPT
  echo '{"scorers": [{"type": "label", "labels": ["positive", "negative"]}]}' >"$folder/evalsets/bench.json"
  python3 - "$count" "$folder/evalsets/bench.jsonl" <<'PY'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(11)
words = "the service was quick friendly slow broken lovely awful great poor value price staff room food".split()
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"c{i}", "vars": {"text": " ".join(rng.choice(words) for _ in range(12))},
                            "expected": rng.choice(["positive", "negative"]), "split": "dev"}) + "\n")
PY
  (cd "$folder" && "$pwb" import >/dev/null)
}

start_stub() {
  "$stub" 0 >"$work/stub.log" &
  stub_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/stub.log" 2>/dev/null && break; sleep 0.05; done
  stub_url="$(sed -n 's/listening on //p' "$work/stub.log")"
}

for part in ${which[*]}; do
case "$part" in
a)
  folder="$work/a"
  mkdir -p "$folder"
  cp -r "$root/templates" "$root/evalsets" "$folder/"
  cd "$folder"
  "$pwb" import templates evalsets >/dev/null
  "$pwb" runtime start --slots 2 >/dev/null
  endpoint="$(python3 -c 'import json; print("http://127.0.0.1:%d" % json.load(open(".pwb/runtime.json"))["port"])')"
  args=(eval sentiment --variants instruction --shots 4 --concurrency 2 --no-cache)
  "$pwb" "${args[@]}" --limit 8 >/dev/null   # warm the server once
  # Rounds alternate which goes first (pwb, client / client, pwb / …) so drift on this shared
  # machine does not favour either; each client round replays the prompts pwb sent in its round.
  pwb_total=0; client_total=0; ratios=""
  extract() { python3 "$root/bench/extract_requests.py"; }
  time_pwb() { local t0 t1; t0=$(date +%s.%N); "$pwb" "${args[@]}" >/dev/null; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }
  "$pwb" "${args[@]}" >/dev/null; extract
  for round in 1 2 3 4 5 6; do
    if [ $((round % 2)) -eq 1 ]; then
      p=$(time_pwb); extract; c=$(python3 "$root/bench/minimal_client.py" "$endpoint" 2 requests.jsonl)
    else
      c=$(python3 "$root/bench/minimal_client.py" "$endpoint" 2 requests.jsonl); p=$(time_pwb); extract
    fi
    pwb_total=$(python3 -c "print($pwb_total + $p)"); client_total=$(python3 -c "print($client_total + $c)")
    ratios="$ratios $(python3 -c "print(f'{$p / $c:.3f}')")"
  done
  cases=$(wc -l < requests.jsonl)
  python3 -c "import statistics; p=$pwb_total; c=$client_total; r=[float(x) for x in '$ratios'.split()]; print(f'(a) pwb eval vs minimal client, {$cases} cases x 6 rounds, 4-shot, concurrency 2, real llama-server: pwb {p:.2f} s, client {c:.2f} s, ratio {p/c:.3f}, median round {statistics.median(r):.3f} (target <= 1.05; rounds:$ratios)')"
  "$pwb" runtime stop >/dev/null
  cd "$work"
  ;;
b)
  [ -n "${stub_pid:-}" ] || start_stub
  for n in 1000 10000; do
    synthetic "$work/b$n" "$n"
    cd "$work/b$n"
    /usr/bin/time -f "%U %S %M %e" -o time.txt env PWB_ENDPOINT="$stub_url" "$pwb" eval bench --no-cache --concurrency 8 >/dev/null
    read -r user sys rss wall <time.txt
    python3 -c "print(f'(b) {$n} cases against an instant stub: CPU {($user + $sys) * 1000 / $n:.3f} ms/case (target <= 0.3), wall {$wall} s, peak RSS {$rss / 1024:.1f} MiB')"
    cd "$work"
  done
  # Memory over one long run: sampled while 10,000 cases are asked again (no cache).
  cd "$work/b10000"
  PWB_ENDPOINT="$stub_url" "$pwb" eval bench --no-cache --concurrency 8 >/dev/null &
  pid=$!
  : >rss.txt
  while kill -0 "$pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$pid/status" >>rss.txt 2>/dev/null || true; sleep 0.05; done
  wait "$pid"
  python3 - <<'PY'
samples = [int(x) for x in open("rss.txt") if x.strip()]
n = len(samples)
a, b = samples[n // 10], samples[(n * 8) // 10]
print(f"(b) RSS while scoring 10,000 cases: {a / 1024:.1f} MiB at 10% of the run, {b / 1024:.1f} MiB at 80% "
      f"({(b - a) / 1024:+.1f} MiB), peak {max(samples) / 1024:.1f} MiB ({n} samples)")
PY
  cd "$work"
  ;;
c)
  [ -n "${stub_pid:-}" ] || start_stub
  # At 1,000 cases the process's own start (loading Foundation and its libraries) is much of the
  # time; 10,000 cases show the per-case rate. CPU and peak memory are the cached run's own.
  for n in 1000 10000; do
    synthetic "$work/c$n" "$n"
    cd "$work/c$n"
    PWB_ENDPOINT="$stub_url" "$pwb" eval bench >/dev/null
    t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S %M" -o time.txt env PWB_ENDPOINT="$stub_url" "$pwb" eval bench --json >cached.json
    t1=$(date +%s.%N)
    python3 -c "import json; assert json.load(open('cached.json'))['runs'][0]['cached_share'] == 1"
    read -r user sys rss <time.txt
    python3 -c "print(f'(c) fully cached re-run of {$n:,} cases: {$t1 - $t0:.3f} s, {$n / ($t1 - $t0):,.0f} cases/s (target >= 10,000), CPU {($user + $sys) * 1000 / $n:.3f} ms/case, peak RSS {$rss / 1024:.1f} MiB')"
    cd "$work"
  done
  # The process alone: start, open the store, print the version.
  t0=$(date +%s.%N); for _ in 1 2 3 4 5 6 7 8 9 10; do "$pwb" --version >/dev/null; done; t1=$(date +%s.%N)
  python3 -c "print(f'(c) pwb --version (process start): {($t1 - $t0) * 100:.1f} ms each, mean of 10')"
  ;;
d)
  [ -n "${stub_pid:-}" ] || start_stub
  for n in 10000 200000; do
    folder="$work/d$n"
    synthetic "$folder" "$n"
    cd "$folder"
    # Two more variants beside plain, each showing examples, and train cases to draw them from.
    for variant in asked terse; do
      sed -e "s/^Classify.*$/Is this review positive or negative? ($variant)/" -e '/^evalset:/a example_format: "Review: {{text}}\\nSentiment: {{expected}}"' \
        templates/bench/plain.prompt >"templates/bench/$variant.prompt"
    done
    sed -i '/^evalset:/a example_format: "Review: {{text}}\\nSentiment: {{expected}}"' templates/bench/plain.prompt
    sed -i 's/^Review: {{text}}$/{{examples}}\nReview: {{text}}/' templates/bench/*.prompt
    python3 - "evalsets/bench.jsonl" <<'PY'
import json, random, sys
rng = random.Random(5)
words = "the service was quick friendly slow broken lovely awful great poor value price staff room food".split()
with open(sys.argv[1], "a") as f:
    for i in range(200):
        f.write(json.dumps({"id": f"t{i}", "vars": {"text": " ".join(rng.choice(words) for _ in range(12))},
                            "expected": rng.choice(["positive", "negative"]), "split": "train"}) + "\n")
PY
    "$pwb" import >/dev/null
    start=$(date +%s.%N)
    PWB_ENDPOINT="$stub_url" "$pwb" eval bench --shots 4 --no-cache --concurrency 8 >/dev/null 2>err.txt &
    pid=$!
    : >rss.txt
    while kill -0 "$pid" 2>/dev/null && python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $start < 40 else 1)"; do
      awk '/VmRSS/ {print $2}' "/proc/$pid/status" >>rss.txt 2>/dev/null || true
      sleep 0.1
    done
    stopped=$(date +%s.%N)
    kill -INT "$pid" 2>/dev/null || true
    status=0
    wait "$pid" || status=$?
    ended=$(date +%s.%N)
    runs=$("$pwb" runs list --json | python3 -c "import json, sys; print(sum(r.get('done', 0) for r in json.load(sys.stdin)))" 2>/dev/null || echo "?")
    python3 - "$n" "$stopped" "$ended" "$status" "$runs" <<'PY'
import sys
n, stopped, ended, status, scored = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
samples = [int(x) for x in open("rss.txt") if x.strip()]
peak = max(samples) / 1024
open("../peak-%d.txt" % n, "w").write(str(peak))
ending = (f"one Ctrl-C there ended it in {ended - stopped:.2f} s (exit {status})" if status != "0"
          else "it finished before then (exit 0)")
print(f"(d) {n:,} cases x 3 variants, 4-shot: peak RSS {peak:.1f} MiB over the first 40 s "
      f"({len(samples)} samples); {ending}; {scored} results kept")
PY
    cd "$work"
  done
  python3 -c "print(f'(d) peak RSS at 200,000 cases over that at 10,000: {float(open(\"$work/peak-200000.txt\").read()) / float(open(\"$work/peak-10000.txt\").read()):.2f} (target <= 1.5)')"
  ;;
esac
done
