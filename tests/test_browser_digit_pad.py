"""The digit pad (`tinygrad-mnist serve`) in a real browser: draw a "1" with the mouse and
check that the page shows what `tinygrad-mnist predict` says about the same pixels.

A small model is trained on real MNIST first (2 epochs of a 784-64-32-10 MLP: a few seconds).
The screenshot is written to the test's tmp folder; with TINYGRAD_MNIST_UPDATE_SCREENSHOTS=1
it is written to docs/img/digit_pad.png instead, for the docs.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST_DIR, REPO, run_cli
from serve_process import ServeProcess, request

from tinygrad_mnist.utils.data import load_mnist

Image = pytest.importorskip("PIL.Image")  # serve needs Pillow (the plot extra)

SCREENSHOT = REPO / "docs" / "img" / "digit_pad.png"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST files are not at {MNIST_DIR}")
    path = tmp_path_factory.mktemp("pad") / "pad_model.npz"
    result = run_cli(
        "train", "--hidden", "64,32", "--epochs", "2", "--test-limit", "1000",
        "--data-dir", str(MNIST_DIR), "--output", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def served(model_file: Path):
    """The digit pad for the trained model, with MNIST's test digits; stopped with Ctrl-C,
    which must end it cleanly (exit 0, no traceback)."""
    server = ServeProcess(str(model_file), "--port", "0", "--data-dir", str(MNIST_DIR))
    yield server
    out, err = server.stop()
    assert server.returncode == 0, err
    assert "Traceback" not in out + err, err


def wait_until_idle(page) -> None:
    """Until the page has no request in flight or waiting (the status line says so)."""
    page.wait_for_function(
        "document.getElementById('status').dataset.busy === '0'"
        " && document.getElementById('status').textContent === 'up to date'",
        timeout=20_000,
    )


def shown_percentages(page) -> list[float]:
    texts = page.locator(".prob-row .pct").all_inner_texts()
    assert len(texts) == 10, texts
    return [float(re.fullmatch(r"(\d+\.\d\d)%", t).group(1)) for t in texts]


def draw_one(page) -> None:
    """A slightly slanted vertical stroke in the middle of the pad, as a hand draws a 1."""
    box = page.locator("#pad").bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"]
    page.mouse.move(x + 12, top + 40)
    page.mouse.down()
    steps = 25
    for i in range(1, steps + 1):
        t = i / steps
        page.mouse.move(x + 12 - 20 * t, top + 40 + 200 * t)
    page.mouse.up()


def test_drawn_one_matches_predict(page, served: ServeProcess, model_file: Path, tmp_path):
    requests, answers = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on(
        "response",
        lambda r: answers.append(r) if r.url.endswith("/api/predict") else None,
    )
    page.goto(served.url)
    wait_until_idle(page)  # the empty pad's answer
    n_before = len(answers)
    draw_one(page)
    wait_until_idle(page)
    assert len(answers) > n_before
    last = answers[-1].json()
    assert last["blank"] is False

    # Ten probabilities, summing to 1 as shown (each rounded to 0.01%: 10 x 0.005% at most),
    # and each the server's number, rounded.
    shown = shown_percentages(page)
    assert abs(sum(shown) / 100 - 1) <= 1e-3, shown
    np.testing.assert_allclose(
        shown, np.round(100 * np.array(last["probabilities"]), 2), atol=0.0051
    )
    top_row = page.locator(".prob-row.top")
    assert top_row.count() == 1
    page_top = int(top_row.get_attribute("data-digit"))
    assert page.locator("#prediction").inner_text() == str(page_top)
    assert page_top == int(np.argmax(shown))

    # The 28x28 input the page shows is the server's preprocessed digit ...
    pixels = np.array(last["pixels"], dtype=np.uint8)
    assert pixels.shape == (28, 28)
    shown_input = page.evaluate(
        "Array.from(document.getElementById('input').getContext('2d')"
        ".getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))"
    )
    np.testing.assert_array_equal(np.array(shown_input, dtype=np.uint8).reshape(28, 28), pixels)
    # ... centred like MNIST: the stroke fits in 20x20 and its centre of mass is mid-image.
    rows, cols = np.nonzero(pixels)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 <= 20
    mass = pixels.astype(float)
    centre = [(mass.sum(axis=1 - a) * np.arange(28)).sum() / mass.sum() for a in (0, 1)]
    np.testing.assert_allclose(centre, [13.5, 13.5], atol=1.0)

    # `predict` on the same pixels (as a PNG) gives the page's top class, and it is a 1.
    png = tmp_path / "drawn.png"
    Image.fromarray(pixels).save(png)
    result = run_cli("predict", str(model_file), "--image", str(png))
    assert result.returncode == 0, result.stderr
    predicted = int(re.search(r"predicted:\s+(\d)", result.stdout).group(1))
    assert predicted == page_top == 1, result.stdout

    # Each hidden layer is a strip of cells, one per unit.
    layers = page.locator("#hidden .layer")
    assert [layers.nth(i).get_attribute("data-size") for i in range(layers.count())] == ["64", "32"]
    assert len(last["hidden"][0]["values"]) == 64 and len(last["hidden"][1]["values"]) == 32

    # Nothing but the local server was asked for anything, and the page logged no errors.
    assert requests and all(u.startswith(served.url) for u in requests), requests
    assert page.console_errors == []

    shot = tmp_path / "digit_pad.png"
    # The page's content only, without the empty viewport below it.
    height = int(page.evaluate("document.body.getBoundingClientRect().bottom")) + 16
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1120, "height": height})
    assert Image.open(shot).size == (1120, height)
    if os.environ.get("TINYGRAD_MNIST_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, SCREENSHOT)


def test_a_one_drawn_with_a_finger(chromium, served: ServeProcess):
    """Touch goes through the same pointer events: a touch screen's stroke (sent as real touch
    events through the DevTools protocol) is read as a 1 too."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, has_touch=True)
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(served.url)
        wait_until_idle(page)
        box = page.locator("#pad").bounding_box()
        x, top = box["x"] + box["width"] / 2, box["y"]
        cdp = context.new_cdp_session(page)
        points = [(x + 10 - 20 * t / 20, top + 40 + 200 * t / 20) for t in range(21)]
        for i, (px, py) in enumerate(points):
            kind = "touchStart" if i == 0 else "touchMove"
            cdp.send(
                "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": px, "y": py}]}
            )
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        wait_until_idle(page)
        assert page.locator("#prediction").inner_text() == "1"
        assert abs(sum(shown_percentages(page)) / 100 - 1) <= 1e-3
        assert errors == []
    finally:
        context.close()


