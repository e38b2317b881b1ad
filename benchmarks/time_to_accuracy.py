"""Wall time to 98% MNIST test accuracy: `tinygrad-mnist train`'s default recipe, ours and PyTorch's.

benchmarks/bench_train.py --time-to-98 runs this once per thread count, for three frameworks:
"ours" (`training.train` itself, captured or not as `train` decides), "ours_captured" (the
same loop written out with a step captured by tinygrad_mnist.TinyJit, as a user would) and
"torch" (the same loop in PyTorch).
"""

from __future__ import annotations

import math
import time
from typing import Any

from training_contenders import ContenderUnavailable, import_torch, torch_mlp

from tinygrad_mnist import Tensor, TinyJit, backends, nn
from tinygrad_mnist.nn import functional as F
from tinygrad_mnist.training import TrainConfig, accuracies, evaluate_with_loss, train
from tinygrad_mnist.training.run import make_optimizer, make_schedule
from tinygrad_mnist.utils.data import DataLoader, load_mnist_arrays

FRAMEWORKS = ("ours", "ours_captured", "torch")

RECIPE_FIELDS = (
    "hidden",
    "activation",
    "init",
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "weight_decay",
    "schedule",
    "batch_size",
    "epochs",
    "seed",
)


def train_recipe() -> dict[str, Any]:
    """The default `tinygrad-mnist train` recipe: training.TrainConfig's defaults."""
    cfg = TrainConfig()
    return {name: getattr(cfg, name) for name in RECIPE_FIELDS}


def time_to_accuracy(
    framework: str, target: float = 0.98, data_dir: str | None = None, epochs: int | None = None
) -> dict[str, Any]:
    """Train the default recipe and report when test accuracy first reaches `target`.

    framework "ours" runs `tinygrad-mnist train`'s own loop (training.train) on the C
    backend, with TrainConfig's default for capturing the step (its `capture` field; False
    where it has none); "ours_captured" runs that loop written out (_train_ours_captured) with
    the step captured by TinyJit; "torch" runs the same recipe in PyTorch. All three start
    from the same initial weights, see the batches in the same order and do the same per-step
    bookkeeping (the loss as a Python float, train accuracy). Test accuracy is measured after
    every epoch; `seconds` is the wall time since training started, evaluations included.
    Returns {"framework", "target", "reached", "seconds_to_target", "epoch_reached",
    "captured", "epochs": [{"epoch", "seconds", "test_accuracy"}]}; "captured" says whether
    the training steps were replayed captured steps (None for torch).
    """
    cfg = TrainConfig(backend="c", data_dir=data_dir, output=None, progress=False)
    if epochs is not None:
        cfg.epochs = epochs
    captured: bool | None = None
    if framework == "ours":
        captured = bool(getattr(cfg, "capture", False))
        history = train(cfg)["epochs"]
        curve = [(h["epoch"], h["elapsed"], h["test_acc"]) for h in history]
    elif framework == "ours_captured":
        curve, captured = _train_ours_captured(cfg)
    elif framework == "torch":
        curve = _train_torch(cfg)
    else:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    out: dict[str, Any] = dict(
        framework=framework,
        target=target,
        reached=False,
        seconds_to_target=None,
        epoch_reached=None,
        captured=captured,
        epochs=[dict(epoch=e, seconds=s, test_accuracy=a) for e, s, a in curve],
    )
    for epoch, seconds, accuracy in curve:
        if accuracy >= target:
            out.update(reached=True, seconds_to_target=seconds, epoch_reached=epoch)
            break
    return out


