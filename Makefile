# modelauth - developer and CI entry points (GNU make). The library is src/modelauth (runtime) and
# src/modelauth/local (the laptop side); example/ is a SAM project that uses it as yours would.
#   make demo   the main job: real requests through every auth mode on the embedded default (moto)
#   make test   lint + unit/functional/infra tests + sam build + e2e (sam local invoke in Docker)
#   make deploy / deploy-ci   sam deploy of example/ (you confirm the change set / unattended, for CI)
# A fresh machine needs python3 (>= 3.11), a pyenv Python 3.12 (for `sam build`), Node.js >= 18.18
# with npm (eslint for the APPSYNC_JS code) and the Docker CLI;
# `make docker` (root) starts dockerd and builds the local Lambda base image when they are missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins its own boto3/botocore and friends, which break aws-sam-cli in $(VENV): its own venv
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
# eslint + @aws-appsync/eslint-plugin + typescript, as package-lock.json pins them
NODE_STAMP := node_modules/.installed
# the APPSYNC_JS code: the library's (modelauth generate copies it into graphql/) and the example's
APPSYNC_JS := src/modelauth/js example/graphql
# example/template.yaml as CloudFormation receives it (tools/translate_template.py)
TRANSLATED := build/lint/template.json
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

.PHONY: help install node amplify-gen2 node_modules lint test test-fast test-e2e build deploy deploy-ci docker demo serve bench clean schema

# samconfig.toml environment of build/deploy: `default`, or `ci` under `make deploy-ci`
SAM_ENV ?= default
# Every deploy sets the API key to expire this many days later (1..365): each deploy renews it.
API_KEY_DAYS ?= 365

help:
	@echo "make install   create $(VENV) and install modelauth with its dev tools"
	@echo "make demo      run the authorization demo on moto (no AWS account)"
	@echo "make serve     the GraphQL API on http://127.0.0.1:20002/graphql, every auth mode (moto)"
	@echo "make test      lint, unit/functional/infra tests, then sam build + e2e in Docker"
	@echo "make lint      ruff, mypy --strict, cfn-lint and sam validate --lint on template.yaml, cfn-lint"
	@echo "               and checkov on the SAM-translated template, eslint (APPSYNC_JS rules) on the JS"
	@echo "make test-fast unit/functional/infra tests only (and Amplify JS against modelauth serve)"
	@echo "make node      npm ci in tests/node (aws-amplify, ws for the Amplify JS test)"
	@echo "make amplify-gen2 npm ci in tools/amplify_gen2 (@aws-amplify/data-schema for modelauth import amplify-gen2)"
	@echo "make test-e2e  docker + build, then sam local invoke against moto"
	@echo "make build     sam build"
	@echo "make deploy    sam build + sam deploy of example/, showing the change set for you to confirm"
	@echo "make deploy-ci the same unattended (samconfig.toml's ci environment: no prompt, prod stage)"
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

# tools/amplify_gen2: Amplify's @aws-amplify/data-schema, which `modelauth import amplify-gen2` runs
GEN2_DEPS := tools/amplify_gen2/node_modules/.package-lock.json
amplify-gen2: $(GEN2_DEPS)

$(GEN2_DEPS): tools/amplify_gen2/package.json tools/amplify_gen2/package-lock.json
	cd tools/amplify_gen2 && npm ci --no-audit --no-fund
	touch $@

# example/'s SDL, JS steps and template regions are generated from example/appschema
# (a test runs `modelauth generate --check` on it)
schema: install
	cd example && ../$(BIN)/modelauth generate

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'
	rm -f $(CHECKOV_VENV)/.installed-*
	touch $@

node_modules: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js >= 18.18 with npm" \
		"(Debian: apt-get install nodejs npm) - make lint runs eslint on the APPSYNC_JS code" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install $(CHECKOV_STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint example/template.yaml
	cd example && ../$(BIN)/sam validate --lint
	node_modules/.bin/eslint --max-warnings 0 $(APPSYNC_JS)
	$(BIN)/python tools/translate_template.py example/template.yaml $(TRANSLATED)
	# W1020: SAM resolves the Stage parameter in LayerName to a literal it leaves in an Fn::Sub
	# (template.yaml itself is linted with every rule above)
	$(BIN)/cfn-lint --ignore-checks W1020 -- $(TRANSLATED)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --file $(TRANSLATED)

test: install
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-fast
	$(MAKE) --no-print-directory test-e2e

# MODELAUTH_REQUIRE_NODE: the Amplify JS test fails (rather than skips) without node or tests/node's packages
test-fast: export MODELAUTH_REQUIRE_NODE := 1
test-fast: install $(NODE_STAMP) node amplify-gen2
	$(call pytest,-m 'not e2e' --doctest-modules src tests)

test-e2e: install docker build
	$(call pytest,-m e2e tests/e2e)

build: install
	@test -x "$(PY312_BIN)/python3.12" || { echo "python3.12 not found in $(PYENV_ROOT)/versions/3.12.*" \
		"nor on PATH: install it (pyenv install 3.12) - sam build needs the function's runtime" >&2; exit 1; }
	cd example && PATH="$(PY312_BIN):$$PATH" ../$(BIN)/sam build --config-env $(SAM_ENV)

# The command line's --parameter-overrides replaces samconfig's, so `modelauth api-key-expiry
# --config-env` prints that environment's overrides plus a fresh ApiKeyExpiresOn.
deploy-ci: SAM_ENV := ci
deploy deploy-ci: build
	cd example && overrides="$$(../$(BIN)/modelauth api-key-expiry --days $(API_KEY_DAYS) --config-env $(SAM_ENV))" \
		&& ../$(BIN)/sam deploy --config-env $(SAM_ENV) --parameter-overrides "$$overrides"

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