def test_random_test_digit_shows_its_label(page, served: ServeProcess):
    images, labels = load_mnist("test", MNIST_DIR)
    page.goto(served.url)
    wait_until_idle(page)
    button = page.locator("#random")
    assert button.is_enabled()
    with page.expect_response(lambda r: "/api/test-digit" in r.url) as info:
        button.click()
    answer = info.value.json()
    i = answer["index"]
    assert answer["label"] == labels[i]
    np.testing.assert_array_equal(np.array(answer["pixels"], dtype=np.uint8), images[i])
    page.wait_for_function("document.getElementById('label').textContent.includes('true label')")
    assert page.locator("#label").inner_text() == f"MNIST test digit #{i}, true label: {labels[i]}"
    shown = shown_percentages(page)
    assert abs(sum(shown) / 100 - 1) <= 1e-3
    np.testing.assert_allclose(
        shown, np.round(100 * np.array(answer["probabilities"]), 2), atol=0.0051
    )
    assert page.console_errors == []


def test_random_digit_button_says_why_it_is_off(page, model_file: Path, tmp_path):
    server = ServeProcess(str(model_file), "--port", "0", "--data-dir", str(tmp_path))
    try:
        page.goto(server.url)
        wait_until_idle(page)
        assert page.locator("#random").is_disabled()
        note = page.locator("#random-note").inner_text()
        assert "Random test digit is off" in note and str(tmp_path) in note, note
        status, body = request(server.url + "api/test-digit")
        assert status == 404 and "no test digits" in body["error"]
        assert page.console_errors == []
    finally:
        out, err = server.stop()
    assert server.returncode == 0 and "Traceback" not in err, err
    assert "random test digit button is off" in err
    # With the server gone, drawing says so on the page instead of failing silently.
    assert page.locator("#error").is_hidden()
    draw_one(page)
    page.locator("#error").wait_for(state="visible", timeout=10_000)
    assert "Cannot reach the digit pad's server" in page.locator("#error").inner_text()
    page.wait_for_function("document.getElementById('status').textContent === 'not up to date'")


def test_bad_request_then_good_request(served: ServeProcess):
    """No browser needed: the server answers a malformed request with a 4xx and keeps going."""
    status, body = request(served.url + "api/predict", b"{not json")
    assert status == 400 and "not valid JSON" in body["error"]
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[40:240, 130:150] = 255  # a vertical bar: a "1"
    good = json.dumps(
        {"width": 280, "height": 280, "pixels": base64.b64encode(canvas.tobytes()).decode()}
    ).encode()
    status, body = request(served.url + "api/predict", good)
    assert status == 200 and len(body["probabilities"]) == 10
    assert abs(sum(body["probabilities"]) - 1) < 1e-5


@pytest.mark.parametrize("width, height", [(390, 844), (1366, 768)])
def test_the_answer_is_in_view_on_a_phone_and_a_laptop(
    chromium, served: ServeProcess, tmp_path, width, height
):
    """On a 390x844 phone and a 1366x768 laptop, after drawing a 1 the answer is on screen
    without scrolling, and nothing is wider than the screen."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(served.url)
        wait_until_idle(page)
        draw_one(page)
        wait_until_idle(page)
        assert page.evaluate("window.scrollY") == 0
        answer = page.locator("#answer").bounding_box()
        assert answer["y"] + answer["height"] <= height, answer
        top_row = page.locator(".prob-row.top").bounding_box()
        assert top_row["y"] + top_row["height"] <= height, top_row
        assert page.locator("#prediction").inner_text() == "1"
        overflow = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert overflow[0] <= overflow[1], overflow
        for sel in ("#pad", "#input", "#hidden canvas", ".prob-row"):
            for box in (page.locator(sel).nth(i).bounding_box() for i in range(page.locator(sel).count())):  # fmt: skip
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (sel, box)
        page.screenshot(
            path=str(tmp_path / f"pad_{width}x{height}.png"), full_page=True
        )  # to look at
    finally:
        context.close()
