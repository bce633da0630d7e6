"""Registry of worlds: plug-ins that build a study's data and SFT policy (the toy world is one).

A world is selected by a top-level section of the study YAML named after it and validated by
the world's own options model (``toyworld: {world: {seed: 0}}``). Then ``policy: {model: NAME}``
means the world's SFT policy, and ``data.train``/``data.eval`` ``{adapter: NAME}`` the world's
data: the world registers that adapter itself (:mod:`harness.data.registry`), and the prepare
stage fills its ``path`` option with the built folder.

``build(options, cache_root)`` returns a :class:`BuiltWorld`: the folder holding the world's
tables (what its adapter reads), the SFT policy folder, and whether both came from the cache.
The core never imports a world's package: worlds register here when their plug-in module is
imported (:func:`harness.entry_points.load_installed_plugins`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pydantic import BaseModel

from harness.registry import Registry


@dataclass(frozen=True)
class BuiltWorld:
    folder: Path  # the world's tables; its data adapter's ``path``
    policy: Path  # the SFT policy (a model folder loadable offline)
    cache_hit: bool


@dataclass(frozen=True)
class World:
    name: str
    options: type[BaseModel]
    build: Callable[[BaseModel, Path], BuiltWorld]
    doc: str = field(default="", compare=False)


WORLDS: Registry[World] = Registry("world")


def register(world: World) -> World:
    return WORLDS.register(world.name, world)


def get_world(name: str) -> World:
    from harness.entry_points import load_installed_plugins

    load_installed_plugins()
    return WORLDS.get(name)


def world_names() -> list[str]:
    """Every registered world (installed plug-ins loaded first)."""
    from harness.entry_points import load_installed_plugins

    load_installed_plugins()
    return sorted(WORLDS.names())
