"""The digit pad without a browser: the canvas preprocessing (compared with `predict`'s path on
the same pixels), the model's view of a digit, the server's answers to good and bad requests,
and the `serve` command's start-up errors and Ctrl-C. The browser test is
test_browser_digit_pad.py."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli
from serve_process import ServeProcess, request

import tinygrad_mnist as tg
from tinygrad_mnist import cli
from tinygrad_mnist.commands.predict import class_probabilities
from tinygrad_mnist.commands.serve import load_test_digits
from tinygrad_mnist.digit_pad import analyse_digit, canvas_to_mnist, hidden_activations
from tinygrad_mnist.digit_pad.preprocess import is_blank
from tinygrad_mnist.digit_pad.server import (
    MAX_BODY_BYTES,
    DigitPadHandler,
    DigitPadServer,
    RandomDigits,
    is_loopback,
)
from tinygrad_mnist.digit_render import load_digit_image, pixels_to_input
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.serialization import save_model
from tinygrad_mnist.utils.data import save_idx

Image = pytest.importorskip("PIL.Image")  # the pad shrinks drawings with Pillow (plot extra)


def canvas_with(*boxes: tuple[int, int, int, int], size: int = 280) -> np.ndarray:
    """A black canvas with white rectangles (top, bottom, left, right)."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    for top, bottom, left, right in boxes:
        canvas[top:bottom, left:right] = 255
    return canvas


def centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    mass = pixels.astype(np.float64)
    rows = (mass.sum(axis=1) * np.arange(mass.shape[0])).sum() / mass.sum()
    cols = (mass.sum(axis=0) * np.arange(mass.shape[1])).sum() / mass.sum()
    return float(rows), float(cols)


def encode(canvas: np.ndarray) -> bytes:
    h, w = canvas.shape
    pixels = base64.b64encode(np.ascontiguousarray(canvas).tobytes()).decode()
    return json.dumps({"width": w, "height": h, "pixels": pixels}).encode()


# ---------------------------------------------------------------- preprocessing
def test_canvas_is_fitted_into_20x20_and_centred_by_mass():
    seven = canvas_with((30, 60, 40, 240), (60, 250, 200, 230))  # a bar and a stem: a "7"
    pixels = canvas_to_mnist(seven)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    rows, cols = np.nonzero(pixels)
    # The longer side (here both: 220 x 200 -> 20 x 18) is 20 pixels, as in MNIST.
    assert rows.max() - rows.min() + 1 == 20
    assert cols.max() - cols.min() + 1 == 18
    # The centre of mass is within half a pixel of the image's centre (whole-pixel shifts).
    r, c = centre_of_mass(pixels)
    assert abs(r - 13.5) <= 0.5 and abs(c - 13.5) <= 0.5, (r, c)


def test_position_and_size_on_the_canvas_do_not_matter():
    """The same digit drawn small in a corner or big in the middle gives the same input."""
    small = canvas_with((10, 110, 10, 20), (10, 20, 10, 60))  # an "L"-ish shape, top left
    big = canvas_with((60, 260, 120, 140), (60, 80, 120, 220), size=300)  # twice the size
    a, b = canvas_to_mnist(small).astype(int), canvas_to_mnist(big).astype(int)
    np.testing.assert_array_equal(a > 0, b > 0)  # the same pixels have ink ...
    assert np.abs(a - b).max() <= 1  # ... as much, up to the filter's rounding


def test_dark_ink_on_white_is_inverted_and_blank_is_black():
    one = canvas_with((40, 240, 130, 150))
    np.testing.assert_array_equal(canvas_to_mnist(255 - one), canvas_to_mnist(one))
    assert is_blank(np.zeros((280, 280), np.uint8)) and is_blank(np.full((50, 50), 200, np.uint8))
    assert not is_blank(one)
    np.testing.assert_array_equal(canvas_to_mnist(np.zeros((280, 280), np.uint8)), 0)


def test_a_thin_stroke_turns_gray_instead_of_vanishing():
    pixels = canvas_to_mnist(canvas_with((20, 260, 139, 141)))  # 2 px wide, 240 tall
    assert pixels.max() > 0 and np.count_nonzero(pixels) >= 20


@pytest.fixture
def model() -> MLP:
    return MLP([784, 16, 12, 10], activation="relu", seed=0)


