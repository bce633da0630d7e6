"""Which representative roles (``analysis.topk.representatives``) the report shows."""

from __future__ import annotations

from analysis.analyze import StudyAnalysis


def roles_shown(a: StudyAnalysis) -> list[str]:
    """The representative roles the head-to-head shows: "top25" only when some method's
    top-25% config is not its best (small grids make them one config; showing both would
    repeat every number)."""
    r = a.representatives
    same = r.groupby("method")["config_id"].nunique().le(1).all()
    return ["best"] if same else ["best", "top25"]
