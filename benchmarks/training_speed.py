"""Measuring training speed: our library on each backend against its peers and its ceilings.

One *training step* is: forward an MLP on a batch, mean cross-entropy, backward, optimizer
update. The contenders all run that same step on the same real MNIST batches:

  c, numpy        our library through its public API (nn.MLP, optim, F.cross_entropy,
                  backward) on that backend
  torch           the same recipe in PyTorch (when importable): nn.Sequential of Linear+ReLU
  tinygrad        the same recipe in tinygrad from PyPI on its CPU device (when it works)
  numpy_by_hand   a hand-written NumPy MLP, no autograd: forward, backward and update by hand.
                  The floor for our NumPy backend: the gap to it is autograd's overhead.
  matmul_ceiling  only the matmuls of one step, by numpy.matmul into preallocated outputs.
                  No training step can beat the time of its own matmuls (with this BLAS).

Timing rules (the same for every contender):
  * warm-up steps first (caches, allocator, JIT), then `steps` timed steps per repeat;
  * the contenders take turns, repeat by repeat (A, B, C, A, B, C, ...), so that load from
    other programs on a shared machine hits them all alike;
  * throughput = samples / time of the `steps` steps, median over repeats;
    latency  = median time of a single step, over all timed steps.

Against the machine itself (the C backend's step; issue 14):
  * training FLOPs per step: the matmuls only (training_flops: forward 2*B*in*out per layer,
    backward 4*B*in*out per layer except the first layer's dx, which is not needed);
  * the FMA peak of one core, measured at benchmark time by a small C loop of independent FMA
    chains with the instruction set the GEMM uses (fma_peak, csrc/fma_peak.c);
  * fraction of peak = FLOPs / (median step time x peak x threads);
  * time inside the C kernels and the Python and glue overhead (the rest of the step), both
    measured by a timing shim around every kernel call, in a separate pass (c_kernel_time).

Threads are set by `set_threads(n)`; for BLAS libraries the surest way is to set
OMP_NUM_THREADS (etc.) before numpy/torch are imported, which is what benchmarks/bench_train.py
does by running each thread count in its own process.

Every function returns plain dicts, lists and numbers (JSON-able).
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np

from . import backends, nn, optim
from .nn import functional as F
from .tensor import Tensor

OPTIMIZERS = ("sgd", "adam")
# The optimizer settings of the throughput benchmarks; every contender uses the same ones.
SGD_SETTINGS = {"lr": 0.05, "momentum": 0.9}
ADAM_SETTINGS = {"lr": 1e-3}

ISA_NAMES = {0: "generic", 1: "avx2", 2: "avx512", 3: "neon"}  # tg_get_isa() codes, kernels.h
CONTENDERS = ("c", "numpy", "torch", "tinygrad", "numpy_by_hand", "matmul_ceiling")
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TINYGRAD_NUM_THREADS",  # our C kernels (OpenMP builds)
    "NUM_CPU_THREADS",  # tinygrad's CPU device
)

# A step function runs one training step on batch number i (taken modulo the batch count).
Step = Callable[[int], None]


class ContenderUnavailable(RuntimeError):
    """A contender cannot run here (library not installed, no compiler, ...)."""


# ================================================================ small helpers
def parse_sizes(text: str) -> list[int]:
    """'784,128,64,10' -> [784, 128, 64, 10]."""
    sizes = [int(s) for s in text.replace(" ", "").split(",") if s]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"a model is at least two positive layer sizes, got {text!r}")
    return sizes


def auto_steps(batch_size: int, samples: int = 4096, minimum: int = 5) -> int:
    """Timed steps per repeat when none are given: about `samples` samples, >= `minimum`."""
    return max(minimum, math.ceil(samples / batch_size))


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that make numpy, torch, tinygrad and our kernels use `threads`."""
    env = {name: str(threads) for name in THREAD_ENV_VARS}
    # The contenders take turns in one process. OpenMP threads (ours and torch's) spin for a
    # while after each parallel region by default, so one contender's idle workers would burn
    # the core the next contender needs; passive waiting makes the turns fair.
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def set_threads(threads: int) -> None:
    """Use `threads` threads in our C kernels, numpy's BLAS (via threadpoolctl) and torch.

    Setting the THREAD_ENV_VARS before numpy and torch are imported is more reliable; this is
    the best that can be done inside an already running process.
    """
    if "c" in backends.available():
        backends.load("c").lib.tg_set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)  # stays in effect: not used as a context manager
    except ImportError:
        pass
    torch = _import_torch()
    if torch is not None:
        torch.set_num_threads(threads)


