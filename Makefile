# MyPatientPortal — everything starts here:
#   make run            serve every function on 127.0.0.1:$(PORT) with demo data (SQLite store)
#   make run STORE=dynamodb   the same on DynamoDB + SES (moto on loopback, started and stopped here)
#   make test           install the test tools, start moto, run fmt, clippy and every test
#   make soak           16 patients for 2 minutes against make run's stack, then the store's invariants
#   make deploy-build   one release build of the five functions for Lambda (arm64)
#   make deploy         deploy-build + sam deploy (guided the first time, samconfig.toml afterwards)
SHELL := /bin/bash
.DEFAULT_GOAL := help

# One build cache for everything (make run, make test, portal-admin, the watch server), outside
# the clone so fresh CI clones and worktrees reuse it.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/mypatientportal/target
export PORT ?= 9000
export STORE ?= sqlite

VENV := .venv
REQ := infra/requirements
# One stamp per requirements file, named after its checksum: a changed file reinstalls.
stamp = $(VENV)/.$(1)-$(shell cksum < $(REQ)/$(1).txt | cut -d' ' -f1)

.PHONY: help run test soak bench lint clean-data deploy-build deploy \
	run-tools emulator-tools deploy-tools test-tools

help:
	@echo "make run                serve everything on 127.0.0.1:$(PORT) with demo data (SQLite)"
	@echo "make run STORE=dynamodb the same on DynamoDB and SES (moto on loopback)"
	@echo "make test               fmt + clippy + every test (starts and stops moto itself)"
	@echo "make soak               16 patients for 2 min against make run's stack; then the store's invariants"
	@echo "make deploy-build       release arm64 build of the five functions, ready for SAM"
	@echo "make deploy             deploy-build, then sam deploy (README, \"Deploying\")"
	@echo "make bench              benchmarks: handler CPU + round trips, signing, cold starts"

# $(1): requirements file name (without .txt).
define install_requirements
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(REQ)/$(1).txt
	@rm -f $(VENV)/.$(1)-* && touch $@
endef

$(call stamp,run): $(REQ)/run.txt
	$(call install_requirements,run)
$(call stamp,emulator): $(REQ)/emulator.txt
	$(call install_requirements,emulator)
$(call stamp,deploy): $(REQ)/deploy.txt
	$(call install_requirements,deploy)
$(call stamp,test): $(REQ)/test.txt
	$(call install_requirements,test)

run-tools: $(call stamp,run)
emulator-tools: $(call stamp,emulator)
deploy-tools: $(call stamp,deploy)
test-tools: run-tools emulator-tools deploy-tools $(call stamp,test)

# Only what running needs: moto only for STORE=dynamodb, no SAM CLI, no test tools.
run: run-tools $(if $(filter dynamodb,$(STORE)),emulator-tools)
	@infra/scripts/run.sh

test: test-tools
	@infra/scripts/test.sh

# The same tools as make run (moto too for STORE=dynamodb).
soak: run-tools $(if $(filter dynamodb,$(STORE)),emulator-tools)
	@infra/scripts/soak.sh

deploy-build: run-tools
	@infra/scripts/deploy-build.sh

deploy: deploy-build deploy-tools
	@infra/scripts/deploy.sh

bench:
	@infra/scripts/bench.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

clean-data:
	rm -rf .data
