"""Commands and training under bad conditions: thread counts, output paths checked before the first
step, saves that fail, oversized models, non-MNIST models, bad checkpoints, odd images,
zero-size batched matmul and an early Ctrl-C. Tiny IDX files keep every run fast."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_clean_error, run_cli

from tinygrad_mnist import Tensor, backend, commands, training
from tinygrad_mnist.atomic_file import FileWriteError
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.serialization import META_KEY, ModelFileError, load_model, save_model
from tinygrad_mnist.training import (
    ConfigError,
    SaveFailedError,
    TrainConfig,
    TrainingInterrupted,
    train,
)
from tinygrad_mnist.utils.data.idx import save_idx

try:  # Pillow comes with the plot extra; only the image tests below need it
    from PIL import Image
except ImportError:
    Image = None
needs_pillow = pytest.mark.skipif(
    Image is None, reason='needs Pillow (the plot extra): pip install ".[test,plot]"'
)

from tinygrad_mnist.digit_render import (  # noqa: E402
    ImageInputError,
    load_digit_image,
    load_grayscale,
    to_mnist_pixels,
)


def write_mnist(folder: Path, n_train: int = 60, n_test: int = 20) -> Path:
    """Tiny random MNIST-shaped IDX files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), np.uint8)
        save_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        save_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, np.uint8))
    return folder


def quick_train(data: Path, out: Path | str, *extra: str) -> list[str]:
    return [
        "train", "--data-dir", str(data), "--hidden", "8", "--epochs", "1", "--batch-size",
        "20", "--no-progress", "--backend", "numpy", "--output", str(out), *extra,
    ]  # fmt: skip


@pytest.fixture
def tiny_data(tmp_path) -> Path:
    return write_mnist(tmp_path / "mnist")


@pytest.fixture
def fake_mnist(monkeypatch):
    """`train` sees 60 random training and 20 test images; counts how often data is read."""
    rng = np.random.default_rng(0)
    data = {
        "train": (rng.uniform(-1, 1, (60, 784)).astype(np.float32), rng.integers(0, 10, 60)),
        "test": (rng.uniform(-1, 1, (20, 784)).astype(np.float32), rng.integers(0, 10, 20)),
    }
    reads = []

    def load(split, data_dir=None):
        reads.append(split)
        return data[split]

    monkeypatch.setattr(training.run, "load_mnist_arrays", load)
    return reads


def config(tmp_path, **changes) -> TrainConfig:
    options = dict(
        hidden=(8,), epochs=1, batch_size=20, seed=0, progress=False, backend="numpy",
        output=str(tmp_path / "m.npz"),
    )  # fmt: skip
    return TrainConfig(**{**options, **changes})


# ---------------------------------------------------------------------------- threads
def c_train(data: Path, out: Path) -> list[str]:
    """A run on the C backend whose first layer's GEMM (60 x 784 x 64) is big enough for the
    kernels to use their threads (a later option overrides an earlier one)."""
    pytest.importorskip("tinygrad_mnist._kernels")
    return quick_train(data, out, "--hidden", "64", "--batch-size", "60", "--backend", "c")


def test_absurd_thread_count_is_capped_with_a_note(tiny_data, tmp_path):
    result = run_cli(*c_train(tiny_data, tmp_path / "m.npz"), "--threads", "1000000")
    assert_clean_error(result, 0, r"note: --threads 1000000 is more than the \d+ CPUs here; using")
    assert (tmp_path / "m.npz").exists()


def test_absurd_thread_environment_variable_is_capped_or_refused(tiny_data, tmp_path):
    result = run_cli(
        *c_train(tiny_data, tmp_path / "m.npz"), env_extra={"TINYGRAD_NUM_THREADS": "1000000"}
    )
    assert_clean_error(result, 0, r"note: TINYGRAD_NUM_THREADS=1000000 is more than the \d+ CPUs")
    result = run_cli(
        *quick_train(tiny_data, tmp_path / "m.npz"), env_extra={"TINYGRAD_NUM_THREADS": "lots"}
    )
    assert_clean_error(result, 2, r"error: TINYGRAD_NUM_THREADS='lots' is not a whole number")


