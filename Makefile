# zhengshou-analysis: the entry points. `make report` runs the main job, `make test` the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data/demo
REPORTS ?= reports
LINT_PATHS := src tests $(wildcard benchmarks)

.PHONY: setup report test lint typecheck format lab bench clean-reports

## setup: .venv with the package (editable) + dev extra + a notebook kernel inside the venv
setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name zhengshou --display-name "Python (zhengshou)" >/dev/null
	@touch $(STAMP)

## report: the yearly batch on the demo data into reports/
report: setup
	$(BIN)/zhengshou batch --data $(DATA) --out $(REPORTS)

## test: ruff, mypy, then pytest (library tests and nbval over notebooks/)
test: setup lint typecheck
	@echo "== pytest"
	@$(BIN)/python -m pytest || { echo "FAILED: pytest (make test)" >&2; exit 1; }

lint: setup
	@echo "== ruff"
	@$(BIN)/ruff check $(LINT_PATHS) || { echo "FAILED: ruff check (make lint)" >&2; exit 1; }
	@$(BIN)/ruff format --check $(LINT_PATHS) || { echo "FAILED: ruff format --check (make lint; make format fixes it)" >&2; exit 1; }

## typecheck: mypy over src/zhengshou_analysis (config in pyproject.toml [tool.mypy])
typecheck: setup
	@echo "== mypy"
	@$(BIN)/mypy || { echo "FAILED: mypy (make typecheck)" >&2; exit 1; }

format: setup
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

## lab: JupyterLab on notebooks/ with the package importable
lab: setup
	$(BIN)/jupyter lab notebooks/

## bench: our times beside the baselines, as ratios (benchmarks/run.py; not run in CI)
bench: setup
	$(BIN)/python benchmarks/run.py

clean-reports:
	find $(REPORTS) -mindepth 1 ! -name README.md -exec rm -rf {} +
