"""Saving and loading trained models and training checkpoints as `.npz` files.

A model file holds one array per parameter, named as in `model.named_parameters()`
("0.weight", "0.bias", "2.weight", ...), plus a JSON header in the array `__meta__`:

    {"format": "tinygrad-mnist-model", "version": 1, "sizes": [784, 256, 128, 10],
     "activation": "relu", "dtype": "float32", "meta": {...whatever the caller passed...}}

A checkpoint holds everything needed to continue training: the parameters ("model/<name>"),
the optimizer's state arrays ("optim/<key>/<i>"), and a JSON header with the optimizer's
numbers and the caller's `extra` (epoch, step, loader and scheduler state, config, ...).

Why this design: `np.load(..., allow_pickle=False)` reads only plain arrays, so opening a
file from somewhere else cannot run code; the JSON header is a 0-d unicode array for the same
reason. Files are written whole to bytes first, then put in place atomically, so a crash
while saving never leaves a half-written model behind. Every way a file can be wrong is
reported as one `ModelFileError` that names the file and the problem.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import write_bytes_atomic
from .nn import MLP
from .nn.activation import ACTIVATIONS
from .optim import Optimizer

MODEL_FORMAT = "tinygrad-mnist-model"
CHECKPOINT_FORMAT = "tinygrad-mnist-checkpoint"
VERSION = 1
META_KEY = "__meta__"  # cannot clash with a parameter name: those are "<index>.<name>"
DTYPES = ("float32", "float64")
# A header asking for more parameters than this is corrupt; refusing it avoids trying to
# allocate gigabytes for a model no MNIST file ever held.
MAX_PARAMETERS = 50_000_000

PathLike = str | os.PathLike[str]


class ModelFileError(ValueError):
    """A model or checkpoint file is missing, unreadable, or does not hold what it should."""


# ---------------------------------------------------------------------------- models
def save_model(path: PathLike, model: MLP, meta: dict[str, Any] | None = None) -> None:
    """Write `model` (an MLP) and the JSON-able `meta` to `path` (.npz), atomically."""
    header = {**_architecture(model), "format": MODEL_FORMAT, "version": VERSION}
    header["meta"] = meta or {}
    _write_npz(path, header, model.state_dict())


def load_model(path: PathLike) -> tuple[MLP, dict[str, Any]]:
    """Read a file written by `save_model`: (the MLP, the `meta` dict it was saved with).

    Raises ModelFileError naming the file and the problem for anything that is not a
    complete, valid model file.
    """
    header, arrays = _read_npz(path, MODEL_FORMAT)
    model = _build_model(path, header)
    expected = model.named_parameters()
    _check_parameters(path, arrays, dict(expected), prefix="")
    model.load_state_dict(arrays)
    meta = header.get("meta", {})
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: the metadata's 'meta' entry is not a JSON object")
    return model, meta


# ---------------------------------------------------------------------------- checkpoints
def save_checkpoint(
    path: PathLike, model: MLP, optimizer: Optimizer, extra: dict[str, Any]
) -> None:
    """Write model parameters, optimizer state and the JSON-able `extra` to `path`, atomically."""
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    numbers: dict[str, Any] = {}
    lists: dict[str, list[bool]] = {}  # key -> which entries hold an array (False: None)
    for key, value in optimizer.state_dict().items():
        if isinstance(value, list):
            lists[key] = [a is not None for a in value]
            for i, a in enumerate(value):
                if a is not None:
                    arrays[f"optim/{key}/{i}"] = np.asarray(a)
        else:
            numbers[key] = value
    header = {**_architecture(model), "format": CHECKPOINT_FORMAT, "version": VERSION}
    header["optimizer"] = {"type": type(optimizer).__name__, "numbers": numbers, "lists": lists}
    header["extra"] = extra
    _write_npz(path, header, arrays)


def load_checkpoint(path: PathLike, model: MLP, optimizer: Optimizer) -> dict[str, Any]:
    """Restore `model` and `optimizer` from `path`; return the `extra` dict saved with them.

    The model and optimizer must be built like the saved ones (same sizes, activation, dtype,
    optimizer class). On any error (ModelFileError) both are left as they were.
    """
    header, arrays = _read_npz(path, CHECKPOINT_FORMAT)
    saved_arch = {k: header.get(k) for k in ("sizes", "activation", "dtype")}
    if saved_arch != _architecture(model):
        raise ModelFileError(
            f"{path}: the checkpoint is for a model {saved_arch}, not {_architecture(model)}"
        )
    opt_header = header.get("optimizer")
    if not isinstance(opt_header, dict) or opt_header.get("type") != type(optimizer).__name__:
        saved = opt_header.get("type") if isinstance(opt_header, dict) else None
        raise ModelFileError(
            f"{path}: the checkpoint holds {saved} optimizer state, "
            f"but training uses {type(optimizer).__name__}"
        )
    model_arrays = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
    _check_parameters(path, model_arrays, dict(model.named_parameters()), prefix="model/")

    try:
        state = dict(opt_header["numbers"])
        for key, present in opt_header["lists"].items():
            state[key] = [arrays[f"optim/{key}/{i}"] if p else None for i, p in enumerate(present)]
    except (KeyError, TypeError, AttributeError) as e:
        raise ModelFileError(f"{path}: the optimizer state is incomplete (missing {e})") from e
    before = optimizer.state_dict()
    try:
        optimizer.load_state_dict(state)
    except (KeyError, TypeError, ValueError) as e:
        optimizer.load_state_dict(before)  # leave the optimizer as it was
        raise ModelFileError(f"{path}: bad optimizer state: {e}") from e
    model.load_state_dict(model_arrays)  # checked above, so this cannot fail half-way
    extra = header.get("extra")
    if not isinstance(extra, dict):
        raise ModelFileError(f"{path}: the checkpoint's 'extra' entry is not a JSON object")
    return extra


def read_checkpoint_extra(path: PathLike) -> dict[str, Any]:
    """The `extra` dict of a checkpoint, without a model: to learn how to build one first."""
    header, _ = _read_npz(path, CHECKPOINT_FORMAT)
    extra = header.get("extra")
    if not isinstance(extra, dict):
        raise ModelFileError(f"{path}: the checkpoint's 'extra' entry is not a JSON object")
    return extra


# ---------------------------------------------------------------------------- internals
def _architecture(model: MLP) -> dict[str, Any]:
    """What it takes to rebuild `model`: its sizes, activation and dtype."""
    dtype = model.parameters()[0].dtype
    return {"sizes": list(model.sizes), "activation": model.activation, "dtype": str(dtype)}


def _write_npz(path: PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    # allow_nan=False: a header with NaN would not be valid JSON for other readers.
    np.savez(buffer, **{META_KEY: np.array(json.dumps(header, allow_nan=False))}, **arrays)
    write_bytes_atomic(path, buffer.getvalue())


def _read_npz(path: PathLike, expected_format: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(JSON header, the other arrays by name) of an .npz of `expected_format`."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such file")
    if not path.is_file():
        raise ModelFileError(f"{path}: not a file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":  # every .npz is a zip archive, and zips start so
        raise ModelFileError(f"{path}: not an .npz file (it does not start like a zip archive)")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path}: not an .npz file (a single .npy array?)")
        with loaded as npz:
            arrays = {name: npz[name] for name in npz.files}
    except ModelFileError:
        raise
    except Exception as e:  # zipfile, zlib, numpy and OS errors all mean the same thing here
        raise ModelFileError(
            f"{path}: cannot read it as an .npz file (truncated or corrupt?): "
            f"{type(e).__name__}: {e}"
        ) from e
    if META_KEY not in arrays:
        raise ModelFileError(
            f"{path}: not a tinygrad-mnist file: it has no '{META_KEY}' metadata "
            "(an .npz written by something else?)"
        )
    raw = arrays.pop(META_KEY)
    try:
        if raw.ndim != 0 or raw.dtype.kind != "U":
            raise ValueError("not a string")
        header = json.loads(str(raw))
        if not isinstance(header, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        raise ModelFileError(f"{path}: invalid '{META_KEY}' metadata ({e})") from e

    found = header.get("format")
    if found != expected_format:
        hint = ""
        if found == CHECKPOINT_FORMAT:
            hint = " (a training checkpoint: resume it with `train --resume`)"
        elif found == MODEL_FORMAT:
            hint = " (a trained model, not a training checkpoint)"
        raise ModelFileError(f"{path}: format is {found!r}, expected {expected_format!r}{hint}")
    if header.get("version") != VERSION:
        raise ModelFileError(
            f"{path}: {expected_format} version {header.get('version')!r} is not supported; "
            f"this program reads version {VERSION}"
        )
    return header, arrays


def _build_model(path: PathLike, header: dict[str, Any]) -> MLP:
    """A fresh MLP with the sizes, activation and dtype the header names (all checked)."""
    sizes, activation, dtype = header.get("sizes"), header.get("activation"), header.get("dtype")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
    ):
        raise ModelFileError(
            f"{path}: metadata 'sizes' must be a list of >= 2 positive ints, got {sizes!r}"
        )
    if activation not in ACTIVATIONS:
        raise ModelFileError(
            f"{path}: metadata 'activation' {activation!r} is not one of {sorted(ACTIVATIONS)}"
        )
    if dtype not in DTYPES:
        raise ModelFileError(f"{path}: metadata 'dtype' {dtype!r} is not one of {DTYPES}")
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMETERS:
        raise ModelFileError(
            f"{path}: metadata sizes {sizes} describe {n_params:,} parameters, more than "
            f"{MAX_PARAMETERS:,}: the metadata is corrupt"
        )
    return MLP(sizes, activation=activation, dtype=dtype)


def _check_parameters(
    path: PathLike, arrays: dict[str, np.ndarray], expected: dict[str, Any], prefix: str
) -> None:
    """Raise ModelFileError unless `arrays` holds exactly the parameters of `expected`
    (name -> Tensor), each with the right shape and dtype and only finite values."""
    for name, param in expected.items():
        if name not in arrays:
            raise ModelFileError(f"{path}: parameter '{prefix}{name}' is missing")
        arr = arrays[name]
        if arr.shape != param.shape:
            raise ModelFileError(
                f"{path}: parameter '{prefix}{name}' has shape {arr.shape}, "
                f"the model needs {param.shape}"
            )
        if arr.dtype != param.dtype:
            raise ModelFileError(
                f"{path}: parameter '{prefix}{name}' has dtype {arr.dtype}, "
                f"the model needs {param.dtype}"
            )
        if not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise ModelFileError(f"{path}: parameter '{prefix}{name}' holds {bad} NaN/Inf values")
    unexpected = sorted(set(arrays) - set(expected))
    if unexpected:
        names = ", ".join(f"'{prefix}{n}'" for n in unexpected)
        raise ModelFileError(f"{path}: unexpected arrays {names} (not parameters of this model)")
