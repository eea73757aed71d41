# make demo — install what is missing, build, and run pwb on the shipped examples.
# make test — run every test (unit, store, runtime against a real llama-server, end to end).
SWIFT ?= swift
PWB := .build/debug/pwb

.PHONY: demo test build deps runtime bench format clean-state

deps:
	@scripts/install-deps.sh

runtime: deps
	@scripts/setup-runtime.sh >/dev/null

build: deps
	$(SWIFT) build

demo: runtime build
	@scripts/demo.sh $(PWB)

test: runtime
	$(SWIFT) test

bench: deps
	@bench/run-all.sh

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

clean-state:
	rm -rf .pwb
