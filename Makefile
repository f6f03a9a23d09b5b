# make run   install and start everything on embedded defaults (SQLite, filesystem broker,
#            simulated cluster, payment simulator); Ctrl-C stops all
# make test  install and run the whole suite against PostgreSQL and Redis (started if needed)
# make lint  ruff check + format check

# A .env file (KEY=value lines) configures both make and Django; the OS environment wins.
# Tests ignore it for the database and Redis: they always run on TEST_DATABASE_URL/TEST_REDIS_URL.
# .env holds defaults: a variable already in the environment keeps its value (PORT=8001 make run).
ifneq (,$(wildcard .env))
DOTENV_VARS := $(shell sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' .env)
$(foreach v,$(DOTENV_VARS),$(if $(filter environment,$(origin $(v))),$(eval SAVED_$(v) := $$($(v)))))
include .env
$(foreach v,$(DOTENV_VARS),$(if $(filter-out undefined,$(origin SAVED_$(v))),$(eval $(v) := $$(SAVED_$(v)))))
endif
export

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/paas
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
TEST_BROKER_URL ?= redis://127.0.0.1:6379/2

.PHONY: install run test lint format services migrate seed bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	mkdir -p var
	@# manage.py in a second terminal reads .env too, so it finds this local setup without exports.
	@test -f .env || { cp .env.example .env && echo "created .env from .env.example (DEBUG=true)"; }
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed
	DEBUG=$${DEBUG:-true} $(PY) manage.py runall --host $(HOST) --port $(PORT)

services:
	@bash .ci/services.sh

test: install services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest --create-db -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks touch only BENCH_DATABASE_URL's database (created when missing, emptied each run).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/paas_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/3

bench: install services
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf var $(VENV)
