"""What the analysis notebooks share: results paths taken from the repository root, and package
tables shown the way the report prints them (``analysis.fmt``).

``results_path("results/quickstart")`` works whether Jupyter was started in the repository root
or in ``notebooks/``: a relative path is taken from the repository root (the first folder, from
the working directory up, that holds ``setup.cfg`` and ``analysis/``; else the folder above this
package). ``show(df)`` formats a package table: an estimate with ``<col>_lo``/``<col>_hi`` (or a
column followed by ``lo``, ``hi``) becomes one cell "est [lo, hi]" with the interval on a second
line, shares become percentages, hyperparameter values keep 3 significant digits, method names
become their labels; the HTML wraps inside the notebook's width instead of running off the right.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

import analysis
from analysis import fmt
from analysis.style import Palette, fmt_value

METHOD_COLUMNS = ("method", "method_a", "method_b", "model_a", "model_b")
SHARE_PREFIXES = ("share", "risk", "p_", "poi")
CSS = ("<style>.po-table td, .po-table th {white-space: normal; text-align: right; "
       "vertical-align: top; padding: 2px 8px} .po-table td:first-child, "
       ".po-table th:first-child {text-align: left} .po-table small {color: #555}</style>")


def repo_root(start: str | Path | None = None) -> Path:
    """The repository root: from ``start`` (default: the working directory) upwards, the first
    folder holding ``setup.cfg`` and ``analysis/``; else the folder above the package."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "setup.cfg").is_file() and (d / "analysis").is_dir():
            return d
    return Path(analysis.__file__).resolve().parents[1]


