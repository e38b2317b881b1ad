"""Two threads against one, in one process: our C step at each thread count, taking turns.

    python benchmarks/thread_scaling.py [--model 784,512,256,10] [--batch 512] [--threads 1 2]
                                        [--optimizer sgd] [--contender c_capture] [--steps N]
                                        [--repeats 7] [--warmup 5] [--data-dir DIR] [--json PATH]

bench_train.py --threads 1 2 runs each thread count in its own process, one after the other;
when the load from other programs changes between the two, so does the ratio. Here one step
(one model, the same real MNIST batches) trains at every thread count in turn, repeat by repeat
(1, 2, 1, 2, ...), switching the C kernels' threads with tg_set_num_threads between repeats,
so load hits both alike. The BLAS and torch threads do not matter (no contender uses them) and
are pinned to one. Prints samples/s per thread count (median of repeats), the ratio of the
medians to one thread, and the median of the per-repeat ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # this folder's modules, whatever the cwd
sys.path.append(os.path.dirname(HERE))  # after site-packages: an installed tinygrad_mnist wins

from training_contenders import OPTIMIZERS, build_step  # noqa: E402
from training_speed import (  # noqa: E402
    auto_steps,
    environment,
    mnist_batches,
    parse_sizes,
    run_steps,
    set_threads,
)

from tinygrad_mnist import backends  # noqa: E402


def measure_thread_scaling(
    sizes: list[int],
    batch_size: int,
    threads: list[int],
    optimizer: str = "sgd",
    contender: str = "c_capture",
    steps: int | None = None,
    warmup: int = 5,
    repeats: int = 7,
    data_dir: str | None = None,
) -> dict[str, Any]:
    """Samples/s of one C step at each thread count, the counts taking turns repeat by repeat.

    Returns {"config", "threads_run": {n: what tg_set_num_threads gave}, "samples_per_s":
    {n: median}, "repeats": {n: [per repeat]}, "vs_one": {n: median n / median 1},
    "vs_one_paired": {n: median over repeats of (n / 1 in the same repeat)}}; thread counts
    are JSON keys, so strings."""
    if contender not in ("c", "c_capture"):
        raise ValueError(f"the thread scaling is of our C step: c or c_capture, not {contender!r}")
    if 1 not in threads:
        threads = [1, *threads]
    lib = backends.load("c").lib
    set_threads(1)  # BLAS and torch: one thread, they take no part
    steps = steps or auto_steps(batch_size)
    batches = mnist_batches(batch_size, steps, data_dir)
    step = build_step(contender, sizes, "relu", optimizer, batches)
    run_steps(contender, step, 0, warmup)
    ran = {n: lib.tg_set_num_threads(n) for n in threads}
    for n in threads:  # each count once untimed: OpenMP starts its workers on first use
        lib.tg_set_num_threads(n)
        run_steps(contender, step, warmup, 2)
    per_repeat: dict[int, list[float]] = {n: [] for n in threads}
    first = warmup + 2
    for _ in range(repeats):
        for n in threads:  # 1, 2, 1, 2, ...
            lib.tg_set_num_threads(n)
            times = run_steps(contender, step, first, steps)
            first += steps
            per_repeat[n].append(batch_size * steps / sum(times))
    lib.tg_set_num_threads(1)
    jit = getattr(step, "jit", None)
    if jit is not None and jit.notes:
        raise RuntimeError(f"TinyJit stopped replaying: {jit.notes}")
    medians = {n: statistics.median(v) for n, v in per_repeat.items()}
    paired = {
        n: statistics.median(a / b for a, b in zip(per_repeat[n], per_repeat[1])) for n in threads
    }
    return {
        "config": dict(
            model=list(sizes),
            batch_size=batch_size,
            optimizer=optimizer,
            contender=contender,
            steps=steps,
            warmup=warmup,
            repeats=repeats,
        ),
        "threads_run": {str(n): ran[n] for n in threads},
        "samples_per_s": {str(n): medians[n] for n in threads},
        "repeats": {str(n): per_repeat[n] for n in threads},
        "vs_one": {str(n): medians[n] / medians[1] for n in threads},
        "vs_one_paired": {str(n): paired[n] for n in threads},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="784,512,256,10", help="layer sizes, comma separated")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    ap.add_argument("--contender", choices=("c_capture", "c"), default="c_capture")
    ap.add_argument("--steps", type=int, default=None, help="steps per repeat (~4096 samples)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--data-dir", default=None, help="directory of the MNIST files")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = ap.parse_args(argv)
    if min(args.threads) < 1:
        ap.error("--threads: thread counts are >= 1")
    if "c" not in backends.available():
        print("thread_scaling: the C backend is not built", file=sys.stderr)
        return 1
    env = environment()
    t0 = time.perf_counter()
    res = measure_thread_scaling(
        parse_sizes(args.model),
        args.batch,
        args.threads,
        args.optimizer,
        args.contender,
        args.steps,
        args.warmup,
        args.repeats,
        args.data_dir,
    )
    load = env.get("load_average")
    print(
        f"CPU {env['cpu']} ({env['cpu_count']} CPUs), C kernels {env.get('c_isa')}"
        + ("" if load is None else f", load average {load[0]:.2f} at start")
    )
    cfg = res["config"]
    print(
        f"{args.contender}, model {args.model}, batch {cfg['batch_size']}, {cfg['optimizer']}; "
        f"medians of {cfg['repeats']} repeats of {cfg['steps']} steps, thread counts in turn"
    )
    print(f"{'threads':>7} {'ran':>4} {'samples/s':>10} {'vs 1':>6} {'paired':>7}")
    for n in res["samples_per_s"]:
        print(
            f"{n:>7} {res['threads_run'][n]:>4} {res['samples_per_s'][n]:>10,.0f} "
            f"{res['vs_one'][n]:>5.2f}x {res['vs_one_paired'][n]:>6.2f}x"
        )
    print(
        f"(paired: median over repeats of the ratio within a repeat; {time.perf_counter() - t0:.0f} s)"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, **res}, f, indent=1)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
