"""Getting MNIST into training: IDX files, finding/downloading MNIST, and batching.

idx.py          load_idx / save_idx: the IDX file format, with strict validation
download.py     download_verified: fetch from mirrors, keep only a checksum-verified copy
mnist.py        load_mnist / load_mnist_arrays: where the files are, what they must hold
loader.py       DataLoader: mini-batches of Tensors, reproducible shuffling
"""

from .download import DownloadError, download_verified
from .idx import IDXError, load_idx, save_idx
from .loader import DataLoader
from .mnist import (
    ENV_VAR,
    MNISTNotFoundError,
    default_cache_dir,
    flatten,
    load_mnist,
    load_mnist_arrays,
    locate_mnist,
    normalize,
)

__all__ = [
    "ENV_VAR",
    "DataLoader",
    "DownloadError",
    "IDXError",
    "MNISTNotFoundError",
    "default_cache_dir",
    "download_verified",
    "flatten",
    "load_idx",
    "load_mnist",
    "load_mnist_arrays",
    "locate_mnist",
    "normalize",
    "save_idx",
]