def test_probabilities_equal_predicts_on_the_same_pixels(model, tmp_path, backend_name):
    """The pad's numbers for a drawing = predict --image on the 28x28 PNG of its input."""
    pixels = canvas_to_mnist(canvas_with((30, 60, 40, 240), (60, 250, 200, 230)))
    view = analyse_digit(model, pixels)
    png = tmp_path / "drawn.png"
    Image.fromarray(pixels).save(png)
    from_png = load_digit_image(png)  # predict --image's path: read, 28x28 stays as it is
    np.testing.assert_array_equal(from_png, pixels)
    expected = class_probabilities(model, pixels_to_input(from_png)[None])[0]
    np.testing.assert_array_equal(np.array(view["probabilities"], dtype=np.float32), expected)
    assert view["prediction"] == int(np.argmax(expected))
    assert abs(sum(view["probabilities"]) - 1) < 1e-5
    assert view["pixels"] == pixels.tolist()
    assert view["input_range"] == [-1.0, 1.0]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("fuse", [True, False])
def test_hidden_activations_are_each_layers_output(activation, fuse):
    """Layer k's activations = act(W_k h + b_k), computed here by hand in float64."""
    model = MLP([784, 16, 12, 10], activation=activation, seed=1, fuse=fuse)
    x = pixels_to_input(canvas_to_mnist(canvas_with((40, 240, 130, 150))))[None]
    acts = {
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "leaky_relu": lambda z: np.maximum(0.1 * z, z),
    }
    h = x.astype(np.float64)
    got = hidden_activations(model, x)
    assert [g.shape for g in got] == [(1, 16), (1, 12)]
    for k, layer in enumerate((model[0], model[2])):
        h = acts[activation](h @ layer.weight.data.T.astype(np.float64) + layer.bias.data)
        np.testing.assert_allclose(got[k], h, rtol=1e-5, atol=1e-6)


def test_a_model_without_hidden_layers_has_no_strips():
    view = analyse_digit(MLP([784, 10], seed=0), canvas_to_mnist(canvas_with((40, 240, 130, 150))))
    assert view["hidden"] == [] and len(view["probabilities"]) == 10


def test_a_model_whose_outputs_overflow_gives_no_prediction(model):
    for p in model.parameters():
        p.data[...] = 1e30
    view = analyse_digit(model, canvas_to_mnist(canvas_with((40, 240, 130, 150))))
    assert view["prediction"] is None and view["finite"] is False
    json.dumps(view, allow_nan=False)  # NaN became null: still valid JSON


