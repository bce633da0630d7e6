"""Shared fixtures: seeded results folders written by tests/fixtures/results_fixture.py.

Built once per session in a temporary folder: the realistic default study, an edge study (failed
and diverged trials plus a method with a single config) and a one-method study.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
N_BOOT = 100  # bootstrap replicates in tests: enough for the properties, fast on 2 cores


def _load_fixture_module():
    path = ROOT / "tests" / "fixtures" / "results_fixture.py"
    spec = importlib.util.spec_from_file_location("results_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


results_fixture = _load_fixture_module()
make_results = results_fixture.make_results


@pytest.fixture(scope="session")
def results_default(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "default", seed=0)


@pytest.fixture(scope="session")
def results_edge(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "edge", seed=1, grid="small",
                        n_failed=3, n_diverged=2, single_config_method="ln_dpo")


@pytest.fixture(scope="session")
def results_one_method(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "one", seed=2, grid="small",
                        methods=("simpo",), n_failed=1)


@pytest.fixture(scope="session")
def study_default(results_default):
    from analysis.load import load_study

    return load_study(results_default)


@pytest.fixture(scope="session")
def cs_default(study_default):
    from analysis.scores import config_scores

    return config_scores(study_default, n_boot=N_BOOT, seed=0)


@pytest.fixture(scope="session")
def study_edge(results_edge):
    from analysis.load import load_study

    return load_study(results_edge)


@pytest.fixture(scope="session")
def cs_edge(study_edge):
    from analysis.scores import config_scores

    return config_scores(study_edge, n_boot=N_BOOT, seed=0)


@pytest.fixture(scope="session")
def fixture_factory():
    """``make_results`` from tests/fixtures/results_fixture.py, for tests that need a variant."""
    return make_results
