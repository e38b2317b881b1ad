"""The subcommands of `tinygrad-mnist`, one module each.

A command module exposes:

    add_parser(subparsers) -> argparse.ArgumentParser
        adds the subcommand, named like the module (`train` in train.py), and its options;
    run(args: argparse.Namespace) -> int
        does the work and returns the exit status.

cli.py imports the modules listed in its COMMANDS and calls `run` on the one chosen.
`HelpFormatter` is the formatter every subcommand uses, so `--help` shows all defaults, and
`add_data_dir` adds the `--data-dir` option the commands that read MNIST share, and
`apply_threads` caps a thread count (--threads, $TINYGRAD_NUM_THREADS) before the C kernels
see it. The argument types the commands share (`positive_int`) are in arguments.py: no command
imports another command, and what they share below the command line (running a model,
training, plotting) lives in the library or in plots.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: ...)" to each option's help, except when the default is None or
    suppressed: then the help text itself says what happens when the option is left out."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def add_data_dir(parser: argparse.ArgumentParser | argparse._ArgumentGroup, use: str = "") -> None:
    """Add `--data-dir`, where MNIST is read from (`use` says what for, e.g. ", for --index")."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"directory with the MNIST files{use} (default: $TINYGRAD_MNIST_DATA, else the "
        "cache, else download)",
    )


THREADS_ENV = "TINYGRAD_NUM_THREADS"  # read by the C kernels at their first call


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def usable_threads(requested: int, source: str) -> tuple[int, str | None]:
    """(the thread count to use, a note for the user or None) for `requested` threads.

    More threads than CPUs only slows the kernels, and a count past the process's thread
    limit makes libgomp abort the whole process mid-run (no message, no checkpoint), so the
    count is capped at the CPU count, then at what the system really lets us start: that is
    probed by starting the threads (and letting them end at once) before any work.
    """
    n = min(requested, cpu_count())
    note = None
    if n < requested:
        note = f"note: {source}{requested} is more than the {n} CPUs here; using {n} threads"
    started = _startable_threads(n)
    if started < n:
        note = (
            f"note: {source}{requested}: only {started} threads could be started "
            f"(the system's thread limit); using {started}"
        )
        n = started
    return n, note


def _startable_threads(n: int) -> int:
    """How many of `n` threads (this one included) can run at once, up to n."""
    release = threading.Event()
    workers = []
    try:
        for _ in range(n - 1):
            worker = threading.Thread(target=release.wait, daemon=True)
            worker.start()
            workers.append(worker)
    except RuntimeError:  # "can't start new thread"
        pass
    finally:
        release.set()
        for worker in workers:
            worker.join()
    return len(workers) + 1


def apply_threads(requested: int, source: str) -> int:
    """Use `requested` (capped by `usable_threads`, with a note on stderr) threads in the C
    kernels: set $TINYGRAD_NUM_THREADS and, if the kernels are loaded already, tell them."""
    n, note = usable_threads(requested, source)
    if note:
        print(note, file=sys.stderr)
    os.environ[THREADS_ENV] = str(n)
    if "tinygrad_mnist.backends.c_backend" in sys.modules:  # else they read the variable
        sys.modules["tinygrad_mnist.backends.c_backend"].lib.tg_set_num_threads(n)
    return n


def apply_threads_env() -> str | None:
    """Check $TINYGRAD_NUM_THREADS as the C kernels would read it; cap it like --threads.
    None if fine (or unset), else the one-line error for a value that is not a count."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return None
    try:
        requested = int(text)
    except ValueError:
        return f"{THREADS_ENV}={text!r} is not a whole number of threads"
    if requested < 1:
        return f"{THREADS_ENV}={text!r}: the thread count must be >= 1"
    apply_threads(requested, f"{THREADS_ENV}=")
    return None
