"""`tinygrad-mnist`: the command line. One subcommand per module in commands/.

    tinygrad-mnist train [options]        train an MLP on MNIST, save model + metrics
    tinygrad-mnist eval MODEL             test accuracy and per-class table of a model
    tinygrad-mnist serve MODEL            the digit pad: draw a digit in the browser
    tinygrad-mnist viz --example NAME     the autograd explorer: step through backward
    tinygrad-mnist COMMAND --help         every option of a command, with its default

Expected failures (missing data, a bad model file, a bad option value, a diverged run) are
printed as one line `error: ...` on stderr with a non-zero exit status, not a traceback:
they are the user's to fix, and a traceback would hide the one line that says how.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from . import __version__

# Modules of tinygrad_mnist/commands/, in the order `--help` lists them.
COMMANDS = ["train", "eval", "bench", "plot", "predict", "serve", "viz"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of COMMANDS added."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-mnist",
        description="Train and use MLPs on MNIST with tinygrad_mnist, a small autograd engine.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"tinygrad_mnist.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]); return the exit status.

    This module imports only the standard library, and everything else is imported in here,
    so that Ctrl-C during the first ~0.2 s (NumPy, the C kernels, the commands) is caught like
    Ctrl-C later: one line, exit status 130, no traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while importing, parsing options or training
        print("error: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    from . import backends
    from .backends import BackendUnavailableError
    from .commands import apply_threads_env
    from .serialization import ModelFileError
    from .training import ConfigError, TrainingDivergedError
    from .utils.data import IDXError, MNISTNotFoundError

    # Exit status 2: the input is wrong (options, files); 1: the run itself failed.
    user_errors = (
        ConfigError, ModelFileError, MNISTNotFoundError, IDXError, BackendUnavailableError
    )  # fmt: skip
    run_errors = (TrainingDivergedError, OSError)

    args = build_parser().parse_args(argv)
    command = importlib.import_module(f"tinygrad_mnist.commands.{args.command}")
    env_backend = os.environ.get("TINYGRAD_BACKEND", "").strip().lower()
    if env_backend and env_backend not in backends.NAMES:  # else it fails deep inside an op
        print(
            f"error: TINYGRAD_BACKEND={env_backend!r} is not one of {backends.NAMES}",
            file=sys.stderr,
        )
        return 2
    threads_problem = apply_threads_env()  # before any C kernel reads it
    if threads_problem:
        print(f"error: {threads_problem}", file=sys.stderr)
        return 2
    try:
        return command.run(args)
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, like cat
        sys.stderr.close()
        return 0
    except user_errors as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except run_errors as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
