"""The contenders of the training benchmark: one training step each, on the same batches.

One *training step* is: forward an MLP on a batch, mean cross-entropy, backward, optimizer
update. Every contender runs that same step on the same real MNIST batches:

  c, numpy        our library through its public API (nn.MLP, optim, F.cross_entropy,
                  backward) on that backend, eagerly: Python runs between the kernels
  c_capture       the same step on the C backend, captured by tinygrad_mnist.TinyJit: after
                  its first two calls (record, proof) every step is one C call replaying the
                  recorded kernels. Built only if the capture holds (no notes, replays > 0)
  torch           the same recipe in PyTorch (when importable): nn.Sequential of Linear+ReLU
  tinygrad        the same recipe in tinygrad from PyPI on its CPU device (when it works)
  numpy_by_hand   a hand-written NumPy MLP, no autograd (handwritten_mlp.py): forward,
                  backward and update by hand. The floor for our NumPy backend: the gap to it
                  is autograd's overhead.
  matmul_ceiling  only the matmuls of one step, by numpy.matmul into preallocated outputs.
                  No training step can beat the time of its own matmuls (with this BLAS).

build_step(contender, ...) returns a function step(i) that runs one step on batch i (modulo
the batch count), or raises ContenderUnavailable with the reason. backend_of(contender) is the
backend of ours a contender runs on (None for the others).
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from handwritten_mlp import HandwrittenMLP
from step_matmuls import matmul_operands, step_matmul_shapes

from tinygrad_mnist import Tensor, TinyJit, backends, nn, optim
from tinygrad_mnist.nn import functional as F

OPTIMIZERS = ("sgd", "adam")
# The optimizer settings of the throughput benchmarks; every contender uses the same ones.
SGD_SETTINGS = {"lr": 0.05, "momentum": 0.9}
ADAM_SETTINGS = {"lr": 1e-3}
CONTENDERS = ("c", "c_capture", "numpy", "torch", "tinygrad", "numpy_by_hand", "matmul_ceiling")
# Our contenders and the backend each runs on.
OUR_BACKENDS = {"c": "c", "c_capture": "c", "numpy": "numpy"}

# A step function runs one training step on batch number i (taken modulo the batch count).
Step = Callable[[int], None]


class ContenderUnavailable(RuntimeError):
    """A contender cannot run here (library not installed, no compiler, ...)."""


def import_torch() -> Any:
    """The torch module, or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def backend_of(contender: str) -> str | None:
    """The backend of ours that `contender` runs on ("c", "numpy"), or None (not ours)."""
    return OUR_BACKENDS.get(contender)


def _our_model(
    backend_name: str, sizes: Sequence[int], activation: str, optimizer: str, seed: int
) -> tuple[nn.MLP, optim.Optimizer]:
    with backends.backend(backend_name):
        model = nn.MLP(sizes, activation=activation, seed=seed)
        if optimizer == "sgd":
            opt: optim.Optimizer = optim.SGD(model.parameters(), **SGD_SETTINGS)
        else:
            opt = optim.Adam(model.parameters(), **ADAM_SETTINGS)
    return model, opt