def test_c_kernels_cap_the_thread_count_themselves():
    lib = pytest.importorskip("tinygrad_mnist._kernels").lib
    try:
        assert lib.tg_set_num_threads(1_000_000) in (1, 256)  # 1 without OpenMP
        assert lib.tg_get_num_threads() in (1, 256)
    finally:
        assert lib.tg_set_num_threads(1) == 1
    code = (
        "from tinygrad_mnist._kernels import lib\n"
        "lib.tg_set_num_threads(1)\n"  # before the first get: must not be overwritten by the env
        "print(lib.tg_get_num_threads())\n"
    )
    for value, want in (("99999999999", "1"), ("3", "1")):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "TINYGRAD_NUM_THREADS": value},
            timeout=60,
            cwd=tempfile.gettempdir(),  # the installed package, not the checkout
        )
        assert out.stdout.strip() == want, out.stderr
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tinygrad_mnist._kernels import lib; print(lib.tg_get_num_threads())",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TINYGRAD_NUM_THREADS": "99999999999"},
        timeout=60,
        cwd=tempfile.gettempdir(),
    )
    assert out.stdout.strip() in ("1", "256"), out.stderr  # not a wrapped int


def test_thread_creation_failure_lowers_the_count(monkeypatch):
    monkeypatch.setattr(commands, "cpu_count", lambda: 8)
    real_start = threading.Thread.start
    started = []

    def start(self):
        if len(started) >= 2:
            raise RuntimeError("can't start new thread")
        started.append(self)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    n, note = commands.usable_threads(6, "--threads ")
    assert n == 3 and "only 3 threads could be started" in note
    assert commands.usable_threads(1, "--threads ") == (1, None)


# ---------------------------------------------------------------------------- outputs
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"output": "{d}/model.json"}, r"--metrics \(default\) .*model\.json is the same file"),
        ({"metrics": "{d}/m.npz"}, r"--metrics .*m\.npz is the same file as --output"),
        ({"checkpoint": "{d}/m.json"}, r"--checkpoint .*m\.json is the same file as --metrics"),
        ({"output": ""}, r"--output is empty"),
        ({"metrics": " "}, r"--metrics is empty"),
        ({"output": "{d}"}, r"--output .* is a directory; give a file name"),
        ({"output": "{d}/nowhere/m.npz"}, r"directory .*nowhere does not exist"),
    ],
)
def test_bad_output_paths_are_refused_before_any_data_is_read(
    tmp_path, fake_mnist, changes, message
):
    changes = {k: v.format(d=tmp_path) for k, v in changes.items()}
    with pytest.raises(ConfigError, match=message):
        train(config(tmp_path, **changes))
    assert fake_mnist == []  # nothing was loaded, nothing trained


