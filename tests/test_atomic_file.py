"""Files are written atomically (atomic_file.py): a failed write, a full disk or a writer killed
with -9 leaves the old file whole and, after the next save, no temporary behind."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tinygrad_mnist import atomic_file as atomic_file_module
from tinygrad_mnist.atomic_file import FileWriteError, write_bytes_atomic, write_files_atomic


def test_write_bytes_atomic_replaces_file(tmp_path):
    path = tmp_path / "f.bin"
    write_bytes_atomic(path, b"old")
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_write_bytes_atomic_failure_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    write_bytes_atomic(path, b"old")

    def failing_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def fail_writes(monkeypatch, when=lambda data: True) -> None:
    """Make os.write raise ENOSPC (a full disk) for the writes `when(data)` picks."""
    real = os.write

    def write(fd, data):
        if when(bytes(data[:16])):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr(atomic_file_module.os, "write", write)


# ---------------------------------------------------------------------------- full disk
def test_full_disk_error_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    fail_writes(monkeypatch)
    with pytest.raises(FileWriteError) as info:
        write_bytes_atomic(path, b"new" * 1000)
    assert str(info.value) == f"cannot write {path}: No space left on device"
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    assert path.read_bytes() == b"old" and temporaries(tmp_path) == []


def test_files_written_together_are_all_or_nothing(tmp_path, monkeypatch):
    model, metrics = tmp_path / "m.npz", tmp_path / "m.json"
    model.write_bytes(b"old model")
    metrics.write_bytes(b"old metrics")
    fail_writes(monkeypatch, when=lambda data: data.startswith(b"{"))  # only the JSON fails
    with pytest.raises(FileWriteError, match=r"cannot write .*m\.json: No space left"):
        write_files_atomic({model: b"new model", metrics: b'{"new": 1}'})
    assert model.read_bytes() == b"old model"  # not a new model beside the old metrics
    assert metrics.read_bytes() == b"old metrics"
    assert temporaries(tmp_path) == []
    monkeypatch.undo()
    write_files_atomic({model: b"new model", metrics: b'{"new": 1}'})
    assert model.read_bytes() == b"new model" and metrics.read_bytes() == b'{"new": 1}'


# ---------------------------------------------------------------------------- kill -9
def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_dead_writers_are_removed_on_the_next_save(tmp_path):
    path = tmp_path / "model.npz"
    stale = tmp_path / f".model.npz.{dead_pid()}.0123abcd.tmp"
    ours = tmp_path / f".model.npz.{os.getpid()}.0123abcd.tmp"  # a live writer: kept
    foreign = tmp_path / ".model.npz.notes.tmp"  # not of our naming: kept
    other = tmp_path / f".other.npz.{dead_pid()}.0123abcd.tmp"  # another file's: kept
    for p in (stale, ours, foreign, other):
        p.write_bytes(b"x" * 1000)
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert not stale.exists() and ours.exists() and foreign.exists() and other.exists()


@pytest.mark.slow
def test_kill_9_during_a_save_leaves_no_temporary_after_the_next_save(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    code = (
        "import os, sys, time\n"
        "from tinygrad_mnist import atomic_file\n"
        "def stall(fd):\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "atomic_file.os.fsync = stall\n"
        f"atomic_file.write_bytes_atomic({str(path)!r}, b'n' * 100000)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tempfile.gettempdir()
    )
    try:
        assert child.stdout.readline().strip() == "writing"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert len(temporaries(tmp_path)) == 1 and path.read_bytes() == b"old"  # what -9 leaves
    write_bytes_atomic(path, b"new")
    assert temporaries(tmp_path) == [] and path.read_bytes() == b"new"