def _our_step(
    backend_name: str,
    sizes: Sequence[int],
    activation: str,
    optimizer: str,
    batches: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> Step:
    """Our library, public API only. The backend is chosen by the caller (see run_steps)."""
    model, opt = _our_model(backend_name, sizes, activation, optimizer, seed)
    data = [(Tensor(x), Tensor(y, dtype=np.int64)) for x, y in batches]

    def step(i: int) -> None:
        x, y = data[i % len(data)]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


class CapturedStep:
    """The step of contender c_capture: step(i) trains on batch i through a TinyJit.

    `jit` is the TinyJit, for its profile switch, plan, replay count and notes
    (kernel_timing.captured_kernel_time and measure_training read them)."""

    def __init__(self, jit: TinyJit, data: list[tuple[Tensor, Tensor]]) -> None:
        self.jit, self.data = jit, data

    def __call__(self, i: int) -> None:
        x, y = self.data[i % len(self.data)]
        self.jit(x, y)


def _captured_step(
    sizes: Sequence[int],
    activation: str,
    optimizer: str,
    batches: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> CapturedStep:
    """The step of _our_step on the C backend, captured by TinyJit. The step returns its loss
    (a replay copies it out), as a training loop that reads the loss would.

    Its first three calls run here, on the C backend: record, proof, first replay. If the
    capture did not hold (TinyJit noted why it stays eager), the contender is unavailable:
    a benchmark of "captured" steps must never time eager ones."""
    model, opt = _our_model("c", sizes, activation, optimizer, seed)
    data = [(Tensor(x), Tensor(y, dtype=np.int64)) for x, y in batches]

    def train_step(x: Tensor, y: Tensor) -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = CapturedStep(TinyJit(train_step, quiet=True), data)
    with backends.backend("c"):
        for i in range(3):
            step(i)
    check_captured(step)
    return step


def check_captured(step: CapturedStep) -> None:
    """Raise ContenderUnavailable unless `step` replays: TinyJit left no note and replayed."""
    if step.jit.notes:
        raise ContenderUnavailable(f"TinyJit kept the step eager: {'; '.join(step.jit.notes)}")
    if step.jit.replays < 1:
        raise ContenderUnavailable("TinyJit has not replayed the step after three calls")


def torch_mlp(sizes: Sequence[int], activation: str = "relu") -> Any:
    """torch.nn.Sequential of Linear layers with `activation` between them."""
    torch = import_torch()
    if torch is None:
        raise ContenderUnavailable("PyTorch is not installed")
    acts = {
        "relu": torch.nn.ReLU,
        "sigmoid": torch.nn.Sigmoid,
        "tanh": torch.nn.Tanh,
        "leaky_relu": lambda: torch.nn.LeakyReLU(0.1),
    }
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(acts[activation]())
    return torch.nn.Sequential(*layers)


def _torch_step(
    sizes: Sequence[int],
    activation: str,
    optimizer: str,
    batches: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> Step:
    """The same recipe in PyTorch (its default init; the init does not change the speed)."""
    torch = import_torch()
    if torch is None:
        raise ContenderUnavailable("PyTorch is not installed")
    import torch.nn.functional as torch_F

    torch.manual_seed(seed)
    model = torch_mlp(sizes, activation)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), **SGD_SETTINGS)
    else:
        opt = torch.optim.Adam(model.parameters(), **ADAM_SETTINGS)
    data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def step(i: int) -> None:
        x, y = data[i % len(data)]
        opt.zero_grad()
        loss = torch_F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def _tinygrad_step(
    sizes: Sequence[int],
    activation: str,
    optimizer: str,
    batches: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> Step:
    """The same recipe in tinygrad (PyPI) on its CPU device, the step compiled by TinyJit."""
    os.environ.setdefault("DEV", "CPU")  # read when tinygrad is first imported
    try:
        version = importlib.metadata.version("tinygrad")
    except importlib.metadata.PackageNotFoundError as e:
        raise ContenderUnavailable("tinygrad is not installed (pip install tinygrad)") from e
    if activation != "relu":
        raise ContenderUnavailable("the tinygrad contender is written for ReLU only")
    try:
        return _build_tinygrad_step(sizes, optimizer, batches, seed)
    except Exception as e:  # no C compiler, another default device, API change: report it
        first_line = (str(e).splitlines() or [""])[0][:200]
        raise ContenderUnavailable(
            f"tinygrad {version} failed on CPU: {type(e).__name__}: {first_line}"
        ) from e


def _build_tinygrad_step(
    sizes: Sequence[int], optimizer: str, batches: list[tuple[np.ndarray, np.ndarray]], seed: int
) -> Step:
    from tinygrad import Device, TinyJit
    from tinygrad import Tensor as TinyTensor
    from tinygrad import nn as tiny_nn

    if Device.DEFAULT != "CPU":
        raise RuntimeError(f"tinygrad's default device is {Device.DEFAULT}; run with DEV=CPU")
    TinyTensor.manual_seed(seed)
    layers = [tiny_nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    params = tiny_nn.state.get_parameters(layers)
    if optimizer == "sgd":
        opt = tiny_nn.optim.SGD(params, **SGD_SETTINGS)
    else:
        opt = tiny_nn.optim.Adam(params, **ADAM_SETTINGS)

    @TinyJit
    def jit_step(x: Any, y: Any) -> Any:
        h = x
        for i, layer in enumerate(layers):
            h = layer(h)
            if i < len(layers) - 1:
                h = h.relu()
        opt.zero_grad()
        loss = h.sparse_categorical_crossentropy(y).backward()
        opt.step()
        return loss.realize()

    data = [(TinyTensor(x).realize(), TinyTensor(y.astype(np.int32)).realize()) for x, y in batches]
    device = Device[Device.DEFAULT]

    def step(i: int) -> None:
        x, y = data[i % len(data)]
        jit_step(x, y)
        device.synchronize()  # the CPU device runs queued work asynchronously

    for i in range(3):  # TinyJit captures the step on its second call: fail here, not later
        step(i)
    return step


def _handwritten_step(
    sizes: Sequence[int],
    activation: str,
    optimizer: str,
    batches: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> Step:
    if activation != "relu":
        raise ContenderUnavailable("the hand-written NumPy MLP is written for ReLU only")
    mlp = HandwrittenMLP.random(sizes, seed)

    def step(i: int) -> None:
        x, y = batches[i % len(batches)]
        mlp.loss_and_gradients(x, y)
        if optimizer == "sgd":
            mlp.sgd_step(**SGD_SETTINGS)
        else:
            mlp.adam_step(**ADAM_SETTINGS)

    return step


def build_step(
    contender: str,
    sizes: Sequence[int],
    activation: str,
    optimizer: str,
    batches: list[tuple[np.ndarray, np.ndarray]],
    seed: int = 0,
) -> Step:
    """The step function of one contender (see CONTENDERS); ContenderUnavailable if it can't run."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    backend_name = backend_of(contender)
    if backend_name is not None:
        try:
            backends.load(backend_name)
        except backends.BackendUnavailableError as e:
            raise ContenderUnavailable(str(e)) from e
        if contender == "c_capture":
            return _captured_step(sizes, activation, optimizer, batches, seed)
        return _our_step(backend_name, sizes, activation, optimizer, batches, seed)
    if contender == "torch":
        return _torch_step(sizes, activation, optimizer, batches, seed)
    if contender == "tinygrad":
        return _tinygrad_step(sizes, activation, optimizer, batches, seed)
    if contender == "numpy_by_hand":
        return _handwritten_step(sizes, activation, optimizer, batches, seed)
    if contender == "matmul_ceiling":
        return matmul_ceiling_step(sizes, len(batches[0][0]))
    raise ValueError(f"unknown contender {contender!r}; choose from {CONTENDERS}")


def matmul_ceiling_step(sizes: Sequence[int], batch_size: int) -> Step:
    """One call runs every matmul of a training step with numpy.matmul(out=...)."""
    rng = np.random.default_rng(0)
    products = [matmul_operands(s, rng)[2:] for s in step_matmul_shapes(sizes, batch_size)]

    def step(i: int) -> None:
        for op_a, op_b, out in products:
            np.matmul(op_a, op_b, out=out)

    return step
