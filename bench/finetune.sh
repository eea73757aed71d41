#!/usr/bin/env bash
# `pwb finetune` on the shipped sentiment task's train split (80 cases, default settings unless
# given): the time per epoch and examples per second on this machine, the loss per epoch, and the
# tuned adapter's score on dev against the base model's, both from the same managed server.
# Usage: bench/finetune.sh [FINETUNE_OPTION…]   (e.g. --examples 40 --epochs 1 on a busy machine)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
make -s trainer
swift build -c release --product pwb >/dev/null
pwb="$root/.build/release/pwb"
work="$(mktemp -d)"
trap '(cd "$work" && "$pwb" runtime stop >/dev/null 2>&1); rm -rf "$work"' EXIT
cp -r "$root/templates" "$root/evalsets" "$work/"
cd "$work"
"$pwb" import templates evalsets >/dev/null
"$pwb" runtime start >/dev/null
t0=$(date +%s.%N)
"$pwb" finetune sentiment --template sentiment/instruction --name bench "$@" >/dev/null
t1=$(date +%s.%N)
"$pwb" eval sentiment --variants instruction --json >base.json
"$pwb" eval sentiment --variants instruction --adapter bench --json >tuned.json
"$pwb" adapters --json >adapters.json
python3 - "$t0" "$t1" <<'PY'
import json, sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
adapter = json.load(open("adapters.json"))[0]["training"]
epochs, n = adapter["epochs"], adapter["examples"]
print(f"train cases {n}, epochs {epochs}, rank {adapter['rank']}, batch {adapter['batch']}")
print(f"training {adapter['training_seconds']:.1f} s = {adapter['training_seconds'] / epochs:.1f} s per epoch, "
      f"{adapter['examples_per_second']:.2f} examples/s")
print(f"loading the model {adapter['load_seconds']:.1f} s, converting to GGUF {adapter['converting_seconds']:.1f} s, "
      f"pwb finetune wall {t1 - t0:.1f} s")
print("loss per epoch: " + " -> ".join(f"{x:.3f}" for x in adapter["epoch_losses"]))
for name in ("base", "tuned"):
    run = json.load(open(f"{name}.json"))["runs"][0]
    head = run["scorers"][0]
    print(f"{name:5s} dev score {head['score']:.3f} [{head['ci_low']:.3f}, {head['ci_high']:.3f}] "
          f"over {run['scored']} cases, {run['mean_prompt_tokens']:.1f} prompt tokens")
PY
