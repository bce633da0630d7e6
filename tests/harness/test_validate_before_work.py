"""Validate before work, and one error path for every CLI (issue 10).

Every value a library would reject later is refused when the YAML is read, naming its key;
every error a user can cause reaches them as one ``error:`` line with exit 2 and no traceback
(``-v`` adds it), from ``harness.sweep``, ``harness.evaluate``, ``harness.toyworld`` and
``analysis.report`` alike.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.config import ConfigError, load_study, parse_yaml, validate_study
from harness.sweep import interleave_methods
from harness.sweep import main as sweep

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "tests" / "fixtures" / "configs" / "toy_study.yaml"


def _raw() -> dict:
    return parse_yaml(TOY.read_text())


def _error(raw: dict, *overrides: str) -> str:
    with pytest.raises(ConfigError) as info:
        validate_study(raw, "x.yaml", overrides)
    return str(info.value)


def _one_error_line(err: str) -> None:
    """One ``error:`` line (progress bars of libraries may come before it), no traceback."""
    assert sum(line.startswith("error: ") for line in err.splitlines()) == 1, err
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- bounds


@pytest.mark.parametrize("override, key", [
    ("grid.seed=[4294967296]", "grid.seed[0]"),
    ("methods.dpo.seed=[0, 4294967296]", "methods.dpo.seed[1]"),
    ("generation.seed=4294967296", "generation.seed"),
])
def test_seed_must_fit_32_bits(override, key):
    message = _error(_raw(), override)
    assert key in message and ("2^32" in message or "4294967296" in message)


def test_largest_32_bit_seed_is_accepted():
    assert validate_study(_raw(), "x", ["grid.seed=[4294967295]"]).grid["seed"] == [4294967295]


@pytest.mark.parametrize("override, key", [
    ("generation.temperature=.inf", "generation.temperature"),
    ("generation.temperature=.nan", "generation.temperature"),
    ("generation.top_p=.nan", "generation.top_p"),
    ("grid.learning_rate=[.inf]", "grid.learning_rate[0]"),
    ("methods.ln_dpo.learning_rate=[.nan]", "methods.ln_dpo.learning_rate[0]"),
    ("methods.dpo.beta=[.inf]", "methods.dpo.beta[0]"),
    ("training.warmup_ratio=.nan", "training.warmup_ratio"),
    ("resources.cpus_per_trial=.inf", "resources.cpus_per_trial"),
])
def test_non_finite_values_are_refused(override, key):
    assert key in _error(_raw(), override)


def test_max_length_below_one_prompt_and_one_response_token_is_refused():
    assert "training.max_length" in _error(_raw(), "training.max_length=1")


def test_study_name_length_is_bounded():
    raw = _raw()
    raw["study"] = "s" * 300  # ENAMETOOLONG after preparation, before this check
    message = _error(raw)
    assert "study:" in message and "100 characters" in message
    raw["study"] = "s" * 100
    assert validate_study(raw, "x").study == "s" * 100


@pytest.mark.parametrize("value", ["-1", "0", "two"])
def test_max_concurrent_must_be_at_least_one(value, capsys):
    with pytest.raises(SystemExit) as info:
        sweep([str(TOY), "--dry-run", "--max-concurrent", value])
    assert info.value.code == 2
    assert "--max-concurrent" in capsys.readouterr().err


# ----------------------------------------------------------------------------- reading YAML


@pytest.mark.timeout(60)  # without the limit: minutes and gigabytes before any error
def test_yaml_alias_bomb_fails_at_once(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\nstudy: bomb\n")
    with pytest.raises(ConfigError, match="expands to more than 100000 values"):
        load_study(path)
    with pytest.raises(ConfigError, match="expands to more than"):  # the same through --set
        load_study(TOY, ["methods.dpo.beta=[&b [1,1,1,1,1,1,1,1,1,1], "
                         + ", ".join(["*b"] * 20000) + "]"])


def test_oversized_yaml_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(TOY.read_text() + "#" * (1 << 20) + "\n")
    with pytest.raises(ConfigError, match=r"(?s)huge.yaml.*more than the 1048576"):
        load_study(path)


def test_non_utf8_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(TOY.read_bytes().replace(b"# A small", b"# A sm\xe4ll"))
    with pytest.raises(ConfigError) as info:
        load_study(path)
    assert str(path) in str(info.value) and "line 1, column 7: not UTF-8" in str(info.value)


def test_deeply_nested_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("x: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_study(path)


# ----------------------------------------------------------------------------- dry run


def test_round_robin_keeps_each_methods_order():
    class S:
        def __init__(self, method, i):
            self.method, self.i = method, i

    specs = [S("dpo", i) for i in range(5)] + [S("simpo", i) for i in range(2)] + [S("ln", 0)]
    out = [(s.method, s.i) for s in interleave_methods(specs)]
    assert out == [("dpo", 0), ("simpo", 0), ("ln", 0), ("dpo", 1), ("simpo", 1), ("dpo", 2),
                   ("dpo", 3), ("dpo", 4)]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_million_trial_dry_run_completes(capsys):
    """The round-robin was quadratic (> 2 min for 10^6 trials); benchmarks/bench_dry_run.py
    prints the time. Trial ids carry 48 bits of digest: among 10^6 trials of one method two ids
    collide with probability ~0.002 (expand() then refuses the grid, naming both)."""
    betas = ", ".join(f"{0.01 + i * 1e-4:.4f}" for i in range(1000))
    seeds = ", ".join(str(i) for i in range(1000))
    assert sweep([str(TOY), "--dry-run", "--set", f"methods={{dpo: {{beta: [{betas}]}}}}",
                  "--set", f"grid.seed=[{seeds}]", "--set", "grid.learning_rate=[3e-4]"]) == 0
    out = capsys.readouterr().out
    assert "1000000" in out.split("total")[1].split("\n")[0]


# ----------------------------------------------------------------------------- the error path


def test_sweep_config_error_is_one_line_and_verbose_adds_traceback(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(TOY.read_text().replace("max_new_tokens: 16", "max_new_tokens: -3"))
    assert sweep([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert "generation.max_new_tokens" in err
    assert sweep([str(path), "--dry-run", "-v"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_unwritable_results_folder_fails_before_ray_and_preparation(tmp_path, capsys):
    assert sweep([str(TOY), "--results", "/proc/po-harness-results"]) == 2
    captured = capsys.readouterr()
    _one_error_line(captured.err)
    assert "/proc/po-harness-results" in captured.err and "not writable" in captured.err
    assert "prepare:" not in captured.out


@pytest.fixture()
def byo_study(tmp_path, tiny_world):
    """A study over local preference files and the tiny world's SFT folder (no toy world)."""
    for name in ("train_pairs", "eval_prompts"):
        shutil.copy(tiny_world / f"{name}.jsonl", tmp_path / f"{name}.jsonl")

    def write(**changes) -> Path:
        cfg = {
            "study": "byo", "results_dir": str(tmp_path / "results"),
            "artifacts_dir": str(tmp_path / "artifacts"),
            "data": {"train": {"adapter": "preference_jsonl",
                               "path": str(tmp_path / "train_pairs.jsonl"),
                               "columns": {"id": "pair_id"}, "max_rows": 40},
                     "eval": {"adapter": "preference_jsonl",
                              "path": str(tmp_path / "eval_prompts.jsonl"),
                              "columns": {"id": "prompt_id"}, "max_rows": 8},
                     "heldout_pairs": 4},
            "policy": {"model": str(tiny_world / "sft"), "dtype": "float32"},
            "judge": {"name": "toy"},
            "generation": {"max_new_tokens": 8, "batch_size": 8},
            "training": {"batch_size": 8, "max_length": 96},
            "grid": {"learning_rate": [1e-4]},
            "methods": {"simpo": {"beta": [2.0], "gamma_beta_ratio": [0.5]}},
            **changes,
        }
        path = tmp_path / "byo.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return path

    return write


