# zhengshou-analysis: the entry points. `make report` runs the main job, `make test` the tests.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# two stamps: what running needs (make setup, make report) and the dev extra (make test)
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
DATA ?= data/demo
REPORTS ?= reports
WHEELHOUSE ?= wheelhouse
WORK := work
LINT_PATHS := src tests tools $(wildcard benchmarks)
# The notebooks declare this kernel; it lives inside the venv (--sys-prefix), not in ~/.local.
KERNEL := zhengshou
# pip prints a line per package it collects and downloads (its progress bars only on a terminal),
# so a piped `make report` says what it is doing; the lines of a re-run ("Requirement already
# satisfied") are left out. Unpacking the packages at the end prints nothing until it is done.
PIP_INSTALL = $(BIN)/python -m pip install
PIP_LINES = 2>&1 | { grep --line-buffered -v '^Requirement already satisfied' || true; }
KERNEL_INSTALL = $(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (zhengshou)" >/dev/null

.PHONY: setup dev report test lint typecheck format lab bench wheelhouse clean-reports

## setup: .venv with the package (editable), what running it needs and the notebook kernel "zhengshou"
setup: $(STAMP)

## dev: setup + the dev extra (pytest, nbval, hypothesis, openpyxl, ruff, mypy, playwright)
dev: $(DEV_STAMP)

$(BIN)/python:
	@echo "== creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "== installing zhengshou-analysis and what running it needs (pandas, statsmodels, lifelines, matplotlib, jupyter, …) into $(VENV): 1-3 minutes the first time (pip names each package it fetches, then unpacks them all without a line)"
	$(PIP_INSTALL) -e . $(PIP_LINES)
	$(KERNEL_INSTALL)
	@touch $@

# The dev extra includes the runtime: a fresh `make test` installs once, and setup is done with it.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@echo "== installing zhengshou-analysis with the dev extra (pytest, nbval, hypothesis, openpyxl, ruff, mypy, playwright) into $(VENV): 1-3 minutes the first time (pip names each package it fetches, then unpacks them all without a line)"
	$(PIP_INSTALL) -e '.[dev]' $(PIP_LINES)
	$(KERNEL_INSTALL)
	@touch $(STAMP) $@

## report: the yearly batch on the demo data into reports/ (installs only what running needs)
report: setup
	$(BIN)/zhengshou batch --data $(DATA) --out $(REPORTS)

## test: ruff, mypy, then pytest (library tests and nbval over notebooks/)
test: dev lint typecheck
	@echo "== pytest"
	@$(BIN)/python -m pytest || { echo "FAILED: pytest (make test)" >&2; exit 1; }

lint: dev
	@echo "== ruff"
	@$(BIN)/ruff check $(LINT_PATHS) || { echo "FAILED: ruff check (make lint)" >&2; exit 1; }
	@$(BIN)/ruff format --check $(LINT_PATHS) || { echo "FAILED: ruff format --check (make lint; make format fixes it)" >&2; exit 1; }

## typecheck: mypy over src/zhengshou_analysis (config in pyproject.toml [tool.mypy])
typecheck: dev
	@echo "== mypy"
	@$(BIN)/mypy || { echo "FAILED: mypy (make typecheck)" >&2; exit 1; }

format: dev
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

## lab: JupyterLab at the repository root, kernel "Python (zhengshou)"; your notebooks go in work/
## (more options for jupyter: make lab LAB_ARGS="--no-browser --port 8890")
lab: setup $(WORK)/README.md
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(LAB_ARGS)

# work/ is git-ignored and never collected by pytest: a place for one's own notebooks. It starts
# with a copy of a report page, whose data_dir ("../data/demo") is right from work/ too.
$(WORK)/README.md:
	mkdir -p $(WORK)
	[ -e $(WORK)/example_progress.ipynb ] || cp notebooks/20_progress.ipynb $(WORK)/example_progress.ipynb
	printf '%s\n' \
	  "# work/: your own notebooks (git-ignored; the tests never run them)" \
	  "" \
	  "Start from example_progress.ipynb (a copy of notebooks/20_progress.ipynb) or a new notebook" \
	  "with the kernel \"Python (zhengshou)\". Paths such as data_dir are found from here, from" \
	  "notebooks/ or from the repository root: \"../data/demo\" and \"data/demo\" both work." \
	  "To make a page part of the reports, move it to notebooks/ and register it in" \
	  "src/zhengshou_analysis/report/catalog.py (docs/architecture.md says how)." > $@

## bench: our times beside the baselines, as ratios (benchmarks/run.py; not run in CI)
bench: dev
	$(BIN)/python benchmarks/run.py

## wheelhouse: wheels of the package and every runtime dependency for Linux x86_64 and Windows
## amd64, CPython 3.11, in wheelhouse/ (git-ignored), for installing without the package index.
## Needs the index (only pip in .venv); about 420 MB.
wheelhouse: | $(BIN)/python
	$(BIN)/python tools/wheelhouse.py download $(WHEELHOUSE)

clean-reports:
	find $(REPORTS) -mindepth 1 ! -name README.md -exec rm -rf {} +
