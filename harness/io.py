"""Atomic file writes, content hashes and checksums, and strict text reading.

Every artifact and results table is written to a temporary file in the destination folder and
renamed into place (``os.replace`` is atomic on POSIX), so a reader, a racing trial or a killed
driver never sees half a file. The temporary name, ``.<name>.<owner>.<random>.tmp``, carries
the writer's :func:`owner_tag` (host and pid), so a later run removes only leftovers whose
writer is gone (:mod:`harness.cleanup`), never a file another live sweep is writing.

Caches that are read back (data tables, reference log-probs, the SFT baseline, the toy world)
are *sealed*: a ``<file>.sha256`` beside the file (``sha256sum`` format, so ``sha256sum -c``
checks it by hand) holds the digest of its bytes, and :func:`verify_file` re-reads the file and
compares. A truncated or bit-flipped file fails the check and is rebuilt by its owner, never
read as if it were good.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any, Iterator

from harness.errors import DamagedFileError, NotWritableError, TextDecodeError

CHECKSUM_SUFFIX = ".sha256"
FOLDER_CHECKSUMS = "checksums.sha256"
# ``~<pid>~<host digest>~``: who wrote a temporary file or folder (see harness.cleanup).
OWNER_RE = re.compile(r"~(?P<pid>\d+)~(?P<host>[0-9a-f]{8})~")


def host_id() -> str:
    """8 hex digits naming this machine (hostnames may hold dots and dashes; a digest does not)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def owner_tag(pid: int | None = None) -> str:
    """``~<pid>~<host id>~``: put in the name of a temporary file or folder this process makes."""
    return f"~{os.getpid() if pid is None else pid}~{host_id()}~"


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success rename it onto ``dest``.

    On an exception the temporary file is removed and ``dest`` is left untouched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.{owner_tag()}", suffix=suffix + ".tmp",
                               dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; results and reports are meant to be shared.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(dest: str | os.PathLike, text: str) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(dest: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(dest, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_parquet_atomic(dest: str | os.PathLike, df, seal: bool = False) -> None:
    """Write ``df`` (index dropped); ``seal=True`` also writes its checksum (:func:`seal_file`)."""
    with atomic_path(dest, suffix=".parquet") as tmp:
        df.to_parquet(tmp, index=False)
    if seal:
        seal_file(dest)


def write_jsonl_atomic(dest: str | os.PathLike, rows) -> None:
    """Write dict rows as JSON lines with sorted keys, so equal rows give equal bytes."""
    with atomic_path(dest) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")


def ensure_writable(folder: str | os.PathLike) -> int:
    """Check that ``folder`` can be written (or created) before any long work, creating
    nothing: a probe file is made and removed in ``folder`` or, when it does not exist yet, in
    its nearest existing parent. Returns the free space there in bytes.
    :class:`NotWritableError` names the folder."""
    import shutil

    folder = Path(folder)
    probe_in = folder
    while not probe_in.exists() and probe_in != probe_in.parent:
        probe_in = probe_in.parent
    try:
        if not probe_in.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(probe_in))
        fd, probe = tempfile.mkstemp(prefix=f".write-check.{owner_tag()}", suffix=".tmp",
                                     dir=probe_in)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise NotWritableError(
            f"{folder} is not writable ({e.strerror or e}{'' if probe_in == folder else f' in {probe_in}'}):"
            " choose a folder you can write to (results_dir / artifacts_dir in the YAML, or "
            "--results)") from None
    return shutil.disk_usage(probe_in).free


# ----------------------------------------------------------------------------- strict reading


def decode_utf8(data: bytes, source: str | os.PathLike) -> str:
    """``data`` as text; bytes that are not UTF-8 raise :class:`TextDecodeError` naming the
    file, line and column (Python's own error names neither the file nor the line)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise TextDecodeError(
            f"{source}, line {line}, column {column}: not UTF-8 text (byte 0x{data[e.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def check_utf8(path: str | os.PathLike) -> None:
    """Raise :class:`TextDecodeError` naming the first line of ``path`` that is not UTF-8
    (streamed line by line: a data file may be large)."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                raise TextDecodeError(
                    f"{path}, line {number}, column {e.start + 1}: not UTF-8 text "
                    f"(byte 0x{line[e.start]:02x}); save the file as UTF-8") from None


def read_text(path: str | os.PathLike, max_bytes: int | None = None) -> str:
    """A UTF-8 text file; one larger than ``max_bytes`` is refused before it is read."""
    path = Path(path)
    if max_bytes is not None:
        size = path.stat().st_size
        if size > max_bytes:
            raise DamagedFileError(
                f"{path}: {size} bytes, more than the {max_bytes} this file may have")
    return decode_utf8(path.read_bytes(), path)


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """JSON lines; a line that is not UTF-8 or not JSON raises an error naming file and line."""
    text = decode_utf8(Path(path).read_bytes(), path)
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise DamagedFileError(f"{path}, line {number}: not valid JSON ({e.msg})") from None
    return rows


