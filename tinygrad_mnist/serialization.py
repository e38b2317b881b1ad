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
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import write_bytes_atomic
from .nn import MLP
from .nn.activation import ACTIVATION_LAYERS
from .optim import Optimizer

MODEL_FORMAT = "tinygrad-mnist-model"
CHECKPOINT_FORMAT = "tinygrad-mnist-checkpoint"
VERSION = 1
META_KEY = "__meta__"  # cannot clash with a parameter name: those are "<index>.<name>"
DTYPES = ("float32", "float64")
# A header asking for more parameters than this is corrupt; refusing it avoids trying to
# allocate gigabytes for a model no MNIST file ever held.
MAX_PARAMETERS = 50_000_000
# Bounds checked from the zip directory before anything is decompressed: a header listing
# 200,000 layers, or megabytes of metadata, is corrupt, and parsing it would cost seconds.
MAX_LAYERS = 100  # linear layers; "sizes" has one entry more
MAX_META_BYTES = 1 << 20
MAX_MEMBERS = 16 * MAX_LAYERS + 16  # parameters and optimizer buffers, with room to spare

PathLike = str | os.PathLike[str]


class ModelFileError(ValueError):
    """A model or checkpoint file is missing, unreadable, or does not hold what it should."""


# ---------------------------------------------------------------------------- models
def save_model(path: PathLike, model: MLP, meta: dict[str, Any] | None = None) -> None:
    """Write `model` (an MLP) and the JSON-able `meta` to `path` (.npz), atomically."""
    write_bytes_atomic(path, model_bytes(model, meta))


def model_bytes(model: MLP, meta: dict[str, Any] | None = None) -> bytes:
    """The bytes `save_model` writes: to save them together with other files, atomically."""
    header = {**_architecture(model), "format": MODEL_FORMAT, "version": VERSION}
    header["meta"] = meta or {}
    return _npz_bytes(header, model.state_dict())


def load_model(path: PathLike) -> tuple[MLP, dict[str, Any]]:
    """Read a file written by `save_model`: (the MLP, the `meta` dict it was saved with).

    Raises ModelFileError naming the file and the problem for anything that is not a
    complete, valid model file.
    """
    header, specs = _read_npz_header(path, MODEL_FORMAT)
    model = _build_model(path, header)
    expected = dict(model.named_parameters())
    _check_specs(path, specs, {n: (p.shape, p.dtype) for n, p in expected.items()}, prefix="")
    arrays = _load_arrays(path, specs)  # only now, with every shape checked, decompress
    _check_finite(path, arrays, prefix="")
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
    write_bytes_atomic(path, _npz_bytes(header, arrays))


def load_checkpoint(path: PathLike, model: MLP, optimizer: Optimizer) -> dict[str, Any]:
    """Restore `model` and `optimizer` from `path`; return the `extra` dict saved with them.

    The model and optimizer must be built like the saved ones (same sizes, activation, dtype,
    optimizer class). On any error (ModelFileError) both are left as they were.
    """
    header, specs = _read_npz_header(path, CHECKPOINT_FORMAT)
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
    # Every array must be a parameter ("model/<name>") or an optimizer buffer of one
    # ("optim/<key>/<i>", shaped like parameter i); checked before anything is decompressed.
    params = list(model.named_parameters())
    wanted = {f"model/{n}": (p.shape, p.dtype) for n, p in params}
    for name in specs:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "optim" and parts[2].isdigit():
            if int(parts[2]) < len(params):
                p = params[int(parts[2])][1]
                wanted[name] = (p.shape, p.dtype)
    required = {f"model/{n}" for n, _ in params}
    _check_specs(path, specs, wanted, prefix="", required=required)
    arrays = _load_arrays(path, specs)
    _check_finite(path, arrays, prefix="")
    model_arrays = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}

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
    header, _ = _read_npz_header(path, CHECKPOINT_FORMAT)
    extra = header.get("extra")
    if not isinstance(extra, dict):
        raise ModelFileError(f"{path}: the checkpoint's 'extra' entry is not a JSON object")
    return extra


# ---------------------------------------------------------------------------- internals
def _architecture(model: MLP) -> dict[str, Any]:
    """What it takes to rebuild `model`: its sizes, activation and dtype."""
    dtype = model.parameters()[0].dtype
    return {"sizes": list(model.sizes), "activation": model.activation, "dtype": str(dtype)}


