# make demo — install what is missing, build, and run pwb on the shipped examples.
# make test — run every test (unit, store, runtime against a real llama-server, end to end).
SWIFT ?= swift
PWB := .build/debug/pwb

.PHONY: demo test build deps runtime trainer bench format clean-state

deps:
	@scripts/install-deps.sh

runtime: deps
	@scripts/setup-runtime.sh >/dev/null

# The LoRA trainer (pwb finetune, pwb advise --finetune): a Python environment under the pwb cache.
trainer: runtime
	@Sources/Workbench/FineTuning/setup-trainer.sh >/dev/null

build: deps
	$(SWIFT) build

demo: runtime build
	@scripts/demo.sh $(PWB)

# One test at a time: the suite holds tests that time servers to the second and tests that keep a
# core busy for a while, and on a two-core machine the second starve the first when run together.
test: runtime trainer
	$(SWIFT) test --no-parallel

bench: deps
	@bench/run-all.sh

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

clean-state:
	rm -rf .pwb
