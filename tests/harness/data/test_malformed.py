"""Issue 6, "what must hold" 3: malformed inputs give a counted drop naming the row, or a clear
error naming the row, column or key.

Each drop case hides one bad row among good ones, read through the real adapter and
``datasets.load_dataset`` from a file in tmp_path, and checks the reason and the row id it names.
"""

from __future__ import annotations

import pytest

from harness.data import DataConfigError, DataValidationError, SourceError, load_table


def good_pairs(n=4):
    return [{"prompt": f"Q{i}?", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(n)]


def msgs(*pairs):
    return [{"role": r, "content": c} for r, c in pairs]


def pair(prompt="Q?", chosen="a", rejected="b"):
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


# (case id, bad row, reason) for preference_jsonl; the bad row is inserted at index 2
PAIR_CASES = [
    ("null chosen", pair(chosen=None), "missing_value"),
    ("empty chosen", pair(chosen=""), "empty_string"),
    ("blank rejected", pair(rejected="  \n"), "empty_string"),
    ("chosen == rejected", pair(chosen="same", rejected="same "), "chosen_equals_rejected"),
    ("number chosen", pair(chosen=5), "wrong_type"),
    ("dict rejected", pair(rejected={"text": "b"}), "wrong_type"),
    ("number prompt", pair(prompt=42), "wrong_type"),
    ("empty prompt list", pair(prompt=[]), "empty_string"),
    ("unknown role", pair(prompt=msgs(("narrator", "Q?"))), "bad_message"),
    ("message without content", pair(prompt=[{"role": "user"}]), "bad_message"),
    ("empty message", pair(prompt=msgs(("system", "Hi"), ("user", " "))), "empty_string"),
    (
        "prompt ends with assistant",
        pair(prompt=msgs(("user", "Q?"), ("assistant", "A"))),
        "prompt_not_ending_in_user",
    ),
]


def cases(table):
    return pytest.mark.parametrize("bad, reason", [c[1:] for c in table], ids=[c[0] for c in table])


@cases(PAIR_CASES)
def test_pair_rows_are_counted_and_named(write_jsonl, bad, reason):
    rows = good_pairs()
    rows.insert(2, bad)
    path = write_jsonl("pairs.jsonl", rows)
    spec = {"adapter": "preference_jsonl", "path": path, "max_bad_share": 0.5}
    df, report = load_table(spec, "train")
    assert len(df) == 4 and "train-000002" not in df["pair_id"].tolist()
    assert dict(report.invalid) == {reason: 1}
    assert report.examples[reason].startswith("row 'train-000002'")


def test_duplicate_ids(write_jsonl):
    rows = [{**r, "uid": i % 3} for i, r in enumerate(good_pairs())]  # ids 0 1 2 0
    path = write_jsonl("pairs.jsonl", rows)
    spec = {"adapter": "preference_jsonl", "path": path, "columns": {"id": "uid"}}
    df, report = load_table({**spec, "max_bad_share": 0.5}, "train")
    assert df["pair_id"].tolist() == ["0", "1", "2"]
    assert dict(report.invalid) == {"duplicate_id": 1}


def hh(*turns, rejected_reply="c"):
    """A transcript row; the rejected transcript shares all but the last turn."""
    chosen = "".join(turns)
    cut = chosen.rfind("\n\nAssistant:")
    rejected = chosen[: cut + len("\n\nAssistant:")] + " " + rejected_reply if cut >= 0 else chosen
    return {"chosen": chosen, "rejected": rejected}


H, A = "\n\nHuman:", "\n\nAssistant:"
HH_OK = hh(H, " hi", A, " hello")
HH_CASES = [
    ("no assistant turn", hh(H, " hi there"), "no_assistant_turn"),
    ("ends with human", hh(H, " a", A, " b", H, " c"), "last_turn_not_assistant"),
    ("text before first turn", hh("oops", H, " a", A, " b"), "malformed_transcript"),
    ("empty final reply", hh(H, " a", A), "empty_string"),
    ("empty human turn", hh(H, " ", A, " b"), "empty_string"),
    ("number transcript", {"chosen": 3, "rejected": H + " a" + A + " c"}, "wrong_type"),
    ("identical replies", hh(H, " a", A, " b", rejected_reply="b"), "chosen_equals_rejected"),
]


@cases(HH_CASES)
def test_hh_transcripts_are_counted_and_named(write_jsonl, bad, reason):
    path = write_jsonl("test.jsonl", [HH_OK, bad, HH_OK | {"chosen": HH_OK["chosen"] + "!"}])
    spec = {"adapter": "hh_rlhf", "path": path, "max_bad_share": 0.5}
    df, report = load_table(spec, "train")
    assert df["pair_id"].tolist() == ["test-000000", "test-000002"]
    assert dict(report.invalid) == {reason: 1}
    assert "test-000001" in report.examples[reason]


def saferlhf_row(**changes):
    row = {
        "prompt": "Q?",
        "response_0": "safe answer",
        "response_1": "unsafe answer",
        "is_response_0_safe": True,
        "is_response_1_safe": False,
        "better_response_id": 0,
        "safer_response_id": 0,
    }
    return row | changes


@pytest.mark.parametrize(
    "bad, reason",
    [
        (saferlhf_row(is_response_0_safe=None), "bad_safety_label"),
        (saferlhf_row(safer_response_id=2), "bad_safer_response_id"),
        (saferlhf_row(response_0=""), "empty_string"),
    ],
    ids=["null safety label", "safer id 2", "empty safe response"],
)
def test_saferlhf_rows_are_counted_and_named(write_jsonl, bad, reason):
    path = write_jsonl("train.jsonl", [saferlhf_row(), bad, saferlhf_row(prompt="Other?")])
    df, report = load_table({"adapter": "saferlhf", "path": path, "max_bad_share": 0.5}, "train")
    assert df["pair_id"].tolist() == ["train-000000", "train-000002"]
    assert dict(report.invalid) == {reason: 1}
    assert "train-000001" in report.examples[reason]


def test_too_many_bad_rows_is_an_error_naming_the_first(write_jsonl):
    rows = good_pairs()
    rows[1]["chosen"] = rows[1]["rejected"]
    rows[3]["chosen"] = ""
    path = write_jsonl("pairs.jsonl", rows)
    with pytest.raises(DataValidationError) as err:
        load_table({"adapter": "preference_jsonl", "path": path, "max_bad_share": 0.25}, "train")
    message = str(err.value)
    assert "2 of 4 rows" in message
    assert "First bad row 'train-000001': chosen_equals_rejected" in message
    # within the allowed share the same file loads, the two rows counted
    spec = {"adapter": "preference_jsonl", "path": path, "max_bad_share": 0.5}
    df, report = load_table(spec, "train")
    assert len(df) == 2 and report.n_invalid == 2


def test_a_column_of_the_wrong_type_fails_naming_the_row(write_jsonl):
    rows = [{"prompt": f"Q{i}", "chosen": i, "rejected": "b"} for i in range(3)]
    path = write_jsonl("pairs.jsonl", rows)
    expected = r"row 'train-000000': wrong_type \(chosen is int"
    with pytest.raises(DataValidationError, match=expected):
        load_table({"adapter": "preference_jsonl", "path": path}, "train")


def test_missing_column_is_an_error_naming_it(write_jsonl):
    path = write_jsonl("pairs.jsonl", [{"prompt": "Q", "chosen": "a", "worse": "b"}])
    expected = r"rejected: 'rejected'.*\['prompt', 'chosen', 'worse'\]"
    with pytest.raises(SourceError, match=expected):
        load_table({"adapter": "preference_jsonl", "path": path}, "train")


def test_saferlhf_missing_column_is_an_error_naming_it(write_jsonl):
    row = saferlhf_row()
    del row["is_response_1_safe"]
    path = write_jsonl("train.jsonl", [row])
    with pytest.raises(SourceError, match="is_response_1_safe"):
        load_table({"adapter": "saferlhf", "path": path}, "train")


def test_everything_filtered_is_an_error(write_jsonl):
    path = write_jsonl("train.jsonl", [saferlhf_row(is_response_1_safe=True)])
    with pytest.raises(DataValidationError, match="no rows left.*both_safe=1"):
        load_table({"adapter": "saferlhf", "path": path}, "train")


def test_misspelt_option_is_an_error_naming_it(write_jsonl):
    path = write_jsonl("train.jsonl", [saferlhf_row()])
    with pytest.raises(DataConfigError, match="max_row"):
        load_table({"adapter": "saferlhf", "path": path, "max_row": 3}, "train")
    with pytest.raises(DataConfigError, match="promt"):
        spec = {"adapter": "preference_jsonl", "path": path, "columns": {"promt": "q"}}
        load_table(spec, "train")
