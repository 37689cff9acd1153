# The two commands a newcomer needs: `make demo` and `make test`. Each target creates or updates
# the virtualenv itself, so a fresh clone needs nothing but Python >= 3.11.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Reinstall whenever the project's dependencies change. The demo needs only what a user
# installs; tests, linters and benchmarks add the test and lint extras.
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.PHONY: demo test lint audit smoke bench serve clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("EchoStats needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

demo: $(RUNTIME)
	$(BIN)/echostats demo

serve: $(RUNTIME)
	$(BIN)/echostats serve

# One worker process per core (pytest-xdist), each with its own embedded database server: most
# tests wait on servers and timers, not on the CPU.
test: $(STAMP)
	$(BIN)/pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Known vulnerabilities in the installed dependencies (needs PyPI over the network).
audit: $(STAMP)
	$(BIN)/python .ci/audit.py

# The wheel installed without extras, as a user and the Dockerfile install it.
smoke:
	PYTHON=$(PYTHON) .ci/wheel_smoke

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
