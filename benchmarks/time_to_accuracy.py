"""Wall time to 98% MNIST test accuracy: `tinygrad-mnist train`'s default recipe, ours and PyTorch's.

benchmarks/bench_train.py --time-to-98 runs this once per thread count.
"""

from __future__ import annotations

import math
import time
from typing import Any

from training_contenders import ContenderUnavailable, import_torch, torch_mlp

from tinygrad_mnist import nn
from tinygrad_mnist.training import TrainConfig, train
from tinygrad_mnist.utils.data import DataLoader, load_mnist_arrays

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
    backend; "torch" runs the same recipe in PyTorch, starting from the same initial weights,
    seeing the batches in the same order and doing the same per-step bookkeeping (loss.item(),
    train accuracy). Test accuracy is measured after every epoch; `seconds` is the wall time
    since training started, evaluations included. Returns {"framework", "target", "reached",
    "seconds_to_target", "epoch_reached", "epochs": [{"epoch", "seconds", "test_accuracy"}]}.
    """
    cfg = TrainConfig(backend="c", data_dir=data_dir, output=None, progress=False)
    if epochs is not None:
        cfg.epochs = epochs
    if framework == "ours":
        history = train(cfg)["epochs"]
        curve = [(h["epoch"], h["elapsed"], h["test_acc"]) for h in history]
    elif framework == "torch":
        curve = _train_torch(cfg)
    else:
        raise ValueError(f"framework must be 'ours' or 'torch', got {framework!r}")
    out: dict[str, Any] = dict(
        framework=framework,
        target=target,
        reached=False,
        seconds_to_target=None,
        epoch_reached=None,
        epochs=[dict(epoch=e, seconds=s, test_accuracy=a) for e, s, a in curve],
    )
    for epoch, seconds, accuracy in curve:
        if accuracy >= target:
            out.update(reached=True, seconds_to_target=seconds, epoch_reached=epoch)
            break
    return out


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
