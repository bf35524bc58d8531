# `make run` and `make test` each create .venv when it is missing and install the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Prefect keeps its settings and database inside the project; telemetry stays off.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: run test test-fast lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## run the pipeline on seeds/ into warehouse/ and print what it found
	$(BIN)/newsner run seeds --warehouse warehouse

test: $(STAMP)  ## the whole test suite (slow tests included)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## the suite without the slow tests: the edit-test loop
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check flows tasks tests

clean:
	rm -rf warehouse/newsner.duckdb warehouse/parquet warehouse/.staging .prefect

.PHONY: bench bench-ner-speed
bench: bench-ner-speed  ## all benchmarks (need ../shared/data)

bench-ner-speed: $(STAMP)  ## NER stage words/s against plain nlp.pipe, same process
	$(BIN)/python -m benchmarks.ner_speed 500

.PHONY: bench-extract
bench: bench-extract
bench-extract: $(STAMP)  ## article-text extraction F1 on ../shared/data/html-dev
	$(BIN)/python -m benchmarks.extract_quality

.PHONY: bench-ner
bench: bench-ner
bench-ner: $(STAMP)  ## entity quality: CoNLL train and dev (or DATA=FILE), routing, AIDA merges
	$(BIN)/python -m benchmarks.ner_quality $(if $(DATA),--data $(DATA))

.PHONY: bench-warehouse
bench: bench-warehouse
bench-warehouse: $(STAMP)  ## 1M synthetic mentions: query medians and the aggregation share of a run
	$(BIN)/python -m benchmarks.warehouse_scale 1000000

.PHONY: bench-pipeline
bench: bench-pipeline
bench-pipeline: $(STAMP)  ## newsner run vs plain nlp.pipe at 1x and 4x: speed, memory, reruns, WARC
	$(BIN)/python -m benchmarks.pipeline $(if $(TINY),--tiny --scales 1) $(if $(OUT),--out $(OUT))

UI_PORT ?= 4200
.PHONY: ui
ui: $(STAMP)  ## the project's Prefect server and UI on 127.0.0.1; newsner run/serve report to it
	$(BIN)/newsner ui --port $(UI_PORT)
