"""Benchmark the C GEMM (tg_matmul_f32) against numpy.matmul on the matmuls of one MLP step.

For each Linear layer (in -> out) at batch B, one training step runs three products:
  fwd  y  = x (B,in) @ w (out,in)^T      M=B,   N=out, K=in,  transB
  dx   dx = dz (B,out) @ w (out,in)      M=B,   N=in,  K=out
  dw   dw = dz^T @ x                     M=out, N=in,  K=B,   transA
(the first layer's dx is not needed in training but is timed too). Both sides get the same
transposed views, so numpy does no copies either. Times are medians of --repeats runs.

When PyTorch is installed its torch.matmul (MKL or oneDNN on x86) is timed too, on the same
arrays (torch.from_numpy, out=): "C/torch" = torch time / C time. The machine's float32 FMA
peak of one core is measured first (fma_peak.c beside this script, compiled at run time, with
the ISA in use), and "%pk" = C GFLOP/s / peak ("-" when there is no C compiler to build it).

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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # fma_peak.py beside this script, whatever the cwd
sys.path.append(os.path.dirname(HERE))  # after site-packages: an installed tinygrad_mnist wins

from fma_peak import fma_peak, why_no_peak  # noqa: E402

from tinygrad_mnist import backends  # noqa: E402


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


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def bench_shape(m, n, k, ta, tb, dtype, repeats, rng, torch=None):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c = np.empty((m, n), dtype)
    c_backend = backends.load("c")
    ffi, lib = c_backend.ffi, c_backend.lib
    ctype = "float *" if dtype == np.float32 else "double *"
    fn = lib.tg_matmul_f32 if dtype == np.float32 else lib.tg_matmul_f64
    pa, pb, pc = (ffi.cast(ctype, ffi.from_buffer(x)) for x in (a, b, c))
    opa, opb = (a.T if ta else a), (b.T if tb else b)

    def c_call():
        fn(m, n, k, pa, ta, pb, tb, pc)

    def np_call():
        np.matmul(opa, opb, out=c)

    torch_call = None
    if torch is not None:
        ta_t, tb_t = torch.from_numpy(opa), torch.from_numpy(opb)
        tc_t = torch.from_numpy(np.empty((m, n), dtype))

        def torch_call():
            torch.matmul(ta_t, tb_t, out=tc_t)

    c_call()
    ref = opa.astype(np.float64) @ opb.astype(np.float64)
    err = float(np.abs(c - ref).max() / max(np.abs(ref).max(), 1e-30))
    # interleave C, numpy and torch measurements so that background load hits all alike
    tc, tn, tt = [], [], []
    for _ in range(2):
        tc.append(median_time(c_call, repeats))
        tn.append(median_time(np_call, repeats))
        if torch_call is not None:
            tt.append(median_time(torch_call, repeats))
    return min(tc), min(tn), (min(tt) if tt else None), err


def _percent(fraction: float | None) -> str:
    return "   -" if fraction is None else f"{100 * fraction:3.0f}%"


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
    ap.add_argument(
        "--isa", default="auto", help="auto, or an ISA of c_backend.ISA_NAMES this CPU has"
    )
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = ap.parse_args()
    try:
        c_backend = backends.load("c")
    except backends.BackendUnavailableError as e:
        sys.exit(f"error: {e}")
    ffi, lib = c_backend.ffi, c_backend.lib  # the kernels' C API (csrc/kernels.h)

    try:
        c_backend.set_isa(args.isa)
    except ValueError as e:
        sys.exit(f"error: {e}")
    isa = c_backend.get_isa()
    dtype = np.dtype(args.dtype).type
    rng = np.random.default_rng(0)
    torch = _import_torch()
    info = blas_info()
    measured = fma_peak(0.25)  # one core, float32, the ISA in use
    peak = None if measured is None else measured["gflops"]
    print(f"C path: {isa}, threads {lib.tg_get_num_threads()}, dtype {args.dtype}")
    print(
        ("no FMA peak: " + str(why_no_peak()) if measured is None else
         f"FMA peak, measured now: {peak:.1f} GFLOP/s per core (float32, {measured['isa']})")
        + f"; torch {torch.__version__ + f' x{torch.get_num_threads()}' if torch else 'not installed'}"
    )  # fmt: skip
    blk = ffi.new("int64_t[7]")
    lib.tg_gemm_blocking(blk)
    blocking = dict(zip(("l1d", "l2", "l3", "kc", "mc", "nc", "direct_kc"), list(blk)))
    print(
        "C blocking from the caches read now: L1d {l1d} L2 {l2} L3 {l3} bytes -> "
        "KC {kc} MC {mc} NC {nc} DIRECT_KC {direct_kc}".format(**blocking)
    )
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
            tot_c = tot_n = tot_t = 0.0
            print(f"\nmodel {model_s}  batch {batch}")
            print(
                f"{'op':8} {'M':>5} {'N':>5} {'K':>5} {'tA':>2} {'tB':>2} "
                f"{'C us':>8} {'np us':>8} {'C GF/s':>7} {'np GF/s':>7} {'ratio':>6} "
                f"{'%pk':>4} {'torch us':>8} {'C/torch':>7}"
            )
            for name, m, n, k, ta, tb in shapes(model, batch):
                tc, tn, tt, err = bench_shape(m, n, k, ta, tb, dtype, args.repeats, rng, torch)
                flops = 2.0 * m * n * k
                tot_c, tot_n = tot_c + tc, tot_n + tn
                tot_t += tt or 0.0
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
                    fraction_of_peak=None if peak is None else flops / tc / 1e9 / peak,
                    torch_us=None if tt is None else tt * 1e6,
                    ratio_torch=None if tt is None else tt / tc,
                    rel_err=err,
                )
                rows.append(row)
                torch_cols = "" if tt is None else f"{tt * 1e6:8.1f} {tt / tc:7.2f}"
                print(
                    f"{name:8} {m:5d} {n:5d} {k:5d} {ta:2d} {tb:2d} {tc * 1e6:8.1f} {tn * 1e6:8.1f} "
                    f"{row['c_gflops']:7.1f} {row['np_gflops']:7.1f} {row['ratio']:6.2f} "
                    f"{_percent(row['fraction_of_peak'])} {torch_cols}"
                )
            totals.append(
                dict(
                    model=model_s,
                    batch=batch,
                    c_us=tot_c * 1e6,
                    np_us=tot_n * 1e6,
                    ratio=tot_n / tot_c,
                    torch_us=tot_t * 1e6 if torch else None,
                    ratio_torch=tot_t / tot_c if torch else None,
                )
            )
            torch_total = f"{'':5} {tot_t * 1e6:8.1f} {tot_t / tot_c:7.2f}" if torch else ""
            print(
                f"{'step total':31} {tot_c * 1e6:8.1f} {tot_n * 1e6:8.1f} "
                f"{'':15} {tot_n / tot_c:6.2f} {torch_total}  (ratios: their time / C time)"
            )
    worst = min(rows, key=lambda r: r["ratio"])
    print(f"\nworst ratio {worst['ratio']:.2f} ({worst['model']} B={worst['batch']} {worst['op']})")
    if torch:
        worst_t = min(rows, key=lambda r: r["ratio_torch"])
        print(
            f"worst C/torch {worst_t['ratio_torch']:.2f} "
            f"({worst_t['model']} B={worst_t['batch']} {worst_t['op']})"
        )
    if args.json:
        with open(args.json, "w") as f:
            out = dict(isa=isa, fma_peak_gflops=peak, blocking=blocking, blas=info, env=env)
            json.dump(dict(out, rows=rows, totals=totals), f, indent=1)


if __name__ == "__main__":
    main()
