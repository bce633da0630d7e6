"""Prepare a study's shared artifacts once, each cached by content hash.

Order (docs/design.md, "Pipeline"): check every Hub id is available (offline: fail before any
work, naming each missing model/dataset) -> the study's worlds (the toy world, or any world plug-in:
:mod:`harness.worlds`), each built or taken from its cache -> train pairs and
eval prompts through the data adapters (a held-out slice of pairs for reward accuracy) -> the
SFT policy's content hash -> reference log-probs of every pair under the SFT model (only when a
method needs a reference) -> the SFT baseline on the eval prompts. The manifest
(:class:`harness.artifacts.PreparedStudy`, saved as ``<artifacts_dir>/studies/<study>/
prepared-<key>.json``, keyed by its content) points at all of it; trials receive its contents.

Artifacts live under ``<artifacts_dir>``: ``toyworld/<key>/``, ``data/<hash>/``,
``reference/reference-<key>.parquet``, ``baseline/baseline-<key>.parquet``. Each is sealed with
a checksum (:mod:`harness.io`) and checked before it is reused: a damaged one is rebuilt with a
warning naming it. The policy folder's content hash is remembered under
``hashes/`` by the folder's file sizes and modification times, so an unchanged 28 GB folder is
not read again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harness import hub
from harness.artifacts import PreparedStudy, study_folder
from harness.errors import UserError
from harness.io import hash_dir, hash_json, verify_file, write_json_atomic, write_parquet_atomic

log = logging.getLogger(__name__)


class PrepareError(UserError, ValueError):
    """The study's data and settings leave nothing to train or evaluate on."""


def _hash_table(df: pd.DataFrame) -> str:
    return hash_json(df.to_dict(orient="records"))


def hub_refs(study) -> list[hub.HubRef]:
    """Every model and dataset the study reads by Hub id."""
    from harness import data as data_pkg
    from harness.judges import judge_refs

    refs: list[hub.HubRef] = []
    worlds = study.world_sections()
    for kind in ("train", "eval"):
        spec = getattr(study.data, kind)
        if spec["adapter"] not in worlds:
            refs += data_pkg.refs(spec)
    if study.policy.model not in worlds:
        refs.append(hub.HubRef(study.policy.model, "model", study.policy.revision))
    refs += judge_refs(study.judge)
    return refs


