# po-harness: two commands do all setup on a fresh clone (see README).
#   make quickstart   build the toy world, run sweeps/quickstart.yaml, write its report
#   make test         run the test suite
# Both create .venv on first use (torch 2.13.0 CPU build first, then the package with its
# `dev` extra) and reuse it afterwards.
#
# GPU machines (README, "Installing for GPUs"):
#   make venv TORCH=cuda                       torch's CUDA build, then the package + `dev`
#   make venv TORCH=cuda EXTRAS=dev,gpu        + deepspeed, liger-kernel
#   make venv TORCH=cuda TORCH_INDEX=URL       torch from a CUDA wheel index of your choice
# TORCH=cuda checks that the installed torch was built with CUDA and stops if not. An existing
# .venv is reused as it is: remove .venv (or .venv/.installed) to rebuild it another way.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STUDY ?= sweeps/quickstart.yaml
PYTEST_ARGS ?=
TORCH ?= cpu
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
EXTRAS ?= dev
CUDA_CHECK = $(PY) -c "import sys, torch; sys.exit(0 if torch.version.cuda else 'TORCH=cuda: pip installed a CPU build of torch ' + torch.__version__ + '; give TORCH_INDEX=<a CUDA wheel index>')"

.PHONY: quickstart test test-all venv report clean-results

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first: a bare torch requirement with nothing installed pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(if $(filter cuda,$(TORCH)),$(CUDA_CHECK))
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
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
