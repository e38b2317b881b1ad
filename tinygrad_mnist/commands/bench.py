"""`tinygrad-mnist bench`: a quick check of how fast this machine trains an MLP, per backend.

    tinygrad-mnist bench                          784-128-64-10, batch 128, SGD: ~10-30 s
    tinygrad-mnist bench --model 784,512,256,10 --batch-size 512
    tinygrad-mnist bench --json                   the numbers as JSON, for scripts
    tinygrad-mnist bench --plot bench.png         a bar chart (needs matplotlib)

A small built-in check that needs nothing outside the package. Everything is measured in one
run, the contenders taking turns repeat by repeat (A, B, C, A, B, C, ...) so that load from
other programs hits them alike; the numbers are medians. Two tables:

  training    samples/s (median over repeats of steps x batch / time of the steps) and the
              median time of one step (forward, cross-entropy, backward, optimizer update)
              for our library on the c and numpy backends and for PyTorch when it is
              installed, all on the same model, batch, optimizer and MNIST batches;
              "vs numpy" and "vs torch" = samples/s divided by that contender's.
  matmul      GFLOP/s of our C GEMM kernel and of numpy.matmul on each matmul of one
              training step (both into preallocated outputs, same operands);
              "C/numpy" = C speed divided by numpy's.

Threads. Every contender runs with --threads threads, set in this process before anything is
timed: the C kernels by tg_set_num_threads, PyTorch by torch.set_num_threads, and the BLAS
and OpenMP libraries (numpy's OpenBLAS, torch's) by threadpoolctl when it is installed.
Without threadpoolctl, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS are set
before PyTorch is imported; numpy's BLAS was loaded before the command started, so it then
keeps what those variables said at start (unpinned if unset). Each row says how many threads
its contender actually ran with and what set them: an unpinned BLAS on a busy machine can
slow numpy by two orders of magnitude.

The fraction of the machine's FMA peak, the time inside the C kernels against the Python and
glue overhead, and the comparisons with tinygrad, a hand-written NumPy MLP and the matmul-only
ceiling are in the source tree's benchmarks/ (python benchmarks/bench_train.py), not here.

JSON schema (`--json`), all numbers floats unless noted:

    {
      "config": {"model": [int, ...], "activation": str, "batch_size": int,
                 "optimizer": "sgd" | "adam", "dtype": "float32", "steps": int,
                 "warmup": int, "repeats": int, "threads": int},
      "training": {CONTENDER: {"samples_per_s": float, "step_ms": float,
                               "samples_per_s_repeats": [float, ...],
                               "vs_numpy": float | null, "vs_torch": float | null,
                               "threads": int | null, "threads_set_by": str}},
                                                  CONTENDER: "c", "numpy", "torch";
                                                  threads: what it ran with (null: unknown)
      "skipped": {CONTENDER: "why it did not run"},
      "matmul": [{"name": "L0 fwd", "M": int, "N": int, "K": int, "trans_a": 0|1,
                  "trans_b": 0|1, "c_us": float, "numpy_us": float, "c_gflops": float,
                  "numpy_gflops": float, "ratio": float}],           [] without the C backend
      "environment": {"numpy": str, "torch": str | null, "c_isa": str | null,
                      "c_threads": int | null, "cpu": str (the CPU model),
                      "thread_pinning": "threadpoolctl" | "environment variables",
                      "blas": [threadpoolctl info, or one {"note": ...}],
                      "env": {VAR: str | null}, "load_average": [float, float, float]}
    }
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends, nn, optim
from ..atomic_file import write_bytes_atomic
from ..capture import TinyJit
from ..nn import functional as F
from ..plots import MissingPlotExtraError, require_matplotlib
from ..serialization import check_model_size
from ..tensors.tensor import Tensor
from ..training import check_writable
from ..utils.data import load_mnist_arrays
from . import HelpFormatter, add_data_dir, usable_threads
from .arguments import positive_int

NAME = "bench"
CONTENDERS = ("c", "numpy", "torch")
LABELS = {"c": "ours, C (captured)", "numpy": "ours, NumPy", "torch": "PyTorch"}
OPTIMIZERS = ("sgd", "adam")
# The optimizer settings of every contender (those of benchmarks/bench_train.py).
SGD_SETTINGS = {"lr": 0.05, "momentum": 0.9}
ADAM_SETTINGS = {"lr": 1e-3}
ISA_NAMES = {0: "generic", 1: "avx2", 2: "avx512", 3: "neon"}  # tg_get_isa(), csrc/kernels.h
BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MAX_BATCH = 60_000
# A step function runs one training step on batch number i (taken modulo the batch count).
Step = Callable[[int], None]


def parse_sizes(text: str) -> list[int]:
    """'784,128,64,10' -> [784, 128, 64, 10]."""
    sizes = [int(s) for s in text.replace(" ", "").split(",") if s]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"a model is at least two positive layer sizes, got {text!r}")
    return sizes


def model_sizes(text: str) -> list[int]:
    """--model '784,128,64,10' -> [784, 128, 64, 10]."""
    try:
        sizes = parse_sizes(text)
        check_model_size(sizes, "the model")  # the cap of model files, before allocating
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if sizes[0] != 784 or sizes[-1] != 10:  # it trains on MNIST: 28x28 pixels, 10 digits
        raise argparse.ArgumentTypeError(
            f"the benchmark trains on MNIST, so the first size must be 784 and the last 10; "
            f"got {text!r}"
        )
    return sizes


def batch_size(text: str) -> int:
    """--batch-size: 1 to MAX_BATCH. A bigger batch than the data would be timed as the
    data's size but reported as the asked size (a wrong samples/s), and the matmul table
    would allocate batch x 784 floats."""
    value = positive_int(text)
    if value > MAX_BATCH:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_BATCH} (the MNIST training images), got {value}"
        )
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `bench` subcommand and its options."""
    p = subparsers.add_parser(
        NAME,
        help="training speed of each backend (and PyTorch), and matmul GFLOP/s",
        description="Measure training samples/s and one-step latency of an MLP on each backend "
        "and in PyTorch (when installed), plus GFLOP/s of the C matmul kernel against "
        "numpy.matmul on the same shapes. All in one run, as ratios.",
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--model",
        type=model_sizes,
        default=[784, 128, 64, 10],
        metavar="SIZES",
        help="layer sizes, comma separated, e.g. 784,128,64,10",
    )
    p.add_argument(
        "--batch-size",
        type=batch_size,
        default=128,
        help=f"images per step, at most {MAX_BATCH} (the MNIST training set)",
    )
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="timed steps per repeat (default: about 4096 samples' worth)",
    )
    p.add_argument(
        "--repeats",
        type=positive_int,
        default=5,
        help="repeats per contender; medians are reported",
    )
    p.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="threads for the C kernels, numpy's BLAS and PyTorch",
    )
    add_data_dir(p)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--plot",
        metavar="PATH",
        default=None,
        help="also draw a bar chart to PATH (.png; needs matplotlib)",
    )
    return p


