# WedSync Ops. `make run` = the demo on the embedded default; `make test` = the whole suite.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint bench bench-quick fullstack rolling-restart venv clean

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	PORT=$(PORT) scripts/run_demo.sh

test: venv
	scripts/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: venv
	$(PY) bench/run_all.py

bench-quick: venv
	$(PY) bench/run_all.py --quick

# The Procfile's release step, then the rest (honcho stops every process once one exits).
fullstack: venv
	scripts/ensure_haproxy.sh >/dev/null
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start release
	PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start proxy web worker beat

# Restart the running full stack's gunicorn and Daphne processes one at a time.
rolling-restart: venv
	scripts/rolling_restart

clean:
	rm -rf var/wedsync.sqlite3* staticfiles .pytest_cache
