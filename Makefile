# workshop-sim: `make demo` on a fresh machine, then `make test`.
VENV      := .venv
VPY       := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
SCENARIO  ?= scenarios/default.toml
DEMO_OUT  ?= results/demo

.PHONY: help venv demo test test-all lint bench clean

help:
	@echo "make demo   - create .venv, install, run the default scenario, write plots to $(DEMO_OUT)/"
	@echo "make test   - run the test suite (lint, types, tests)"
	@echo "make bench  - run the speed benchmarks (prints ns per household-month)"
	@echo "make clean  - remove .venv and results/"

$(STAMP): pyproject.toml tools/find_python.sh
	@py=$$(PYTHON="$(PYTHON)" tools/find_python.sh) || exit 1; \
	echo "using $$py ($$($$py --version))"; \
	[ -x $(VPY) ] || $$py -m venv $(VENV); \
	$(VPY) -m pip install --quiet --upgrade pip && \
	$(VPY) -m pip install --quiet -e '.[dev]' && touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/wsim run $(SCENARIO) --out $(DEMO_OUT)
	$(VENV)/bin/wsim report $(DEMO_OUT)
	@echo "demo outputs written to $(abspath $(DEMO_OUT))/"
	@echo "demo report (one HTML file, opens offline): $(abspath $(DEMO_OUT))/report.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check model experiments tests benchmarks
	$(VENV)/bin/mypy model experiments

test: lint
	$(VPY) -m pytest -q -m "not slow"

test-all: lint
	$(VPY) -m pytest -q

bench: $(STAMP)
	$(VPY) benchmarks/bench_step.py

clean:
	rm -rf $(VENV) results/*
