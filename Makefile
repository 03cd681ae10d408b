# Set-up and checks for victor-workflow-tools. Every target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXAMPLE ?= examples/document_review.yaml

.PHONY: run test setup lint typecheck pytest extension npm-test-deps system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## make run: set up, then run the bundled example workflow end to end (offline).
run: $(STAMP)
	$(VENV)/bin/victor workflow validate $(EXAMPLE)
	$(VENV)/bin/victor workflow run $(EXAMPLE) -c '{"topic": "caching", "text": "TODO: measure hit rate\nCaching keeps hot data close."}'

lint: $(STAMP)
	$(VENV)/bin/ruff check engine victor_lsp victor_dap tests benchmarks
	$(VENV)/bin/ruff format --check engine victor_lsp victor_dap tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

system-deps:
	bash scripts/ensure-system-deps.sh

npm-test-deps:
	cd tests/dap_e2e && npm ci --no-audit --no-fund --loglevel=error

extension:
	cd vscode-extension && bash scripts/ci.sh

pytest: $(STAMP) system-deps npm-test-deps
	source scripts/postgres-test-server.sh && \
	  $(VENV)/bin/python -m pytest -q -p no:cacheprovider

## make test: set up everything, then lint, type-check, run every test and build the extension.
test: $(STAMP) lint typecheck pytest extension

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	cd benchmarks/peers && npm ci --no-audit --no-fund --loglevel=error
	bash scripts/ensure-system-deps.sh
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
