"""The benchmarks measure what they claim: the `bench` command's JSON schema and its thread
report; and, from the source tree's benchmarks/ folder, its scripts at a tiny size, the
hand-written NumPy reference MLP's gradients and updates, the matmuls counted by the ceiling,
the FMA-peak probe, the kernel-timing shim, the captured contender and its overhead, the target
checks, the thread scaling and the captured time-to-accuracy loop.

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
from tinygrad_mnist import nn, optim
from tinygrad_mnist.nn import functional as F

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the benchmarks' modules, as their scripts import them

import bench_train  # noqa: E402
import fma_peak  # noqa: E402
import handwritten_mlp  # noqa: E402
import kernel_timing  # noqa: E402
import step_matmuls  # noqa: E402
import thread_scaling  # noqa: E402
import time_to_accuracy  # noqa: E402
import training_contenders  # noqa: E402
import training_speed  # noqa: E402

HAS_C = "c" in tg.backends.available()


def _run(args: list[str]) -> subprocess.CompletedProcess:
    # outside the repo, so the installed package (or $PYTHONPATH's) is the one imported
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, *args], cwd=tempfile.gettempdir(), env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


# ---------------------------------------------------------------- the `bench` command
@pytest.mark.slow
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
    assert out["config"] == {
        "model": [784, 32, 16, 10], "activation": "relu", "batch_size": 16,
        "optimizer": "sgd", "dtype": "float32", "steps": 3, "warmup": 2, "repeats": 1,
        "threads": 1,
    }  # fmt: skip

    # every contender either ran or says why not
    assert set(out["training"]) | set(out["skipped"]) == {"c", "numpy", "torch"}
    assert "numpy" in out["training"]
    for why in out["skipped"].values():
        assert isinstance(why, str) and why
    rate = {name: r["samples_per_s"] for name, r in out["training"].items()}
    for name, r in out["training"].items():
        assert r["samples_per_s"] > 0 and r["step_ms"] > 0, name
        assert r["samples_per_s_repeats"] == [r["samples_per_s"]]  # one repeat: its median
        assert r["vs_numpy"] == pytest.approx(rate[name] / rate["numpy"])
        if "torch" in rate:
            assert r["vs_torch"] == pytest.approx(rate[name] / rate["torch"])
        else:
            assert r["vs_torch"] is None
        assert isinstance(r["threads_set_by"], str) and r["threads_set_by"]

    # threads: pinned to --threads (1) in-process, and reported as run
    env = out["environment"]
    if "c" in out["training"]:
        assert out["training"]["c"]["threads"] == 1 == env["c_threads"]
    if "torch" in out["training"]:
        assert out["training"]["torch"]["threads"] == 1
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        assert env["thread_pinning"] == "environment variables"
    else:
        assert env["thread_pinning"] == "threadpoolctl"
        assert out["training"]["numpy"]["threads"] == 1
        blas = [b for b in env["blas"] if b["user_api"] == "blas"]
        assert blas and all(b["num_threads"] == 1 for b in blas)

    if "c" in out["training"]:
        rows = out["matmul"]
        names = ["L0 fwd", "L0 dw", "L1 fwd", "L1 dx", "L1 dw", "L2 fwd", "L2 dx", "L2 dw"]
        assert [r["name"] for r in rows] == names
        assert [(r["M"], r["N"], r["K"]) for r in rows][:2] == [(16, 32, 784), (32, 784, 16)]
        for r in rows:
            assert r["c_gflops"] > 0 and r["numpy_gflops"] > 0
            assert r["ratio"] == pytest.approx(r["c_gflops"] / r["numpy_gflops"])
            assert r["c_gflops"] == pytest.approx(2 * r["M"] * r["N"] * r["K"] / r["c_us"] / 1e3)
    else:
        assert out["matmul"] == []
    assert isinstance(env["blas"], list)
    assert isinstance(env["cpu"], str) and env["cpu"]
    if HAS_PLOT_EXTRA:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_bench_table_prints_every_contender_and_its_threads(mnist_dir: Path) -> None:
    args = ["-m", "tinygrad_mnist", "bench", "--steps", "2", "--repeats", "1"]
    args += ["--model", "784,16,10", "--batch-size", "8", "--data-dir", str(mnist_dir)]
    proc = _run(args)
    assert proc.returncode == 0, proc.stderr
    assert "samples/s" in proc.stdout and "ours, NumPy" in proc.stdout
    assert "vs numpy" in proc.stdout and "threads" in proc.stdout and "CPU:" in proc.stdout
    if HAS_C:
        assert "tg_set_num_threads" in proc.stdout and "C GFLOP/s" in proc.stdout


def test_bench_is_not_in_the_package() -> None:
    """The benchmark code and the FMA probe live in benchmarks/, not in the installed package."""
    package = REPO / "tinygrad_mnist"
    assert not (package / "benchmark.py").exists()
    assert not (REPO / "csrc" / "fma_peak.c").exists()
    assert (BENCHMARKS / "fma_peak.c").exists()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "fma_peak" not in text and "import benchmark" not in text, path


# ---------------------------------------------------------------- the benchmarks/ scripts
@pytest.mark.slow
def test_bench_train_script_runs_a_tiny_config(mnist_dir: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "train.json"
    args = [str(REPO / "benchmarks" / "bench_train.py"), "--model", "784,16,10", "--batch", "8"]
    args += ["--optimizer", "adam", "--threads", "1", "--steps", "2", "--repeats", "1"]
    contenders = ["numpy", "numpy_by_hand", "matmul_ceiling"]
    contenders += ["c", "c_capture"] if HAS_C else []
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
    if HAS_C:
        assert config["config"]["fma_peak_gflops"] > 0
        c = config["results"]["c"]
        assert c["fraction_of_peak"] > 0 and c["kernel_us"] > 0 and "overhead_us" in c
        cap = config["results"]["c_capture"]
        assert cap["timed_replays"] == 2  # --steps 2 x --repeats 1, every one replayed
        assert cap["kernel_us"] > 0 and cap["kernel_calls_per_step"] >= 5
        assert cap["kernel_us"] < cap["instrumented_step_us"]
        assert "One-thread targets" in proc.stdout  # met or not
        assert "Cap/torch" in proc.stdout and "cap ovh" in proc.stdout


@pytest.mark.slow
@pytest.mark.skipif(not HAS_C, reason="bench_matmul.py times the C GEMM")
def test_bench_matmul_script_runs_a_tiny_config(tmp_path: Path) -> None:
    out_path = tmp_path / "matmul.json"
    args = [str(BENCHMARKS / "bench_matmul.py"), "--model", "784,16,10", "--batch", "8"]
    proc = _run([*args, "--repeats", "1", "--json", str(out_path)])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(out_path.read_text())
    # 3 matmuls per layer (the first layer's dx too), every one checked against float64
    assert [r["op"] for r in out["rows"]] == [
        "L0 fwd",
        "L0 dx",
        "L0 dw",
        "L1 fwd",
        "L1 dx",
        "L1 dw",
    ]
    assert all(r["rel_err"] < 1e-5 and r["c_gflops"] > 0 for r in out["rows"])
    assert out["fma_peak_gflops"] is None or out["fma_peak_gflops"] > 0


@pytest.mark.slow
def test_bench_scalar_script_runs_a_tiny_config(mnist_dir: Path) -> None:
    args = [str(BENCHMARKS / "bench_scalar.py"), "--data-dir", str(mnist_dir)]
    proc = _run([*args, "--images", "1", "--repeats", "1", "--json"])
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    assert rows[0]["engine"] == "tinygrad_mnist.Value"
    # 784 inputs, 784*16 products and 16 sums, ...: the forward graph of one image is big
    assert rows[0]["nodes_per_image"] > 784 * 16 and rows[0]["nodes_per_s"] > 0


# ---------------------------------------------------------------- the hand-written NumPy MLP
SIZES = [20, 16, 12, 10]


def _models(seed: int = 0) -> tuple[nn.MLP, handwritten_mlp.HandwrittenMLP]:
    """Our MLP and a hand-written one holding the same weights."""
    ours = nn.MLP(SIZES, activation="relu", seed=seed)
    linears = [ours[i] for i in range(len(ours)) if isinstance(ours[i], nn.Linear)]
    by_hand = handwritten_mlp.HandwrittenMLP(
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
        opt: optim.Optimizer = optim.SGD(ours.parameters(), **training_contenders.SGD_SETTINGS)
    else:
        opt = optim.Adam(ours.parameters(), **training_contenders.ADAM_SETTINGS)
    for step in range(3):
        x, y = _batch(seed=step)
        opt.zero_grad()
        F.cross_entropy(ours(tg.Tensor(x)), tg.Tensor(y, dtype=np.int64)).backward()
        opt.step()
        by_hand.loss_and_gradients(x, y)
        if which == "sgd":
            by_hand.sgd_step(**training_contenders.SGD_SETTINGS)
        else:
            by_hand.adam_step(**training_contenders.ADAM_SETTINGS)
    linears = [ours[i] for i in range(len(ours)) if isinstance(ours[i], nn.Linear)]
    for lin, w, b in zip(linears, by_hand.weights, by_hand.biases):
        np.testing.assert_allclose(w, lin.weight.numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b, lin.bias.numpy(), rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- the matmul-only ceiling
def test_ceiling_counts_the_matmuls_of_one_step() -> None:
    shapes = step_matmuls.step_matmul_shapes([784, 128, 64, 10], 32)
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
    assert step_matmuls.matmul_flops(shapes) == 2 * 32 * (3 * fwd - 784 * 128)


def test_ceiling_shapes_are_the_products_of_a_real_step() -> None:
    """Every shape fits its operands, and the set of (M, N, K) is what the hand-written MLP
    multiplies in one step: forward, dx for all but the first layer, dw."""
    sizes, batch = [30, 20, 10], 4
    rng = np.random.default_rng(0)
    for s in step_matmuls.step_matmul_shapes(sizes, batch):
        _, _, op_a, op_b, out = step_matmuls.matmul_operands(s, rng)
        assert op_a.shape == (s["M"], s["K"]) and op_b.shape == (s["K"], s["N"])
        assert out.shape == (s["M"], s["N"])
    batches = [(np.zeros((batch, 30), np.float32), np.zeros(batch, np.int64))]
    step = training_contenders.build_step("matmul_ceiling", sizes, "relu", "sgd", batches)
    step(0)  # runs


# ---------------------------------------------------------------- against the machine's peak
def test_training_flops_count_forward_and_backward() -> None:
    # 784-128-64-10 at batch 512: about 233 MFLOP
    assert step_matmuls.training_flops([784, 128, 64, 10], 512) == 232_652_800
    # one layer: forward 2*B*in*out and dW 2*B*in*out; no dx for the input
    assert step_matmuls.training_flops([5, 3], 4) == 2 * (2 * 4 * 5 * 3)
    # a second layer adds its forward, dW and dx
    assert step_matmuls.training_flops([5, 3, 2], 4) == 2 * 2 * 4 * 5 * 3 + 3 * 2 * 4 * 3 * 2


def test_fraction_of_peak_is_flops_over_time_times_peak() -> None:
    # 100 MFLOP in 1 ms is 100 GFLOP/s: half of a 200 GFLOP/s core, a quarter of two
    assert fma_peak.fraction_of_peak(100e6, 1.0, 200.0) == pytest.approx(0.5)
    assert fma_peak.fraction_of_peak(100e6, 1.0, 200.0, threads=2) == pytest.approx(0.25)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_C, reason="needs the C kernels (the peak is of their ISA)")
def test_fma_peak_is_measured_for_as_long_as_asked() -> None:
    import time

    t0 = time.perf_counter()
    peak = fma_peak.fma_peak(0.05)
    elapsed = time.perf_counter() - t0
    if peak is None:  # no C compiler: then it says so in one line
        why = fma_peak.why_no_peak()
        assert why and "\n" not in why
        pytest.skip(why)
    # the loop really ran (a dropped loop would return at once or report an absurd rate) ...
    assert elapsed >= 0.05
    # ... and its rate is one a core can have: 1 GFLOP/s is a slow emulator, 10 TFLOP/s none
    assert 0.01 < peak["gflops"] < 1e4
    assert peak["isa"] == training_speed.environment()["c_isa"] == fma_peak.gemm_isa()


@pytest.mark.slow
@pytest.mark.skipif(not HAS_C, reason="needs the C kernels (the peak is of their ISA)")
def test_fma_peak_probe_runs_every_isa_this_cpu_has_and_refuses_the_rest() -> None:
    """fma_peak.c checks the CPU itself: an ISA it lacks gives -1, never an illegal
    instruction; seconds = 0 still times a few blocks."""
    if fma_peak.fma_peak(0.0) is None:
        pytest.skip(fma_peak.why_no_peak())
    probe = fma_peak._probe()
    lib = tg.backends.load("c").lib
    best = lib.tg_get_isa()
    try:
        for code, name in fma_peak.ISA_NAMES.items():
            has = lib.tg_set_isa(code) == code  # the kernels refuse an ISA the CPU lacks
            gflops = probe.fma_peak_gflops_f32(name.encode(), 0.0)
            if has:
                assert 0.01 < gflops < 1e4, name
            elif name != "generic":
                assert gflops == -1, name
    finally:
        lib.tg_set_isa(best)
    assert probe.fma_peak_gflops_f32(b"sse9", 0.0) == -1


@pytest.mark.skipif(not HAS_C, reason="needs the C kernels")
def test_c_kernel_time_counts_every_kernel_call_and_restores_the_kernels() -> None:
    c_backend = tg.backends.load("c")
    a = np.ones((64, 64), np.float32)
    names: list[str] = []

    def step(i: int) -> None:  # two kernel calls, plus some NumPy glue that is not counted
        c_backend.matmul(a, a, False, False)
        c_backend.matmul(a, a, False, True)
        np.ones(1000).sum()

    prof = kernel_timing.c_kernel_time(step, 0, 5)
    assert prof["kernel_calls_per_step"] == 2
    assert 0 < prof["kernel_us"] < prof["instrumented_step_us"]
    assert prof["overhead_us"] > 0  # the NumPy glue and the Python around the calls
    assert prof["shim_us_per_call"] > 0

    def counting(name: str, fn):  # the public hook: each kernel's C name, and the kernel
        def wrapper(*args):
            names.append(name)
            return fn(*args)

        return wrapper

    with c_backend.kernels_wrapped(counting):
        step(0)
    assert names == ["tg_matmul_f32", "tg_matmul_f32"]
    step(0)  # the hook is gone after the block: nothing more is counted
    assert len(names) == 2

    def failing(i: int) -> None:
        c_backend.matmul(a, a, False, False)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        kernel_timing.c_kernel_time(failing, 0, 1)
    with c_backend.kernels_wrapped(counting):  # ... also after an error: one layer of wrappers
        step(0)
    assert len(names) == 4
    step(0)
    assert len(names) == 4
    np.testing.assert_allclose(c_backend.matmul(a, a, False, False), a @ a)


def test_ratio_and_parse_sizes() -> None:
    results = {"c": {"samples_per_s": 300.0}, "torch": {"samples_per_s": 100.0}}
    assert training_speed.ratio(results, "c", "torch") == pytest.approx(3.0)
    assert training_speed.ratio(results, "c", "tinygrad") is None
    assert training_speed.parse_sizes("784, 128,10") == [784, 128, 10]
    with pytest.raises(ValueError):
        training_speed.parse_sizes("784")


# ---------------------------------------------------------------- the captured contender
def _tiny_batches(n: int = 4, batch: int = 8, width: int = 20) -> list:
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((batch, width), dtype=np.float32), rng.integers(0, 10, batch))
        for _ in range(n)
    ]


@pytest.mark.skipif(not HAS_C, reason="capture replays the C kernels")
@pytest.mark.parametrize("which", ["sgd", "adam"])
def test_captured_contender_replays_and_trains_as_the_eager_one(which: str) -> None:
    batches = _tiny_batches()
    sizes = [20, 16, 10]
    captured = training_contenders.build_step("c_capture", sizes, "relu", which, batches)
    assert isinstance(captured, training_contenders.CapturedStep)
    jit = captured.jit
    assert jit.replays == 1 and jit.notes == []  # built: record, proof, one replay
    assert jit.plan is not None and jit.plan.n >= 5
    assert training_contenders.backend_of("c_capture") == "c"
    assert training_contenders.backend_of("torch") is None
    # the timed steps are replays, on the batches asked for
    training_speed.run_steps("c_capture", captured, 3, 4)
    assert jit.replays == 5 and jit.notes == []
    eager = training_contenders.build_step("c", sizes, "relu", which, batches)
    training_speed.run_steps("c", eager, 0, 7)
    # same init, same batches, same seven steps: the same weights, bit for bit
    for a, b in zip(_model_of(captured.jit.fn).parameters(), _model_of(eager).parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _model_of(step) -> nn.MLP:
    """The MLP a contender's step function trains (the one nn.MLP among its closure's cells)."""
    (model,) = [c.cell_contents for c in step.__closure__ if isinstance(c.cell_contents, nn.MLP)]
    return model


@pytest.mark.skipif(not HAS_C, reason="capture replays the C kernels")
def test_a_step_that_stays_eager_is_not_a_captured_contender() -> None:
    data = [(tg.Tensor(x), tg.Tensor(y, dtype=np.int64)) for x, y in _tiny_batches()]
    model = nn.MLP([20, 10], seed=0)

    def returns_a_float(x: tg.Tensor, y: tg.Tensor) -> float:
        return F.cross_entropy(model(x), y).item()  # not a Tensor: TinyJit keeps it eager

    step = training_contenders.CapturedStep(tg.TinyJit(returns_a_float, quiet=True), data)
    with tg.backends.backend("c"):
        for i in range(3):
            step(i)
    with pytest.raises(training_contenders.ContenderUnavailable, match="eager: .*returns float"):
        training_contenders.check_captured(step)
    with pytest.raises(RuntimeError, match="0 of 2 steps were replays"):
        kernel_timing.captured_kernel_time(step, 0, 2)
    assert step.jit.profile is False  # switched off again, also after the error


@pytest.mark.skipif(not HAS_C, reason="capture replays the C kernels")
def test_captured_kernel_time_splits_a_replay_into_kernels_and_overhead() -> None:
    step = training_contenders.build_step("c_capture", [20, 16, 10], "relu", "sgd", _tiny_batches())
    prof = kernel_timing.captured_kernel_time(step, 0, 6)
    plan = step.jit.plan
    assert prof["replays"] == 6 and prof["kernel_calls_per_step"] == plan.n
    assert 0 < prof["kernel_us"] < prof["instrumented_step_us"]
    # overhead = wall - kernels: the Python of TinyJit's call at least, never negative here
    assert prof["overhead_us"] == pytest.approx(
        prof["instrumented_step_us"] - prof["kernel_us"], abs=prof["instrumented_step_us"]
    )
    assert prof["overhead_us"] > 0
    assert step.jit.profile is False
    assert all(plan.seconds[j] >= 0 for j in range(plan.n))  # the last replay's clock


# ---------------------------------------------------------------- targets and thread ratios
def _config(model: list[int], batch: int, threads: int, results: dict) -> dict:
    return {"config": {"model": model, "batch_size": batch, "threads": threads}, "results": results}


def test_target_checks_apply_the_captured_step_targets() -> None:
    small, wide = [784, 128, 64, 10], [784, 512, 256, 10]
    cap = {"samples_per_s": 300.0, "fraction_of_peak": 0.62, "overhead_us": 19.5}
    torch = {"samples_per_s": 100.0, "fraction_of_peak": 0.3}
    configs = [
        _config(small, 128, 1, {"c_capture": cap, "c": dict(cap, overhead_us=300), "torch": torch}),
        _config(wide, 512, 1, {"c_capture": dict(cap, samples_per_s=120.0), "torch": torch}),
        _config(wide, 32, 1, {"c": {"samples_per_s": 200.0, "fraction_of_peak": 0.1}, "torch": torch}),
        _config(wide, 512, 2, {"c_capture": cap, "torch": torch}),  # two threads: no target
    ]  # fmt: skip
    checks = {what: (value, met) for what, value, met in bench_train.target_checks(configs)}
    assert checks == {
        "captured C fraction of peak >= 0.60, 784-128-64-10 batch 128": ("0.62", True),
        "captured C overhead <= 20 us, 784-128-64-10 batch 128": ("19.5 us", True),
        "captured C/torch >= 2.5x, 784-128-64-10 batch 128": ("3.00x", True),
        "captured C fraction of peak >= 0.75, 784-512-256-10 batch 512": ("0.62", False),
        "captured C/torch >= 1.3x, 784-512-256-10 batch 512": ("1.20x", False),
        "eager C/torch >= 2.5x, 784-512-256-10 batch 32": ("2.00x", False),
    }


def test_thread_ratios_pair_each_configuration_with_its_one_thread_run(capsys) -> None:
    wide = [784, 512, 256, 10]
    configs = [
        dict(_config(wide, 512, 1, {"c_capture": {"samples_per_s": 100.0}}), config={
            "model": wide, "batch_size": 512, "threads": 1, "optimizer": "sgd"}),
        dict(_config(wide, 512, 2, {"c_capture": {"samples_per_s": 180.0}}), config={
            "model": wide, "batch_size": 512, "threads": 2, "optimizer": "sgd"}),
    ]  # fmt: skip
    bench_train.print_thread_scaling(configs)
    out = capsys.readouterr().out
    assert "c_capture  784-512-256-10 batch 512 sgd: 2 threads / 1 = 1.80x" in out


@pytest.mark.slow  # two threads on a busy two-core machine can take seconds
@pytest.mark.skipif(not HAS_C, reason="the thread scaling is of the C step")
def test_thread_scaling_takes_turns_and_reports_each_count(mnist_dir: Path) -> None:
    res = thread_scaling.measure_thread_scaling(
        [784, 16, 10], 8, [2], steps=2, warmup=1, repeats=2, data_dir=str(mnist_dir)
    )
    assert list(res["samples_per_s"]) == ["1", "2"]  # one thread is always measured
    assert res["threads_run"]["1"] == 1
    assert all(len(v) == 2 and min(v) > 0 for v in res["repeats"].values())
    assert res["vs_one"]["1"] == 1.0 and res["vs_one_paired"]["1"] == 1.0
    med = res["samples_per_s"]
    assert res["vs_one"]["2"] == pytest.approx(med["2"] / med["1"])
    assert tg.backends.load("c").lib.tg_get_num_threads() == 1  # put back
    with pytest.raises(ValueError, match="c or c_capture"):
        thread_scaling.measure_thread_scaling([784, 16, 10], 8, [1], contender="torch")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_C, reason="capture replays the C kernels")
def test_time_to_accuracy_captured_loop_learns_as_train_does(mnist_dir: Path) -> None:
    """One epoch of the default recipe: train's own loop and the TinyJit loop reach the same
    test accuracy (the captured step gives the same bits as the eager one)."""
    ours = time_to_accuracy.time_to_accuracy("ours", 0.9, str(mnist_dir), epochs=1)
    jit = time_to_accuracy.time_to_accuracy("ours_captured", 0.9, str(mnist_dir), epochs=1)
    assert jit["captured"] is True and jit["reached"] and jit["epoch_reached"] == 1
    assert jit["epochs"][0]["test_accuracy"] == ours["epochs"][0]["test_accuracy"] > 0.9
    assert ours["captured"] is bool(getattr(time_to_accuracy.TrainConfig(), "capture", False))
    with pytest.raises(ValueError, match="framework must be one of"):
        time_to_accuracy.time_to_accuracy("jax", 0.9, str(mnist_dir), epochs=1)
