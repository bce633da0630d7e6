"""Remove what killed runs of the harness left behind, at the next start.

Only the harness's own leftovers, by their known name patterns, and only when their writer is
gone (its pid is no longer running on this host; the writer is part of every name, see
:func:`harness.io.owner_tag`), so a file another live sweep is writing is never touched:

- ``.<name>.~<pid>~<host>~<random>.tmp`` files of :func:`harness.io.atomic_path`, under the
  study's results folder and the artifacts folder;
- half-built toy worlds ``<artifacts>/toyworld/.<key>.~<pid>~<host>~<random>/``;
- the local Ray temp folders ``rpo<pid>-<random>/`` of :mod:`harness.sweep` (under
  ``PO_HARNESS_RAY_TMP`` or ``/tmp``).

A name written on another host is left alone: whether its writer runs cannot be told here.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from harness.io import OWNER_RE, host_id

log = logging.getLogger(__name__)

RAY_TMP_PREFIX = "rpo"
RAY_TMP_RE = re.compile(rf"^{RAY_TMP_PREFIX}(?P<pid>\d+)-")


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _writer_gone(name: str) -> bool:
    m = OWNER_RE.search(name)
    return bool(m) and m.group("host") == host_id() and not pid_running(int(m.group("pid")))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def leftovers(results: Path | None, artifacts: Path | None, ray_tmp: Path | None) -> list[Path]:
    """The leftovers (see the module docstring) whose writer is gone."""
    found: list[Path] = []
    for root in (results, artifacts):
        if root is not None and Path(root).is_dir():
            found += [p for p in Path(root).rglob(".*.tmp") if _writer_gone(p.name)]
    if artifacts is not None and (Path(artifacts) / "toyworld").is_dir():
        found += [p for p in (Path(artifacts) / "toyworld").glob(".*")
                  if p.is_dir() and _writer_gone(p.name)]
    if ray_tmp is not None and Path(ray_tmp).is_dir():
        for p in Path(ray_tmp).glob(f"{RAY_TMP_PREFIX}*"):
            m = RAY_TMP_RE.match(p.name)
            if m and p.is_dir() and not pid_running(int(m.group("pid"))):
                found.append(p)
    return found


def remove_leftovers(results: Path | None, artifacts: Path | None,
                     ray_tmp: Path | None) -> list[Path]:
    """Delete :func:`leftovers`; returns what was removed."""
    found = leftovers(results, artifacts, ray_tmp)
    for path in found:
        _remove(path)
    if found:
        log.info("removed %d leftover(s) of killed runs: %s", len(found),
                 ", ".join(str(p) for p in found[:5]))
    return found
