#!/usr/bin/env bash
# The shared-prefix workload: 200 Japanese multiple-choice cases that all start with the same
# 3-shot block, at most 4 generated tokens each, against the real llama-server and model.
#   pwb      pwb eval with its managed runtime (started the way pwb starts it)
#   default  bench/minimal_client.py against `llama-server --model M` with default settings
#   same     the same client against pwb's own server
# Each side sends the same prompts (extracted from pwb's run) at the server's slot count.
# Rounds alternate who goes first, so drift on a shared machine favours neither; the ratios
# are of the summed wall times. Targets: pwb/default <= 0.4, pwb/same <= 1.02.
# No side ever sends a prompt a server has seen: llama-server's RAM prompt cache (--cache-ram,
# 8 GiB by default) keeps whole prompts and restores one into any slot, so a replayed prompt would
# measure restores rather than prefix reuse. Each side of each round has a header of its own, a
# two-digit batch mark (the same number of tokens for all), so within a side the 200 prompts still
# share the 3-shot block and across sides they share nothing the server could have kept.
# Usage: bench/prefix.sh [ROUNDS [CASES]]   (default 3 rounds of all 200 cases; at most 8 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
rounds="${1:-3}"
[ "$rounds" -ge 1 ] && [ "$rounds" -le 8 ] || { echo "bench/prefix.sh: 1 to 8 rounds, not $rounds" >&2; exit 2; }
cases_limit="${2:-200}"
swift build -c release --product pwb >/dev/null
pwb="$root/.build/release/pwb"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pwb"
server="${PWB_LLAMA_SERVER:-$cache/bin/llama-server}"
model="${PWB_MODEL_PATH:-$cache/models/gemma-3-270m-q4_k_m.gguf}"
[ -x "$server" ] && [ -f "$model" ] || { echo "bench/prefix.sh: run make runtime first ($server, $model)" >&2; exit 3; }
work="$(mktemp -d)"
trap 'cd /; [ -n "${default_pid:-}" ] && kill "$default_pid" 2>/dev/null; (cd "$work" && "$pwb" runtime stop >/dev/null 2>&1); rm -rf "$work"' EXIT
cd "$work"
mkdir -p templates/jmc evalsets
header() {
  cat <<PROMPT
---
evalset: jmc
max_tokens: 4
stop: ["\n"]
temperature: 0
example_format: "問題: {{question}}\n選択肢: A. {{a}}　B. {{b}}　C. {{c}}　D. {{d}}\n答え: {{expected}}"
---
（第$1組）以下は日本語の語彙に関する多肢選択問題と、その正解の記号です。

{{examples}}
問題: {{question}}
選択肢: A. {{a}}　B. {{b}}　C. {{c}}　D. {{d}}
答え:
PROMPT
}
# Marks: 90 and 91 warm up, 92 checks prefix reuse; round r uses r1 (pwb), r2 (the client on
# pwb's server), r3 (the client on the default server).
for mark in 90 91 $(for r in $(seq "$rounds"); do echo "${r}1"; done); do
  header "$mark" >"templates/jmc/b$mark.prompt"
done
echo '{"scorers": [{"type": "label", "labels": ["A", "B", "C", "D"]}], "input": "question"}' >evalsets/jmc.json
python3 - evalsets/jmc.jsonl <<'PY'
import json, random, sys
pairs = [("大きい", "小さい"), ("高い", "低い"), ("長い", "短い"), ("明るい", "暗い"), ("暑い", "寒い"),
         ("重い", "軽い"), ("新しい", "古い"), ("早い", "遅い"), ("強い", "弱い"), ("広い", "狭い"),
         ("厚い", "薄い"), ("深い", "浅い"), ("太い", "細い"), ("近い", "遠い"), ("多い", "少ない"),
         ("易しい", "難しい"), ("安い", "高い"), ("静か", "にぎやか"), ("上手", "下手"), ("好き", "嫌い")]
kinds = [("「{w}」の反対の意味を持つ言葉はどれですか。", 1), ("「{w}」と反対の意味になる言葉を選んでください。", 1),
         ("次の言葉のうち、「{w}」の対義語はどれですか。", 1)]
rng = random.Random(12)
words = sorted({w for p in pairs for w in p})
with open(sys.argv[1], "w") as f:
    for i in range(220):
        word, answer = rng.choice(pairs)
        if rng.random() < 0.5:
            word, answer = answer, word
        template, _ = rng.choice(kinds)
        options = rng.sample([w for w in words if w not in (word, answer)], 3) + [answer]
        rng.shuffle(options)
        letter = "ABCD"[options.index(answer)]
        vars = {"question": template.format(w=word), "a": options[0], "b": options[1], "c": options[2], "d": options[3]}
        f.write(json.dumps({"id": f"q{i:03d}", "vars": vars, "expected": letter,
                            "split": "train" if i < 20 else "dev"}, ensure_ascii=False) + "\n")
