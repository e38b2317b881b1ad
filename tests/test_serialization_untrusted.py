"""Model files and checkpoints from untrusted bytes: memory bombs, crafted headers, impossible
training state, and messages that say what a bad path or member really is."""

from __future__ import annotations

import json
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

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


# ---------------------------------------------------------------------------- memory bombs
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


# ---------------------------------------------------------------------------- crafted JSON
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


# ---------------------------------------------------------------------------- npz messages
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
