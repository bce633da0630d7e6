"""The shared reference log-probs cache (harness.reference).

A second build with the same inputs is a hit (nothing computed); changing the pairs, max_length,
truncation_mode or the policy's hash is a miss. The file is written atomically: no temporary
files left, a racing writer ends with one valid file, a crash mid-write leaves nothing. A cache
built for other pairs fails the trial with a KeyError naming a missing pair.
"""

from __future__ import annotations

import threading

import pandas as pd
import pytest


from harness import reference as ref_mod
from harness.config.sections import TrainingConfig
from harness.io import hash_json, read_jsonl, write_parquet_atomic
from harness.reference import BUILDS, build_reference, compute_reference, load_reference

TRAINING = TrainingConfig(batch_size=4, max_length=128)
POLICY_HASH = "sft-hash-a"
N_PAIRS = 8


@pytest.fixture(scope="module")
def policy_path(tiny_world) -> str:
    return str(tiny_world / "sft")


@pytest.fixture(scope="module")
def pairs(tiny_world) -> pd.DataFrame:
    return pd.DataFrame(read_jsonl(tiny_world / "train_pairs.jsonl")).iloc[:N_PAIRS]


def _pairs_hash(df: pd.DataFrame) -> str:
    return hash_json(df.to_dict(orient="records"))


def _build(policy_path, pairs, cache_dir, training=TRAINING, policy_hash=POLICY_HASH):
    return build_reference(policy_path, policy_hash, pairs, _pairs_hash(pairs), training, cache_dir,
                           dtype="float32")


def _leftovers(cache_dir) -> list[str]:
    """Files other than the cache and its checksum."""
    return sorted(p.name for p in cache_dir.iterdir() if not p.name.startswith("reference-")
                  or not p.name.endswith((".parquet", ".parquet.sha256")))


@pytest.fixture(scope="module")
def built(policy_path, pairs, tmp_path_factory):
    """One cache built from scratch: (cache_dir, path, the table compute_reference returns)."""
    cache_dir = tmp_path_factory.mktemp("reference")
    before = BUILDS["computed"]
    path, hit = _build(policy_path, pairs, cache_dir)
    assert not hit and BUILDS["computed"] == before + 1
    return cache_dir, path, compute_reference(policy_path, pairs, TRAINING, dtype="float32")


def test_build_writes_one_complete_file(built, pairs):
    cache_dir, path, table = built
    assert path.parent == cache_dir and path.name.startswith("reference-")
    assert _leftovers(cache_dir) == []
    df = pd.read_parquet(path)
    assert list(df.columns) == ["pair_id", "ref_chosen_logps", "ref_rejected_logps"]
    assert df["pair_id"].tolist() == pairs["pair_id"].tolist()
    loaded = load_reference(path)
    assert set(loaded) == set(table)
    for pid, (c, r) in table.items():  # float64 round trip of the computed log-probs
        assert loaded[pid] == (c, r)
        assert c < 0 and r < 0


def test_same_inputs_are_a_cache_hit(built, policy_path, pairs):
    cache_dir, path, _ = built
    before = BUILDS["computed"]
    again, hit = _build(policy_path, pairs, cache_dir)
    assert hit and again == path
    assert BUILDS["computed"] == before  # nothing recomputed


@pytest.mark.parametrize(
    "change",
    ["pairs", "max_length", "truncation_mode", "policy_hash"],
)
def test_changed_input_is_a_cache_miss(change, built, policy_path, pairs):
    cache_dir, path, _ = built
    kwargs = {"pairs": pairs, "training": TRAINING, "policy_hash": POLICY_HASH}
    if change == "pairs":
        kwargs["pairs"] = pairs.iloc[:-1]
    elif change == "max_length":
        kwargs["training"] = TRAINING.model_copy(update={"max_length": 96})
    elif change == "truncation_mode":
        kwargs["training"] = TRAINING.model_copy(update={"truncation_mode": "keep_end"})
    else:
        kwargs["policy_hash"] = "sft-hash-b"
    before = BUILDS["computed"]
    other, hit = _build(policy_path, cache_dir=cache_dir, **kwargs)
    assert not hit and other != path and other.exists()
    assert BUILDS["computed"] == before + 1


