"""Number formats shared by the report, the notebooks and the tests (one way to print a value)."""

from __future__ import annotations

import math

SCORE_DIGITS = 3


def num(x, digits: int = SCORE_DIGITS) -> str:
    """A score-like number: fixed decimals, '-' for NaN/None."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{float(x):.{digits}f}"


def pct(x, digits: int = 0) -> str:
    """A share in [0, 1] as a percentage."""
    if x is None or math.isnan(float(x)):
        return "-"
    return f"{100.0 * float(x):.{digits}f}%"


def rate(x, digits: int = 1) -> str:
    """A rate already in percent (win rates)."""
    return num(x, digits)


def ci(est, lo, hi, digits: int = SCORE_DIGITS, kind=num) -> str:
    """'est [lo, hi]'."""
    return f"{kind(est, digits)} [{kind(lo, digits)}, {kind(hi, digits)}]"


def signed_pct(x, digits: int = 1) -> str:
    """A relative change in percent with its sign."""
    if x is None or math.isnan(float(x)):
        return "-"
    return f"{float(x):+.{digits}f}%"


def signed_pp(x, digits: int = 1) -> str:
    """A change of a rate in percentage points with its sign: '-7.4 pp'."""
    if x is None or math.isnan(float(x)):
        return "-"
    return f"{float(x):+.{digits}f} pp"


def trials(n) -> str:
    """A trial count where NaN means 'not within the grid'."""
    if n is None or math.isnan(float(n)):
        return "never"
    return str(int(n))


def pct_ci(est, lo, hi, digits: int = 1) -> str:
    """'12.5% [8.3%, 16.7%]' for shares in [0, 1]."""
    return f"{pct(est, digits)} [{pct(lo, digits)}, {pct(hi, digits)}]"


def trials_ci(n, lo, hi) -> str:
    """'3 [2, 4]' for trial counts (NaN: never)."""
    return f"{trials(n)} [{trials(lo)}, {trials(hi)}]"


def hours(x, unit: str = "h") -> str:
    """A compute cost or budget: '0.0123 h', '2.5 GPU-h', '240 h' (3 significant digits, no
    exponent)."""
    if x is None or math.isnan(float(x)):
        return "-"
    x = float(x)
    text = f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"
    return f"{text} {unit}"
