"""Choosing the backend that runs the array primitives.

Two backends implement the same primitives (see interface.py): `numpy` (the reference) and
`c` (the compiled kernels in csrc/). Autograd code asks `current()` for the backend object at
the moment it runs an op, so it never imports a backend module itself.

The choice is per thread: `set_backend` or `with backend(...)` in one thread does not change
what another thread runs. A new thread starts with the process default, which is
$TINYGRAD_BACKEND when set, else `c` when the compiled module imports, else `numpy`.
`set_backend` called from the main thread also changes that default.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from types import ModuleType

# torch.backends.mps / .cudnn, so that programs probing for a GPU run unchanged
from . import cudnn, mps  # noqa: F401

NAMES = ("c", "numpy")

_loaded: dict[str, ModuleType] = {}
_load_lock = threading.Lock()
_local = threading.local()
_default: str | None = None


class BackendUnavailableError(ImportError):
    """The named backend cannot be loaded (e.g. the C module was not compiled)."""


# setup.py writes this file beside the package when the C build failed at install time
_NOT_BUILT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_kernels_not_built.txt"
)


def _why_c_is_missing(error: ImportError) -> str:
    """Why the C backend does not load, and what to do about it, in one sentence."""
    try:
        with open(_NOT_BUILT, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return (
            f"the compiled C kernels do not import ({error}). They are built by `pip install .`, "
            "which needs a C compiler: install one and reinstall with `pip install "
            "--force-reinstall --no-cache-dir .`."
        )


def load(name: str) -> ModuleType:
    """Import and return the backend module called `name` ("c" or "numpy")."""
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(NAMES)}")
    mod = _loaded.get(name)
    if mod is not None:
        return mod
    with _load_lock:
        if name not in _loaded:
            try:
                _loaded[name] = importlib.import_module(f"tinygrad_mnist.backends.{name}_backend")
            except ImportError as e:
                why = _why_c_is_missing(e) if name == "c" else str(e)
                raise BackendUnavailableError(
                    f"the {name!r} backend is not available: {why}"
                ) from e
        return _loaded[name]


def available() -> list[str]:
    """Names of the backends that load on this machine."""
    out = []
    for n in NAMES:
        try:
            load(n)
            out.append(n)
        except BackendUnavailableError:
            pass
    return out


def _first_frame_outside_package() -> int:
    """warnings.warn's stacklevel that points at the user's line, not at our own frames."""
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package_dir):
        frame, level = frame.f_back, level + 1
    return level


def _default_name() -> str:
    global _default
    if _default is None:
        env = os.environ.get("TINYGRAD_BACKEND", "").strip().lower()
        if env:
            if env not in NAMES:
                raise ValueError(
                    f"TINYGRAD_BACKEND={env!r} is not a backend; choose one of {', '.join(NAMES)}"
                )
            load(env)
            _default = env
        else:
            try:
                load("c")
                _default = "c"
            except BackendUnavailableError as e:
                warnings.warn(
                    f"running on the numpy backend, because {e}",
                    RuntimeWarning,
                    stacklevel=_first_frame_outside_package(),
                )
                _default = "numpy"
    return _default


def current() -> ModuleType:
    """The backend module this thread runs ops on."""
    mod = getattr(_local, "mod", None)
    if mod is None:
        mod = load(_default_name())
        _local.mod = mod
    return mod


def get_backend() -> str:
    """Name of the backend this thread uses: "c" or "numpy"."""
    return current().name


def set_backend(name: str) -> None:
    """Use backend `name` ("c" or "numpy") in this thread (and, from the main thread, by default)."""
    global _default
    mod = load(name)
    _local.mod = mod
    if threading.current_thread() is threading.main_thread():
        _default = name


@contextlib.contextmanager
def backend(name: str) -> Iterator[ModuleType]:
    """`with backend("numpy"): ...` runs the block on that backend, in this thread only."""
    mod = load(name)
    prev = getattr(_local, "mod", None)
    _local.mod = mod
    try:
        yield mod
    finally:
        _local.mod = prev