def test_key_names_the_dtype_computed_in_not_the_alias():
    from harness.models import has_cuda
    from harness.reference import reference_key

    def key(dtype):
        return reference_key(POLICY_HASH, "pairs", TRAINING, dtype)

    assert key("float32") != key("bfloat16")
    # "auto" is float32 on CPU and bfloat16 on a GPU: a cache built on one is no hit on the other.
    assert key("auto") == key("bfloat16" if has_cuda() else "float32")


def test_racing_writers_end_with_one_valid_file(policy_path, pairs, tmp_path, monkeypatch):
    """Two trials that both miss the cache compute it and write it at the same moment."""
    barrier = threading.Barrier(2, timeout=120)
    compute = ref_mod.compute_reference

    def compute_then_wait(*args, **kwargs):
        table = compute(*args, **kwargs)
        barrier.wait()  # both have missed and computed: now both write
        return table

    monkeypatch.setattr(ref_mod, "compute_reference", compute_then_wait)
    before = BUILDS["computed"]
    results, errors = [], []

    def build():
        try:
            results.append(_build(policy_path, pairs, tmp_path))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert BUILDS["computed"] == before + 2  # a real race: both computed, neither hit
    (path_a, hit_a), (path_b, hit_b) = results
    assert path_a == path_b and not hit_a and not hit_b
    # no temporary files left: the cache and its checksum
    assert sorted(p.name for p in tmp_path.iterdir()) == [path_a.name, path_a.name + ".sha256"]
    assert set(load_reference(path_a)) == set(pairs["pair_id"])


def test_crash_while_writing_leaves_nothing(policy_path, pairs, tmp_path, monkeypatch):
    def half_write(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"PAR1 half a file")
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(pd.DataFrame, "to_parquet", half_write)
        with pytest.raises(OSError, match="disk full"):
            _build(policy_path, pairs, tmp_path)
    assert list(tmp_path.iterdir()) == []
    path, hit = _build(policy_path, pairs, tmp_path)  # the next trial builds it cleanly
    assert not hit and set(load_reference(path)) == set(pairs["pair_id"])


def test_load_reference_rejects_a_file_that_is_not_a_cache(tmp_path):
    bad = tmp_path / "reference-x.parquet"
    write_parquet_atomic(bad, pd.DataFrame({"pair_id": ["a"], "chosen": [1.0]}), seal=True)
    with pytest.raises(ValueError, match=r"reference-x.parquet.*'ref_chosen_logps', 'ref_rejected_logps'"):
        load_reference(bad)


def test_cache_built_for_other_pairs_names_a_missing_pair(built, policy_path, pairs, tmp_path):
    from harness.train import train_policy

    _, path, _ = built
    reference = load_reference(path)
    del reference["train-00003"]
    with pytest.raises(KeyError, match=r"1 train pairs have no cached reference.*'train-00003'"):
        train_policy(
            method="dpo", hparams={"beta": 0.1, "learning_rate": 1e-3, "epochs": 1}, seed=0,
            training=TRAINING, policy_path=policy_path, train_pairs=pairs, reference=reference,
            output_dir=tmp_path, dtype="float32", tensorboard=False,
        )


def test_pairs_cut_by_truncation_are_skipped_by_cache_and_trainer_alike(policy_path, pairs, tmp_path):
    """With keep_start, TRL drops a pair whose prompt fills max_length; the cache, built with the
    trainer's own tokenization, drops exactly the same pairs, so training finds every pair."""
    from harness.models import load_tokenizer
    from harness.train import train_policy

    tok = load_tokenizer(policy_path)
    prompt_lens = [
        len(tok.apply_chat_template([dict(m) for m in p], add_generation_prompt=True, tokenize=True,
                                    return_dict=True)["input_ids"])
        for p in pairs["prompt"]
    ]
    max_length = sorted(prompt_lens)[len(prompt_lens) // 2]  # cuts about half of the prompts
    training = TRAINING.model_copy(update={"max_length": max_length})
    table = compute_reference(policy_path, pairs, training, dtype="float32")
    kept = {pid for pid, n in zip(pairs["pair_id"], prompt_lens) if n < max_length}
    assert 0 < len(kept) < len(pairs)
    assert set(table) == kept
    result = train_policy(
        method="dpo", hparams={"beta": 0.1, "learning_rate": 1e-3, "epochs": 1}, seed=0,
        training=training, policy_path=policy_path, train_pairs=pairs, reference=table,
        output_dir=tmp_path, dtype="float32", tensorboard=False,
    )
    assert result.status == "ok"