# ---------------------------------------------------------------- threads
def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def pin_threads(threads: int) -> tuple[str, dict[str, str | None]]:
    """Make every contender use `threads` threads. Returns how the BLAS threads were set and
    the BLAS thread variables as they were before.

    "threadpoolctl" when it is installed (it changes the thread count of BLAS and OpenMP
    libraries already loaded), else "environment variables" (read by libraries loaded later:
    PyTorch's, not numpy's, which was loaded before this command ran).
    """
    if "c" in backends.available():
        backends.load("c").lib.tg_set_num_threads(threads)
    start_env = {name: os.environ.get(name) for name in BLAS_THREAD_VARS}
    for name in BLAS_THREAD_VARS:
        os.environ[name] = str(threads)
    torch = _import_torch()  # after the variables: its OpenMP and BLAS read them at load
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "environment variables", start_env
    threadpool_limits(limits=threads)  # stays in effect: not used as a context manager
    return "threadpoolctl", start_env


def blas_info() -> list[dict[str, Any]]:
    """The BLAS and OpenMP libraries this process has loaded, from threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl is not installed (pip install threadpoolctl)"}]
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: d.get(k) for k in keys} for d in threadpool_info()]


def _numpy_blas(blas: list[dict[str, Any]]) -> dict[str, Any] | None:
    """numpy's own BLAS among the loaded ones (torch may load another)."""
    mine = [b for b in blas if b.get("user_api") == "blas"]
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    own = [
        b for b in mine if "numpy" in str(b.get("filepath")) or numpy_dir in str(b.get("filepath"))
    ]
    return (own or mine or [None])[0]


