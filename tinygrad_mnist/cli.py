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
import signal
import sys
import threading
from collections.abc import Sequence

import tinygrad_mnist

from . import __version__, backends
from .backends import BackendUnavailableError
from .commands import apply_threads_env
from .data import IDXError, MNISTNotFoundError
from .serialization import ModelFileError
from .training import ConfigError, TrainingDivergedError

# Modules of tinygrad_mnist/commands/, in the order `--help` lists them.
COMMANDS = ["train", "eval", "bench", "plot", "predict", "serve", "viz"]

# Exit status 2: the input is wrong (options, files); 1: the run itself failed.
USER_ERRORS = (ConfigError, ModelFileError, MNISTNotFoundError, IDXError, BackendUnavailableError)
RUN_ERRORS = (TrainingDivergedError, OSError)


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
    """Run the command line `argv` (default: sys.argv[1:]); return the exit status."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is tinygrad_mnist._exit_on_early_interrupt
    ):
        # Until here, Ctrl-C exits at once (tinygrad_mnist/__init__.py); from here on it
        # raises KeyboardInterrupt, which training turns into a checkpoint.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while parsing options or importing a command
        print("error: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
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
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RUN_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
