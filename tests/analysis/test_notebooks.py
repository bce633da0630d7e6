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
KERNEL = "python3"
FOLDERS = ["results_default", "results_edge", "results_one_method"]


def test_four_parameterised_notebooks():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "results_dir" in tagged[0].source
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_notebook_runs(notebook, folder, request, tmp_path):
    if KERNEL not in KernelSpecManager().find_kernel_specs():
        pytest.fail(f"no {KERNEL!r} kernel spec in this environment (pip install ipykernel)")
    results_dir = request.getfixturevalue(folder)
    out = tmp_path / notebook.name
    pm.execute_notebook(str(notebook), str(out), kernel_name=KERNEL, cwd=str(ROOT),
                        parameters={"results_dir": str(results_dir), "n_boot": 20},
                        progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "every notebook draws at least one figure"