# ---------------------------------------------------------------- the server, in this process
def tiny_test_set(directory: Path, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    save_idx(directory / "t10k-images-idx3-ubyte.gz", images)
    save_idx(directory / "t10k-labels-idx1-ubyte.gz", labels)
    return images, labels


@pytest.fixture
def pad(model, tmp_path):
    """A digit pad server on a free loopback port, in a thread of this process."""
    images, labels = tiny_test_set(tmp_path)
    server = DigitPadServer(("127.0.0.1", 0), model, "m.npz", RandomDigits(images, labels))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.images, server.labels = images, labels
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def with_host(server: DigitPadServer, data: bytes) -> bytes:
    """`data` with its "Host: x" header naming the server (which refuses other names)."""
    return data.replace(b"Host: x\r\n", f"Host: 127.0.0.1:{server.server_address[1]}\r\n".encode())


def raw_request(server: DigitPadServer, data: bytes) -> tuple[int, dict]:
    """Send raw bytes ("Host: x" becomes the server's address); (status, JSON body) of the
    answer."""
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(with_host(server, data))
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def test_page_and_static_files(pad):
    with socket.create_connection(pad.server_address[:2], timeout=10):
        pass
    conn = http.client.HTTPConnection(*pad.server_address[:2], timeout=10)
    for path, ctype, needle in [
        ("/", "text/html", b'<canvas id="pad"'),
        ("/static/pad.js", "text/javascript", b"/api/predict"),
        ("/static/pad.css", "text/css", b"#pad"),
    ]:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200 and resp.headers.get_content_type() == ctype
        assert needle in body
    conn.close()
    status, info = request(pad.url + "api/model")
    assert status == 200
    assert info == {
        "model": "m.npz",
        "sizes": [784, 16, 12, 10],
        "activation": "relu",
        "test_digits": {"available": True, "count": 5, "reason": ""},
    }


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/..%2fserver.py",
        "/static/%2e%2e/server.py",
        "/static//etc/passwd",
        "/static/",
        "/../../../../etc/passwd",
        "/server.py",
        "/api/nope",
    ],
)
def test_no_file_outside_the_page_is_served(pad, path):
    status, body = raw_request(pad, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 404 and "no such" in body["error"], body


def test_predict_answers_a_drawing(pad):
    status, body = request(pad.url + "api/predict", encode(canvas_with((40, 240, 130, 150))))
    assert status == 200 and body["blank"] is False
    assert np.array(body["pixels"]).shape == (28, 28)
    assert [len(h["values"]) for h in body["hidden"]] == [16, 12]
    assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-5
    status, body = request(pad.url + "api/predict", encode(np.zeros((100, 120), np.uint8)))
    assert status == 200 and body["blank"] is True and np.all(np.array(body["pixels"]) == 0)


def b64(n: int) -> str:
    return base64.b64encode(bytes(n)).decode()


@pytest.mark.parametrize(
    "body, content_type, status, message",
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"\xff\xfe", "application/json", 400, "not valid JSON"),
        (b"[1, 2, 3]", "application/json", 400, "must be a JSON object"),
        (b'{"width": 28}', "application/json", 400, "missing 'height', 'pixels'"),
        (json.dumps({"width": 10, "height": 10, "pixels": b64(100)}).encode(), "application/json", 400, "'width' must be 28 to 1024"),
        (json.dumps({"width": 28, "height": 5000, "pixels": b64(100)}).encode(), "application/json", 400, "'height' must be 28 to 1024"),
        (json.dumps({"width": True, "height": 28, "pixels": b64(784)}).encode(), "application/json", 400, "'width' must be a whole number"),
        (json.dumps({"width": 28.5, "height": 28, "pixels": b64(784)}).encode(), "application/json", 400, "'width' must be a whole number"),
        (json.dumps({"width": 28, "height": 28, "pixels": b64(783)}).encode(), "application/json", 400, "holds 783 bytes; a 28x28 canvas needs 784"),
        (json.dumps({"width": 28, "height": 28, "pixels": [0] * 784}).encode(), "application/json", 400, "must be a base64 string"),
        (json.dumps({"width": 28, "height": 28, "pixels": "not base64!"}).encode(), "application/json", 400, "not valid base64"),
        (b"[" * 100_000, "application/json", 400, "nested too deeply"),
        (b'{"width": 28}', "text/plain", 415, "must be application/json, not text/plain"),
        (b'{"width": 28}', None, 415, "must be application/json"),
    ],
)  # fmt: skip
def test_bad_predict_bodies_get_a_clear_4xx_then_a_good_one_works(
    pad, body, content_type, status, message
):
    got, answer = request(pad.url + "api/predict", body, content_type=content_type)
    assert got == status and message in answer["error"], answer
    got, answer = request(pad.url + "api/predict", encode(canvas_with((40, 240, 130, 150))))
    assert got == 200 and len(answer["probabilities"]) == 10


