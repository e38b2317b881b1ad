"""The NumPy backend: the reference every C kernel is tested against.

Each primitive takes and returns NumPy arrays of one float dtype (float32 or float64).
`backends/interface.py` lists the primitives and their shapes; this file is their meaning.
"""

from __future__ import annotations

import numpy as np

from .interface import ACTIVATIONS, check_labels

name = "numpy"


# ---------------------------------------------------------------- matmul and linear layers
def matmul(
    a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False
) -> np.ndarray:
    """op(a) @ op(b) for 2-D arrays, op = transpose when the flag is set: (M,K) @ (K,N) -> (M,N)."""
    return (a.T if trans_a else a) @ (b.T if trans_b else b)


def linear(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, activation: str = "none", slope: float = 0.1
) -> np.ndarray:
    """y = act(x @ w.T + b): x (B, in), w (out, in), b (out,) or None -> y (B, out)."""
    z = x @ w.T
    if b is not None:
        z += b
    return _activate(z, activation, slope)


def linear_backward(
    x: np.ndarray,
    w: np.ndarray,
    y: np.ndarray,
    dy: np.ndarray,
    activation: str = "none",
    slope: float = 0.1,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of y = act(x @ w.T + b) from the output y alone.

    dz = act'(y) * dy;  dx = dz @ w (B, in);  dw = dz.T @ x (out, in);  db = sum_rows(dz) (out,).
    (leaky_relu needs slope > 0 here, so that y > 0 exactly where z > 0.)
    """
    dz = _activation_backward(y, dy, activation, slope)
    dx = dz @ w if need_dx else None
    return dx, dz.T @ x, dz.sum(axis=0)


def _activate(z: np.ndarray, activation: str, slope: float) -> np.ndarray:
    if activation == "none":
        return z
    if activation == "relu":
        return relu(z)
    if activation == "sigmoid":
        return sigmoid(z)
    if activation == "tanh":
        return tanh(z)
    if activation == "leaky_relu":
        return leaky_relu(z, slope)
    raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")


def _activation_backward(
    y: np.ndarray, dy: np.ndarray, activation: str, slope: float
) -> np.ndarray:
    if activation == "none":
        return dy
    if activation == "relu":
        return relu_backward(y, dy)
    if activation == "sigmoid":
        return sigmoid_backward(y, dy)
    if activation == "tanh":
        return tanh_backward(y, dy)
    if activation == "leaky_relu":
        return leaky_relu_backward(y, dy, slope)
    raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")


# ---------------------------------------------------------------- elementwise (NumPy broadcasting)
def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a - b


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a * b


def div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a / b


def neg(a: np.ndarray) -> np.ndarray:
    return -a


def pow(a: np.ndarray, p: float | np.ndarray) -> np.ndarray:  # noqa: A001 - the op's name
    """a ** p, computed directly: p a Python number, or an array of a's shape and dtype."""
    if isinstance(p, np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf, (-2) ** 0.5 = NaN
            return np.power(a, p)
    return a ** a.dtype.type(p)


def pow_backward(
    a: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    dy: np.ndarray,
    need_a: bool = True,
    need_b: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(da, db) of y = a ** b (all one shape), with torch's conventions where 0 * inf arises:

    da = dy b a^(b-1), 0 where b == 0;   db = dy y log a, 0 where a == 0 and b >= 0.
    """
    da = db = None
    with np.errstate(all="ignore"):  # the masked-out entries may be inf or NaN
        if need_a:
            da = np.where(b == 0, 0, dy * b * np.power(a, b - 1)).astype(a.dtype, copy=False)
        if need_b:
            db = np.where((a == 0) & (b >= 0), 0, dy * y * np.log(a)).astype(a.dtype, copy=False)
    return da, db


def exp(a: np.ndarray) -> np.ndarray:
    return np.exp(a)


def log(a: np.ndarray) -> np.ndarray:
    return np.log(a)


# ---------------------------------------------------------------- activations and their backward
def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a), computed without overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def sigmoid_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """d sigmoid = y (1 - y), from the output y."""
    return dy * y * (1 - y)


def tanh(a: np.ndarray) -> np.ndarray:
    return np.tanh(a)


def tanh_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """d tanh = 1 - y^2, from the output y."""
    return dy * (1 - y * y)


def relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0)


def relu_backward(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dy where x > 0, else 0 (x may be the input or the output: both are > 0 at the same places)."""
    return np.where(x > 0, dy, 0).astype(dy.dtype, copy=False)


def leaky_relu(a: np.ndarray, slope: float = 0.1) -> np.ndarray:
    """a where a > 0, else slope * a (the course's max(0.1 a, a) for slope = 0.1)."""
    return np.where(a > 0, a, a * a.dtype.type(slope))


def leaky_relu_backward(x: np.ndarray, dy: np.ndarray, slope: float = 0.1) -> np.ndarray:
    """dy where x > 0, else slope * dy."""
    return np.where(x > 0, dy, dy * dy.dtype.type(slope))


# ---------------------------------------------------------------- reductions
def sum(
    a: np.ndarray, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> np.ndarray:  # noqa: A001
    """Sum over the given axes (all when None); always returns an array, 0-d for a full sum."""
    return np.asarray(np.sum(a, axis=axis, keepdims=keepdims), dtype=a.dtype)


def max_dim(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices) of the largest element along axis (size >= 1), both kept as size 1
    there; the first of equal values, and a NaN counts as the largest (as np.argmax)."""
    idx = np.argmax(a, axis=axis, keepdims=True)
    return np.take_along_axis(a, idx, axis), idx.astype(np.int64, copy=False)


def min_dim(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices) of the smallest element along axis, as max_dim."""
    idx = np.argmin(a, axis=axis, keepdims=True)
    return np.take_along_axis(a, idx, axis), idx.astype(np.int64, copy=False)


def select_dim_backward(
    indices: np.ndarray, dy: np.ndarray, shape: tuple[int, ...], axis: int
) -> np.ndarray:
    """dx of shape `shape`: dy (size 1 along axis) put at indices along axis, 0 elsewhere."""
    dx = np.zeros(shape, dtype=dy.dtype)
    np.put_along_axis(dx, indices, dy, axis)
    return dx


# ---------------------------------------------------------------- gather and scatter-add
def gather_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """x[rows]: x (n_rows, cols), rows (n,) int64 in [0, n_rows) -> (n, cols)."""
    return x[rows]


def scatter_add_rows(g: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """The backward of gather_rows: dx (n_rows, cols) with dx[rows[j]] += g[j] (repeats add)."""
    dx = np.zeros((n_rows, g.shape[1]), dtype=g.dtype)
    np.add.at(dx, rows, g)
    return dx


# ---------------------------------------------------------------- softmax over the last axis
def softmax(a: np.ndarray) -> np.ndarray:
    """e^(a - max) / sum e^(a - max) along the last axis; the shift keeps e^ from overflowing."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx = y * (dy - sum(dy * y)) along the last axis, from the output y."""
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def log_softmax(a: np.ndarray) -> np.ndarray:
    """a - max - log(sum e^(a - max)) along the last axis."""
    s = a - a.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def log_softmax_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx = dy - e^y * sum(dy) along the last axis, from the output y."""
    return dy - np.exp(y) * dy.sum(axis=-1, keepdims=True)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fused softmax + negative log-likelihood, mean over the batch.

    logits (B, C), labels (B,) integers in [0, C) -> (loss as a 0-d array, dlogits (B, C)),
    where dlogits = (softmax(logits) - onehot(labels)) / B is the gradient of the mean loss.
    """
    check_labels(labels, logits.shape)
    bsz = logits.shape[0]
    logp = log_softmax(logits)
    rows = np.arange(bsz)
    loss = -logp[rows, labels].sum() / max(bsz, 1)
    grad = np.exp(logp)
    grad[rows, labels] -= 1
    grad /= max(bsz, 1)
    return np.asarray(loss, dtype=logits.dtype), grad


# ---------------------------------------------------------------- optimizer updates (in place)
def sgd_step(
    p: np.ndarray,
    g: np.ndarray,
    buf: np.ndarray | None,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> None:
    """PyTorch's SGD: g += wd p; buf = momentum buf + g; p -= lr (g + momentum buf if nesterov else buf).

    buf is the momentum buffer (updated in place), or None when momentum == 0.
    """
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        buf *= momentum
        buf += g
        g = g + momentum * buf if nesterov else buf
    p -= p.dtype.type(lr) * g


def adam_step(
    p: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    step: int,
) -> None:
    """Adam (PyTorch's form, L2 weight decay): step counts from 1; m, v are updated in place.

    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
    """
    if weight_decay:
        g = g + weight_decay * p
    # In place, through one work array: each full-size temporary NumPy would otherwise
    # allocate costs a fresh mmap and page faults for parameters of a few MB. It is made
    # with np.empty, not as g * (1 - b1): for a 0-d g that product is a NumPy scalar, which
    # cannot be an out= array.
    tmp = np.empty(p.shape, dtype=p.dtype)
    np.multiply(g, 1 - beta1, out=tmp)
    m *= beta1
    m += tmp  # m = b1 m + (1 - b1) g
    np.multiply(g, g, out=tmp)
    tmp *= 1 - beta2
    v *= beta2
    v += tmp  # v = b2 v + (1 - b2) g^2
    np.divide(v, 1 - beta2**step, out=tmp)
    np.sqrt(tmp, out=tmp)
    tmp += eps  # sqrt(v / (1 - b2^t)) + eps
    np.divide(m, tmp, out=tmp)
    tmp *= lr / (1 - beta1**step)  # lr (m / (1 - b1^t)) / (sqrt(...) + eps)
    p -= tmp


def sgd_step_many(
    ps: list[np.ndarray],
    gs: list[np.ndarray],
    bufs: list[np.ndarray] | None,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> None:
    """sgd_step on each parameter ps[j] with gradient gs[j] and buffer bufs[j] (bufs None when
    momentum == 0), one after the other. The C backend does them all in one call."""
    if len(gs) != len(ps) or (bufs is not None and len(bufs) != len(ps)):
        raise ValueError("sgd_step_many: ps, gs and bufs must have one entry per parameter")
    for j, p in enumerate(ps):
        sgd_step(p, gs[j], None if bufs is None else bufs[j], lr, momentum, weight_decay, nesterov)


def adam_step_many(
    ps: list[np.ndarray],
    gs: list[np.ndarray],
    ms: list[np.ndarray],
    vs: list[np.ndarray],
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    step: int,
) -> None:
    """adam_step on each parameter ps[j] with gradient gs[j] and moments ms[j], vs[j], one
    after the other. The C backend does them all in one call."""
    if not len(ps) == len(gs) == len(ms) == len(vs):
        raise ValueError("adam_step_many: ps, gs, ms and vs must have one entry per parameter")
    for j, p in enumerate(ps):
        adam_step(p, gs[j], ms[j], vs[j], lr, beta1, beta2, eps, weight_decay, step)
