"""Tests for tinygrad_mnist.utils.data: IDX files, finding/downloading MNIST, and the DataLoader.

Everything here runs on tiny files the tests write themselves; downloads go to a local HTTP
server on 127.0.0.1. The real MNIST files are tested in test_mnist_real.py.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import struct
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import Tensor
from tinygrad_mnist.utils.data import (
    DataLoader,
    DownloadError,
    IDXError,
    MNISTNotFoundError,
    default_cache_dir,
    download_verified,
    flatten,
    load_idx,
    load_mnist,
    load_mnist_arrays,
    locate_mnist,
    normalize,
    save_idx,
)
from tinygrad_mnist.utils.data import mnist as mnist_module
from tinygrad_mnist.utils.data.download import decompressed_md5, fetch
from tinygrad_mnist.utils.data.idx import DTYPES


def idx_bytes(type_code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """Build IDX bytes by hand, independently of save_idx."""
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------- IDX: good


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (0, 28, 28)])
def test_idx_round_trip_uint8(tmp_path, suffix, shape):
    a = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    path = tmp_path / f"a-idx{len(shape)}-ubyte{suffix}"
    save_idx(path, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = load_idx(path)
    assert b.dtype == np.uint8 and b.shape == shape
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32", "float64"])
def test_idx_round_trip_other_types(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 12).astype(dtype) * 3
    save_idx(tmp_path / "a.idx.gz", a)
    b = load_idx(tmp_path / "a.idx.gz")
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    np.testing.assert_array_equal(a, b)


def test_save_idx_writes_the_documented_bytes(tmp_path):
    save_idx(tmp_path / "a", np.array([[1, 2, 3], [4, 5, 255]], dtype=np.uint8))
    expected = (
        b"\x00\x00\x08\x02"
        + b"\x00\x00\x00\x02"
        + b"\x00\x00\x00\x03"
        + bytes([1, 2, 3, 4, 5, 255])
    )
    assert (tmp_path / "a").read_bytes() == expected
    save_idx(tmp_path / "b", np.array([1, -2], dtype=np.int16))  # big-endian elements
    assert (tmp_path / "b").read_bytes() == b"\x00\x00\x0b\x01\x00\x00\x00\x02\x00\x01\xff\xfe"


def test_gzip_is_detected_by_content_not_name(tmp_path):
    a = np.arange(10, dtype=np.uint8)
    raw = idx_bytes(0x08, (10,), a.tobytes())
    np.testing.assert_array_equal(load_idx(write(tmp_path / "raw.gz", raw)), a)
    np.testing.assert_array_equal(load_idx(write(tmp_path / "zipped", gzip.compress(raw))), a)


def test_save_idx_rejects_what_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="bool"):
        save_idx(tmp_path / "a", np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="1 to 4 dimensions"):
        save_idx(tmp_path / "a", np.zeros((1,) * 5, dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "nope.gz")


# ----------------------------------------------------------------------------- IDX: rejected


def assert_idx_error(path: Path, *phrases: str) -> IDXError:
    with pytest.raises(IDXError) as info:
        load_idx(path)
    message = str(info.value)
    assert str(path) in message
    for phrase in phrases:
        assert phrase in message, message
    # One clear error: no NumPy/gzip exception chained into the traceback.
    error = info.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return error


GOOD = idx_bytes(0x08, (2, 3), bytes(range(6)))


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    ("data", "phrases"),
    [
        (b"", ["empty"]),
        (b"\x00\x00\x08", ["expected a 4-byte magic number, got 3"]),
        (b"\x01\x00" + GOOD[2:], ["two zero bytes", "0x01000802"]),
        (b"PK\x03\x04" + GOOD[4:], ["two zero bytes"]),
        (b"\x00\x00\x07\x02" + GOOD[4:], ["unsupported", "0x07"]),
        (b"\x00\x00\x08\x00", ["1 to 4 dimensions, header says 0"]),
        (b"\x00\x00\x08\x05" + b"\x00\x00\x00\x01" * 5 + b"\x00", ["header says 5"]),
        (GOOD[:10], ["truncated header", "expected 8 bytes", "got 6"]),
        (GOOD[:-1], ["truncated", "2 x 3 uint8 = 6 bytes", "got 5"]),
        (GOOD[:12], ["truncated", "6 bytes", "got 0"]),
        (GOOD + b"\x00", ["trailing data", "6 bytes"]),
        (idx_bytes(0x0C, (2,), b"\x00" * 7), ["2 int32 = 8 bytes", "got 7"]),
    ],
    ids=[
        "empty",
        "short-magic",
        "bad-magic",
        "zip-magic",
        "type-code",
        "ndim-0",
        "ndim-5",
        "short-header",
        "short-data",
        "no-data",
        "long-data",
        "int32-short",
    ],
)
def test_invalid_idx_is_rejected(tmp_path, compress, data, phrases):
    path = write(tmp_path / "bad.idx", gzip.compress(data) if compress else data)
    assert_idx_error(path, *phrases)


@pytest.mark.parametrize("compress", [False, True])
def test_giant_header_is_refused_before_allocating(tmp_path, compress):
    data = idx_bytes(0x08, (10**9, 10**9), b"\x00" * 100)
    path = write(tmp_path / "giant.gz", gzip.compress(data) if compress else data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        assert_idx_error(path, "1000000000 x 1000000000", "refusing more than")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 1 << 20  # well under a megabyte


def test_claimed_size_below_limit_reads_only_what_is_there(tmp_path):
    # 1.5 GB claimed, 10 bytes present: memory must follow the real data, not the header.
    path = write(tmp_path / "liar", idx_bytes(0x08, (1500, 1000, 1000), b"\x00" * 10))
    tracemalloc.start()
    try:
        assert_idx_error(path, "1500000000 bytes", "got 10")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_truncated_gzip_is_rejected(tmp_path):
    gz = gzip.compress(idx_bytes(0x08, (50, 20), bytes(range(250)) * 4))
    assert_idx_error(write(tmp_path / "cut-half.gz", gz[: len(gz) // 2]), "gzip")
    # All data present but the 8-byte CRC/length trailer cut off:
    assert_idx_error(write(tmp_path / "no-trailer.gz", gz[:-8]), "truncated gzip")
    assert_idx_error(write(tmp_path / "only-magic.gz", gz[:2]), "gzip")


def test_corrupt_gzip_is_rejected(tmp_path):
    gz = bytearray(gzip.compress(idx_bytes(0x08, (50, 20), bytes(range(250)) * 4)))
    body = bytearray(gz)
    body[20:30] = b"\xff" * 10  # garbage in the deflate stream
    assert_idx_error(write(tmp_path / "garbled.gz", bytes(body)), "corrupt")
    crc = bytearray(gz)
    crc[-6] ^= 0xFF  # a wrong CRC-32: the data decompresses but does not match
    assert_idx_error(write(tmp_path / "crc.gz", bytes(crc)), "corrupt", "CRC")
    method = bytearray(gz)
    method[2] = 7  # unknown compression method in the gzip header
    assert_idx_error(write(tmp_path / "method.gz", bytes(method)), "corrupt")
    assert_idx_error(write(tmp_path / "trailing.gz", bytes(gz) + b"garbage!"), "corrupt")


# --------------------------------------------------------------------- IDX: property testing


def check_against_header(data: bytes, array: np.ndarray) -> None:
    """A successfully read array must be exactly what the (decompressed) bytes describe."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    code, ndim = data[2], data[3]
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    payload = data[4 + 4 * ndim :]
    assert data[:2] == b"\x00\x00" and 1 <= ndim <= 4
    assert array.shape == dims and array.dtype == DTYPES[code].newbyteorder("=")
    itemsize = array.dtype.itemsize
    assert len(payload) == array.size * itemsize
    # Compare bit patterns (as unsigned ints), so float NaNs compare too.
    expected = np.frombuffer(payload, dtype=f">u{itemsize}").reshape(dims)
    np.testing.assert_array_equal(array.view(f"u{itemsize}"), expected)


