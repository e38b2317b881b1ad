"""Tests of the C GEMM (csrc/gemm/, tg_matmul_*) and the fused Linear kernels (csrc/linear.c).

Every ISA path the CPU has is tested (switched with tg_set_isa and restored afterwards),
in float32 and float64, for all four transpose combinations, against the plain-loop
reference tg_matmul_ref_* and against NumPy in float64. Error measure (norm-wise):
    max|c - ref| <= tol * max|ref|,   tol = 1e-5 (float32), 1e-12 (float64).
"""

from __future__ import annotations

import itertools
import os
import platform
import subprocess
import sys
import threading

import numpy as np
import pytest
from tinygrad_mnist._kernels import ffi, lib

from tinygrad_mnist.backends.c_backend import ISA_NAMES

TOL = {np.float32: 1e-5, np.float64: 1e-12}
CTYPE = {np.float32: "float *", np.float64: "double *"}
SUFFIX = {np.float32: "f32", np.float64: "f64"}


def _available_isas() -> list[int]:
    best = lib.tg_get_isa()
    isas = [isa for isa in ISA_NAMES if lib.tg_set_isa(isa) == isa]
    lib.tg_set_isa(best)
    return isas


ISAS = _available_isas()


@pytest.fixture(params=ISAS, ids=[ISA_NAMES[i] for i in ISAS])
def isa(request: pytest.FixtureRequest):
    """Runs the test once per ISA path this CPU supports, then restores the previous one."""
    previous = lib.tg_get_isa()
    assert lib.tg_set_isa(request.param) == request.param
    yield request.param
    lib.tg_set_isa(previous)


def ptr(x: np.ndarray):
    assert x.flags.c_contiguous
    return ffi.cast(CTYPE[x.dtype.type], ffi.from_buffer(x))


def operands(rng, m, n, k, ta, tb, dtype):
    """A stored (M,K) or (K,M) when transposed, B stored (K,N) or (N,K).
    Values in [-0.5, 1): mixed signs but a positive mean, so max|ref| is not a cancellation."""
    a = rng.uniform(-0.5, 1.0, (k, m) if ta else (m, k)).astype(dtype)
    b = rng.uniform(-0.5, 1.0, (n, k) if tb else (k, n)).astype(dtype)
    return a, b


def matmul(a, b, m, n, k, ta, tb, ref=False):
    dtype = a.dtype.type
    c = np.full((m, n), np.nan, dtype)  # NaN: an element the kernel forgets to write shows
    name = f"tg_matmul_{'ref_' if ref else ''}{SUFFIX[dtype]}"
    getattr(lib, name)(m, n, k, ptr(a), ta, ptr(b), tb, ptr(c))
    return c