PY
"$pwb" import templates evalsets >/dev/null

# pwb's managed runtime, as pwb starts it.
"$pwb" runtime start >/dev/null
read -r pwb_port pwb_slots < <(python3 -c 'import json; r = json.load(open(".pwb/runtime.json")); print(r["port"], r["slots"])')
"$pwb" eval jmc --variants b90 --shots 3 --no-cache --limit 8 >/dev/null   # load the model into memory
extract() { python3 "$root/bench/extract_requests.py"; }
# The client's prompts for a side: the warm-up run's, with its mark changed to the side's.
prompts() { sed -E "s/（第[0-9]+組）/（第$1組）/" requests.jsonl >"requests-$1.jsonl"; echo "requests-$1.jsonl"; }
extract
# One prompt pair on pwb's server, of a mark not sent before: the second must find the shared
# block in the slot's cache.
python3 - "http://127.0.0.1:$pwb_port" "$(prompts 92)" <<'PY'
import http.client, json, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
lines = [json.loads(l) for l in open(sys.argv[2])][:2]
c = http.client.HTTPConnection(url.hostname, url.port)
for body in lines:
    body = dict(body, id_slot=0)
    c.request("POST", "/completion", json.dumps(body), {"Content-Type": "application/json"})
    answer = json.loads(c.getresponse().read())
t = answer["timings"]
print(f"(a) prefix reuse on pwb's server: second prompt of a pair: cache_n {t.get('cache_n')}, prompt_n {t['prompt_n']}, prompt {t['prompt_ms']:.0f} ms")
PY

time_pwb() {
  local t0 t1
  t0=$(date +%s.%N)
  "$pwb" eval jmc --variants "b$1" --shots 3 --no-cache --limit "$cases_limit" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)"
}
"$pwb" eval jmc --variants b91 --shots 3 --no-cache --limit "$cases_limit" >/dev/null
extract
cases=$(wc -l <requests.jsonl)

# A default-started server on another port, loaded once it is asked to; only one of the two
# servers works at a time, but both stay in memory.
default_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" --model "$model" --host 127.0.0.1 --port "$default_port" >default.log 2>&1 &
default_pid=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$default_port/health" >/dev/null 2>&1 && break; sleep 0.2; done
default_slots=$(curl -s "http://127.0.0.1:$default_port/props" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_slots"])')

pwb_total=0; default_total=0; same_total=0; rows=""
for round in $(seq "$rounds"); do
  same=$(prompts "${round}2")
  default=$(prompts "${round}3")
  if [ $((round % 2)) -eq 1 ]; then
    p=$(time_pwb "${round}1")
    s=$(python3 "$root/bench/minimal_client.py" "http://127.0.0.1:$pwb_port" "$pwb_slots" "$same")
    d=$(python3 "$root/bench/minimal_client.py" "http://127.0.0.1:$default_port" "$default_slots" "$default")
  else
    d=$(python3 "$root/bench/minimal_client.py" "http://127.0.0.1:$default_port" "$default_slots" "$default")
    s=$(python3 "$root/bench/minimal_client.py" "http://127.0.0.1:$pwb_port" "$pwb_slots" "$same")
    p=$(time_pwb "${round}1")
  fi
  pwb_total=$(python3 -c "print($pwb_total + $p)")
  default_total=$(python3 -c "print($default_total + $d)")
  same_total=$(python3 -c "print($same_total + $s)")
  rows="$rows  round $round: pwb $p s, client on default server $d s, client on pwb's server $s s\n"
done
printf "%b" "$rows"
python3 - "$pwb_total" "$default_total" "$same_total" "$cases" "$rounds" "$pwb_slots" "$default_slots" <<'PY'
import sys
p, d, s = map(float, sys.argv[1:4])
cases, rounds, pwb_slots, default_slots = sys.argv[4:]
print(f"(a) shared-prefix workload, {cases} cases x {rounds} rounds, 3-shot, max 4 tokens:")
print(f"    pwb eval (managed runtime, {pwb_slots} slots): {p:.1f} s; minimal client on a default llama-server"
      f" ({default_slots} slots): {d:.1f} s; the client on pwb's server: {s:.1f} s")
print(f"    pwb / client on default server = {p / d:.3f} (target <= 0.4); pwb / client on pwb's server = {p / s:.3f} (target <= 1.02)")
PY
grep -E "n_ctx|swa" default.log | head -3 | sed 's/^/    default server log: /'
