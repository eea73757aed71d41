"""Trains a LoRA adapter for a GGUF model and writes it as a GGUF adapter llama-server loads.

pwb runs this in its trainer's virtual environment (setup-trainer.sh, beside this script). It reads
prompt/completion pairs (JSON lines: {"prompt": TEXT, "completion": TEXT}, or {"messages": [...],
"completion": TEXT} for a chat prompt), tokenizes each the way llama-server does for that prompt
(the prompt with its start token, then the completion, then the end-of-sequence token), and
trains with the loss on the completion's tokens only. Only the positions that predict a
completion token go through the output layer: with a vocabulary of 262k tokens that layer is most
of the compute, and the prompt positions need none of it.

How long to train is set from the data, as a practitioner would: part of each job's examples is held
out for validation, training runs up to --epochs epochs, stopping once the validation loss has not
improved for --patience epochs, and the adapter kept is the one of the epoch with the lowest
validation loss. It trains on the GPU when torch sees one (CUDA, or Apple's MPS), else on the CPU.

Progress is printed as one JSON object per line on stdout; errors go to stderr with exit code 1.
"""

import argparse
import glob
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def fail(message):
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the model's GGUF file")
    parser.add_argument(
        "--cache",
        help="a folder for the model dequantized from GGUF: filled on first use, loaded from after (seconds, not a minute)",
    )
    parser.add_argument("--data", required=True, help="JSON lines of prompt/completion pairs")
    parser.add_argument(
        "--job",
        nargs=3,
        action="append",
        required=True,
        metavar=("COUNT", "EPOCHS", "OUT"),
        help="train on the first COUNT examples for at most EPOCHS epochs and write the GGUF adapter OUT (repeatable: the model is loaded once)",
    )
    parser.add_argument("--converter", required=True, help="llama.cpp's convert_lora_to_gguf.py")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16)
    parser.add_argument(
        "--validation",
        type=float,
        default=0.2,
        help="the share of each job's examples held out to choose the epoch by (0: none, train every epoch)",
    )
    parser.add_argument(
        "--patience", type=int, default=3, help="stop after this many epochs without a lower validation loss"
    )
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def encode(tokenizer, record):
    """Token ids of prompt + completion + end, and how many of them are the prompt."""
    if "messages" in record:
        text = tokenizer.apply_chat_template(record["messages"], tokenize=False, add_generation_prompt=True)
        prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
    else:
        prompt = tokenizer(record["prompt"], add_special_tokens=True)["input_ids"]
    completion = tokenizer(record["completion"], add_special_tokens=False)["input_ids"]
    return prompt + completion + [tokenizer.eos_token_id], len(prompt)


