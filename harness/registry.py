"""``Registry``: the one name -> entry table behind every pluggable part of the harness.

Objectives (:data:`harness.objectives.OBJECTIVES`), their shared axes
(:data:`harness.objectives.SHARED_AXES`), data adapters (:data:`harness.data.registry.ADAPTERS`),
judges (:data:`harness.judges.registry.JUDGES`), generation backends
(:data:`harness.generate.BACKENDS`) and distributed strategies
(:data:`harness.distributed.STRATEGIES`) are each one ``Registry``; the names a study YAML may use
are the registry's names, so a registration (built in, or from a ``plugins:`` module) is all it
takes to make a new name valid.

    >>> fruits = Registry("fruit")
    >>> fruits.register("apple", 1)
    1
    >>> fruits.get("pear")
    Traceback (most recent call last):
    KeyError: "unknown fruit 'pear'; available: apple"

Entries keep registration order (``names()``, iteration). Registering a taken name raises
``ValueError`` unless it is the same entry again (a module imported twice).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind (``kind`` names it in error messages: "unknown judge 'x'")."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name`` and return it (so ``X = REG.register("x", X(...))``)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if name in self._entries and self._entries[name] != entry:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> T:
        """Remove and return the entry named ``name`` (e.g. a plugin being reloaded)."""
        entry = self.get(name)
        del self._entries[name]
        return entry

    def get(self, name: str) -> T:
        """The entry named ``name``; a KeyError listing the available names otherwise."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise KeyError(f"unknown {self.kind} {name!r}; available: {', '.join(self.names())}") from None

    __getitem__ = get

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def items(self):
        return self._entries.items()

    def values(self):
        return self._entries.values()

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._entries
        except TypeError:  # an unhashable YAML value is simply not a name
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
