"""The sweep's live view (harness.progress), driven through Tune's callback events with a
short redraw interval, its output read from a rich Console writing to a buffer (a terminal of
80 columns, or a plain file). The end-to-end sweep test (test_sweep.py) checks the same lines
in a real run."""

from __future__ import annotations

import io
import math
import re
import time

import pytest
from rich.console import Console

from harness.grid import TrialSpec
from harness.progress import Progress, clock, describe_trial, eta_seconds

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeTrial:
    """What the callback reads of a Tune trial: its config (and error_msg on errors)."""

    def __init__(self, spec: TrialSpec, error_msg: str | None = None):
        self.config = {"trial": spec.to_dict()}
        self.error_msg = error_msg


def _specs():
    return [TrialSpec(f"dpo-{i:012d}", f"dpo-c{i}", "dpo",
                      {"beta": 0.05 * (i + 1), "learning_rate": 3e-4, "epochs": 1}, 0)
            for i in range(3)] + [
        TrialSpec("simpo-000000000009", "simpo-c9", "simpo",
                  {"beta": 2.0, "gamma_beta_ratio": 0.5, "gamma": 1.0, "learning_rate": 3e-4,
                   "epochs": 1}, 1)]


def _terminal(width=80):
    buf = io.StringIO()
    return buf, Console(file=buf, force_terminal=True, width=width, color_system=None)


def _frames(text: str) -> list[str]:
    """Every line and every in-place redraw, control codes removed."""
    return [f for f in re.split(r"[\r\n]", ANSI.sub("", text)) if f.strip()]


def test_the_status_line_ticks_on_a_timer_without_trial_events():
    buf, console = _terminal()
    specs = _specs()
    p = Progress(specs, {"dpo": 10.0, "simpo": 5.0}, concurrency=2, console=console, interval=0.1)
    p.start()
    p.on_trial_start(0, [], FakeTrial(specs[0]))
    time.sleep(1.3)  # no event in between: only the timer redraws
    p.close()
    frames = [f for f in _frames(buf.getvalue()) if "elapsed" in f]
    assert len(frames) >= 5, frames
    assert any("00:00 elapsed" in f for f in frames) and any("00:01 elapsed" in f for f in frames)
    assert all("1 running" in f for f in frames)


def test_eta_comes_from_the_cost_estimate_before_any_trial_ends():
    specs = _specs()
    p = Progress(specs, {"dpo": 10.0, "simpo": 6.0}, concurrency=2, console=_terminal()[1])
    # 3 dpo trials x 10 s + 1 simpo x 6 s on 2 slots: 18 s, nothing measured yet
    assert "ETA est. 00:18" in p.line(now=p.t0)
    p.on_trial_start(0, [], FakeTrial(specs[0]))
    p.started[specs[0].trial_id] = p.t0  # started at t0; 4 s later 6 s of it are left
    assert "ETA est. 00:16" in p.line(now=p.t0 + 4)


def test_eta_is_rescaled_by_measured_trial_times():
    methods = {"a": "dpo", "b": "dpo", "c": "simpo", "d": "simpo"}
    estimate = {"dpo": 10.0, "simpo": 5.0}
    # nothing finished: the estimates as they are, 30 s of work on 1 slot
    assert eta_seconds(methods, estimate, {}, {}, 1) == pytest.approx(30.0)
    # trial a took 20 s where 10 were estimated: every estimate doubles -> 20 + 10 + 10
    assert eta_seconds(methods, estimate, {"a": 20.0}, {}, 1) == pytest.approx(40.0)
    # running trials count what is left of them; 2 slots halve the work, the longest trial bounds it
    assert eta_seconds(methods, estimate, {"a": 20.0}, {"b": 5.0}, 2) == pytest.approx(17.5)
    assert eta_seconds(methods, estimate, {"a": 20.0, "c": 10.0, "d": 10.0}, {}, 4) == pytest.approx(20.0)
    # a running trial already past its estimate (20 s of 10) rescales every estimate by 2
    assert eta_seconds(methods, estimate, {}, {"a": 20.0}, 1) == pytest.approx(0 + 20 + 10 + 10)
    # no estimate: unknown until a trial ends, then each method's mean measured time (else all)
    assert math.isnan(eta_seconds(methods, {}, {}, {}, 1))
    assert eta_seconds(methods, {}, {"a": 8.0}, {}, 1) == pytest.approx(8.0 * 3)
    assert eta_seconds(methods, estimate, dict.fromkeys(methods, 1.0), {}, 1) == 0.0
    assert clock(float("nan")) == "--:--" and clock(3725) == "1:02:05" and clock(65) == "01:05"