def idx_strategy():
    """Valid IDX bytes, mutated ones (bits flipped, cut short, extended) and plain noise."""
    from hypothesis import strategies as st

    valid_idx = st.builds(
        lambda code, dims, seed: idx_bytes(
            code,
            tuple(dims),
            np.random.default_rng(seed).bytes(int(np.prod(dims)) * DTYPES[code].itemsize),
        ),
        st.sampled_from(sorted(DTYPES)),
        st.lists(st.integers(0, 4), min_size=1, max_size=4),
        st.integers(0, 2**32 - 1),
    )

    @st.composite
    def mutated_idx(draw):
        data = bytearray(draw(valid_idx))
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["flip", "truncate", "extend"]))
            if kind == "flip" and data:
                i = draw(st.integers(0, len(data) - 1))
                data[i] ^= 1 << draw(st.integers(0, 7))
            elif kind == "truncate":
                del data[draw(st.integers(0, len(data))) :]
            elif kind == "extend":
                data += draw(st.binary(min_size=1, max_size=8))
        return bytes(data)

    return st.one_of(valid_idx, mutated_idx(), st.binary(max_size=40))


@pytest.mark.slow
def test_reader_returns_consistent_array_or_raises_idx_error(tmp_path):
    # hypothesis is imported here, when the test runs, not when the file is collected: its
    # import costs the fast lane (which leaves this test out) more than all its IDX tests.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(
        data=idx_strategy(),
        compress=st.booleans(),
        mangle_gzip=st.integers(0, 3),
        where=st.integers(0, 2**16),
    )
    def check(data, compress, mangle_gzip, where):
        if compress:
            gz = bytearray(gzip.compress(data))
            if mangle_gzip == 1:
                gz[where % len(gz)] ^= 0x55
            elif mangle_gzip == 2:
                del gz[where % len(gz) :]
            elif mangle_gzip == 3:
                gz += bytes([where % 256])
            data = bytes(gz)
        path = write(tmp_path / "fuzz.idx", data)
        try:
            array = load_idx(path)
        except IDXError as e:
            assert str(path) in str(e)
            return
        check_against_header(data, array)

    check()


