# Everything sets itself up: a virtualenv in .venv with the project and its extras.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LAKE   ?= ./lake
GOV    := $(BIN)/govreports
SEEDS  := tests/data/seeds
STAMP  := $(VENV)/.installed

.PHONY: install run test bench lint clean

install: $(STAMP)

# Debian tools the attachment readers call (Word 97-2003 / WPS files).
DEBIAN_TOOLS := antiword catdoc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): setup.cfg pyproject.toml
	@for tool in $(DEBIAN_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The main job, for now: ingest the bundled sample reports (the seeds) into $(LAKE), each with
# the region code of its issuing body, then list what landed.
run: install
	$(GOV) ingest --lake $(LAKE) --province 220000 $(SEEDS)/000_755e354edfb80570.txt
	$(GOV) ingest --lake $(LAKE) --province 532323 $(SEEDS)/001_ec53a44d14571297.txt
	$(GOV) ingest --lake $(LAKE) --province 220203 $(SEEDS)/002_f64b17dea72e9793.txt
	$(GOV) ingest --lake $(LAKE) --province 530502 $(SEEDS)/003_6f0460d6ccc8a243.txt
	$(GOV) ingest --lake $(LAKE) --province 520502 $(SEEDS)/004_690bb2cc921685bd.txt
	$(GOV) query --lake $(LAKE) "select province_code, province_name, report_year, count(*) as reports from reports group by all order by all"

test: install
	$(BIN)/ruff check pipelines crawlers dags tests
	$(BIN)/pytest

# Speed and memory, each stage beside its baseline in one run (never part of `make test`).
bench: install
	$(BIN)/python -m tests.bench --json build/bench.json

lint: install
	$(BIN)/ruff check pipelines crawlers dags tests

clean:
	rm -rf $(VENV) lake build .pytest_cache .ruff_cache .hypothesis
