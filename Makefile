# Two commands (README): `make repro` and `make test`. Each sets itself up from nothing but
# Python 3.11: a virtual environment in .venv with requirements.txt installed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Stage commands run `python ...`: put the venv first on PATH so they get its interpreter.
export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1
export DVC_STUDIO_OFFLINE := 1

.PHONY: repro report test lint bench clean-venv

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## make repro: run the whole DVC pipeline on the embedded (synthetic) default data: `dvc repro`,
## with independent stage groups side by side on the cores (pipeline/repro.py; --jobs 1: plain)
REPRO_ARGS ?=
repro: $(STAMP)
	$(BIN)/python pipeline/repro.py $(REPRO_ARGS)

## make report: every table, figure and reports/README.md from the committed results/ alone
## (no training, no DVC cache; seconds). REPORT_ARGS=--check: then fail listing the files of
## reports/ that differ from git's HEAD (what .ci/run does)
REPORT_ARGS ?=
report: $(STAMP)
	$(BIN)/python pipeline/report.py $(REPORT_ARGS)

## make test: the whole test suite (unit + tiny end-to-end pipeline), CPU only
test: $(STAMP)
	$(BIN)/python -m pytest -q

## make bench: benchmarks -> reports/bench/*.json + README.md; a full run
## takes ~7 min on 2 cores, plus ~5 min for ttq (time to quality: three runs trained twice).
## `make bench BENCH_ARGS=--quick` for a fast indicative pass; BENCH_ARGS=--measured-repro-seconds
## <s> puts the last make repro's wall time beside ttq's projection of it.
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=
$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src pipeline tests benchmarks
	$(BIN)/ruff format --check src pipeline tests benchmarks

clean-venv:
	rm -rf $(VENV)
