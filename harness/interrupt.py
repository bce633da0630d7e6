"""Ctrl-C and SIGTERM while Ray Tune runs: stop every trial, record none of them.

Tune's own SIGINT handler is switched off (``TUNE_DISABLE_SIGINT_HANDLER``) so one handler
serves both signals: the first asks Tune, through :class:`StopOnSignal`, to stop every running
and pending trial (they end without a row, so a re-run runs them); a second one raises
:class:`~harness.cli.Interrupted` to abort at once. After ``fit()`` returns, :func:`received`
tells the sweep whether it was interrupted (exit 128 + signal, no ``failed`` rows for the trials
cut short).

A local Ray is started with SIGINT ignored (:func:`sigint_ignored`): its processes inherit
that, so a Ctrl-C in the terminal, which reaches the whole foreground process group, stops the
sweep through the driver instead of killing Ray's own processes under the running trials.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Iterator

from ray.tune import Stopper

from harness.cli import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []  # the driver's signals during the current Tune run


def received() -> int | None:
    """The first signal received during the last :func:`stop_tune_on_signals` block, if any."""
    return _received[0] if _received else None


def _handler(signum, frame) -> None:
    if _received:
        raise Interrupted(signum)
    _received.append(signum)
    print(f"\n{signal.Signals(signum).name}: stopping the running trials (they are not recorded; "
          "a re-run runs them). Again to abort at once.", file=sys.stderr, flush=True)


@contextlib.contextmanager
def stop_tune_on_signals() -> Iterator[None]:
    """Install the handler above for the length of ``Tuner.fit()``."""
    _received.clear()
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while child processes start (they inherit it across exec)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class StopOnSignal(Stopper):
    """Stops the whole experiment once a signal was received (Tune polls ``stop_all``)."""

    def __call__(self, trial_id, result) -> bool:
        return False

    def stop_all(self) -> bool:
        return bool(_received)