def test_valid_idx_always_loads(tmp_path):
    # The property test above would pass with a reader that rejects everything; this one not.
    for code in DTYPES:
        data = idx_bytes(code, (2, 3), bytes(range(6 * DTYPES[code].itemsize)))
        check_against_header(data, load_idx(write(tmp_path / "ok", data)))
        check_against_header(data, load_idx(write(tmp_path / "ok.gz", gzip.compress(data))))


# ------------------------------------------------------------------ MNIST: tiny fake files


def make_split(
    directory: Path,
    split: str = "train",
    n: int = 3,
    labels=None,
    gz: bool = True,
    image_shape=(28, 28),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Write a tiny MNIST-named split; returns (images, labels)."""
    directory.mkdir(parents=True, exist_ok=True)
    images = np.random.default_rng(seed).integers(0, 256, size=(n, *image_shape), dtype=np.uint8)
    labels = np.asarray(np.arange(n) % 10 if labels is None else labels, dtype=np.uint8)
    images_name, labels_name = mnist_module.mnist_filenames(split)
    suffix = ".gz" if gz else ""
    save_idx(directory / f"{images_name}{suffix}", images)
    save_idx(directory / f"{labels_name}{suffix}", labels)
    return images, labels


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No env var, HOME in tmp, no XDG cache, no mirrors: nothing real can leak in."""
    monkeypatch.delenv(mnist_module.ENV_VAR, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(mnist_module, "MIRRORS", ())
    return tmp_path


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_from_data_dir(clean_env, gz):
    images, labels = make_split(clean_env / "d", "test", n=4, gz=gz)
    got_images, got_labels = load_mnist("test", data_dir=clean_env / "d")
    assert got_images.dtype == np.uint8 and got_images.shape == (4, 28, 28)
    assert got_labels.dtype == np.uint8 and got_labels.shape == (4,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    # The other split is not there:
    with pytest.raises(MNISTNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist("train", data_dir=str(clean_env / "d"))


def test_load_mnist_rejects_unknown_split(clean_env):
    with pytest.raises(ValueError, match="'valid'"):
        load_mnist("valid", data_dir=clean_env)


def test_labels_count_mismatch_names_both_files(clean_env):
    make_split(clean_env / "d", n=3, labels=[1, 2, 3, 4])
    with pytest.raises(IDXError) as info:
        load_mnist("train", data_dir=clean_env / "d")
    message = str(info.value)
    assert "4 labels" in message and "3 images" in message
    assert "train-labels-idx1-ubyte.gz" in message and "train-images-idx3-ubyte.gz" in message


def test_labels_outside_0_to_9_are_rejected(clean_env):
    make_split(clean_env / "d", n=3, labels=[0, 9, 10])
    with pytest.raises(IDXError, match=r"train-labels-idx1-ubyte\.gz.*got 10 at index 2"):
        load_mnist("train", data_dir=clean_env / "d")


def test_images_must_be_28_by_28(clean_env):
    make_split(clean_env / "d", n=2, image_shape=(27, 28))
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte\.gz.*\[2, 27, 28\]"):
        load_mnist("train", data_dir=clean_env / "d")


def test_normalize_exact_values():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    x = normalize(pixels)
    assert x.dtype == np.float32 and x.shape == (1, 16, 16)
    flat = x.ravel()
    assert flat[0] == -1.0 and flat[255] == 1.0
    assert flat.min() == -1.0 and flat.max() == 1.0
    assert np.all(np.diff(flat) > 0)
    np.testing.assert_allclose(flat, np.arange(256) / 255 * 2 - 1, rtol=0, atol=1e-7)
    assert flat[51] == np.float32(-0.6)
    with pytest.raises(TypeError, match="uint8"):
        normalize(pixels.astype(np.float32))


def test_flatten_rows():
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    rows = flatten(images)
    assert rows.shape == (3, 784)
    np.testing.assert_array_equal(rows[1], images[1].ravel())
    assert flatten(np.zeros((0, 28, 28), np.uint8)).shape == (0, 784)


def test_load_mnist_arrays(clean_env):
    images, labels = make_split(clean_env / "d", n=5)
    x, y = load_mnist_arrays("train", data_dir=clean_env / "d")
    assert x.dtype == np.float32 and x.shape == (5, 784) and x.flags.c_contiguous
    assert y.dtype == np.int64 and y.shape == (5,)
    np.testing.assert_array_equal(y, labels)
    assert x[2, 100] == np.float32(images[2].ravel()[100]) / np.float32(255) * 2 - 1


# ----------------------------------------------------------------- MNIST: where files come from


@pytest.fixture
def no_download(monkeypatch):
    """Record download attempts and make each one fail."""
    calls = []

    def fake_download(urls, dest, md5, opener=None, timeout=None):
        calls.append(dest)
        raise DownloadError("no network in this test", [("fake://", "no network")])

    monkeypatch.setattr(mnist_module, "download_verified", fake_download)
    return calls


def test_source_order_data_dir_then_env_then_cache(clean_env, monkeypatch, no_download):
    make_split(clean_env / "arg", labels=[1, 1, 1])
    make_split(clean_env / "env", labels=[2, 2, 2])
    cache = clean_env / "home" / ".cache" / "tinygrad_mnist"
    make_split(cache, labels=[3, 3, 3], gz=False)
    monkeypatch.setenv(mnist_module.ENV_VAR, str(clean_env / "env"))

    assert load_mnist("train", data_dir=clean_env / "arg")[1].tolist() == [1, 1, 1]
    assert load_mnist("train")[1].tolist() == [2, 2, 2]
    monkeypatch.delenv(mnist_module.ENV_VAR)
    assert default_cache_dir() == cache
    assert load_mnist("train")[1].tolist() == [3, 3, 3]
    assert no_download == []


def test_cache_honours_xdg_cache_home(clean_env, monkeypatch, no_download):
    monkeypatch.setenv("XDG_CACHE_HOME", str(clean_env / "xdg"))
    assert default_cache_dir() == clean_env / "xdg" / "tinygrad_mnist"
    make_split(clean_env / "xdg" / "tinygrad_mnist", labels=[4, 4, 4])
    make_split(clean_env / "home" / ".cache" / "tinygrad_mnist", labels=[5, 5, 5])
    assert load_mnist("train")[1].tolist() == [4, 4, 4]


def test_download_only_when_nothing_local(clean_env, no_download):
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist("train")
    cache = clean_env / "home" / ".cache" / "tinygrad_mnist"
    assert no_download == [cache / "train-images-idx3-ubyte.gz"]  # stops at the first failure
    message = str(info.value)
    assert str(cache) in message and "no network" in message


def test_download_fills_only_what_the_cache_lacks(clean_env, monkeypatch, no_download):
    cache = clean_env / "home" / ".cache" / "tinygrad_mnist"
    make_split(cache)
    (cache / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MNISTNotFoundError, match=r"missing train-labels-idx1-ubyte\[\.gz\]"):
        load_mnist("train")
    assert no_download == [cache / "train-labels-idx1-ubyte.gz"]


@pytest.mark.parametrize("how", ["argument", "env"])
def test_named_directory_without_files_is_an_error_not_a_download(
    clean_env, monkeypatch, no_download, how
):
    make_split(clean_env / "home" / ".cache" / "tinygrad_mnist")  # the cache would work
    empty = clean_env / "empty"
    empty.mkdir()
    if how == "env":
        monkeypatch.setenv(mnist_module.ENV_VAR, str(empty))
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist("train", data_dir=empty if how == "argument" else None)
    message = str(info.value)
    assert str(empty) in message
    assert ("data_dir argument" if how == "argument" else mnist_module.ENV_VAR) in message
    assert "missing train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]" in message
    assert no_download == []
    with pytest.raises(MNISTNotFoundError, match="no such directory"):
        load_mnist("train", data_dir=clean_env / "typo")
    assert isinstance(info.value, FileNotFoundError)


# ------------------------------------------------------------- MNIST: downloading (local server)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields the base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def mirror(clean_env, server, monkeypatch):
    """A tiny train split on the local server, with MD5 patched to match it."""
    images, labels = make_split(clean_env / "www" / "mnist", n=3)
    names = mnist_module.mnist_filenames("train")
    md5 = {
        n: decompressed_md5((clean_env / "www" / "mnist" / f"{n}.gz").read_bytes()) for n in names
    }
    monkeypatch.setattr(mnist_module, "MD5", md5)
    cache = clean_env / "home" / ".cache" / "tinygrad_mnist"
    # A missing mirror (404) first, then the good one.
    monkeypatch.setattr(mnist_module, "MIRRORS", (f"{server}/missing/", f"{server}/mnist"))
    return images, labels, cache, server


def test_download_success_writes_cache_atomically(mirror, monkeypatch):
    images, labels, cache, _ = mirror
    replaced = []
    real_replace = os.replace

    def spy_replace(src, dst):
        replaced.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy_replace)
    got_images, got_labels = load_mnist("train")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert sorted(p.name for p in cache.iterdir()) == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]
    # Each file came into place by renaming a temporary file from the same directory.
    assert [dst.name for _, dst in replaced] == sorted(p.name for p in cache.iterdir())
    assert all(src.parent == cache and src.name.startswith(".") for src, _ in replaced)
    # Now it is cached: a second load does not touch the network.
    monkeypatch.setattr(mnist_module, "MIRRORS", ())
    np.testing.assert_array_equal(load_mnist("train")[1], labels)


def test_checksum_mismatch_rejects_and_leaves_nothing(mirror, monkeypatch):
    _, _, cache, server = mirror
    monkeypatch.setitem(mnist_module.MD5, "train-images-idx3-ubyte", "0" * 32)
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist("train")
    assert "checksum mismatch: expected MD5 " + "0" * 32 in str(info.value)
    assert list(cache.iterdir()) == []  # no file, no temporary file


def test_all_failing_lists_everything_tried(clean_env, server, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on: connection refused
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    mirrors = (f"{server}/nothing-here/", f"http://127.0.0.1:{closed_port}/mnist/")
    monkeypatch.setattr(mnist_module, "MIRRORS", mirrors)
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist("train")
    message = str(info.value)
    cache = clean_env / "home" / ".cache" / "tinygrad_mnist"
    assert f"{cache} (cache): no such directory" in message
    assert f"{server}/nothing-here/train-images-idx3-ubyte.gz: HTTPError" in message
    assert "404" in message
    assert f"127.0.0.1:{closed_port}/mnist/train-images-idx3-ubyte.gz: URLError" in message
    for hint in ("data_dir=", "TINYGRAD_MNIST_DATA=/path", "--data-dir"):
        assert hint in message
    assert len(info.value.tried) == 5  # data_dir, env, cache, two URLs
    assert list(cache.iterdir()) == []


def test_locate_mnist_takes_mirrors_and_opener(clean_env, monkeypatch):
    source = clean_env / "source"
    make_split(source, "test", n=2)
    names = mnist_module.mnist_filenames("test")
    monkeypatch.setattr(
        mnist_module, "MD5", {n: decompressed_md5((source / f"{n}.gz").read_bytes()) for n in names}
    )
    requested = []

    def opener(url, timeout):
        requested.append((url, timeout))
        return io.BytesIO((source / url.rsplit("/", 1)[1]).read_bytes())

    images_path, labels_path = locate_mnist("test", mirrors=["x://m/"], opener=opener)
    cache = clean_env / "home" / ".cache" / "tinygrad_mnist"
    assert (images_path, labels_path) == tuple(cache / f"{n}.gz" for n in names)
    assert requested == [(f"x://m/{n}.gz", 30.0) for n in names]


def test_download_verified_accepts_recompressed_copy(tmp_path):
    raw = idx_bytes(0x08, (4,), b"\x01\x02\x03\x04")
    md5 = hashlib.md5(raw).hexdigest()
    copies = {
        "a://bad": gzip.compress(b"something else"),
        "a://recompressed": gzip.compress(raw, compresslevel=1, mtime=12345),
    }
    dest = download_verified(
        ["a://bad", "a://recompressed"],
        tmp_path / "f.gz",
        md5,
        opener=lambda url, timeout: io.BytesIO(copies[url]),
    )
    assert dest.read_bytes() == copies["a://recompressed"]
    np.testing.assert_array_equal(load_idx(dest), [1, 2, 3, 4])


@pytest.mark.slow
def test_download_gives_up_on_silent_server(tmp_path):
    # The server accepts the connection but never answers: the timeout must end the wait.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/f.gz"
        start = time.perf_counter()
        with pytest.raises(DownloadError, match="timed out") as info:
            download_verified([url], tmp_path / "f.gz", "0" * 32, timeout=0.5)
        assert time.perf_counter() - start < 5
    assert info.value.tried[0][0] == url
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_oversize_and_gzip_bombs_are_bounded():
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        fetch("x", opener=lambda url, timeout: io.BytesIO(b"a" * 11), max_bytes=10)
    bomb = gzip.compress(b"\x00" * (2 << 20))
    with pytest.raises(ValueError, match="more than 1048576 bytes"):
        decompressed_md5(bomb, max_bytes=1 << 20)


# -------------------------------------------------------------------------------- DataLoader


def batches(loader):
    return [(xb.data, yb.data) for xb, yb in loader]


def make_data(n=10, d=3):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)  # label i marks sample i
    return x, y


def test_loader_batches_in_order_with_partial_last_batch():
    x, y = make_data(10)
    loader = DataLoader(x, y, batch_size=4)
    assert len(loader) == 3
    got = batches(loader)
    assert [len(yb) for _, yb in got] == [4, 4, 2]
    for xb, yb in got:
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb, x[yb])
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in got]), y)


