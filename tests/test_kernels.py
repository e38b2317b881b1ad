"""The C backend against the NumPy reference: every primitive, float32 and float64, on every
ISA path this CPU has (each test runs once per ISA, switched with c_backend.set_isa).

Agreement is measured norm-wise, max|c - ref| <= tol * max|ref|, with tol 1e-5 for float32
and 1e-12 for float64 (see assert_close). Besides values, the tests check that bad input
raises ValueError/TypeError, and that non-contiguous, read-only and zero-size inputs work.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from tinygrad_mnist.backends import c_backend, interface, load

C = load("c")
NP = load("numpy")
ISAS = c_backend.available_isas()


@pytest.fixture(autouse=True, params=ISAS)
def isa(request: pytest.FixtureRequest):
    """Every test of this file runs once per ISA path, then restores the previous one."""
    previous = c_backend.set_isa(request.param)
    assert c_backend.get_isa() == request.param
    yield request.param
    c_backend.set_isa(previous)


DTYPES = [np.float32, np.float64]
SHAPES = [(1,), (3,), (17,), (129,), (1000,), (17, 129), (1, 1000), (129, 3), (2, 3, 4)]
ACTIVATIONS = ["none", "relu", "sigmoid", "tanh", "leaky_relu"]


def assert_close(got: np.ndarray, ref: np.ndarray) -> None:
    """Same shape and dtype, same non-finite entries, and finite entries close norm-wise."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(got[~finite], ref[~finite])
    if not finite.any():
        return
    g, r = got[finite].astype(np.float64), ref[finite].astype(np.float64)
    tol = 1e-5 if ref.dtype == np.float32 else 1e-12
    scale = max(np.abs(r).max(), np.finfo(ref.dtype).tiny)
    err = np.abs(g - r).max() if np.isfinite(g).all() else np.inf
    assert err <= tol * scale, f"max error {err:.3g} > {tol:g} * {scale:.3g}"


