"""Execute every notebook with papermill on the test results folders.

The kernel is the ``python3`` kernel spec of the running interpreter's environment (jupyter_client
swaps the spec's ``python`` for ``sys.executable``), started in ``notebooks/`` as when Jupyter is
opened there (``analysis`` is installed in editable mode, so it imports from this checkout).
Every run checks what a reader sees: no error, no warning on stderr, at least one figure, and
tables formatted like the report's (no raw 6-decimal numbers, no separate _lo/_hi columns, no
empty frame).
"""

import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest
import yaml
from jupyter_client.kernelspec import KernelSpecManager

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ONE_STUDY = [p for p in NOTEBOOKS if not p.name.startswith("05_")]
KERNEL = "python3"
# failures and a single-config method; seeds, confirmations and two samples per prompt; the
# layout of older results (the default and one-method studies are covered by the report tests)
FOLDERS = ["results_edge", "results_seeds", "results_old"]


def test_parameterised_notebooks():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "results_dir" in tagged[0].source
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_notebooks_are_built_from_the_builder(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build",
                                                  ROOT / "notebooks" / "build_notebooks.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    monkeypatch.setattr(build, "HERE", tmp_path)
    build.main()
    def cells(p):
        return [(c.cell_type, c.source) for c in nbformat.read(p, as_version=4).cells]

    for path in NOTEBOOKS:  # cell ids are random: compare what the cells say
        assert cells(tmp_path / path.name) == cells(path), path.name


RAW_FLOAT = re.compile(r"\d\.\d{6}")  # what an unformatted float64 column prints


def _run(notebook, parameters, tmp_path):
    if KERNEL not in KernelSpecManager().find_kernel_specs():
        pytest.fail(f"no {KERNEL!r} kernel spec in this environment (pip install ipykernel)")
    out = tmp_path / notebook.name
    pm.execute_notebook(str(notebook), str(out), kernel_name=KERNEL,
                        cwd=str(ROOT / "notebooks"), parameters=parameters, progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o["text"] for o in outputs if o.output_type == "stream" and o["name"] == "stderr"]
    assert not stderr, f"{notebook.name} wrote to stderr (a warning?): {stderr}"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "every notebook draws at least one figure"
    tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert tables and all('class="dataframe po-table"' in t for t in tables), \
        "every table goes through analysis.notebook.show"
    for o in outputs:
        text = o.get("text", "") + "".join(v for k, v in o.get("data", {}).items()
                                           if k.startswith("text/"))
        assert not RAW_FLOAT.search(text), f"raw float in {notebook.name}: {text[:300]}"
        assert "_lo" not in text and "_hi" not in text and "Empty DataFrame" not in text
    return nb


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("notebook", ONE_STUDY, ids=lambda p: p.stem[:2])
def test_notebook_runs(notebook, folder, request, tmp_path):
    """The notebook runs on ``folder`` and shows what a reader needs (the checks in ``_run``)."""
    results_dir = str(request.getfixturevalue(folder))
    nb = _run(notebook, {"results_dir": results_dir, "n_boot": 20}, tmp_path)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and results_dir in injected[0].source  # it read that folder


def _text(nb) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                   for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_default_is_the_quickstart_results():
    """The parameters cell's default is the folder `make quickstart` writes."""
    qs = yaml.safe_load((ROOT / "sweeps" / "quickstart.yaml").read_text())
    default = f"{qs['results_dir']}/{qs['study']}"
    for path in ONE_STUDY:
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert f'results_dir = "{default}"' in cell.source
    make = (ROOT / "Makefile").read_text()
    assert "STUDY ?= sweeps/quickstart.yaml" in make


def test_relative_paths_are_taken_from_the_repository_root(monkeypatch):
    from analysis.notebook import repo_root, results_path

    for cwd in (ROOT, ROOT / "notebooks"):
        monkeypatch.chdir(cwd)
        assert repo_root() == ROOT
        assert results_path("tests/fixtures") == ROOT / "tests" / "fixtures"
    with pytest.raises(FileNotFoundError, match="make quickstart"):
        results_path("results/no_such_study")


@pytest.fixture(scope="module")
def results_curves(fixture_factory, tmp_path_factory):
    """A small study with the TensorBoard logs the harness writes (one run per trial)."""
    import importlib.util

    folder = fixture_factory(tmp_path_factory.mktemp("results") / "curves", seed=6,
                             grid="small", n_failed=1, n_diverged=1)
    spec = importlib.util.spec_from_file_location(
        "tensorboard_fixture", ROOT / "tests" / "fixtures" / "tensorboard_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_tensorboard(folder)
    return folder


def test_training_curves_and_sample_replies(results_curves, tmp_path):
    nb = _run(ONE_STUDY[0], {"results_dir": str(results_curves), "n_boot": 20}, tmp_path)
    cell = next(c for c in nb.cells if "training_curves(" in c.source)
    assert any("image/png" in o.get("data", {}) for o in cell.outputs), "no training curves"
    assert "No TensorBoard logs" not in _text(nb)
    nb = _run(ONE_STUDY[2], {"results_dir": str(results_curves), "n_boot": 20}, tmp_path)
    cell = next(c for c in nb.cells if "sample_replies(" in c.source)
    lines = cell.outputs[0]["data"]["text/plain"].splitlines()
    # header + 3 or 4 prompts (the report's picks) x (SFT + the 3 methods' best)
    assert (len(lines) - 1) % 4 == 0 and (len(lines) - 1) // 4 in (3, 4)


def test_hyperparameter_notebook_on_the_family(results_family, tmp_path):
    nb = _run(ONE_STUDY[3], {"results_dir": str(results_family), "n_boot": 20}, tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "τ-PO τ" in text  # the plug-in's axis, by its registered label


def test_several_studies_notebook(results_default, results_seeds, tmp_path):
    nb = _run(NOTEBOOKS[4], {"results_dirs": [str(results_default), str(results_seeds)],
                             "n_boot": 20}, tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "shared methods: ['dpo', 'ln_dpo', 'simpo']" in text
