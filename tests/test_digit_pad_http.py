"""The digit pad's server at the HTTP level: how answers go out on the wire, which Host
headers it answers, what it does with bodies it does not read, the Content-Length it accepts,
and how long a client may hold a connection (idle, or sending slowly). The server runs in a
thread of this process; the load test against `serve` is test_digit_pad_load.py."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time

import numpy as np
import pytest

from tinygrad_mnist.digit_pad.server import (
    MAX_BODY_BYTES,
    MAX_CANVAS,
    DigitPadHandler,
    DigitPadServer,
    RandomDigits,
)
from tinygrad_mnist.nn import MLP

pytest.importorskip("PIL.Image")  # the pad shrinks drawings with Pillow (plot extra)


def start_server(host: str = "127.0.0.1") -> tuple[DigitPadServer, threading.Thread]:
    model = MLP([784, 16, 12, 10], activation="relu", seed=0)
    server = DigitPadServer((host, 0), model, "m.npz", RandomDigits(None, None, "none here"))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def pad():
    server, thread = start_server()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Raw:
    """One TCP connection to the server, with a reader for several answers in a row (http.client
    cannot read pipelined answers, and hides what a server sends after an answer)."""

    def __init__(self, server: DigitPadServer, timeout: float = 10) -> None:
        self.port = server.server_address[1]
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        self.buf += chunk
        return bool(chunk)

    def response(self) -> tuple[int, dict[str, str], bytes] | None:
        """(status, headers with lower-case names, body) of the next answer; None if the
        server closed the connection instead."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                assert self.buf == b"", f"not an HTTP answer: {self.buf[:200]!r}"
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1."), f"not an HTTP answer: {head[:200]!r}"
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            assert self._fill(), "the answer ended early"
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def closed_by_server(self) -> bool:
        """True if the server closes the connection with nothing more to say."""
        return self.buf == b"" and not self._fill()

    def close(self) -> None:
        self.sock.close()


