#!/usr/bin/env bash
# `pwb finetune` on the shipped sentiment task's train split against the standard way to train the
# same LoRA on the same pairs (PEFT and transformers' Trainer, library defaults: logits at every
# position): the training time of each, measured in one run, and their ratio; then the tuned
# adapter's score on dev against the base model's, both from the same managed server.
# Usage: bench/finetune.sh [EXAMPLES [EPOCHS]]   (default 40 train cases, 2 epochs, no validation
# part, so both train the same steps on the same pairs)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
examples="${1:-40}"
epochs="${2:-2}"
make -s trainer
swift build -c release --product pwb >/dev/null
pwb="$root/.build/release/pwb"
python="${XDG_CACHE_HOME:-$HOME/.cache}/pwb/trainer/bin/python"
work="$(mktemp -d)"
trap '(cd "$work" && "$pwb" runtime stop >/dev/null 2>&1); rm -rf "$work"' EXIT
cp -r "$root/templates" "$root/evalsets" "$work/"
cd "$work"
"$pwb" import templates evalsets >/dev/null
"$pwb" runtime start >/dev/null
t0=$(date +%s.%N)
"$pwb" finetune sentiment --template sentiment/instruction --name bench --examples "$examples" --epochs "$epochs" \
  --validation 0 >/dev/null
t1=$(date +%s.%N)
"$pwb" export-finetune sentiment --format prompt-completion --template sentiment/instruction --out pairs.jsonl \
  2>/dev/null
# The trainer keeps the model dequantized under the pwb cache after its first load; load the same.
model=$(ls -dt "${XDG_CACHE_HOME:-$HOME/.cache}"/pwb/trainer/models/*/ | head -1)
"$python" -W ignore "$root/bench/finetune_reference.py" "$model" pairs.jsonl "$examples" "$epochs" \
  2>reference.log | tail -1 >reference.json
"$pwb" eval sentiment --variants instruction --json >base.json
"$pwb" eval sentiment --variants instruction --adapter bench --json >tuned.json
"$pwb" adapters --json >adapters.json
python3 - "$t0" "$t1" <<'PY'
import json, sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
adapter = json.load(open("adapters.json"))[0]["training"]
reference = json.load(open("reference.json"))
epochs, n = adapter["epochs_run"], adapter["examples"]
print(f"train cases {n}, epochs {epochs}, rank {adapter['rank']}, batch {adapter['batch']}, device {adapter.get('device')}")
print(f"pwb's trainer: {adapter['training_seconds']:.1f} s of training ({adapter['examples_per_second']:.2f} examples/s), "
      f"loading {adapter['load_seconds']:.1f} s, converting {adapter['converting_seconds']:.1f} s, wall {t1 - t0:.1f} s")
print(f"PEFT + Trainer, full logits: {reference['training_seconds']:.1f} s of training, {reference['steps']} steps")
print(f"ratio (pwb / standard): {adapter['training_seconds'] / reference['training_seconds']:.2f}x")
print("loss per epoch: " + " -> ".join(f"{x:.3f}" for x in adapter["epoch_losses"]))
for name in ("base", "tuned"):
    run = json.load(open(f"{name}.json"))["runs"][0]
    head = run["scorers"][0]
    print(f"{name:5s} dev score {head['score']:.3f} [{head['ci_low']:.3f}, {head['ci_high']:.3f}] "
          f"over {run['scored']} cases, {run['mean_prompt_tokens']:.1f} prompt tokens")
PY
