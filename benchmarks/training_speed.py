"""Measuring training speed: our library on each backend against its peers and its ceilings.

The contenders and their training steps are in training_contenders.py. Timing rules (the same
for every contender):
  * warm-up steps first (caches, allocator, JIT), then `steps` timed steps per repeat;
  * the contenders take turns, repeat by repeat (A, B, C, A, B, C, ...), so that load from
    other programs on a shared machine hits them all alike;
  * throughput = samples / time of the `steps` steps, median over repeats;
    latency  = median time of a single step, over all timed steps.

Against the machine itself (the C backend's step):
  * training FLOPs per step: the matmuls only (step_matmuls.training_flops: forward
    2*B*in*out per layer, backward 4*B*in*out per layer except the first layer's dx, which is
    not needed);
  * the FMA peak of one core, measured at benchmark time by a small C loop of independent FMA
    chains with the instruction set the GEMM uses (fma_peak.py, fma_peak.c);
  * fraction of peak = FLOPs / (median step time x peak x threads);
  * time inside the C kernels and the Python and glue overhead (the rest of the step), in a
    separate pass: eager (contender c), by a timing shim around every kernel call
    (kernel_timing.c_kernel_time); captured (contender c_capture), by the replay's own clock
    around each kernel, TinyJit.profile (kernel_timing.captured_kernel_time).

Threads are set by `set_threads(n)`; for BLAS libraries the surest way is to set
OMP_NUM_THREADS (etc.) before numpy/torch are imported, which is what bench_train.py does by
running each thread count in its own process.

Every function returns plain dicts, lists and numbers (JSON-able).
"""

from __future__ import annotations

import functools
import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
from fma_peak import ISA_NAMES, fma_peak, fraction_of_peak
from kernel_timing import c_kernel_time, captured_kernel_time
from step_matmuls import matmul_flops, step_matmul_shapes, training_flops
from training_contenders import (
    CONTENDERS,
    ContenderUnavailable,
    Step,
    backend_of,
    build_step,
    import_torch,
)

from tinygrad_mnist import backends
from tinygrad_mnist.utils.data import load_mnist_arrays

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TINYGRAD_NUM_THREADS",  # our C kernels (OpenMP builds)
    "NUM_CPU_THREADS",  # tinygrad's CPU device
)


# ================================================================ small helpers
def parse_sizes(text: str) -> list[int]:
    """'784,128,64,10' -> [784, 128, 64, 10]."""
    sizes = [int(s) for s in text.replace(" ", "").split(",") if s]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"a model is at least two positive layer sizes, got {text!r}")
    return sizes


def auto_steps(batch_size: int, samples: int = 4096, minimum: int = 5) -> int:
    """Timed steps per repeat when none are given: about `samples` samples, >= `minimum`."""
    return max(minimum, math.ceil(samples / batch_size))


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that make numpy, torch, tinygrad and our kernels use `threads`."""
    env = {name: str(threads) for name in THREAD_ENV_VARS}
    # The contenders take turns in one process. OpenMP threads (ours and torch's) spin for a
    # while after each parallel region by default, so one contender's idle workers would burn
    # the core the next contender needs; passive waiting makes the turns fair.
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def set_threads(threads: int) -> None:
    """Use `threads` threads in our C kernels, numpy's BLAS (via threadpoolctl) and torch.

    Setting the THREAD_ENV_VARS before numpy and torch are imported is more reliable; this is
    the best that can be done inside an already running process.
    """
    if "c" in backends.available():
        backends.load("c").lib.tg_set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)  # stays in effect: not used as a context manager
    except ImportError:
        pass
    torch = import_torch()
    if torch is not None:
        torch.set_num_threads(threads)


def blas_info() -> list[dict[str, Any]]:
    """Which BLAS (and OpenMP) libraries this process has loaded, from threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed: pip install threadpoolctl"}]
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: d.get(k) for k in keys} for d in threadpool_info()]


def environment() -> dict[str, Any]:
    """What the numbers depend on: library versions, C kernel settings, BLAS, env vars."""
    env: dict[str, Any] = {"numpy": np.__version__, "cpu_count": os.cpu_count()}
    env["cpu"] = cpu_model()
    torch = import_torch()
    env["torch"] = torch.__version__ if torch is not None else None
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
    if "c" in backends.available():
        lib = backends.load("c").lib
        env["c_isa"] = ISA_NAMES.get(lib.tg_get_isa(), "?")
        env["c_threads"] = lib.tg_get_num_threads()
    names = THREAD_ENV_VARS + ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TINYGRAD_ISA")
    env["env"] = {name: os.environ.get(name) for name in names}
    env["blas"] = blas_info()
    if hasattr(os, "getloadavg"):
        env["load_average"] = list(os.getloadavg())  # other programs' load: 1, 5, 15 min
    return env


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


