# modelauth - developer and CI entry points (GNU make). The library is src/modelauth (runtime) and
# src/modelauth/local (the laptop side); example/ is a SAM project that uses it as yours would.
#   make demo   the main job: real requests through every auth mode on the embedded default (moto)
#   make test   lint + unit/functional/infra tests + sam build + e2e (sam local invoke in Docker)
# A fresh machine needs python3 (>= 3.11), a pyenv Python 3.12 (for `sam build`) and the Docker CLI;
# `make docker` (root) starts dockerd and builds the local Lambda base image when they are missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared

export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

# `sam build` runs pip with the function's runtime, so a working python3.12 must be first on PATH.
# Prefer the newest pyenv 3.12.x: a pyenv *shim* named python3.12 is on PATH even when 3.12 is not
# the selected version, and then fails. Fall back to a real python3.12 elsewhere on PATH.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PY312_BIN := $(or $(shell ls -d $(PYENV_ROOT)/versions/3.12.*/bin 2>/dev/null | sort -V | tail -n 1),\
	$(shell python3.12 -c 'import sys, os; print(os.path.dirname(sys.executable))' 2>/dev/null))

# pytest exits 5 when it collects nothing: a suite that ran no tests must not pass.
define pytest
	$(BIN)/pytest $(1) || { rc=$$?; if [ $$rc -eq 5 ]; then echo 'no tests collected' >&2; exit 1; fi; exit $$rc; }
endef

.PHONY: help install node lint test test-fast test-e2e build docker demo serve bench clean schema

help:
	@echo "make install   create $(VENV) and install modelauth with its dev tools"
	@echo "make demo      run the authorization demo on moto (no AWS account)"
	@echo "make serve     the GraphQL API on http://127.0.0.1:20002/graphql, every auth mode (moto)"
	@echo "make test      lint, unit/functional/infra tests, then sam build + e2e in Docker"
	@echo "make lint      ruff, mypy --strict, cfn-lint, sam validate --lint"
	@echo "make test-fast unit/functional/infra tests only (and Amplify JS against modelauth serve)"
	@echo "make node      npm ci in tests/node (aws-amplify, ws for the Amplify JS test)"
	@echo "make test-e2e  docker + build, then sam local invoke against moto"
	@echo "make build     sam build"
	@echo "make bench     benchmarks as ratios to baselines; writes bench/results.md (a few minutes)"
	@echo "make schema    modelauth generate in example/ (SDL, JS, template regions from its models)"
	@echo "make docker    start dockerd and build the local Lambda image (root)"
	@echo "make clean     remove build output and caches (keeps $(VENV))"

install: $(STAMP)

# tests/node: Amplify JS v6 (aws-amplify, ws) against `modelauth serve`, run by tests/node/test_amplify_js.py
NODE_DEPS := tests/node/node_modules/.package-lock.json
node: $(NODE_DEPS)

$(NODE_DEPS): tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund
	touch $@

# example/'s SDL, JS steps and template regions are generated from example/appschema
# (a test runs `modelauth generate --check` on it)
schema: install
	cd example && ../$(BIN)/modelauth generate

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint example/template.yaml
	cd example && ../$(BIN)/sam validate --lint

test: install
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-fast
	$(MAKE) --no-print-directory test-e2e

# MODELAUTH_REQUIRE_NODE: the Amplify JS test fails (rather than skips) without node or tests/node's packages
test-fast: export MODELAUTH_REQUIRE_NODE := 1
test-fast: install node
	$(call pytest,-m 'not e2e' --doctest-modules src tests)

test-e2e: install docker build
	$(call pytest,-m e2e tests/e2e)

build: install
	@test -x "$(PY312_BIN)/python3.12" || { echo "python3.12 not found in $(PYENV_ROOT)/versions/3.12.*" \
		"nor on PATH: install it (pyenv install 3.12) - sam build needs the function's runtime" >&2; exit 1; }
	cd example && PATH="$(PY312_BIN):$$PATH" ../$(BIN)/sam build

# Needs root: it may apt-get install docker.io/debootstrap and start dockerd (idempotent, ~0.1 s when done).
docker:
	@test -x $(SHARED)/tools/lambda-python-image.sh || { echo "$(SHARED)/tools/lambda-python-image.sh" \
		"not found: set SHARED=<path to the shared checkout>" >&2; exit 1; }
	$(if $(filter 0,$(shell id -u)),,sudo) $(SHARED)/tools/lambda-python-image.sh

demo: install
	cd example && ../$(BIN)/python walkthrough.py

# The local AppSync endpoint until Ctrl-C; `modelauth users|token|creds|explain` talk to it.
serve: install
	cd example && ../$(BIN)/modelauth serve $(if $(PORT),--port $(PORT))

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf .aws-sam example/.aws-sam build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
