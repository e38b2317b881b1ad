"""Drawing digits in the terminal, reading your own digit images (digit_render.py), and the
`predict` command on a model trained here in a few seconds."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from conftest import HAS_MNIST, MNIST_DIR, NO_MNIST_REASON

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import cli
from tinygrad_mnist.digit_render import (
    ImageInputError,
    has_white_background,
    load_digit_image,
    load_grayscale,
    pixels_to_input,
    render_digit,
    to_mnist_pixels,
)
from tinygrad_mnist.inference import class_probabilities
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.optim import SGD
from tinygrad_mnist.plots import MissingPlotExtraError
from tinygrad_mnist.serialization import load_model, save_model
from tinygrad_mnist.utils.data import load_mnist, load_mnist_arrays

Image = pytest.importorskip("PIL.Image")

INSTALL = 'pip install "tinygrad-mnist[plot]"'


@pytest.fixture(autouse=True)
def numpy_backend():
    """The NumPy backend runs single-threaded here (the test command limits BLAS threads)."""
    with tg.backend("numpy"):
        yield


def vertical_bar(height: int = 28, width: int = 28, cols: slice = slice(10, 13)) -> np.ndarray:
    """uint8 [height, width]: black, with full-ink columns `cols`."""
    img = np.zeros((height, width), dtype=np.uint8)
    img[:, cols] = 255
    return img


# ---------------------------------------------------------------------------- rendering
def test_render_vertical_bar_shade() -> None:
    lines = render_digit(vertical_bar()).split("\n")
    assert len(lines) == 28 and all(len(line) == 28 for line in lines)
    assert all(line == " " * 10 + "███" + " " * 15 for line in lines)


def test_render_vertical_bar_ascii_and_half_blocks() -> None:
    ascii_lines = render_digit(vertical_bar(), style="ascii").split("\n")
    assert ascii_lines == [" " * 10 + "@@@" + " " * 15] * 28
    half = render_digit(vertical_bar(), style="half").split("\n")
    assert half == [" " * 10 + "███" + " " * 15] * 14  # two pixel rows per line


def test_render_shades_by_intensity() -> None:
    ramp = np.array([[0, 64, 128, 191, 255]], dtype=np.uint8)
    assert render_digit(ramp) == " ░▒▓█"
    assert render_digit(ramp, style="ascii") == " :+#@"  # levels 0, 2, 5, 7, 9 of " .:-=+*#%@"
    # Floats on the same 0..255 scale give the same picture.
    assert render_digit(ramp.astype(np.float32)) == " ░▒▓█"


def test_render_half_blocks_top_bottom_and_odd_height() -> None:
    img = np.array([[255, 0, 255, 0], [0, 255, 255, 0], [255, 255, 0, 0]], dtype=np.uint8)
    assert render_digit(img, style="half").split("\n") == ["▀▄█ ", "▀▀  "]


def test_render_frame() -> None:
    lines = render_digit(vertical_bar(), frame=True).split("\n")
    assert len(lines) == 30 and all(len(line) == 30 for line in lines)
    assert lines[0] == "┌" + "─" * 28 + "┐" and lines[-1] == "└" + "─" * 28 + "┘"
    assert lines[1] == "│" + " " * 10 + "███" + " " * 15 + "│"
    assert (
        render_digit(vertical_bar(), style="ascii", frame=True).split("\n")[0]
        == "+" + "-" * 28 + "+"
    )
    with pytest.raises(ValueError, match="style"):
        render_digit(vertical_bar(), style="color")


# ---------------------------------------------------------------------------- image -> input
def test_white_background_image_is_inverted() -> None:
    paper = 255 - vertical_bar(56, 56, slice(20, 26))  # dark bar on white paper
    assert has_white_background(paper)
    pixels = to_mnist_pixels(paper)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    # Inverted (bright ink on black), cropped to the 56 x 6 bar and fitted into 20x20: a bar
    # 20 tall and 2 wide, centred.
    rows, cols = np.nonzero(pixels > 128)
    assert (rows.min(), rows.max()) == (4, 23) and (cols.min(), cols.max()) == (13, 14)
    assert pixels[:4].max() == 0 and pixels[24:].max() == 0
    assert not has_white_background(vertical_bar())


def test_an_mnist_like_digit_is_left_as_it_is() -> None:
    """A digit already fitted and centred (the pad's input saved as a PNG) comes back the
    same: the pad's 28x28 input and `predict --image` of it agree."""
    digit = to_mnist_pixels(vertical_bar(80, 60, slice(25, 40)))
    np.testing.assert_array_equal(to_mnist_pixels(digit), digit)


def test_non_square_image_keeps_its_aspect() -> None:
    tall = np.full((112, 56), 255, dtype=np.uint8)  # a 2:1 ink rectangle...
    tall[:2] = tall[-2:] = tall[:, :2] = tall[:, -2:] = 0  # ...inside a thin black border
    pixels = to_mnist_pixels(tall)
    # The 108 x 52 rectangle is fitted into 20x20: 20 rows by 10 columns, centred.
    ink_cols = np.flatnonzero(pixels[14] > 128)
    ink_rows = np.flatnonzero(pixels[:, 14] > 128)
    assert (ink_cols.min(), ink_cols.max()) == (9, 18)
    assert (ink_rows.min(), ink_rows.max()) == (4, 23)


def test_photo_noise_does_not_widen_the_crop() -> None:
    """A photo's paper is never one gray: grain a little darker than the paper must not count
    as ink, or the crop would be the whole image and the digit would come out small."""
    rng = np.random.default_rng(0)
    photo = rng.integers(200, 215, size=(300, 300)).astype(np.uint8)  # gray paper, grainy
    photo[100:200, 140:150] = 30  # a dark "1", a third of the height
    pixels = to_mnist_pixels(photo)
    rows = np.flatnonzero(pixels.max(axis=1) > 128)
    assert rows.max() - rows.min() + 1 == 20, rows


def test_pixels_to_input_matches_training_normalisation(mnist_dir: Path) -> None:
    images, _ = load_mnist("test", mnist_dir)
    x, _ = load_mnist_arrays("test", mnist_dir)
    np.testing.assert_array_equal(pixels_to_input(images[3]), x[3])
    assert pixels_to_input(np.full((28, 28), 255, np.uint8)).tolist() == [1.0] * 784


def test_load_png_with_transparent_background(tmp_path: Path) -> None:
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)  # fully transparent...
    rgba[5:35, 18:22] = (0, 0, 0, 255)  # ...except an opaque black bar
    Image.fromarray(rgba, "RGBA").save(tmp_path / "drawn.png")
    gray = load_grayscale(tmp_path / "drawn.png")
    assert gray.shape == (40, 40) and gray[0, 0] == 255 and gray[20, 20] == 0
    pixels = load_digit_image(tmp_path / "drawn.png")
    assert pixels[0, 0] == 0 and pixels[14, 14] > 200  # inverted: a bright bar on black