def results_path(path: str | Path) -> Path:
    """``path`` if absolute, else taken from the repository root; it must exist."""
    p = Path(path).expanduser()
    p = p if p.is_absolute() else repo_root() / p
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: no results folder here; run `make quickstart` (it writes "
                                "results/quickstart) or set results_dir to a study's folder")
    return p


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def value_text(x, digits: int = fmt.SCORE_DIGITS, axis: bool = False,
               whole: bool = False) -> str:
    """One cell: integers (and, with ``whole``, a column of integer-valued floats: counts) as
    integers; a hyperparameter value (``axis``) or a float of 10^4 or more with 3 significant
    digits (``style.fmt_value``: 6e-07); the rest with ``digits`` decimals; NaN as '-'; a list
    of values as '[a, b]'."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return "[" + ", ".join(value_text(v, digits, axis=True) for v in x) + "]"
    if _is_missing(x) or (isinstance(x, (float, np.floating)) and np.isnan(x)):
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if axis or abs(x) >= 1e4:
            return fmt_value(x)
        return fmt.num(x, digits)
    return str(x)


def _is_share(col: str, shares) -> bool:
    return col in shares or col.startswith(SHARE_PREFIXES)


def formatted(df: pd.DataFrame, palette: Palette | None = None, digits: dict | None = None,
              shares=(), axes=(), names: dict | None = None,
              html_intervals: bool = False) -> pd.DataFrame:
    """``df`` as strings (see the module docstring); ``digits``: decimals per column;
    ``shares``: columns in [0, 1] printed as percentages (besides share*/risk*/p_*/poi*);
    ``axes``: hyperparameter columns (3 significant digits); ``names``: column -> header."""
    digits = digits or {}
    if df.columns.duplicated().any():
        raise ValueError(f"duplicate columns: {sorted(set(df.columns[df.columns.duplicated()]))}")
    cols = list(df.columns)
    out = {}
    skip = set()
    for i, c in enumerate(cols):
        if c in skip:
            continue
        stem = c[:-len("_best")] if isinstance(c, str) and c.endswith("_best") else c
        lo, hi = f"{stem}_lo", f"{stem}_hi"
        if lo not in df and i + 2 < len(cols) and cols[i + 1] == "lo" and cols[i + 2] == "hi":
            lo, hi = "lo", "hi"
        d = digits.get(c, fmt.SCORE_DIGITS)
        share = _is_share(c, shares)
        if lo in df and hi in df and pd.api.types.is_numeric_dtype(df[c]):
            skip |= {lo, hi}
            cells = []
            for e, a, b in zip(df[c], df[lo], df[hi]):
                est = fmt.pct(e, 1) if share else fmt.num(e, d)
                if _is_missing(a) and _is_missing(b):
                    cells.append(est)
                    continue
                lo_t, hi_t = ((fmt.pct(a, 1), fmt.pct(b, 1)) if share
                              else (fmt.num(a, d), fmt.num(b, d)))
                cells.append(f"{est}<br><small>[{lo_t}, {hi_t}]</small>" if html_intervals
                             else f"{est} [{lo_t}, {hi_t}]")
            out[c] = cells
        elif c in METHOD_COLUMNS and palette is not None:
            out[c] = [palette.label(m) if isinstance(m, str) else value_text(m) for m in df[c]]
        elif share and pd.api.types.is_float_dtype(df[c]):
            out[c] = [fmt.pct(v, 1) for v in df[c]]
        else:
            values = pd.to_numeric(df[c], errors="coerce") if df[c].dtype.kind == "f" else None
            whole = values is not None and bool(
                (values.dropna() == values.dropna().round()).all() and values.notna().any())
            out[c] = [str(int(v)) if whole and not _is_missing(v) and v == v
                      else value_text(v, d, axis=c in axes) for v in df[c]]
    names = names or {}
    return pd.DataFrame({names.get(k, k.replace("_", " ") if isinstance(k, str)
                                   else value_text(k)): v for k, v in out.items()})


class Table:
    """A formatted table: HTML in Jupyter (wrapping cells, intervals on a second line), plain
    text elsewhere; ``frame`` holds the cells as strings."""

    def __init__(self, df: pd.DataFrame, **kwargs):
        self.frame = formatted(df, **kwargs)
        self._html = formatted(df, html_intervals=True, **kwargs)

    def _repr_html_(self) -> str:
        esc = self._html.map(lambda s: s if "<br><small>" in s else html.escape(s))
        body = esc.to_html(index=False, escape=False, classes="po-table", border=0)
        return f'{CSS}<div style="overflow-x: auto">{body}</div>'

    def __repr__(self) -> str:
        return self.frame.to_string(index=False)


def show(df: pd.DataFrame, context=None, **kwargs) -> Table:
    """``df`` as a ``Table``. ``context``: a ``StudyAnalysis`` (method labels and the study's
    hyperparameter axes) or a ``Palette`` (labels only); other options: ``formatted``'s."""
    if context is not None and hasattr(context, "palette"):
        kwargs.setdefault("axes", tuple(n for i in context.study.infos.values()
                                        for n in i.names))
        context = context.palette
    return Table(df, palette=context, **kwargs)


def sample_replies(a, models: dict, width: int = 300) -> pd.DataFrame:
    """The replies of ``models`` (display name -> trial_id; None: the SFT model) to the eval
    prompts the report shows (``analysis.report.responses.pick_prompts``: the SFT model's
    lowest, median and highest score, and the recommended method's largest gain), each model's
    first sample. ``a``: the study's ``StudyAnalysis``.

    Columns: prompt_id, picked (why), model, score (gold), length (tokens), response (cut to
    ``width`` characters)."""
    from analysis.report.responses import pick_prompts

    study = a.study
    rows = []
    for p, why in pick_prompts(a):
        for name, trial_id in models.items():
            src = study.baseline if trial_id is None else study.responses[
                study.responses["trial_id"] == trial_id]
            hit = src[src["prompt_id"] == p]
            if "sample_index" in hit:
                hit = hit.sort_values("sample_index")
            if hit.empty:
                continue
            r = hit.iloc[0]
            text = str(r["response"])
            rows.append({"prompt_id": p, "picked": why, "model": name, "score": float(r["score"]),
                         "length": int(r["length"]),
                         "response": text if len(text) <= width else text[:width] + " …"})
    return pd.DataFrame(rows, columns=["prompt_id", "picked", "model", "score", "length",
                                       "response"])
