"""What a study says about its methods: display label and hyperparameter axes, read as data.

The harness records every method's registration in study.json (``methods.<m>``: ``label`` and
``axes``, each axis with ``name``, ``scale`` "log" | "linear", ``label`` and ``derived_from``;
shared axes last). Analysis never names a hyperparameter itself: sensitivity panels, importance,
neighbourhoods, recommended configs and report sentences iterate over these axes.

Results written before study.json had a ``methods`` block fall back to the columns present:
every numeric trials column outside the contract's base columns is a hyperparameter; a column
whose values are fixed by the others (SimPO's absolute gamma next to gamma/beta) is marked
derived (it has the most distinct values among the redundant ones); the scale is "log" when the
column is not of an integer type and its values are positive and span a factor of 3 or more;
the label is the name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LOG_SPAN = 3.0  # fallback: positive float values spanning >= this factor are log-scaled


@dataclass(frozen=True)
class Axis:
    """One hyperparameter axis of a method's grid (as registered, or inferred)."""

    name: str
    scale: str = "linear"
    label: str = ""
    derived_from: tuple[str, ...] = ()

    @property
    def derived(self) -> bool:
        return bool(self.derived_from)

    @property
    def log(self) -> bool:
        return self.scale == "log"

    @property
    def text(self) -> str:
        """The display label (the name when none is registered)."""
        return self.label or self.name


@dataclass(frozen=True)
class MethodInfo:
    """A method's display label and axes in display order (shared axes last)."""

    name: str
    label: str
    axes: tuple[Axis, ...]
    registered: bool  # True when read from study.json, False when inferred from the columns

    def axis(self, name: str) -> Axis:
        for a in self.axes:
            if a.name == name:
                return a
        raise KeyError(f"method {self.name!r} has no axis {name!r} "
                       f"(has {[a.name for a in self.axes]})")

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.axes]

    def varying(self, rows: pd.DataFrame, derived: bool = False) -> list[Axis]:
        """Axes whose values vary over ``rows`` (this method's grid rows), in display order;
        derived axes only when ``derived``."""
        out = []
        for a in self.axes:
            if a.derived and not derived:
                continue
            if a.name in rows and rows[a.name].dropna().nunique() > 1:
                out.append(a)
        return out


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def guess_scale(values) -> str:
    values = pd.Series(values)
    if pd.api.types.is_integer_dtype(values):
        return "linear"
    v = np.asarray(values.dropna().unique(), dtype=float)
    if v.size < 2 or (v <= 0).any():
        return "linear"
    return "log" if v.max() / v.min() >= LOG_SPAN else "linear"


def infer_axes(rows: pd.DataFrame, candidates: list[str]) -> tuple[Axis, ...]:
    """Axes of one method's rows from the ``candidates`` columns (old results): every candidate
    with a value; redundant varying columns (fixed by the others) are derived from the rest."""
    present = [c for c in candidates if c in rows and _is_numeric(rows[c])
               and rows[c].notna().any()]
    varying = [c for c in present if rows[c].dropna().nunique() > 1]
    keyed = rows[varying].round(12).fillna(-1e300)
    n_configs = len(keyed.drop_duplicates()) if varying else 1
    derived: dict[str, tuple[str, ...]] = {}
    # drop the column with the most distinct values first while the configs stay distinct
    for c in sorted(varying, key=lambda c: (-rows[c].nunique(), varying.index(c))):
        rest = [x for x in varying if x != c and x not in derived]
        if rest and len(keyed[rest].drop_duplicates()) == n_configs:
            derived[c] = tuple(rest)
    return tuple(Axis(name=c, scale=guess_scale(rows[c]), label="",
                      derived_from=derived.get(c, ())) for c in present)


def _axis_from_json(entry: dict) -> Axis:
    return Axis(name=str(entry["name"]), scale=str(entry.get("scale") or "linear"),
                label=str(entry.get("label") or ""),
                derived_from=tuple(entry.get("derived_from") or ()))


def method_infos(meta: dict, trials: pd.DataFrame, candidates: list[str],
                 methods: list[str]) -> dict[str, MethodInfo]:
    """``MethodInfo`` of every method in ``methods`` (in that order): from study.json's
    ``methods`` block when it describes the method, else inferred from its rows' ``candidates``
    columns."""
    registered = meta.get("methods") if isinstance(meta.get("methods"), dict) else {}
    out = {}
    for m in methods:
        entry = registered.get(m)
        if isinstance(entry, dict) and isinstance(entry.get("axes"), list):
            axes = tuple(_axis_from_json(a) for a in entry["axes"])
            out[m] = MethodInfo(m, str(entry.get("label") or m), axes, True)
        else:
            rows = trials[trials["method"] == m]
            label = str(entry.get("label")) if isinstance(entry, dict) and entry.get("label") \
                else m
            out[m] = MethodInfo(m, label, infer_axes(rows, candidates), False)
    return out
