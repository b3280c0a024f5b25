# The two commands a newcomer runs: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/dagster_home

.PHONY: install demo test ui bench lint clean

install: $(STAMP)

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/grafterr-pipeline demo

test: install
	$(BIN)/python -m pytest

ui: install
	$(BIN)/dagster dev --host 127.0.0.1 --port 3000 -w workspace.yaml

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) setup.py
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check grafterr_pipeline tests
	$(BIN)/ruff format --check grafterr_pipeline tests

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