def test_loader_drop_last():
    x, y = make_data(10)
    loader = DataLoader(x, y, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(yb) for _, yb in batches(loader)] == [4, 4]
    assert len(DataLoader(x, y, batch_size=10, drop_last=True)) == 1
    assert len(DataLoader(x, y, batch_size=11, drop_last=True)) == 0
    assert len(DataLoader(x, y, batch_size=11)) == 1


def test_loader_yields_tensors_that_own_their_memory():
    from tinygrad_mnist.tensors.tensor import Tensor

    x, y = make_data(10)
    loader = DataLoader(x, y, batch_size=4, shuffle=True, seed=0)
    assert loader.x is x  # float32 C-contiguous input is used as is, not copied
    xb, yb = next(iter(loader))
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert not xb.requires_grad and xb.data.flags.c_contiguous
    assert not np.shares_memory(xb.data, x)
    xb.data[:] = -1  # changing a batch must not change the dataset
    assert x.min() == 0


def test_loader_converts_input_once():
    x = np.arange(12, dtype=np.uint8).reshape(4, 3)
    y = np.array([0, 1, 2, 3], dtype=np.uint8)
    loader = DataLoader(x, y, batch_size=3)
    assert loader.x.dtype == np.float32 and loader.y.dtype == np.int64
    xb, yb = batches(loader)[0]
    np.testing.assert_array_equal(xb, x[:3].astype(np.float32))
    np.testing.assert_array_equal(yb, [0, 1, 2])


