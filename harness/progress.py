"""The sweep's live view: trials done / running / failed / diverged, elapsed time, ETA, and the
best ``mean_score`` so far per method. A Ray Tune callback, run on the driver."""

from __future__ import annotations

import math
import sys
import time

from ray.tune import Callback

from harness.schema import STATUS_DIVERGED, STATUS_FAILED, STATUS_OK


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress(Callback):
    def __init__(self, pending, results, stream=None):
        self.total = len(pending)
        self._stream = stream  # None: sys.stdout at write time (Tune pickles its callbacks)
        self.t0 = time.perf_counter()
        self.running: set[str] = set()
        self.status: dict[str, str] = {}
        self.best: dict[str, tuple[float, str]] = {}

    @property
    def stream(self):
        return self._stream or sys.stdout

    @property
    def tty(self) -> bool:
        return hasattr(self.stream, "isatty") and self.stream.isatty()

    def __getstate__(self):
        return {**self.__dict__, "_stream": None}

    def _tid(self, trial) -> str:
        return trial.config["trial"]["trial_id"]

    def on_trial_start(self, iteration, trials, trial, **info):
        self.running.add(self._tid(trial))
        self._show()

    def on_trial_result(self, iteration, trials, trial, result, **info):
        tid = self._tid(trial)
        status = result.get("status")
        if status in (STATUS_OK, STATUS_FAILED, STATUS_DIVERGED):
            self.status[tid] = status
        score = result.get("mean_score")
        method = trial.config["trial"]["method"]
        if status == STATUS_OK and isinstance(score, float) and math.isfinite(score):
            if method not in self.best or score > self.best[method][0]:
                self.best[method] = (score, tid)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.running.discard(self._tid(trial))
        self.status.setdefault(self._tid(trial), STATUS_OK)
        self._show(event=True)

    def on_trial_error(self, iteration, trials, trial, **info):
        self.running.discard(self._tid(trial))
        self.status[self._tid(trial)] = STATUS_FAILED
        self._show(event=True)

    def line(self) -> str:
        done = len(self.status)
        n = {s: sum(v == s for v in self.status.values())
             for s in (STATUS_OK, STATUS_FAILED, STATUS_DIVERGED)}
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / done * (self.total - done) if done else float("nan")
        best = "  ".join(f"{m} {s:.3f}" for m, (s, _) in sorted(self.best.items()))
        return (f"[{done}/{self.total} done | {len(self.running)} running | {n[STATUS_FAILED]} failed"
                f" | {n[STATUS_DIVERGED]} diverged | {_clock(elapsed)} elapsed | ETA {_clock(eta)}]"
                + (f"  best: {best}" if best else ""))

    def _show(self, event: bool = False):
        if self.tty:
            self.stream.write("\r" + self.line().ljust(120))
        elif event:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
