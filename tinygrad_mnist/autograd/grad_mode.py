"""`no_grad`: switch off graph recording, per thread (like torch.no_grad)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar


class _GradState(threading.local):
    enabled = True  # the default each new thread sees (a class attribute: a fast lookup)


_state = _GradState()
F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """True unless this thread is inside a `no_grad` block."""
    return _state.enabled


class no_grad:  # noqa: N801 - named like torch.no_grad
    """`with no_grad():` or `@no_grad()`: ops inside record no graph and need no backward."""

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        _state.enabled = False

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_grad_enabled(no_grad):  # noqa: N801 - named like torch.set_grad_enabled
    """`with set_grad_enabled(mode):` records the graph or not; called plainly, it sets the
    mode for this thread from now on."""

    def __init__(self, mode: bool) -> None:
        self._prev = is_grad_enabled()
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self) -> None:
        _state.enabled = self.mode


class enable_grad(no_grad):  # noqa: N801 - named like torch.enable_grad
    """`with enable_grad():` records the graph again inside a no_grad block."""

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        _state.enabled = True


class inference_mode(no_grad):  # noqa: N801 - named like torch.inference_mode
    """torch.inference_mode(): here the same as no_grad()."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        _state.enabled = not self.mode