def test_every_frame_fits_80_columns_and_finished_trials_get_their_own_line():
    buf, console = _terminal(80)
    specs = _specs()
    p = Progress(specs, {"dpo": 10.0, "simpo": 5.0}, concurrency=2, console=console, interval=0.05)
    p.start()
    for s in specs[:2]:
        p.on_trial_start(0, [], FakeTrial(s))
    p.on_trial_result(0, [], FakeTrial(specs[0]), {"status": "ok", "mean_score": 0.41234})
    p.on_trial_complete(0, [], FakeTrial(specs[0]))
    p.on_trial_result(0, [], FakeTrial(specs[1]), {"status": "failed",
                                                    "error": "RuntimeError: out of patience"})
    p.on_trial_complete(0, [], FakeTrial(specs[1]))
    p.on_trial_start(0, [], FakeTrial(specs[3]))
    p.on_trial_error(0, [], FakeTrial(specs[3], error_msg="worker died\ntraceback ..."))
    time.sleep(0.3)
    p.close()
    frames = _frames(buf.getvalue())
    status = [f for f in frames if "elapsed" in f]
    assert status and max(len(f) for f in status) <= 80, status
    assert status[-1].startswith("3/4 done, 0 running, 2 failed, 0 diverged")
    assert "best dpo 0.412" in p.line()
    lines = [f for f in frames if f.startswith("[")]
    assert lines == [
        "[1/4] dpo beta=0.05 learning_rate=0.0003 epochs=1 seed=0: ok, mean_score 0.412 (0 s)",
        "[2/4] dpo beta=0.1 learning_rate=0.0003 epochs=1 seed=0: failed: RuntimeError: out of "
        "patience (0 s)",
        "[3/4] simpo beta=2 gamma_beta_ratio=0.5 gamma=1 learning_rate=0.0003 epochs=1 seed=1: "
        "failed: worker died (0 s)",
    ]


def test_a_plain_file_gets_the_trial_lines_and_one_final_status_line():
    buf = io.StringIO()
    specs = _specs()[:1]
    p = Progress(specs, {"dpo": 10.0}, console=Console(file=buf, width=80), interval=0.05)
    p.start()
    p.on_trial_start(0, [], FakeTrial(specs[0]))
    time.sleep(0.2)
    p.on_trial_result(0, [], FakeTrial(specs[0]), {"status": "diverged"})
    p.on_trial_complete(0, [], FakeTrial(specs[0]))
    p.close()
    lines = buf.getvalue().splitlines()
    assert "\x1b" not in buf.getvalue() and "\r" not in buf.getvalue()
    assert lines[0] == f"[1/1] {describe_trial(specs[0].to_dict())}: diverged (0 s)"
    assert lines[1].startswith("1/1 done, 0 running, 0 failed, 1 diverged") and len(lines) == 2
    assert buf.getvalue().endswith("\n")


def test_the_callback_survives_pickling_without_its_console():
    import pickle

    p = Progress(_specs(), {"dpo": 1.0}, console=_terminal()[1])
    q = pickle.loads(pickle.dumps(p))
    assert q.total == 4 and q._console is None and q.line().startswith("0/4 done")


def test_a_trial_line_names_the_axes_and_seed_not_the_bookkeeping():
    """Bookkeeping keys stay off the line: the role shows only as "(confirm)" on a
    confirmation run, the generation seed (a study-wide setting) not at all."""
    grid = _specs()[3]
    assert describe_trial(grid.to_dict()) == (
        "simpo beta=2 gamma_beta_ratio=0.5 gamma=1 learning_rate=0.0003 epochs=1 seed=1")
    confirm = TrialSpec(grid.trial_id, grid.config_id, "simpo", grid.values, 4, "confirm", 0)
    assert describe_trial(confirm.to_dict()).endswith("epochs=1 seed=4 (confirm)")


def test_trials_ending_together_get_consecutive_numbers():
    """Tune delivers a trial's final result before its completion: with two trials ending
    together, both results can arrive before either completion. Each still gets its own
    number, and the status line counts only completed trials."""
    buf = io.StringIO()
    specs = _specs()[:2]
    p = Progress(specs, {"dpo": 10.0}, concurrency=2, console=Console(file=buf, width=200),
                 interval=0.05)
    for s in specs:
        p.on_trial_start(0, [], FakeTrial(s))
    for s in specs:
        p.on_trial_result(0, [], FakeTrial(s), {"status": "ok", "mean_score": 0.5})
    assert p.line().startswith("0/2 done, 2 running")
    for s in specs:
        p.on_trial_complete(0, [], FakeTrial(s))
    numbers = [ln.split("]")[0] for ln in buf.getvalue().splitlines() if ln.startswith("[")]
    assert numbers == ["[1/2", "[2/2"]
