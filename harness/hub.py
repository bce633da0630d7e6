"""Resolve models and datasets named by a local path or a Hugging Face Hub id, offline-aware.

A real study names Phi-3, PKU-SafeRLHF, HH-RLHF and the OpenAssistant reward model by Hub id.
On a machine that cannot reach the Hub (``HF_HUB_OFFLINE=1``), everything a study needs must be
checked *before* any work starts, and each missing item named with how to fetch it. This module
does that check; loaders call :func:`resolve` and pass its result to ``from_pretrained`` /
``load_dataset``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from harness.errors import UserError

RepoType = Literal["model", "dataset"]


class MissingHubArtifactError(UserError, RuntimeError):
    """One or more Hub ids are neither local paths nor in the local Hugging Face cache."""


@dataclass(frozen=True)
class HubRef:
    """A model or dataset named by local path or Hub id."""

    name: str
    repo_type: RepoType = "model"
    revision: str | None = None

    @property
    def is_local(self) -> bool:
        return Path(self.name).expanduser().exists()

    def fetch_hint(self) -> str:
        rev = f" --revision {self.revision}" if self.revision else ""
        kind = " --repo-type dataset" if self.repo_type == "dataset" else ""
        return f"hf download {self.name}{kind}{rev}"


def offline() -> bool:
    """True when the Hub must not be contacted (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE set)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}:
            return True
    return False


def snapshot_path(ref: HubRef) -> str | None:
    """The folder of a Hub id's snapshot in the local Hugging Face cache, or None (no network)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(
            ref.name, repo_type=ref.repo_type, revision=ref.revision, local_files_only=True
        )
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def is_cached(ref: HubRef) -> bool:
    """Whether a ref is a local path or a Hub id with a snapshot in the local cache."""
    return ref.is_local or snapshot_path(ref) is not None


def missing(refs: Iterable[HubRef]) -> list[HubRef]:
    """The refs that cannot be loaded offline: not a local path and not in the cache."""
    return [r for r in refs if not is_cached(r)]


def missing_message(refs: Iterable[HubRef]) -> str:
    refs = list(refs)
    lines = [
        f"{len(refs)} model(s)/dataset(s) are not available offline "
        "(not a local path and not in the Hugging Face cache):"
    ]
    for r in refs:
        rev = f" (revision {r.revision})" if r.revision else ""
        lines.append(f"  - {r.repo_type} {r.name}{rev}")
    lines.append(
        "Fetch them on a connected machine and copy the cache (HF_HOME) here, or give a local "
        "path instead of the Hub id. For example:"
    )
    lines.extend(f"    {r.fetch_hint()}" for r in refs)
    return "\n".join(lines)


def check_available(refs: Iterable[HubRef]) -> None:
    """Raise :class:`MissingHubArtifactError` naming every ref that cannot be loaded.

    Only enforced offline: online, ``from_pretrained`` downloads what is missing.
    """
    if not offline():
        return
    gone = missing(refs)
    if gone:
        raise MissingHubArtifactError(missing_message(gone))


def resolve(ref: HubRef) -> str:
    """The string to hand to ``from_pretrained``: an absolute local path, or the Hub id."""
    if ref.is_local:
        return str(Path(ref.name).expanduser().resolve())
    check_available([ref])
    return ref.name