def test_unwritable_output_folder_is_refused_before_any_data_is_read(
    tmp_path, fake_mnist, monkeypatch
):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    # A refused probe file, as a read-only folder would give (root ignores chmod).
    monkeypatch.setattr(training.outputs.tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(ConfigError, match=r"--output: cannot write .*m\.npz: Permission denied"):
        train(config(tmp_path))
    assert fake_mnist == []


def test_collision_on_the_command_line_exits_2_before_training(tiny_data, tmp_path):
    result = run_cli(*quick_train(tiny_data, tmp_path / "model.json"))
    assert_clean_error(result, 2, r"error: --metrics \(default\) .*model\.json is the same file")
    result = run_cli(
        *quick_train(tiny_data, tmp_path / "m.npz", "--metrics", str(tmp_path / "m.npz"))
    )
    assert_clean_error(result, 2, "is the same file as --output")
    result = run_cli(*quick_train(tiny_data, ""))
    assert_clean_error(result, 2, "error: --output is empty")
    result = run_cli(*quick_train(tiny_data, "."))
    assert_clean_error(result, 2, r"error: --output \. is a directory")
    assert "epoch" not in result.stdout


def test_a_failed_final_save_keeps_the_weights_and_says_where(tmp_path, fake_mnist, monkeypatch):
    (tmp_path / "m.npz").write_bytes(b"old model")
    (tmp_path / "m.json").write_bytes(b"old metrics")

    def full_disk(files):
        raise FileWriteError(next(iter(files)), OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(training.run, "write_files_atomic", full_disk)
    with pytest.raises(SaveFailedError) as info:
        train(config(tmp_path))
    message = str(info.value)
    match = re.search(r"the trained model was saved to (\S+) instead$", message)
    assert match and message.startswith(f"cannot write {tmp_path / 'm.npz'}: No space left"), (
        message
    )
    rescued = Path(match.group(1))
    try:
        model, meta = load_model(rescued)
        assert model.sizes == [784, 8, 10] and "test_acc" in meta
    finally:
        rescued.unlink()
    assert (tmp_path / "m.npz").read_bytes() == b"old model"
    assert (tmp_path / "m.json").read_bytes() == b"old metrics"


def test_metrics_that_do_not_fit_leave_the_old_model_and_metrics(tmp_path, fake_mnist, monkeypatch):
    from tinygrad_mnist import atomic_file

    (tmp_path / "m.npz").write_bytes(b"old model")
    (tmp_path / "m.json").write_bytes(b"old metrics")
    real = os.write

    def write(fd, data):
        if bytes(data[:1]) == b"{":  # the metrics JSON: the disk is full by then
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(atomic_file.os, "write", write)
    monkeypatch.setattr(training.run, "rescue", lambda name, data: None)
    with pytest.raises(
        SaveFailedError, match=r"m\.json: No space left .* the trained weights are lost"
    ):
        train(config(tmp_path))
    assert (tmp_path / "m.npz").read_bytes() == b"old model"
    assert (tmp_path / "m.json").read_bytes() == b"old metrics"


def test_ctrl_c_whose_checkpoint_cannot_be_written_says_so(tmp_path, fake_mnist, monkeypatch):
    real_save = training.checkpoint.save_checkpoint
    ckpt = tmp_path / "m.ckpt.npz"

    def save(path, *args):
        if Path(path) == ckpt:
            raise FileWriteError(path, OSError(errno.ENOSPC, "No space left on device"))
        return real_save(path, *args)

    monkeypatch.setattr(training.checkpoint, "save_checkpoint", save)
    with pytest.raises(TrainingInterrupted) as info:
        train(config(tmp_path), stop_after_steps=2)
    message = str(info.value)
    assert f"cannot write {ckpt}: No space left on device" in message
    rescued = info.value.checkpoint
    assert rescued is not None and f"the checkpoint was saved to {rescued} instead" in message
    assert f"--resume {rescued}" in message
    try:
        train(config(tmp_path, resume=str(rescued), output=str(tmp_path / "r.npz")))
    finally:
        rescued.unlink()
    assert (tmp_path / "r.npz").exists()

    def always_full(path, *args):
        raise FileWriteError(path, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(training.checkpoint, "save_checkpoint", always_full)
    with pytest.raises(TrainingInterrupted, match="the checkpoint is lost") as info:
        train(config(tmp_path), stop_after_steps=2)
    assert info.value.checkpoint is None


def test_a_per_epoch_checkpoint_that_fails_does_not_end_the_run(
    tmp_path, fake_mnist, monkeypatch, capsys
):
    def full(path, *args):
        raise FileWriteError(path, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(training.checkpoint, "save_checkpoint", full)
    train(config(tmp_path, epochs=2, checkpoint=str(tmp_path / "every.ckpt.npz")))
    assert "warning: cannot write" in capsys.readouterr().err
    assert (tmp_path / "m.npz").exists()


# ---------------------------------------------------------------------------- huge models
def test_huge_hidden_layer_is_refused_before_allocating(tmp_path, fake_mnist):
    with pytest.raises(ConfigError, match=r"more than the 50,000,000 a model file may hold"):
        train(config(tmp_path, hidden=(1_000_000_000,)))
    assert fake_mnist == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--hidden", "1000000000"], r"more than the 50,000,000"),
        (
            ["bench", "--model", "784,1000000000,10"],
            r"argument --model: .*more than the 50,000,000",
        ),
        (["bench", "--model", "784,8,5"], r"first size must be 784 and the last 10"),
        (["bench", "--batch-size", "1000000000"], r"--batch-size: at most 60000 \(the MNIST"),
    ],
)
def test_huge_or_non_mnist_models_on_the_command_line(argv, message):
    result = run_cli(*argv)
    assert_clean_error(result, 2, message)


# ---------------------------------------------------------------------------- odd models
def test_eval_of_a_model_that_is_not_784_to_10(tmp_path, tiny_data):
    save_model(tmp_path / "five.npz", MLP([784, 8, 5], seed=0))
    result = run_cli("eval", str(tmp_path / "five.npz"), "--data-dir", str(tiny_data))
    assert_clean_error(result, 2, r"maps 784 inputs to 5 outputs; an MNIST model maps 784")


def test_predict_with_weights_that_overflow_to_nan(tmp_path, tiny_data):
    model = MLP([784, 10], seed=0)
    with_nan = {k: np.full_like(v, 3e38) for k, v in model.state_dict().items()}
    model.load_state_dict(with_nan)
    save_model(tmp_path / "big.npz", model)
    result = run_cli(
        "predict", str(tmp_path / "big.npz"), "--index", "0", "--data-dir", str(tiny_data)
    )
    assert_clean_error(result, 2, r"outputs overflow to NaN/Inf")
    result = run_cli("eval", str(tmp_path / "big.npz"), "--data-dir", str(tiny_data))
    assert_clean_error(result, 2, r"outputs overflow to NaN/Inf on the test images")


# ---------------------------------------------------------------------------- 0 images
def test_train_on_empty_idx_files_is_one_clear_error(tmp_path):
    data = write_mnist(tmp_path / "empty", n_train=60, n_test=0)
    result = run_cli(*quick_train(data, tmp_path / "m.npz"))
    assert_clean_error(result, 2, "holds 0 images")


def test_train_on_an_empty_data_set_is_a_config_error(tmp_path, monkeypatch):
    empty = (np.zeros((0, 784), np.float32), np.zeros(0, np.int64))
    monkeypatch.setattr(training.run, "load_mnist_arrays", lambda split, data_dir=None: empty)
    with pytest.raises(ConfigError, match="no images to train on"):
        train(config(tmp_path))


# ---------------------------------------------------------------------------- checkpoints
def rewrite_checkpoint(path: Path, edit) -> None:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays.pop(META_KEY)))
    edit(header, arrays)
    with open(path, "wb") as f:
        np.savez(f, **{META_KEY: np.array(json.dumps(header))}, **arrays)