def exact(a, b, ta, tb):
    """op(A) @ op(B) in float64 by NumPy."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64.T if ta else a64) @ (b64.T if tb else b64)


def rel_err(c, ref) -> float:
    scale = np.abs(ref).max() if ref.size else 0.0
    return float(np.abs(c.astype(np.float64) - ref).max() / max(scale, 1e-300)) if c.size else 0.0


def check(m, n, k, ta, tb, dtype, rng, with_ref=True):
    a, b = operands(rng, m, n, k, ta, tb, dtype)
    c = matmul(a, b, m, n, k, ta, tb)
    ref = exact(a, b, ta, tb)
    assert rel_err(c, ref) <= TOL[dtype], (m, n, k, ta, tb, rel_err(c, ref))
    if with_ref:  # the plain-loop reference (same precision) agrees too
        r = matmul(a, b, m, n, k, ta, tb, ref=True)
        assert rel_err(c, r.astype(np.float64)) <= 2 * TOL[dtype]


# ------------------------------------------------------------------ matmul: odd shapes -----

SIZES = (1, 3, 7, 17, 33, 129, 1000)
_all = list(itertools.product(SIZES, repeat=3))
# every combination with at most one 1000 and a deterministic sample of the bigger ones;
# the ones with two or three 1000s exceed 2 MB of operands and run the packed (BLIS) driver
_rng = np.random.default_rng(1234)
ODD_SHAPES = [s for s in _all if s.count(1000) == 0]
_big = [s for s in _all if s.count(1000) == 1]
ODD_SHAPES += [_big[i] for i in _rng.choice(len(_big), 12, replace=False)]
ODD_SHAPES += [(1000, 129, 1000), (129, 1000, 1000), (1000, 1000, 33), (1000, 1000, 1000)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matmul_odd_shapes(isa, dtype):
    rng = np.random.default_rng(0)
    for m, n, k in ODD_SHAPES:
        for ta, tb in itertools.product((0, 1), repeat=2):
            big = m * n * k > 2e7
            if big and (ta, tb) != (0, 0) and (m, n, k) != (1000, 129, 1000):
                continue  # keep the run short: the 1000^3 ones once, plain
            check(m, n, k, ta, tb, dtype, rng, with_ref=m * n * k <= 5e6)


def mlp_shapes(model, batch):
    """(M, N, K, transA, transB) of the three products of each Linear layer."""
    out = []
    for fin, fout in zip(model[:-1], model[1:]):
        out += [(batch, fout, fin, 0, 1), (batch, fin, fout, 0, 0), (fout, fin, batch, 1, 0)]
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("batch", [32, 128, 512])
def test_matmul_mlp_shapes(isa, dtype, batch):
    rng = np.random.default_rng(batch)
    for model in ((784, 128, 64, 10), (784, 512, 256, 10)):
        for m, n, k, ta, tb in mlp_shapes(model, batch):
            check(m, n, k, ta, tb, dtype, rng, with_ref=False)


def test_matmul_known_values(isa):
    """A hand-checked product, all transpose flags: [[1,2],[3,4]] @ [[5,6],[7,8]]."""
    a = np.array([[1, 2], [3, 4]], np.float32)
    b = np.array([[5, 6], [7, 8]], np.float32)
    want = np.array([[19, 22], [43, 50]], np.float32)
    for ta, tb in itertools.product((0, 1), repeat=2):
        sa = np.ascontiguousarray(a.T) if ta else a
        sb = np.ascontiguousarray(b.T) if tb else b
        np.testing.assert_array_equal(matmul(sa, sb, 2, 2, 2, ta, tb), want)


def test_matmul_k_zero_gives_zeros(isa):
    a = np.zeros((4, 0), np.float32)
    b = np.zeros((0, 5), np.float32)
    c = matmul(a, b, 4, 5, 0, 0, 0)
    np.testing.assert_array_equal(c, np.zeros((4, 5), np.float32))


def test_packed_driver_on_odd_shapes():
    """The packed (BLIS) driver, forced with TINYGRAD_GEMM_PATH=packed on small odd shapes
    for every ISA (a subprocess, since the variable is read once)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # root is appended (not prepended) to sys.path, so an installed tinygrad_mnist (with its
    # compiled kernels) wins over the source tree; `tests` is found in root either way.
    code = (
        f"import sys; sys.path.append({root!r})\n"
        "import itertools, numpy as np, tests.test_gemm as t\n"
        "rng = np.random.default_rng(5)\n"
        "for isa in t.ISAS:\n"
        "    t.lib.tg_set_isa(isa)\n"
        "    for dt in (np.float32, np.float64):\n"
        "        for m, n, k in itertools.product((1, 7, 17, 129), (1, 7, 33, 300), (1, 33, 300)):\n"
        "            for ta, tb in itertools.product((0, 1), repeat=2):\n"
        "                t.check(m, n, k, ta, tb, dt, rng)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, TINYGRAD_GEMM_PATH="packed")
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=os.path.dirname(root), capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


# ------------------------------------------------------------------ ISA and threads --------


def test_set_isa_refuses_unknown_and_restores_best():
    best = lib.tg_set_isa(-1)
    assert best == max(ISAS)
    assert lib.tg_set_isa(99) == best  # unknown: refused, nothing changes
    for isa in ISAS:
        assert lib.tg_set_isa(isa) == isa
        assert lib.tg_get_isa() == isa
    assert lib.tg_set_isa(-1) == best
    assert 0 in ISAS  # the portable path is always there


@pytest.mark.parametrize("name", list(ISA_NAMES.values()))
def test_isa_env_variable(name):
    isa = {n: code for code, n in ISA_NAMES.items()}[name]
    code = "from tinygrad_mnist._kernels import lib; print(lib.tg_get_isa())"
    # cwd outside the repo: the installed package (or $PYTHONPATH's) is the one imported
    env = dict(os.environ, TINYGRAD_ISA=name)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd="/", capture_output=True, text=True
    )
    want = isa if isa in ISAS else max(ISAS)  # an ISA the CPU lacks is refused
    assert out.stdout.strip() == str(want), out.stderr[-2000:]