def test_a_huge_body_is_refused_from_its_content_length_before_it_is_read(pad):
    # Announces 100 MB and sends 10 bytes: the answer comes at once, nothing waits for the rest.
    status, body = raw_request(
        pad,
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100000000\r\n\r\n{"width":',
    )
    assert status == 413 and f"at most {MAX_BODY_BYTES:,}" in body["error"]
    # Real bodies over the cap, sent whole, get the same answer: the server skips what the
    # client still sends before it closes, so the client sees the 413, not a reset.
    for size in (MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES):
        status, body = request(pad.url + "api/predict", b" " * size)
        assert status == 413 and f"the body is {size:,} bytes" in body["error"]
    assert request(pad.url + "api/model")[0] == 200


def test_a_body_that_never_arrives_times_out_without_blocking_others(pad, monkeypatch):
    monkeypatch.setattr(DigitPadHandler, "timeout", 0.5)
    with socket.create_connection(pad.server_address[:2], timeout=10) as slow:
        slow.sendall(
            with_host(
                pad,
                b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"wid',
            )
        )
        assert request(pad.url + "api/model")[0] == 200  # served while the slow one waits
        response = http.client.HTTPResponse(slow)
        response.begin()
        assert response.status == 408
        assert "did not arrive within" in json.loads(response.read())["error"]


@pytest.mark.parametrize(
    "data, status, message",
    [
        (b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n", 411, "Content-Length header is required"),
        (b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "bad Content-Length"),
        (b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n", 400, "bad Content-Length"),
        (b"POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411, "not chunked"),
        (b"GET / x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad request syntax"),
        (b"BREW /api/predict HTTP/1.1\r\nHost: x\r\n\r\n", 501, "Unsupported method"),
    ],
)  # fmt: skip
def test_malformed_requests_get_json_errors(pad, data, status, message):
    got, body = raw_request(pad, data)
    assert got == status and message in body["error"], body
    assert request(pad.url + "api/model")[0] == 200


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("GET", "/api/predict", "POST"),
        ("PUT", "/api/predict", "POST"),
        ("DELETE", "/api/predict", "POST"),
        ("POST", "/api/model", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),
        ("POST", "/static/pad.js", "GET, HEAD"),
    ],
)
def test_wrong_methods_get_405_with_allow(pad, method, path, allow):
    conn = http.client.HTTPConnection(*pad.server_address[:2], timeout=10)
    conn.request(method, path, body=b"{}" if method != "GET" else None)
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 405 and resp.headers["Allow"] == allow
    assert f"{method} {path}: use" in body["error"]


def test_keep_alive_connection_survives_an_error(pad):
    """The page reuses one connection: after a 400 (body read and skipped) the next request
    on the same connection is answered normally."""
    conn = http.client.HTTPConnection(*pad.server_address[:2], timeout=10)
    conn.request("POST", "/api/predict", body=b"{bad", headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 400 and "not valid JSON" in json.loads(resp.read())["error"]
    conn.request("PUT", "/api/predict", body=b"x" * 1000)  # a 405 whose body is skipped
    resp = conn.getresponse()
    assert resp.status == 405
    resp.read()
    good = encode(canvas_with((40, 240, 130, 150)))
    conn.request("POST", "/api/predict", body=good, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200 and len(json.loads(resp.read())["probabilities"]) == 10
    conn.close()


def test_a_bug_in_a_request_is_a_500_and_the_server_keeps_going(pad, monkeypatch, capsys):
    def broken(pixels):
        raise RuntimeError("boom")

    monkeypatch.setattr(pad, "analyse", broken)
    status, body = request(pad.url + "api/predict", encode(canvas_with((40, 240, 130, 150))))
    assert status == 500 and "RuntimeError: boom" in body["error"]
    monkeypatch.undo()
    status, body = request(pad.url + "api/predict", encode(canvas_with((40, 240, 130, 150))))
    assert status == 200


def test_a_picture_gets_the_same_input_and_answer_from_predict_and_the_pad(pad, tmp_path, capsys):
    """One picture, one preprocessing: `predict --image` of a photo-like image (dark ink on
    gray paper, off-centre, not square) and the pad given the same grayscale pixels produce
    the same 28x28 input and the same answer."""
    rng = np.random.default_rng(1)
    picture = rng.integers(190, 206, size=(240, 320)).astype(np.uint8)  # grainy paper
    picture[30:50, 200:290] = 20  # a "7": top bar ...
    for r in range(50, 200):  # ... and its stroke down to the left
        c = 285 - (r - 50) * 70 // 150
        picture[r, c - 8 : c + 8] = 20
    path = tmp_path / "seven.png"
    Image.fromarray(picture).save(path)

    status, answer = request(pad.url + "api/predict", encode(picture))
    assert status == 200 and answer["blank"] is False
    from_predict = load_digit_image(path)
    np.testing.assert_array_equal(from_predict, np.array(answer["pixels"], np.uint8))
    model_file = tmp_path / "m.npz"
    save_model(model_file, pad.model)
    assert cli.main(["predict", str(model_file), "--image", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"predicted:  {answer['prediction']}" in out, out


def test_test_digits(pad):
    status, body = request(pad.url + "api/test-digit?index=3")
    assert status == 200 and body["index"] == 3 and body["label"] == 3
    np.testing.assert_array_equal(np.array(body["pixels"], np.uint8), pad.images[3])
    expected = class_probabilities(pad.model, pixels_to_input(pad.images[3])[None])[0]
    np.testing.assert_array_equal(np.array(body["probabilities"], np.float32), expected)
    seen = {request(pad.url + "api/test-digit")[1]["index"] for _ in range(30)}
    assert seen <= set(range(5)) and len(seen) > 1  # random, and only real digits
    status, body = request(pad.url + "api/test-digit?index=5")
    assert status == 404 and "index 5 is out of range: 0 to 4" in body["error"]
    status, body = request(pad.url + "api/test-digit?index=two")
    assert status == 400 and "whole number" in body["error"]


def test_test_digits_unavailable_say_why(model, tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_MNIST_DATA", raising=False)
    digits = load_test_digits(str(tmp_path))
    assert not digits.available and "not found in" in digits.reason and "\n" not in digits.reason
    monkeypatch.setenv("TINYGRAD_MNIST_DATA", str(tmp_path / "nowhere"))
    assert "no such directory" in load_test_digits(None).reason
    monkeypatch.delenv("TINYGRAD_MNIST_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # an empty cache: no download
    reason = load_test_digits(None).reason
    assert "pass --data-dir DIR or set $TINYGRAD_MNIST_DATA" in reason
    server = DigitPadServer(("127.0.0.1", 0), model, "m.npz", digits)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        info = request(server.url + "api/model")[1]["test_digits"]
        assert info == {"available": False, "count": 0, "reason": digits.reason}
        status, body = request(server.url + "api/test-digit")
        assert status == 404 and digits.reason in body["error"]
    finally:
        server.shutdown()
        server.server_close()


def test_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.5.5.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    assert not is_loopback("example.org")


# ---------------------------------------------------------------- the command
@pytest.fixture
def model_file(tmp_path, model) -> Path:
    path = tmp_path / "m.npz"
    save_model(path, model)
    return path


def test_serve_starts_on_loopback_and_stops_cleanly_on_ctrl_c(model_file, tmp_path):
    server = ServeProcess(str(model_file), "--port", "0", "--data-dir", str(tmp_path))
    assert server.url.startswith("http://127.0.0.1:") and "Ctrl-C" in server.first_line
    status, info = request(server.url + "api/model")
    assert status == 200 and info["sizes"] == [784, 16, 12, 10]
    out, err = server.stop()
    assert server.returncode == 0, err
    assert "Traceback" not in out + err and "warning" not in err
    assert "stopped" in err


def test_serve_warns_when_listening_beyond_loopback(model_file, tmp_path):
    server = ServeProcess(str(model_file), "--port", "0", "--host", "0.0.0.0", "--data-dir", str(tmp_path))  # fmt: skip
    assert request(server.url + "api/model")[0] == 200
    out, err = server.stop()
    assert server.returncode == 0
    assert "warning: listening on 0.0.0.0, not only on this machine" in err


def test_serve_port_in_use_is_a_one_line_error(model_file):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", str(model_file), "--port", str(port))
    assert_clean_error(result, 2, rf"^error: port {port} on 127.0.0.1 is in use .*--port 0")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args, status, pattern",
    [
        (["--host", "no such host"], 2, r"^error: --host 'no such host': not an address or known host name"),
        (["--host", "192.0.2.1"], 2, r"^error: --host 192.0.2.1: this machine has no such address"),
        (["--port", "70000"], 2, r"--port: must be 0 to 65535, got 70000"),
        (["--port", "http"], 2, r"--port: expected a port number, got 'http'"),
    ],
)  # fmt: skip
def test_serve_bad_host_or_port(model_file, args, status, pattern):
    assert_clean_error(run_cli("serve", str(model_file), "--port", "0", *args), status, pattern)


def test_serve_refuses_bad_model_files_before_listening(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    assert_clean_error(run_cli("serve", str(bad)), 2, r"^error: .*bad.npz: not an .npz file")
    assert_clean_error(run_cli("serve", str(tmp_path / "missing.npz")), 2, r"^error: .*missing.npz")
    small = tmp_path / "small.npz"
    save_model(small, MLP([784, 8, 5]))
    assert_clean_error(run_cli("serve", str(small)), 2, r"maps 784 inputs to 5 outputs")


def test_serve_without_pillow_says_how_to_get_it(model_file, monkeypatch, capsys):
    from tinygrad_mnist.digit_pad import preprocess
    from tinygrad_mnist.plots import MissingPlotExtraError

    def no_pillow():
        raise MissingPlotExtraError("Pillow", "The digit pad")

    monkeypatch.setattr(preprocess, "require_pillow", no_pillow)
    assert cli.main(["serve", str(model_file), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: The digit pad needs Pillow") and err.count("\n") == 1


def test_serve_is_in_the_help():
    result = run_cli("--help")
    assert "serve" in result.stdout
    result = run_cli("serve", "--help")
    assert result.returncode == 0 and "--port" in result.stdout and "loopback" in result.stdout


def test_engine_backends_agree_on_the_pad(model):
    pixels = canvas_to_mnist(canvas_with((40, 240, 130, 150)))
    with tg.backend("numpy"):
        ref = analyse_digit(model, pixels)
    with tg.backend("c"):
        got = analyse_digit(model, pixels)
    np.testing.assert_allclose(got["probabilities"], ref["probabilities"], rtol=1e-5, atol=1e-7)
    for a, b in zip(got["hidden"], ref["hidden"]):
        np.testing.assert_allclose(a["values"], b["values"], rtol=1e-5, atol=1e-6)
