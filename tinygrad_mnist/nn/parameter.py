"""`Parameter`: a Tensor that a Module registers as one of its parameters (torch.nn.Parameter).

Parameter(t) shares t's memory, keeps its dtype and requires grad (unless
requires_grad=False: a frozen parameter, which Module.parameters() still lists).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensors.tensor import Tensor


class Parameter(Tensor):
    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        dtype = data.dtype if isinstance(data, (Tensor, np.ndarray)) else None
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
