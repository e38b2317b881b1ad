"""`tinygrad-mnist viz --example forward_pass [--out PATH]`: the autograd explorer on a built-in
graph, written as one HTML file that opens from file:// with no server and no network.

    forward_pass   the course's worked MLP forward pass, with tensors (loss 0.6982)
    neuron         one scalar neuron, o = tanh(x1*w1 + x2*w2 + b), with Values

Open the file in a browser and press Step backward. For a graph of your own, call
`tinygrad_mnist.viz.explore(loss, path)` (tinygrad_mnist/viz/__init__.py).
"""

from __future__ import annotations

import argparse
import sys

from .. import worked_examples
from ..viz import ExploreError, check_output_path, write_page
from . import HelpFormatter

NAME = "viz"
TITLES = {
    "forward_pass": "The course's forward pass: x → sigmoid → sigmoid → softmax → BCE",
    "neuron": "One neuron: o = tanh(x1·w1 + x2·w2 + b)",
}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `viz` subcommand and its options."""
    p = subparsers.add_parser(
        NAME,
        help="write the autograd explorer (a self-contained HTML page) for a built-in graph",
        description="Write an HTML page that steps through backward on a built-in graph, with "
        "the chain rule's numbers from the engine's own backward pass. It opens from file:// "
        "with no server and no network.",
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--example",
        required=True,
        choices=worked_examples.EXAMPLES,
        help="which graph: forward_pass (the course's MLP, tensors) or neuron (scalar Values)",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="PATH",
        help="the .html file to write (default: EXAMPLE.html)",
    )
    p.add_argument(
        "--rankdir",
        default="LR",
        choices=("LR", "TB"),
        help="layout: inputs on the left (LR) or at the top (TB)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else f"{args.example}.html"
    try:
        path = check_output_path(out)  # before any work
        graph = getattr(worked_examples, args.example)()
        loss = graph["loss"] if "loss" in graph else list(graph.values())[-1]
        page = write_page(loss, path, graph, title=TITLES[args.example], rankdir=args.rankdir)
    except ExploreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    size = f"{page.nodes} nodes, {page.size_bytes / 1e6:.1f} MB"
    print(f"wrote {path} ({size}): open it in a browser and press Step backward")
    return 0