def upright_seven(height: int = 60, width: int = 44) -> np.ndarray:
    """Dark ink on white: a "7" (top bar, stroke down to the bottom left); no rotation or
    mirror image of it is itself."""
    img = np.full((height, width), 255, dtype=np.uint8)
    img[6:12, 6:38] = 0
    for r in range(12, 54):
        c = 36 - (r - 12) * 24 // 42
        img[r, c - 3 : c + 3] = 0
    return img


# EXIF orientation -> how the camera stored the upright picture (PIL.Image.Transpose).
STORED_AS = {3: "ROTATE_180", 6: "ROTATE_90", 8: "ROTATE_270", 2: "FLIP_LEFT_RIGHT"}


def save_with_orientation(upright: np.ndarray, orientation: int, path: Path) -> None:
    stored = Image.fromarray(upright).transpose(getattr(Image.Transpose, STORED_AS[orientation]))
    exif = Image.Exif()
    exif[0x0112] = orientation  # the Orientation tag
    stored.save(path, exif=exif)


@pytest.mark.parametrize("orientation", [3, 6, 8, 2])
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, suffix: str) -> None:
    """A phone stores a portrait photo lying on its side, with an EXIF tag saying how to turn
    it: the image is read as it is shown, upright."""
    upright = upright_seven()
    path = tmp_path / f"seven{suffix}"
    save_with_orientation(upright, orientation, path)
    gray = load_grayscale(path)
    assert gray.shape == upright.shape
    if suffix == ".png":
        np.testing.assert_array_equal(gray, upright)
    else:  # JPEG is lossy: close, and far closer than any other orientation
        assert np.abs(gray.astype(int) - upright).mean() < 4