def rand(shape, dtype, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def away_from_zero(shape, dtype, seed=1):
    """Values with |x| in [0.5, 2]: safe divisors."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)).astype(dtype)


def test_every_primitive_has_the_reference_signature():
    for op in interface.PRIMITIVES:
        assert callable(getattr(C, op)), op
        assert inspect.signature(getattr(C, op)).parameters.keys() == (
            inspect.signature(getattr(NP, op)).parameters.keys()
        ), op
    assert C.name == "c"


# ---------------------------------------------------------------- elementwise maps
UNARY = [
    ("neg", lambda x: x, ()),
    ("exp", lambda x: x, ()),
    ("log", lambda x: np.abs(x) + 0.01, ()),
    ("pow", lambda x: x, (2,)),
    ("pow", lambda x: x, (3,)),
    ("pow", lambda x: np.abs(x) + 0.01, (0.5,)),
    ("pow", lambda x: np.abs(x) + 0.5, (-1.5,)),
    ("sigmoid", lambda x: x, ()),
    ("sigmoid", lambda x: x * 60, ()),  # |x| up to 120: e^|x| overflows float32
    ("tanh", lambda x: x, ()),
    ("relu", lambda x: x, ()),
    ("leaky_relu", lambda x: x, ()),
    ("leaky_relu", lambda x: x, (0.01,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op,make,args", UNARY)
def test_unary(op, make, args, shape, dtype):
    x = make(rand(shape, dtype)).astype(dtype)
    assert_close(getattr(C, op)(x, *args), getattr(NP, op)(x, *args))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extremes_are_exact_limits(dtype):
    x = np.array([-1e4, -800, -100, 0, 100, 800, 1e4], dtype)
    y = C.sigmoid(x)
    assert np.isfinite(y).all()
    assert y[0] == 0 and y[-1] == 1 and y[3] == 0.5
    assert_close(y, NP.sigmoid(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_propagates_nan(dtype):
    y = C.relu(np.array([np.nan, -1, 2], dtype))
    assert np.isnan(y[0]) and y[1] == 0 and y[2] == 2


BACKWARD = [
    ("sigmoid_backward", lambda x: NP.sigmoid(x), ()),
    ("tanh_backward", lambda x: NP.tanh(x), ()),
    ("relu_backward", lambda x: x, ()),
    ("leaky_relu_backward", lambda x: x, ()),
    ("leaky_relu_backward", lambda x: x, (0.2,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op,make,args", BACKWARD)
def test_activation_backward(op, make, args, shape, dtype):
    x = make(rand(shape, dtype))
    dy = rand(shape, dtype, seed=5)
    assert_close(getattr(C, op)(x, dy, *args), getattr(NP, op)(x, dy, *args))


# ---------------------------------------------------------------- binary ops and broadcasting
BROADCASTS = [
    ((17, 129), (17, 129)),  # same shape
    ((1000,), (1000,)),
    ((), ()),
    ((17, 129), (129,)),  # row
    ((129,), (17, 129)),  # row on the left: row - A
    ((129, 3), (1, 3)),
    ((17, 129), (17, 1)),  # column
    ((129, 1), (129, 3)),  # column on the left
    ((1, 17, 3), (17, 1)),
    ((17, 129), ()),  # scalar
    ((), (1, 1000)),  # scalar on the left
    ((1,), (1000,)),
    ((3, 1), (1,)),
    ((2, 1, 3), (4, 1)),  # general: both grow
    ((3, 1), (1, 4)),
    ((5, 4, 3), (4, 1)),  # small operand materialised
    ((2, 3, 4), (3, 4)),
    ((1, 1), (3,)),  # result grows beyond both: (1, 3)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_broadcasting(op, shapes, dtype):
    a = away_from_zero(shapes[0], dtype, seed=2)
    b = away_from_zero(shapes[1], dtype, seed=3)
    assert_close(getattr(C, op)(a, b), getattr(NP, op)(a, b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("number", [2, -0.3, 1e-3, True])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_with_python_numbers(op, number, dtype):
    a = away_from_zero((17, 129), dtype)
    assert_close(getattr(C, op)(a, number), getattr(NP, op)(a, number))
    assert_close(getattr(C, op)(number, a), getattr(NP, op)(number, a))
    scalar = dtype(0.75)  # a NumPy scalar of the same dtype counts as a 0-d array
    assert_close(getattr(C, op)(scalar, a), getattr(NP, op)(scalar, a))


# ---------------------------------------------------------------- sums
SUMS = [
    ((1000,), [None, 0, -1, (0,)]),
    ((17, 129), [None, 0, 1, -1, -2, (0, 1), (1, 0), ()]),
    ((129, 3), [0, 1]),
    ((1, 1000), [0, 1]),
    ((2, 3, 4, 5), [0, 1, 2, 3, (1, 2), (0, 2), (0, 3), (0, 1, 3), (1, 2, 3), None]),
    ((), [None, ()]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(
    "shape,axis", [(s, ax) for s, axes in SUMS for ax in axes], ids=lambda v: str(v)
)
def test_sum(shape, axis, keepdims, dtype):
    x = rand(shape, dtype, seed=4)
    assert_close(C.sum(x, axis, keepdims), NP.sum(x, axis, keepdims))


def test_sum_of_many_float32_values_is_accurate():
    # 1e6 copies of 0.1: a naive float32 running sum is off by about 1%.
    x = np.full(1_000_000, 0.1, np.float32)
    exact = 1_000_000 * np.float64(np.float32(0.1))
    assert abs(float(C.sum(x)) - exact) <= 1e-6 * exact
    assert abs(float(C.sum(x.reshape(1000, 1000), 1)[0]) - exact / 1000) <= 1e-6 * exact / 1000
    assert abs(float(C.sum(x.reshape(1000, 1000), 0)[0]) - exact / 1000) <= 1e-6 * exact / 1000


# ---------------------------------------------------------------- softmax and cross-entropy
SOFTMAX_SHAPES = [(1, 1000), (17, 129), (129, 3), (3, 1), (2, 3, 4), (10,)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 1e4])
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES, ids=str)
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_forward_and_backward(op, shape, scale, dtype):
    x = (rand(shape, dtype, seed=6) * dtype(scale)).astype(dtype)
    y = getattr(C, op)(x)
    assert np.isfinite(y).all()
    assert_close(y, getattr(NP, op)(x))
    dy = rand(shape, dtype, seed=7)
    backward = op + "_backward"
    assert_close(getattr(C, backward)(y, dy), getattr(NP, backward)(y, dy))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 1e4])
@pytest.mark.parametrize("shape", [(1, 10), (17, 129), (129, 3), (1000, 10), (5, 1)], ids=str)
@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8])
def test_cross_entropy(shape, scale, dtype, label_dtype):
    logits = (rand(shape, dtype, seed=8) * dtype(scale)).astype(dtype)
    labels = np.random.default_rng(9).integers(0, shape[1], shape[0]).astype(label_dtype)
    loss, grad = C.cross_entropy(logits, labels)
    ref_loss, ref_grad = NP.cross_entropy(logits, labels)
    assert loss.shape == () and np.isfinite(loss) and np.isfinite(grad).all()
    assert_close(loss, ref_loss)
    assert_close(grad, ref_grad)
    # each row of the gradient sums to 0: softmax sums to 1, the one-hot too
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-6 if dtype == np.float32 else 1e-15)


# ---------------------------------------------------------------- matmul and linear
MATMUL_SHAPES = [(1, 1, 1), (3, 17, 129), (129, 3, 17), (17, 1000, 1), (1, 129, 1000)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("mkn", MATMUL_SHAPES, ids=str)
def test_matmul(mkn, trans_a, trans_b, dtype):
    m, k, n = mkn
    a = rand((k, m) if trans_a else (m, k), dtype, seed=10)
    b = rand((n, k) if trans_b else (k, n), dtype, seed=11)
    assert_close(C.matmul(a, b, trans_a, trans_b), NP.matmul(a, b, trans_a, trans_b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [(1, 3, 17), (17, 129, 3), (129, 17, 10)], ids=str)
def test_linear_forward_and_backward(sizes, activation, with_bias, dtype):
    bsz, n_in, n_out = sizes
    x = rand((bsz, n_in), dtype, seed=12)
    w = rand((n_out, n_in), dtype, seed=13)
    b = rand((n_out,), dtype, seed=14) if with_bias else None
    y = C.linear(x, w, b, activation, 0.05)
    assert_close(y, NP.linear(x, w, b, activation, 0.05))
    dy = rand((bsz, n_out), dtype, seed=15)
    for need_dx in (True, False):
        got = C.linear_backward(x, w, y, dy, activation, 0.05, need_dx)
        ref = NP.linear_backward(x, w, y, dy, activation, 0.05, need_dx)
        assert (got[0] is None) == (not need_dx)
        for g, r in zip(got, ref, strict=True):
            if r is not None:
                assert_close(g, r)


# ---------------------------------------------------------------- optimizers
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "momentum,weight_decay,nesterov",
    [
        (0.0, 0.0, False),
        (0.0, 0.01, False),
        (0.9, 0.0, False),
        (0.9, 0.01, False),
        (0.9, 0.01, True),
    ],
)
@pytest.mark.parametrize("shape", [(1,), (17, 129), (1000,)], ids=str)
def test_sgd_steps(shape, momentum, weight_decay, nesterov, dtype):
    p_c, p_ref = rand(shape, dtype, seed=16), rand(shape, dtype, seed=16)
    buf_c = np.zeros(shape, dtype) if momentum else None
    buf_ref = np.zeros(shape, dtype) if momentum else None
    for step in range(4):
        g = rand(shape, dtype, seed=20 + step)
        C.sgd_step(p_c, g, buf_c, 0.1, momentum, weight_decay, nesterov)
        NP.sgd_step(p_ref, g, buf_ref, 0.1, momentum, weight_decay, nesterov)
    assert not np.array_equal(p_c, rand(shape, dtype, seed=16))  # it did move
    assert_close(p_c, p_ref)
    if momentum:
        assert_close(buf_c, buf_ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("shape", [(1,), (17, 129), (1000,)], ids=str)
def test_adam_steps(shape, weight_decay, dtype):
    p_c, p_ref = rand(shape, dtype, seed=17), rand(shape, dtype, seed=17)
    m_c, v_c, m_ref, v_ref = (np.zeros(shape, dtype) for _ in range(4))
    for step in range(1, 6):
        g = rand(shape, dtype, seed=30 + step)
        C.adam_step(p_c, g, m_c, v_c, 1e-2, 0.9, 0.999, 1e-8, weight_decay, step)
        NP.adam_step(p_ref, g, m_ref, v_ref, 1e-2, 0.9, 0.999, 1e-8, weight_decay, step)
    assert not np.array_equal(p_c, rand(shape, dtype, seed=17))
    for got, ref in ((p_c, p_ref), (m_c, m_ref), (v_c, v_ref)):
        assert_close(got, ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum,weight_decay,nesterov", [(0.0, 0.0, False), (0.9, 0.01, True)])
def test_sgd_step_many_is_one_call_of_the_reference(momentum, weight_decay, nesterov, dtype):
    """Several parameters of odd shapes in one C call, against the NumPy reference's steps."""
    shapes = [(1,), (3,), (17, 129), (129,)]
    p_c = [rand(s, dtype, seed=40 + i) for i, s in enumerate(shapes)]
    p_ref = [p.copy() for p in p_c]
    buf_c = [np.zeros(s, dtype) for s in shapes] if momentum else None
    buf_ref = [np.zeros(s, dtype) for s in shapes] if momentum else None
    for step in range(3):
        gs = [rand(s, dtype, seed=50 + 10 * step + i) for i, s in enumerate(shapes)]
        C.sgd_step_many(p_c, gs, buf_c, 0.1, momentum, weight_decay, nesterov)
        NP.sgd_step_many(p_ref, gs, buf_ref, 0.1, momentum, weight_decay, nesterov)
    for i, s in enumerate(shapes):
        assert not np.array_equal(p_c[i], rand(s, dtype, seed=40 + i))  # every one moved
        assert_close(p_c[i], p_ref[i])
        if momentum:
            assert_close(buf_c[i], buf_ref[i])


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_step_many_is_one_call_of_the_reference(dtype):
    shapes = [(1,), (3,), (17, 129), (129,)]
    p_c = [rand(s, dtype, seed=60 + i) for i, s in enumerate(shapes)]
    p_ref = [p.copy() for p in p_c]
    state_c = [[np.zeros(s, dtype) for s in shapes] for _ in range(2)]
    state_ref = [[np.zeros(s, dtype) for s in shapes] for _ in range(2)]
    for step in range(1, 4):
        gs = [rand(s, dtype, seed=70 + 10 * step + i) for i, s in enumerate(shapes)]
        C.adam_step_many(p_c, gs, *state_c, 1e-2, 0.9, 0.999, 1e-8, 0.01, step)
        NP.adam_step_many(p_ref, gs, *state_ref, 1e-2, 0.9, 0.999, 1e-8, 0.01, step)
    for got, ref in zip(p_c + state_c[0] + state_c[1], p_ref + state_ref[0] + state_ref[1]):
        assert_close(got, ref)


def test_step_many_of_no_parameters_does_nothing():
    C.sgd_step_many([], [], None, 0.1)
    C.adam_step_many([], [], [], [], 0.1, 0.9, 0.99, 1e-8, 0.0, 1)


# ---------------------------------------------------------------- bad input
f32 = np.ones((3, 4), np.float32)
f64 = np.ones((3, 4), np.float64)
BAD_CALLS = [
    ("int array", lambda: C.exp(np.ones((3, 4), np.int64))),
    ("float16", lambda: C.relu(np.ones(3, np.float16))),
    ("float16 binary", lambda: C.add(np.ones(3, np.float16), np.ones(3, np.float16))),
    ("mixed add", lambda: C.add(f32, f64)),
    ("mixed backward", lambda: C.tanh_backward(f32, f64)),
    ("mixed matmul", lambda: C.matmul(f32, f64.T)),
    ("mixed linear", lambda: C.linear(f32, f32, np.ones(3, np.float64))),
    ("no broadcast", lambda: C.mul(f32, np.ones(3, np.float32))),
    ("backward shapes", lambda: C.relu_backward(f32, f32.T)),
    ("softmax backward shapes", lambda: C.softmax_backward(f32, f32[:2])),
    ("matmul inner", lambda: C.matmul(f32, f32)),
    ("matmul 1-D", lambda: C.matmul(f32[0], f32)),
    ("linear in", lambda: C.linear(f32, f32[:, :3], None)),
    ("linear bias", lambda: C.linear(f32, f32, np.ones(4, np.float32))),
    ("linear activation", lambda: C.linear(f32, f32, None, "gelu")),
    ("linear_backward dy", lambda: C.linear_backward(f32, f32, f32, f32[:, :2])),
    ("sum axis", lambda: C.sum(f32, 2)),
    ("sum repeated axis", lambda: C.sum(f32, (1, -1))),
    ("softmax 0-d", lambda: C.softmax(np.ones((), np.float32))),
    ("labels range", lambda: C.cross_entropy(f32, np.array([0, 1, 4]))),
    ("labels negative", lambda: C.cross_entropy(f32, np.array([0, -1, 2]))),
    ("labels float", lambda: C.cross_entropy(f32, np.array([0.0, 1.0, 2.0]))),
    ("labels shape", lambda: C.cross_entropy(f32, np.array([0, 1]))),
    ("logits 1-D", lambda: C.cross_entropy(f32[0], np.array([0]))),
    ("logits int", lambda: C.cross_entropy(np.ones((3, 4), np.int32), np.array([0, 1, 2]))),
    ("sgd shapes", lambda: C.sgd_step(f32.copy(), f32[:2], None, 0.1)),
    ("sgd no buffer", lambda: C.sgd_step(f32.copy(), f32, None, 0.1, 0.9)),
    ("sgd buffer dtype", lambda: C.sgd_step(f32.copy(), f32, f64.copy(), 0.1, 0.9)),
    ("sgd p strided", lambda: C.sgd_step(np.ones((3, 8), np.float32)[:, ::2], f32, None, 0.1)),
    ("sgd many lengths", lambda: C.sgd_step_many([f32.copy()], [f32, f32], None, 0.1)),
    ("sgd many no buffers", lambda: C.sgd_step_many([f32.copy()], [f32], None, 0.1, 0.9)),
    (
        "sgd many mixed dtypes",
        lambda: C.sgd_step_many([f32.copy(), f64.copy()], [f32, f64], None, 0.1),
    ),
    (
        "sgd many shapes",
        lambda: C.sgd_step_many([f32.copy(), f32.copy()], [f32, f32[:2]], None, 0.1),
    ),
    ("sgd many g is p", lambda: (lambda p: C.sgd_step_many([p], [p], None, 0.1))(f32.copy())),
    (
        "sgd many g views p",
        lambda: (lambda p: C.sgd_step_many([p[:2]], [p[1:3]], None, 0.1))(f32.copy()),
    ),
    (
        "sgd many buffer is g",
        lambda: (lambda g: C.sgd_step_many([f32.copy()], [g], [g], 0.1, 0.9))(f32.copy()),
    ),
    (
        "adam many step 0",
        lambda: C.adam_step_many(*([f32.copy()] for _ in range(4)), 0.1, 0.9, 0.99, 1e-8, 0, 0),
    ),
    (
        "adam many m is v",
        lambda: (
            lambda m: C.adam_step_many([f32.copy()], [f32], [m], [m], 0.1, 0.9, 0.99, 1e-8, 0, 1)
        )(f32.copy()),
    ),
    (
        "adam step 0",
        lambda: C.adam_step(*(f32.copy() for _ in range(4)), 0.1, 0.9, 0.99, 1e-8, 0, 0),
    ),
    (
        "adam v shape",
        lambda: C.adam_step(
            f32.copy(), f32, f32.copy(), f32[:1].copy(), 0.1, 0.9, 0.99, 1e-8, 0, 1
        ),
    ),
]


@pytest.mark.parametrize("what,call", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_value_error(what, call):
    with pytest.raises(ValueError):
        call()


def test_error_messages_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"mul.*\(3, 4\).*\(3,\)"):
        C.mul(f32, np.ones(3, np.float32))
    with pytest.raises(ValueError, match="add.*float32.*float64"):
        C.add(f32, f64)
    with pytest.raises(ValueError, match="exp.*int64"):
        C.exp(np.ones(3, np.int64))


@pytest.mark.parametrize(
    "call",
    [
        lambda: C.exp([1.0, 2.0]),
        lambda: C.add("a", f32),
        lambda: C.add(1.0, 2.0),
        lambda: C.pow(f32, "2"),
    ],
)
def test_non_arrays_raise_type_error(call):
    with pytest.raises(TypeError):
        call()


def test_read_only_state_is_refused():
    p = f32.copy()
    p.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        C.sgd_step(p, f32, None, 0.1)
    m = f32.copy()
    m.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        C.adam_step(f32.copy(), f32, m, f32.copy(), 0.1, 0.9, 0.99, 1e-8, 0.0, 1)


# ---------------------------------------------------------------- memory layouts
def _views(dtype):
    """Non-contiguous and read-only views of (17, 129)-shaped data."""
    base = rand((129, 17), dtype, seed=40)
    wide = rand((17, 258), dtype, seed=41)
    read_only = rand((17, 129), dtype, seed=42)
    read_only.flags.writeable = False
    return {"transposed": base.T, "strided": wide[:, ::2], "read_only": read_only}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["transposed", "strided", "read_only"])
