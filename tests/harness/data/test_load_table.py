"""``load_table``: registry lookup, the offline Hub check, the column contract, subsampling and
the logged report."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict

from harness import hub
from harness.data import ADAPTERS, Adapter, DataConfigError, DataValidationError, load_table, refs
from harness.hub import HubRef, MissingHubArtifactError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"
V0 = str(FIXTURES / "saferlhf_v0")


def test_adapters_are_registered_by_name():
    assert {"saferlhf", "hh_rlhf", "preference_jsonl", "hf_dataset"} <= set(ADAPTERS)


def test_unknown_adapter_lists_the_known_ones():
    with pytest.raises(DataConfigError, match="unknown data adapter 'saferlfh'.*hh_rlhf"):
        load_table({"adapter": "saferlfh"}, "train")
    with pytest.raises(DataConfigError, match="no `adapter` key"):
        load_table({"path": V0}, "train")


def test_refs_name_hub_ids_only(write_jsonl):
    assert refs({"adapter": "saferlhf", "revision": "v0"}) == [
        HubRef("PKU-Alignment/PKU-SafeRLHF", repo_type="dataset", revision="v0")
    ]
    assert refs({"adapter": "hh_rlhf"}) == [HubRef("Anthropic/hh-rlhf", repo_type="dataset")]
    assert refs({"adapter": "saferlhf", "path": V0}) == []
    path = write_jsonl("p.jsonl", [{"prompt": "q", "chosen": "a", "rejected": "b"}])
    assert refs({"adapter": "preference_jsonl", "path": path}) == []


def test_offline_uncached_hub_id_gives_the_hub_message(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    # huggingface_hub reads HF_HOME at import; point its cache at the empty folder too
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    spec = {"adapter": "saferlhf", "revision": "v0"}
    with pytest.raises(MissingHubArtifactError) as err:
        load_table(spec, "train")
    ref = HubRef("PKU-Alignment/PKU-SafeRLHF", repo_type="dataset", revision="v0")
    assert str(err.value) == hub.missing_message([ref])
    assert "dataset PKU-Alignment/PKU-SafeRLHF (revision v0)" in str(err.value)
    with pytest.raises(MissingHubArtifactError, match="dataset Anthropic/hh-rlhf"):
        load_table({"adapter": "hh_rlhf", "data_dir": "harmless-base"}, "eval")
    # a local copy needs nothing from the Hub, offline or not
    df, _ = load_table({**spec, "path": V0}, "train")
    assert len(df) == 4


def fake_hub_cache(cache: Path, repo: str, revision: str, source: Path) -> None:
    """The layout ``hf download --repo-type dataset`` leaves in HF_HUB_CACHE."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = cache / ("datasets--" + repo.replace("/", "--"))
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / revision).write_text(commit)
    shutil.copytree(source, repo_dir / "snapshots" / commit)


def test_offline_cached_hub_snapshot_loads_like_the_folder(tmp_path, monkeypatch):
    import huggingface_hub.constants

    cache = tmp_path / "hf" / "hub"
    fake_hub_cache(cache, "PKU-Alignment/PKU-SafeRLHF", "v0", Path(V0))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    spec = {"adapter": "saferlhf", "revision": "v0"}
    from_hub, report = load_table(spec, "train")  # passes the offline check, then loads
    from_folder, _ = load_table({**spec, "path": V0}, "train")
    assert from_hub.equals(from_folder) and report.kept == 4
    # another revision of the same repo is not cached: named, not guessed
    with pytest.raises(MissingHubArtifactError, match="PKU-SafeRLHF"):
        load_table({"adapter": "saferlhf"}, "train")


def test_subsampling_is_deterministic_and_keeps_order():
    spec = {"adapter": "saferlhf", "path": V0}
    full, _ = load_table(spec, "train")
    a, report = load_table({**spec, "max_rows": 2, "seed": 3}, "train")
    b, _ = load_table({**spec, "max_rows": 2, "seed": 3}, "train")
    assert a.equals(b)
    assert len(a) == 2 and report.kept == 2 and report.subsampled == 2
    ids = a["pair_id"].tolist()
    assert ids == sorted(ids) and set(ids) <= set(full["pair_id"])
    draws = {
        tuple(load_table({**spec, "max_rows": 2, "seed": s}, "train")[0]["pair_id"])
        for s in range(8)
    }
    assert len(draws) > 1  # the seed matters
    whole, _ = load_table({**spec, "max_rows": 10}, "train")
    assert whole.equals(full)


def test_report_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="harness.data"):
        _, report = load_table({"adapter": "saferlhf", "path": V0}, "train")
    assert report.summary() in caplog.text
    assert "both_safe=2" in report.summary() and "kept 4" in report.summary()
    assert report.to_dict()["filtered"] == {"both_safe": 2, "both_unsafe": 2}


def test_a_pydantic_spec_is_accepted():
    class Spec(BaseModel):
        model_config = ConfigDict(extra="allow")
        adapter: str
        max_rows: int | None = None  # a config-level default the user did not set

    df, _ = load_table(Spec(adapter="saferlhf", path=V0, split="test"), "eval")
    assert df["prompt_id"].tolist() == ["test-000000", "test-000002"]


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _adapter(name, frame, kinds=("train", "eval")):
    return Adapter(name=name, options=NoOptions, load=lambda o, k: frame.copy(), kinds=kinds)


@pytest.fixture
def register_adapter():
    """Register test adapters (a name again replaces it) for one test; removed afterwards."""
    names = set()

    def register(name, frame, kinds=("train", "eval")):
        if name in ADAPTERS:
            ADAPTERS.unregister(name)
        ADAPTERS.register(name, _adapter(name, frame, kinds))
        names.add(name)

    yield register
    for name in names:
        ADAPTERS.unregister(name)


def test_plain_dataframe_adapters_are_validated_too(register_adapter):
    # the toy world's shape: load returns a DataFrame only; 1 bad row of 11 < the default 10%
    n = 11
    frame = pd.DataFrame(
        {
            "pair_id": [f"p{i}" for i in range(n)],
            "prompt": [[{"role": "user", "content": f"q{i}"}] for i in range(n)],
            "chosen": [f"x{i}" for i in range(n)],
            "rejected": [f"z{i}" for i in range(n - 1)] + [f"x{n - 1}"],
        }
    )
    register_adapter("plain_test", frame)
    df, report = load_table({"adapter": "plain_test"}, "train")
    assert df["pair_id"].tolist() == [f"p{i}" for i in range(n - 1)]
    assert report.rows_read == n and dict(report.invalid) == {"chosen_equals_rejected": 1}
    register_adapter("plain_test", frame.iloc[-2:])
    with pytest.raises(DataValidationError, match="row 'p10'"):
        load_table({"adapter": "plain_test"}, "train")


def test_column_contract_and_kinds(register_adapter):
    frame = pd.DataFrame({"pair_id": ["a"], "prompt": [[{"role": "user", "content": "q"}]],
                          "chosen": ["x"], "rejected": ["z"], "score": [1.0]})
    register_adapter("extra_col", frame)
    with pytest.raises(ValueError, match=r"unexpected \['score'\]"):
        load_table({"adapter": "extra_col"}, "train")
    with pytest.raises(ValueError, match=r"missing \['prompt_id'\]"):
        load_table({"adapter": "extra_col"}, "eval")
    register_adapter("train_only", frame, kinds=("train",))
    with pytest.raises(DataConfigError, match="cannot give eval data"):
        load_table({"adapter": "train_only"}, "eval")
