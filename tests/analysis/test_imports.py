import pkgutil
import subprocess
import sys
from pathlib import Path

import analysis

HEAVY = ("torch", "transformers", "ray")


def test_analysis_never_imports_torch_transformers_or_ray():
    names = sorted(m.name for m in pkgutil.walk_packages(analysis.__path__, "analysis.")
                   if not m.name.endswith("__main__"))
    assert "analysis.report" in names and "analysis.figures" in names
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "import analysis.report.__main__\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    root = Path(analysis.__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
