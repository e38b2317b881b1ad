"""Issue 11, files: full disks, killed writers, memory bombs in model files, crafted headers,
checkpoints with impossible training state, empty data sets and misleading messages."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor
from tinygrad_mnist import atomic_file as atomic_file_module
from tinygrad_mnist.atomic_file import FileWriteError, write_bytes_atomic, write_files_atomic
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.optim import SGD
from tinygrad_mnist.serialization import (
    MAX_LAYERS,
    META_KEY,
    ModelFileError,
    load_checkpoint,
    load_model,
    read_checkpoint_extra,
    save_checkpoint,
    save_model,
)
from tinygrad_mnist.utils.data import DataLoader, IDXError, MNISTNotFoundError, load_mnist
from tinygrad_mnist.utils.data.idx import save_idx


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


# ---------------------------------------------------------------------------- 5: full disk
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


# ---------------------------------------------------------------------------- 6: kill -9
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


# ---------------------------------------------------------------------------- 8, 9: memory bombs
def small_model() -> MLP:
    return MLP([6, 5, 3], activation="tanh", seed=0)


def npz_with(path: Path, arrays: dict[str, np.ndarray], header: dict) -> None:
    """A compressed .npz of `arrays` plus the JSON `header` as its metadata."""
    with open(path, "wb") as f:
        np.savez_compressed(f, **{META_KEY: np.array(json.dumps(header))}, **arrays)


def model_header(**changes) -> dict:
    header = {
        "format": "tinygrad-mnist-model", "version": 1, "sizes": [6, 5, 3],
        "activation": "tanh", "dtype": "float32", "meta": {},
    }  # fmt: skip
    return {**header, **changes}


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("where", ["wrong shape", "extra array"])
def test_model_file_arrays_are_checked_before_decompression(tmp_path, where):
    model = small_model()
    arrays = {k: v for k, v in model.state_dict().items()}
    bomb = np.zeros((2000, 2000), np.float32)  # 16 MB that compress to ~16 KB
    if where == "wrong shape":
        arrays["0.weight"] = bomb
        expected = r"'0\.weight' has shape \(2000, 2000\), the model needs \(5, 6\)"
    else:
        arrays["junk"] = bomb
        expected = r"unexpected arrays 'junk'"
    path = tmp_path / "bomb.npz"
    npz_with(path, arrays, model_header())
    assert path.stat().st_size < 200_000

    def load():
        with pytest.raises(ModelFileError, match=expected):
            load_model(path)

    assert peak_bytes(load) < 2_000_000  # the 16 MB array was never decompressed


def test_checkpoint_buffers_are_checked_before_decompression(tmp_path):
    model = small_model()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / "c.npz"
    save_checkpoint(path, model, opt, {"epoch": 1})
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays.pop(META_KEY)))
    arrays["optim/buffers/0"] = np.zeros((2000, 2000), np.float32)
    npz_with(path, arrays, header)

    def load():
        with pytest.raises(ModelFileError, match=r"'optim/buffers/0' has shape \(2000, 2000\)"):
            load_checkpoint(path, small_model(), SGD(small_model().parameters(), 0.1, 0.9))

    assert peak_bytes(load) < 2_000_000
    # Reading only the training state needs no array at all.
    assert peak_bytes(lambda: read_checkpoint_extra(path)) < 2_000_000


def test_huge_layer_count_and_metadata_are_refused_quickly(tmp_path):
    path = tmp_path / "layers.npz"
    npz_with(path, {}, model_header(sizes=[6] + [1] * 200_000))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"'__meta__' metadata is [\d,]+ bytes, more than"):
        load_model(path)
    assert time.perf_counter() - start < 1.0
    npz_with(path, {}, model_header(sizes=[6] + [1] * (MAX_LAYERS + 1)))
    with pytest.raises(ModelFileError, match=r"lists 101 layers, more than 100"):
        load_model(path)


# ---------------------------------------------------------------------------- 17: crafted JSON
def test_deeply_nested_metadata_is_a_model_file_error(tmp_path):
    path = tmp_path / "deep.npz"
    with open(path, "wb") as f:
        np.savez(f, **{META_KEY: np.array("[" * 100_000 + "]" * 100_000)})
    with pytest.raises(ModelFileError, match="nested too deeply"):
        load_model(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"activation": ["relu"]}, r"'activation' \['relu'\] is not one of"),
        ({"dtype": {"a": 1}}, r"'dtype' \{'a': 1\} is not one of"),
        ({"sizes": "784,10"}, r"'sizes' must be a list"),
    ],
)
def test_wrongly_typed_header_fields_are_model_file_errors(tmp_path, changes, message):
    path = tmp_path / "typed.npz"
    npz_with(path, small_model().state_dict(), model_header(**changes))
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


# ---------------------------------------------------------------------------- 22: npz messages
def test_object_array_is_called_what_it_is(tmp_path):
    path = tmp_path / "obj.npz"
    arrays = dict(small_model().state_dict())
    arrays["0.bias"] = np.array([{"a": 1}] * 5, dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **{META_KEY: np.array(json.dumps(model_header()))}, **arrays)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert "holds Python objects (dtype object)" in str(info.value)
    assert "truncated or corrupt" not in str(info.value)


def test_symlink_loop_and_directory_model_paths_say_what_they_are(tmp_path):
    loop = tmp_path / "loop.npz"
    loop.symlink_to(loop)
    with pytest.raises(ModelFileError, match=r"loop\.npz: cannot open it: Too many levels"):
        load_model(loop)
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "gone.npz")
    with pytest.raises(ModelFileError, match="a symbolic link to a missing file"):
        load_model(dangling)
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(ModelFileError, match="is a directory"):
        load_model(tmp_path / "dir.npz")


def write_mnist(folder: Path, n: int, split: str = "test") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    rng = np.random.default_rng(0)
    save_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), np.uint8))
    save_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, np.uint8))


def test_symlink_loop_or_directory_in_the_data_dir_is_not_called_missing(tmp_path):
    write_mnist(tmp_path, 3)
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    images.unlink()
    images.symlink_to(images)  # a loop
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist("test", tmp_path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz cannot be opened (Too many levels of symbolic links)" in (
        message
    )
    assert "missing" not in message
    images.unlink()
    images.mkdir()
    with pytest.raises(MNISTNotFoundError, match=r"t10k-images-idx3-ubyte\.gz is a directory"):
        load_mnist("test", tmp_path)


def test_huge_labels_are_reported_as_they_are():
    logits = Tensor(np.zeros((1, 10), np.float32))
    with pytest.raises(ValueError, match=r"got 1e\+20$"):
        F.cross_entropy(logits, np.array([1e20]))
    with pytest.raises(ValueError, match=r"got 18446744073709551615$"):
        F.cross_entropy(logits, np.array([2**64 - 1], dtype=np.uint64))
    with pytest.raises(ValueError, match=r"18446744073709551615 is far outside"):
        DataLoader(np.zeros((1, 3)), np.array([2**64 - 1], dtype=np.uint64))
    # In range they still work.
    assert F.cross_entropy(logits, np.array([3], dtype=np.uint64)).item() == pytest.approx(
        np.log(10)
    )


# ---------------------------------------------------------------------------- 18: 0 images
def test_idx_files_with_no_images_are_one_clear_error(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    save_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    save_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(0, np.uint8))
    with pytest.raises(IDXError, match="holds 0 images; a data set needs at least one"):
        load_mnist("test", folder)


# ---------------------------------------------------------------------------- helpers in use
def test_model_bytes_are_what_save_model_writes(tmp_path):
    from tinygrad_mnist.serialization import model_bytes

    model = small_model()
    save_model(tmp_path / "a.npz", model, {"x": 1})
    assert (tmp_path / "a.npz").read_bytes() == model_bytes(model, {"x": 1})
    loaded, meta = load_model(tmp_path / "a.npz")
    assert meta == {"x": 1}
    for p, q in zip(loaded.parameters(), model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_zip_member_that_is_not_an_array_is_refused(tmp_path):
    path = tmp_path / "odd.npz"
    npz_with(path, small_model().state_dict(), model_header())
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match=r"member 'readme\.txt' is not an array"):
        load_model(path)
