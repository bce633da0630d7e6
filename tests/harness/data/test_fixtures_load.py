"""Issue 6, "what must hold" 1: the fixtures load through ``datasets.load_dataset`` on the local
folder with the same arguments the Hub id takes, and the adapters make exactly that call."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from harness.data import load_table

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"
SAFERLHF_V0, SAFERLHF_NEW, HH_RLHF = (FIXTURES / n for n in ("saferlhf_v0", "saferlhf", "hh_rlhf"))

V0_COLUMNS = [
    "prompt",
    "response_0",
    "response_1",
    "is_response_0_safe",
    "is_response_1_safe",
    "better_response_id",
    "safer_response_id",
]
NEW_COLUMNS = V0_COLUMNS[:3] + [
    "prompt_source",
    "response_0_source",
    "response_1_source",
    "is_response_0_safe",
    "is_response_1_safe",
    "response_0_harm_category",
    "response_1_harm_category",
    "response_0_severity_level",
    "response_1_severity_level",
    "better_response_id",
    "safer_response_id",
    "response_0_sha256",
    "response_1_sha256",
]


def test_saferlhf_v0_folder_loads_like_the_hub_revision():
    # load_dataset("PKU-Alignment/PKU-SafeRLHF", revision="v0", split=...) on the local copy
    train = datasets.load_dataset(str(SAFERLHF_V0), revision="v0", split="train")
    test = datasets.load_dataset(str(SAFERLHF_V0), revision="v0", split="test")
    assert train.column_names == V0_COLUMNS
    assert (train.num_rows, test.num_rows) == (8, 3)
    assert train.features["is_response_0_safe"].dtype == "bool"
    assert train.features["safer_response_id"].dtype == "int64"
    assert train.features["prompt"].dtype == "string"


def test_saferlhf_new_folder_has_the_hub_configs_and_columns():
    default = datasets.load_dataset(str(SAFERLHF_NEW), split="train")
    assert sorted(default.column_names) == sorted(NEW_COLUMNS)
    assert len(NEW_COLUMNS) == 16
    # default = Alpaca-7B (4) + Alpaca2-7B (2) + Alpaca3-8B (2) train rows
    assert default.num_rows == 8
    assert datasets.load_dataset(str(SAFERLHF_NEW), split="test").num_rows == 2 + 1 + 1
    for name, n in (("alpaca-7b", 4), ("alpaca2-7b", 2), ("alpaca3-8b", 2)):
        assert datasets.load_dataset(str(SAFERLHF_NEW), name=name, split="train").num_rows == n
    harm = default.features["response_0_harm_category"]
    assert len(harm) == 19 and all(v.dtype == "bool" for v in harm.values())
    assert default.features["response_1_severity_level"].dtype == "int64"


def test_hh_rlhf_folder_subsets_by_data_dir():
    for data_dir, n in (("harmless-base", 4), ("helpful-base", 2)):
        ds = datasets.load_dataset(str(HH_RLHF), data_dir=data_dir, split="test")
        assert ds.column_names == ["chosen", "rejected"]
        assert ds.num_rows == n
    # no data_dir: every subset's test file, as on the Hub
    assert datasets.load_dataset(str(HH_RLHF), split="test").num_rows == 6
    assert datasets.load_dataset(str(HH_RLHF), split="train").num_rows == 2 + 1
    first = datasets.load_dataset(str(HH_RLHF), data_dir="harmless-base", split="test")[0]
    assert first["chosen"].startswith("\n\nHuman: ")


@pytest.mark.parametrize(
    "spec, local, kind",
    [
        ({"adapter": "saferlhf", "revision": "v0"}, SAFERLHF_V0, "train"),
        ({"adapter": "saferlhf", "name": "alpaca-7b", "split": "test"}, SAFERLHF_NEW, "eval"),
        ({"adapter": "hh_rlhf", "data_dir": "harmless-base"}, HH_RLHF, "eval"),
    ],
)
def test_adapters_make_the_same_call_for_hub_id_and_local_folder(monkeypatch, spec, local, kind):
    """The Hub id (served here by the local copy) and the folder get identical arguments."""
    calls = []
    real = datasets.load_dataset

    def spy(path, **kwargs):
        calls.append((path, kwargs))
        return real(str(local), **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", spy)
    hub_df, _ = load_table(spec, kind)  # default path = the Hub id
    local_df, _ = load_table({**spec, "path": str(local)}, kind)
    (hub_path, hub_kwargs), (local_path, local_kwargs) = calls
    assert hub_path in ("PKU-Alignment/PKU-SafeRLHF", "Anthropic/hh-rlhf")
    assert local_path == str(local)
    assert hub_kwargs == local_kwargs
    assert hub_df.equals(local_df)
