#!/usr/bin/env bash
# The main job on the shipped examples: create the store, import templates, eval sets and the
# corpus, ask the model once, score the English classifier's variants zero-shot (and write the
# report page of those three runs) and with four examples each, then ask the advisor whether to
# escalate. Safe to run again: unchanged files
# import as unchanged, answers come from the cache, and the managed llama-server started here
# keeps running (pwb runtime stop ends it).
set -euo pipefail
pwb="${1:-.build/debug/pwb}"

step() { printf '\n\033[1m$ pwb %s\033[0m\n' "$*"; "$pwb" "$@"; }

step init
step import
step template list
step evalset list
step run sentiment/instruction --case sent-003 --prompt
step eval sentiment
# The three runs just made, newest first in the listing: every case side by side in one page.
zero_shot=$("$pwb" runs list --template sentiment --limit 3 --json |
  python3 -c 'import json, sys; print(" ".join(str(r["run"]) for r in reversed(json.load(sys.stdin))))')
# shellcheck disable=SC2086 # the ids are separate arguments
step report $zero_shot --out .pwb/reports/sentiment-zero-shot.html
step eval sentiment --shots 4
step advise sentiment
