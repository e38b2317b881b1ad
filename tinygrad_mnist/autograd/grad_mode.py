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
