"""Shared fixtures: seeded results folders written by tests/fixtures/results_fixture.py.

Built once per session in a temporary folder: the realistic default study (one seed, the v2
layout), an edge study (failed and diverged trials plus a method with a single config), a
one-method study, a replicated study (3 seeds, confirmation runs, failures), the same study in
the layout older results have, and the 11-method family plus a plug-in method with a ``tau``
axis.
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
make_component_results = results_fixture.make_component_results


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
def results_seeds(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "seeds", seed=3, grid="small",
                        seeds=(0, 1, 2), confirm=2, n_failed=2,
                        generation_seed="per_replicate", samples_per_prompt=2, n_prompts=60)


@pytest.fixture(scope="session")
def results_old(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "old", seed=1, grid="small",
                        n_failed=3, n_diverged=2, single_config_method="ln_dpo", layout="old")


@pytest.fixture(scope="session")
def results_family(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("results") / "family", seed=4, family=True,
                        plugin=True, n_prompts=40)


def _load(path):
    from analysis.load import load_study

    return load_study(path)


@pytest.fixture(scope="session")
def study_default(results_default):
    return _load(results_default)


@pytest.fixture(scope="session")
def cs_default(study_default):
    from analysis.scores import config_scores

    return config_scores(study_default, n_boot=N_BOOT, seed=0)


@pytest.fixture(scope="session")
def study_edge(results_edge):
    return _load(results_edge)


@pytest.fixture(scope="session")
def cs_edge(study_edge):
    from analysis.scores import config_scores

    return config_scores(study_edge, n_boot=N_BOOT, seed=0)


@pytest.fixture(scope="session")
def study_seeds(results_seeds):
    return _load(results_seeds)


@pytest.fixture(scope="session")
def cs_seeds(study_seeds):
    from analysis.scores import config_scores

    return config_scores(study_seeds, n_boot=N_BOOT, seed=0)


@pytest.fixture(scope="session")
def study_family(results_family):
    return _load(results_family)


@pytest.fixture(scope="session")
def fixture_factory():
    """``make_results`` from tests/fixtures/results_fixture.py, for tests that need a variant."""
    return make_results


@pytest.fixture(scope="session")
def rf():
    """The fixture generator module (its column lists and method registrations)."""
    return results_fixture


@pytest.fixture(scope="session")
def component_factory():
    """``make_component_results``: a study with exactly known variance components."""
    return make_component_results
