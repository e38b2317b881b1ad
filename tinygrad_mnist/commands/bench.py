"""`tinygrad-mnist bench`: how fast this machine trains an MLP, on each backend and in PyTorch.

    tinygrad-mnist bench                          784-128-64-10, batch 128, SGD: ~10-30 s
    tinygrad-mnist bench --model 784,512,256,10 --batch-size 512
    tinygrad-mnist bench --json                   the numbers as JSON, for scripts
    tinygrad-mnist bench --plot bench.png         a bar chart (needs matplotlib)

Everything is measured in one run, the contenders taking turns (see tinygrad_mnist/benchmark.py
for the rules), so the ratios compare like with like. Two tables:

  training    samples/s and the median time of one step, for our library on each backend
              and for PyTorch (when installed) on the same model, batch and optimizer;
              "vs torch" = samples/s divided by PyTorch's.
              "% peak" = training FLOPs per step / (step time x the FMA peak x threads):
              how much of this machine the step uses. The FLOPs are the matmuls' (forward
              2*B*in*out per layer, backward 4*B*in*out per layer except the first layer's
              dx, which is not needed); the peak is measured just before the timed runs by a
              small C loop of independent FMA chains on one core (csrc/fma_peak.c) with the
              instruction set our GEMM uses. For the C backend also: the time per step inside
              the C kernels (measured in a separate pass by a timing shim around every kernel
              call, its own cost subtracted) and the rest of the step, "Python and glue
              overhead" (autograd, argument checks, allocation, NumPy glue, cffi calls).
  matmul      GFLOP/s of our C GEMM kernel and of numpy.matmul on each matmul of one
              training step; "C/numpy" = C speed divided by numpy's.

benchmarks/bench_train.py is the full study (both thread counts, several models and batch
sizes, the hand-written NumPy and matmul-only reference points); see benchmarks/README.md.

JSON schema (`--json`), all numbers floats unless noted:

    {
      "config": {"model": [int, ...], "activation": str, "batch_size": int,
                 "optimizer": "sgd" | "adam", "dtype": "float32", "steps": int,
                 "warmup": int, "repeats": int, "threads": int,
                 "matmul_flops_per_step": int, "training_flops_per_step": int,
                 "fma_peak_gflops": float | null, "fma_peak_isa": str | null},
                                                       (the peak is null without the C backend)
      "training": {CONTENDER: {"samples_per_s": float, "step_ms": float,
                               "samples_per_s_repeats": [float, ...],
                               "vs_torch": float | null,
                               "fraction_of_peak": float | null}},
                                                       CONTENDER: "c", "numpy", "torch"
                  "c" also has, from a pass with a timing shim (benchmark.c_kernel_time):
                  "kernel_us" (per step, inside C kernels), "overhead_us" (the rest of the
                  step: Python and glue), "kernel_calls_per_step", "shim_us_per_call",
                  "instrumented_step_us"
      "skipped": {CONTENDER: "why it did not run"},
      "matmul": [{"name": "L0 fwd", "M": int, "N": int, "K": int, "trans_a": 0|1,
                  "trans_b": 0|1, "c_us": float, "numpy_us": float, "c_gflops": float,
                  "numpy_gflops": float, "ratio": float}],           [] without the C backend
      "environment": {"numpy": str, "torch": str | null, "c_isa": str, "c_threads": int,
                      "cpu": str (the CPU model), "blas": [threadpoolctl info],
                      "env": {VAR: str | null}, "load_average": [float, float, float], ...}
    }
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from .. import backends, benchmark
from ..atomic_file import write_bytes_atomic
from ..plots import MissingPlotExtraError, require_matplotlib
from ..serialization import check_model_size
from ..training import check_writable
from . import HelpFormatter, add_data_dir, usable_threads
from .arguments import positive_int

NAME = "bench"
CONTENDERS = ("c", "numpy", "torch")
LABELS = {"c": "ours, C", "numpy": "ours, NumPy", "torch": "PyTorch"}
MAX_BATCH = 60_000


def model_sizes(text: str) -> list[int]:
    """--model '784,128,64,10' -> [784, 128, 64, 10]."""
    try:
        sizes = benchmark.parse_sizes(text)
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
    p.add_argument("--optimizer", choices=benchmark.OPTIMIZERS, default="sgd")
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


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the measurements `args` asks for; the dict of the JSON schema above."""
    warmup = 1 if args.steps is not None and args.steps < 5 else 5
    res = benchmark.measure_training(
        args.model,
        args.batch_size,
        args.optimizer,
        CONTENDERS,
        steps=args.steps,
        warmup=warmup,
        repeats=args.repeats,
        data_dir=args.data_dir,
        threads=args.threads,
    )
    for name, r in res["results"].items():
        r["vs_torch"] = benchmark.ratio(res["results"], name, "torch")
    matmul = []
    if "c" in backends.available():
        matmul = benchmark.matmul_gflops(args.model, args.batch_size, args.repeats)
    return {
        "config": res["config"],
        "training": res["results"],
        "skipped": res["skipped"],
        "matmul": matmul,
        "environment": benchmark.environment(),
    }


