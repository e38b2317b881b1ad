"""Benchmark the C GEMM (tg_matmul_f32) against numpy.matmul on the matmuls of one MLP step.

For each Linear layer (in -> out) at batch B, one training step runs three products:
  fwd  y  = x (B,in) @ w (out,in)^T      M=B,   N=out, K=in,  transB
  dx   dx = dz (B,out) @ w (out,in)      M=B,   N=in,  K=out
  dw   dw = dz^T @ x                     M=out, N=in,  K=B,   transA
(the first layer's dx is not needed in training but is timed too). Both sides get the same
transposed views, so numpy does no copies either. Times are medians of --repeats runs.

Run single-threaded for a fair comparison, e.g.
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_matmul.py
and, to let current OpenBLAS pick its native kernel, also with
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 ... python benchmarks/...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

# after site-packages: an installed tinygrad_mnist wins over this checkout
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tinygrad_mnist._kernels import ffi, lib  # noqa: E402

ISA_NAMES = {0: "generic", 1: "avx2", 2: "avx512", 3: "neon"}


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed (pip install threadpoolctl)"}]
    keys = ("internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: d.get(k) for k in keys} for d in threadpool_info()]


def shapes(model: list[int], batch: int) -> list[tuple[str, int, int, int, int, int]]:
    """(name, M, N, K, transA, transB) for every matmul of one training step."""
    out = []
    for i, (fin, fout) in enumerate(zip(model[:-1], model[1:])):
        out.append((f"L{i} fwd", batch, fout, fin, 0, 1))
        out.append((f"L{i} dx", batch, fin, fout, 0, 0))
        out.append((f"L{i} dw", fout, fin, batch, 1, 0))
    return out


def median_time(fn, repeats: int, min_time: float = 0.02) -> float:
    """Median over `repeats` of the mean time of a batch of calls lasting >= min_time."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(min_time / one))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return float(np.median(times))


def bench_shape(m, n, k, ta, tb, dtype, repeats, rng):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c = np.empty((m, n), dtype)
    ctype = "float *" if dtype == np.float32 else "double *"
    fn = lib.tg_matmul_f32 if dtype == np.float32 else lib.tg_matmul_f64
    pa, pb, pc = (ffi.cast(ctype, ffi.from_buffer(x)) for x in (a, b, c))
    opa, opb = (a.T if ta else a), (b.T if tb else b)

    def c_call():
        fn(m, n, k, pa, ta, pb, tb, pc)

    def np_call():
        np.matmul(opa, opb, out=c)

    c_call()
    ref = opa.astype(np.float64) @ opb.astype(np.float64)
    err = float(np.abs(c - ref).max() / max(np.abs(ref).max(), 1e-30))
    # interleave C and numpy measurements so that background load hits both alike
    tc, tn = [], []
    for _ in range(2):
        tc.append(median_time(c_call, repeats))
        tn.append(median_time(np_call, repeats))
    return min(tc), min(tn), err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--batch", type=int, nargs="+", default=[32, 128, 512])
    ap.add_argument(
        "--model",
        nargs="+",
        default=["784,128,64,10", "784,512,256,10"],
        help="layer widths, comma separated; several models allowed",
    )
    ap.add_argument("--repeats", type=int, default=7, help="median over this many (>= 5)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--isa", choices=["auto", "generic", "avx2", "avx512", "neon"], default="auto")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = ap.parse_args()

    want = {"auto": -1, "generic": 0, "avx2": 1, "avx512": 2, "neon": 3}[args.isa]
    isa = lib.tg_set_isa(want)
    dtype = np.dtype(args.dtype).type
    rng = np.random.default_rng(0)
    info = blas_info()
    print(f"C path: {ISA_NAMES[isa]}, threads {lib.tg_get_num_threads()}, dtype {args.dtype}")
    for d in info:
        print("numpy BLAS:", d)
    env = {
        k: os.environ.get(k)
        for k in (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE",
        )
    }
    print("env:", env)

    rows, totals = [], []
    for model_s in args.model:
        model = [int(v) for v in model_s.split(",")]
        for batch in args.batch:
            tot_c = tot_n = 0.0
            print(f"\nmodel {model_s}  batch {batch}")
            print(
                f"{'op':8} {'M':>5} {'N':>5} {'K':>5} {'tA':>2} {'tB':>2} "
                f"{'C us':>8} {'np us':>8} {'C GF/s':>7} {'np GF/s':>7} {'ratio':>6}"
            )
            for name, m, n, k, ta, tb in shapes(model, batch):
                tc, tn, err = bench_shape(m, n, k, ta, tb, dtype, args.repeats, rng)
                flops = 2.0 * m * n * k
                tot_c, tot_n = tot_c + tc, tot_n + tn
                row = dict(
                    model=model_s,
                    batch=batch,
                    op=name,
                    M=m,
                    N=n,
                    K=k,
                    transA=ta,
                    transB=tb,
                    c_us=tc * 1e6,
                    np_us=tn * 1e6,
                    c_gflops=flops / tc / 1e9,
                    np_gflops=flops / tn / 1e9,
                    ratio=tn / tc,
                    rel_err=err,
                )
                rows.append(row)
                print(
                    f"{name:8} {m:5d} {n:5d} {k:5d} {ta:2d} {tb:2d} {tc * 1e6:8.1f} {tn * 1e6:8.1f} "
                    f"{row['c_gflops']:7.1f} {row['np_gflops']:7.1f} {row['ratio']:6.2f}"
                )
            totals.append(
                dict(
                    model=model_s,
                    batch=batch,
                    c_us=tot_c * 1e6,
                    np_us=tot_n * 1e6,
                    ratio=tot_n / tot_c,
                )
            )
            print(
                f"{'step total':31} {tot_c * 1e6:8.1f} {tot_n * 1e6:8.1f} "
                f"{'':15} {tot_n / tot_c:6.2f}   (ratio = numpy time / C time)"
            )
    worst = min(rows, key=lambda r: r["ratio"])
    print(f"\nworst ratio {worst['ratio']:.2f} ({worst['model']} B={worst['batch']} {worst['op']})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                dict(isa=ISA_NAMES[isa], blas=info, env=env, rows=rows, totals=totals), f, indent=1
            )


if __name__ == "__main__":
    main()
