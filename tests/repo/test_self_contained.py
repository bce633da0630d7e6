"""The repository stands alone (issue 15, "What must hold" 5): no file in it cites a design or
facts page, a contract or guide page, or a folder that is not in the repository. A cited
``<name>.md`` must exist at the path it names, read from the citing file's folder (a Markdown
link) or from the repository root (a path in a docstring or comment, such as docs/design.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Page names that lived outside the repository while it was built; a file of the same name
# inside it is fine when the citation points at it.
CITED = re.compile(r"[\w./~-]*\b(?:design|facts|CONTRACT|GUIDE)\.md\b")
OUTSIDE = re.compile(r"/work/(?:shared|wt)\b")
SKIP_DIRS = {".git", ".venv", ".test-cache", "results", "artifacts", "node_modules"}


def repository_files() -> list[Path]:
    """Tracked files and new ones git does not ignore; every file when git is not there."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                             cwd=REPO, capture_output=True, check=True, timeout=60).stdout
        files = [REPO / p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in REPO.rglob("*") if p.is_file()
                 and not SKIP_DIRS & set(p.relative_to(REPO).parts)]
    return [p for p in files if p.is_file()]


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:4096]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def dangling_citations(files, root: Path = REPO) -> list[str]:
    """``file:line: citation`` for every citation in ``files`` that names no file under
    ``root``."""
    bad = []
    root = root.resolve()
    for path in files:
        text = _text(path)
        if text is None:
            continue
        rel = path.relative_to(root)
        for n, line in enumerate(text.splitlines(), 1):
            for m in CITED.finditer(line):
                cited = m.group(0).rstrip(".")
                here = (path.parent / cited).resolve()
                top = (root / cited).resolve() if not cited.startswith("/") else None
                inside = [p for p in (here, top) if p is not None and p.is_relative_to(root)
                          and p.is_file()]
                if not inside:
                    bad.append(f"{rel}:{n}: {cited}")
            if OUTSIDE.search(line):
                bad.append(f"{rel}:{n}: {OUTSIDE.search(line).group(0)}")
    return bad


def test_no_file_cites_a_page_outside_the_repository():
    bad = dangling_citations(repository_files())
    assert not bad, "citations of pages that are not in the repository:\n" + "\n".join(bad)


def test_the_check_catches_dangling_citations(tmp_path):
    """The check can fail: in a small tree, what names no file in it is reported, what names
    one is not. (The page names are assembled so that this file does not cite them itself.)"""
    design, facts, shared = "design" + ".md", "facts" + ".md", "/work/" + "shared"
    (tmp_path / "docs").mkdir()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "docs" / design).write_text("# design\n")
    ok_link = tmp_path / "docs" / "guide.md"
    ok_link.write_text(f"See [design]({design}) and docs/{design}.\n")
    bad = tmp_path / "pkg" / "mod.py"
    bad.write_text(f'"""Order ({design}, "Pipeline"); {facts}; {shared}/x; ../../{facts}"""\n')
    found = dangling_citations([ok_link, bad], tmp_path)
    assert found == [f"pkg/mod.py:1: {design}", f"pkg/mod.py:1: {facts}",
                     f"pkg/mod.py:1: ../../{facts}", f"pkg/mod.py:1: {shared}"], found
