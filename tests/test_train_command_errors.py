"""The train command (and eval, predict) under bad conditions: thread counts, output paths checked
before the first step, saves that fail, oversized models, non-MNIST models, empty data sets and
bad checkpoints. Tiny IDX files keep every run fast."""

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
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_clean_error, quick_train, run_cli, write_tiny_mnist

from tinygrad_mnist import commands, training
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


@pytest.mark.slow
def test_absurd_thread_count_is_capped_with_a_note(tiny_data, tmp_path):
    result = run_cli(*c_train(tiny_data, tmp_path / "m.npz"), "--threads", "1000000")
    assert_clean_error(result, 0, r"note: --threads 1000000 is more than the \d+ CPUs here; using")
    assert (tmp_path / "m.npz").exists()


@pytest.mark.slow
def test_absurd_thread_environment_variable_is_capped_or_refused(tiny_data, tmp_path):
    result = run_cli(
        *c_train(tiny_data, tmp_path / "m.npz"), env_extra={"TINYGRAD_NUM_THREADS": "1000000"}
    )
    assert_clean_error(result, 0, r"note: TINYGRAD_NUM_THREADS=1000000 is more than the \d+ CPUs")
    result = run_cli(
        *quick_train(tiny_data, tmp_path / "m.npz"), env_extra={"TINYGRAD_NUM_THREADS": "lots"}
    )
    assert_clean_error(result, 2, r"error: TINYGRAD_NUM_THREADS='lots' is not a whole number")


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
@pytest.mark.slow
def test_eval_of_a_model_that_is_not_784_to_10(tmp_path, tiny_data):
    save_model(tmp_path / "five.npz", MLP([784, 8, 5], seed=0))
    result = run_cli("eval", str(tmp_path / "five.npz"), "--data-dir", str(tiny_data))
    assert_clean_error(result, 2, r"maps 784 inputs to 5 outputs; an MNIST model maps 784")


@pytest.mark.slow
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


# ---------------------------------------------------------------------------- empty data sets
@pytest.mark.slow
def test_train_on_empty_idx_files_is_one_clear_error(tmp_path):
    data = write_tiny_mnist(tmp_path / "empty", n_train=60, n_test=0)
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
