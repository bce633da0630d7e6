"""Execute every notebook with papermill on the test results folders.

The kernel is the ``python3`` kernel spec of the running interpreter's environment (jupyter_client
swaps the spec's ``python`` for ``sys.executable``), started in the repository root so that
``analysis`` imports from this checkout.
"""

from pathlib import Path

import nbformat
import papermill as pm
import pytest
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


def _run(notebook, parameters, tmp_path):
    if KERNEL not in KernelSpecManager().find_kernel_specs():
        pytest.fail(f"no {KERNEL!r} kernel spec in this environment (pip install ipykernel)")
    out = tmp_path / notebook.name
    pm.execute_notebook(str(notebook), str(out), kernel_name=KERNEL, cwd=str(ROOT),
                        parameters=parameters, progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "every notebook draws at least one figure"
    return nb


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("notebook", ONE_STUDY, ids=lambda p: p.stem[:2])
def test_notebook_runs(notebook, folder, request, tmp_path):
    _run(notebook, {"results_dir": str(request.getfixturevalue(folder)), "n_boot": 20}, tmp_path)


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