def test_non_utf8_data_file_is_one_error_naming_file_and_line(byo_study, tmp_path, capsys):
    path = byo_study()
    data = tmp_path / "train_pairs.jsonl"
    lines = data.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"i ", b"\xff ", 1)
    data.write_bytes(b"\n".join(lines))
    assert sweep([str(path), "--prepare-only"]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert f"{data}, line 3" in err and "not UTF-8" in err


def test_max_length_leaving_no_response_token_is_one_error_naming_the_key(byo_study, capsys):
    path = byo_study(training={"batch_size": 8, "max_length": 2})
    assert sweep([str(path), "--prepare-only"]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert "training.max_length: 2 leaves no train pair a response token" in err


def test_malformed_data_rows_are_one_error_naming_the_row(byo_study, tmp_path, capsys):
    path = byo_study()
    data = tmp_path / "train_pairs.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    for row in rows:
        row["chosen"] = ""  # every reply empty: validation drops them all
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert sweep([str(path), "--prepare-only"]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert "train_pairs.jsonl" in err


def test_evaluate_cli_names_a_damaged_prepared_file(tmp_path, tiny_world, capsys):
    from harness.artifacts import PreparedStudy
    from harness.evaluate import main as evaluate
    from harness.io import read_jsonl, write_parquet_atomic

    eval_path = tmp_path / "eval.parquet"
    write_parquet_atomic(eval_path, pd.DataFrame(read_jsonl(tiny_world / "eval_prompts.jsonl")),
                         seal=True)
    PreparedStudy(study="t", artifacts_dir=str(tmp_path), train_pairs="", heldout_pairs="",
                  eval_prompts=str(eval_path), policy=str(tiny_world / "sft"),
                  judge={"name": "toy"}, generation={}).save(tmp_path)
    eval_path.write_bytes(eval_path.read_bytes()[:-30])
    assert evaluate(["--model", str(tiny_world / "sft"), "--artifacts", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert str(eval_path) in err and "checksum" in err


def test_toyworld_cli_errors_are_one_line(capsys):
    from harness.toyworld.__main__ import main as toyworld

    assert toyworld(["build", "--set", "world.seed"]) == 2
    _one_error_line(capsys.readouterr().err)
    assert toyworld(["build", "--set", "world.n_train_prompts=-5"]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert "world.n_train_prompts" in err


def test_report_cli_errors_are_one_line(tmp_path, capsys):
    import sys

    sys.path.insert(0, str(REPO / "tests" / "fixtures"))
    from results_fixture import make_results

    from analysis.report.__main__ import main as report

    assert report([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert "nowhere" in err
    folder = make_results(tmp_path / "study")
    trials = folder / "trials.parquet"
    trials.write_bytes(trials.read_bytes()[:100])
    assert report([str(folder)]) == 2
    err = capsys.readouterr().err
    _one_error_line(err)
    assert str(trials) in err
