# One entry point for setup, tests and the demo. Nothing needs to be pre-installed
# beyond Python 3.10+: every target creates the virtualenv it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BASE ?= HEAD

.PHONY: install test lint typecheck pytest demo analyze docs bench compare clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,analytics]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

## make test: lint, type-check and run the whole test suite
test: lint typecheck pytest

## make demo: a synthetic inbox on a local emulator, loaded twice with `meltano run`
demo: $(STAMP)
	bash scripts/demo.sh

## make analyze CONFIG=<tap config> DB=<duckdb file>: your inbox into DuckDB, with the
## analytics models built, their answers printed and a picture drawn beside the file
analyze: $(STAMP)
	bash scripts/analyze.sh "$(CONFIG)" "$(DB)"

## make bench: cost and speed against the emulators; writes benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## make compare BASE=<rev>: the tap's Singer output at <rev> (default HEAD) against this
## checkout's, uncommitted changes included, for every provider; fails on any difference
compare: $(STAMP)
	$(BIN)/python scripts/compare_outputs.py $(BASE)

## make docs: regenerate the README settings table and meltano.yml settings from tap.py
docs: $(STAMP)
	$(BIN)/python scripts/sync_settings_docs.py

clean:
	rm -rf $(VENV) .venv-meltano .meltano .demo output dist build