def _run_with_env(code: str, **env: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter (the variables are read once) with env added, run
    outside the repository so that it imports the installed package (or $PYTHONPATH's)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, **env),
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("value", ["AVX2", "avx-512", "Generic", ""])
def test_misspelled_isa_env_is_reported_once_and_ignored(value):
    code = "from tinygrad_mnist.backends import c_backend as c; print(c.get_isa())"
    r = _run_with_env(code, TINYGRAD_ISA=value)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == ISA_NAMES[max(ISAS)]  # the best ISA, as if unset
    lines = [ln for ln in r.stderr.splitlines() if "TINYGRAD_ISA" in ln]
    assert len(lines) == 1 and repr(value) in lines[0], r.stderr


# A (64,512) @ B (64,512)^T: a shape the automatic choice gives to the direct driver, with
# K = 512 > the packed driver's K block, so the two drivers round differently (their sums
# are split differently) and the bits of C show which one ran.
_DRIVER_CODE = """
import hashlib, numpy as np
from tinygrad_mnist.backends import c_backend
from tinygrad_mnist._kernels import ffi, lib
rng = np.random.default_rng(0)
a, b = (rng.standard_normal((64, 512)).astype(np.float32) for _ in range(2))
c = np.empty((64, 64), np.float32)
buf = lambda x: ffi.from_buffer("float[]", x)
lib.tg_matmul_f32(64, 64, 512, buf(a), 0, buf(b), 1, buf(c))
print(hashlib.sha256(c.tobytes()).hexdigest())
"""


def test_gemm_path_env_accepts_auto_packed_direct_and_reports_anything_else():
    env = {k: v for k, v in os.environ.items() if k != "TINYGRAD_GEMM_PATH"}
    runs = {}
    for value in (None, "auto", "packed", "direct", "Direct", "blis"):
        r = subprocess.run(
            [sys.executable, "-c", _DRIVER_CODE],
            env=env if value is None else dict(env, TINYGRAD_GEMM_PATH=value),
            cwd="/",  # the installed package (or $PYTHONPATH's), not the source tree
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        warned = [ln for ln in r.stderr.splitlines() if "TINYGRAD_GEMM_PATH" in ln]
        assert len(warned) == (value in ("Direct", "blis")), r.stderr
        runs[value] = r.stdout.strip()
    assert runs["packed"] != runs[None]  # the drivers can be told apart on this shape
    assert runs["auto"] == runs[None] == runs["direct"]  # auto is the automatic choice
    assert runs["Direct"] == runs["blis"] == runs[None]  # unknown values: ignored, automatic


@pytest.mark.parametrize(
    "m, n, k, ta, tb",
    [(300, 200, 400, 0, 1), (300, 300, 300, 1, 0), (512, 784, 512, 0, 0), (129, 300, 1100, 0, 0)],
    ids=["direct-transB", "packed-transA", "L0-dx-512", "direct-2-K-blocks"],
)
def test_threads_give_same_result(m, n, k, ta, tb):
    """2 threads split the packing and the tiles; every C element is still computed by one
    thread in the same order, so the result is bitwise the same as with 1 thread."""
    rng = np.random.default_rng(7)
    a, b = operands(rng, m, n, k, ta, tb, np.float32)
    one = matmul(a, b, m, n, k, ta, tb)
    nt = lib.tg_set_num_threads(2)
    try:
        assert nt in (1, 2)  # 1 when built without OpenMP
        two = matmul(a, b, m, n, k, ta, tb)
    finally:
        assert lib.tg_set_num_threads(1) == 1
    assert rel_err(two, exact(a, b, ta, tb)) <= 1e-5 * (1 + np.sqrt(k) / 8)
    np.testing.assert_array_equal(one, two)


def test_gemm_blocking_from_caches():
    """The block sizes follow from the cache sizes read at run time (csrc/gemm/cache_size.c):
    the packed B micro-panel (KC x NR floats, NR <= 32) fits in L1, the A block in L2."""
    out = ffi.new("int64_t[7]")
    lib.tg_gemm_blocking(out)
    l1, l2, l3, kc, mc, nc, dkc = list(out)
    assert 8 << 10 <= l1 <= 1 << 20 and 64 << 10 <= l2 <= 64 << 20 and l3 >= 256 << 10
    assert 32 <= kc and kc * 32 * 4 <= 2 * l1 and 4 <= mc and mc * kc * 4 <= l2
    assert nc >= 4 and dkc >= 32
    sysfs = "/sys/devices/system/cpu/cpu0/cache/index0"
    if os.path.exists(sysfs):  # Linux: the same L1 data size the kernel reports

        def size(i):
            with open(f"/sys/devices/system/cpu/cpu0/cache/index{i}/size") as f:
                v = f.read().strip()
            return int(v[:-1]) * {"K": 1024, "M": 1 << 20}[v[-1]] if v[-1] in "KM" else int(v)

        def field(i, name):
            with open(f"/sys/devices/system/cpu/cpu0/cache/index{i}/{name}") as f:
                return f.read().strip()

        i = 0
        while os.path.exists(f"/sys/devices/system/cpu/cpu0/cache/index{i}"):
            if field(i, "level") == "1" and field(i, "type") != "Instruction":
                assert l1 == size(i)
            if field(i, "level") == "2":
                assert l2 == size(i)
            i += 1


# (L1d, L2, L3) bytes of other machines; 0 = unknown (L3 0 also: no L3)
OTHER_CACHES = {
    "xeon_emerald_rapids": (48 << 10, 2 << 20, 260 << 20),
    "zen3": (32 << 10, 512 << 10, 32 << 20),
    "apple_m_no_l3": (128 << 10, 16 << 20, 0),
    "unknown": (0, 0, 0),
}


@pytest.mark.parametrize("elem", [4, 8])
@pytest.mark.parametrize("isa_code", sorted(ISA_NAMES), ids=lambda i: ISA_NAMES[i])
@pytest.mark.parametrize("caches", OTHER_CACHES.values(), ids=OTHER_CACHES.keys())
def test_gemm_blocking_rule_on_other_caches(caches, isa_code, elem):
    """The blocking rule (gemm.c, blocking_from_caches) for any machine's caches and any ISA
    (one this build lacks gives the generic kernel's tile): KC a multiple of 8, MC of MR, NC
    of NR, all bounded, and each packed buffer inside the cache it is meant for."""
    l1, l2, l3 = caches
    out = ffi.new("int64_t[6]")
    lib.tg_gemm_blocking_for(l1, l2, l3, isa_code, elem, out)
    kc, mc, nc, dkc, mr, nr = list(out)
    l1, l2 = l1 or 32 << 10, l2 or 512 << 10  # cache_size.c's fallbacks
    share = min(l3 // 4, 2 * l2) if l3 else l2 // 2  # this core's part of L3
    assert 1 <= mr <= 16 and 1 <= nr <= 64
    assert 32 <= kc <= 2048 and kc % 8 == 0
    assert mr <= mc <= 1 << 16 and mc % mr == 0
    assert nr <= nc <= 1 << 20 and nc % nr == 0
    assert 64 <= dkc <= 8192 and dkc % 8 == 0
    # L1: the B micro-panel in half of it, the A micro-panel in a quarter, and the C tile
    assert kc * nr * elem <= l1 // 2 and kc * mr * elem <= l1 // 4
    assert (kc * (mr + nr) + mr * nr) * elem <= l1
    # L2: the A block in a quarter (MC rounded up by at most one micro-panel), under half
    assert mc * kc * elem <= l2 // 4 + mr * kc * elem and mc * kc * elem <= l2 // 2
    assert nc * kc * elem <= share
    assert dkc * (nr * elem + 64) <= l2 // 4


def test_gemm_blocking_rule_figures():
    """gemm.c's comment gives these: AVX-512 (12 x 32) on the Xeon, AVX2 (6 x 16) on Zen 3.
    Emerald Rapids' shared 260 MB L3 no longer makes NC 88736, nor MC a non-multiple of MR."""
    out = ffi.new("int64_t[6]")
    xeon, zen3 = OTHER_CACHES["xeon_emerald_rapids"], OTHER_CACHES["zen3"]
    if platform.machine().lower() in ("x86_64", "amd64"):  # builds with the x86 kernels
        lib.tg_gemm_blocking_for(*xeon, 2, 4, out)  # 2: TG_ISA_AVX512
        assert list(out) == [192, 684, 5440, 2728, 12, 32]
        lib.tg_gemm_blocking_for(*zen3, 1, 4, out)  # 1: TG_ISA_AVX2
        assert list(out) == [256, 132, 1024, 1024, 6, 16]
    lib.tg_gemm_blocking_for(*zen3, 0, 4, out)  # 0: generic, 4 x 8
    assert list(out) == [512, 64, 512, 1360, 4, 8]


def test_concurrent_python_threads():
    """cffi releases the GIL: two threads multiplying at once must not share scratch memory."""
    rng = np.random.default_rng(3)
    jobs = [
        (129, 300, 200, 0, 1),
        (700, 700, 700, 1, 0),
        (33, 784, 128, 0, 1),
        (512, 128, 784, 0, 1),
    ]
    data = [operands(rng, m, n, k, ta, tb, np.float32) for m, n, k, ta, tb in jobs]
    want = [matmul(a, b, *job) for (a, b), job in zip(data, jobs)]
    errors = []

    def worker(order):
        try:
            for _ in range(15):
                for i in order:
                    got = matmul(*data[i], *jobs[i])
                    if not np.array_equal(got, want[i]):
                        errors.append(jobs[i])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(o,)) for o in ([0, 1, 2, 3], [3, 2, 1, 0])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


# ------------------------------------------------------------------ fused Linear ----------

ACTS = {0: "none", 1: "relu", 2: "sigmoid", 3: "tanh", 4: "leaky_relu"}
SLOPE = 0.1


def act_ref(z, act):
    if act == 1:
        return np.maximum(z, 0)
    if act == 2:
        return 1 / (1 + np.exp(-z))
    if act == 3:
        return np.tanh(z)
    if act == 4:
        return np.where(z > 0, z, SLOPE * z)
    return z


def act_grad_ref(y, act):
    if act == 1:
        return (y > 0).astype(y.dtype)
    if act == 2:
        return y * (1 - y)
    if act == 3:
        return 1 - y * y
    if act == 4:
        return np.where(y > 0, 1.0, SLOPE)
    return np.ones_like(y)


LINEAR_SHAPES = [(5, 7, 3), (17, 33, 10), (32, 784, 128), (128, 128, 64), (130, 64, 10)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("act", list(ACTS), ids=list(ACTS.values()))
def test_linear_forward(isa, dtype, act):
    rng = np.random.default_rng(act)
    tol = TOL[dtype]
    fwd = getattr(lib, f"tg_linear_forward_{SUFFIX[dtype]}")
    for bsz, fin, fout in LINEAR_SHAPES:
        x = rng.standard_normal((bsz, fin)).astype(dtype)
        w = (rng.standard_normal((fout, fin)) / np.sqrt(fin)).astype(dtype)
        b = rng.standard_normal(fout).astype(dtype)
        for bias in (b, None):
            y = np.full((bsz, fout), np.nan, dtype)
            fwd(
                bsz,
                fin,
                fout,
                ptr(x),
                ptr(w),
                ptr(bias) if bias is not None else ffi.NULL,
                ptr(y),
                act,
                SLOPE,
            )
            z = x.astype(np.float64) @ w.astype(np.float64).T
            if bias is not None:
                z = z + bias
            ref = act_ref(z, act)
            assert rel_err(y, ref) <= tol, (bsz, fin, fout, bias is None, rel_err(y, ref))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("act", list(ACTS), ids=list(ACTS.values()))
def test_linear_backward(isa, dtype, act):
    rng = np.random.default_rng(10 + act)
    tol = TOL[dtype]
    bwd = getattr(lib, f"tg_linear_backward_{SUFFIX[dtype]}")
    for bsz, fin, fout in LINEAR_SHAPES:
        x = rng.standard_normal((bsz, fin)).astype(dtype)
        w = (rng.standard_normal((fout, fin)) / np.sqrt(fin)).astype(dtype)
        y = act_ref(rng.standard_normal((bsz, fout)), act).astype(dtype)  # a valid output
        dy = rng.standard_normal((bsz, fout)).astype(dtype)
        dz_ref = act_grad_ref(y.astype(np.float64), act) * dy
        for with_dx, with_db in ((True, True), (False, False)):
            dz = np.full((bsz, fout), np.nan, dtype)
            dx = np.full((bsz, fin), np.nan, dtype)
            dw = np.full((fout, fin), np.nan, dtype)
            db = np.full(fout, np.nan, dtype)
            bwd(
                bsz,
                fin,
                fout,
                ptr(x),
                ptr(w),
                ptr(y),
                ptr(dy),
                ptr(dz),
                ptr(dx) if with_dx else ffi.NULL,
                ptr(dw),
                ptr(db) if with_db else ffi.NULL,
                act,
                SLOPE,
            )
            assert rel_err(dz, dz_ref) <= tol
            assert rel_err(dw, dz_ref.T @ x.astype(np.float64)) <= tol
            if with_dx:
                assert rel_err(dx, dz_ref @ w.astype(np.float64)) <= tol
            else:
                assert np.isnan(dx).all()  # NULL: skipped, untouched
            if with_db:
                assert rel_err(db, dz_ref.sum(axis=0)) <= tol
            else:
                assert np.isnan(db).all()
