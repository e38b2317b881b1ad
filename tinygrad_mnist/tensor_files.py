"""`save(obj, f)` and `load(f)`: torch.save / torch.load for tensors, state_dict()s, and
dicts, lists and tuples of them (with numbers, strings and None), in a pickle-free file.

The file is an .npz: one array per tensor or NumPy array, plus a JSON header (`__meta__`)
that records the structure, so load() rebuilds exactly what was saved: a Tensor comes back a
Tensor (with its dtype and requires_grad), an array an array, a dict a dict in its order.
As for model files (serialization.py), np.load(..., allow_pickle=False) reads only plain
arrays and the header is JSON, so loading a file from elsewhere cannot run code; files are
written atomically. What has no such form (a whole Module, a function, any other object) is
refused with a one-line error: save its state_dict() instead, as torch's docs recommend.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from typing import Any, BinaryIO

import numpy as np

from .atomic_file import write_bytes_atomic
from .tensors.tensor import Tensor

FORMAT = "tinygrad-mnist-object"
VERSION = 1
META_KEY = "__meta__"


class SavedFileError(ValueError):
    """A file load() cannot read: missing, not one of save()'s files, or damaged."""


def save(obj: Any, f: str | os.PathLike[str] | BinaryIO, **_: Any) -> None:
    """Write obj to a path (atomically) or to a binary file object."""
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays)
    header = {"format": FORMAT, "version": VERSION, "tree": tree}
    buffer = io.BytesIO()
    np.savez(buffer, **{META_KEY: np.array(json.dumps(header))}, **arrays)
    data = buffer.getvalue()
    if hasattr(f, "write"):
        f.write(data)
    else:
        write_bytes_atomic(f, data)


def load(f: str | os.PathLike[str] | BinaryIO, map_location: Any = None, **_: Any) -> Any:
    """Read what save() wrote (map_location and weights_only are accepted: everything is
    on the CPU, and only data is ever loaded)."""
    name = getattr(f, "name", f) if hasattr(f, "read") else os.fspath(f)
    source = io.BytesIO(f.read()) if hasattr(f, "read") else f
    try:
        with np.load(source, allow_pickle=False) as z:
            if META_KEY not in z.files:
                raise SavedFileError(f"{name}: not a file written by save() (no header)")
            header = json.loads(str(z[META_KEY][()]))
            if header.get("format") != FORMAT:
                raise SavedFileError(
                    f"{name}: a {header.get('format')!r} file, not one written by save()"
                    " (model files are read by serialization.load_model)"
                )
            if header.get("version") != VERSION:
                raise SavedFileError(f"{name}: unsupported version {header.get('version')!r}")
            return _decode(header["tree"], z, name)
    except FileNotFoundError:
        raise SavedFileError(f"{name}: no such file") from None
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError, EOFError) as e:
        if isinstance(e, SavedFileError):
            raise
        raise SavedFileError(f"{name}: not a readable file written by save() ({e})") from None


def _encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(obj.data)
        return {"t": "tensor", "a": key, "grad": bool(obj.requires_grad and obj.is_leaf)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"save: cannot save an array of dtype {obj.dtype}")
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(obj)
        return {"t": "ndarray", "a": key}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__}")
            items.append([k, _encode(v, arrays)])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {"t": kind, "items": [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, str)):
        return {"t": "value", "v": obj}
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return {"t": "float", "v": v if math.isfinite(v) else repr(v)}
    if isinstance(obj, np.integer):
        return {"t": "value", "v": int(obj)}
    raise TypeError(
        f"save: cannot save a {type(obj).__name__} without pickle; save tensors, arrays, "
        "numbers, strings and dicts/lists of them (for a model: model.state_dict())"
    )


def _decode(node: Any, z: Any, name: str) -> Any:
    kind = node["t"]
    if kind == "tensor":
        arr = z[node["a"]]
        return Tensor(arr, requires_grad=bool(node["grad"]), dtype=arr.dtype)
    if kind == "ndarray":
        return z[node["a"]]
    if kind == "dict":
        return {k: _decode(v, z, name) for k, v in node["items"]}
    if kind == "list":
        return [_decode(v, z, name) for v in node["items"]]
    if kind == "tuple":
        return tuple(_decode(v, z, name) for v in node["items"])
    if kind == "value":
        return node["v"]
    if kind == "float":
        return float(node["v"])
    raise SavedFileError(f"{name}: unknown entry {kind!r} in the header")
