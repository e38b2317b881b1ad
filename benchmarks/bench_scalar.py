"""Throughput of the scalar `Value` engine against micrograd's, on a 784-16-10 MLP.

For each MNIST image we build the whole graph (forward: every pixel, product, sum and
ReLU is a Value, then a squared-error loss against the one-hot label) and run backward().
"Nodes" are the Values created in the forward pass (counted by walking the graph once,
outside the timed region; the weights are not counted), so nodes/s = nodes / (forward +
backward time). Both engines
get the same weights and images; micrograd's row is skipped if it is not installed.

    python benchmarks/bench_scalar.py                 # 100 images, 3 repeats (~2-3 min)
    python benchmarks/bench_scalar.py --images 10 --repeats 3 --json
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO))  # after site-packages: an installed tinygrad_mnist wins

from tinygrad_mnist.scalar import Value  # noqa: E402
from tinygrad_mnist.scalar_nn import MLP  # noqa: E402


def read_images(data_dir: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` MNIST test images (as floats in [0, 1]) and labels, read straight
    from the IDX .gz files: 16-byte header for images, 8-byte header for labels."""
    with gzip.open(data_dir / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:count]
    with gzip.open(data_dir / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:count]
    return images.astype(np.float64) / 255.0, labels


def count_created_nodes(loss: Any, parameters: list[Any]) -> int:
    """Values reachable from the loss that are not model parameters: exactly the Values
    the forward pass created (inputs, products, sums, activations, constants)."""
    seen, stack = {id(loss)}, [loss]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen - {id(p) for p in parameters})


def one_image(value_cls: type, model: Any, pixels: list[float], label: int) -> tuple[Any, ...]:
    """Forward and backward for one image: the loss node, forward time and total time."""
    start = time.perf_counter()
    x = [value_cls(p) for p in pixels]
    logits = model(x)
    loss = sum((logit - (1.0 if k == label else 0.0)) ** 2 for k, logit in enumerate(logits))
    forward = time.perf_counter() - start
    loss.backward()
    return loss, forward, time.perf_counter() - start


def bench(
    name: str,
    value_cls: type,
    model: Any,
    images: np.ndarray,
    labels: np.ndarray,
    repeats: int,
    collect: bool,
) -> dict[str, Any]:
    pixel_lists = [row.tolist() for row in images]
    params = model.parameters()
    nodes = 0
    totals, forwards = [], []
    for repeat in range(repeats):
        total = forward = 0.0
        losses = []
        for px, y in zip(pixel_lists, labels):
            loss, f, t = one_image(value_cls, model, px, int(y))
            total, forward = total + t, forward + f
            losses.append(loss.data)
            if repeat == 0:  # the graph is the same every repeat: count it once, untimed
                nodes += count_created_nodes(loss, params)
            del loss
            if collect:  # with the collector off, free cyclic garbage outside the timing
                gc.collect()
        totals.append(total)
        forwards.append(forward)
    total = statistics.median(totals)
    return {
        "engine": name,
        "images": len(images),
        "nodes_per_image": nodes / len(images),
        "forward_ms_per_image": 1e3 * statistics.median(forwards) / len(images),
        "total_ms_per_image": 1e3 * total / len(images),
        "nodes_per_s": nodes / total,
        "mean_loss": sum(losses) / len(losses),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO.parent / "shared" / "mnist",
        help="folder with t10k-*-ubyte.gz (default: ../shared/mnist)",
    )
    parser.add_argument("--images", type=int, default=100, help="images per repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the median is shown")
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="disable the cyclic garbage collector while timing (collect between images)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    images, labels = read_images(args.data_dir, args.images)
    ours = MLP(784, [16, 10], seed=0)
    engines = [("tinygrad_mnist.Value", Value, ours)]
    try:
        from micrograd import engine as mg_engine
        from micrograd import nn as mg_nn
    except ImportError:
        print("micrograd not installed: its row is skipped", file=sys.stderr)
    else:
        theirs = mg_nn.MLP(784, [16, 10])
        for p, q in zip(theirs.parameters(), ours.parameters(), strict=True):
            p.data = q.data  # identical weights, so both do exactly the same arithmetic
        engines.append(("micrograd.Value", mg_engine.Value, theirs))

    if args.no_gc:
        gc.disable()
    rows = [
        bench(name, cls, model, images, labels, args.repeats, collect=args.no_gc)
        for name, cls, model in engines
    ]
    for row in rows:
        row["ratio_vs_micrograd"] = (
            row["nodes_per_s"] / rows[1]["nodes_per_s"] if len(rows) > 1 else None
        )
    if len(rows) > 1:  # same weights and inputs: the losses must agree
        assert abs(rows[0]["mean_loss"] - rows[1]["mean_loss"]) < 1e-9 * abs(rows[1]["mean_loss"])

    if args.json:
        print(json.dumps({"repeats": args.repeats, "gc": not args.no_gc, "rows": rows}, indent=2))
        return 0
    print(
        f"784-16-10 scalar MLP, {args.images} images, median of {args.repeats} repeats"
        f"{', gc off' if args.no_gc else ''}"
    )
    print(
        f"{'engine':<22}{'nodes/img':>10}{'fwd ms/img':>12}{'fwd+bwd ms/img':>16}"
        f"{'nodes/s':>12}{'ratio':>8}"
    )
    for r in rows:
        ratio = "-" if r["ratio_vs_micrograd"] is None else f"{r['ratio_vs_micrograd']:.2f}x"
        print(
            f"{r['engine']:<22}{r['nodes_per_image']:>10.0f}{r['forward_ms_per_image']:>12.1f}"
            f"{r['total_ms_per_image']:>16.1f}{r['nodes_per_s']:>12,.0f}{ratio:>8}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