def _split_heldout(pairs: pd.DataFrame, n: int, seed: int = 0):
    """A seeded random ``n`` pairs held out of training (for reward accuracy)."""
    n = min(n, max(0, len(pairs) // 5))
    order = np.random.default_rng(seed).permutation(len(pairs))
    held = pairs.iloc[np.sort(order[:n])].reset_index(drop=True)
    train = pairs.iloc[np.sort(order[n:])].reset_index(drop=True)
    return train, held


def _drop_unusable_pairs(pairs: pd.DataFrame, tokenizer, max_length: int,
                         truncation_mode: str = "keep_start") -> pd.DataFrame:
    """Drop pairs that would train on zero response tokens: an empty chosen/rejected text, or,
    under ``keep_start`` truncation, a prompt that alone fills ``max_length`` (TRL's own rule:
    truncation would then cut every response token). ``keep_end`` keeps the end of the response,
    so long prompts are cut from the front instead and nothing more is dropped."""
    empty = (pairs["chosen"].str.strip() == "") | (pairs["rejected"].str.strip() == "")
    too_long = np.zeros(len(pairs), dtype=bool)
    if truncation_mode == "keep_start":
        too_long = np.array([_prompt_tokens(tokenizer, p) >= max_length for p in pairs["prompt"]],
                            dtype=bool)
    if empty.any() or too_long.any():
        log.warning(
            "dropped %d pair(s) with an empty response and %d whose prompt fills max_length=%d "
            "(zero response tokens)", int(empty.sum()), int((too_long & ~empty).sum()), max_length,
        )
    if len(pairs) and (empty | too_long).all():
        shortest = min(_prompt_tokens(tokenizer, p) for p in pairs["prompt"])
        raise PrepareError(
            f"training.max_length: {max_length} leaves no train pair a response token (the "
            f"shortest prompt is {shortest} tokens under the chat template, plus one response "
            f"token); set training.max_length to at least {shortest + 1}"
            if too_long.any() else "data.train: every pair has an empty chosen or rejected reply"
        )
    return pairs[~(empty | too_long)].reset_index(drop=True)


def _prompt_tokens(tokenizer, prompt) -> int:
    return len(tokenizer.apply_chat_template([dict(m) for m in prompt], add_generation_prompt=True,
                                             tokenize=True, return_dict=True)["input_ids"])


def _data_spec(spec: dict, worlds: dict) -> dict:
    """A world's data adapter without a ``path`` reads the world the study built."""
    spec = dict(spec)
    if spec["adapter"] in worlds and spec.get("path") is None:
        spec["path"] = str(worlds[spec["adapter"]].folder)
    return spec


def prepare(study, *, progress=print) -> PreparedStudy:
    """Build (or reuse) every shared artifact of ``study`` and write its manifest."""
    from harness.data import load_table
    from harness.evaluate import build_baseline
    from harness.models import load_tokenizer
    from harness.reference import build_reference

    t0 = time.perf_counter()
    art = Path(study.artifacts_dir)
    hub.check_available(hub_refs(study))

    from harness.worlds import get_world

    worlds = {}
    for name, options in study.world_sections().items():
        progress(f"prepare: {name} (data + SFT model) ...")
        worlds[name] = get_world(name).build(options, art)
        progress(f"prepare: {name} {'cache hit' if worlds[name].cache_hit else 'built'}: "
                 f"{worlds[name].folder}")

    policy = str(worlds[study.policy.model].policy) if study.policy.model in worlds \
        else study.policy.model
    policy_path = hub.resolve(hub.HubRef(policy, "model", study.policy.revision))
    remote = study.policy.trust_remote_code
    progress("prepare: policy content hash ...")
    policy_hash = hash_dir(policy_path, cache_dir=art / "hashes")
    tokenizer = load_tokenizer(policy_path, trust_remote_code=remote)

    progress("prepare: data ...")
    train_all, train_report = load_table(_data_spec(study.data.train, worlds), "train")
    eval_df, eval_report = load_table(_data_spec(study.data.eval, worlds), "eval")
    if study.data.drop_zero_length:
        train_all = _drop_unusable_pairs(train_all, tokenizer, study.training.max_length,
                                         study.training.truncation_mode)
    train_df, held_df = _split_heldout(train_all, study.data.heldout_pairs)
    data_key = hash_json([_hash_table(train_df), _hash_table(held_df), _hash_table(eval_df)])
    data_dir = art / "data" / data_key
    paths = {n: data_dir / f"{n}.parquet" for n in ("train_pairs", "heldout_pairs", "eval_prompts")}
    for name, df in zip(paths, (train_df, held_df, eval_df)):
        problem = verify_file(paths[name])
        if problem and paths[name].exists():
            log.warning("data table %s %s: rewriting it", paths[name], problem)
        if problem:
            write_parquet_atomic(paths[name], df, seal=True)
    write_json_atomic(data_dir / "drops.json",
                      {"train": train_report.summary(), "eval": eval_report.summary()})
    progress(f"prepare: {len(train_df)} train pairs, {len(held_df)} held out, "
             f"{len(eval_df)} eval prompts")

    from harness.objectives import OBJECTIVES

    reference = None
    if any(OBJECTIVES[m].needs_reference for m in study.methods):
        progress("prepare: reference log-probs of the SFT model ...")
        pairs = pd.concat([train_df, held_df], ignore_index=True)
        reference, hit = build_reference(
            policy_path, policy_hash, pairs, _hash_table(pairs), study.training,
            art / "reference", study.policy.dtype, trust_remote_code=remote,
        )
        progress(f"prepare: reference {'cache hit' if hit else 'computed'}: {reference}")

    progress("prepare: SFT baseline (generations + gold scores) ...")
    generation = study.generation.model_dump()
    judge = dict(study.judge)
    base_key = hash_json([policy_hash, data_key, judge, generation])
    baseline_path = art / "baseline" / f"baseline-{base_key}.parquet"
    base = build_baseline(policy_path, None, eval_df, judge, generation, baseline_path,
                          sft_key=policy_hash, trust_remote_code=remote)
    progress(f"prepare: baseline {'cache hit' if base.attrs.get('cache_hit') else 'built'} "
             f"(SFT mean score {base['score'].mean():.3f})")

    prepared = PreparedStudy(
        study=study.study,
        artifacts_dir=str(art),
        train_pairs=str(paths["train_pairs"]),
        heldout_pairs=str(paths["heldout_pairs"]),
        eval_prompts=str(paths["eval_prompts"]),
        policy=policy_path,
        judge=judge,
        generation=generation,
        reference_logps=str(reference) if reference else None,
        baseline=str(baseline_path),
        hashes={"policy": policy_hash, "data": data_key, "baseline": base_key},
        trust_remote_code=remote,
        study_hash=study.hash(),
    )
    prepared.save(study_folder(art, study.study))
    progress(f"prepare: done in {time.perf_counter() - t0:.1f} s")
    return prepared