@functools.lru_cache(maxsize=2)
def _train_arrays(data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    return load_mnist_arrays("train", data_dir)


def mnist_batches(
    batch_size: int, n_batches: int, data_dir: str | None = None, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n_batches` distinct batches of real MNIST training data: (x float32 [B,784], y int64)."""
    x, y = _train_arrays(None if data_dir is None else str(data_dir))
    n_batches = max(1, min(n_batches, len(x) // batch_size))
    order = np.random.default_rng(seed).permutation(len(x))
    return [
        (x[idx], y[idx])
        for idx in (order[i * batch_size : (i + 1) * batch_size] for i in range(n_batches))
    ]


def run_steps(contender: str, step: Step, first: int, count: int) -> list[float]:
    """Seconds of each of `count` steps, batches first, first+1, ..."""
    times = []
    clock = time.perf_counter
    # Our library reads its backend per thread: select it around the loop, not inside a step.
    backend_name = backend_of(contender)
    chosen = backends.backend(backend_name) if backend_name else nullcontext()
    with chosen:
        for i in range(first, first + count):
            t0 = clock()
            step(i)
            times.append(clock() - t0)
    return times


# ================================================================ training throughput
def measure_training(
    sizes: Sequence[int],
    batch_size: int,
    optimizer: str = "sgd",
    contenders: Sequence[str] = CONTENDERS,
    steps: int | None = None,
    warmup: int = 5,
    repeats: int = 5,
    activation: str = "relu",
    data_dir: str | None = None,
    threads: int | None = None,
    seed: int = 0,
    peak_seconds: float = 0.25,
) -> dict[str, Any]:
    """Training throughput and step latency of each contender on one configuration.

    Returns {"config": {...}, "results": {contender: {"samples_per_s", "step_ms",
    "samples_per_s_repeats", "fraction_of_peak"}}, "skipped": {contender: reason}}. `steps`
    timed steps per repeat (default: auto_steps(batch_size)), after `warmup` untimed ones.
    config also holds training_flops_per_step and the FMA peak measured just before the
    repeats (fma_peak_gflops, fma_peak_isa; None without the C backend, and then every
    fraction_of_peak is None). The C contender's result also has the time inside its C
    kernels and the Python and glue overhead (see c_kernel_time): kernel_us, overhead_us,
    kernel_calls_per_step, shim_us_per_call, instrumented_step_us. The c_capture contender's
    has the same split from the replay's own clock (see captured_kernel_time), and
    timed_replays: how many of its timed steps were replays (all of them, or this raises
    RuntimeError: a captured contender that fell back to eager must not be reported).
    """
    if threads is not None:
        set_threads(threads)
    steps = steps or auto_steps(batch_size)
    batches = mnist_batches(batch_size, steps, data_dir, seed)
    built: dict[str, Step] = {}
    skipped: dict[str, str] = {}
    for name in contenders:
        try:
            built[name] = build_step(name, sizes, activation, optimizer, batches, seed)
        except ContenderUnavailable as e:
            skipped[name] = str(e)
    for name, step in built.items():
        run_steps(name, step, 0, warmup)
    peak = fma_peak(peak_seconds)  # at benchmark time: right before the timed repeats

    replays_before = built["c_capture"].jit.replays if "c_capture" in built else 0
    throughputs: dict[str, list[float]] = {name: [] for name in built}
    step_times: dict[str, list[float]] = {name: [] for name in built}
    for r in range(repeats):
        for name, step in built.items():  # A, B, C, A, B, C, ...
            times = run_steps(name, step, warmup + r * steps, steps)
            throughputs[name].append(batch_size * steps / sum(times))
            step_times[name].extend(times)

    results = {
        name: {
            "samples_per_s": statistics.median(throughputs[name]),
            "step_ms": statistics.median(step_times[name]) * 1e3,
            "samples_per_s_repeats": throughputs[name],
        }
        for name in built
    }
    flops = training_flops(sizes, batch_size)
    for r in results.values():
        r["fraction_of_peak"] = (
            None
            if peak is None
            else fraction_of_peak(flops, r["step_ms"], peak["gflops"], threads or 1)
        )
    first = warmup + repeats * steps  # the passes below: a separate pass each, after the repeats
    if "c_capture" in built:
        jit = built["c_capture"].jit
        timed = jit.replays - replays_before
        if timed != repeats * steps or jit.notes:
            raise RuntimeError(
                f"c_capture: {timed} of {repeats * steps} timed steps were replays; "
                f"TinyJit notes: {jit.notes}"
            )
        results["c_capture"]["timed_replays"] = timed
        results["c_capture"].update(captured_kernel_time(built["c_capture"], first, max(steps, 20)))
    if "c" in built:  # with the shim: it slows the step it measures
        results["c"].update(c_kernel_time(built["c"], first, max(steps, 20)))
    config = dict(
        model=list(sizes),
        activation=activation,
        batch_size=batch_size,
        optimizer=optimizer,
        dtype="float32",
        steps=steps,
        warmup=warmup,
        repeats=repeats,
        threads=threads,
        matmul_flops_per_step=matmul_flops(step_matmul_shapes(sizes, batch_size)),
        training_flops_per_step=flops,
        fma_peak_gflops=None if peak is None else peak["gflops"],
        fma_peak_isa=None if peak is None else peak["isa"],
    )
    return {"config": config, "results": results, "skipped": skipped}


def ratio(results: dict[str, Any], a: str, b: str) -> float | None:
    """samples/s of contender a divided by that of b, or None when either is missing."""
    ra, rb = results.get(a), results.get(b)
    if ra is None or rb is None:
        return None
    return ra["samples_per_s"] / rb["samples_per_s"]
