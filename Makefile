# The two commands a user needs: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.contentops-installed

.PHONY: run test lint sandboxes bench clean system-tools

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## make run: start the sandboxes and Airflow (standalone) with this project's DAGs
run: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m contentops_sandbox.launcher

## Debian tools the tests use (docker-compose validates the compose file without an engine)
system-tools:
	@command -v docker-compose >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null; }

## make test: lint, then the whole test suite
test: $(STAMP) system-tools
	$(BIN)/ruff check .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make sandboxes: only the partner sandboxes, in the foreground
sandboxes: $(STAMP)
	$(BIN)/python -m contentops_sandbox

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
