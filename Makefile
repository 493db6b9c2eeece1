# Two commands do all setup on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HYPOTHESIS_PROFILE ?= ci

.PHONY: install serve test fuzz lint format bench bench-anchors clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,dev]'
	touch $@

serve: install
	$(VENV)/bin/mockserver serve $(ARGS)

test: install
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(PY) -m pytest $(PYTEST_ARGS)

fuzz: install
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest tests/test_properties.py tests/test_properties_http.py \
		tests/test_hostile.py tests/test_concurrency.py --hypothesis-show-statistics $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check mockserver tests benchmarks
	$(VENV)/bin/ruff format --check mockserver tests benchmarks
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format mockserver tests benchmarks
	$(VENV)/bin/ruff check --fix mockserver tests benchmarks

bench: install
	$(PY) -m benchmarks

# WireMock and Prism beside the bare handler and the fake, plus uvloop rows (not part of `make bench`).
# Installs uvloop here, and Java, Node and wrk from Debian's packages and the npm packages under
# benchmarks/out/ when missing. BENCH_ARGS: e.g. --quick, --no-write, --only prism.
bench-anchors: $(VENV)/.speed-installed
	$(PY) -m benchmarks.anchors $(BENCH_ARGS)

$(VENV)/.speed-installed: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[speed]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
