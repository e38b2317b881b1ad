"""The MNIST digits: finding the four files, loading them, and turning them into arrays.

Where the files come from, in this order:

1. the `data_dir` argument (the CLI's `--data-dir`),
2. the directory in the environment variable TINYGRAD_MNIST_DATA,
3. the cache directory, $XDG_CACHE_HOME/tinygrad_mnist or ~/.cache/tinygrad_mnist,
4. a download from the mirrors in MIRRORS, saved into the cache directory.

A directory you name yourself (1 or 2) must hold the files: if it does not, that is an error
naming it, and nothing is downloaded. Silently downloading would hide a typo in the path.

A directory may hold each file compressed (`train-images-idx3-ubyte.gz`) or not
(`train-images-idx3-ubyte`). Downloads are checked against the published MD5 of the
decompressed files before they are kept.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .download import DownloadError, Opener, download_verified
from .idx import IDXError, load_idx

ENV_VAR = "TINYGRAD_MNIST_DATA"
SPLITS = ("train", "test")
IMAGE_SIZE = 28
NUM_CLASSES = 10

# Tried in this order; each serves the four files as <name>.gz.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# The published MD5 of each file's decompressed bytes. Checking the decompressed bytes means a
# mirror that recompressed a file (same data, different .gz bytes) is still accepted.
MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

_HOW_TO_FIX = (
    "To use local copies of the MNIST IDX files (.gz or uncompressed), pass data_dir=... to "
    f"load_mnist, set {ENV_VAR}=/path, or use --data-dir on the command line."
)


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files were found nowhere. `tried` lists (place, what went wrong)."""

    def __init__(self, message: str, tried: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.tried = tried

    def __str__(self) -> str:
        # FileNotFoundError would format itself as "[Errno ...]"; show our message as is.
        return str(self.args[0])


def mnist_filenames(split: str) -> tuple[str, str]:
    """The (images, labels) file names of a split, without `.gz`."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def default_cache_dir() -> Path:
    """Where downloads are kept: $XDG_CACHE_HOME/tinygrad_mnist, else ~/.cache/tinygrad_mnist."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "tinygrad_mnist"


def find_in_dir(directory: Path, name: str) -> Path | None:
    """`directory/name` or `directory/name.gz`, whichever exists (uncompressed first)."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def locate_mnist(
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    opener: Opener | None = None,
) -> tuple[Path, Path]:
    """Paths of a split's (images, labels) files, downloading them into the cache if needed.

    `mirrors` defaults to MIRRORS and `opener` to urllib (tests pass a local server).
    Raises `MNISTNotFoundError` saying every place tried and why it failed.
    """
    names = mnist_filenames(split)
    env_dir = os.environ.get(ENV_VAR)

    # 1 and 2: a directory the user named must hold the files.
    for given, source in ((data_dir, "the data_dir argument"), (env_dir, f"${ENV_VAR}")):
        if given:
            directory = Path(given).expanduser()
            found = [find_in_dir(directory, n) for n in names]
            if all(found):
                return found[0], found[1]
            problem = _missing(directory, names, found)
            raise MNISTNotFoundError(
                f"MNIST {split} files not found in {directory} ({source}): {problem}. "
                "Nothing was downloaded because a directory was given; unset it to use the "
                f"cache ({default_cache_dir()}) and download. {_HOW_TO_FIX}",
                [(f"{directory} ({source})", problem)],
            )

    # 3: the cache.
    cache = default_cache_dir()
    found = [find_in_dir(cache, n) for n in names]
    if all(found):
        return found[0], found[1]
    tried = [
        ("data_dir argument", "not given"),
        (f"${ENV_VAR}", "not set"),
        (f"{cache} (cache)", _missing(cache, names, found)),
    ]

    # 4: download what the cache lacks.
    for i, name in enumerate(names):
        if found[i] is not None:
            continue
        dest = cache / f"{name}.gz"
        urls = [f"{m.rstrip('/')}/{name}.gz" for m in (MIRRORS if mirrors is None else mirrors)]
        print(f"tinygrad_mnist: downloading {name}.gz into {cache}", file=sys.stderr)
        try:
            cache.mkdir(parents=True, exist_ok=True)
            found[i] = download_verified(urls, dest, MD5[name], opener=opener)
        except DownloadError as e:
            tried += e.tried
            break
        except OSError as e:  # the cache directory cannot be created or written
            tried.append((str(cache), f"cannot write there: {e}"))
            break
    if all(found):
        return found[0], found[1]
    lines = "\n".join(f"  - {place}: {problem}" for place, problem in tried)
    raise MNISTNotFoundError(
        f"MNIST {split} files not found. Tried:\n{lines}\n{_HOW_TO_FIX}", tried
    )


def _missing(directory: Path, names: Sequence[str], found: Sequence[Path | None]) -> str:
    """Describe which of `names` are missing from `directory`."""
    if not directory.is_dir():
        return "no such directory"
    lacking, wrong = [], []
    for name, f in zip(names, found, strict=True):
        if f is not None:
            continue
        problems = [p for p in map(_not_a_file, (directory / name, directory / f"{name}.gz")) if p]
        if problems:  # something is there, but not a readable file: say what, not "missing"
            wrong += problems
        else:
            lacking.append(f"{name}[.gz]")
    parts = (["missing " + ", ".join(lacking)] if lacking else []) + wrong
    return "; ".join(parts)


def _not_a_file(path: Path) -> str | None:
    """Why `path`, which exists in some form, is not a data file; None if nothing is there."""
    try:
        path.stat()
    except FileNotFoundError:
        return f"{path.name} is a broken symbolic link" if path.is_symlink() else None
    except OSError as e:  # ELOOP: a symlink loop; EACCES: a folder we may not enter
        return f"{path.name} cannot be opened ({e.strerror})"
    if path.is_dir():
        return f"{path.name} is a directory, not a file"
    if not path.is_file():
        return f"{path.name} is not a regular file"
    return None


def load_mnist(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load a split: (images uint8 [N, 28, 28], labels uint8 [N] in 0..9).

    N is 60000 for "train" and 10000 for "test". See the module docstring for where the files
    are looked for. Raises `MNISTNotFoundError` if they are nowhere, `IDXError` if they are
    not valid MNIST files.
    """
    images_path, labels_path = locate_mnist(split, data_dir)
    images, labels = load_idx(images_path), load_idx(labels_path)
    check_mnist(images, labels, images_path, labels_path)
    return images, labels


def check_mnist(
    images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path
) -> None:
    """Raise `IDXError` unless images are uint8 [N, 28, 28] and labels uint8 [N] in 0..9."""
    want = f"uint8 [N, {IMAGE_SIZE}, {IMAGE_SIZE}]"
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE,) * 2:
        raise IDXError(
            f"{images_path}: expected MNIST images {want}, got {images.dtype} {list(images.shape)}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IDXError(
            f"{labels_path}: expected MNIST labels uint8 [N], got {labels.dtype} {list(labels.shape)}"
        )
    if len(images) == 0:
        raise IDXError(f"{images_path}: holds 0 images; a data set needs at least one")
    if len(labels) != len(images):
        raise IDXError(
            f"{labels_path} has {len(labels)} labels but {images_path} has {len(images)} images; "
            "they must match"
        )
    if len(labels) and labels.max() >= NUM_CLASSES:
        bad = int(np.argmax(labels >= NUM_CLASSES))
        raise IDXError(
            f"{labels_path}: labels must be 0..{NUM_CLASSES - 1}, got {labels[bad]} at index {bad}"
        )


def normalize(images: np.ndarray) -> np.ndarray:
    """Map uint8 pixels [0, 255] to float32 [-1, 1] as x / 255 * 2 - 1; same shape."""
    if images.dtype != np.uint8:
        raise TypeError(f"normalize expects uint8 pixels, got {images.dtype}")
    x = images.astype(np.float32)
    # In place, in the course's order, so 0 -> -1.0 and 255 -> 1.0 exactly.
    x /= 255
    x *= 2
    x -= 1
    return x


def flatten(images: np.ndarray) -> np.ndarray:
    """[N, H, W] -> [N, H*W]: one row per image (a view when `images` is contiguous)."""
    return images.reshape(images.shape[0], math.prod(images.shape[1:]))


def load_mnist_arrays(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Training-ready arrays: (x float32 [N, 784] in [-1, 1], y int64 [N]), C-contiguous."""
    images, labels = load_mnist(split, data_dir)
    return flatten(normalize(images)), labels.astype(np.int64)
