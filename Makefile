# po-harness: two commands do all setup on a fresh clone (see README).
#   make quickstart   build the toy world, run sweeps/quickstart.yaml, write its report
#   make test         run the test suite
# Both create .venv on first use (torch 2.13.0 CPU build first, then the package with its
# `dev` extra) and reuse it afterwards.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STUDY ?= sweeps/quickstart.yaml
PYTEST_ARGS ?=

.PHONY: quickstart test test-all venv report clean-results

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first: a bare torch requirement with nothing installed pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

quickstart: $(STAMP)
	$(PY) -m harness.sweep $(STUDY)
	$(PY) -m analysis.report results/$$($(PY) -c "import yaml,sys; print(yaml.safe_load(open('$(STUDY)'))['study'])")

test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

clean-results:
	rm -rf results