def set_position(**fields):
    def edit(header, arrays):
        header["extra"]["position"].update(fields)

    return edit


def set_numbers(**numbers):
    def edit(header, arrays):
        header["optimizer"]["numbers"].update(numbers)

    return edit


def set_scheduler(**fields):
    def edit(header, arrays):
        header["extra"]["scheduler"].update(fields)

    return edit


def poison_buffer(header, arrays):
    arrays["optim/buffers/0"] = np.full_like(arrays["optim/buffers/0"], np.nan)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (set_position(step_in_epoch=-1), r"step_in_epoch must be an integer >= 0, got -1"),
        (set_position(loss_sum="abc"), r"loss_sum must be a finite number >= 0, got 'abc'"),
        (set_position(seen=0), r"seen 0 does not match 2 batches of 20"),
        (set_position(epoch=-3), r"epoch must be an integer >= 0, got -3"),
        (set_position(epoch=5), r"epoch 5 is past the run's 1 epochs"),
        (set_position(global_step=7), r"global_step 7 does not match"),
        (poison_buffer, r"optimizer buffer 'optim/buffers/0' holds \d+ NaN/Inf values"),
        (set_numbers(lr=math.nan), r"the optimizer lr must be a finite number >= 0, got nan"),
        (set_scheduler(t=-4), r"the CosineLR step count t must be >= 0, got -4"),
        (set_scheduler(base_lr=-1.0), r"the schedule base_lr must be a finite number >= 0"),
    ],
)
def test_impossible_training_state_in_a_checkpoint(tmp_path, fake_mnist, edit, message):
    with pytest.raises(TrainingInterrupted) as info:
        train(config(tmp_path), stop_after_steps=2)
    ckpt = info.value.checkpoint
    rewrite_checkpoint(ckpt, edit)
    with pytest.raises(ModelFileError, match=message):
        train(config(tmp_path, resume=str(ckpt)))


