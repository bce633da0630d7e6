"""Plug-ins installed as Python packages: the ``po_harness.plugins`` entry-point group.

A plug-in is a module that registers entries in the harness's registries when imported (worlds
:mod:`harness.worlds`, data adapters :mod:`harness.data.registry`, judges
:mod:`harness.judges.registry`, objectives). A package makes its module a plug-in by declaring
it in its packaging metadata, e.g. in ``setup.cfg``::

    [options.entry_points]
    po_harness.plugins =
        toyworld = harness.toyworld.plugin

The toy world is registered this way, so the core never imports it by name.
:func:`load_installed_plugins` imports every declared module once; each registry calls it
before it is read, so a plug-in's entries behave like built-ins. Entry points are the standard
Python mechanism for this (``importlib.metadata``); they need the package installed
(``pip install -e .``, what ``make venv`` does).
"""

from __future__ import annotations

from importlib.metadata import entry_points

GROUP = "po_harness.plugins"

_loaded = False


def load_installed_plugins() -> None:
    """Import every module of the ``po_harness.plugins`` group (once per process)."""
    global _loaded
    if _loaded:
        return
    _loaded = True  # set first: a plug-in importing a registry must not re-enter this loop
    for ep in entry_points(group=GROUP):
        ep.load()
