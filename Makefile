# Two commands do all setup on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HYPOTHESIS_PROFILE ?= ci

.PHONY: install serve test fuzz lint format bench clean

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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache

# The container image, built and run on a real Docker engine (installed and started if need be).
.PHONY: container-test
container-test: install
	$(PY) -m pytest tests/service -m container --durations=0 $(PYTEST_ARGS)
