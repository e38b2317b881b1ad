"""Getting MNIST into training: IDX files, finding/downloading MNIST, and batching.

idx.py          load_idx / save_idx: the IDX file format, with strict validation
download.py     download_verified: fetch from mirrors, keep only a checksum-verified copy
mnist.py        load_mnist / load_mnist_arrays: where the files are, what they must hold
dataset.py      Dataset, TensorDataset, Subset, random_split (as torch.utils.data)
loader.py       DataLoader: mini-batches of Tensors, reproducible shuffling
"""

from .dataset import Dataset, Subset, TensorDataset, random_split
from .download import DownloadError, download_verified
from .idx import IDXError, load_idx, save_idx
from .loader import DataLoader, default_collate
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
    "Dataset",
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
    "random_split",
    "save_idx",
    "Subset",
    "TensorDataset",
    "default_collate",
]
