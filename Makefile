# Two commands do everything on a fresh machine (see README):
#   make demo   create .venv, install, generate the demo exports, run the main job
#   make test   run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/data/dagster

.PHONY: install demo run test lint dagster mlflow-ui dbt-docs bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Install, then prepare what the code location needs at import: the dbt manifest,
# DAGSTER_HOME/dagster.yaml and the MLflow store.
install: $(BIN)/.installed
	$(BIN)/journey prepare

# `journey run` prepares (manifest, dagster.yaml, MLflow store) itself.
demo: $(BIN)/.installed
	$(BIN)/journey run

run: $(BIN)/.installed
	$(BIN)/journey run --skip-generate

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

dagster: install
	$(BIN)/dagster dev -w workspace.yaml

mlflow-ui: install
	$(BIN)/journey mlflow-ui

dbt-docs: install
	$(BIN)/journey dbt-docs

bench: install
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_training.py --scale 1
	$(BIN)/python benchmarks/model_ceiling.py
	$(BIN)/python benchmarks/bench_scoring.py --scale 10
	$(BIN)/python benchmarks/bench_ml.py
	$(BIN)/python -m benchmarks.public_telco_churn

clean:
	rm -rf data dbt_project/target dbt_project/logs