def _train_ours_captured(cfg: TrainConfig) -> tuple[list[tuple[int, float, float]], bool]:
    """training.train's loop (training/loop.py) written out, its step captured by TinyJit:
    ([(epoch, seconds since start, test accuracy)], whether every step after the first two
    of each batch shape was a replay). The model, optimizer, schedule and batch order are
    training.train's own (make_optimizer, make_schedule, the seeded DataLoader)."""
    if "c" not in backends.available():
        raise ContenderUnavailable("the C backend is not built: nothing to capture")
    x_train, y_train = load_mnist_arrays("train", cfg.data_dir)
    x_test, y_test = load_mnist_arrays("test", cfg.data_dir)
    with backends.backend("c"):
        loader = DataLoader(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
        model = nn.MLP(
            [x_train.shape[1], *cfg.hidden, 10], cfg.activation, init=cfg.init, seed=cfg.seed
        )
        optimizer = make_optimizer(cfg, model)
        schedule = make_schedule(cfg, optimizer, cfg.epochs * len(loader))

        @TinyJit
        def train_step(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return logits, loss

        curve, steps = [], 0
        start = time.perf_counter()
        for epoch in range(1, cfg.epochs + 1):
            loss_sum = correct = 0.0
            for xb, yb in loader:
                logits, loss = train_step(xb, yb)
                loss_sum += loss.item() * len(yb)
                if schedule is not None:
                    schedule.step()
                correct += int((logits.data.argmax(axis=1) == yb.data).sum())
                steps += 1
            _, confusion = evaluate_with_loss(model, x_test, y_test)
            curve.append((epoch, time.perf_counter() - start, accuracies(confusion)[0]))
    # each batch shape (the full batch, and a smaller last one) is recorded and proven once
    shapes = 1 + (len(x_train) % cfg.batch_size != 0)
    captured = not train_step.notes and train_step.replays >= steps - 2 * shapes
    return curve, captured


def _train_torch(cfg: Any) -> list[tuple[int, float, float]]:
    """training.train's loop, in PyTorch: [(epoch, seconds since start, test accuracy)]."""
    torch = import_torch()
    if torch is None:
        raise ContenderUnavailable("PyTorch is not installed")
    import torch.nn.functional as torch_F

    if (cfg.optimizer, cfg.schedule, cfg.init) != ("sgd", "cosine", "kaiming"):
        raise ValueError("the PyTorch mirror implements the default recipe only")
    x_train, y_train = load_mnist_arrays("train", cfg.data_dir)
    x_test, y_test = load_mnist_arrays("test", cfg.data_dir)
    loader = DataLoader(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
    sizes = [x_train.shape[1], *cfg.hidden, 10]
    ours = nn.MLP(sizes, cfg.activation, init=cfg.init, seed=cfg.seed)
    model = torch_mlp(sizes, cfg.activation)
    our_linears = [ours[i] for i in range(len(ours)) if isinstance(ours[i], nn.Linear)]
    their_linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():  # start from our initial weights
        for a, b in zip(our_linears, their_linears):
            b.weight.copy_(torch.from_numpy(a.weight.numpy()))
            b.bias.copy_(torch.from_numpy(a.bias.numpy()))
    opt = torch.optim.SGD(
        model.parameters(),
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        nesterov=cfg.nesterov,
    )
    total_steps, step = cfg.epochs * len(loader), 0
    x_test_t, y_test_t = torch.from_numpy(x_test), torch.from_numpy(y_test)
    curve = []
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        loss_sum = correct = 0.0
        for xb, yb in loader:
            x, y = torch.from_numpy(xb.numpy()), torch.from_numpy(yb.numpy())
            logits = model(x)
            loss = torch_F.cross_entropy(logits, y)
            loss_sum += loss.item() * len(y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            for group in opt.param_groups:  # optim.CosineLR's rule, per batch
                group["lr"] = cfg.lr * (1 + math.cos(math.pi * step / total_steps)) / 2
            correct += int((logits.argmax(dim=1) == y).sum())
        hits = 0
        with torch.no_grad():
            for i in range(0, len(x_test), 1000):
                logits = model(x_test_t[i : i + 1000])
                torch_F.cross_entropy(logits, y_test_t[i : i + 1000]).item()
                hits += int((logits.argmax(dim=1) == y_test_t[i : i + 1000]).sum())
        curve.append((epoch, time.perf_counter() - start, hits / len(x_test)))
    return curve
