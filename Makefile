# The two commands a user needs: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.contentops-installed
# the Airflow release this project is tested with (the provider itself takes a range)
AIRFLOW_VERSION ?= 3.3.2

.PHONY: run test lint sandboxes bench clean system-tools constraints

## every package of the tested install, pinned (Airflow's own constraints file for this release is
## not reachable from every machine: raw.githubusercontent.com is blocked on ours), used as pip
## constraints so a fresh clone installs what CI tested; `make constraints` regenerates it
CONSTRAINTS := constraints/airflow-$(AIRFLOW_VERSION)-python-3.11.txt

## the provider (with its dev and celery extras) and, as a distribution of their own, the sandboxes;
## --no-compile: pip would byte-compile all of Airflow up front (~40 s of CPU), Python compiles the
## modules a run imports on first use (a few seconds)
$(STAMP): pyproject.toml include/pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -c $(CONSTRAINTS) -e '.[dev,celery]' -e ./include "apache-airflow==$(AIRFLOW_VERSION)"
	@touch $(STAMP)

## make constraints: resolve the install afresh (newest releases the ranges allow) in a scratch venv
## and pin it; run the tests on the result before committing it
constraints:
	rm -rf var/constraints-venv && $(PYTHON) -m venv var/constraints-venv
	var/constraints-venv/bin/python -m pip install --quiet --upgrade pip
	var/constraints-venv/bin/python -m pip install --quiet --no-compile '.[dev,celery]' ./include "apache-airflow==$(AIRFLOW_VERSION)"
	{ echo "# Every package of the tested install (Airflow $(AIRFLOW_VERSION), Python 3.11), pinned: make's install uses it"; \
	  echo "# as a pip constraints file, so a fresh clone installs what CI tested. Regenerate with 'make constraints'."; \
	  var/constraints-venv/bin/python -m pip freeze --exclude-editable | grep -v -E '^contentops(-sandbox|_sandbox)? *(@|==)'; \
	} > $(CONSTRAINTS)
	rm -rf var/constraints-venv

## make run: start the sandboxes and Airflow (standalone) with this project's DAGs
## (options of the launcher through RUN_ARGS, e.g. make run RUN_ARGS="--api-port 8090 --verbose")
run: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m contentops_sandbox.launcher $(RUN_ARGS)

## Debian tools the tests use: docker-compose validates the compose file without an engine;
## chromium + chromium-driver drive the Airflow UI in the browser tests (a test tool's own
## browser download does not work on these machines). Needs root or sudo-less apt, as on CI.
APT_TOOLS := docker-compose:docker-compose chromium:chromium chromedriver:chromium-driver
system-tools:
	@missing=""; for pair in $(APT_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## make test: lint, then the whole test suite, on PYTEST_WORKERS pytest-xdist workers (most of
## the suite waits on servers, not the CPU); each Airflow stack's modules share one worker, so with
## three stacks (backfill, browser, distributed) a fourth worker takes the rest of the suite from the start.
## PYTHONDONTWRITEBYTECODE is emptied (a CI image or shell may set it): the suite starts many
## Python processes (workers, each stack's Airflow processes, `airflow` commands), and without
## bytecode written on first use each of them compiles every module it imports again (~3 s of CPU
## for an `airflow` command, ~half its CPU time)
PYTEST_WORKERS ?= 4
test: $(STAMP) system-tools
	$(BIN)/ruff check .
	PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make sandboxes: only the partner sandboxes, in the foreground
sandboxes: $(STAMP)
	$(BIN)/python -m contentops_sandbox

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
