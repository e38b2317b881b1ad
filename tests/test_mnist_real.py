"""The real MNIST files ($TINYGRAD_MNIST_DATA, else ../shared/mnist beside the repository): their
checksums, shapes and label counts, as load_mnist reads them."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest
from conftest import MNIST_DIR

from tinygrad_mnist.utils.data import load_mnist, load_mnist_arrays
from tinygrad_mnist.utils.data.mnist import MD5, mnist_filenames

pytestmark = pytest.mark.skipif(
    not all((MNIST_DIR / f"{n}.gz").is_file() for n in MD5),
    reason=f"the real MNIST files are not in {MNIST_DIR} (set $TINYGRAD_MNIST_DATA to their folder)",
)

# Images per digit 0..9: a fingerprint of the labels that any reader bug would change.
CLASS_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}


def test_hard_coded_checksums_match_the_published_ones():
    published = dict(
        reversed(line.split()) for line in (MNIST_DIR / "MD5SUMS.raw.txt").read_text().splitlines()
    )
    assert MD5 == published


def as_idx_bytes(array: np.ndarray) -> bytes:
    """The uint8 IDX file `array` came from, rebuilt, to compare with the published MD5."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


@pytest.mark.parametrize(
    ("split", "n"), [pytest.param("train", 60000, marks=pytest.mark.slow), ("test", 10000)]
)
def test_real_mnist(split, n):
    images, labels = load_mnist(split, data_dir=MNIST_DIR)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert labels.min() == 0 and labels.max() == 9
    assert np.bincount(labels, minlength=10).tolist() == CLASS_COUNTS[split]
    assert images.min() == 0 and images.max() == 255
    # What we loaded is byte for byte the published file (MD5 of the decompressed IDX).
    images_name, labels_name = mnist_filenames(split)
    assert hashlib.md5(as_idx_bytes(images)).hexdigest() == MD5[images_name]
    assert hashlib.md5(as_idx_bytes(labels)).hexdigest() == MD5[labels_name]


def test_real_mnist_arrays():
    x, y = load_mnist_arrays("test", data_dir=MNIST_DIR)
    assert x.shape == (10000, 784) and x.dtype == np.float32 and x.flags.c_contiguous
    assert y.shape == (10000,) and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
