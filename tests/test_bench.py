"""The benchmarks measure what they claim: the `bench` command's JSON schema, the hand-written
NumPy reference MLP's gradients and updates, and the matmuls counted by the ceiling.

No timing thresholds here: speed is measured by the benchmarks (benchmarks/README.md), never
by tests, which must pass on any machine under any load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import HAS_PLOT_EXTRA

import tinygrad_mnist as tg
from tinygrad_mnist import benchmark, nn, optim
from tinygrad_mnist.nn import functional as F

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    # outside the repo, so the installed package (or $PYTHONPATH's) is the one imported
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, *args], cwd=tempfile.gettempdir(), env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


# ---------------------------------------------------------------- the `bench` command
def test_bench_json_schema_and_plot(mnist_dir: Path, tmp_path: Path) -> None:
    plot = tmp_path / "bench.png"
    args = ["-m", "tinygrad_mnist", "bench", "--json", "--steps", "3", "--repeats", "1"]
    args += ["--model", "784,32,16,10", "--batch-size", "16", "--data-dir", str(mnist_dir)]
    if HAS_PLOT_EXTRA:  # the plot is optional: without the extra, the JSON is still checked
        args += ["--plot", str(plot)]
    proc = _run(args)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)

    assert set(out) == {"config", "training", "skipped", "matmul", "environment"}
    cfg = out["config"]
    assert cfg["model"] == [784, 32, 16, 10]
    assert (cfg["batch_size"], cfg["steps"], cfg["repeats"]) == (16, 3, 1)
    assert cfg["optimizer"] == "sgd" and cfg["dtype"] == "float32"
    assert cfg["matmul_flops_per_step"] == benchmark.matmul_flops(
        benchmark.step_matmul_shapes([784, 32, 16, 10], 16)
    )
    # forward 2*B*in*out per layer; backward 4*B*in*out, minus the first layer's dx
    fwd = 784 * 32 + 32 * 16 + 16 * 10
    assert cfg["training_flops_per_step"] == 2 * 16 * (3 * fwd - 784 * 32)

    # every contender either ran or says why not
    assert set(out["training"]) | set(out["skipped"]) == {"c", "numpy", "torch"}
    assert "numpy" in out["training"]
    for name, r in out["training"].items():
        assert r["samples_per_s"] > 0 and r["step_ms"] > 0, name
        assert len(r["samples_per_s_repeats"]) == 1
        if "torch" in out["training"]:
            assert r["vs_torch"] > 0
        else:
            assert r["vs_torch"] is None
    for why in out["skipped"].values():
        assert isinstance(why, str) and why

    # fraction of the measured FMA peak, in every row that ran
    peak = cfg["fma_peak_gflops"]
    if "c" in out["training"]:
        assert 0.01 < peak < 1e4 and cfg["fma_peak_isa"] == out["environment"]["c_isa"]
        for name, r in out["training"].items():
            expect = cfg["training_flops_per_step"] / (r["step_ms"] * 1e-3 * peak * 1e9)
            assert r["fraction_of_peak"] == pytest.approx(expect), name
        c = out["training"]["c"]  # time inside the C kernels, and the rest
        # per step: 3 linear forwards, 3 backwards, cross-entropy and the scaling of its
        # gradient, and one SGD update for all 6 parameters
        assert c["kernel_calls_per_step"] == 9
        assert 0 < c["kernel_us"] < c["instrumented_step_us"] and c["overhead_us"] > 0
        # the two parts and the shim's cost make up the instrumented step (medians: roughly)
        parts = (
            c["kernel_us"] + c["overhead_us"] + c["kernel_calls_per_step"] * c["shim_us_per_call"]
        )
        assert parts == pytest.approx(c["instrumented_step_us"], rel=0.3)
        assert c["shim_us_per_call"] > 0
    else:
        assert peak is None and cfg["fma_peak_isa"] is None
        assert all(r["fraction_of_peak"] is None for r in out["training"].values())

    if "c" in out["training"]:
        rows = out["matmul"]
        names = ["L0 fwd", "L0 dw", "L1 fwd", "L1 dx", "L1 dw", "L2 fwd", "L2 dx", "L2 dw"]
        assert [r["name"] for r in rows] == names
        for r in rows:
            assert r["c_gflops"] > 0 and r["numpy_gflops"] > 0 and r["ratio"] > 0
            assert r["c_us"] > 0 and r["numpy_us"] > 0
    assert isinstance(out["environment"]["blas"], list)
    assert isinstance(out["environment"]["cpu"], str) and out["environment"]["cpu"]
    if HAS_PLOT_EXTRA:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_table_prints_every_contender(mnist_dir: Path) -> None:
    args = ["-m", "tinygrad_mnist", "bench", "--steps", "2", "--repeats", "1"]
    args += ["--model", "784,16,10", "--batch-size", "8", "--data-dir", str(mnist_dir)]
    proc = _run(args)
    assert proc.returncode == 0, proc.stderr
    assert "samples/s" in proc.stdout and "ours, NumPy" in proc.stdout
    assert "% peak" in proc.stdout and "MFLOP" in proc.stdout
    if "c" in tg.backends.available():
        assert "FMA peak, measured now" in proc.stdout and "glue overhead" in proc.stdout


def test_bench_train_script_runs_a_tiny_config(mnist_dir: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "train.json"
    args = [str(REPO / "benchmarks" / "bench_train.py"), "--model", "784,16,10", "--batch", "8"]
    args += ["--optimizer", "adam", "--threads", "1", "--steps", "2", "--repeats", "1"]
    contenders = ["numpy", "numpy_by_hand", "matmul_ceiling"]
    has_c = "c" in tg.backends.available()
    contenders += ["c"] if has_c else []
    args += ["--warmup", "1", "--contenders", *contenders]
    args += ["--data-dir", str(mnist_dir), "--json", str(out_path)]
    proc = _run(args)
    assert proc.returncode == 0, proc.stderr
    assert "np/hand" in proc.stdout and "Against the machine" in proc.stdout
    runs = json.loads(out_path.read_text())["runs"]
    assert [r["threads"] for r in runs] == [1]
    assert runs[0]["environment"]["cpu"]
    (config,) = runs[0]["configs"]
    assert config["config"]["optimizer"] == "adam"
    assert config["config"]["training_flops_per_step"] == 2 * 8 * (
        3 * (784 * 16 + 16 * 10) - 784 * 16
    )
    assert set(config["results"]) == set(contenders)
    assert all(r["samples_per_s"] > 0 for r in config["results"].values())
    if has_c:
        assert config["config"]["fma_peak_gflops"] > 0
        c = config["results"]["c"]
        assert c["fraction_of_peak"] > 0 and c["kernel_us"] > 0 and "overhead_us" in c
        assert "Issue 14 targets" in proc.stdout  # the one-thread targets, met or not


# ---------------------------------------------------------------- the hand-written NumPy MLP
SIZES = [20, 16, 12, 10]


def _models(seed: int = 0) -> tuple[nn.MLP, benchmark.HandwrittenMLP]:
    """Our MLP and a hand-written one holding the same weights."""
    ours = nn.MLP(SIZES, activation="relu", seed=seed)
    linears = [ours[i] for i in range(len(ours)) if isinstance(ours[i], nn.Linear)]
    by_hand = benchmark.HandwrittenMLP(
        [lin.weight.numpy() for lin in linears], [lin.bias.numpy() for lin in linears]
    )
    return ours, by_hand


def _batch(n: int = 8, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, SIZES[0]), dtype=np.float32), rng.integers(0, 10, n)


def test_handwritten_mlp_gradients_match_autograd(backend_name: str) -> None:
    ours, by_hand = _models()
    x, y = _batch()
    loss = F.cross_entropy(ours(tg.Tensor(x)), tg.Tensor(y, dtype=np.int64))
    loss.backward()
    hand_loss = by_hand.loss_and_gradients(x, y)

    assert hand_loss == pytest.approx(loss.item(), rel=1e-5)
    linears = [ours[i] for i in range(len(ours)) if isinstance(ours[i], nn.Linear)]
    for lin, dw, db in zip(linears, by_hand.grad_weights, by_hand.grad_biases):
        np.testing.assert_allclose(dw, lin.weight.grad, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(db, lin.bias.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("which", ["sgd", "adam"])
def test_handwritten_updates_match_our_optimizers(backend_name: str, which: str) -> None:
    ours, by_hand = _models()
    if which == "sgd":
        opt: optim.Optimizer = optim.SGD(ours.parameters(), **benchmark.SGD_SETTINGS)
    else:
        opt = optim.Adam(ours.parameters(), **benchmark.ADAM_SETTINGS)
    for step in range(3):
        x, y = _batch(seed=step)
        opt.zero_grad()
        F.cross_entropy(ours(tg.Tensor(x)), tg.Tensor(y, dtype=np.int64)).backward()
        opt.step()
        by_hand.loss_and_gradients(x, y)
        if which == "sgd":
            by_hand.sgd_step(**benchmark.SGD_SETTINGS)
        else:
            by_hand.adam_step(**benchmark.ADAM_SETTINGS)
    linears = [ours[i] for i in range(len(ours)) if isinstance(ours[i], nn.Linear)]
    for lin, w, b in zip(linears, by_hand.weights, by_hand.biases):
        np.testing.assert_allclose(w, lin.weight.numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b, lin.bias.numpy(), rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- the matmul-only ceiling
def test_ceiling_counts_the_matmuls_of_one_step() -> None:
    shapes = benchmark.step_matmul_shapes([784, 128, 64, 10], 32)
    as_tuples = [(s["name"], s["M"], s["N"], s["K"], s["trans_a"], s["trans_b"]) for s in shapes]
    assert as_tuples == [
        ("L0 fwd", 32, 128, 784, 0, 1),  # x (32,784) @ w0 (128,784)^T
        ("L0 dw", 128, 784, 32, 1, 0),  # dz^T (128,32) @ x (32,784); no dx for the input
        ("L1 fwd", 32, 64, 128, 0, 1),
        ("L1 dx", 32, 128, 64, 0, 0),  # dz (32,64) @ w1 (64,128)
        ("L1 dw", 64, 128, 32, 1, 0),
        ("L2 fwd", 32, 10, 64, 0, 1),
        ("L2 dx", 32, 64, 10, 0, 0),
        ("L2 dw", 10, 64, 32, 1, 0),
    ]
    # 3 per layer minus the first layer's dx; 2 M N K flops each
    fwd = 784 * 128 + 128 * 64 + 64 * 10
    assert benchmark.matmul_flops(shapes) == 2 * 32 * (3 * fwd - 784 * 128)


def test_ceiling_shapes_are_the_products_of_a_real_step() -> None:
    """Every shape fits its operands, and the set of (M, N, K) is what the hand-written MLP
    multiplies in one step: forward, dx for all but the first layer, dw."""
    sizes, batch = [30, 20, 10], 4
    rng = np.random.default_rng(0)
    for s in benchmark.step_matmul_shapes(sizes, batch):
        _, _, op_a, op_b, out = benchmark._matmul_operands(s, rng)
        assert op_a.shape == (s["M"], s["K"]) and op_b.shape == (s["K"], s["N"])
        assert out.shape == (s["M"], s["N"])
    batches = [(np.zeros((batch, 30), np.float32), np.zeros(batch, np.int64))]
    step = benchmark.build_step("matmul_ceiling", sizes, "relu", "sgd", batches)
    step(0)  # runs


# ---------------------------------------------------------------- against the machine's peak
def test_training_flops_count_forward_and_backward() -> None:
    # 784-128-64-10 at batch 512: the "about 233 MFLOP"
    assert benchmark.training_flops([784, 128, 64, 10], 512) == 232_652_800
    # one layer: forward 2*B*in*out and dW 2*B*in*out; no dx for the input
    assert benchmark.training_flops([5, 3], 4) == 2 * (2 * 4 * 5 * 3)
    # a second layer adds its forward, dW and dx
    assert benchmark.training_flops([5, 3, 2], 4) == 2 * 2 * 4 * 5 * 3 + 3 * 2 * 4 * 3 * 2


def test_fraction_of_peak_is_flops_over_time_times_peak() -> None:
    # 100 MFLOP in 1 ms is 100 GFLOP/s: half of a 200 GFLOP/s core, a quarter of two
    assert benchmark.fraction_of_peak(100e6, 1.0, 200.0) == pytest.approx(0.5)
    assert benchmark.fraction_of_peak(100e6, 1.0, 200.0, threads=2) == pytest.approx(0.25)


@pytest.mark.skipif("c" not in tg.backends.available(), reason="needs the C kernels")
def test_fma_peak_is_measured_for_as_long_as_asked() -> None:
    import time

    t0 = time.perf_counter()
    peak = benchmark.fma_peak(0.05)
    elapsed = time.perf_counter() - t0
    assert peak is not None
    # the loop really ran (a dropped loop would return at once or report an absurd rate) ...
    assert elapsed >= 0.05
    # ... and its rate is one a core can have: 1 GFLOP/s is a slow emulator, 10 TFLOP/s none
    assert 0.01 < peak["gflops"] < 1e4
    assert peak["isa"] == benchmark.environment()["c_isa"]


@pytest.mark.skipif("c" not in tg.backends.available(), reason="needs the C kernels")
def test_c_kernel_time_counts_every_kernel_call_and_restores_the_kernels() -> None:
    c_backend = tg.backends.load("c")
    k = c_backend._KERNELS[np.dtype(np.float32)]
    matmul_before = k.matmul
    a = np.ones((64, 64), np.float32)

    def step(i: int) -> None:  # two kernel calls, plus some NumPy glue that is not counted
        c_backend.matmul(a, a, False, False)
        c_backend.matmul(a, a, False, True)
        np.ones(1000).sum()

    prof = benchmark.c_kernel_time(step, 0, 5)
    assert prof["kernel_calls_per_step"] == 2
    assert 0 < prof["kernel_us"] < prof["instrumented_step_us"]
    assert prof["overhead_us"] > 0  # the NumPy glue and the Python around the calls
    assert prof["shim_us_per_call"] > 0
    assert k.matmul is matmul_before  # the shim is gone afterwards

    def failing(i: int) -> None:
        c_backend.matmul(a, a, False, False)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        benchmark.c_kernel_time(failing, 0, 1)
    assert k.matmul is matmul_before  # ... also after an error


def test_ratio_and_parse_sizes() -> None:
    results = {"c": {"samples_per_s": 300.0}, "torch": {"samples_per_s": 100.0}}
    assert benchmark.ratio(results, "c", "torch") == pytest.approx(3.0)
    assert benchmark.ratio(results, "c", "tinygrad") is None
    assert benchmark.parse_sizes("784, 128,10") == [784, 128, 10]
    with pytest.raises(ValueError):
        benchmark.parse_sizes("784")