def blas_info() -> list[dict[str, Any]]:
    """Which BLAS (and OpenMP) libraries this process has loaded, from threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed: pip install threadpoolctl"}]
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: d.get(k) for k in keys} for d in threadpool_info()]


def environment() -> dict[str, Any]:
    """What the numbers depend on: library versions, C kernel settings, BLAS, env vars."""
    env: dict[str, Any] = {"numpy": np.__version__, "cpu_count": os.cpu_count()}
    env["cpu"] = cpu_model()
    torch = _import_torch()
    env["torch"] = torch.__version__ if torch is not None else None
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
    if "c" in backends.available():
        lib = backends.load("c").lib
        env["c_isa"] = ISA_NAMES.get(lib.tg_get_isa(), "?")
        env["c_threads"] = lib.tg_get_num_threads()
    names = THREAD_ENV_VARS + ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TINYGRAD_ISA")
    env["env"] = {name: os.environ.get(name) for name in names}
    env["blas"] = blas_info()
    if hasattr(os, "getloadavg"):
        env["load_average"] = list(os.getloadavg())  # other programs' load: 1, 5, 15 min
    return env


def cpu_model() -> str:
    """The CPU's model name ("AMD EPYC 7B13", ...): /proc/cpuinfo on Linux, else platform's."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