# ---------------------------------------------------------------------------- images
def bar_image(height: int, width: int) -> np.ndarray:
    """A dark bar on white paper."""
    img = np.full((height, width), 255, np.uint8)
    img[height // 4 : 3 * height // 4, width // 2 - max(1, width // 10) : width // 2 + 2] = 0
    return img


@needs_pillow
def test_a_long_strip_is_refused_without_padding_it(tmp_path):
    Image.fromarray(bar_image(28, 40_000)).save(tmp_path / "strip.png")
    with pytest.raises(ImageInputError, match=r"40000 x 28 pixels, more than 10 times"):
        load_digit_image(tmp_path / "strip.png")


@needs_pillow
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


@needs_pillow
def test_a_16_bit_png_is_rescaled_not_clipped(tmp_path):
    img = np.full((40, 40), 65535, np.uint16)  # white paper
    img[5:35, 15:25] = 32768  # mid-gray ink: 50%, clipping would make it white (no ink)
    Image.fromarray(img).save(tmp_path / "deep.png")
    gray = load_grayscale(tmp_path / "deep.png")
    assert gray[0, 0] == 255 and abs(int(gray[20, 20]) - 128) <= 1


@needs_pillow
def test_a_float_tiff_is_rescaled_not_clipped(tmp_path):
    img = np.ones((40, 40), np.float32)
    img[5:35, 15:25] = 0.25
    Image.fromarray(img, mode="F").save(tmp_path / "float.tif")
    gray = load_grayscale(tmp_path / "float.tif")
    assert gray[0, 0] == 255 and abs(int(gray[20, 20]) - 64) <= 1


@needs_pillow
def test_a_blank_image_is_refused(tmp_path):
    Image.fromarray(np.full((40, 40), 200, np.uint8)).save(tmp_path / "blank.png")
    with pytest.raises(ImageInputError, match=r"blank\.png: image is blank"):
        load_digit_image(tmp_path / "blank.png")


@needs_pillow
def test_an_animated_gif_is_refused(tmp_path):
    blank = Image.fromarray(np.zeros((40, 40), np.uint8))
    digit = Image.fromarray(bar_image(40, 40))
    blank.save(tmp_path / "anim.gif", save_all=True, append_images=[digit])
    assert Image.open(tmp_path / "anim.gif").n_frames == 2
    with pytest.raises(ImageInputError, match=r"an animated image with 2 frames"):
        load_digit_image(tmp_path / "anim.gif")


# ---------------------------------------------------------------------------- matmul
@pytest.mark.parametrize("backend_name", ["numpy", "c"])
@pytest.mark.parametrize(
    ("sa", "sb"),
    [((0, 2, 3), (0, 3, 4)), ((2, 0, 3), (2, 3, 4)), ((2, 2, 0), (2, 0, 4)), ((0, 2, 3), (3, 4)),
     ((3, 2, 3), (1, 3, 0)), ((2, 1, 2, 3), (3, 3, 0))],
)  # fmt: skip
def test_batched_matmul_with_a_zero_size_dim_matches_numpy(backend_name, sa, sb):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.normal(size=sa), rng.normal(size=sb)
    with backend(backend_name):
        a, b = Tensor(a_np, requires_grad=True), Tensor(b_np, requires_grad=True)
        out = a @ b
        out.sum().backward()
    want = a_np @ b_np
    assert out.shape == want.shape
    np.testing.assert_allclose(out.data, want)
    g = np.ones(want.shape)
    np.testing.assert_allclose(a.grad, unbroadcast(g @ np.swapaxes(b_np, -1, -2), sa))
    np.testing.assert_allclose(b.grad, unbroadcast(np.swapaxes(a_np, -1, -2) @ g, sb))


def unbroadcast(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `x` over the dims broadcasting added to `shape`."""
    x = x.sum(axis=tuple(range(x.ndim - len(shape))))
    return x.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


# ---------------------------------------------------------------------------- early Ctrl-C
def test_ctrl_c_while_the_command_is_still_importing(tmp_path):
    # The console script does exactly this (`from tinygrad_mnist.cli import main`); the import
    # hook delivers Ctrl-C at a known moment of the import, the first ~0.15 s of a run.
    code = (
        "import os, signal, sys\n"
        "sys.argv = ['tinygrad-mnist', 'eval', 'missing.npz']\n"
        "class Hook:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tinygrad_mnist.tensors.tensor':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.meta_path.insert(0, Hook())\n"
        "from tinygrad_mnist.cli import main\n"
        "sys.exit(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert_clean_error(result, 130, r"^error: interrupted$")


# ---------------------------------------------------------------------------- same class elsewhere
def test_plot_destinations_are_checked_before_the_work(tmp_path, tiny_data):
    pytest.importorskip("matplotlib")
    (tmp_path / "file").write_text("x")
    result = run_cli(*quick_train(tiny_data, tmp_path / "m.npz", "--plot", str(tmp_path / "file")))
    assert_clean_error(result, 2, r"error: --plot .*file is a file, not a folder")
    assert not (tmp_path / "m.npz").exists()
    result = run_cli("bench", "--plot", str(tmp_path / "nowhere" / "b.png"), "--steps", "1")
    assert_clean_error(
        result, 2, r"error: cannot write .*b\.png: directory .*nowhere does not exist"
    )
    assert result.stdout == ""


def test_plot_of_a_model_that_is_not_784_to_10_and_of_deep_metrics(tmp_path, tiny_data):
    pytest.importorskip("matplotlib")
    save_model(tmp_path / "five.npz", MLP([784, 8, 5], seed=0))
    result = run_cli(
        "plot",
        str(tmp_path / "five.npz"),
        "--data-dir",
        str(tiny_data),
        "--out",
        str(tmp_path / "p"),
    )
    assert_clean_error(result, 2, r"maps 784 inputs to 5 outputs")
    save_model(tmp_path / "ok.npz", MLP([784, 8, 10], seed=0))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    result = run_cli(
        "plot", str(tmp_path / "ok.npz"), "--metrics", str(tmp_path / "deep.json"),
        "--data-dir", str(tiny_data), "--out", str(tmp_path / "p"),
    )  # fmt: skip
    assert_clean_error(result, 2, r"deep\.json: the metrics JSON is nested too deeply")
