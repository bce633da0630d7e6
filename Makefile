# po-harness: two commands do all setup on a fresh clone (see README).
#   make quickstart   build the toy world, run sweeps/quickstart.yaml, write its report
#   make report       (re)write the report of sweeps/quickstart.yaml's results
#   make test         run the test suite
#   make notebooks    install Jupyter (the `notebooks` extra) and open notebooks/ in JupyterLab
# STUDY=sweeps/<study>.yaml picks another study for quickstart and report; REPORT_ARGS passes
# options to python -m analysis.report (e.g. REPORT_ARGS="--budget 5").
# They create .venv on first use (torch 2.13.0 CPU build first, then the package with its
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
REPORT_ARGS ?=
PYTEST_ARGS ?=
TORCH ?= cpu
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
EXTRAS ?= dev
CUDA_CHECK = $(PY) -c "import sys, torch; sys.exit(0 if torch.version.cuda else 'TORCH=cuda: pip installed a CPU build of torch ' + torch.__version__ + '; give TORCH_INDEX=<a CUDA wheel index>')"

.PHONY: quickstart test test-all venv report clean-results notebooks

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first: a bare torch requirement with nothing installed pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(if $(filter cuda,$(TORCH)),$(CUDA_CHECK))
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

venv: $(STAMP)

# The results folder of $(STUDY): its results_dir/study, as the sweep resolves them.
RESULTS_OF_STUDY = $$($(PY) -c "from harness.cli import run; from harness.config import load_study; import sys; sys.exit(run(lambda a: print(load_study(a[0]).results_path), ['$(STUDY)']))")

quickstart: $(STAMP)
	$(PY) -m harness.sweep $(STUDY)
	$(PY) -m analysis.report $(RESULTS_OF_STUDY) $(REPORT_ARGS)

report: $(STAMP)
	@results=$(RESULTS_OF_STUDY) && \
	if [ ! -d "$$results" ]; then \
		echo "error: no results of $(STUDY) at $$results: run make quickstart or python -m harness.sweep $(STUDY) first" >&2; exit 2; \
	fi && \
	echo "$(PY) -m analysis.report $$results $(REPORT_ARGS)" && \
	$(PY) -m analysis.report "$$results" $(REPORT_ARGS)

test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# JupyterLab rooted at the repository, opened on notebooks/ (their default results_dir is the
# quickstart's: run `make quickstart` first). JUPYTER_ARGS: e.g. --no-browser --port 8890.
JUPYTER_ARGS ?=
$(VENV)/.notebooks: $(STAMP)
	$(PY) -m pip install --quiet -e '.[$(EXTRAS),notebooks]'
	touch $@

notebooks: $(VENV)/.notebooks
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks $(JUPYTER_ARGS)

clean-results:
	rm -rf results
