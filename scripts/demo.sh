#!/usr/bin/env bash
# The main job on the shipped examples: create the store, import templates, eval sets and the
# corpus, ask the model once, score the English classifier's variants zero-shot and with four
# examples each, then ask the advisor whether to escalate. Safe to run again: unchanged files
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
step eval sentiment --shots 4
step advise sentiment
