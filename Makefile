# Everything sets itself up: a virtualenv in .venv with the project and its extras.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LAKE   ?= ./lake
GOV    := $(BIN)/govreports
SEEDS  := crawlers/samples/seeds
STAMP  := $(VENV)/.installed
# Bytecode is written by the processes that import a module, once: pip compiles nothing
# (--no-compile: it would compile every file of every package, Airflow's thousands) and
# PYTHONDONTWRITEBYTECODE, set on some machines (as on this one), is not passed on, or each of
# the hundreds of processes a test or DAG run starts would compile Airflow, Scrapy and the
# project from source again (measured: make test 416 s with everything compiled ahead, 376 s
# this way, on a fresh clone).
unexport PYTHONDONTWRITEBYTECODE

# The local deployments' scripts (Python without a .py name).
LOCAL_SCRIPTS := infra/local/celery-e2e infra/local/scale

.PHONY: install run test bench lint clean celery-e2e scale

install: $(STAMP)

# Debian tools the attachment readers call (Word 97-2003 / WPS files); Chromium and its driver,
# which the test of the report page drives headless (COMMAND:PACKAGE where the names differ).
DEBIAN_TOOLS := antiword catdoc chromium chromedriver:chromium-driver
# A CJK font for the report page's plots (province names) and for Chromium showing the page.
DEBIAN_FONTS := fonts-wqy-microhei
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): setup.cfg pyproject.toml
	@for tool in $(DEBIAN_TOOLS); do command -v $${tool%%:*} >/dev/null || missing="$$missing $${tool#*:}"; done; \
	for font in $(DEBIAN_FONTS); do dpkg -s $$font >/dev/null 2>&1 || missing="$$missing $$font"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev,airflow,celery,samples]'
	touch $@

# The main job: the nightly DAG, once, through Airflow itself (SQLite in build/airflow): crawl
# the portals of $(PORTALS) into $(LAKE) while the sample portals (built from the seeds, one per
# CMS family) are served on loopback, repair, extract, load; then list what the lake holds and
# say where its coverage and quality report is. A second run fetches list pages only and adds
# nothing.
#   make run PORTALS=crawlers/portals.yaml LAKE=s3://bucket/prefix
PORTALS ?= crawlers/sample_portals.yaml
run: install
	GOVREPORTS_PORTALS=$(PORTALS) GOVREPORTS_LAKE=$(LAKE) infra/local/run-dag govreports_nightly
	$(GOV) query --lake $(LAKE) "select portal_id, province_code, report_year, issuing_agency, title from reports order by all"
	@echo "The DAG filed its report page in the lake: $(LAKE)/_reports/latest/index.html; a copy here:"
	@$(GOV) report --lake $(LAKE) --out build/report

# Tests run on TEST_JOBS workers (pytest-xdist); most of their time is spent waiting on
# subprocesses, servers and Airflow, so more workers than cores pays.
TEST_JOBS ?= 4
test: install
	$(BIN)/ruff check pipelines crawlers dags tests infra/local $(LOCAL_SCRIPTS)
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n $(TEST_JOBS) --dist loadgroup

# The nightly DAG on a local Celery deployment (PostgreSQL and Redis from Debian's packages,
# installed when missing; an Airflow scheduler, API server, DAG processor and CELERY_WORKERS
# workers) over 200 loopback sample portals, checked against the SQLite path of `make run`.
# CELERY_LAKE=s3 (default): both lakes on a loopback S3 endpoint, reached through aws_default as
# an assumed role, as on a cluster; CELERY_LAKE=local: local folders.
CELERY_WORKERS ?= 2
CELERY_LAKE ?= s3
celery-e2e: install
	infra/local/celery-packages
	$(BIN)/python infra/local/celery-e2e --workers $(CELERY_WORKERS) $(if $(filter s3,$(CELERY_LAKE)),--s3)

# National scale, simulated (never part of `make test`; about 45 minutes here): the nightly DAG
# on the local Celery deployment over SCALE_SIZES loopback portals (a first and a second night
# each; the largest's first night extrapolated when the time left does not allow it), then the
# lake grown to LAKE_REPORTS reports (local disk; LAKE_S3_REPORTS also on the loopback S3
# endpoint). Tables on stdout, figures in build/scale/scale.json; infra/README.md reads them.
SCALE_SIZES ?= 200,2000,10000
LAKE_REPORTS ?= 20000,100000
LAKE_S3_REPORTS ?= 100000
scale: install
	infra/local/celery-packages
	$(BIN)/python infra/local/scale --sizes "$(SCALE_SIZES)" --lake-reports "$(LAKE_REPORTS)" \
	  --lake-s3-reports "$(LAKE_S3_REPORTS)"

# Speed and memory, each stage beside its baseline in one run (never part of `make test`).
bench: install
	$(BIN)/python -m tests.bench --json build/bench.json

lint: install
	$(BIN)/ruff check pipelines crawlers dags tests infra/local $(LOCAL_SCRIPTS)
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) lake build .pytest_cache .ruff_cache .hypothesis
