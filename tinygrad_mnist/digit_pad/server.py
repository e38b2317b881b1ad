"""The digit pad's web server: the standard library's ThreadingHTTPServer, a static page, and
a small JSON API. The model runs here, in Python, through the engine.

    GET  /                  the page (static/index.html); its script and style under /static/
    GET  /api/model         the model's layer sizes and activation, and whether test digits
                            can be loaded (and if not, why)
    POST /api/predict       body {"width": W, "height": H, "pixels": base64 of W*H bytes}:
                            the canvas as grayscale 0..255, row by row. Answer: the 28x28
                            digit after MNIST's preprocessing (preprocess.py), each hidden
                            layer's activations and the ten probabilities (inference.py)
    GET  /api/test-digit    a random MNIST test digit (?index=N for digit N), with its true
                            label and the same analysis

Every error is a JSON object {"error": "what was wrong"} with a 4xx status: a body over
MAX_BODY_BYTES (refused from its Content-Length, before reading it), a body that is not JSON
or not the right shape, a wrong Content-Type, an unknown path, a wrong method. A request
handler never lets an exception escape, so no request can stop the server.
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from ..digit_render import SIDE
from ..nn import MLP
from .inference import analyse_digit
from .preprocess import canvas_to_mnist, is_blank

# A 512x512 canvas is 262,144 bytes, 349,528 in base64: 1 MB leaves room and still refuses
# anything that is not a drawing before a byte of it is read.
MAX_BODY_BYTES = 1 << 20
MIN_CANVAS, MAX_CANVAS = SIDE, 1024  # canvas side in pixels; MAX_CANVAS**2 <= MAX_BODY_BYTES
REQUEST_TIMEOUT = 10  # seconds a client may take to send its request before it is dropped
# After refusing a body unread, skip at most this much of it, for at most LINGER_SECONDS, before
# closing: closing a socket with unread data resets the connection, and a client still sending
# (most send the whole body before they read the answer) would see the reset, not the 413.
LINGER_BYTES, LINGER_SECONDS = 16 << 20, 2.0
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


class RequestError(Exception):
    """A bad request: answered with `status` and {"error": message}."""

    def __init__(self, status: HTTPStatus, message: str, allow: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.allow = status, message, allow


def static_files() -> dict[str, tuple[bytes, str]]:
    """The page's files shipped in tinygrad_mnist/digit_pad/static: name -> (bytes, type).

    Read once at start-up. Requests name a file of this dict or get a 404, so no path a
    client sends is ever opened (no "../" can escape the folder)."""
    folder = resources.files(__package__) / "static"
    files = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in STATIC_TYPES:
            files[entry.name] = (entry.read_bytes(), STATIC_TYPES[suffix])
    return files


class RandomDigits:
    """MNIST's test digits for the "random test digit" button, or the reason they are not
    available (`images` is None then)."""

    def __init__(self, images: np.ndarray | None, labels: np.ndarray | None, reason: str = ""):
        self.images, self.labels, self.reason = images, labels, reason
        self._rng = np.random.default_rng()

    @property
    def available(self) -> bool:
        return self.images is not None

    def pick(self, index: int | None) -> int:
        """`index` if it is a valid digit number, a random one if it is None."""
        n = len(self.images)
        if index is None:
            return int(self._rng.integers(n))
        if not 0 <= index < n:
            raise RequestError(HTTPStatus.NOT_FOUND, f"index {index} is out of range: 0 to {n - 1}")
        return index


class DigitPadServer(ThreadingHTTPServer):
    """Serves one model's digit pad. The model is run by one request at a time (`lock`)."""

    daemon_threads = True  # Ctrl-C does not wait for a request that is still running
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        model: MLP,
        model_name: str,
        test_digits: RandomDigits,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.model, self.model_name, self.test_digits = model, model_name, test_digits
        self.lock = threading.Lock()
        self.files = static_files()
        super().__init__(address, DigitPadHandler)

    @property
    def url(self) -> str:
        """Where a browser on this machine finds the pad (for a server listening on every
        address, 0.0.0.0 or ::, that is loopback)."""
        host, port = self.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def model_info(self) -> dict[str, Any]:
        digits = self.test_digits
        return {
            "model": self.model_name,
            "sizes": list(self.model.sizes),
            "activation": self.model.activation,
            "test_digits": {
                "available": digits.available,
                "count": len(digits.images) if digits.available else 0,
                "reason": digits.reason,
            },
        }

    def analyse(self, pixels: np.ndarray) -> dict[str, Any]:
        with self.lock:
            return analyse_digit(self.model, pixels)