@functools.lru_cache(maxsize=2)
def _train_arrays(data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    from .data import load_mnist_arrays

    return load_mnist_arrays("train", data_dir)


def mnist_batches(
    batch_size: int, n_batches: int, data_dir: str | None = None, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n_batches` distinct batches of real MNIST training data: (x float32 [B,784], y int64)."""
    x, y = _train_arrays(None if data_dir is None else str(data_dir))
    n_batches = max(1, min(n_batches, len(x) // batch_size))
    order = np.random.default_rng(seed).permutation(len(x))
    return [
        (x[idx], y[idx])
        for idx in (order[i * batch_size : (i + 1) * batch_size] for i in range(n_batches))
    ]


# ================================================================ the hand-written NumPy MLP
class HandwrittenMLP:
    """A ReLU MLP in plain NumPy: forward, backward and optimizer written out by hand.

    No autograd, no graph, no Tensor objects: the fastest straightforward NumPy for one
    training step, used as the floor for our NumPy backend. weights[i] is (out, in) and
    biases[i] is (out,), as in nn.Linear. Scratch arrays are reused between steps of the
    same batch size.
    """

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> None:
        self.weights = [np.array(w, dtype=np.float32) for w in weights]
        self.biases = [np.array(b, dtype=np.float32) for b in biases]
        params = self.weights + self.biases
        self.momentum_buffers = [np.zeros_like(p) for p in params]  # SGD
        self.adam_m = [np.zeros_like(p) for p in params]
        self.adam_v = [np.zeros_like(p) for p in params]
        self.adam_t = 0
        self.grad_weights = [np.empty_like(w) for w in self.weights]
        self.grad_biases = [np.empty_like(b) for b in self.biases]
        self._scratch: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    @classmethod
    def random(cls, sizes: Sequence[int], seed: int = 0) -> HandwrittenMLP:
        """He-uniform weights, zero biases (the values do not matter for speed)."""
        rng = np.random.default_rng(seed)
        weights, biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = math.sqrt(6.0 / n_in)
            weights.append(rng.uniform(-bound, bound, (n_out, n_in)))
            biases.append(np.zeros(n_out))
        return cls(weights, biases)

    def _buffers(self, batch: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(outputs of every layer, gradients w.r.t. them), allocated once per batch size."""
        if batch not in self._scratch:
            outs = [np.empty((batch, w.shape[0]), np.float32) for w in self.weights]
            grads = [np.empty_like(o) for o in outs]
            self._scratch[batch] = (outs, grads)
        return self._scratch[batch]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits (B, classes); the hidden outputs stay in the scratch arrays for backward."""
        outs, _ = self._buffers(len(x))
        h = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = np.matmul(h, w.T, out=outs[i])
            z += b
            if i < len(self.weights) - 1:
                np.maximum(z, 0.0, out=z)  # ReLU in place
            h = z
        return h

    def loss_and_gradients(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy of the batch; fills grad_weights and grad_biases."""
        outs, grads = self._buffers(len(x))
        logits = self.forward(x)
        batch = len(x)
        # softmax cross-entropy: dlogits = (softmax - onehot) / B
        d = grads[-1]
        np.subtract(logits, logits.max(axis=1, keepdims=True), out=d)
        np.exp(d, out=d)
        d /= d.sum(axis=1, keepdims=True)
        rows = np.arange(batch)
        loss = -float(np.log(np.maximum(d[rows, y], 1e-30)).mean())
        d[rows, y] -= 1.0
        d /= batch
        for i in range(len(self.weights) - 1, -1, -1):
            dz = grads[i]  # gradient w.r.t. layer i's pre-activation (ReLU already applied)
            h_in = x if i == 0 else outs[i - 1]
            np.matmul(dz.T, h_in, out=self.grad_weights[i])
            np.sum(dz, axis=0, out=self.grad_biases[i])
            if i > 0:
                dh = np.matmul(dz, self.weights[i], out=grads[i - 1])
                dh *= outs[i - 1] > 0  # ReLU backward: its output is > 0 where it passed
        return loss

    def _params_and_grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(zip(self.weights + self.biases, self.grad_weights + self.grad_biases))

    def sgd_step(self, lr: float, momentum: float = 0.0) -> None:
        """PyTorch's SGD: buf = momentum * buf + g; p -= lr * buf."""
        for (p, g), buf in zip(self._params_and_grads(), self.momentum_buffers):
            if momentum:
                buf *= momentum
                buf += g
                g = buf
            p -= lr * g

    def adam_step(
        self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        """PyTorch's Adam (no weight decay)."""
        self.adam_t += 1
        c1 = 1.0 - beta1**self.adam_t
        c2 = 1.0 - beta2**self.adam_t
        for (p, g), m, v in zip(self._params_and_grads(), self.adam_m, self.adam_v):
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += (1.0 - beta2) * (g * g)
            denom = np.sqrt(v / c2)
            denom += eps
            p -= (lr / c1) * m / denom


# ================================================================ the matmul-only ceiling
def step_matmul_shapes(sizes: Sequence[int], batch_size: int) -> list[dict[str, Any]]:
    """The matmuls of one training step of an MLP, as {name, M, N, K, trans_a, trans_b}.

    Layer i (in -> out), batch B, computes C (M,N) = op(A) (M,K) @ op(B) (K,N):
      fwd  y  = x (B,in) @ w (out,in)^T    M=B,   N=out, K=in   trans_b
      dx   dx = dz (B,out) @ w (out,in)    M=B,   N=in,  K=out           (not for layer 0:
                                                                          the input needs no grad)
      dw   dw = dz (B,out)^T @ x (B,in)    M=out, N=in,  K=B    trans_a
    so an MLP of L layers has 3L - 1 matmuls per step.
    """
    shapes = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes.append(dict(name=f"L{i} fwd", M=batch_size, N=n_out, K=n_in, trans_a=0, trans_b=1))
        if i > 0:
            shapes.append(
                dict(name=f"L{i} dx", M=batch_size, N=n_in, K=n_out, trans_a=0, trans_b=0)
            )
        shapes.append(dict(name=f"L{i} dw", M=n_out, N=n_in, K=batch_size, trans_a=1, trans_b=0))
    return shapes


def matmul_flops(shapes: Sequence[dict[str, Any]]) -> int:
    """Floating-point operations of the matmuls: 2 M N K each."""
    return sum(2 * s["M"] * s["N"] * s["K"] for s in shapes)


def training_flops(sizes: Sequence[int], batch_size: int) -> int:
    """FLOPs of one training step, as counted for the fraction of peak: the matmuls only.

    Per layer (in -> out) at batch B: forward 2*B*in*out, backward 4*B*in*out (dW and dx,
    2*B*in*out each), except that the first layer's dx is not computed (the input needs no
    gradient). Bias adds, activations, softmax, cross-entropy and the optimizer update are
    not counted: they are O(B * width + parameters), well under 1% of the matmuls here.
    """
    return matmul_flops(step_matmul_shapes(sizes, batch_size))


def fma_peak(seconds: float = 0.25) -> dict[str, Any] | None:
    """The float32 FMA peak of one core, measured now: {"gflops", "isa", "seconds"}.

    csrc/fma_peak.c runs independent FMA chains with the instruction set the GEMM uses and
    returns the best of blocks of >= 0.5 ms over `seconds`. None without the C backend.
    """
    if "c" not in backends.available():
        return None
    lib = backends.load("c").lib
    gflops = float(lib.tg_fma_peak_gflops_f32(seconds))
    return {"gflops": gflops, "isa": ISA_NAMES.get(lib.tg_get_isa(), "?"), "seconds": seconds}


def fraction_of_peak(flops: float, step_ms: float, peak_gflops: float, threads: int = 1) -> float:
    """FLOPs / (step time x peak x threads): how much of the machine a step uses."""
    return flops / (step_ms * 1e-3 * peak_gflops * 1e9 * max(1, threads))


def _matmul_operands(
    shape: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(A, B as stored, op(A), op(B) as views, C): the arrays of one matmul shape."""
    m, n, k = shape["M"], shape["N"], shape["K"]
    a = rng.standard_normal((k, m) if shape["trans_a"] else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if shape["trans_b"] else (k, n), dtype=np.float32)
    op_a = a.T if shape["trans_a"] else a
    op_b = b.T if shape["trans_b"] else b
    return a, b, op_a, op_b, np.empty((m, n), np.float32)


def _matmul_ceiling_step(sizes: Sequence[int], batch_size: int) -> Step:
    """One call runs every matmul of a training step with numpy.matmul(out=...)."""
    rng = np.random.default_rng(0)
    products = [_matmul_operands(s, rng)[2:] for s in step_matmul_shapes(sizes, batch_size)]

    def step(i: int) -> None:
        for op_a, op_b, out in products:
            np.matmul(op_a, op_b, out=out)

    return step


def _time_call(fn: Callable[[], None], min_seconds: float = 0.002) -> float:
    """Seconds per call of fn, averaged over enough calls to last `min_seconds`."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    calls = max(1, int(min_seconds / once))
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def matmul_gflops(sizes: Sequence[int], batch_size: int, repeats: int = 5) -> list[dict[str, Any]]:
    """GFLOP/s of our C GEMM kernel and of numpy.matmul on each matmul of a training step.

    Both write into a preallocated output and read the same (possibly transposed) operands,
    so this compares the kernels alone. The C kernel is called directly through cffi, as
    the C backend does. (benchmarks/bench_matmul.py is the detailed, per-ISA version.)
    Each row: the shape, c_us, numpy_us, c_gflops, numpy_gflops and
    ratio = C speed / numpy speed; times are medians of `repeats`, C and numpy interleaved.
    """
    rng = np.random.default_rng(0)
    return [_matmul_speeds(s, rng, repeats) for s in step_matmul_shapes(sizes, batch_size)]


def _matmul_speeds(shape: dict[str, Any], rng: np.random.Generator, repeats: int) -> dict[str, Any]:
    c_backend = backends.load("c")
    a, b, op_a, op_b, out = _matmul_operands(shape, rng)
    pa, pb, pc = (c_backend.ffi.from_buffer("float[]", arr) for arr in (a, b, out))
    m, n, k, ta, tb = (shape[key] for key in ("M", "N", "K", "trans_a", "trans_b"))
    c_matmul = c_backend.lib.tg_matmul_f32

    def c_call() -> None:
        c_matmul(m, n, k, pa, ta, pb, tb, pc)

    def numpy_call() -> None:
        np.matmul(op_a, op_b, out=out)

    c_times, np_times = [], []
    for _ in range(repeats):  # interleaved, as everywhere
        c_times.append(_time_call(c_call))
        np_times.append(_time_call(numpy_call))
    flops = 2.0 * m * n * k
    c_s, np_s = statistics.median(c_times), statistics.median(np_times)
    return dict(
        shape,
        c_us=c_s * 1e6,
        numpy_us=np_s * 1e6,
        c_gflops=flops / c_s / 1e9,
        numpy_gflops=flops / np_s / 1e9,
        ratio=np_s / c_s,
    )


# ================================================================ the contenders' training steps
def _our_step(
    backend_name: str,
    sizes: Sequence[int],
    activation: str,
    optimizer: str,
    batches: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> Step:
    """Our library, public API only. The backend is chosen by the caller (see _run_steps)."""
    with backends.backend(backend_name):
        model = nn.MLP(sizes, activation=activation, seed=seed)
        if optimizer == "sgd":
            opt: optim.Optimizer = optim.SGD(model.parameters(), **SGD_SETTINGS)
        else:
            opt = optim.Adam(model.parameters(), **ADAM_SETTINGS)
    data = [(Tensor(x), Tensor(y, dtype=np.int64)) for x, y in batches]

    def step(i: int) -> None:
        x, y = data[i % len(data)]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def torch_mlp(sizes: Sequence[int], activation: str = "relu") -> Any:
    """torch.nn.Sequential of Linear layers with `activation` between them."""
    torch = _import_torch()
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
    torch = _import_torch()
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
    if contender in backends.NAMES:
        try:
            backends.load(contender)
        except backends.BackendUnavailableError as e:
            raise ContenderUnavailable(str(e)) from e
        return _our_step(contender, sizes, activation, optimizer, batches, seed)
    if contender == "torch":
        return _torch_step(sizes, activation, optimizer, batches, seed)
    if contender == "tinygrad":
        return _tinygrad_step(sizes, activation, optimizer, batches, seed)
    if contender == "numpy_by_hand":
        return _handwritten_step(sizes, activation, optimizer, batches, seed)
    if contender == "matmul_ceiling":
        return _matmul_ceiling_step(sizes, len(batches[0][0]))
    raise ValueError(f"unknown contender {contender!r}; choose from {CONTENDERS}")


def _run_steps(contender: str, step: Step, first: int, count: int) -> list[float]:
    """Seconds of each of `count` steps, batches first, first+1, ..."""
    times = []
    clock = time.perf_counter
    # Our library reads its backend per thread: select it around the loop, not inside a step.
    chosen = backends.backend(contender) if contender in backends.NAMES else nullcontext()
    with chosen:
        for i in range(first, first + count):
            t0 = clock()
            step(i)
            times.append(clock() - t0)
    return times


# ================================================================ time inside the C kernels
def c_kernel_time(step: Step, first: int, count: int) -> dict[str, float]:
    """How a C-backend step splits into time inside C kernels and Python and glue overhead.

    Every kernel the C backend calls goes through its per-dtype kernel tables
    (c_backend._KERNELS: `k.matmul`, `k.sgd_step`, ...). For this pass only, each entry is
    replaced by a wrapper that adds perf_counter() before and after the call to a counter;
    the tables are restored afterwards. Both parts come from the same steps, so that load
    changing between two passes cannot shift time from one to the other:

      kernel  = the time measured inside the wrappers - calls x shim_in, where shim_in is what
                the wrapper measures around a C function that does nothing (tg_get_num_threads):
                the clock's own cost and one bare cffi call;
      overhead = the instrumented step - kernel - calls x shim_out, where shim_out is what the
                wrapper adds outside its interval (a Python call, the counter updates), also
                measured on the do-nothing function.

    The bare cffi call thus counts as overhead, while the conversion of a kernel's arguments
    (a fraction of a microsecond) stays in kernel time: the overhead is if anything
    underestimated. Returns medians over the `count` steps: kernel_us, overhead_us,
    kernel_calls_per_step, shim_us_per_call (shim_in + shim_out) and instrumented_step_us.
    """
    c_backend = backends.load("c")
    clock = time.perf_counter
    spent, calls = [0.0], [0]

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            t0 = clock()
            result = fn(*args)
            spent[0] += clock() - t0
            calls[0] += 1
            return result

        return wrapper

    bare = c_backend.lib.tg_get_num_threads
    null = timed(bare)
    shim_in, shim_total, bare_s = [], [], []
    for _ in range(5):
        spent[0] = 0.0
        t0 = clock()
        for _ in range(1000):
            null()
        shim_total.append((clock() - t0) / 1000)
        shim_in.append(spent[0] / 1000)
        t0 = clock()
        for _ in range(1000):
            bare()
        bare_s.append((clock() - t0) / 1000)
    inside = min(shim_in)  # measured inside the wrapper: clock cost + a bare cffi call
    outside = max(0.0, min(shim_total) - inside)  # the wrapper's cost outside its interval
    bare_call = min(bare_s)

    tables = list(c_backend._KERNELS.values())
    originals = [(k, dict(vars(k))) for k in tables]
    kernel_s, overhead_s, step_s, calls_per_step = [], [], [], []
    try:
        for k, attrs in originals:
            for name, fn in attrs.items():
                if name not in ("dtype", "ctype"):
                    setattr(k, name, timed(fn))
        with backends.backend("c"):
            for i in range(first, first + count):
                spent[0], calls[0] = 0.0, 0
                t0 = clock()
                step(i)
                t = clock() - t0
                kernel = max(0.0, spent[0] - calls[0] * inside)
                step_s.append(t)
                kernel_s.append(kernel)
                overhead_s.append(t - kernel - calls[0] * (inside - bare_call + outside))
                calls_per_step.append(calls[0])
    finally:
        for k, attrs in originals:
            vars(k).update(attrs)
    return {
        "kernel_us": statistics.median(kernel_s) * 1e6,
        "overhead_us": statistics.median(overhead_s) * 1e6,
        "kernel_calls_per_step": statistics.median(calls_per_step),
        "shim_us_per_call": (inside - bare_call + outside) * 1e6,
        "instrumented_step_us": statistics.median(step_s) * 1e6,
    }


# ================================================================ training throughput
def measure_training(
    sizes: Sequence[int],
    batch_size: int,
    optimizer: str = "sgd",
    contenders: Sequence[str] = CONTENDERS,
    steps: int | None = None,
    warmup: int = 5,
    repeats: int = 5,
    activation: str = "relu",
    data_dir: str | None = None,
    threads: int | None = None,
    seed: int = 0,
    peak_seconds: float = 0.25,
) -> dict[str, Any]:
    """Training throughput and step latency of each contender on one configuration.

    Returns {"config": {...}, "results": {contender: {"samples_per_s", "step_ms",
    "samples_per_s_repeats", "fraction_of_peak"}}, "skipped": {contender: reason}}. `steps`
    timed steps per repeat (default: auto_steps(batch_size)), after `warmup` untimed ones.
    config also holds training_flops_per_step and the FMA peak measured just before the
    repeats (fma_peak_gflops, fma_peak_isa; None without the C backend, and then every
    fraction_of_peak is None). The C contender's result also has the time inside its C
    kernels and the Python and glue overhead (see c_kernel_time): kernel_us, overhead_us,
    kernel_calls_per_step, shim_us_per_call, instrumented_step_us.
    """
    if threads is not None:
        set_threads(threads)
    steps = steps or auto_steps(batch_size)
    batches = mnist_batches(batch_size, steps, data_dir, seed)
    built: dict[str, Step] = {}
    skipped: dict[str, str] = {}
    for name in contenders:
        try:
            built[name] = build_step(name, sizes, activation, optimizer, batches, seed)
        except ContenderUnavailable as e:
            skipped[name] = str(e)
    for name, step in built.items():
        _run_steps(name, step, 0, warmup)
    peak = fma_peak(peak_seconds)  # at benchmark time: right before the timed repeats

    throughputs: dict[str, list[float]] = {name: [] for name in built}
    step_times: dict[str, list[float]] = {name: [] for name in built}
    for r in range(repeats):
        for name, step in built.items():  # A, B, C, A, B, C, ...
            times = _run_steps(name, step, warmup + r * steps, steps)
            throughputs[name].append(batch_size * steps / sum(times))
            step_times[name].extend(times)

    results = {
        name: {
            "samples_per_s": statistics.median(throughputs[name]),
            "step_ms": statistics.median(step_times[name]) * 1e3,
            "samples_per_s_repeats": throughputs[name],
        }
        for name in built
    }
    flops = training_flops(sizes, batch_size)
    for r in results.values():
        r["fraction_of_peak"] = (
            None
            if peak is None
            else fraction_of_peak(flops, r["step_ms"], peak["gflops"], threads or 1)
        )
    if "c" in built:  # a separate pass with the shim: it slows the step it measures
        results["c"].update(c_kernel_time(built["c"], warmup + repeats * steps, max(steps, 20)))
    config = dict(
        model=list(sizes),
        activation=activation,
        batch_size=batch_size,
        optimizer=optimizer,
        dtype="float32",
        steps=steps,
        warmup=warmup,
        repeats=repeats,
        threads=threads,
        matmul_flops_per_step=matmul_flops(step_matmul_shapes(sizes, batch_size)),
        training_flops_per_step=flops,
        fma_peak_gflops=None if peak is None else peak["gflops"],
        fma_peak_isa=None if peak is None else peak["isa"],
    )
    return {"config": config, "results": results, "skipped": skipped}


def ratio(results: dict[str, Any], a: str, b: str) -> float | None:
    """samples/s of contender a divided by that of b, or None when either is missing."""
    ra, rb = results.get(a), results.get(b)
    if ra is None or rb is None:
        return None
    return ra["samples_per_s"] / rb["samples_per_s"]


# ================================================================ time to 98% test accuracy
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
    from .training import TrainConfig

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
    from .training import TrainConfig, train

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
    torch = _import_torch()
    if torch is None:
        raise ContenderUnavailable("PyTorch is not installed")
    import torch.nn.functional as torch_F

    from .data import DataLoader, load_mnist_arrays

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
