"""One sweep per study at a time: ``results/<study>/sweep.lock``.

The lock file holds its holder's host, pid, process start time and command. It is created
atomically (written under a temporary name, then hard-linked into place, which fails when a
lock exists), so a reader never sees half a lock. A second sweep of the same study finds it and
exits with a message naming the holder (or, with ``--wait``, waits for it to go). A lock whose
holder is gone (same host, and that pid is not running, or runs another process that started
later) is *stale*: it is removed with a warning and taken over. A lock held on another host
cannot be checked from here; the message says which file to delete if that sweep is gone.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

from harness.errors import UserError
from harness.io import owner_tag

log = logging.getLogger(__name__)

LOCK = "sweep.lock"


class LockHeldError(UserError):
    """Another sweep of the same study is running on this results folder."""


def _start_time(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _me() -> dict:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "pid_started": _start_time(os.getpid()),
        "since": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "token": uuid.uuid4().hex,
    }


def holder_alive(info: dict) -> bool | None:
    """Whether the lock's holder still runs: ``None`` when it cannot be told (another host)."""
    if info.get("host") != socket.gethostname():
        return None
    pid = info.get("pid")
    if not isinstance(pid, int):
        return False
    started = _start_time(pid)
    if started is None:
        return False
    recorded = info.get("pid_started")
    # pid reused by a later process: the holder is gone
    return not (isinstance(recorded, (int, float)) and abs(started - recorded) > 1.0)


def _read(path: Path) -> dict | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return info if isinstance(info, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: treated as stale below


def _try_create(path: Path, info: dict) -> bool:
    tmp = path.with_name(f".{path.name}.{owner_tag()}{info['token'][:8]}.tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def _describe(info: dict, path: Path) -> str:
    return (f"{path.parent} is in use by another sweep (pid {info.get('pid')} on host "
            f"{info.get('host')}, since {info.get('since')}: {info.get('command')!r})")


@contextlib.contextmanager
def study_lock(folder: str | Path, wait: bool = False, poll_s: float = 2.0,
               notify=print) -> Iterator[Path]:
    """Hold ``<folder>/sweep.lock`` for the block; raises :class:`LockHeldError` when another
    live sweep holds it (unless ``wait``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    me = _me()
    announced = False
    while not _try_create(path, me):
        info = _read(path)
        if info is None:
            continue  # released meanwhile: try again
        alive = holder_alive(info) if info else False
        if alive is False:
            aside = path.with_name(f".{LOCK}.stale.{owner_tag()}{me['token'][:8]}.tmp")
            with contextlib.suppress(FileNotFoundError):
                path.rename(aside)
                log.warning("removed a stale lock %s (holder pid %s on %s is not running)",
                            path, info.get("pid"), info.get("host"))
                aside.unlink(missing_ok=True)
            continue
        if not wait:
            hint = ("wait for it to finish, or run with --wait" if alive else
                    f"it runs on another host; if that sweep is gone, delete {path}")
            raise LockHeldError(f"{_describe(info, path)}; {hint}")
        if not announced:
            notify(f"waiting: {_describe(info, path)}")
            announced = True
        time.sleep(poll_s)
    try:
        yield path
    finally:
        if (_read(path) or {}).get("token") == me["token"]:
            path.unlink(missing_ok=True)