def device_of(torch):
    """The device torch trains fastest on here: a CUDA GPU, Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def completion_loss(model, batch, pad_id, torch, reduction="mean"):
    """Cross-entropy over the completion tokens of a batch of (ids, prompt length): their mean, or
    with reduction="sum" their sum (to average over a whole validation set)."""
    device = next(model.parameters()).device
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    rows, columns, targets = [], [], []
    for row, (ids, prompt_length) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        # Position t predicts token t + 1: the last prompt position predicts the first answer token.
        for position in range(prompt_length - 1, len(ids) - 1):
            rows.append(row)
            columns.append(position)
            targets.append(ids[position + 1])
    inner = model.get_base_model()
    hidden = inner.model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).last_hidden_state
    logits = inner.lm_head(hidden[torch.tensor(rows, device=device), torch.tensor(columns, device=device)]).float()
    cap = getattr(inner.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits, torch.tensor(targets, device=device), reduction=reduction)


def validation_loss(model, examples, pad_id, options, torch):
    """The mean loss per completion token over `examples`, without training."""
    model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for first in range(0, len(examples), options.batch):
            batch = examples[first : first + options.batch]
            total += completion_loss(model, batch, pad_id, torch, reduction="sum").item()
            tokens += sum(len(ids) - prompt_length for ids, prompt_length in batch)
    model.train()
    return total / max(tokens, 1)


def stop(number, frame):
    raise SystemExit(128 + number)


def main():
    # A child inherits its parent's ignored and blocked signals, and pwb ignores or blocks these
    # while it runs a command (it handles Ctrl-C itself): without this, stopping the trainer
    # would not stop it.
    stops = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
    # Stopping raises SystemExit, so half-written files are removed on the way out.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    options = arguments()
    started = time.monotonic()
    try:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as error:
        fail(f"the trainer's packages are missing ({error}); install them with: make trainer")

    records = []
    with open(options.data, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
    if not records:
        fail(f"{options.data} holds no training examples")

    torch.manual_seed(options.seed)
    random.seed(options.seed)
    torch.set_num_threads(os.cpu_count() or 1)
    tokenizer, model = load(options.base, options.cache, torch, AutoModelForCausalLM, AutoTokenizer)
    device = device_of(torch)
    model = model.to(device)
    say("loaded", seconds=round(time.monotonic() - started, 2), parameters=model.num_parameters(), device=device)

    config = LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    )
    examples = [encode(tokenizer, record) for record in records]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for job, (count, epochs, out) in enumerate(options.job):
        count, epochs = int(count), int(epochs)
        if not 0 < count <= len(examples):
            fail(f"--job asks for {count} examples; {options.data} holds {len(examples)}")
        model = train(model, config, examples[:count], epochs, pad_id, options, job, torch, get_peft_model)
        save(model, out, options.converter, job, started)
        model = model.unload()


def load(base, cache, torch, AutoModelForCausalLM, AutoTokenizer):
    """The tokenizer and the float32 model: from the cache folder when it holds them, else from
    the GGUF file (dequantized, about a minute), then saved to the cache folder for next time."""
    if cache and os.path.exists(os.path.join(cache, "config.json")):
        return AutoTokenizer.from_pretrained(cache), AutoModelForCausalLM.from_pretrained(cache, dtype=torch.float32)
    directory, name = os.path.split(os.path.abspath(base))
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    if cache:
        # Written beside the final folder and renamed into place: a half-written cache is never read.
        partial = cache + f".partial-{os.getpid()}"
        for stale in glob.glob(cache + ".partial-*"):
            if not alive(int(stale.rsplit("-", 1)[1])):
                shutil.rmtree(stale, ignore_errors=True)
        # The weights are float32 once loaded; only the record of where they came from says GGUF,
        # and it stops them being saved.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        try:
            model.save_pretrained(partial)
            tokenizer.save_pretrained(partial)
            config_path = os.path.join(partial, "config.json")
            with open(config_path, encoding="utf-8") as handle:
                config = json.load(handle)
            config.pop("quantization_config", None)  # the saved weights are float, not GGUF
            with open(config_path, "w", encoding="utf-8") as handle:
                json.dump(config, handle)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        try:
            os.rename(partial, cache)
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
    return tokenizer, model


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def held_out(examples, share, seed):
    """`examples` split into those trained on and those held out for validation: a seeded draw of
    `share` of them (at least 2, and at least 4 left to train on), none when share is 0."""
    count = 0 if share <= 0 else min(max(2, round(len(examples) * share)), len(examples) - 4)
    if count < 2:
        return examples, []
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    chosen = set(order[:count])
    return [e for i, e in enumerate(examples) if i not in chosen], [examples[i] for i in sorted(chosen)]


def train(model, config, examples, epochs, pad_id, options, job, torch, get_peft_model):
    """A fresh adapter on `model`, trained on `examples` less the validation part; returns the
    adapted model at its best epoch."""
    torch.manual_seed(options.seed)
    shuffle = random.Random(options.seed)
    examples, validation = held_out(examples, options.validation, options.seed)
    model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=options.learning_rate)
    steps_per_epoch = math.ceil(len(examples) / options.batch)
    total_steps = steps_per_epoch * epochs
    say(
        "training",
        job=job,
        examples=len(examples),
        validation=len(validation),
        steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        trainable=trainable,
    )
    model.train()
    step = 0
    started = time.monotonic()
    best = (math.inf, 0, None)  # validation loss, epoch, the adapter's weights then
    validation_losses = []
    for epoch in range(1, epochs + 1):
        order = list(range(len(examples)))
        shuffle.shuffle(order)
        epoch_started = time.monotonic()
        losses = []
        for first in range(0, len(order), options.batch):
            batch = [examples[i] for i in order[first : first + options.batch]]
            loss = completion_loss(model, batch, pad_id, torch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            losses.append(loss.item())
            say(
                "step",
                job=job,
                epoch=epoch,
                step=step,
                steps=total_steps,
                loss=round(loss.item(), 5),
                elapsed=round(time.monotonic() - started, 2),
            )
        checked = validation_loss(model, validation, pad_id, options, torch) if validation else None
        if checked is not None:
            validation_losses.append(checked)
            if checked < best[0]:
                weights = {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}
                best = (checked, epoch, weights)
        say(
            "epoch",
            job=job,
            epoch=epoch,
            loss=round(sum(losses) / len(losses), 5),
            validation_loss=None if checked is None else round(checked, 5),
            seconds=round(time.monotonic() - epoch_started, 2),
        )
        if checked is not None and epoch - best[1] >= options.patience and epoch < epochs:
            say("stopped", job=job, epoch=epoch, best_epoch=best[1])
            break
    if best[2] is not None:
        model.load_state_dict(best[2], strict=False)
    model.training_seconds = time.monotonic() - started
    model.best_epoch = best[1] if best[2] is not None else epoch
    model.epochs_run = epoch
    model.validation_losses = validation_losses
    return model


def save(model, out, converter, job, started):
    """Writes the adapter as GGUF at `out`, through llama.cpp's converter."""
    converting = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        adapter_dir = os.path.join(work, "adapter")
        base_dir = os.path.join(work, "base")
        model.save_pretrained(adapter_dir)
        # The converter reads the base model's configuration. One written for a model loaded from
        # GGUF names no architecture, which the converter needs, and records the GGUF
        # quantization, which it refuses: the adapter's tensors are float either way.
        model.get_base_model().config.save_pretrained(base_dir)
        config_path = os.path.join(base_dir, "config.json")
        with open(config_path, encoding="utf-8") as handle:
            base_config = json.load(handle)
        base_config["architectures"] = [type(model.get_base_model()).__name__]
        base_config.pop("quantization_config", None)
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(base_config, handle)
        converted = subprocess.run(
            [sys.executable, converter, "--base", base_dir, "--outfile", out, adapter_dir],
            capture_output=True,
            text=True,
        )
        if converted.returncode != 0:
            fail("converting the adapter to GGUF failed: " + (converted.stderr.strip().splitlines() or ["?"])[-1])
    say(
        "saved",
        job=job,
        adapter=out,
        training_seconds=round(model.training_seconds, 2),
        best_epoch=model.best_epoch,
        epochs_run=model.epochs_run,
        validation_losses=[round(v, 5) for v in model.validation_losses],
        converting_seconds=round(time.monotonic() - converting, 2),
        seconds=round(time.monotonic() - started, 2),
    )


if __name__ == "__main__":
    main()