def test_views_give_the_reference_result(layout, dtype):
    x = _views(dtype)[layout]
    other = rand((17, 129), dtype, seed=43)
    for op in ("exp", "sigmoid", "tanh", "relu", "neg", "softmax", "log_softmax"):
        assert_close(getattr(C, op)(x), getattr(NP, op)(x))
    for op in ("add", "sub", "mul"):
        assert_close(getattr(C, op)(x, other), getattr(NP, op)(x, other))
        assert_close(getattr(C, op)(other, x), getattr(NP, op)(other, x))
        assert_close(getattr(C, op)(x, x[0]), getattr(NP, op)(x, x[0]))
        assert_close(getattr(C, op)(x[:, :1], x), getattr(NP, op)(x[:, :1], x))
    assert_close(C.relu_backward(x, x), NP.relu_backward(x, x))
    assert_close(C.softmax_backward(x, other), NP.softmax_backward(x, other))
    for axis in (None, 0, 1):
        assert_close(C.sum(x, axis), NP.sum(x, axis))
    for trans_a in (False, True):
        for trans_b in (False, True):
            a = x.T if trans_a else x  # op(a) is x (17, 129)
            b = x if trans_b else x.T  # op(b) is x.T (129, 17)
            assert_close(C.matmul(a, b, trans_a, trans_b), NP.matmul(a, b, trans_a, trans_b))
    w = x[:5]  # (5, 129)
    y = C.linear(x, w, x[0, :5], "tanh")
    assert_close(y, NP.linear(x, w, x[0, :5], "tanh"))
    for got, ref in zip(
        C.linear_backward(x, w, y, y, "tanh"), NP.linear_backward(x, w, y, y, "tanh"), strict=True
    ):
        assert_close(got, ref)
    labels = np.arange(17)[::-1][::1] * 7 % 129  # a negatively strided label array
    for got, ref in zip(C.cross_entropy(x, labels), NP.cross_entropy(x, labels), strict=True):
        assert_close(got, ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizer_gradient_may_be_a_view(dtype):
    g = rand((129, 17), dtype, seed=44).T
    p_c, p_ref = rand((17, 129), dtype), rand((17, 129), dtype)
    C.sgd_step(p_c, g, None, 0.1)
    NP.sgd_step(p_ref, g, None, 0.1)
    assert_close(p_c, p_ref)


# ---------------------------------------------------------------- zero-size arrays
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0,), (0, 5), (5, 0)], ids=str)
def test_zero_size_elementwise_and_sum(shape, dtype):
    x = np.ones(shape, dtype)
    for op in ("neg", "exp", "log", "sigmoid", "tanh", "relu", "leaky_relu"):
        assert_close(getattr(C, op)(x), getattr(NP, op)(x))
    assert_close(C.pow(x, 2), NP.pow(x, 2))
    assert_close(C.relu_backward(x, x), NP.relu_backward(x, x))
    for op in ("add", "sub", "mul", "div"):
        assert_close(getattr(C, op)(x, x), getattr(NP, op)(x, x))
        assert_close(getattr(C, op)(x, 2.0), getattr(NP, op)(x, 2.0))
        assert_close(getattr(C, op)(x, x[..., :1]), getattr(NP, op)(x, x[..., :1]))
    for axis in [None, 0, -1]:
        for keepdims in (False, True):
            assert_close(C.sum(x, axis, keepdims), NP.sum(x, axis, keepdims))


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_size_softmax_losses_and_layers(dtype):
    x = np.ones((0, 5), dtype)
    for op in ("softmax", "log_softmax"):
        assert_close(getattr(C, op)(x), getattr(NP, op)(x))
    assert C.softmax(np.ones((3, 0), dtype)).shape == (3, 0)
    loss, grad = C.cross_entropy(x, np.zeros(0, np.int64))
    assert loss.shape == () and loss == 0 and grad.shape == (0, 5) and grad.dtype == dtype
    for m, k, n in [(0, 3, 4), (3, 0, 4), (3, 4, 0)]:
        a, b = np.ones((m, k), dtype), np.ones((k, n), dtype)
        assert_close(C.matmul(a, b), NP.matmul(a, b))
    for bsz, n_in, n_out in [(0, 3, 4), (2, 0, 4), (2, 3, 0)]:
        x, w, b = np.ones((bsz, n_in), dtype), np.ones((n_out, n_in), dtype), np.ones(n_out, dtype)
        y = C.linear(x, w, b, "sigmoid")
        assert_close(y, NP.linear(x, w, b, "sigmoid"))
        got = C.linear_backward(x, w, y, y, "sigmoid")
        for g, r in zip(got, NP.linear_backward(x, w, y, y, "sigmoid"), strict=True):
            assert_close(g, r)
    p = np.ones(0, dtype)
    C.sgd_step(p, p.copy(), np.zeros(0, dtype), 0.1, 0.9)
    C.adam_step(p, p.copy(), p.copy(), p.copy(), 0.1, 0.9, 0.99, 1e-8, 0.0, 1)
    assert p.shape == (0,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_steps_reject_overlapping_state(dtype):
    c = C
    p = np.ones(8, dtype)
    g = np.ones(8, dtype)
    with pytest.raises(ValueError, match="overlap"):
        c.sgd_step(p, g, p, 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="overlap"):
        c.sgd_step(p[1:], p[:-1], None, 0.1)  # g is p shifted by one element
    m = np.zeros(8, dtype)
    with pytest.raises(ValueError, match="overlap"):
        c.adam_step(p, g, m, m, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1)
    np.testing.assert_array_equal(p, 1)  # nothing was changed by a refused call


def test_set_isa_names_come_from_the_c_enum_and_bad_names_are_refused():
    assert c_backend.ISA_NAMES[0] == "generic" and "generic" in ISAS
    assert set(ISAS) <= set(c_backend.ISA_NAMES.values())
    before = c_backend.get_isa()
    with pytest.raises(ValueError, match="unknown ISA 'AVX2'"):
        c_backend.set_isa("AVX2")
    for name in set(c_backend.ISA_NAMES.values()) - set(ISAS):  # what this CPU lacks
        with pytest.raises(ValueError, match="not available"):
            c_backend.set_isa(name)
    assert c_backend.get_isa() == before  # a refused switch changes nothing


def test_a_primitive_without_a_kernel_runs_on_the_numpy_reference(monkeypatch):
    """The C backend's one fallback: a primitive only numpy_backend has is found through it."""
    monkeypatch.setattr(NP, "twice", lambda a: a * 2, raising=False)
    np.testing.assert_array_equal(C.twice(np.ones(3)), np.full(3, 2.0))
    with pytest.raises(AttributeError, match="no backend has the primitive 'nothing'"):
        C.nothing  # noqa: B018
