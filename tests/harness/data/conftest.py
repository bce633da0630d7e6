"""Shared fixtures for the data-adapter tests: fixture folders and an isolated datasets cache."""

from __future__ import annotations

import json
import pytest

@pytest.fixture(autouse=True)
def _isolated_datasets_cache(tmp_path_factory, monkeypatch):
    """Keep ``datasets``' Arrow cache out of the home folder (read at call time)."""
    import datasets.config

    cache = tmp_path_factory.getbasetemp() / "hf_datasets_cache"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setattr(datasets.config, "DOWNLOADED_DATASETS_PATH", cache / "downloads")
    monkeypatch.setattr(
        datasets.config, "EXTRACTED_DATASETS_PATH", cache / "downloads" / "extracted"
    )
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def write_jsonl(tmp_path):
    """Write dict rows to ``tmp_path/name`` as JSON lines and return the path as a string."""

    def write(name: str, rows: list[dict]) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return str(path)

    return write
