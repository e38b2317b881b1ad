"""A bounded load run against `tinygrad-mnist serve` on loopback: 20 clients at once, half on
kept-alive connections, half opening a connection per request, plus a few clients that send
their request a byte at a time. No request may be lost or stall for a second, the trickling
clients are dropped at the request deadline, and afterwards the server is back to the threads
it started with. This is a test, not a benchmark: it asserts what must never happen, and
prints what it saw (docs/digit_pad.md quotes a run)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from serve_process import ServeProcess

from tinygrad_mnist.nn import MLP
from tinygrad_mnist.serialization import save_model

pytest.importorskip("PIL.Image")  # serve needs Pillow (the plot extra)

KEEP_ALIVE_CLIENTS = 10
NEW_CONNECTION_CLIENTS = 10
TRICKLING_CLIENTS = 3
REQUESTS_PER_CLIENT = 45  # 20 x 45 = 900 requests
STALL = 1.0  # seconds: a dropped SYN costs 1 s, so any request this slow is a defect
TRICKLE_INTERVAL = 0.5  # seconds between a trickling client's bytes
REQUEST_TIMEOUT = 10  # the server's deadline for a whole request (digit_pad/server.py)


def server_threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


def canvas_body() -> bytes:
    canvas = np.zeros((280, 280), dtype=np.uint8)  # the page's canvas, with a "1" on it
    canvas[40:240, 130:150] = 255
    pixels = base64.b64encode(canvas.tobytes()).decode()
    return json.dumps({"width": 280, "height": 280, "pixels": pixels}).encode()


def one_request(conn: http.client.HTTPConnection, i: int, body: bytes) -> int:
    if i % 2:
        conn.request("POST", "/api/predict", body, {"Content-Type": "application/json"})
    else:
        conn.request("GET", "/api/model")
    response = conn.getresponse()
    data = response.read()
    if response.status == 200:
        json.loads(data)
    return response.status


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc for threads")
def test_serve_under_load_loses_nothing_and_gives_back_its_threads(tmp_path):
    model = tmp_path / "m.npz"
    save_model(model, MLP([784, 64, 32, 10], seed=0))
    server = ServeProcess(str(model), "--port", "0", "--data-dir", str(tmp_path))
    host, port = server.url.split("//")[1].rstrip("/").split(":")
    port = int(port)
    body = canvas_body()
    latencies: list[float] = []
    failures: list[str] = []
    trickle_answers: list[bytes] = []
    lock = threading.Lock()

    def record(start: float, status: int | None, error: str = "") -> None:
        with lock:
            latencies.append(time.perf_counter() - start)
            if status != 200:
                failures.append(f"status {status} {error}")

    def keep_alive_client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        for i in range(REQUESTS_PER_CLIENT):
            start = time.perf_counter()
            try:
                record(start, one_request(conn, i, body))
            except (OSError, http.client.HTTPException) as e:
                record(start, None, repr(e))
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.close()

    def new_connection_client() -> None:
        for i in range(REQUESTS_PER_CLIENT):
            start = time.perf_counter()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            try:
                record(start, one_request(conn, i, body))
            except (OSError, http.client.HTTPException) as e:
                record(start, None, repr(e))
            finally:
                conn.close()

    def trickling_client() -> None:
        request = f"GET /api/model HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
        answer = b""
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.settimeout(TRICKLE_INTERVAL)  # a byte, then wait this long for an answer
            try:
                for byte in request[:-2]:  # never finishes its headers
                    sock.sendall(bytes([byte]))
                    try:
                        answer = sock.recv(4096)
                    except TimeoutError:
                        continue
                    break
                sock.settimeout(30)
                while chunk := sock.recv(4096):
                    answer += chunk
            except OSError:
                pass
        with lock:
            trickle_answers.append(answer)

    try:
        assert one_request(http.client.HTTPConnection(host, port, timeout=30), 0, body) == 200
        time.sleep(0.5)  # that connection's thread has ended
        threads_before = server_threads(server.proc.pid)
        clients = [threading.Thread(target=trickling_client) for _ in range(TRICKLING_CLIENTS)]
        clients += [threading.Thread(target=keep_alive_client) for _ in range(KEEP_ALIVE_CLIENTS)]
        clients += [
            threading.Thread(target=new_connection_client) for _ in range(NEW_CONNECTION_CLIENTS)
        ]
        start = time.perf_counter()
        for t in clients:
            t.start()
        for t in clients[TRICKLING_CLIENTS:]:
            t.join(timeout=120)
        elapsed = time.perf_counter() - start
        for t in clients[:TRICKLING_CLIENTS]:
            t.join(timeout=2 * REQUEST_TIMEOUT)
        assert not any(t.is_alive() for t in clients), "a client is still waiting"
        deadline = time.monotonic() + 10
        while server_threads(server.proc.pid) != threads_before and time.monotonic() < deadline:
            time.sleep(0.1)
        threads_after = server_threads(server.proc.pid)
    finally:
        out, err = server.stop()

    total = (KEEP_ALIVE_CLIENTS + NEW_CONNECTION_CLIENTS) * REQUESTS_PER_CLIENT
    p50, p95 = np.percentile(latencies, [50, 95]) * 1000
    print(
        f"\n{total} requests in {elapsed:.2f} s: {total / elapsed:.0f} requests/s, "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    assert failures == [], failures[:10]
    assert len(latencies) == total
    assert max(latencies) < STALL, f"a request took {max(latencies):.2f} s"
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in trickle_answers), trickle_answers
    assert threads_after == threads_before, (threads_before, threads_after)
    assert server.returncode == 0 and "Traceback" not in err, err
