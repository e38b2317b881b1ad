"""The array primitives every backend implements, with their shapes.

This is the contract between autograd (tensor.py, ops/) and the backends. NumPy's version,
numpy_backend.py, is the reference and the only one an op needs; c_backend.py calls the
kernels of csrc/, must agree with it, and hands a primitive it has no kernel for to NumPy. All arrays are float32 or float64 (one dtype per call); labels are integers.

  matmul(a, b, trans_a, trans_b)          op(a) (M,K) @ op(b) (K,N) -> (M,N)
  linear(x, w, b, activation, slope)      act(x @ w.T + b): x (B,in) w (out,in) b (out,)|None
  linear_backward(x, w, y, dy, activation, slope, need_dx) -> (dx|None, dw, db)
  add, sub, mul, div(a, b)                NumPy broadcasting
  neg(a), exp(a), log(a)
  pow(a, p)                               p a Python number or an array of a's shape
  pow_backward(a, b, y, dy, need_a, need_b) -> (da|None, db|None)    all of one shape
  sigmoid, tanh, relu, leaky_relu(a[, slope])
  sigmoid_backward(y, dy), tanh_backward(y, dy)        from the output y
  relu_backward(x, dy), leaky_relu_backward(x, dy, slope)
  sum(a, axis, keepdims)                  axis an int, a tuple or None (all)
  max_dim(a, axis), min_dim(a, axis) -> (values, int64 indices), both size 1 along axis
  select_dim_backward(indices, dy, shape, axis) -> dx: dy at indices along axis, else 0
  gather_rows(x (R,C), rows (n,)) -> x[rows] (n,C)
  scatter_add_rows(g (n,C), rows (n,), R) -> dx (R,C), dx[rows[j]] += g[j]
  softmax(a), log_softmax(a)              over the last axis, max-shifted
  softmax_backward(y, dy), log_softmax_backward(y, dy)
  cross_entropy(logits (B,C), labels (B,)) -> (mean loss 0-d, dlogits (B,C))
  sgd_step(p, g, buf, lr, momentum, weight_decay, nesterov)              in place
  adam_step(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step)       in place
  sgd_step_many(ps, gs, bufs, lr, momentum, weight_decay, nesterov)      lists: one step each
  adam_step_many(ps, gs, ms, vs, lr, beta1, beta2, eps, weight_decay, step)   (C: one call)
"""

from __future__ import annotations

import numpy as np

# The activations a fused linear can apply, as the names Python passes: the one list. The C
# kernels know them as the enum tg_activation of csrc/kernels.h (TG_ACT_NONE, ...), which the C
# backend looks up by these names when it loads, so a name C lacks fails there at once. The
# layer classes (nn/activation.py) name theirs in their `fused` attribute.
ACTIVATIONS = ("none", "relu", "sigmoid", "tanh", "leaky_relu")

PRIMITIVES = (
    "matmul",
    "linear",
    "linear_backward",
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "pow_backward",
    "exp",
    "log",
    "sigmoid",
    "sigmoid_backward",
    "tanh",
    "tanh_backward",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "sum",
    "max_dim",
    "min_dim",
    "select_dim_backward",
    "gather_rows",
    "scatter_add_rows",
    "softmax",
    "softmax_backward",
    "log_softmax",
    "log_softmax_backward",
    "cross_entropy",
    "sgd_step",
    "adam_step",
    "sgd_step_many",
    "adam_step_many",
)


def check_labels(labels: np.ndarray, logits_shape: tuple[int, ...]) -> None:
    """Raise ValueError unless labels is (B,) of integers in [0, C) for logits (B, C)."""
    if len(logits_shape) != 2:
        raise ValueError(f"cross_entropy: logits must be 2-D (B, C), got shape {logits_shape}")
    if labels.ndim != 1 or labels.shape[0] != logits_shape[0]:
        raise ValueError(
            f"cross_entropy: labels must have shape ({logits_shape[0]},) for logits "
            f"{logits_shape}, got {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= logits_shape[1]):
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {logits_shape[1]}), "
            f"got min {labels.min()} max {labels.max()}"
        )
