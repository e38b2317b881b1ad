"""Time inside the C kernels, and the rest of a training step: Python and glue overhead.

benchmarks/bench_train.py reports both for the C backend, eager (c_kernel_time: a timing
shim around every kernel call) and captured (captured_kernel_time: the replay's own per-kernel
clock, TinyJit.profile).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from tinygrad_mnist import backends

# A step function runs one training step on batch number i.
Step = Callable[[int], None]


def c_kernel_time(step: Step, first: int, count: int) -> dict[str, float]:
    """How a C-backend step splits into time inside C kernels and Python and glue overhead.

    For this pass only, every kernel the C backend calls goes through a wrapper that adds
    perf_counter() before and after the call to a counter: the backend's documented profiling
    hook, c_backend.kernels_wrapped, installs the wrappers and takes them away afterwards.
    Both parts come from the same steps, so that load changing between two passes cannot
    shift time from one to the other:

      kernel  = the time measured inside the wrappers - calls x shim_in, where shim_in is what
                the wrapper measures around a C function that does nothing (tg_get_num_threads):
                the clock's own cost and one bare cffi call;
      overhead = the instrumented step - kernel - calls x shim_out, where shim_out is what the
                wrapper adds outside its interval (a Python call, the counter updates), also
                measured on the do-nothing function.

    The bare cffi call thus counts as overhead, while the conversion of a kernel's arguments
    (a fraction of a microsecond) stays in kernel time: the overhead is if anything
    underestimated. Returns medians over the `count` steps: kernel_us, overhead_us,
    kernel_calls_per_step, shim_us_per_call (shim_in + shim_out) and instrumented_step_us.
    """
    c_backend = backends.load("c")
    clock = time.perf_counter
    spent, calls = [0.0], [0]

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            t0 = clock()
            result = fn(*args)
            spent[0] += clock() - t0
            calls[0] += 1
            return result

        return wrapper

    bare = c_backend.lib.tg_get_num_threads
    null = timed(bare)
    shim_in, shim_total, bare_s = [], [], []
    for _ in range(5):
        spent[0] = 0.0
        t0 = clock()
        for _ in range(1000):
            null()
        shim_total.append((clock() - t0) / 1000)
        shim_in.append(spent[0] / 1000)
        t0 = clock()
        for _ in range(1000):
            bare()
        bare_s.append((clock() - t0) / 1000)
    inside = min(shim_in)  # measured inside the wrapper: clock cost + a bare cffi call
    outside = max(0.0, min(shim_total) - inside)  # the wrapper's cost outside its interval
    bare_call = min(bare_s)

    kernel_s, overhead_s, step_s, calls_per_step = [], [], [], []
    with c_backend.kernels_wrapped(lambda name, fn: timed(fn)), backends.backend("c"):
        for i in range(first, first + count):
            spent[0], calls[0] = 0.0, 0
            t0 = clock()
            step(i)
            t = clock() - t0
            kernel = max(0.0, spent[0] - calls[0] * inside)
            step_s.append(t)
            kernel_s.append(kernel)
            overhead_s.append(t - kernel - calls[0] * (inside - bare_call + outside))
            calls_per_step.append(calls[0])
    return {
        "kernel_us": statistics.median(kernel_s) * 1e6,
        "overhead_us": statistics.median(overhead_s) * 1e6,
        "kernel_calls_per_step": statistics.median(calls_per_step),
        "shim_us_per_call": (inside - bare_call + outside) * 1e6,
        "instrumented_step_us": statistics.median(step_s) * 1e6,
    }


def captured_kernel_time(step: Any, first: int, count: int) -> dict[str, float]:
    """The same split for a step captured by TinyJit (training_contenders.CapturedStep).

    A replay is one C call (csrc/plan.c's tg_plan_run) that runs the recorded kernels back to
    back; with `step.jit.profile = True` it reads the clock around each kernel into
    `plan.seconds`. For each of `count` replayed steps:

      kernel   = sum(plan.seconds): the time inside the kernels;
      overhead = the step's wall time (perf_counter around step(i)) - kernel: everything else,
                 the Python of TinyJit's call (guards, the batch's arrays swapped in, the live
                 scalars set, .grad and versions set afterwards, the loss copied out), the
                 cffi call, and the C loop with its clock reads between the kernels.

    No shim correction: the clock reads inside the C loop (two per kernel) count as overhead,
    so the overhead is if anything overestimated (the other way from c_kernel_time). Returns
    medians over the steps: kernel_us, overhead_us, kernel_calls_per_step (plan.n),
    instrumented_step_us; and replays, the replays TinyJit made in this pass (== count, else
    some of these steps were not replays and this raises RuntimeError).
    """
    jit = step.jit
    clock = time.perf_counter
    kernel_s, overhead_s, step_s, calls = [], [], [], []
    replays_before = jit.replays
    jit.profile = True
    try:
        with backends.backend("c"):
            for i in range(first, first + count):
                before = jit.replays
                t0 = clock()
                step(i)
                t = clock() - t0
                if jit.replays != before + 1:  # an eager step: plan.seconds is not its time
                    break
                plan = jit.plan
                kernel = sum(plan.seconds[j] for j in range(plan.n))
                step_s.append(t)
                kernel_s.append(kernel)
                overhead_s.append(t - kernel)
                calls.append(plan.n)
    finally:
        jit.profile = False
    replays = jit.replays - replays_before
    if replays != count or jit.notes:
        raise RuntimeError(
            f"captured_kernel_time: {replays} of {count} steps were replays"
            + (f"; TinyJit: {'; '.join(jit.notes)}" if jit.notes else "")
        )
    return {
        "kernel_us": statistics.median(kernel_s) * 1e6,
        "overhead_us": statistics.median(overhead_s) * 1e6,
        "kernel_calls_per_step": statistics.median(calls),
        "instrumented_step_us": statistics.median(step_s) * 1e6,
        "replays": replays,
    }