def format_tables(out: dict[str, Any]) -> str:
    """The two tables, as text."""
    cfg = out["config"]
    model = "-".join(map(str, cfg["model"]))
    env = out["environment"]
    lines = [
        f"model {model} ({cfg['activation']}), batch {cfg['batch_size']}, {cfg['optimizer']}, "
        f"float32, {cfg['threads']} thread(s); medians of {cfg['repeats']} repeats of "
        f"{cfg['steps']} steps",
        "",
        f"{'training':<14} {'samples/s':>11} {'step ms':>9} {'vs torch':>9} {'% peak':>7}",
    ]
    for name, r in out["training"].items():
        vs = "-" if r["vs_torch"] is None else f"{r['vs_torch']:.2f}x"
        frac = r.get("fraction_of_peak")
        pct = "-" if frac is None else f"{100 * frac:.0f}%"
        lines.append(
            f"{LABELS.get(name, name):<14} {r['samples_per_s']:>11,.0f} {r['step_ms']:>9.3f} "
            f"{vs:>9} {pct:>7}"
        )
    for name, why in out["skipped"].items():
        lines.append(f"{LABELS.get(name, name):<14} skipped: {why}")
    lines.append(
        f"one step: {cfg['training_flops_per_step'] / 1e6:.1f} MFLOP (the matmuls: forward "
        "2*B*in*out per layer, backward 4*B*in*out but no dx for the first layer)"
    )
    if cfg.get("fma_peak_gflops") is not None:
        lines.append(
            f"FMA peak, measured now: {cfg['fma_peak_gflops']:.1f} GFLOP/s per core "
            f"({cfg['fma_peak_isa']}, float32) on {env.get('cpu', 'this CPU')}; "
            f"% peak = FLOPs / (step time x peak x {cfg['threads']} thread(s))"
        )
    c = out["training"].get("c")
    if c is not None and "kernel_us" in c:
        lines.append(
            f"ours, C, per step: {c['kernel_us']:.0f} us inside {c['kernel_calls_per_step']:.0f} "
            f"C kernel calls, {c['overhead_us']:.0f} us Python and glue overhead (timing shim)"
        )
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
    blas = [b for b in env["blas"] if b.get("user_api") == "blas"]
    if blas:
        b = blas[0]
        lines += ["", f"numpy BLAS: {b['internal_api']} {b['version']} ({b['architecture']})"]
    isa = env.get("c_isa") or "not available"
    lines.append(f"C kernels: {isa}, numpy {env['numpy']}, torch {env['torch'] or 'not installed'}")
    overrides = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if env["env"].get(k)]
    if overrides:
        lines.append(
            f"note: {' and '.join(overrides)} are set and may slow numpy; for fair numbers "
            f"run with env -u {' -u '.join(overrides)}"
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
