"""`train --resume` of a checkpoint saved after the last epoch: the run is already complete.

It says so in one line and redoes nothing: no "epoch 3/2", no evaluation, no rewrite of the
model that is already there (exit 0). Only when the final model (or its metrics) is missing
is it written, from the checkpoint's weights, without training."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinygrad_mnist.training as training
from tinygrad_mnist import cli
from tinygrad_mnist.serialization import load_model
from tinygrad_mnist.training import RunAlreadyComplete, TrainConfig, train


def easy_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly separable stand-in for MNIST: digit d lights up pixels 78d .. 78d+77."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.uniform(-1, -0.5, (n, 784)).astype(np.float32)
    for d in range(10):
        x[y == d, 78 * d : 78 * d + 78] = 1.0
    return x, y.astype(np.int64)


@pytest.fixture
def fake_mnist(monkeypatch):
    data = {"train": easy_digits(300, 0), "test": easy_digits(100, 1)}
    monkeypatch.setattr(training.run, "load_mnist_arrays", lambda split, data_dir=None: data[split])
    return data


@pytest.fixture
def finished(fake_mnist, tmp_path):
    """A 2-epoch run that saved a checkpoint after every epoch: (model, metrics, checkpoint)."""
    model, ckpt = tmp_path / "m.npz", tmp_path / "every.ckpt.npz"
    config = TrainConfig(
        hidden=(16,), epochs=2, batch_size=100, lr=0.05, seed=3, output=str(model),
        checkpoint=str(ckpt), progress=False,
    )  # fmt: skip
    train(config)
    return model, tmp_path / "m.json", ckpt


def test_resume_of_a_finished_run_says_so_and_rewrites_nothing(finished, capsys):
    model, metrics, ckpt = finished
    before = {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in (model, metrics, ckpt)}
    capsys.readouterr()
    with pytest.raises(RunAlreadyComplete, match=r"already complete \(2/2 epochs\)"):
        train(TrainConfig(resume=str(ckpt), output=str(model), progress=False))
    out = capsys.readouterr()
    assert "epoch 3/2" not in out.out + out.err
    assert "resuming from" not in out.err
    after = {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in (model, metrics, ckpt)}
    assert after == before


def test_the_command_prints_one_line_and_exits_0(finished, capsys):
    model, _, ckpt = finished
    data = model.read_bytes()
    capsys.readouterr()
    code = cli.main(["train", "--resume", str(ckpt), "--output", str(model), "--no-progress"])
    out = capsys.readouterr()
    assert code == 0
    lines = (out.out + out.err).strip().splitlines()
    assert len(lines) == 1 and "already complete (2/2 epochs)" in lines[0], lines
    assert str(model) in lines[0] and model.read_bytes() == data


def test_a_missing_final_model_is_written_from_the_checkpoint(finished, capsys):
    model, metrics, ckpt = finished
    want = [p.data.copy() for p in load_model(model)[0].parameters()]
    model.unlink()
    capsys.readouterr()
    result = train(TrainConfig(resume=str(ckpt), output=str(model), progress=False))
    err = capsys.readouterr().err
    assert "already complete (2/2 epochs)" in err and "epoch 3/2" not in err
    assert [e["epoch"] for e in result["epochs"]] == [1, 2]  # no epoch was trained again
    got = [p.data for p in load_model(model)[0].parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(want, got))
    assert metrics.exists()
