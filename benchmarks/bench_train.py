"""Training throughput of tinygrad_mnist against PyTorch, tinygrad, a hand-written NumPy MLP
and the matmul-only ceiling; optionally the wall time to 98% MNIST test accuracy.

Every (model, batch, optimizer) configuration trains each contender for the same number of
steps on the same real MNIST batches; contenders take turns repeat by repeat, and the table
shows medians (see training_speed.py, beside this script, for the exact rules). Each --threads
value runs in its own process, with OMP_NUM_THREADS etc. set before numpy and torch load.

Columns (samples per second, higher is better):
  c, numpy        our library on that backend, public API (nn.MLP + optim + F.cross_entropy),
                  eager: Python runs between the kernels
  c_capture       the same C step captured by tinygrad_mnist.TinyJit: one C call per step
  torch           PyTorch, same recipe, torch.set_num_threads(threads)
  tinygrad        tinygrad from PyPI on its CPU device (needs clang; skipped when it fails)
  np_by_hand      hand-written NumPy MLP, no autograd: the floor for our NumPy backend
  mm_ceiling      just the step's matmuls by numpy.matmul: the most any step could reach
Ratios: Cap/torch (captured C / torch: the target is >= 2.5x at batch 32 and 128, >= 1.3x at
512), C/torch (eager C / torch), Cap/C (what the capture gains), C/ceiling, numpy backend /
np_by_hand.

Against the machine itself (third table; see training_speed.py):
  MFLOP         training FLOPs per step, the matmuls only: forward 2*B*in*out per layer,
                backward 4*B*in*out per layer except the first layer's dx (not needed)
  peak          float32 FMA peak of one core in GFLOP/s, measured by fma_peak.c right
                before the configuration's timed repeats, with the ISA the GEMM uses
  C %pk, cap %pk, torch %pk   FLOPs / (median step time x peak x threads): eager C,
                captured C, PyTorch
  C kern us     time per step inside the C kernels, and
  C ovh us      the rest of the step, Python and glue overhead, for eager C: both medians
                from a separate pass in which a timing shim wraps every kernel call (its own
                cost, measured on a do-nothing C function, is subtracted; kernel_timing.py)
  cap kern us, cap ovh us   the same split for the captured step, from the replay's own
                clock around each kernel (TinyJit.profile; kernel_timing.py): overhead =
                replay wall time - sum of the kernels' times
  calls         C kernel calls per step

For fair numpy/PyTorch numbers run with the OpenBLAS overrides of this machine unset:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
      python benchmarks/bench_train.py --data-dir ../shared/mnist
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # this folder's modules (training_speed, ...), whatever the cwd
sys.path.append(os.path.dirname(HERE))  # after site-packages: an installed tinygrad_mnist wins

from time_to_accuracy import FRAMEWORKS, time_to_accuracy, train_recipe  # noqa: E402
from training_contenders import CONTENDERS, OPTIMIZERS, ContenderUnavailable  # noqa: E402
from training_speed import (  # noqa: E402
    environment,
    measure_training,
    parse_sizes,
    ratio,
    set_threads,
    thread_env,
)

COLUMNS = [  # (contender, column title)
    ("c_capture", "c_capture"),
    ("c", "c"),
    ("numpy", "numpy"),
    ("torch", "torch"),
    ("tinygrad", "tinygrad"),
    ("numpy_by_hand", "np_by_hand"),
    ("matmul_ceiling", "mm_ceiling"),
]
RATIOS = [  # (title, numerator, denominator)
    ("Cap/torch", "c_capture", "torch"),
    ("C/torch", "c", "torch"),
    ("Cap/C", "c_capture", "c"),
    ("C/ceil", "c", "matmul_ceiling"),
    ("np/hand", "numpy", "numpy_by_hand"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--model",
        nargs="+",
        default=["784,128,64,10", "784,512,256,10"],
        help="layer sizes, comma separated; several models allowed",
    )
    ap.add_argument("--batch", type=int, nargs="+", default=[32, 128, 512])
    ap.add_argument("--optimizer", nargs="+", choices=OPTIMIZERS, default=list(OPTIMIZERS))
    ap.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="one process per value, each with OMP_NUM_THREADS etc. set",
    )
    ap.add_argument(
        "--steps",
        type=int,
        default=None,
        help="timed steps per repeat (default: ~4096 samples' worth)",
    )
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    ap.add_argument("--repeats", type=int, default=5, help="median over this many (>= 5)")
    ap.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    ap.add_argument("--data-dir", default=None, help="directory of the MNIST files")
    ap.add_argument(
        "--time-to-98",
        action="store_true",
        help="also train the default recipe (C backend: `train`'s loop and a TinyJit loop; "
        "PyTorch) to 98%% test accuracy and report the wall time (one run per --threads value)",
    )
    ap.add_argument(
        "--only-time-to-98",
        action="store_true",
        help="skip the throughput tables (implies --time-to-98)",
    )
    ap.add_argument("--json", metavar="PATH", help="also write all results as JSON here")
    ap.add_argument("--worker-threads", type=int, help=argparse.SUPPRESS)  # internal
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)  # internal
    args = ap.parse_args(argv)
    if args.only_time_to_98:
        args.time_to_98 = True
    return args


# ---------------------------------------------------------------- worker: one thread count
def run_worker(args: argparse.Namespace) -> None:
    """Measure every configuration at args.worker_threads threads; write JSON to worker_out."""
    threads = args.worker_threads
    set_threads(threads)
    out: dict[str, Any] = {"threads": threads, "environment": environment()}
    out["configs"], out["time_to_98"] = [], []
    if not args.only_time_to_98:
        for model in args.model:
            for batch in args.batch:
                for opt in args.optimizer:
                    t0 = time.perf_counter()
                    res = measure_training(
                        parse_sizes(model),
                        batch,
                        opt,
                        args.contenders,
                        steps=args.steps,
                        warmup=args.warmup,
                        repeats=args.repeats,
                        data_dir=args.data_dir,
                        threads=threads,
                    )
                    out["configs"].append(res)
                    print(
                        f"  [{threads} thread(s)] {model} batch {batch} {opt}: "
                        f"{time.perf_counter() - t0:.1f} s",
                        flush=True,
                    )
    if args.time_to_98:
        for framework in FRAMEWORKS:
            try:
                res = time_to_accuracy(framework, 0.98, args.data_dir)
            except ContenderUnavailable as e:
                res = {"framework": framework, "skipped": str(e)}
            res["threads"] = threads
            out["time_to_98"].append(res)
            print(f"  [{threads} thread(s)] time to 98%, {framework}: done", flush=True)
    with open(args.worker_out, "w") as f:
        json.dump(out, f)


def run_all(args: argparse.Namespace, argv: list[str]) -> list[dict[str, Any]]:
    """One worker process per thread count; returns their results."""
    results = []
    for threads in args.threads:
        env = dict(os.environ, **thread_env(threads))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "result.json")
            cmd = [
                sys.executable,
                os.path.abspath(__file__),
                *argv,
                "--worker-threads",
                str(threads),
                "--worker-out",
                path,
            ]
            subprocess.run(cmd, env=env, check=True)
            with open(path) as f:
                results.append(json.load(f))
    return results


# ---------------------------------------------------------------- tables
def _rate(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1e3:.1f}k" if x < 1e6 else f"{x / 1e6:.2f}M"


def _cell(res: dict[str, Any], name: str, key: str) -> float | None:
    return res["results"][name][key] if name in res["results"] else None


def print_tables(results: list[dict[str, Any]]) -> None:
    configs = [c for r in results for c in r["configs"]]
    if not configs:
        return
    head = f"{'thr':>3} {'model':<15} {'batch':>5} {'opt':<4} "
    print("\nTraining throughput, samples/s (median of repeats)")
    print(
        head + "".join(f"{t:>11}" for _, t in COLUMNS) + "".join(f"{t:>10}" for t, _, _ in RATIOS)
    )
    for c in configs:
        cfg = c["config"]
        model = ",".join(map(str, cfg["model"]))
        line = f"{cfg['threads']:>3} {model:<15} {cfg['batch_size']:>5} {cfg['optimizer']:<4} "
        line += "".join(f"{_rate(_cell(c, n, 'samples_per_s')):>11}" for n, _ in COLUMNS)
        for _, a, b in RATIOS:
            r = ratio(c["results"], a, b)
            line += f"{'-' if r is None else f'{r:.2f}x':>10}"
        print(line)
    print("\nOne training step, median latency in ms")
    print(head + "".join(f"{t:>11}" for _, t in COLUMNS))
    for c in configs:
        cfg = c["config"]
        model = ",".join(map(str, cfg["model"]))
        line = f"{cfg['threads']:>3} {model:<15} {cfg['batch_size']:>5} {cfg['optimizer']:<4} "
        for n, _ in COLUMNS:
            ms = _cell(c, n, "step_ms")
            line += f"{'-' if ms is None else f'{ms:.3f}':>11}"
        print(line)
    print_against_peak(configs)
    skipped = {n: why for c in configs for n, why in c["skipped"].items()}
    for n, why in skipped.items():
        print(f"skipped {n}: {why}")
    print_thread_scaling(configs)


def print_thread_scaling(configs: list[dict[str, Any]]) -> None:
    """Samples/s at each thread count over one thread, for every configuration measured at
    both. The thread counts ran in separate processes, one after the other: under changing
    load, thread_scaling.py (both counts taking turns in one process) is the steadier way."""
    by_key: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = {}
    for c in configs:
        cfg = c["config"]
        key = (tuple(cfg["model"]), cfg["batch_size"], cfg["optimizer"])
        by_key.setdefault(key, {})[cfg["threads"]] = c["results"]
    lines = []
    for (model, batch, opt), runs in by_key.items():
        if 1 not in runs:
            continue
        for threads in sorted(t for t in runs if t != 1):
            for name in ("c_capture", "c", "torch"):
                one, more = runs[1].get(name), runs[threads].get(name)
                if one and more:
                    x = more["samples_per_s"] / one["samples_per_s"]
                    where = f"{'-'.join(map(str, model))} batch {batch} {opt}"
                    lines.append(f"  {name:<10} {where}: {threads} threads / 1 = {x:.2f}x")
    if lines:
        print("\nThreads against one thread (separate processes, one after the other):")
        print("\n".join(lines))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def print_against_peak(configs: list[dict[str, Any]]) -> None:
    """The third table: FLOPs, measured FMA peak, fraction of peak, C kernel time, overhead."""
    print("\nAgainst the machine: FLOPs per step, measured FMA peak, fraction of peak, overhead")
    head = f"{'thr':>3} {'model':<15} {'batch':>5} {'opt':<4} "
    cols = ("MFLOP", "peak GF/s", "C %pk", "cap %pk", "torch %pk")
    cols += ("C step us", "C kern us", "C ovh us", "cap step", "cap kern", "cap ovh")
    print(head + "".join(f"{t:>10}" for t in cols) + f"{'calls':>6}")
    for c in configs:
        cfg, res = c["config"], c["results"]
        model = ",".join(map(str, cfg["model"]))
        line = f"{cfg['threads']:>3} {model:<15} {cfg['batch_size']:>5} {cfg['optimizer']:<4} "
        peak = cfg.get("fma_peak_gflops")
        line += f"{cfg['training_flops_per_step'] / 1e6:>10.1f}"
        line += f"{'-' if peak is None else f'{peak:.1f}':>10}"
        for name in ("c", "c_capture", "torch"):
            line += f"{_pct(res[name]['fraction_of_peak'] if name in res else None):>10}"
        for name in ("c", "c_capture"):
            cres = res.get(name, {})
            for key, scale in (("step_ms", 1e3), ("kernel_us", 1), ("overhead_us", 1)):
                v = cres.get(key)
                line += f"{'-' if v is None else f'{v * scale:.0f}':>10}"
        calls = res.get("c_capture", res.get("c", {})).get("kernel_calls_per_step")
        line += f"{'-' if calls is None else f'{calls:.0f}':>6}"
        print(line)
    isa = next((c["config"].get("fma_peak_isa") for c in configs), None)
    if isa:
        print(f"(peak: {isa} FMA chains on one core; %pk uses peak x threads)")


# The one-thread targets of a captured step (docs/performance.md, "Targets for a captured
# step, measured"), by batch size; the overhead target is for 784-128-64-10 at batch 128.
PEAK_GOALS = {512: 0.75, 128: 0.60}
TORCH_GOALS = {32: 2.5, 128: 2.5, 512: 1.3}
OVERHEAD_GOAL_US, OVERHEAD_MODEL, OVERHEAD_BATCH = 20.0, [784, 128, 64, 10], 128


def target_checks(configs: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(what, value, met) for each one-thread target that applies to a measured row. The
    captured C step (c_capture) is checked; where it was not measured, the eager one (c),
    named as such."""
    checks = []
    for c in configs:
        cfg, res = c["config"], c["results"]
        name = "c_capture" if "c_capture" in res else "c"
        if cfg["threads"] != 1 or name not in res:
            continue
        label = "captured C" if name == "c_capture" else "eager C"
        batch = cfg["batch_size"]
        where = f"{'-'.join(map(str, cfg['model']))} batch {batch}"
        frac, goal = res[name]["fraction_of_peak"], PEAK_GOALS.get(batch)
        if goal is not None and frac is not None:
            what = f"{label} fraction of peak >= {goal:.2f}, {where}"
            checks.append((what, f"{frac:.2f}", frac >= goal))
        if (
            cfg["model"] == OVERHEAD_MODEL
            and batch == OVERHEAD_BATCH
            and "overhead_us" in res[name]
        ):
            ovh = res[name]["overhead_us"]
            what = f"{label} overhead <= {OVERHEAD_GOAL_US:.0f} us, {where}"
            checks.append((what, f"{ovh:.1f} us", ovh <= OVERHEAD_GOAL_US))
        r, goal = ratio(res, name, "torch"), TORCH_GOALS.get(batch)
        if r is not None and goal is not None:
            checks.append((f"{label}/torch >= {goal:.1f}x, {where}", f"{r:.2f}x", r >= goal))
    return checks


