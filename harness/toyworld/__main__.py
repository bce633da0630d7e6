"""``python -m harness.toyworld build --out DIR``: build the toy world and its SFT model.

Prints the world's statistics (pair counts, chosen/rejected length ratio, gold agreement of the
annotators, gold scores of the eval set's chosen and rejected replies) and the SFT model's
training stats. A second build with the same configuration is a cache hit.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from harness.errors import UserError
from harness.toyworld.build import build_toyworld, load_world_info
from harness.toyworld.config import ToyWorldConfig


class ToyWorldArgumentError(UserError, ValueError):
    """A bad ``--set`` of the toy-world command."""


def _parse_sets(pairs: list[str]) -> dict:
    import yaml

    out: dict = {}
    for item in pairs:
        if "=" not in item:
            raise ToyWorldArgumentError(f"--set expects key.path=value, got {item!r}")
        key, value = item.split("=", 1)
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        try:
            node[parts[-1]] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ToyWorldArgumentError(f"--set {item}: the value is not YAML ({e})") from None
    return out


def main(argv: list[str] | None = None) -> int:
    """The CLI, through the harness's one error path (:mod:`harness.cli`)."""
    from harness.cli import run

    return run(_main, argv)


def _main(argv: list[str]) -> int:
    from harness.cli import plain

    ap = argparse.ArgumentParser(prog="python -m harness.toyworld", description=plain(__doc__))
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the world + SFT model (cached)")
    b.add_argument("--out", default="artifacts", help="cache root (default: artifacts)")
    b.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a ToyWorldConfig field, e.g. world.seed=1 or sft.epochs=2",
    )
    b.add_argument("-v", "--verbose", action="store_true", help="tracebacks on errors")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from pydantic import ValidationError

    try:
        cfg = ToyWorldConfig.model_validate(_parse_sets(args.set))
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise ToyWorldArgumentError(f"invalid toy-world setting: {problems}") from None
    t0 = time.perf_counter()
    print(f"building toy world {cfg.key()} under {args.out} ...", flush=True)
    folder, hit = build_toyworld(cfg, args.out)
    info = load_world_info(folder)
    print(f"{'cache hit' if hit else 'built'}: {folder}  ({time.perf_counter() - t0:.1f} s)")
    print(json.dumps({"stats": info["stats"], "sft": info["sft"], "seconds": info["seconds"]},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
