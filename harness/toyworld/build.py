"""Build (or load from cache) a toy world: data tables, tokenizer and SFT model.

Layout of a built world, ``<cache_root>/toyworld/<key>/`` with ``key = ToyWorldConfig.key()``::

    world.json          config, statistics, SFT training stats, build timings
    train_pairs.jsonl   pair_id, prompt, chosen, rejected
    eval_prompts.jsonl  prompt_id, prompt, chosen, rejected
    sft.jsonl           prompt/completion messages the SFT model was trained on
    sft/                the SFT model (safetensors) and its tokenizer

The folder is built under a temporary name and renamed into place, so a half-built world is
never visible and two processes racing to build the same key both end with one complete copy.
The temporary name carries the builder's pid and host (``harness.io.owner_tag``), so the
harness removes one left by a killed build (``harness.cleanup``). A built world is sealed
(``checksums.sha256``, every file's digest) and checked before it is reused: a damaged world
(e.g. truncated SFT weights) is rebuilt with a warning naming the damaged files.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from harness.io import owner_tag, seal_folder, verify_folder, write_json_atomic, write_jsonl_atomic
from harness.toyworld.config import ToyWorldConfig

log = logging.getLogger(__name__)

WORLD_FILES = ("world.json", "train_pairs.jsonl", "eval_prompts.jsonl", "sft.jsonl")


def world_dir(cfg: ToyWorldConfig, cache_root: str | Path) -> Path:
    return Path(cache_root) / "toyworld" / cfg.key()


def is_built(folder: Path) -> bool:
    return all((folder / f).exists() for f in WORLD_FILES) and (folder / "sft" / "config.json").exists()


def write_world_data(cfg: ToyWorldConfig, folder: str | Path) -> dict:
    """Write the three data tables of the world into ``folder``; returns the world statistics."""
    from harness.toyworld.data import build_data, world_stats

    folder = Path(folder)
    data = build_data(cfg.world)
    write_jsonl_atomic(folder / "train_pairs.jsonl", data.train_pairs)
    write_jsonl_atomic(folder / "eval_prompts.jsonl", data.eval_prompts)
    write_jsonl_atomic(folder / "sft.jsonl", data.sft)
    return world_stats(data)


def build_toyworld(cfg: ToyWorldConfig, cache_root: str | Path) -> tuple[Path, bool]:
    """Return ``(folder, cache_hit)`` for the world and SFT model described by ``cfg``."""
    from harness.io import read_jsonl
    from harness.toyworld.sft import train_sft
    from harness.toyworld.tokenizer import build_tokenizer
    from harness.toyworld.world import vocabulary

    dest = world_dir(cfg, cache_root)
    if is_built(dest):
        damaged = verify_folder(dest)
        if not damaged:
            log.info("toy world %s: cache hit", dest)
            return dest, True
        log.warning("toy world %s is damaged (%s): building it again", dest, "; ".join(damaged[:3]))
        shutil.rmtree(dest, ignore_errors=True)

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{owner_tag()}", dir=dest.parent))
    try:
        t0 = time.perf_counter()
        stats = write_world_data(cfg, tmp)
        t_data = time.perf_counter() - t0
        log.info("toy world data: %s", stats)

        tokenizer = build_tokenizer(vocabulary())
        t1 = time.perf_counter()
        sft_stats = train_sft(cfg.sft, tokenizer, read_jsonl(tmp / "sft.jsonl"), tmp / "sft")
        t_sft = time.perf_counter() - t1
        write_json_atomic(
            tmp / "world.json",
            {
                "key": cfg.key(),
                "config": cfg.model_dump(),
                "stats": stats,
                "sft": sft_stats,
                "seconds": {"data": round(t_data, 2), "sft": round(t_sft, 2)},
            },
        )
        seal_folder(tmp)
        try:
            tmp.rename(dest)
        except OSError:
            if not is_built(dest):  # lost a race to a broken folder: replace it
                shutil.rmtree(dest, ignore_errors=True)
                tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest, False


def load_world_info(folder: str | Path) -> dict:
    return json.loads((Path(folder) / "world.json").read_text())
