# Two commands do all setup on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HYPOTHESIS_PROFILE ?= ci

.PHONY: install install-run serve test fuzz lint format bench bench-anchors soak clean docs docs-serve docs-screenshots screenshots

# `make serve` installs what serving needs and nothing more; `make test` adds the test and dev tools.
install-run: $(VENV)/.installed-run
install: $(VENV)/.installed

$(VENV)/.venv-made:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	touch $@

$(VENV)/.installed-run: pyproject.toml $(VENV)/.venv-made
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.venv-made
	$(PY) -m pip install -q -e '.[test,dev,docs]'
	touch $@ $(VENV)/.installed-run

serve: install-run
	$(VENV)/bin/mockserver serve $(ARGS)

test: install
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(PY) -m pytest $(PYTEST_ARGS)

fuzz: install
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest tests/properties --hypothesis-show-statistics $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check mockserver tests benchmarks
	$(VENV)/bin/ruff format --check mockserver tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest -q tests/architecture

format: install
	$(VENV)/bin/ruff format mockserver tests benchmarks
	$(VENV)/bin/ruff check --fix mockserver tests benchmarks

bench: install
	$(PY) -m benchmarks

# A fake left running: SOAK_ARGS, e.g. --minutes 2 (default 10 per mode, in memory and with --state).
# Writes benchmarks/soak.md and benchmarks/soak.png; not part of `make test`.
soak: $(VENV)/.bench-installed
	$(PY) -m benchmarks.soak $(SOAK_ARGS)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

# WireMock and Prism beside the bare handler and the fake, plus uvloop rows (not part of `make bench`).
# Installs uvloop here, and Java, Node and wrk from Debian's packages and the npm packages under
# benchmarks/out/ when missing. BENCH_ARGS: e.g. --quick, --no-write, --only prism.
bench-anchors: $(VENV)/.speed-installed
	$(PY) -m benchmarks.anchors $(BENCH_ARGS)

$(VENV)/.speed-installed: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[speed]'
	touch $@

# The documentation site: docs/ and mkdocs.yml into site/ (make test builds it too, strictly).
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve $(ARGS)

# The built site at 1280 px in headless Chromium: one full-length PNG a page in site-screenshots/ to
# look at, and the layout checks of tests/docs/test_layout.py (no identifier broken, nothing scrolling sideways).
docs-screenshots: install
	MOCKSERVER_DOCS_SHOTS=$(CURDIR)/site-screenshots $(PY) -m pytest -q -p no:cacheprovider tests/docs/test_layout.py

# docs/img/calls-page.png: a real fake, real calls, the /_calls page in headless Chromium.
screenshots: install
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache

# The container image, built and run on a real Docker engine (installed and started if need be).
.PHONY: container-test
container-test: install
	$(PY) -m pytest tests/service -m container --durations=0 $(PYTEST_ARGS)
