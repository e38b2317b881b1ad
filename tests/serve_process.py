"""`tinygrad-mnist serve` in a subprocess, for the digit pad's tests: start it on a free port,
read the URL it prints, and stop it with Ctrl-C (SIGINT) as a user would."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

from tinygrad_mnist.training import TEST_SIGINT_ENV

URL_PATTERN = re.compile(r"http://\S+/")
START_TIMEOUT = 60  # seconds; the server prints its URL within a second or two here


class ServeProcess:
    """A running `python -m tinygrad_mnist serve ARGS --port 0`; `url` is the one it printed."""

    def __init__(self, *args: str) -> None:
        env = {
            k: v for k, v in os.environ.items() if k not in ("TINYGRAD_MNIST_DATA", TEST_SIGINT_ENV)
        }
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", TINYGRAD_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tinygrad_mnist", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        self.first_line = self._read_first_line()
        match = URL_PATTERN.search(self.first_line)
        if not match:
            out, err = self.stop()
            raise AssertionError(f"serve printed no URL: {self.first_line!r}\n{out}\n{err}")
        self.url = match.group(0)

    def _read_first_line(self) -> str:
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                return self.proc.stdout.readline()
            if self.proc.poll() is not None:
                break
        return ""

    def stop(self) -> tuple[str, str]:
        """Ctrl-C, then (stdout, stderr) of the rest of the run; `returncode` is set."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.returncode = self.proc.returncode
        return out, err


def request(
    url: str,
    body: bytes | None = None,
    method: str | None = None,
    content_type: str | None = "application/json",
) -> tuple[int, Any]:
    """(status, parsed JSON answer) of one HTTP request; 4xx/5xx answers are returned too."""
    headers = {"Content-Type": content_type} if content_type and body is not None else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
