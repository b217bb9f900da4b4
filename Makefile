# workshop-sim: `make demo` on a fresh machine, then `make test`.
VENV      := .venv
VPY       := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
SCENARIO  ?= scenarios/default.toml
DEMO_OUT  ?= results/demo

.PHONY: help venv demo test test-all lint bench bench-memory bench-sweep bench-crn bench-optimise bench-cli bench-run bench-national clean

help:
	@echo "make demo   - create .venv, install, run the default scenario, write plots to $(DEMO_OUT)/"
	@echo "make test   - run the test suite (lint, types, tests)"
	@echo "make bench  - run the speed benchmarks (prints ns per household-month)"
	@echo "make bench-memory - memory of a 30-year and a 10^6-household run (RSS at month 12 vs 120)"
	@echo "make bench-sweep - 2-worker speed-up of a 128-run sweep, results checked identical"
	@echo "make bench-crn - variance reduction of paired arms by common random numbers"
	@echo "make bench-optimise - model evaluations per minute of wsim optimise on 1 and 2 workers"
	@echo "make bench-cli - start-up of wsim --help and validate beyond python -c pass; wsim run end to end"
	@echo "make bench-run - wsim run at 10^6 households x 60 months: each stage's time and memory"
	@echo "make bench-national - wsim run at 10^7 households x 60 months: time and peak memory"
	@echo "make dashboard - serve the interactive dashboard on http://127.0.0.1:$(DASHBOARD_PORT)/"
	@echo "make clean  - remove .venv and results/"

$(STAMP): pyproject.toml tools/find_python.sh
	@py=$$(PYTHON="$(PYTHON)" tools/find_python.sh) || exit 1; \
	echo "using $$py ($$($$py --version))"; \
	[ -x $(VPY) ] || $$py -m venv $(VENV); \
	$(VPY) -m pip install --quiet --upgrade pip && \
	$(VPY) -m pip install --quiet -e '.[all,dev]' && touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/wsim run $(SCENARIO) --out $(DEMO_OUT)
	$(VENV)/bin/wsim report $(DEMO_OUT)
	@echo "demo outputs written to $(abspath $(DEMO_OUT))/"
	@echo "demo report (one HTML file, opens offline): $(abspath $(DEMO_OUT))/report.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check model experiments tests benchmarks app.py
	$(VENV)/bin/ruff format --check model experiments tests benchmarks app.py
	$(VENV)/bin/mypy model experiments benchmarks app.py

test: lint browser
	$(VPY) -m pytest -q -m "not slow"

test-all: lint browser
	HYPOTHESIS_PROFILE=random $(VPY) -m pytest -q

bench: $(STAMP)
	$(VPY) benchmarks/bench_step.py

# Exits 1 if resident memory grows from month 12 to month 120 beyond its tolerance.
bench-memory: $(STAMP)
	$(VPY) benchmarks/bench_memory.py

bench-sweep: $(STAMP)
	$(VPY) benchmarks/bench_sweep.py

bench-crn: $(STAMP)
	$(VPY) benchmarks/bench_crn.py

bench-optimise: $(STAMP)
	$(VPY) benchmarks/bench_optimise.py

bench-cli: $(STAMP)
	$(VPY) benchmarks/bench_cli.py

bench-run: $(STAMP)
	$(VPY) benchmarks/bench_run.py

# Writes its tables to results/bench/national/; a pilot run first checks the memory.
bench-national: $(STAMP)
	$(VPY) benchmarks/bench_national.py

clean:
	rm -rf $(VENV) results/*

.PHONY: browser dashboard
DASHBOARD_PORT ?= 8765

# Debian's Chromium for the dashboard's browser test; without it that test is skipped
# and says why.
browser:
	@[ -x /usr/bin/chromium ] || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing Debian's chromium for the dashboard browser test"; \
	  { $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium; } || \
	  echo "could not install chromium with apt-get: the dashboard browser test will be skipped"; }

# The dashboard at http://127.0.0.1:$(DASHBOARD_PORT)/ (Ctrl-C stops it).
dashboard: $(STAMP)
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=false $(VENV)/bin/solara run app.py \
	  --host 127.0.0.1 --port $(DASHBOARD_PORT) --production
