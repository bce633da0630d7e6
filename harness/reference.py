"""The shared reference log-probs cache: computed once, read by every DPO and LN-DPO trial.

The reference of DPO and LN-DPO is the frozen SFT model; its summed completion log-probs of
every train (and held-out) pair depend only on (SFT model content, pair data, tokenization
settings). They are computed once with the same tokenization the trainer uses (TRL's
``_prepare_dataset`` inside :class:`~harness.preference_trainer.PreferenceTrainer`) and stored
as ``reference-<key>.parquet`` (columns ``pair_id, ref_chosen_logps, ref_rejected_logps``),
written atomically, so two trials racing to build it cannot leave a broken file, and sealed
with a checksum: a cache whose bytes changed (truncated, flipped) is rebuilt with a warning, and
:func:`load_reference` refuses one, so no trial trains against damaged log-probs. A trial then
trains with no reference model in memory: a DPO trial costs about what a SimPO trial costs.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pandas as pd

from harness.io import hash_json, require_sealed, verify_file, write_parquet_atomic

log = logging.getLogger(__name__)

COLUMNS = ("pair_id", "ref_chosen_logps", "ref_rejected_logps")

# Counts computations in this process (tests assert cache hits do not compute).
BUILDS = {"computed": 0}


def reference_key(policy_hash: str, pairs_hash: str, training, dtype: str) -> str:
    """Hash of everything that changes the reference log-probs."""
    import trl

    from harness.models import resolve_dtype

    return hash_json(
        {
            "policy": policy_hash,
            "pairs": pairs_hash,
            "max_length": training.max_length,
            "truncation_mode": training.truncation_mode,
            # The dtype computed in: "auto" is float32 on CPU and bfloat16 on a GPU.
            "dtype": str(resolve_dtype(dtype)),
            "trl": trl.__version__,
        }
    )


def compute_reference(policy_path: str, pairs: pd.DataFrame, training, dtype: str = "auto",
                      trust_remote_code: bool = False) -> dict:
    """``pair_id -> (ref_chosen_logp, ref_rejected_logp)`` of the SFT model at ``policy_path``."""
    from harness.models import load_causal_lm, load_tokenizer
    from harness.preference_trainer import sequence_logps_table
    from harness.train import _make_trainer, _trl_args, to_trl_rows

    tokenizer = load_tokenizer(policy_path, trust_remote_code=trust_remote_code)
    rows = to_trl_rows(pairs)
    with tempfile.TemporaryDirectory(prefix="po-ref-") as tmp:
        args = _trl_args(training, output_dir=tmp, seed=0, dtype=dtype)
        # As in training: float32 weights under bf16 autocast when training is mixed precision,
        # so a policy equal to the reference has a margin of exactly 0 at step 0.
        model = load_causal_lm(policy_path, dtype="float32" if args.bf16 else dtype,
                               trust_remote_code=trust_remote_code)
        # No objective, reference=None: the precompute hook leaves the data alone; we only need
        # the trainer's tokenization and collator, and its log-prob pass.
        trainer = _make_trainer(model, tokenizer, rows[:1], args, objective=None, hparams={},
                                reference=None)
        table = sequence_logps_table(trainer, rows)
    BUILDS["computed"] += 1
    dropped = len(rows) - len(table)
    if dropped:
        log.warning("reference: %d pairs dropped by TRL's truncation filter", dropped)
    return table


def build_reference(
    policy_path: str, policy_hash: str, pairs: pd.DataFrame, pairs_hash: str, training,
    cache_dir: str | Path, dtype: str = "auto", trust_remote_code: bool = False,
) -> tuple[Path, bool]:
    """Return ``(path, cache_hit)`` of the reference cache for these inputs, building it if
    needed (or if the cached file does not match its checksum)."""
    key = reference_key(policy_hash, pairs_hash, training, dtype)
    path = Path(cache_dir) / f"reference-{key}.parquet"
    problem = verify_file(path)
    if problem is None:
        log.info("reference log-probs: cache hit %s", path)
        return path, True
    if path.exists():
        log.warning("reference log-probs cache %s %s: computing it again", path, problem)
    table = compute_reference(policy_path, pairs, training, dtype, trust_remote_code)
    df = pd.DataFrame(
        [(k, v[0], v[1]) for k, v in table.items()], columns=list(COLUMNS)
    )
    write_parquet_atomic(path, df, seal=True)
    return path, False


def load_reference(path: str | Path) -> dict:
    """``pair_id -> (chosen, rejected)`` log-probs; DamagedFileError unless the file matches its
    checksum."""
    df = pd.read_parquet(require_sealed(path))
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a reference cache (missing columns {missing})")
    return {
        p: (c, r)
        for p, c, r in zip(df["pair_id"], df["ref_chosen_logps"], df["ref_rejected_logps"])
    }
