"""One error path for every command line (``harness.sweep``, ``harness.evaluate``,
``harness.toyworld``, ``analysis.report``).

:func:`run` calls a command's ``main`` and turns what a user can cause into one line on stderr:

- :class:`~harness.errors.UserError` (config, data, Hub, resources, damaged files) and
  ``OSError`` (disk full, read-only or missing folder, name too long, network): ``error: ...``
  naming the key, file or row, exit 2;
- Ctrl-C (``SIGINT``) and ``SIGTERM``: ``interrupted``, exit 130 / 143 (128 + the signal), as a
  shell reports a command it interrupted.

With ``-v``/``--verbose`` the traceback is printed as well. Any other exception is a bug and
propagates with its traceback. Imports nothing heavy: ``analysis`` uses it too, and a command's
``--help`` must answer before torch, Ray or pandas load (each command imports them after
parsing its arguments).

:func:`plain` turns a module docstring into the plain text ``--help`` shows.
"""

from __future__ import annotations

import errno
import re
import signal
import sys
import traceback
from typing import Callable, Sequence

from harness.errors import UserError


class Interrupted(KeyboardInterrupt):
    """Raised by :func:`raise_on_sigterm`'s handler; ``signum`` is the signal received."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj|ref):`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``")
_TILDE_TAIL = re.compile(r"^.*\.")


def plain(doc: str | None) -> str:
    """A reST docstring as plain text for ``--help``: ``:func:`~a.b.c``` -> ``c`` (the full
    dotted name without ``~``), double-backquoted literals lose their backquotes, ``::``
    ending a paragraph becomes ``:`` and ``.. directive`` lines are dropped. argparse prints
    description text as given (with ``RawDescriptionHelpFormatter``), so the markup would show;
    no library turns reST into terminal text, hence these few rules."""
    if not doc:
        return ""

    def role(m: re.Match) -> str:
        name = m.group(1).strip()
        return _TILDE_TAIL.sub("", name) if m.group(0).split("`", 1)[1].startswith("~") else name

    lines = []
    for line in doc.splitlines():
        if line.lstrip().startswith(".. "):
            continue
        if line.strip() == "::":
            continue
        if line.rstrip().endswith("::"):
            line = line.rstrip()[:-1]
        lines.append(_LITERAL.sub(r"\1", _ROLE.sub(role, line)))
    return "\n".join(lines).strip("\n")


def exit_code(signum: int) -> int:
    return 128 + int(signum)


def _raise(signum, frame):
    raise Interrupted(signum)


def raise_on_sigterm() -> None:
    """SIGTERM raises :class:`Interrupted` like Ctrl-C raises KeyboardInterrupt (its default
    action would end the process at once, skipping every ``finally``: locks, temp folders)."""
    signal.signal(signal.SIGTERM, _raise)


def describe_os_error(e: OSError) -> str:
    """``<file>: <what>`` with a hint for the common cases."""
    where = e.filename if e.filename is not None else ""
    what = e.strerror or str(e)
    hint = {
        errno.ENOSPC: "free some space or point results_dir/artifacts_dir elsewhere",
        errno.EDQUOT: "free some space or point results_dir/artifacts_dir elsewhere",
        errno.EROFS: "choose a writable results_dir/artifacts_dir",
        errno.EACCES: "check the folder's permissions or choose another one",
        errno.ENAMETOOLONG: "use a shorter study name or folder",
    }.get(e.errno)
    text = f"{where}: {what}" if where else what
    return text + (f" ({hint})" if hint else "")


def _verbose(argv: Sequence[str]) -> bool:
    return any(a in ("-v", "--verbose") for a in argv)


def run(main: Callable[[list[str]], int], argv: Sequence[str] | None = None) -> int:
    """``main(argv)`` with the error path above; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = _verbose(argv)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        raise_on_sigterm()
    except ValueError:  # not the main thread: signals cannot be handled here
        previous = None
    try:
        return main(argv)
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        if verbose:
            traceback.print_exc()
        print(f"interrupted ({signal.Signals(signum).name}): nothing half-written is kept; "
              "re-run the same command to continue", file=sys.stderr)
        return exit_code(signum)
    except (UserError, OSError) as e:
        if verbose:
            traceback.print_exc()
        message = describe_os_error(e) if isinstance(e, OSError) and not isinstance(e, UserError) \
            else str(e)
        print(f"error: {message}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