def _npz_bytes(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    # allow_nan=False: a header with NaN would not be valid JSON for other readers.
    np.savez(buffer, **{META_KEY: np.array(json.dumps(header, allow_nan=False))}, **arrays)
    return buffer.getvalue()


ArraySpec = tuple[tuple[int, ...], np.dtype]  # (shape, dtype) from an .npy header


def _read_npz_header(
    path: PathLike, expected_format: str
) -> tuple[dict[str, Any], dict[str, ArraySpec]]:
    """(JSON header, name -> (shape, dtype) of every other array) of an .npz of
    `expected_format`, read from the zip directory and the small `.npy` headers only: no
    array is decompressed, so a tiny file claiming gigabytes costs nothing to refuse."""
    path = Path(path)
    _check_is_file(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":  # every .npz is a zip archive, and zips start so
        raise ModelFileError(f"{path}: not an .npz file (it does not start like a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ModelFileError(
                    f"{path}: holds {len(infos)} arrays, more than any model of at most "
                    f"{MAX_LAYERS} layers (corrupt?)"
                )
            if f"{META_KEY}.npy" not in {info.filename for info in infos}:
                raise ModelFileError(
                    f"{path}: not a tinygrad-mnist file: it has no '{META_KEY}' metadata "
                    "(an .npz written by something else?)"
                )
            specs: dict[str, ArraySpec] = {}
            raw_meta = None
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise ModelFileError(
                        f"{path}: member {info.filename!r} is not an array "
                        "(an .npz written by something else?)"
                    )
                name = info.filename[: -len(".npy")]
                with zf.open(info) as member:
                    shape, dtype = _npy_header(path, name, member)
                    if name == META_KEY:
                        if info.file_size > MAX_META_BYTES:
                            raise ModelFileError(
                                f"{path}: the '{META_KEY}' metadata is {info.file_size:,} "
                                f"bytes, more than {MAX_META_BYTES:,} (corrupt?)"
                            )
                        with zf.open(info) as whole:  # from the start, header included
                            raw_meta = np.lib.format.read_array(whole, allow_pickle=False)
                    else:
                        specs[name] = (shape, dtype)
    except ModelFileError:
        raise
    except Exception as e:  # zipfile, zlib, numpy and OS errors all mean the same thing here
        raise ModelFileError(
            f"{path}: cannot read it as an .npz file (truncated or corrupt?): "
            f"{type(e).__name__}: {e}"
        ) from e
    if raw_meta is None:
        raise ModelFileError(
            f"{path}: not a tinygrad-mnist file: it has no '{META_KEY}' metadata "
            "(an .npz written by something else?)"
        )
    try:
        if raw_meta.ndim != 0 or raw_meta.dtype.kind != "U":
            raise ValueError("not a string")
        header = json.loads(str(raw_meta))
        if not isinstance(header, dict):
            raise ValueError("not a JSON object")
    except RecursionError:
        raise ModelFileError(f"{path}: invalid '{META_KEY}' metadata (nested too deeply)") from None
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
    return header, specs


def _check_is_file(path: Path) -> None:
    """Raise ModelFileError unless `path` is a readable regular file, saying what it is."""
    try:
        path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ModelFileError(f"{path}: a symbolic link to a missing file") from None
        raise ModelFileError(f"{path}: no such file") from None
    except OSError as e:  # ELOOP (a symlink loop), EACCES on a parent, ...
        raise ModelFileError(f"{path}: cannot open it: {e.strerror}") from None
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise ModelFileError(f"{path}: not a regular file")


def _npy_header(path: Path, name: str, member: Any) -> ArraySpec:
    """(shape, dtype) of the `.npy` array `name` from its header, refusing object arrays."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
    else:
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
    if dtype.hasobject:
        raise ModelFileError(
            f"{path}: array '{name}' holds Python objects (dtype object); model files hold "
            "only numbers, and object arrays are never loaded (unpickling can run code)"
        )
    return tuple(shape), dtype


def _load_arrays(path: PathLike, specs: dict[str, ArraySpec]) -> dict[str, np.ndarray]:
    """Decompress the arrays `specs` names (their headers were checked); check each again."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in specs}
    except Exception as e:
        raise ModelFileError(
            f"{path}: cannot read it as an .npz file (truncated or corrupt?): "
            f"{type(e).__name__}: {e}"
        ) from e
    for name, (shape, dtype) in specs.items():
        if arrays[name].shape != shape or arrays[name].dtype != dtype:
            raise ModelFileError(f"{path}: array '{name}' changed while it was read")
    return arrays


def _build_model(path: PathLike, header: dict[str, Any]) -> MLP:
    """A fresh MLP with the sizes, activation and dtype the header names (all checked)."""
    sizes, activation, dtype = header.get("sizes"), header.get("activation"), header.get("dtype")
    if isinstance(sizes, list) and len(sizes) > MAX_LAYERS + 1:
        raise ModelFileError(
            f"{path}: metadata 'sizes' lists {len(sizes) - 1:,} layers, more than "
            f"{MAX_LAYERS}: the metadata is corrupt"
        )
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
    ):
        raise ModelFileError(
            f"{path}: metadata 'sizes' must be a list of >= 2 positive ints, got {sizes!r}"
        )
    if not isinstance(activation, str) or activation not in ACTIVATION_LAYERS:
        raise ModelFileError(
            f"{path}: metadata 'activation' {activation!r} is not one of {sorted(ACTIVATION_LAYERS)}"
        )
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ModelFileError(f"{path}: metadata 'dtype' {dtype!r} is not one of {DTYPES}")
    n_params = count_parameters(sizes)
    if n_params > MAX_PARAMETERS:
        raise ModelFileError(
            f"{path}: metadata sizes {sizes} describe {n_params:,} parameters, more than "
            f"{MAX_PARAMETERS:,}: the metadata is corrupt"
        )
    return MLP(sizes, activation=activation, dtype=dtype)


def count_parameters(sizes: list[int] | tuple[int, ...]) -> int:
    """Weights and biases of an MLP with these layer sizes: sum of (n_in + 1) * n_out."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def check_model_size(sizes: list[int] | tuple[int, ...], what: str = "the model") -> None:
    """Raise ValueError if an MLP of `sizes` is beyond the caps every model file obeys."""
    if len(sizes) > MAX_LAYERS + 1:
        raise ValueError(f"{what} has {len(sizes) - 1} layers; at most {MAX_LAYERS} are supported")
    n_params = count_parameters(sizes)
    if n_params > MAX_PARAMETERS:
        gib = n_params * 4 * 4 / 2**30  # float32 weights, gradients, and two optimizer buffers
        raise ValueError(
            f"{what} {list(sizes)} has {n_params:,} parameters, more than the "
            f"{MAX_PARAMETERS:,} a model file may hold (training it would need ~{gib:,.0f} GiB)"
        )


def _check_specs(
    path: PathLike,
    specs: dict[str, ArraySpec],
    expected: dict[str, ArraySpec],
    prefix: str,
    required: set[str] | None = None,
) -> None:
    """Raise ModelFileError unless `specs` (name -> shape, dtype from the .npy headers) holds
    the arrays of `expected` with their shapes and dtypes, and nothing else. All of
    `expected` must be present, or only `required` of them when it is given."""
    for name, (shape, dtype) in expected.items():
        if name not in specs:
            if required is None or name in required:
                raise ModelFileError(f"{path}: parameter '{prefix}{name}' is missing")
            continue
        got_shape, got_dtype = specs[name]
        if got_shape != shape:
            raise ModelFileError(
                f"{path}: parameter '{prefix}{name}' has shape {got_shape}, the model needs {shape}"
            )
        if got_dtype != dtype:
            raise ModelFileError(
                f"{path}: parameter '{prefix}{name}' has dtype {got_dtype}, the model needs {dtype}"
            )
    unexpected = sorted(set(specs) - set(expected))
    if unexpected:
        names = ", ".join(f"'{prefix}{n}'" for n in unexpected)
        raise ModelFileError(f"{path}: unexpected arrays {names} (not parameters of this model)")


def _check_finite(path: PathLike, arrays: dict[str, np.ndarray], prefix: str) -> None:
    """Raise ModelFileError if any array holds NaN or Inf (a diverged run was saved)."""
    for name, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            what = "optimizer buffer" if name.startswith("optim/") else "parameter"
            raise ModelFileError(f"{path}: {what} '{prefix}{name}' holds {bad} NaN/Inf values")