def test_shuffle_sees_every_sample_once_and_changes_each_epoch():
    x, y = make_data(50)
    loader = DataLoader(x, y, batch_size=8, shuffle=True, seed=123)
    orders = []
    for _ in range(3):
        got = batches(loader)
        order = np.concatenate([yb for _, yb in got])
        assert sorted(order.tolist()) == list(range(50))
        for xb, yb in got:
            np.testing.assert_array_equal(xb, x[yb])
        orders.append(order)
    assert loader.epoch == 3
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(50))


def test_shuffle_is_reproducible_with_a_seed():
    x, y = make_data(30)

    def epochs(seed):
        loader = DataLoader(x, y, batch_size=7, shuffle=True, seed=seed)
        return [np.concatenate([yb for _, yb in batches(loader)]) for _ in range(2)]

    a, b, c = epochs(7), epochs(7), epochs(8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_state_dict_round_trip_resumes_the_same_epochs():
    x, y = make_data(40)
    run = DataLoader(x, y, batch_size=16, shuffle=True, seed=1)
    batches(run)
    state = json.loads(json.dumps(run.state_dict()))  # survives a JSON checkpoint
    assert state["epoch"] == 1
    expected = [batches(run) for _ in range(2)]

    resumed = DataLoader(x, y, batch_size=16, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    assert resumed.epoch == 1
    for want in expected:
        for (xw, yw), (xg, yg) in zip(want, batches(resumed), strict=True):
            np.testing.assert_array_equal(yw, yg)
            np.testing.assert_array_equal(xw, xg)
    assert resumed.epoch == 3


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "4", True])
def test_loader_rejects_bad_batch_size(batch_size):
    x, y = make_data(4)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(x, y, batch_size=batch_size)


def test_loader_rejects_mismatched_lengths_and_float_labels():
    x, y = make_data(4)
    with pytest.raises(ValueError, match=r"\(4, 3\) and \(3,\)"):
        DataLoader(x, y[:3])
    with pytest.raises(ValueError, match="integer"):
        DataLoader(x, y.astype(np.float32))


# ------------------------------------------------------------------ untrusted files and labels
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


def test_idx_files_with_no_images_are_one_clear_error(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    save_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    save_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(0, np.uint8))
    with pytest.raises(IDXError, match="holds 0 images; a data set needs at least one"):
        load_mnist("test", folder)
