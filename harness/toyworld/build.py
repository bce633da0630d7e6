"""Build (or load from cache) a toy world: data tables, tokenizer and SFT model.

Layout of a built world, ``<cache_root>/toyworld/<key>/`` with ``key = ToyWorldConfig.key()``::

    world.json          config, statistics, SFT training stats and sft_key, build timings
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

Worlds that differ only in how pairs are labelled or evaluated (``length_bias``,
``annotator_temperature``, the eval set, ...) train their SFT model on the same ``sft.jsonl``:
the SFT model is keyed by its config and that file (``sft_key`` in ``world.json``), and a build
copies the model of an already-built world with the same key instead of training it again. So
such worlds share one SFT start, and a variant costs seconds, not an SFT run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from harness.io import (
    hash_json,
    owner_tag,
    seal_folder,
    verify_folder,
    write_json_atomic,
    write_jsonl_atomic,
)
from harness.toyworld.config import TOYWORLD_VERSION, ToyWorldConfig

log = logging.getLogger(__name__)

WORLD_FILES = ("world.json", "train_pairs.jsonl", "eval_prompts.jsonl", "sft.jsonl")


def world_dir(cfg: ToyWorldConfig, cache_root: str | Path) -> Path:
    return Path(cache_root) / "toyworld" / cfg.key()


def is_built(folder: Path) -> bool:
    return all((folder / f).exists() for f in WORLD_FILES) and (folder / "sft" / "config.json").exists()


def sft_key(cfg: ToyWorldConfig, sft_file: Path) -> str:
    """Cache key of the SFT model: the SFT config and the content of its training file."""
    digest = hashlib.sha256(Path(sft_file).read_bytes()).hexdigest()
    return hash_json({"v": TOYWORLD_VERSION, "sft": cfg.sft.model_dump(), "data": digest})


def find_sft(cache_root: str | Path, key: str) -> Path | None:
    """The SFT model folder of a built, undamaged world whose ``sft_key`` is ``key``, if any."""
    for info in sorted((Path(cache_root) / "toyworld").glob("*/world.json")):
        try:
            if (json.loads(info.read_text()).get("sft_key") == key and is_built(info.parent)
                    and not verify_folder(info.parent)):
                return info.parent / "sft"
        except (OSError, ValueError):  # a world being replaced, or an unreadable one: skip
            continue
    return None


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

        t1 = time.perf_counter()
        key = sft_key(cfg, tmp / "sft.jsonl")
        shared = find_sft(cache_root, key)
        if shared is not None:
            shutil.copytree(shared, tmp / "sft")
            sft_stats = {**load_world_info(shared.parent)["sft"], "copied_from": shared.parent.name}
            log.info("toy world SFT model: copied from %s (same sft_key)", shared.parent)
        else:
            tokenizer = build_tokenizer(vocabulary())
            sft_stats = train_sft(cfg.sft, tokenizer, read_jsonl(tmp / "sft.jsonl"), tmp / "sft")
        t_sft = time.perf_counter() - t1
        write_json_atomic(
            tmp / "world.json",
            {
                "key": cfg.key(),
                "sft_key": key,
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
