# Coordinator — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
PORT   ?= 5000
export PORT

.PHONY: run test test-only install install-dev system-deps system-deps-test translations \
        extract-messages lint typecheck fuzz serve clean mutation vendor

## run: install, migrate, load reference and demo data, serve on http://127.0.0.1:$(PORT)
run: install
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	@echo "Serving Coordinator on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload

## test: install with the dev extra, then run the whole suite
test: install-dev system-deps-test
	$(BIN)/pytest

test-only:
	$(BIN)/pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: system-deps $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

system-deps:
	@scripts/system-deps.sh run

system-deps-test:
	@scripts/system-deps.sh test

## translations: compile the .po catalogs into the .mo files Flask-Babel reads
translations: | $(BIN)/python
	@$(BIN)/pybabel compile -d coordinator/translations 2>&1 | grep -v "^compiling catalog" || true

## extract-messages: refresh the catalogs after adding or changing user-facing strings
extract-messages:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --no-location --sort-output \
	  -o coordinator/translations/messages.pot .
	$(BIN)/pybabel update -i coordinator/translations/messages.pot -d coordinator/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python scripts/english_catalog.py

## mutation: mutation testing (mutmut, [tool.mutmut] in pyproject.toml; long, not in CI). By
##   default the permission module (about 20 minutes on two shared cores); choose with e.g.
##   MUTANTS='coordinator.scheduling.rules.*'. `rm -rf mutants` first for a fresh score.
MUTANTS ?= coordinator.permissions.*
mutation: install-dev
	mkdir -p mutants && rm -f mutants/migrated.sqlite3
	COORDINATOR_TEST_DB_TEMPLATE=$(CURDIR)/mutants/migrated.sqlite3 \
	  $(BIN)/mutmut run --max-children 2 $(foreach m,$(MUTANTS),"$(m)")
	$(BIN)/mutmut results

## vendor: fetch the vendored browser libraries again from npm (Tom Select: scripts/vendor-tom-select.sh)
vendor:
	scripts/vendor-tom-select.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## fuzz: schemathesis against a live server on a fresh SQLite database (scripts/fuzz.py)
fuzz: install-dev
	$(BIN)/python scripts/fuzz.py

## typecheck: mypy over the core, the services and the permission module (files in pyproject.toml)
typecheck:
	$(BIN)/mypy

serve: install
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 \
	  --logger-class coordinator.core.logmask.AccessLogger wsgi:app

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
