"""Checksums, strict text reading, the policy-hash cache, writable folders (issue 10)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from harness.cli import run
from harness.errors import DamagedFileError, NotWritableError, TextDecodeError
from harness.io import (
    check_utf8,
    ensure_writable,
    hash_dir,
    read_jsonl,
    read_text,
    require_sealed,
    seal_folder,
    verify_file,
    verify_folder,
    write_parquet_atomic,
)


@pytest.fixture()
def sealed(tmp_path):
    import pandas as pd

    path = tmp_path / "table.parquet"
    write_parquet_atomic(path, pd.DataFrame({"a": range(100), "b": [0.5] * 100}), seal=True)
    return path


def test_sealed_file_verifies(sealed):
    assert verify_file(sealed) is None
    assert require_sealed(sealed) == sealed
    assert (sealed.parent / "table.parquet.sha256").read_text().endswith("  table.parquet\n")


@pytest.mark.parametrize("damage", ["truncate", "flip", "no_checksum", "missing"])
def test_damaged_sealed_file_is_detected(sealed, damage):
    data = sealed.read_bytes()
    if damage == "truncate":
        sealed.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # four bytes in the middle: the parquet may still load, silently wrong
        mid = len(data) // 2
        sealed.write_bytes(data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 4]) + data[mid + 4:])
    elif damage == "no_checksum":
        (sealed.parent / "table.parquet.sha256").unlink()
    else:
        sealed.unlink()
    problem = verify_file(sealed)
    assert problem is not None
    with pytest.raises(DamagedFileError, match=str(sealed)):
        require_sealed(sealed)


def test_folder_seal_names_changed_missing_and_added_files(tmp_path):
    (tmp_path / "sft").mkdir()
    (tmp_path / "sft" / "model.safetensors").write_bytes(b"\x00" * 1000)
    (tmp_path / "world.json").write_text("{}")
    seal_folder(tmp_path)
    assert verify_folder(tmp_path) == []
    (tmp_path / "sft" / "model.safetensors").write_bytes(b"\x00" * 500)  # truncated
    (tmp_path / "world.json").unlink()
    (tmp_path / "extra.txt").write_text("x")
    problems = " | ".join(verify_folder(tmp_path))
    assert "model.safetensors does not match" in problems
    assert "world.json is missing" in problems and "extra.txt was not there" in problems


def test_policy_hash_is_cached_by_sizes_and_mtimes(tmp_path):
    """A re-run does not read the weights again: the cached digest is used while every file's
    size and mtime are unchanged (shown by changing bytes behind the cache's back), and a file
    rewritten in place (new mtime) is hashed again."""
    policy, cache = tmp_path / "policy", tmp_path / "hashes"
    policy.mkdir()
    weights = policy / "model.safetensors"
    weights.write_bytes(b"\x01" * 4096)
    (policy / "config.json").write_text("{}")
    first = hash_dir(policy, cache_dir=cache)
    assert first == hash_dir(policy)  # the same digest as without a cache
    stat = weights.stat()
    weights.write_bytes(b"\x02" * 4096)  # same size ...
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ... and mtime
    assert hash_dir(policy, cache_dir=cache) == first  # not re-read
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = hash_dir(policy, cache_dir=cache)
    assert again != first and again == hash_dir(policy)


def test_non_utf8_text_names_file_line_and_column(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_bytes(b"study: ok\nname: caf\xe9\n")
    with pytest.raises(TextDecodeError, match=r"study.yaml, line 2, column 10: not UTF-8.*0xe9"):
        read_text(path)
    with pytest.raises(TextDecodeError, match=r"study.yaml, line 2, column 10"):
        check_utf8(path)


def test_jsonl_errors_name_file_and_line(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(DamagedFileError, match=r"pairs.jsonl, line 3: not valid JSON"):
        read_jsonl(path)
    path.write_bytes(b'{"a": 1}\n{"a": "\xff"}\n')
    with pytest.raises(TextDecodeError, match=r"pairs.jsonl, line 2"):
        read_jsonl(path)


def test_too_large_text_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 5000)
    with pytest.raises(DamagedFileError, match="5000 bytes, more than the 1000"):
        read_text(path, max_bytes=1000)


def test_unwritable_folder_is_named_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotWritableError, match=r"file/results is not writable"):
        ensure_writable(tmp_path / "file" / "results")
    with pytest.raises(NotWritableError, match=r"/proc/po-harness-results is not writable"):
        ensure_writable("/proc/po-harness-results")  # /proc takes no new folders, even as root
    if os.geteuid() != 0:  # root writes into read-only folders anyway
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(NotWritableError):
            ensure_writable(ro)
    assert ensure_writable(tmp_path / "new" / "results") > 0  # free bytes
    assert not (tmp_path / "new").exists()  # creates nothing
    assert not any(p.name.startswith(".write-check") for p in tmp_path.iterdir())


def test_disk_full_is_one_error_line(capsys):
    """A real ENOSPC (writing to /dev/full) through the CLI error path."""

    def main(argv):
        with open("/dev/full", "w") as fh:
            fh.write("x" * 10)
            fh.flush()
        return 0

    assert run(main, []) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "No space left on device" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_os_error_names_the_file_and_verbose_adds_the_traceback(capsys):
    def main(argv):
        raise OSError(errno.ENAMETOOLONG, "File name too long", "/r/" + "x" * 300)

    assert run(main, []) == 2
    err = capsys.readouterr().err
    assert "error: /r/xxx" in err and "File name too long" in err and "shorter" in err
    assert "Traceback" not in err
    assert run(main, ["-v"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_unexpected_errors_keep_their_traceback():
    def main(argv):
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        run(main, [])


def test_sigterm_becomes_exit_143_without_traceback():
    code = ("import os, signal, time\n"
            "from harness.cli import run\n"
            "def main(argv):\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    time.sleep(30)\n"
            "    return 0\n"
            "raise SystemExit(run(main, []))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ})
    assert proc.returncode == 143, proc.stderr
    assert "interrupted (SIGTERM)" in proc.stderr and "Traceback" not in proc.stderr
