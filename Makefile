# MyPatientPortal — two commands do all set-up on a fresh machine:
#   make run    serve every function on 127.0.0.1:$(PORT) with demo data (cargo lambda watch)
#   make test   install test tools, start moto, run fmt, clippy and every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Builds are cached outside the clone so fresh CI clones and worktrees reuse them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/mypatientportal/target
export PORT ?= 9000

VENV := .venv
TOOLS_STAMP := $(VENV)/.tools-$(shell cksum < infra/requirements.txt | cut -d' ' -f1)

.PHONY: help run test tools lint clean-data bench

help:
	@echo "make run    serve everything on 127.0.0.1:$(PORT) with demo data"
	@echo "make test   fmt + clippy + every test (starts and stops moto itself)"
	@echo "make bench  benchmarks: handler CPU + round trips, signing, cold starts (docs/performance.md)"

$(TOOLS_STAMP): infra/requirements.txt
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r infra/requirements.txt
	@rm -f $(VENV)/.tools-* && touch $@

tools: $(TOOLS_STAMP)

run: tools
	@infra/scripts/run.sh

test: tools
	@infra/scripts/test.sh

bench:
	@infra/scripts/bench.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

clean-data:
	rm -rf .data