def get(path: str, host: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def canvas_body(side: int) -> bytes:
    canvas = np.zeros((side, side), dtype=np.uint8)
    canvas[side // 8 : -side // 8, side // 2 - side // 20 : side // 2 + side // 20] = 255
    pixels = base64.b64encode(canvas.tobytes()).decode()
    return json.dumps({"width": side, "height": side, "pixels": pixels}).encode()


def post(path: str, host: str, body: bytes, length: str | None = None) -> bytes:
    length = str(len(body)) if length is None else length
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode() + body


def host_of(server: DigitPadServer) -> str:
    return f"127.0.0.1:{server.server_address[1]}"


# ---------------------------------------------------------------- one write, no Nagle
def test_each_answer_goes_out_in_one_write_without_nagle(pad, monkeypatch):
    """Headers and body in two sends on a kept-alive connection meet Nagle's algorithm and the
    client's delayed ACK: the body waits ~40 ms for the ACK of the headers. So an answer is
    one write, and the socket has TCP_NODELAY."""
    writes, nodelay = [], []
    setup = DigitPadHandler.setup

    def counting_setup(self):
        setup(self)
        nodelay.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        real = self.wfile

        class Counting:
            def write(self, data):
                writes.append(len(data))
                return real.write(data)

            def __getattr__(self, name):
                return getattr(real, name)

        self.wfile = Counting()

    monkeypatch.setattr(DigitPadHandler, "setup", counting_setup)
    raw = Raw(pad)
    host = host_of(pad)
    for request in (get("/api/model", host), post("/api/predict", host, canvas_body(280))):
        raw.send(request)
        status, _, _ = raw.response()
        assert status == 200
    raw.send(get("/api/nope", host))
    assert raw.response()[0] == 404
    raw.close()
    assert writes and len(writes) == 3, writes  # one write per answer, headers and body
    assert nodelay and all(nodelay), nodelay


def test_listen_backlog_holds_a_burst_of_connections(model_for_backlog=None):
    """20 clients opening a connection per request: a backlog of 5 drops SYNs, and a dropped
    SYN costs the client a 1 s retransmission (or a reset). 100 connections opened while the
    server is busy must all complete their handshake."""
    model = MLP([784, 10], seed=0)
    server = DigitPadServer(("127.0.0.1", 0), model, "m.npz", RandomDigits(None, None, ""))
    try:  # not serving: nothing accepts, so the kernel's queue alone holds the connections
        socks, done = [], 0
        for _ in range(100):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(server.server_address[:2])
            socks.append(s)
        import selectors

        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_WRITE)
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and done < len(socks):
            for key, _ in sel.select(timeout=0.05):
                sel.unregister(key.fileobj)
                if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    done += 1
        for s in socks:
            s.close()
    finally:
        server.server_close()
    assert done == 100, f"only {done} of 100 connections were taken into the listen queue"


# ---------------------------------------------------------------- Host header
@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1.nip.io:{port}", "127.0.0.1:1", "localhost:{port}.evil.example"])  # fmt: skip
def test_a_foreign_host_header_is_refused(pad, host):
    """A DNS-rebinding page (evil.example resolving to 127.0.0.1) sends its own name as Host:
    the loopback-only pad must not answer it with the model's name and sizes."""
    raw = Raw(pad)
    raw.send(get("/api/model", host.format(port=pad.server_address[1])))
    status, headers, body = raw.response()
    raw.close()
    assert status == 421, (status, body)
    assert b"m.npz" not in body and b"784" not in body
    assert "not a name of this server" in json.loads(body)["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])  # fmt: skip
def test_loopback_host_headers_are_answered(pad, host):
    raw = Raw(pad)
    raw.send(get("/api/model", host.format(port=pad.server_address[1])))
    status, _, body = raw.response()
    raw.close()
    assert status == 200 and json.loads(body)["model"] == "m.npz"


def test_a_request_without_host_is_refused(pad):
    raw = Raw(pad)
    raw.send(b"GET /api/model HTTP/1.1\r\n\r\n")
    status, _, body = raw.response()
    raw.close()
    assert status == 400 and "Host" in json.loads(body)["error"]


def test_listening_beyond_loopback_accepts_addresses_but_not_foreign_names():
    """With --host 0.0.0.0 other machines reach the pad by this machine's address; a name
    nobody configured is still a rebinding page."""
    server, thread = start_server("0.0.0.0")
    port = server.server_address[1]
    try:
        for host, status in [
            (f"192.168.1.20:{port}", 200),
            (f"127.0.0.1:{port}", 200),
            (f"evil.example:{port}", 421),
        ]:
            raw = Raw(server)
            raw.send(get("/api/model", host))
            assert raw.response()[0] == status, host
            raw.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# ---------------------------------------------------------------- idle connections
@pytest.mark.slow
def test_an_idle_keep_alive_connection_is_closed_quietly(pad, monkeypatch, capsys):
    """A browser keeps its connection open after the last request; when the server drops it,
    nothing is printed in the terminal (it is not an error)."""
    monkeypatch.setattr(DigitPadHandler, "timeout", 0.3)
    monkeypatch.setattr(DigitPadHandler, "idle_timeout", 0.3, raising=False)
    fresh, used = Raw(pad), Raw(pad)
    used.send(get("/api/model", host_of(pad)))
    assert used.response()[0] == 200
    time.sleep(0.8)
    assert fresh.closed_by_server() and used.closed_by_server()
    fresh.close()
    used.close()
    err = capsys.readouterr().err
    assert "timed out" not in err and "Timeout" not in err, err


# ---------------------------------------------------------------- bodies the server does not read
def test_a_chunked_post_is_refused_and_its_body_is_not_read_as_a_request(pad):
    raw = Raw(pad)
    raw.send(
        f"POST /api/predict HTTP/1.1\r\nHost: {host_of(pad)}\r\nContent-Type: application/json"
        "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".encode()
    )
    status, headers, body = raw.response()
    assert status == 411 and "not chunked" in json.loads(body)["error"]
    assert headers.get("connection") == "close"
    assert raw.closed_by_server()  # and nothing after it: no answer to "5\r\nhello..."
    raw.close()


def test_pipelined_requests_are_each_answered_in_order(pad):
    host = host_of(pad)
    raw = Raw(pad)
    raw.send(
        get("/api/model", host)
        + post("/api/predict", host, canvas_body(56))
        + post("/api/nope", host, b"x" * 100)
        + post("/api/predict", host, b"{bad")
        + get("/static/pad.css", host)
    )
    answers = [raw.response() for _ in range(5)]
    assert [a[0] for a in answers] == [200, 200, 404, 400, 200], answers
    assert b"#pad" in answers[4][2]
    raw.close()


def test_a_get_with_a_body_skips_the_body(pad):
    host = host_of(pad)
    raw = Raw(pad)
    raw.send(f"GET / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello".encode())
    raw.send(get("/api/model", host))
    first, second = raw.response(), raw.response()
    assert first[0] == 200 and b"<canvas" in first[2]
    assert second[0] == 200 and json.loads(second[2])["model"] == "m.npz", second
    raw.close()


# ---------------------------------------------------------------- sizes and lengths
def test_the_largest_canvas_the_docs_allow_is_accepted(pad):
    raw = Raw(pad, timeout=60)
    body = canvas_body(MAX_CANVAS)
    assert len(body) <= MAX_BODY_BYTES
    raw.send(post("/api/predict", host_of(pad), body))
    status, _, answer = raw.response()
    raw.close()
    assert status == 200, answer[:300]
    assert json.loads(answer)["blank"] is False


@pytest.mark.parametrize("length", ["+2", "0_0", "٢", "0x2", "2, 2", "-0", "2_"])
def test_content_length_must_be_digits_only(pad, length):
    raw = Raw(pad)
    raw.send(post("/api/predict", host_of(pad), b"{}", length=length))
    status, headers, body = raw.response()
    assert status == 400 and "Content-Length" in json.loads(body)["error"], (status, body)
    assert headers.get("connection") == "close" and raw.closed_by_server()
    raw.close()


def test_two_different_content_lengths_are_refused(pad):
    raw = Raw(pad)
    raw.send(
        f"POST /api/predict HTTP/1.1\r\nHost: {host_of(pad)}\r\nContent-Type: application/json"
        "\r\nContent-Length: 2\r\nContent-Length: 20\r\n\r\n{}".encode()
    )
    status, _, body = raw.response()
    raw.close()
    assert status == 400 and "Content-Length" in json.loads(body)["error"]


@pytest.mark.parametrize("index", ["+1", "1_0", " 1", "١"])
def test_test_digit_index_must_be_digits_only(pad, index):
    from urllib.parse import quote

    pad.test_digits = RandomDigits(np.zeros((20, 28, 28), np.uint8), np.zeros(20, np.uint8))
    raw = Raw(pad)
    raw.send(get(f"/api/test-digit?index={quote(index)}", host_of(pad)))
    status, _, body = raw.response()
    raw.close()
    assert status == 400 and "whole number" in json.loads(body)["error"], body


# ---------------------------------------------------------------- slow clients
@pytest.mark.slow
def test_a_trickling_client_is_dropped_at_the_request_deadline(pad, monkeypatch):
    """A byte at a time, each well inside the per-read timeout: the whole request has a
    deadline, so the client gets a 408 and its thread is freed."""
    monkeypatch.setattr(DigitPadHandler, "timeout", 1.0)
    raw = Raw(pad)
    request = get("/api/model", host_of(pad))
    start = time.monotonic()
    answer = None
    raw.sock.settimeout(0.25)
    for byte in request[:-2]:  # never quite finishes the headers
        try:
            raw.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            break
        try:
            if raw._fill():
                break
        except TimeoutError:
            pass
        if time.monotonic() - start > 4:
            break
    raw.sock.settimeout(5)
    answer = raw.response()
    raw.close()
    assert answer is not None and answer[0] == 408, answer
    assert time.monotonic() - start < 3


@pytest.mark.slow
def test_connections_beyond_the_cap_get_503(pad, monkeypatch):
    monkeypatch.setattr(pad, "max_connections", 3, raising=False)
    idle = [Raw(pad) for _ in range(3)]
    time.sleep(0.2)
    extra = Raw(pad)
    extra.sock.settimeout(3)
    extra.send(get("/api/model", host_of(pad)))
    status, headers, body = extra.response()
    assert status == 503 and "busy" in json.loads(body)["error"]
    extra.close()
    for raw in idle:
        raw.close()
    time.sleep(0.3)  # the idle ones are gone: there is room again
    again = Raw(pad)
    again.send(get("/api/model", host_of(pad)))
    assert again.response()[0] == 200
    again.close()
