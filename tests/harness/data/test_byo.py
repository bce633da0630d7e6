"""Bring-your-own data: ``preference_jsonl`` (local files) and ``hf_dataset`` (folder / Hub id)
with a column mapping; string and message-list prompts."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.data import DataConfigError, load_table

ROWS = [
    {"uid": 7, "question": "Name a prime.", "good": "Two.", "bad": "Four."},
    {
        "uid": 9,
        "question": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Capital of France?"},
        ],
        "good": [{"role": "assistant", "content": "Paris."}],  # TRL conversational reply
        "bad": "Lyon.",
    },
]
MAPPING = {"prompt": "question", "chosen": "good", "rejected": "bad", "id": "uid"}


def test_preference_jsonl_with_column_mapping(write_jsonl):
    path = write_jsonl("pairs.jsonl", ROWS)
    spec = {"adapter": "preference_jsonl", "path": path, "columns": MAPPING}
    df, report = load_table(spec, "train")
    assert df.to_dict("records") == [
        {
            "pair_id": "7",
            "prompt": [{"role": "user", "content": "Name a prime."}],
            "chosen": "Two.",
            "rejected": "Four.",
        },
        {
            "pair_id": "9",
            "prompt": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Capital of France?"},
            ],
            "chosen": "Paris.",
            "rejected": "Lyon.",
        },
    ]
    assert report.kept == 2 and not report.invalid


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_preference_files_in_other_formats(tmp_path, suffix):
    frame = pd.DataFrame(
        {"prompt": ["Say hi.", "Say bye."], "chosen": ["Hi!", "Bye!"], "rejected": ["No.", "..."]}
    )
    path = tmp_path / f"pairs.{suffix}"
    getattr(frame, f"to_{suffix}")(path, index=False)
    df, _ = load_table({"adapter": "preference_jsonl", "path": str(path)}, "train")
    assert df["pair_id"].tolist() == ["train-000000", "train-000001"]
    assert df["chosen"].tolist() == ["Hi!", "Bye!"]
    assert df["prompt"].tolist()[1] == [{"role": "user", "content": "Say bye."}]


def test_eval_set_with_prompt_and_chosen_only(write_jsonl):
    path = write_jsonl("eval.jsonl", [{"instruction": "Count to 3.", "reference": "1 2 3"}])
    spec = {
        "adapter": "preference_jsonl",
        "path": path,
        "columns": {"prompt": "instruction", "chosen": "reference"},
    }
    df, _ = load_table(spec, "eval")
    assert list(df.columns) == ["prompt_id", "prompt", "chosen"]
    assert df.iloc[0]["chosen"] == "1 2 3"


def test_hf_dataset_reads_a_folder_like_a_hub_repo(tmp_path, write_jsonl):
    # datasets gives every split of a repo the same features, so both files mix the two shapes
    write_jsonl("repo/data/train.jsonl", ROWS)
    write_jsonl("repo/data/test.jsonl", [{**r, "uid": r["uid"] + 100} for r in ROWS])
    spec = {"adapter": "hf_dataset", "path": str(tmp_path / "repo"), "columns": MAPPING}
    train, _ = load_table(spec, "train")
    test, _ = load_table({**spec, "split": "test"}, "eval")
    assert train["pair_id"].tolist() == ["7", "9"]
    assert test["prompt_id"].tolist() == ["107", "109"]
    assert test["rejected"].tolist() == ["Four.", "Lyon."]


def test_preference_jsonl_names_a_missing_file(tmp_path):
    missing = str(tmp_path / "nope.jsonl")
    with pytest.raises(DataConfigError, match="nope.jsonl"):
        load_table({"adapter": "preference_jsonl", "path": missing}, "train")