def print_targets(configs: list[dict[str, Any]]) -> None:
    """The one-thread targets (docs/performance.md) on the rows that were measured: met or
    not, with the number."""
    if not any(c["config"]["threads"] == 1 for c in configs):
        return
    checks = target_checks(configs)
    print("\nOne-thread targets of a captured step (docs/performance.md):")
    if not checks:
        print("  none applies to these rows (batch 32, 128 or 512 with C, torch for the ratio)")
    for what, value, met in checks:
        print(f"  {'met    ' if met else 'NOT met'} {what}: {value}")
    if checks:
        print(f"  {sum(m for _, _, m in checks)}/{len(checks)} met")


def print_time_to_98(results: list[dict[str, Any]]) -> None:
    runs = [t for r in results for t in r["time_to_98"]]
    if not runs:
        return
    print(
        f"\nTime to 98% test accuracy, default `tinygrad-mnist train` recipe:\n  {train_recipe()}"
    )
    names = {"ours": "train (C)", "ours_captured": "TinyJit (C)"}
    print(
        f"{'framework':<12} {'thr':>3} {'captured':>8} {'reached':>8} {'seconds':>8} "
        f"{'epoch':>6} {'s/epoch':>8} {'best acc':>9} {'final acc':>9} {'vs torch':>8}"
    )
    torch_s = {
        t["threads"]: t["seconds_to_target"]
        for t in runs
        if t["framework"] == "torch" and t.get("seconds_to_target")
    }
    for t in runs:
        name = names.get(t["framework"], t["framework"])
        if "skipped" in t:
            print(f"{name:<12} {t['threads']:>3} skipped: {t['skipped']}")
            continue
        epochs = t["epochs"]
        per_epoch = epochs[-1]["seconds"] / len(epochs)
        best = max(e["test_accuracy"] for e in epochs)
        secs = "-" if t["seconds_to_target"] is None else f"{t['seconds_to_target']:.1f}"
        captured = {None: "-", True: "yes", False: "no"}[t.get("captured")]
        base = torch_s.get(t["threads"])
        vs = f"{t['seconds_to_target'] / base:.2f}x" if base and t["seconds_to_target"] else "-"
        print(
            f"{name:<12} {t['threads']:>3} {captured:>8} {str(t['reached']):>8} {secs:>8} "
            f"{t['epoch_reached'] or '-':>6} {per_epoch:>8.2f} {best:>9.4f} "
            f"{epochs[-1]['test_accuracy']:>9.4f} {vs:>8}"
        )
    print(
        "(vs torch: seconds to the target / PyTorch's, same thread count; the target is <= 0.50x)"
    )


def print_environment(results: list[dict[str, Any]]) -> None:
    for r in results:
        env = r["environment"]
        load = env.get("load_average")
        print(
            f"\n[{r['threads']} thread(s)] CPU {env.get('cpu')}, numpy {env['numpy']}, "
            f"torch {env['torch']}, C kernels {env.get('c_isa')} x{env.get('c_threads')}"
            + ("" if load is None else f", load average {load[0]:.2f} at start")
        )
        for lib in env["blas"]:
            print("  threadpoolctl:", lib)
    overrides = {
        k: v
        for k, v in results[0]["environment"]["env"].items()
        if k.startswith("OPENBLAS_C") or k == "OPENBLAS_L2_SIZE"
    }
    if any(overrides.values()):
        print(
            f"note: {overrides} are set; they slow current numpy (and so numpy_by_hand, "
            "mm_ceiling and our NumPy backend). For fair numbers: "
            "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ..."
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker_threads is not None:
        run_worker(args)
        return 0
    t0 = time.perf_counter()
    results = run_all(args, argv)
    print_environment(results)
    print_tables(results)
    print_targets([c for r in results for c in r["configs"]])
    print_time_to_98(results)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": results}, f, indent=1)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
