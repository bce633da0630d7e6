"""``plugins:``: user modules imported before a study is validated, in every process that needs
their registrations.

A plugin is an ordinary Python module that registers things at import time: a method
(:func:`harness.objectives.register_objective`), a data adapter, a judge. Naming it under a
study's ``plugins:`` makes its names valid in that study exactly like the built-ins::

    plugins: [my_losses]          # my_losses.py next to where you run the sweep, or installed
    methods:
      my_method: {tau: [0.1, 1.0]}

The driver imports the modules before validating the YAML (:func:`import_plugins`); a trial
process (a Ray worker, or each worker of a distributed trial) imports them again before it
looks anything up, from :func:`plugin_sources`: each module's name and the ``sys.path`` folder
it was found in, so a module importable in the driver only (a folder added to ``sys.path`` by a
script or a test) is importable in the workers too.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Iterable, Sequence


class PluginError(ImportError):
    """A plugin module that cannot be imported; ``index`` is its position under ``plugins:``."""

    def __init__(self, index: int, module: str, reason: str):
        super().__init__(f"cannot import plugin module {module!r}: {reason}")
        self.index = index
        self.module = module
        self.reason = reason


def import_plugins(modules: Sequence[str]) -> list[str]:
    """Import every module named in ``modules`` (in order); returns them.

    Raises :class:`PluginError` for the first that fails: not found, or its import raised
    (a syntax error, a registration clashing with an existing name...).
    """
    for i, name in enumerate(modules):
        try:
            importlib.import_module(name)
        except Exception as e:  # any failure of user code at import is the user's config error
            reason = f"{type(e).__name__}: {e}"
            raise PluginError(i, name, reason) from e
    return list(modules)


def plugin_sources(modules: Iterable[str]) -> list[tuple[str, str | None]]:
    """``(module, sys.path folder it came from)`` for each imported plugin module.

    The folder is None for a module without a file (namespace packages).
    """
    out = []
    for name in modules:
        module = sys.modules.get(name) or importlib.import_module(name)
        origin = getattr(module, "__file__", None)
        root = None
        if origin:
            depth = name.count(".") + (1 if Path(origin).name == "__init__.py" else 0)
            root = str(Path(origin).resolve().parents[depth])
        out.append((name, root))
    return out


def load_plugin_sources(sources: Iterable[Sequence]) -> None:
    """Import plugins in a worker from :func:`plugin_sources`' output (folders appended to
    ``sys.path`` when missing, so nothing the worker already imports is shadowed)."""
    for name, root in sources:
        if root and root not in sys.path:
            sys.path.append(root)
        importlib.import_module(name)
