# Two commands matter on a fresh machine: `make demo` and `make test`. Everything installs from requirements.lock.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: setup java browser demo run ui test test-fast bench sample clean

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

## WAREHOUSE=spark (docs/deploy.md) and the Spark tests need a Java 17+ runtime: installed with apt when missing.
java:
	@scripts/install_jre.sh

## The browser tests (the UI and the pages, real Chromium) need Debian's chromium: installed with apt when missing.
browser:
	@scripts/install_chromium.sh

## Generate the bundled sample (if missing) and materialize every asset in-process; prints a summary.
demo: setup $(if $(filter spark,$(WAREHOUSE)),java)
	$(BIN)/spine-pipeline demo

## Materialize everything headless on LANDING_DIR / DATA_DIR / AS_OF_DATE; non-zero exit on a blocking check.
run: setup $(if $(filter spark,$(WAREHOUSE)),java)
	$(BIN)/spine-pipeline run

## The Dagster UI on http://127.0.0.1:3000 (DAGSTER_HOME under DATA_DIR, telemetry off).
ui: setup
	$(BIN)/spine-pipeline ui

test: setup java browser
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser"

## The pipeline against the plain-DuckDB floor and the incremental month (docs/performance.md); SIZE=10m out of core.
SIZE ?= 1m
BENCH_ARGS ?= --skip-pandas
bench: setup
	nice -n 10 $(BIN)/python benchmarks/pipeline_benchmark.py --sizes $(SIZE) $(BENCH_ARGS)

sample: setup
	$(BIN)/sample-data --persons 10000 --seed 20260101 --out data/sample

clean:
	rm -rf data dbt_project/target dbt_project/logs
