"""The sweep's live view, a Ray Tune callback run on the driver.

- A status line, redrawn every ``interval`` seconds by a timer (rich's ``Live``), not only when
  a trial event arrives: trials done / running / failed / diverged, elapsed time, ETA and the
  best ``mean_score`` so far per method. It is cut to the terminal's width (never wraps).
- One printed line per finished trial: its method, axis values and seed, status, ``mean_score``
  (or the error's first line) and how long it took.

The ETA (:func:`eta_seconds`) starts from the dry run's cost estimate per method
(:func:`harness.cost.trial_seconds`) before any trial has ended, shown as ``ETA est. mm:ss``;
once trials end, the estimates are rescaled by measured / estimated time of the finished ones.
Without an estimate (a real model whose size is unknown offline) the first ETA comes with the
first finished trial.

On a terminal the line redraws in place; elsewhere (a log file, CI) only the per-trial lines and
the final status line are written.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping

from ray.tune import Callback
from rich.console import Console
from rich.live import Live
from rich.text import Text

from harness.schema import STATUS_DIVERGED, STATUS_FAILED, STATUS_OK


def clock(seconds: float) -> str:
    """``mm:ss`` or ``h:mm:ss``; ``--:--`` when not finite."""
    if not math.isfinite(seconds):
        return "--:--"
    m, s = divmod(int(round(max(seconds, 0.0))), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def eta_seconds(methods: Mapping[str, str], estimate: Mapping[str, float],
                took: Mapping[str, float], running_for: Mapping[str, float],
                concurrency: int) -> float:
    """Seconds until every trial has ended.

    ``methods``: trial id -> method of every trial of the run; ``estimate``: method -> estimated
    seconds per trial (may lack methods or be empty); ``took``: finished trial id -> measured
    seconds; ``running_for``: running trial id -> seconds since it started.

    Expected time of an unfinished trial: its method's estimate x a scale, else the mean
    measured time of its method's finished trials, else of all finished trials; a running
    trial's time so far is subtracted (not below 0). The scale is sum of measured / sum of
    estimated seconds of the finished trials that have an estimate (1 before any), raised to
    the largest running time / estimate of a running trial when one already ran longer than
    its estimate (the machine is slower than estimated). ETA = max(remaining work /
    concurrency, the longest single remaining trial). NaN when some trial's time cannot be
    guessed yet.
    """
    est_done = [(took[t], estimate[methods[t]]) for t in took if methods.get(t) in estimate]
    scale = (sum(m for m, _ in est_done) / sum(e for _, e in est_done)
             if est_done and sum(e for _, e in est_done) > 0 else 1.0)
    overrun = [r / estimate[methods[t]] for t, r in running_for.items()
               if t not in took and methods.get(t) in estimate]
    scale = max([scale, *overrun])
    by_method: dict[str, list[float]] = {}
    for t, s in took.items():
        by_method.setdefault(methods.get(t, ""), []).append(s)
    overall = [s for v in by_method.values() for s in v]
    left = []
    for t, method in methods.items():
        if t in took:
            continue
        if method in estimate:
            expected = estimate[method] * scale
        elif by_method.get(method):
            expected = sum(by_method[method]) / len(by_method[method])
        elif overall:
            expected = sum(overall) / len(overall)
        else:
            return float("nan")
        left.append(max(expected - running_for.get(t, 0.0), 0.0))
    if not left:
        return 0.0
    return max(sum(left) / max(int(concurrency), 1), max(left))


def describe_trial(spec: Mapping) -> str:
    """``<method> <axis>=<value> ... seed=<seed>`` from a TrialSpec's ``to_dict()``, axes in
    its order (e.g. ``dpo learning_rate=0.0003 epochs=1 seed=0`` and the method's own axes);
    a confirmation run ends with ``(confirm)``. The generation seed is a study-wide setting
    (fixed, or the training seed), so it is not repeated on every line."""
    from harness.grid import SPEC_KEYS
    from harness.schema import ROLE_CONFIRM

    parts = [spec["method"]] + [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                for k, v in spec.items() if k not in SPEC_KEYS and v is not None]
    parts.append(f"seed={spec.get('seed', 0)}")
    if spec.get("role") == ROLE_CONFIRM:
        parts.append("(confirm)")
    return " ".join(parts)


class Progress(Callback):
    """``pending``: the run's TrialSpecs; ``estimate``: method -> estimated seconds per trial;
    ``concurrency``: trials at once; ``console``: a rich Console (default: stdout);
    ``interval``: seconds between redraws of the status line."""

    def __init__(self, pending, estimate: Mapping[str, float] | None = None,
                 concurrency: int = 1, console: Console | None = None, interval: float = 1.0):
        self.specs = {s.trial_id: s.to_dict() for s in pending}
        self.methods = {t: s["method"] for t, s in self.specs.items()}
        self.total = len(self.specs)
        self.estimate = {m: float(v) for m, v in (estimate or {}).items()
                         if v is not None and math.isfinite(v) and v > 0}
        self.concurrency = concurrency
        self.interval = interval
        self.t0 = time.monotonic()
        self.started: dict[str, float] = {}
        self.took: dict[str, float] = {}
        self.status: dict[str, str] = {}
        self.last: dict[str, dict] = {}
        self.best: dict[str, float] = {}
        self._console = console
        self._live = None
        self._lock = threading.Lock()

    # Tune may pickle its callbacks (experiment state): the console, timer and lock stay here.
    def __getstate__(self):
        return {**self.__dict__, "_console": None, "_live": None, "_lock": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = Console(highlight=False)
        return self._console

    def start(self) -> None:
        """Start the timer that redraws the status line (on a terminal)."""
        self.t0 = time.monotonic()
        self._live = Live(get_renderable=self._render, console=self.console,
                          refresh_per_second=1.0 / self.interval, transient=False)
        self._live.start()

    def close(self) -> None:
        """Stop the timer; the last status line stays on screen (or is written once)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
            if not self.console.is_terminal:  # Live writes its last frame without a newline
                self.console.line()

    # -- Tune's events (the driver's thread; the timer reads the same state under the lock)

    def _tid(self, trial) -> str:
        return trial.config["trial"]["trial_id"]

    def on_trial_start(self, iteration, trials, trial, **info):
        with self._lock:
            self.started[self._tid(trial)] = time.monotonic()

    def on_trial_result(self, iteration, trials, trial, result, **info):
        tid = self._tid(trial)
        with self._lock:
            self.last[tid] = dict(result)
            status = result.get("status")
            if status in (STATUS_OK, STATUS_FAILED, STATUS_DIVERGED):
                self.status[tid] = status
            score = result.get("mean_score")
            method = self.methods.get(tid, trial.config["trial"]["method"])
            if status == STATUS_OK and isinstance(score, (int, float)) and math.isfinite(score):
                self.best[method] = max(score, self.best.get(method, -math.inf))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._finished(self._tid(trial), None)

    def on_trial_error(self, iteration, trials, trial, **info):
        error = getattr(trial, "error_msg", None) or "the trial's process failed"
        self._finished(self._tid(trial), STATUS_FAILED, error)

    def _finished(self, tid: str, status: str | None, error: str | None = None):
        now = time.monotonic()
        with self._lock:
            if status is not None:
                self.status[tid] = status
            self.status.setdefault(tid, STATUS_OK)
            self.took[tid] = now - self.started.pop(tid, now)
            # finished trials are those in ``took``: ``status`` also holds the final result a
            # trial reported before Tune calls its completion (two trials ending together)
            done = len(self.took)
            text = self.trial_line(tid, done, error)
        self.console.print(Text(text), soft_wrap=True)
        if self._live is not None:
            self._live.refresh()  # the counts change now, not at the next tick

    # -- what is shown

    def trial_line(self, tid: str, done: int, error: str | None = None) -> str:
        """``[3/12] <trial>: ok, mean_score 0.412 (41 s)`` (:func:`describe_trial`), or the
        status and the error's first line."""
        spec = self.specs.get(tid, {"method": self.methods.get(tid, "?"), "trial_id": tid})
        status = self.status[tid]
        result = self.last.get(tid, {})
        score = result.get("mean_score")
        if status == STATUS_OK and isinstance(score, (int, float)):
            what = f"ok, mean_score {score:.3f}"
        else:
            why = error or result.get("error") or ""
            why = str(why).strip().splitlines()[0][:160] if str(why).strip() else ""
            what = status + (f": {why}" if why else "")
        return f"[{done}/{self.total}] {describe_trial(spec)}: {what} ({self.took[tid]:.0f} s)"

    def eta(self, now: float | None = None) -> tuple[float, bool]:
        """(ETA seconds, whether it rests on the cost estimate alone: no trial has ended)."""
        now = time.monotonic() if now is None else now
        running = {t: now - s for t, s in self.started.items()}
        value = eta_seconds(self.methods, self.estimate, self.took, running, self.concurrency)
        return value, not self.took

    def line(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        ended = [self.status.get(t) for t in self.took]
        n = {s: ended.count(s) for s in (STATUS_FAILED, STATUS_DIVERGED)}
        eta, estimated = self.eta(now)
        best = " ".join(f"{m} {s:.3f}" for m, s in sorted(self.best.items()))
        return (f"{len(self.took)}/{self.total} done, {len(self.started)} running, "
                f"{n[STATUS_FAILED]} failed, {n[STATUS_DIVERGED]} diverged | "
                f"{clock(now - self.t0)} elapsed, ETA {'est. ' if estimated else ''}{clock(eta)}"
                + (f" | best {best}" if best else ""))

    def _render(self) -> Text:
        with self._lock:
            text = self.line()
        return Text(text, no_wrap=True, overflow="ellipsis")
