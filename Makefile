# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KOSODATE_DB ?= ./kosodate.db
PORT ?= 8000
export KOSODATE_DB

.PHONY: run test install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

run: install
	@test -f "$(KOSODATE_DB)" || $(BIN)/kosodate-bot kb init --demo --db "$(KOSODATE_DB)"
	$(BIN)/kosodate-bot serve --host 127.0.0.1 --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python bench/ask_latency.py

clean:
	rm -rf $(VENV) *.egg-info kosodate.db
