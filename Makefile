# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi
# pytest-xdist workers: `auto` is one per CPU (2 on the CI machine). Each worker has its own database,
# instance folder and live-server ports (tests/conftest.py). `make test WORKERS=0` runs in one process.
WORKERS ?= auto
XDIST   := $(if $(filter 0,$(WORKERS)),-p no:xdist,-n $(WORKERS) --dist loadgroup)
# Compiled modules are kept between runs (and between the workers of one run): with
# PYTHONDONTWRITEBYTECODE set, every pytest process compiled the app and rewrote every test module anew.
export PYTHONDONTWRITEBYTECODE :=
# Links in mail, and the development payment fake's webhooks, go to the address being served.
export PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: run test coverage test-browser suite-time install install-dev translations messages chromium check lint clean

run: install translations ## migrate, load the demo, serve on http://127.0.0.1:5000 with a job worker
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C stops the server and the job worker)"
	@$(BIN)/huey_consumer incubator.worker.huey --workers 2 --worker-type thread --max-delay 1 --quiet & \
	  WORKER=$$!; trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask run --host $(HOST) --port $(PORT)

test: install-dev translations chromium ## the whole suite (SQLite, or the database of TEST_DATABASE_URL)
	$(BIN)/pytest $(XDIST)

coverage: install-dev translations chromium ## the whole suite with branch coverage of incubator/ (slower: about 1.7x)
	$(BIN)/pytest $(XDIST) --cov=incubator --cov-branch --cov-report=
	@echo "Coverage of incubator/ (lines and branches): $$($(BIN)/coverage report --format=total)%"

test-browser: install-dev translations chromium ## the browser journeys only
	$(BIN)/pytest $(XDIST) -m browser

suite-time: install-dev translations ## wall and CPU time of the suite and its 15 slowest tests, as JSON (AGAINST=old.json)
	$(BIN)/python bench/suite_time.py -o test-results/suite-time.json $(if $(AGAINST),--against $(AGAINST)) -- -n $(WORKERS) --dist loadgroup

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

translations: install ## compile the .po catalogues
	$(BIN)/pybabel compile -d incubator/translations >/dev/null

messages: install ## extract strings and update the catalogues after changing user-facing text
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --ignore-dirs ".* __pycache__ node_modules instance" -o incubator/translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i incubator/translations/messages.pot -d incubator/translations --ignore-obsolete --no-fuzzy-matching

chromium: ## Debian's Chromium for the browser tests (never a downloaded browser)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
	else echo "!! /usr/bin/chromium is missing and cannot be installed here: browser tests will be skipped"; fi

check: install-dev ## lint, type check, and the check that the models and the migrations agree
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/flask db check

clean:
	rm -rf $(VENV) instance
