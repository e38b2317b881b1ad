"""The training loop: it learns real MNIST, stops on a diverged loss, and resumes exactly."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest

import tinygrad_mnist.training as training
from tinygrad_mnist.backends import available as backends_available
from tinygrad_mnist.backends import backend
from tinygrad_mnist.nn import MLP
from tinygrad_mnist.serialization import ModelFileError, load_model, read_checkpoint_extra
from tinygrad_mnist.training import (
    ConfigError,
    TrainConfig,
    TrainingDivergedError,
    TrainingInterrupted,
    evaluate,
    train,
)

METRIC_KEYS = {
    "config", "backend", "train_samples", "test_samples", "epochs", "test_loss", "test_acc",
    "per_class_acc", "confusion", "total_time", "time_to_98",
}  # fmt: skip
EPOCH_KEYS = {
    "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "epoch_time", "samples_per_s",
    "lr", "elapsed",
}  # fmt: skip


def easy_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A made-up, linearly separable stand-in for MNIST: digit d lights up pixels
    78d .. 78d+77. x float32 [n, 784] in [-1, 1], y int64 [n]."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.uniform(-1, -0.5, (n, 784)).astype(np.float32)
    for d in range(10):
        x[y == d, 78 * d : 78 * d + 78] = 1.0
    return x, y.astype(np.int64)


@pytest.fixture
def fake_mnist(monkeypatch):
    """Make `train` see easy_digits instead of MNIST (1000 train, 300 test images)."""
    data = {"train": easy_digits(1000, 0), "test": easy_digits(300, 1)}
    monkeypatch.setattr(training.run, "load_mnist_arrays", lambda split, data_dir=None: data[split])
    return data


def weights(path) -> list[np.ndarray]:
    model, _ = load_model(path)
    return [p.data for p in model.parameters()]


# ----------------------------------------------------------------------- real MNIST
@pytest.mark.slow
def test_one_short_epoch_on_real_mnist_beats_85_percent(backend_name, mnist_dir, tmp_path):
    out = tmp_path / "model.npz"
    config = TrainConfig(
        epochs=1,
        train_limit=5000,
        batch_size=32,
        lr=0.02,
        data_dir=str(mnist_dir),
        output=str(out),
        backend=backend_name,
        progress=False,
    )
    metrics = train(config)
    assert metrics["test_acc"] > 0.85, metrics["test_acc"]
    assert metrics["backend"] == backend_name
    assert metrics["train_samples"] == 5000 and metrics["test_samples"] == 10000
    assert set(metrics) == METRIC_KEYS and len(metrics["epochs"]) == 1
    assert set(metrics["epochs"][0]) == EPOCH_KEYS
    assert metrics["epochs"][0]["train_acc"] > 0.7 and metrics["epochs"][0]["train_loss"] < 1.0
    confusion = np.array(metrics["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert np.trace(confusion) / 10000 == metrics["test_acc"]
    assert metrics["time_to_98"] is None  # one small epoch does not get there

    # The files on disk say the same as the returned metrics.
    assert json.loads((tmp_path / "model.json").read_text()) == metrics
    model, meta = load_model(out)
    assert model.sizes == [784, 256, 128, 10] and meta["test_acc"] == metrics["test_acc"]
    from tinygrad_mnist.utils.data import load_mnist_arrays

    x, y = load_mnist_arrays("test", mnist_dir)
    accuracy, per_class, conf = evaluate(model, x, y)
    assert accuracy == metrics["test_acc"]
    np.testing.assert_array_equal(conf, confusion)
    np.testing.assert_allclose(per_class, metrics["per_class_acc"])


@pytest.mark.slow
def test_diverging_lr_on_real_mnist_stops_with_a_clear_message(mnist_dir, tmp_path):
    config = TrainConfig(
        epochs=1,
        train_limit=2000,
        test_limit=100,
        lr=1e6,
        schedule="none",
        data_dir=str(mnist_dir),
        output=str(tmp_path / "model.npz"),
        progress=False,
    )
    with pytest.raises(TrainingDivergedError) as info:
        train(config)
    message = str(info.value)
    assert "epoch 1/1, step " in message and "/16 " in message  # 2000 / 128 -> 16 steps
    assert "with lr 1e+06" in message and "lower --lr" in message
    assert list(tmp_path.iterdir()) == []  # no model, metrics or checkpoint saved


# ----------------------------------------------------------------------- evaluate
def test_evaluate_counts_a_constant_prediction():
    model = MLP([784, 10], seed=0)
    model[0].weight.data[...] = 0
    model[0].bias.data[...] = 0
    model[0].bias.data[3] = 1.0  # every image is called a 3
    y = np.array([3, 3, 1, 0, 3, 1], dtype=np.int64)
    x = np.zeros((6, 784), np.float32)
    accuracy, per_class, confusion = evaluate(model, x, y, batch_size=4)
    assert accuracy == 0.5
    assert confusion[:, 3].tolist() == [1, 2, 0, 3, 0, 0, 0, 0, 0, 0] and confusion.sum() == 6
    assert per_class[3] == 1.0 and per_class[0] == 0.0 and per_class[1] == 0.0
    assert np.isnan(per_class[5])  # no 5s in the data


# ----------------------------------------------------------------------- divergence
def test_poisoned_input_stops_at_the_first_step(fake_mnist, tmp_path, backend_name):
    x, _ = fake_mnist["train"]
    x[:] = np.nan
    # Any activation would do: NaN passes through each of them, fused or not, on both backends.
    config = TrainConfig(
        epochs=2, activation="tanh", output=str(tmp_path / "m.npz"), progress=False, lr=0.03
    )
    with pytest.raises(TrainingDivergedError, match=r"loss became nan at epoch 1/2, step 1/8 "):
        train(config)
    assert not (tmp_path / "m.npz").exists()


# ----------------------------------------------------------------------- resume
def small_config(tmp_path, name: str, **changes) -> TrainConfig:
    options = dict(
        hidden=(32, 16), epochs=2, batch_size=100, lr=0.05, seed=3, output=str(tmp_path / name),
        progress=False,
    )  # fmt: skip
    return TrainConfig(**{**options, **changes})


def test_learns_the_easy_digits_and_records_time_to_98(fake_mnist, tmp_path):
    metrics = train(small_config(tmp_path, "m.npz", epochs=3))
    assert metrics["test_acc"] == 1.0
    first = next(e for e in metrics["epochs"] if e["test_acc"] >= 0.98)
    assert metrics["time_to_98"] == first["elapsed"] > 0
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3]
    elapsed = [e["elapsed"] for e in metrics["epochs"]]
    assert elapsed == sorted(elapsed) and metrics["total_time"] == elapsed[-1]
    assert metrics["epochs"][-1]["lr"] == 0.0  # the cosine schedule ends at 0


# stop at: mid epoch 1, end of epoch 1, mid epoch 2; the fast lane keeps one (across an epoch)
RESUMES = [
    pytest.param(stop_at, opt, sched, id=f"{opt}-{sched}-{stop_at}", marks=marks)
    for opt, sched in [("sgd", "cosine"), ("adam", "step")]
    for stop_at in (4, 10, 13)
    for marks in [() if (opt, stop_at) == ("sgd", 13) else pytest.mark.slow]
]


@pytest.mark.parametrize(("stop_at", "optimizer", "schedule"), RESUMES)
def test_resume_gives_bit_identical_weights(
    fake_mnist, tmp_path, backend_name, stop_at, optimizer, schedule
):
    lr = 0.05 if optimizer == "sgd" else 1e-3
    straight = train(small_config(tmp_path, "a.npz", optimizer=optimizer, schedule=schedule, lr=lr))

    handler_before = signal.getsignal(signal.SIGINT)
    interrupted = small_config(tmp_path, "b.npz", optimizer=optimizer, schedule=schedule, lr=lr)
    with pytest.raises(
        TrainingInterrupted, match="resume with: tinygrad-mnist train --resume"
    ) as info:
        train(interrupted, stop_after_steps=stop_at)
    assert signal.getsignal(signal.SIGINT) is handler_before  # the old handler is back
    ckpt = tmp_path / "b.ckpt.npz"
    assert info.value.checkpoint == ckpt and not (tmp_path / "b.npz").exists()
    extra = read_checkpoint_extra(ckpt)
    assert extra["position"]["global_step"] == stop_at
    assert extra["position"]["epoch"] == (stop_at - 1) // 10  # 10 batches per epoch
    assert extra["position"]["step_in_epoch"] == (stop_at - 1) % 10 + 1

    resumed = train(small_config(tmp_path, "b.npz", resume=str(ckpt)))  # options from ckpt
    for a, b in zip(weights(tmp_path / "a.npz"), weights(tmp_path / "b.npz")):
        assert np.array_equal(a, b)
    for key in ("train_loss", "train_acc", "test_loss", "test_acc", "lr"):
        assert [e[key] for e in resumed["epochs"]] == [e[key] for e in straight["epochs"]]
    assert resumed["confusion"] == straight["confusion"]


def test_checkpoint_after_every_epoch_and_resume_of_a_finished_run(fake_mnist, tmp_path):
    ckpt = tmp_path / "every.ckpt.npz"
    metrics = train(small_config(tmp_path, "a.npz", checkpoint=str(ckpt)))
    extra = read_checkpoint_extra(ckpt)
    assert extra["position"]["epoch"] == 2 and extra["position"]["step_in_epoch"] == 0
    assert len(extra["epochs"]) == 2
    again = train(small_config(tmp_path, "b.npz", resume=str(ckpt)))  # nothing left to train
    assert again["test_acc"] == metrics["test_acc"]
    for a, b in zip(weights(tmp_path / "a.npz"), weights(tmp_path / "b.npz")):
        assert np.array_equal(a, b)


def test_resume_uses_the_checkpoint_options_and_says_so(fake_mnist, tmp_path, capsys):
    with pytest.raises(TrainingInterrupted):
        train(small_config(tmp_path, "a.npz"), stop_after_steps=5)
    capsys.readouterr()
    metrics = train(small_config(tmp_path, "b.npz", lr=0.5, resume=str(tmp_path / "a.ckpt.npz")))
    assert metrics["config"]["lr"] == 0.05
    assert "resuming with the checkpoint's lr=0.05 (not 0.5)" in capsys.readouterr().err


def test_resume_from_a_model_file_is_a_clear_error(fake_mnist, tmp_path):
    train(small_config(tmp_path, "a.npz", epochs=1))
    with pytest.raises(ModelFileError, match="a trained model, not a training checkpoint"):
        train(small_config(tmp_path, "b.npz", resume=str(tmp_path / "a.npz")))


# ----------------------------------------------------------------------- config checks
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lr": -1.0}, "lr must be a positive number"),
        ({"lr": float("nan")}, "lr must be a positive number"),
        ({"hidden": (0,)}, "hidden sizes must be positive"),
        ({"hidden": ()}, "hidden sizes must be positive"),
        ({"batch_size": 0}, "batch size must be an integer >= 1"),
        ({"epochs": 1.5}, "epochs must be an integer >= 1"),
        ({"momentum": 1.5}, r"momentum must be in \[0, 1\)"),
        ({"momentum": 0.0}, "nesterov needs momentum > 0"),
        ({"weight_decay": -0.1}, "weight decay must be a number >= 0"),
        ({"activation": "gelu"}, "activation must be one of"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, adam"),
        ({"schedule": "linear"}, "schedule must be one of cosine, step, none"),
        ({"train_limit": 0}, "train limit must be an integer >= 1"),
        ({"output": "/no/such/dir/m.npz"}, "directory /no/such/dir does not exist"),
    ],
)
def test_bad_config_is_rejected_before_any_work(changes, message):
    with pytest.raises(ConfigError, match=message):
        train(TrainConfig(**changes))


# ----------------------------------------------------------------------- capture
@pytest.mark.skipif("c" not in backends_available(), reason="capture replays C kernels")
def test_train_with_and_without_capture_gives_the_same_model(fake_mnist, tmp_path, monkeypatch):
    """`train` captures its step by default (TinyJit); capture=False (--no-capture) is
    eager. Same weights and metrics; and a captured run stopped and resumed ends where the
    eager run without a stop ends."""
    jits = []

    class Spy(training.loop.TinyJit):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            jits.append(self)

    monkeypatch.setattr(training.loop, "TinyJit", Spy)
    with backend("c"):
        eager = train(small_config(tmp_path, "eager.npz", capture=False))
        captured = train(small_config(tmp_path, "captured.npz"))
    assert jits[0].replays == 0 and not jits[0].enabled
    assert jits[1].replays == 2 * 10 - 2 and jits[1].notes == []  # 10 batches of 100 an epoch
    with backend("c"):
        with pytest.raises(TrainingInterrupted):
            train(small_config(tmp_path, "resumed.npz"), stop_after_steps=13)
        train(small_config(tmp_path, "resumed.npz", resume=str(tmp_path / "resumed.ckpt.npz")))
    for name in ("captured.npz", "resumed.npz"):
        for a, b in zip(weights(tmp_path / "eager.npz"), weights(tmp_path / name)):
            assert np.array_equal(a, b)
    for key in ("train_loss", "train_acc", "test_loss", "test_acc", "lr"):
        assert [e[key] for e in eager["epochs"]] == [e[key] for e in captured["epochs"]]
    assert captured["config"]["capture"] is True and eager["config"]["capture"] is False
