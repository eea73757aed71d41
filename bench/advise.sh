#!/usr/bin/env bash
# `pwb advise sentiment` on a fresh store (default options unless given), with pwb's managed
# runtime: the wall time of this checkout's pwb against another build's (e.g. the commit before a
# speed change), each with the runtime it starts itself, and whether both recommend the same.
# Usage: bench/advise.sh BEFORE_PWB [ADVISE_OPTION…]   (a pwb binary built from the other commit;
# options such as --budget 12 go to both advise runs, for a shorter run on a busy machine;
# AFTER_OPTIONS="--generate" adds options to this checkout's run only, e.g. to score it the way
# the older build did)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
before="${1:?usage: bench/advise.sh BEFORE_PWB [ADVISE_OPTION…]}"
shift
options=("$@")
swift build -c release --product pwb >/dev/null
after="$root/.build/release/pwb"
work="$(mktemp -d)"
trap '(cd "$work/before" 2>/dev/null && "$before" runtime stop >/dev/null 2>&1); (cd "$work/after" 2>/dev/null && "$after" runtime stop >/dev/null 2>&1); rm -rf "$work"' EXIT

advise() {
  local side="$1" binary="$2" t0 t1
  mkdir -p "$work/$side"
  cp -r "$root/templates" "$root/evalsets" "$root/corpora" "$work/$side/" 2>/dev/null || true
  cd "$work/$side"
  "$binary" import templates evalsets >/dev/null
  "$binary" runtime start >/dev/null
  t0=$(date +%s.%N)
  local extra=()
  [ "$side" = after ] && [ -n "${AFTER_OPTIONS:-}" ] && read -r -a extra <<<"$AFTER_OPTIONS"
  "$binary" advise sentiment "${options[@]}" "${extra[@]}" --json >advice.json
  t1=$(date +%s.%N)
  "$binary" runtime stop >/dev/null
  python3 -c "print($t1 - $t0)" >seconds.txt
  cd "$root"
}

advise before "$before"
advise after "$after"
python3 - "$work/before" "$work/after" "${options[@]}" <<'PY'
import json, os, sys
def load(folder):
    advice = json.load(open(f"{folder}/advice.json"))
    seconds = float(open(f"{folder}/seconds.txt").read())
    return advice, seconds
# Advice from before the decision rule has "recommendation" and rung scores; since, "decision"
# names the chosen rung by index and each rung has an interval.
def recommendation(advice):
    if "decision" in advice:
        decision = advice.get("decision") or {}
        chosen = decision.get("chosen")
        rung = advice["rungs"][chosen]["label"] if chosen is not None else None
        return {"verdict": decision.get("verdict"), "rung": rung}
    chosen = advice.get("recommendation") or {}
    return {"verdict": chosen.get("verdict"), "rung": chosen.get("rung")}
def rungs(advice):
    def score(r):
        return r["score"] if "score" in r else r["interval"]["estimate"]
    return ", ".join(f"{r['label']} {score(r):.3f}" for r in advice.get("rungs", []))
(b, tb), (a, ta) = load(sys.argv[1]), load(sys.argv[2])
rb, ra = recommendation(b), recommendation(a)
# The verdict's words changed with the decision rule (an older "likely" can be "undecided" now for
# the same rung and scores), so the rung chosen is what must match.
after_options = os.environ.get("AFTER_OPTIONS", "")
print(f"(b) pwb advise sentiment {' '.join(sys.argv[3:])}{' (after: ' + after_options + ')' if after_options else ''} on a fresh store: before {tb:.1f} s, after {ta:.1f} s, "
      f"speed-up {tb / ta:.2f}x (target >= 2.5x); same rung chosen: {'yes' if rb['rung'] == ra['rung'] else 'NO'}"
      f"{'' if rb['verdict'] == ra['verdict'] else ' (verdicts differ: see below)'}")
print(f"    before: {json.dumps(rb, ensure_ascii=False)}; rungs: {rungs(b)}")
print(f"    after:  {json.dumps(ra, ensure_ascii=False)}; rungs: {rungs(a)}")
PY