def threads_used(
    contender: str, pinning: str, start_env: dict[str, str | None], blas: list[dict[str, Any]]
) -> tuple[int | None, str]:
    """(threads the contender ran with, or None if unknown; what set them)."""
    if contender == "c":
        return backends.load("c").lib.tg_get_num_threads(), "tg_set_num_threads"
    if contender == "torch":
        return _import_torch().get_num_threads(), "torch.set_num_threads"
    lib = _numpy_blas(blas)
    if pinning == "threadpoolctl" and lib is not None:
        return lib["num_threads"], f"threadpoolctl ({lib['internal_api']})"
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if start_env.get(name):
            n = lib["num_threads"] if lib is not None else None
            return n, f"{name}={start_env[name]} at start (threadpoolctl not installed)"
    n = lib["num_threads"] if lib is not None else None
    return n, "not pinned: threadpoolctl not installed and no OPENBLAS_NUM_THREADS at start"


def cpu_model() -> str:
    """The CPU's model name ("AMD EPYC 7B13", ...): /proc/cpuinfo on Linux, else platform's."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def environment(pinning: str, blas: list[dict[str, Any]]) -> dict[str, Any]:
    """What the numbers depend on: versions, the CPU, the C kernels' settings, BLAS, env vars."""
    torch = _import_torch()
    env: dict[str, Any] = {
        "numpy": np.__version__,
        "torch": None if torch is None else torch.__version__,
        "c_isa": None,
        "c_threads": None,
        "cpu": cpu_model(),
        "thread_pinning": pinning,
        "blas": blas,
    }
    if "c" in backends.available():
        lib = backends.load("c").lib
        env["c_isa"] = ISA_NAMES.get(lib.tg_get_isa(), "?")
        env["c_threads"] = lib.tg_get_num_threads()
    names = BLAS_THREAD_VARS + ("TINYGRAD_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    env["env"] = {name: os.environ.get(name) for name in names}
    if hasattr(os, "getloadavg"):
        env["load_average"] = list(os.getloadavg())  # other programs' load: 1, 5, 15 min
    return env


# ---------------------------------------------------------------- the contenders' steps
def mnist_batches(
    batch: int, n_batches: int, data_dir: str | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n_batches` distinct batches of real MNIST training data: (x float32 [B,784], y int64)."""
    x, y = load_mnist_arrays("train", data_dir)
    n_batches = max(1, min(n_batches, len(x) // batch))
    order = np.random.default_rng(0).permutation(len(x))
    return [
        (x[order[i * batch : (i + 1) * batch]], y[order[i * batch : (i + 1) * batch]])
        for i in range(n_batches)
    ]


def our_step(name: str, sizes: Sequence[int], optimizer: str, batches: list) -> Step:
    """Our library's training step on backend `name` (selected by the caller around it)."""
    with backends.backend(name):
        model = nn.MLP(sizes, activation="relu", seed=0)
        if optimizer == "sgd":
            opt: optim.Optimizer = optim.SGD(model.parameters(), **SGD_SETTINGS)
        else:
            opt = optim.Adam(model.parameters(), **ADAM_SETTINGS)
    data = [(Tensor(x), Tensor(y, dtype=np.int64)) for x, y in batches]

    def train_step(x: Tensor, y: Tensor) -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    # on C, the step runs captured, as `train` runs it (TinyJit: recorded in the warm-up,
    # then replayed from C in one call)
    captured = TinyJit(train_step, enabled=name == "c", quiet=True)

    def step(i: int) -> None:
        captured(*data[i % len(data)])

    return step


def torch_step(sizes: Sequence[int], optimizer: str, batches: list) -> Step:
    """The same step in PyTorch: nn.Sequential of Linear and ReLU, the same optimizer."""
    torch = _import_torch()
    torch.manual_seed(0)
    layers: list[Any] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [torch.nn.Linear(n_in, n_out)] + ([torch.nn.ReLU()] if i < len(sizes) - 2 else [])
    model = torch.nn.Sequential(*layers)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), **SGD_SETTINGS)
    else:
        opt = torch.optim.Adam(model.parameters(), **ADAM_SETTINGS)
    data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def step(i: int) -> None:
        x, y = data[i % len(data)]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def run_steps(name: str, step: Step, first: int, count: int) -> list[float]:
    """Seconds of each of `count` steps, batches first, first+1, ..."""
    clock, times = time.perf_counter, []
    # our library reads its backend per thread: select it around the loop, not in a step
    with backends.backend(name if name in backends.NAMES else backends.get_backend()):
        for i in range(first, first + count):
            t0 = clock()
            step(i)
            times.append(clock() - t0)
    return times


def measure_training(args: argparse.Namespace, steps: int, warmup: int) -> tuple[dict, dict]:
    """({contender: result}, {contender: why skipped}), the contenders taking turns."""
    batches = mnist_batches(args.batch_size, steps, args.data_dir)
    built: dict[str, Step] = {}
    skipped: dict[str, str] = {}
    for name in CONTENDERS:
        if name == "torch":
            if _import_torch() is None:
                skipped[name] = "PyTorch is not installed"
                continue
            built[name] = torch_step(args.model, args.optimizer, batches)
        elif name in backends.available():
            built[name] = our_step(name, args.model, args.optimizer, batches)
        else:
            try:
                backends.load(name)
            except backends.BackendUnavailableError as e:
                skipped[name] = str(e)
    for name, step in built.items():
        run_steps(name, step, 0, warmup)
    rates: dict[str, list[float]] = {name: [] for name in built}
    times: dict[str, list[float]] = {name: [] for name in built}
    for r in range(args.repeats):
        for name, step in built.items():  # A, B, C, A, B, C, ...
            t = run_steps(name, step, warmup + r * steps, steps)
            rates[name].append(args.batch_size * steps / sum(t))
            times[name].extend(t)
    results = {
        name: {
            "samples_per_s": statistics.median(rates[name]),
            "step_ms": statistics.median(times[name]) * 1e3,
            "samples_per_s_repeats": rates[name],
        }
        for name in built
    }
    for r in results.values():
        for other in ("numpy", "torch"):
            r[f"vs_{other}"] = (
                r["samples_per_s"] / results[other]["samples_per_s"] if other in results else None
            )
    return results, skipped


# ---------------------------------------------------------------- the matmul table
def step_matmul_shapes(sizes: Sequence[int], batch: int) -> list[dict[str, Any]]:
    """The matmuls of one training step: per layer (in -> out) the forward x @ w^T, the
    gradient dz^T @ x of w, and (not for the first layer: the input needs no gradient) the
    gradient dz @ w of the layer's input, as C (M,N) = op(A) (M,K) @ op(B) (K,N)."""
    shapes = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes.append(dict(name=f"L{i} fwd", M=batch, N=n_out, K=n_in, trans_a=0, trans_b=1))
        if i > 0:
            shapes.append(dict(name=f"L{i} dx", M=batch, N=n_in, K=n_out, trans_a=0, trans_b=0))
        shapes.append(dict(name=f"L{i} dw", M=n_out, N=n_in, K=batch, trans_a=1, trans_b=0))
    return shapes


def _time_call(fn: Callable[[], None], min_seconds: float = 0.002) -> float:
    """Seconds per call of fn, averaged over enough calls to last `min_seconds`."""
    t0 = time.perf_counter()
    fn()
    calls = max(1, int(min_seconds / max(time.perf_counter() - t0, 1e-7)))
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def matmul_speeds(sizes: Sequence[int], batch: int, repeats: int) -> list[dict[str, Any]]:
    """GFLOP/s of the C GEMM (called as the C backend calls it) and of numpy.matmul on each
    matmul of one step, into preallocated outputs; medians of `repeats`, C and numpy taking
    turns. ratio = C speed / numpy speed."""
    c_backend = backends.load("c")
    rng = np.random.default_rng(0)
    rows = []
    for shape in step_matmul_shapes(sizes, batch):
        m, n, k, ta, tb = (shape[key] for key in ("M", "N", "K", "trans_a", "trans_b"))
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        out = np.empty((m, n), np.float32)
        op_a, op_b = (a.T if ta else a), (b.T if tb else b)
        pa, pb, pc = (c_backend.ffi.from_buffer("float[]", x) for x in (a, b, out))
        c_matmul = c_backend.lib.tg_matmul_f32

        def c_call() -> None:
            c_matmul(m, n, k, pa, ta, pb, tb, pc)  # noqa: B023 - called in this iteration

        def numpy_call() -> None:
            np.matmul(op_a, op_b, out=out)  # noqa: B023 - called in this iteration

        c_times, np_times = [], []
        for _ in range(repeats):
            c_times.append(_time_call(c_call))
            np_times.append(_time_call(numpy_call))
        c_s, np_s, flops = statistics.median(c_times), statistics.median(np_times), 2.0 * m * n * k
        rows.append(
            dict(shape, c_us=c_s * 1e6, numpy_us=np_s * 1e6, c_gflops=flops / c_s / 1e9,
                 numpy_gflops=flops / np_s / 1e9, ratio=np_s / c_s)
        )  # fmt: skip
    return rows


# ---------------------------------------------------------------- the command
def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the measurements `args` asks for; the dict of the JSON schema above."""
    pinning, start_env = pin_threads(args.threads)
    steps = args.steps or max(5, math.ceil(4096 / args.batch_size))
    warmup = 2 if args.steps is not None and args.steps < 5 else 5  # capture takes 2
    training, skipped = measure_training(args, steps, warmup)
    matmul = []
    if "c" in backends.available():
        matmul = matmul_speeds(args.model, args.batch_size, args.repeats)
    blas = blas_info()
    for name, r in training.items():
        r["threads"], r["threads_set_by"] = threads_used(name, pinning, start_env, blas)
    config = dict(
        model=list(args.model), activation="relu", batch_size=args.batch_size,
        optimizer=args.optimizer, dtype="float32", steps=steps, warmup=warmup,
        repeats=args.repeats, threads=args.threads,
    )  # fmt: skip
    return {
        "config": config,
        "training": training,
        "skipped": skipped,
        "matmul": matmul,
        "environment": environment(pinning, blas),
    }


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def format_tables(out: dict[str, Any]) -> str:
    """The two tables, as text."""
    cfg, env = out["config"], out["environment"]
    lines = [
        f"model {'-'.join(map(str, cfg['model']))} ({cfg['activation']}), batch "
        f"{cfg['batch_size']}, {cfg['optimizer']}, float32, {cfg['threads']} thread(s) asked; "
        f"medians of {cfg['repeats']} repeats of {cfg['steps']} steps",
        f"CPU: {env['cpu']}; numpy {env['numpy']}, torch {env['torch'] or 'not installed'}, "
        f"C kernels {env['c_isa'] or 'not available'}",
        "",
        f"{'training':<18} {'samples/s':>11} {'step ms':>9} {'vs numpy':>9} {'vs torch':>9} "
        f"{'threads':>8}  set by",
    ]
    for name, r in out["training"].items():
        threads = "?" if r["threads"] is None else str(r["threads"])
        lines.append(
            f"{LABELS.get(name, name):<18} {r['samples_per_s']:>11,.0f} {r['step_ms']:>9.3f} "
            f"{_ratio(r['vs_numpy']):>9} {_ratio(r['vs_torch']):>9} {threads:>8}  "
            f"{r['threads_set_by']}"
        )
    for name, why in out["skipped"].items():
        lines.append(f"{LABELS.get(name, name):<18} skipped: {why}")
    if out["matmul"]:
        lines += [
            "",
            f"{'matmul':<7} {'M':>5} {'N':>5} {'K':>5} {'C GFLOP/s':>10} {'numpy GFLOP/s':>14} "
            f"{'C/numpy':>8}",
        ]
        for m in out["matmul"]:
            lines.append(
                f"{m['name']:<7} {m['M']:>5} {m['N']:>5} {m['K']:>5} {m['c_gflops']:>10.1f} "
                f"{m['numpy_gflops']:>14.1f} {m['ratio']:>7.2f}x"
            )
        c_us = sum(m["c_us"] for m in out["matmul"])
        np_us = sum(m["numpy_us"] for m in out["matmul"])
        lines.append(f"{'all':<25} {c_us:>8.0f} us {np_us:>12.0f} us {np_us / c_us:>7.2f}x")
    lines.append("")
    for b in env["blas"]:
        if "note" in b:
            lines.append(f"BLAS threads: {b['note']}")
        else:
            lines.append(
                f"loaded: {b['internal_api']} {b['version'] or ''} ({b['user_api']}"
                f"{', ' + b['architecture'] if b['architecture'] else ''}), "
                f"{b['num_threads']} thread(s), {os.path.basename(str(b['filepath']))}"
            )
    overrides = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if env["env"].get(k)]
    if overrides:
        lines.append(
            f"note: {' and '.join(overrides)} are set and may slow numpy; for fair numbers "
            f"run with env -u {' -u '.join(overrides)}"
        )
    lines.append(
        "fraction of the FMA peak, C kernel time vs overhead: python benchmarks/bench_train.py "
        "(source tree)"
    )
    return "\n".join(lines)


def draw_plot(out: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Bar charts: samples/s per contender, and GFLOP/s per matmul shape (C vs numpy)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 2])
    names = list(out["training"])
    left.bar(
        [LABELS.get(n, n) for n in names],
        [out["training"][n]["samples_per_s"] for n in names],
        color="tab:blue",
    )
    left.set_ylabel("training samples/s")
    cfg = out["config"]
    left.set_title(f"{'-'.join(map(str, cfg['model']))}, batch {cfg['batch_size']}")
    shapes = out["matmul"]
    x = range(len(shapes))
    right.bar([i - 0.2 for i in x], [m["c_gflops"] for m in shapes], 0.4, label="C kernel")
    right.bar([i + 0.2 for i in x], [m["numpy_gflops"] for m in shapes], 0.4, label="numpy.matmul")
    right.set_xticks(
        list(x), [f"{m['name']}\n{m['M']}x{m['N']}x{m['K']}" for m in shapes], fontsize=6
    )
    right.set_ylabel("GFLOP/s")
    right.set_title("matmuls of one training step")
    right.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    write_bytes_atomic(path, buf.getvalue())


def run(args: argparse.Namespace) -> int:
    args.threads, note = usable_threads(args.threads, "--threads ")
    if note:
        print(note, file=sys.stderr)
    if args.plot:
        try:
            require_matplotlib()  # before the measurements, not after
        except MissingPlotExtraError as e:
            print(f"error: --plot: {e}", file=sys.stderr)
            return 2
        check_writable("--plot", Path(args.plot))  # a ConfigError: exit 2, before measuring
    out = measure(args)
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(format_tables(out))
    if args.plot:
        draw_plot(out, args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return 0
