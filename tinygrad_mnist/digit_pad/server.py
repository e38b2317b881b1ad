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
or not the right shape, a wrong Content-Type, an unknown path, a wrong method, a Host header
that is not a name of this server. A request handler never lets an exception escape, so no
request can stop the server.

How a connection is served (`DigitPadHandler.handle_one_request`): an idle kept-alive
connection is closed quietly after IDLE_TIMEOUT; once a request's first byte arrives, the whole
request (line, headers and body) must arrive within REQUEST_TIMEOUT, else 408; a body the
handler does not use is read and dropped, or the connection is closed, so that it is never
taken for the next request; each answer goes out in one write, on a socket with TCP_NODELAY.
At most `max_connections` connections are served at once; more are answered 503.
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import json
import re
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

MIN_CANVAS, MAX_CANVAS = SIDE, 1024  # canvas side in pixels
# The largest canvas, MAX_CANVAS**2 bytes, is 4/3 as many characters in base64 (4 for every 3
# bytes, the last group padded); the JSON around them is a few dozen bytes more. Anything
# larger is not a drawing and is refused from its Content-Length, before a byte is read.
MAX_BODY_BYTES = 4 * -(-(MAX_CANVAS**2) // 3) + 4096
REQUEST_TIMEOUT = 10  # seconds from a request's first byte to its last, else 408
IDLE_TIMEOUT = 5  # seconds a kept-alive connection may wait for its next request
MAX_CONNECTIONS = 128  # connections served at once (a thread each); more are answered 503
LISTEN_BACKLOG = 128  # connections the kernel holds until they are accepted
CONTENT_LENGTH = re.compile(r"[0-9]+")  # RFC 9112: 1*DIGIT, no sign, no "_", no spaces
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

    def __init__(
        self, status: HTTPStatus, message: str, allow: str | None = None, close: bool = False
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.allow, self.close = status, message, allow, close


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach: 127.x.x.x, ::1 and 'localhost'."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: whatever it resolves to is reachable from outside
        return False


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header "name", "name:port", "[v6]" or "[v6]:port" as (lower-case name without
    brackets, port or None); None if it is none of those."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    else:
        name, colon, port = value.partition(":")
        port = port if colon else None
        if ":" in (port or ""):
            return None  # an IPv6 address needs brackets in a Host header
    if not name or (port is not None and not (CONTENT_LENGTH.fullmatch(port) and len(port) <= 5)):
        return None
    return name, None if port is None else int(port)


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
    """Serves one model's digit pad. The model is run by one request at a time (`lock`).

    Requests must name the server in their Host header (`is_own_host`): a loopback server
    answers only to 127.0.0.1, localhost and [::1] with its port, so that a web page whose
    own name was made to resolve to 127.0.0.1 (DNS rebinding) cannot use it from the
    browser. A server listening beyond loopback (--host) also answers to any IP address and
    to the name it was started with."""

    daemon_threads = True  # Ctrl-C does not wait for a request that is still running
    allow_reuse_address = True
    # A burst of clients that each open a connection per request overflows a short queue,
    # and each SYN the kernel drops costs its client a 1 s retransmission (or a reset).
    request_queue_size = LISTEN_BACKLOG
    max_connections = MAX_CONNECTIONS

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
        self.loopback_only = is_loopback(address[0])
        self.host_names = {"localhost", address[0].lower().strip("[]")}
        self._active, self._active_lock = 0, threading.Lock()
        super().__init__(address, DigitPadHandler)

    def is_own_host(self, value: str) -> bool:
        """True if a Host header names this server: one of its names, with its port."""
        parsed = split_host(value)
        if parsed is None:
            return False
        name, port = parsed
        if (80 if port is None else port) != self.server_address[1]:
            return False
        if name in self.host_names:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False  # a name nobody gave this server: possibly a rebinding page
        return address.is_loopback or not self.loopback_only

    # ------------------------------------------------------------ a thread per connection, capped
    def process_request(self, request: socket.socket, client_address: Any) -> None:
        with self._active_lock:
            busy = self._active >= self.max_connections
            if not busy:
                self._active += 1
        if busy:
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: give the slot back
            self._release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _release(self) -> None:
        with self._active_lock:
            self._active -= 1

    def _refuse_busy(self, request: socket.socket) -> None:
        """A 503 for a connection beyond max_connections, sent from the accepting thread
        (which must not wait long: it waits at most 0.2 s for the request, so that closing
        does not reset the connection before the client has read the answer)."""
        data = json.dumps({"error": "the server is busy: try again in a second"}).encode()
        answer = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        ).encode() + data
        try:
            request.settimeout(0.2)
            try:
                request.recv(65536)
            except TimeoutError:
                pass
            request.sendall(answer)
            request.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.shutdown_request(request)

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


class DeadlineReader(io.RawIOBase):
    """A socket's receiving side that gives up at `deadline` (time.monotonic()): a socket
    timeout counts from each read, so a client sending a byte every few seconds would never
    time out; this one counts to a fixed moment, whatever arrives meanwhile."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock, self.deadline = sock, time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the deadline passed")
        self.sock.settimeout(remaining)
        return self.sock.recv_into(buffer)


class DigitPadHandler(BaseHTTPRequestHandler):
    """One request. Routes are in GET_ROUTES / POST_ROUTES; everything else is a 404/405."""

    server: DigitPadServer
    server_version = "tinygrad-mnist-digit-pad"
    protocol_version = "HTTP/1.1"  # keep-alive: the page sends a request per stroke
    timeout = REQUEST_TIMEOUT  # for a whole request, from its first byte (DeadlineReader)
    idle_timeout = IDLE_TIMEOUT
    # An answer is one write (`_write_answer`); TCP_NODELAY as well, so that nothing a client
    # waits for sits in the kernel waiting for the ACK of what went before (Nagle).
    disable_nagle_algorithm = True

    GET_ROUTES = {"/": "page", "/index.html": "page", "/api/model": "model", "/api/test-digit": "test_digit"}  # fmt: skip
    POST_ROUTES = {"/api/predict": "predict"}

    # ------------------------------------------------------------ one connection
    def setup(self) -> None:
        super().setup()
        self._reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader, 65536)

    def handle_one_request(self) -> None:
        """Wait for the next request on this connection (closing it quietly if none comes
        within idle_timeout), then read and answer it within `timeout` (else 408)."""
        self._reader.deadline = time.monotonic() + self.idle_timeout
        try:
            if not self.rfile.peek(1):  # the client closed the connection
                self.close_connection = True
                return
        except OSError:  # idle for too long, or reset: nobody is waiting for an answer
            self.close_connection = True
            return
        self._reader.deadline = time.monotonic() + self.timeout
        self.command, self.request_version, self.requestline = "", "HTTP/1.1", ""
        self._body_read, self._body_length = False, 0
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline.endswith(b"\n"):  # the client closed mid-line
                self.close_connection = True
                return
            if not self.parse_request():  # it sent an error answer
                return
            method = getattr(self, f"do_{self.command}", None)
            if method is None:
                self.send_error(
                    HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})"
                )
                return
            method()
        except TimeoutError:  # the request line or headers took too long
            self.close_connection = True
            self.send_error(
                HTTPStatus.REQUEST_TIMEOUT,
                f"the request did not arrive within {self.timeout} s",
            )
        except ConnectionError:
            self.close_connection = True

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
        try:
            try:
                self._check_framing()
                self._check_host()
                url = urlsplit(self.path)
                route = self._route(method, url.path)
                if route != "predict":  # the only route that reads a body
                    self._discard_body()
                getattr(self, f"_{route}")(url.query)
            except RequestError as e:
                if e.close:
                    self.close_connection = True
                self._discard_body()
                self._send_json({"error": e.message}, e.status, allow=e.allow)
        except (ConnectionError, TimeoutError):  # the client went away: nobody to answer
            self.close_connection = True
        except Exception as e:  # a bug of ours: answer 500 and keep serving
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._send_json({"error": f"internal error: {type(e).__name__}: {e}"}, 500)

    def _check_framing(self) -> None:
        """Where this request's body ends (`_body_length`), or a 400 that closes the
        connection: without a trustworthy end, the next request cannot be found."""
        lengths = self.headers.get_all("Content-Length") or []
        if self.headers.get("Transfer-Encoding"):
            # Chunked bodies are not read here (the page never sends one): answer, then close,
            # so that the chunks are not taken for the next request.
            self.close_connection = True
            return
        texts = {text.strip(" \t") for text in lengths}
        if len(texts) > 1:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"Content-Length given {len(lengths)} times, differently",
                close=True,
            )  # fmt: skip
        if texts:
            text = texts.pop()
            if not CONTENT_LENGTH.fullmatch(text):
                raise RequestError(
                    HTTPStatus.BAD_REQUEST,
                    f"bad Content-Length {text!r}: it must be digits only",
                    close=True,
                )
            self._body_length = int(text) if len(text) <= 18 else 1 << 62

    def _check_host(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "a request needs exactly one Host header", close=True
            )
        if not self.server.is_own_host(hosts[0]):
            raise RequestError(
                HTTPStatus.MISDIRECTED_REQUEST,
                f"Host {hosts[0][:100]!r} is not a name of this server "
                "(a loopback server answers to 127.0.0.1, localhost and [::1] with its port)",
                close=True,
            )

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
            if not CONTENT_LENGTH.fullmatch(text):  # int() would take "+1", " 1", "1_0"
                raise RequestError(
                    HTTPStatus.BAD_REQUEST, f"index must be a whole number, got {text[:50]!r}"
                )
            index = int(text) if len(text) <= 18 else 1 << 62  # int() refuses 4301+ digits
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
    def _read_json(self) -> Any:
        if self.headers.get("Transfer-Encoding"):
            raise RequestError(
                HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length, not chunked"
            )
        if self.headers.get("Content-Length") is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
        length = self._body_length  # checked by _check_framing
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
        """Skip a body the handler does not use (a GET's, or one refused before it was read),
        so that the next request on the connection starts where it should; a body too big to
        skip closes the connection instead."""
        if self._body_read or self.close_connection or not self._body_length:
            return
        self._body_read = True
        if self._body_length <= MAX_BODY_BYTES:
            try:
                if len(self.rfile.read(self._body_length)) == self._body_length:
                    return
            except OSError:  # a timeout or a reset: the connection is lost either way
                pass
        else:
            self._linger = True  # let the client finish sending, so it reads the answer
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
        self._write_answer(data if self.command != "HEAD" else b"")

    def _write_answer(self, body: bytes) -> None:
        """The status line and headers buffered by send_response/send_header, and the body,
        in one write: two writes on a kept-alive connection meet Nagle's algorithm and the
        client's delayed ACK, and the body arrives ~40 ms late."""
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.connection.settimeout(self.timeout)  # the reader left its deadline's remainder
        self.wfile.write(head + body)

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
        self._write_answer(data if self.command != "HEAD" else b"")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log only what went wrong: a line per drawn stroke would bury the URL."""
        if isinstance(code, HTTPStatus):
            code = code.value
        if str(code).isdigit() and int(code) >= 400:
            super().log_request(code, size)
