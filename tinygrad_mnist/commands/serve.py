"""`tinygrad-mnist serve MODEL`: the digit pad, a web page to draw a digit and watch the model.

    tinygrad-mnist serve mnist_mlp.npz                 http://127.0.0.1:8000/ (or a free port)
    tinygrad-mnist serve mnist_mlp.npz --port 0        any free port; the URL is printed
    tinygrad-mnist serve mnist_mlp.npz --data-dir DIR  the "random test digit" button reads
                                                       MNIST's test set from DIR

The server (tinygrad_mnist/digit_pad/) listens on loopback only, unless --host says otherwise;
Ctrl-C stops it. The test digits are read from --data-dir, $TINYGRAD_MNIST_DATA or the cache,
and never downloaded: without them the page says why the button is off. Needs Pillow (the
`plot` extra) to shrink drawings to 28x28.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..inference import require_mnist_model
from ..plots import MissingPlotExtraError
from ..serialization import load_model
from ..utils.data import ENV_VAR, IDXError, MNISTNotFoundError, default_cache_dir, load_mnist
from ..utils.data.mnist import find_in_dir, mnist_filenames
from . import HelpFormatter

if TYPE_CHECKING:  # imported when serving: the other commands need no web server
    from ..digit_pad.server import RandomDigits

NAME = "serve"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def port_number(text: str) -> int:
    """A TCP port 0..65535 (0: any free port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `serve` subcommand and its options."""
    p = subparsers.add_parser(
        NAME,
        help="the digit pad: draw a digit in the browser, see the model's layers and answer",
        description="Start a local web server with the digit pad: draw a digit with the mouse "
        "or a finger and watch the model's input, hidden layers and class probabilities. The "
        "model runs here, in Python. Ctrl-C stops the server.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `train` (.npz)")
    p.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        metavar="N",
        help="TCP port to listen on; 0 picks a free one",
    )
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        metavar="H",
        help="address to listen on. Anything but loopback (127.0.0.1, ::1, localhost) lets "
        "other machines use the pad. On loopback, only requests addressed to a loopback name "
        "are answered (a web page cannot reach the pad by DNS rebinding)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help='directory with the MNIST test files, for the "random test digit" button '
        "(default: $TINYGRAD_MNIST_DATA, else the download cache; serve never downloads)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; 0 then. A bad model file goes up to cli.main (exit 2); a port
    in use or a bad host is a one-line error (exit 2); without Pillow, exit 1."""
    model, _meta = load_model(args.model)  # first: a bad file is reported before anything
    require_mnist_model(args.model, model.sizes)
    try:
        from ..digit_pad.preprocess import require_pillow

        require_pillow()
    except MissingPlotExtraError as e:
        return _error(str(e), 1)
    from ..digit_pad.server import DigitPadServer, is_loopback

    digits = load_test_digits(args.data_dir)
    try:
        server = DigitPadServer((args.host, args.port), model, Path(args.model).name, digits)
    except OSError as e:
        return _error(listen_problem(args.host, args.port, e), 2)
    with server:
        if not is_loopback(args.host):
            print(
                f"warning: listening on {args.host}, not only on this machine: anyone who can "
                "reach it on the network can use the digit pad",
                file=sys.stderr,
            )
        if not digits.available:
            print(f"note: the random test digit button is off: {digits.reason}", file=sys.stderr)
        print(f"digit pad for {args.model} at {server.url}  (Ctrl-C stops it)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0


def load_test_digits(data_dir: str | None) -> RandomDigits:
    """MNIST's test set from `data_dir`, $TINYGRAD_MNIST_DATA or the cache, or the reason it
    cannot be had. Never downloads: a server should start at once, also offline."""
    from ..digit_pad.server import RandomDigits

    directory = data_dir or os.environ.get(ENV_VAR)
    if not directory:
        cache = default_cache_dir()
        if not all(find_in_dir(cache, n) for n in mnist_filenames("test")):
            return RandomDigits(
                None,
                None,
                f"no MNIST test set found: pass --data-dir DIR or set ${ENV_VAR} (the cache "
                f"{cache} has none; `tinygrad-mnist train` downloads it there)",
            )
        directory = str(cache)
    try:
        images, labels = load_mnist("test", directory)
    except (MNISTNotFoundError, IDXError) as e:
        return RandomDigits(None, None, str(e).splitlines()[0])
    return RandomDigits(images, labels)


def listen_problem(host: str, port: int, e: OSError) -> str:
    """The one line that says why the server could not listen on host:port."""
    if isinstance(e, socket.gaierror):
        return f"--host {host!r}: not an address or known host name ({e.strerror})"
    if e.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use (another server?); choose another with --port N, "
            "or --port 0 for a free one"
        )
    if e.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (ports below 1024 need root); use --port N"
    if e.errno == errno.EADDRNOTAVAIL:
        return f"--host {host}: this machine has no such address"
    return f"cannot listen on {host}:{port}: {e.strerror or e}"


def _error(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status