# ----------------------------------------------------------------------------- hashes


def hash_json(obj: Any, length: int = 16) -> str:
    """Stable hex digest of a JSON-serialisable object (keys sorted)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def _update(h, path: Path) -> None:
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)


def file_sha256(path: str | os.PathLike) -> str:
    """Full SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    _update(h, Path(path))
    return h.hexdigest()


def hash_files(paths, length: int = 16) -> str:
    """Digest of the bytes of the given files (and their names, relative order kept)."""
    h = hashlib.sha256()
    for p in paths:
        p = Path(p)
        h.update(p.name.encode())
        _update(h, p)
    return h.hexdigest()[:length]


def _dir_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def hash_dir(folder: str | os.PathLike, length: int = 16,
             cache_dir: str | os.PathLike | None = None) -> str:
    """Digest of every regular file under ``folder`` (sorted by relative path).

    With ``cache_dir``, the digest is remembered under the folder's *signature* (each file's
    relative path, size and modification time): a folder whose signature is unchanged is not
    read again, so re-running a study over a 28 GB policy folder costs a few ``stat`` calls.
    A file rewritten in place changes its mtime and so the signature.
    """
    folder = Path(folder)
    files = _dir_files(folder)
    cache = None
    if cache_dir is not None:
        stats = [(str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        signature = hash_json(stats, 32)
        cache = Path(cache_dir) / f"dir-{hash_json(str(folder.resolve()))}.json"
        try:
            known = json.loads(cache.read_text(encoding="utf-8"))
            if known.get("signature") == signature and len(known.get("hash", "")) >= length:
                return known["hash"][:length]
        except (OSError, ValueError, AttributeError):
            pass  # no or unreadable cache entry: hash the files
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(folder)).encode())
        _update(h, p)
    digest = h.hexdigest()
    if cache is not None:
        write_json_atomic(cache, {"folder": str(folder.resolve()), "signature": signature,
                                  "hash": digest})
    return digest[:length]


# ----------------------------------------------------------------------------- checksums


def checksum_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def seal_file(path: str | os.PathLike) -> None:
    """Write ``<path>.sha256`` holding the digest of ``path``'s bytes."""
    path = Path(path)
    write_text_atomic(checksum_path(path), f"{file_sha256(path)}  {path.name}\n")


def verify_file(path: str | os.PathLike) -> str | None:
    """``None`` when ``path`` matches its checksum; else what is wrong, in words."""
    path = Path(path)
    if not path.is_file():
        return "is missing"
    side = checksum_path(path)
    if not side.is_file():
        return f"has no checksum {side.name} (written by an older harness, or cut short)"
    try:
        expected = side.read_text(encoding="utf-8").split()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return f"has an unreadable checksum file {side.name}"
    actual = file_sha256(path)
    if actual != expected:
        return f"does not match its checksum (sha256 {actual[:12]}..., expected {expected[:12]}...)"
    return None


def require_sealed(path: str | os.PathLike) -> Path:
    """``path`` if it matches its checksum, else :class:`DamagedFileError` naming it."""
    problem = verify_file(path)
    if problem:
        raise DamagedFileError(f"{path} {problem}: re-run the sweep to rebuild it")
    return Path(path)


def seal_folder(folder: str | os.PathLike) -> None:
    """Write ``<folder>/checksums.sha256``: the digest of every other file under ``folder``."""
    folder = Path(folder)
    lines = [f"{file_sha256(p)}  {p.relative_to(folder)}" for p in _dir_files(folder)
             if p.name != FOLDER_CHECKSUMS]
    write_text_atomic(folder / FOLDER_CHECKSUMS, "\n".join(lines) + "\n")


def verify_folder(folder: str | os.PathLike) -> list[str]:
    """What is wrong with ``folder`` against its ``checksums.sha256`` ([] when intact): files
    missing, changed, or added since it was sealed."""
    folder = Path(folder)
    listing = folder / FOLDER_CHECKSUMS
    if not listing.is_file():
        return [f"{listing} is missing (not sealed, or written by an older harness)"]
    expected = {}
    for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            expected[name] = digest
    problems = []
    present = {str(p.relative_to(folder)) for p in _dir_files(folder) if p.name != FOLDER_CHECKSUMS}
    for name, digest in sorted(expected.items()):
        path = folder / name
        if name not in present:
            problems.append(f"{path} is missing")
        elif file_sha256(path) != digest:
            problems.append(f"{path} does not match its checksum")
    problems += [f"{folder / name} was not there when the folder was sealed"
                 for name in sorted(present - set(expected))]
    return problems
