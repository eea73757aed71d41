"""The standard way to train the same LoRA on the same pairs: PEFT and transformers' Trainer with the
library's defaults (the model computes logits at every position, the loss masks the prompt with
-100), for bench/finetune.sh to time against pwb's trainer, which sends only the answer positions
through the output layer.

Usage: python finetune_reference.py MODEL_DIR DATA.jsonl EXAMPLES EPOCHS
Prints one JSON line: {"training_seconds": …, "steps": …, "loss": …}.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "Workbench", "FineTuning"))

import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments  # noqa: E402

from train_lora import encode  # noqa: E402  the same tokenization as pwb's trainer


class Pairs(torch.utils.data.Dataset):
    def __init__(self, examples):
        self.examples = examples

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, index):
        ids, prompt_length = self.examples[index]
        return {"input_ids": ids, "labels": [-100] * prompt_length + ids[prompt_length:]}


def collate(pad_id):
    def pad(batch):
        width = max(len(item["input_ids"]) for item in batch)
        ids = [item["input_ids"] + [pad_id] * (width - len(item["input_ids"])) for item in batch]
        labels = [item["labels"] + [-100] * (width - len(item["labels"])) for item in batch]
        mask = [[1] * len(item["input_ids"]) + [0] * (width - len(item["input_ids"])) for item in batch]
        return {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
        }

    return pad


def main():
    model_dir, data, count, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    with open(data, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()][:count]
    examples = [encode(tokenizer, record) for record in records]
    config = LoraConfig(
        r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    arguments = TrainingArguments(
        output_dir=os.path.join(os.path.dirname(os.path.abspath(data)), "reference"),
        per_device_train_batch_size=8,
        num_train_epochs=epochs,
        learning_rate=2e-4,
        report_to=[],
        save_strategy="no",
        logging_steps=1000,
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),
        seed=0,
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    trainer = Trainer(model=model, args=arguments, train_dataset=Pairs(examples), data_collator=collate(pad_id))
    started = time.monotonic()
    result = trainer.train()
    print(json.dumps({
        "training_seconds": round(time.monotonic() - started, 2),
        "steps": result.global_step,
        "loss": round(result.training_loss, 5),
    }))


if __name__ == "__main__":
    main()
