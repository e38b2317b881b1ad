"""The subcommands of `tinygrad-mnist`, one module each.

A command module exposes:

    add_parser(subparsers) -> argparse.ArgumentParser
        adds the subcommand, named like the module (`train` in train.py), and its options;
    run(args: argparse.Namespace) -> int
        does the work and returns the exit status.

cli.py imports the modules listed in its COMMANDS and calls `run` on the one chosen.
`HelpFormatter` is the formatter every subcommand uses, so `--help` shows all defaults, and
`add_data_dir` adds the `--data-dir` option the commands that read MNIST share.
"""

from __future__ import annotations

import argparse


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