def decode_canvas(body: Any) -> np.ndarray:
    """The grayscale canvas uint8 [H, W] from a /api/predict body, or a RequestError (400)
    that says what is wrong with it."""

    def bad(message: str) -> RequestError:
        return RequestError(HTTPStatus.BAD_REQUEST, message)

    if not isinstance(body, dict):
        raise bad('the body must be a JSON object {"width": W, "height": H, "pixels": "..."}')
    missing = [k for k in ("width", "height", "pixels") if k not in body]
    if missing:
        raise bad(f"missing {', '.join(repr(k) for k in missing)} in the JSON body")
    width, height, data = body["width"], body["height"], body["pixels"]
    for name, side in (("width", width), ("height", height)):
        if isinstance(side, bool) or not isinstance(side, int):
            raise bad(f"{name!r} must be a whole number of pixels, got {side!r}")
        if not MIN_CANVAS <= side <= MAX_CANVAS:
            raise bad(f"{name!r} must be {MIN_CANVAS} to {MAX_CANVAS} pixels, got {side}")
    if not isinstance(data, str):
        raise bad("'pixels' must be a base64 string of width*height grayscale bytes")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise bad("'pixels' is not valid base64") from None
    if len(raw) != width * height:
        raise bad(
            f"'pixels' holds {len(raw)} bytes; a {width}x{height} canvas needs "
            f"{width * height} (one grayscale byte per pixel, row by row)"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


class DigitPadHandler(BaseHTTPRequestHandler):
    """One request. Routes are in GET_ROUTES / POST_ROUTES; everything else is a 404/405."""

    server: DigitPadServer
    server_version = "tinygrad-mnist-digit-pad"
    protocol_version = "HTTP/1.1"  # keep-alive: the page sends a request per stroke
    timeout = REQUEST_TIMEOUT

    GET_ROUTES = {"/": "page", "/index.html": "page", "/api/model": "model", "/api/test-digit": "test_digit"}  # fmt: skip
    POST_ROUTES = {"/api/predict": "predict"}

    # ------------------------------------------------------------ dispatch
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def finish(self) -> None:
        super().finish()
        if getattr(self, "_linger", False):
            self._linger_close()

    def _linger_close(self) -> None:
        """Skip what the client still sends after a refused body, then let the server close."""
        try:
            self.connection.shutdown(socket.SHUT_WR)  # the answer is complete: say so
            self.connection.settimeout(LINGER_SECONDS)
            deadline = time.monotonic() + LINGER_SECONDS
            skipped = 0
            while skipped < LINGER_BYTES and time.monotonic() < deadline:
                chunk = self.connection.recv(65536)
                if not chunk:  # the client read the answer and closed
                    break
                skipped += len(chunk)
        except OSError:
            pass

    def _dispatch(self, method: str) -> None:
        self._body_read = False  # one handler serves every request of a kept-alive connection
        try:
            try:
                url = urlsplit(self.path)
                getattr(self, f"_{self._route(method, url.path)}")(url.query)
            except RequestError as e:
                self._discard_body()
                self._send_json({"error": e.message}, e.status, allow=e.allow)
        except (ConnectionError, TimeoutError):  # the client went away: nobody to answer
            self.close_connection = True
        except Exception as e:  # a bug of ours: answer 500 and keep serving
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._send_json({"error": f"internal error: {type(e).__name__}: {e}"}, 500)

    def _route(self, method: str, path: str) -> str:
        if path.startswith("/static/"):
            name = path[len("/static/") :]
            if name not in self.server.files:
                raise RequestError(HTTPStatus.NOT_FOUND, f"no such file: {path}")
            if method not in ("GET", "HEAD"):
                raise RequestError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{method} {path}: use GET", "GET, HEAD"
                )
            return "static"
        get = self.GET_ROUTES.get(path)
        post = self.POST_ROUTES.get(path)
        if method in ("GET", "HEAD") and get:
            return get
        if method == "POST" and post:
            return post
        if get or post:
            allowed = "POST" if post else "GET, HEAD"
            raise RequestError(
                HTTPStatus.METHOD_NOT_ALLOWED, f"{method} {path}: use {allowed}", allowed
            )
        raise RequestError(HTTPStatus.NOT_FOUND, f"no such page or API: {path}")

    # ------------------------------------------------------------ routes
    def _page(self, query: str) -> None:
        self._send_bytes(*self.server.files["index.html"])

    def _static(self, query: str) -> None:
        name = urlsplit(self.path).path[len("/static/") :]
        self._send_bytes(*self.server.files[name])

    def _model(self, query: str) -> None:
        self._send_json(self.server.model_info())

    def _test_digit(self, query: str) -> None:
        digits = self.server.test_digits
        if not digits.available:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no test digits to load: {digits.reason}")
        params = parse_qs(query, keep_blank_values=True)
        index = None
        if "index" in params:
            text = params["index"][-1]
            try:
                index = int(text)
            except ValueError:
                raise RequestError(
                    HTTPStatus.BAD_REQUEST, f"index must be a whole number, got {text!r}"
                ) from None
        i = digits.pick(index)
        result = self.server.analyse(digits.images[i])
        result.update(index=i, label=int(digits.labels[i]), blank=False)
        self._send_json(result)

    def _predict(self, query: str) -> None:
        gray = decode_canvas(self._read_json())
        pixels = canvas_to_mnist(gray)
        result = self.server.analyse(pixels)
        result["blank"] = is_blank(gray)
        self._send_json(result)

    # ------------------------------------------------------------ request bodies
    def _content_length(self) -> int:
        text = self.headers.get("Content-Length")
        if text is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
        try:
            length = int(text)
        except ValueError:
            length = -1
        if length < 0:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {text!r}")
        return length

    def _read_json(self) -> Any:
        if self.headers.get("Transfer-Encoding"):
            raise RequestError(
                HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length, not chunked"
            )
        length = self._content_length()
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the body is never read, so the stream is lost
            self._linger = True
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is {length:,} bytes; at most {MAX_BODY_BYTES:,} are accepted",
            )
        try:
            body = self.rfile.read(length)
        except TimeoutError:  # the client promised more than it sent
            self.close_connection = True
            raise RequestError(
                HTTPStatus.REQUEST_TIMEOUT,
                f"the body did not arrive within {self.timeout} s ({length} bytes announced)",
            ) from None
        self._body_read = True
        ctype = self.headers.get_content_type()  # "text/plain" when the header is missing
        if ctype != "application/json":
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"the body must be application/json, not {ctype}",
            )
        if len(body) != length:
            self.close_connection = True
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"the body ended after {len(body)} of {length} bytes"
            )
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError is a ValueError
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {e}") from None
        except RecursionError:  # "[[[[...": nested deeper than Python's parser recurses
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "the body is not a canvas: JSON nested too deeply"
            ) from None

    def _discard_body(self) -> None:
        """Before an error answer on a kept-alive connection, skip a body not read yet, so the
        next request on it starts where it should; a body too big to skip closes it."""
        if getattr(self, "_body_read", False) or self.close_connection:
            return
        text = self.headers.get("Content-Length", "0") if self.headers else "0"
        try:
            length = int(text)
        except ValueError:
            length = -1
        if 0 <= length <= MAX_BODY_BYTES:
            try:
                self.rfile.read(length)
                return
            except OSError:  # a timeout or a reset: the connection is lost either way
                pass
        self.close_connection = True

    # ------------------------------------------------------------ answers
    def _send_json(self, obj: Any, status: int = HTTPStatus.OK, allow: str | None = None) -> None:
        data = json.dumps(obj, allow_nan=False).encode()
        self._send_bytes(data, "application/json", status, allow)

    def _send_bytes(
        self, data: bytes, ctype: str, status: int = HTTPStatus.OK, allow: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if allow:
            self.send_header("Allow", allow)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request line, an unsupported method, an
        oversize header) as JSON too, like ours."""
        self.close_connection = True
        try:
            short = HTTPStatus(code).phrase
        except ValueError:
            short = ""
        text = message or short
        self.log_error("code %d, message %s", code, text)
        self.send_response(code, text)
        data = json.dumps({"error": text}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log only what went wrong: a line per drawn stroke would bury the URL."""
        if isinstance(code, HTTPStatus):
            code = code.value
        if str(code).isdigit() and int(code) >= 400:
            super().log_request(code, size)