def bad_images(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, text the error must contain)."""
    Image.fromarray(vertical_bar(56, 56)).save(tmp_path / "good.png")
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.png").write_text("this is not a picture\n")
    (tmp_path / "empty.png").write_bytes(b"")
    Image.fromarray(np.zeros((20, 40), np.uint8)).save(tmp_path / "small.png")
    (tmp_path / "folder.png").mkdir()
    return {
        "missing": (tmp_path / "missing.png", "no such file"),
        "truncated": (tmp_path / "truncated.png", "truncated"),
        "text": (tmp_path / "text.png", "not an image"),
        "empty": (tmp_path / "empty.png", "not an image"),
        "small": (tmp_path / "small.png", "40 x 20 pixels; it must be at least 28 x 28"),
        "folder": (tmp_path / "folder.png", "not a file"),
    }


def test_bad_image_files_raise_image_input_error(tmp_path: Path) -> None:
    for path, expected in bad_images(tmp_path).values():
        with pytest.raises(ImageInputError, match=expected) as info:
            load_digit_image(path)
        assert str(path) in str(info.value)


def test_without_pillow_reading_an_image_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "PIL" or m.startswith("PIL.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(MissingPlotExtraError, match="Pillow") as info:
        load_grayscale(tmp_path / "x.png")
    assert INSTALL in str(info.value)


# ---------------------------------------------------------------------------- odd images
def bar_image(height: int, width: int) -> np.ndarray:
    """A dark bar on white paper."""
    img = np.full((height, width), 255, np.uint8)
    img[height // 4 : 3 * height // 4, width // 2 - max(1, width // 10) : width // 2 + 2] = 0
    return img


def test_a_long_strip_is_refused_without_padding_it(tmp_path):
    Image.fromarray(bar_image(28, 40_000)).save(tmp_path / "strip.png")
    with pytest.raises(ImageInputError, match=r"40000 x 28 pixels, more than 10 times"):
        load_digit_image(tmp_path / "strip.png")


def test_memory_for_a_wide_image_is_bounded_by_the_output():
    gray = bar_image(280, 2000)  # 560 KB; padding it to 2000 x 2000 first would take 4 MB
    tracemalloc.start()
    try:
        pixels = to_mnist_pixels(gray)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert pixels.shape == (28, 28) and peak < 2_000_000, peak
    # The 202 x 140 bar is cropped and fitted into 20x20: 20 x 14, rows 7 to 20, on black.
    assert pixels[:7].max() == 0 and pixels[21:].max() == 0


def test_a_16_bit_png_is_rescaled_not_clipped(tmp_path):
    img = np.full((40, 40), 65535, np.uint16)  # white paper
    img[5:35, 15:25] = 32768  # mid-gray ink: 50%, clipping would make it white (no ink)
    Image.fromarray(img).save(tmp_path / "deep.png")
    gray = load_grayscale(tmp_path / "deep.png")
    assert gray[0, 0] == 255 and abs(int(gray[20, 20]) - 128) <= 1


def test_a_float_tiff_is_rescaled_not_clipped(tmp_path):
    img = np.ones((40, 40), np.float32)
    img[5:35, 15:25] = 0.25
    Image.fromarray(img, mode="F").save(tmp_path / "float.tif")
    gray = load_grayscale(tmp_path / "float.tif")
    assert gray[0, 0] == 255 and abs(int(gray[20, 20]) - 64) <= 1


def test_a_blank_image_is_refused(tmp_path):
    Image.fromarray(np.full((40, 40), 200, np.uint8)).save(tmp_path / "blank.png")
    with pytest.raises(ImageInputError, match=r"blank\.png: image is blank"):
        load_digit_image(tmp_path / "blank.png")


def test_an_animated_gif_is_refused(tmp_path):
    blank = Image.fromarray(np.zeros((40, 40), np.uint8))
    digit = Image.fromarray(bar_image(40, 40))
    blank.save(tmp_path / "anim.gif", save_all=True, append_images=[digit])
    assert Image.open(tmp_path / "anim.gif").n_frames == 2
    with pytest.raises(ImageInputError, match=r"an animated image with 2 frames"):
        load_digit_image(tmp_path / "anim.gif")


# ---------------------------------------------------------------------------- predict command
@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLP trained for 300 steps on 3000 MNIST images: enough to read a clear 7."""
    if not HAS_MNIST:
        pytest.skip(NO_MNIST_REASON)
    x, y = load_mnist_arrays("train", MNIST_DIR)
    x, y = x[:3000], y[:3000]
    rng = np.random.default_rng(0)
    with tg.backend("numpy"):
        model = MLP([784, 64, 10], seed=0)
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
        for _ in range(300):
            idx = rng.integers(0, len(x), 64)
            loss = F.cross_entropy(model(tg.Tensor(x[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    path = tmp_path_factory.mktemp("model") / "tiny.npz"
    save_model(path, model)
    return path


def run_predict(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(["predict", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.slow
def test_predict_test_digit_zero_is_a_seven(
    trained_model: Path, mnist_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_predict(
        capsys, str(trained_model), "--index", "0", "--data-dir", str(mnist_dir)
    )
    assert status == 0 and err == ""
    lines = out.split("\n")
    assert lines[0] == "test digit 0:"
    assert len(lines[1]) == 30 and lines[1].startswith("┌")  # framed 28-column picture
    assert "█" in out
    assert "true label: 7" in out and "predicted:  7" in out

    # The top-3 lines are the model's own probabilities, largest first.
    images, _ = load_mnist("test", mnist_dir)
    model, _ = load_model(trained_model)
    probs = class_probabilities(model, pixels_to_input(images[0])[None])[0]
    top = np.argsort(-probs)[:3]
    assert top[0] == 7
    shown = lines[lines.index("top 3:") + 1 : lines.index("top 3:") + 4]
    for line, c in zip(shown, top):
        digit, percent = line.split()[:2]
        assert int(digit) == c and float(percent.rstrip("%")) == pytest.approx(
            100 * probs[c], abs=0.006
        )


@pytest.mark.slow
def test_predict_own_image_of_a_seven(
    trained_model: Path, mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Test digit 0 as a user would draw it: dark ink on white, larger, not square.
    images, _ = load_mnist("test", mnist_dir)
    Image.fromarray(255 - images[0]).resize((84, 100), Image.BICUBIC).save(tmp_path / "7.png")
    status, out, _ = run_predict(
        capsys, str(trained_model), "--image", str(tmp_path / "7.png"), "--ascii"
    )
    assert status == 0
    assert "predicted:  7" in out and "true label" not in out
    assert "█" not in out and "@" in out  # --ascii


@pytest.mark.slow
def test_predict_reads_rotated_photos_upright(
    trained_model: Path, mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Eleven test digits, stored as a phone does (turned, with an EXIF orientation tag): the
    model's answer for each is the one for the upright digit."""
    images, _ = load_mnist("test", mnist_dir)
    for i in range(11):
        upright = np.asarray(Image.fromarray(255 - images[i]).resize((112, 112), Image.BICUBIC))
        Image.fromarray(upright).save(tmp_path / "upright.png")
        save_with_orientation(upright, (6, 8, 3)[i % 3], tmp_path / "phone.jpg")
        answers = []
        for name in ("upright.png", "phone.jpg"):
            status, out, _ = run_predict(
                capsys, str(trained_model), "--image", str(tmp_path / name)
            )
            assert status == 0
            answers.append(out.split("predicted:")[1].split()[0])
        assert answers[0] == answers[1], (i, answers)


@pytest.mark.slow
def test_predict_bad_inputs_are_one_line_errors(
    trained_model: Path, mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(trained_model)
    for path, expected in bad_images(tmp_path).values():
        status, out, err = run_predict(capsys, model, "--image", str(path))
        assert status == 2 and out == ""
        assert err.startswith("error: ") and err.count("\n") == 1 and expected in err
    for index in ("10000", "-1"):
        status, _, err = run_predict(capsys, model, "--index", index, "--data-dir", str(mnist_dir))
        assert status == 2 and "out of range" in err and "0 to 9999" in err
    status, _, err = run_predict(capsys, str(tmp_path / "none.npz"), "--index", "0")
    assert status == 2 and err.startswith("error: ") and "no such file" in err
