"""The `tinygrad-mnist` command, run as `python -m tinygrad_mnist` in a subprocess (and, for
option errors, in-process through `cli.main`)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST_DIR, assert_clean_error, run_cli

from tinygrad_mnist import cli
from tinygrad_mnist.serialization import load_model
from tinygrad_mnist.training import TEST_SIGINT_ENV

QUICK = ["--train-limit", "2000", "--test-limit", "1000", "--no-progress", "--backend", "numpy"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One quick `train` run: (its directory, its CompletedProcess, its metrics dict)."""
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST files are not at {MNIST_DIR}")
    out = tmp_path_factory.mktemp("train")
    result = run_cli(
        "train",
        *QUICK,
        "--epochs",
        "1",
        "--data-dir",
        str(MNIST_DIR),
        "--output",
        str(out / "m.npz"),
    )
    assert result.returncode == 0, result.stderr
    return out, result, json.loads((out / "m.json").read_text())


# ----------------------------------------------------------------------- train and eval
@pytest.mark.slow
def test_train_writes_model_and_metrics(trained):
    out, result, metrics = trained
    assert sorted(p.name for p in out.iterdir()) == ["m.json", "m.npz"]  # no temp files left
    assert re.search(
        r"epoch 1/1  train loss \d\.\d{4}  train acc \d+\.\d\d%  test acc \d+\.\d\d%  time",
        result.stdout,
    )
    assert f"test accuracy {100 * metrics['test_acc']:.2f}%" in result.stdout
    assert {"config", "backend", "epochs", "test_acc", "per_class_acc", "confusion"} <= set(metrics)
    assert {"total_time", "time_to_98", "test_loss"} <= set(metrics)
    assert metrics["backend"] == "numpy" and metrics["train_samples"] == 2000
    assert metrics["test_samples"] == 1000 and 0.5 < metrics["test_acc"] <= 1.0  # chance: 0.1
    assert len(metrics["per_class_acc"]) == 10 and np.array(metrics["confusion"]).sum() == 1000
    epoch = metrics["epochs"][0]
    assert {
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
        "epoch_time",
        "samples_per_s",
    } <= set(epoch)
    assert metrics["config"]["hidden"] == [256, 128] and metrics["config"]["lr"] == 0.05
    model, meta = load_model(out / "m.npz")
    assert model.sizes == [784, 256, 128, 10] and meta["test_acc"] == metrics["test_acc"]


@pytest.mark.slow
def test_eval_prints_the_accuracy_of_the_metrics(trained):
    out, _, metrics = trained
    args = ["eval", str(out / "m.npz"), "--data-dir", str(MNIST_DIR), "--test-limit", "1000"]
    text = run_cli(*args, "--backend", "numpy")
    assert text.returncode == 0, text.stderr
    assert f"test accuracy {100 * metrics['test_acc']:.2f}%" in text.stdout
    assert f"({round(metrics['test_acc'] * 1000)}/1000)" in text.stdout
    rows = re.findall(r"^\s+(\d)\s+(\d+\.\d\d)%\s+(\d+)/(\d+)$", text.stdout, re.MULTILINE)
    assert [int(r[0]) for r in rows] == list(range(10))
    assert sum(int(r[3]) for r in rows) == 1000

    as_json = run_cli(*args, "--backend", "numpy", "--json")
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert result["test_acc"] == metrics["test_acc"]  # exactly: same weights, same backend
    assert result["per_class_acc"] == metrics["per_class_acc"]
    assert result["confusion"] == metrics["confusion"]


# ----------------------------------------------------------------------- Ctrl-C and resume
@pytest.mark.slow
def test_sigint_saves_a_checkpoint_and_resume_matches_an_uninterrupted_run(tmp_path):
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST files are not at {MNIST_DIR}")
    common = [*QUICK, "--epochs", "2", "--batch-size", "100", "--hidden", "64", "--seed", "5"]
    common += ["--data-dir", str(MNIST_DIR)]  # 2000 images / 100 -> 20 steps per epoch
    straight = run_cli("train", *common, "--output", str(tmp_path / "a.npz"))
    assert straight.returncode == 0, straight.stderr

    # The trainer sends itself SIGINT during step 27 (epoch 2, its 7th batch).
    stopped = run_cli(
        "train", *common, "--output", str(tmp_path / "b.npz"), env_extra={TEST_SIGINT_ENV: "27"}
    )
    ckpt = tmp_path / "b.ckpt.npz"
    assert_clean_error(stopped, 130, f"checkpoint saved to {re.escape(str(ckpt))}")
    assert "epoch 1/2" in stopped.stdout and "epoch 2/2" not in stopped.stdout
    assert ckpt.exists() and not (tmp_path / "b.npz").exists()

    # Resume with exactly the command the message suggests.
    hint = shlex.split(re.search(r"resume with: (.*)", stopped.stderr).group(1))
    assert hint[:4] == ["tinygrad-mnist", "train", "--resume", str(ckpt)]
    assert "--output" in hint and "--data-dir" in hint
    resumed = run_cli(*hint[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert "7/20 batches done" in resumed.stderr and "epoch 2/2" in resumed.stdout
    a, _ = load_model(tmp_path / "a.npz")
    b, _ = load_model(tmp_path / "b.npz")
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data)
    metrics_a = json.loads((tmp_path / "a.json").read_text())
    metrics_b = json.loads((tmp_path / "b.json").read_text())
    assert metrics_b["test_acc"] == metrics_a["test_acc"]
    assert [e["train_loss"] for e in metrics_b["epochs"]] == [
        e["train_loss"] for e in metrics_a["epochs"]
    ]


# ----------------------------------------------------------------------- errors
@pytest.mark.slow
def test_missing_data_dir_is_one_clear_error(tmp_path):
    missing = tmp_path / "no-mnist-here"
    result = run_cli(
        "train", *QUICK, "--data-dir", str(missing), "--output", str(tmp_path / "m.npz")
    )
    assert_clean_error(
        result, 2, rf"^error: MNIST train files not found in {re.escape(str(missing))}"
    )
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.slow
def test_corrupt_model_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip file")
    result = run_cli("eval", str(bad), "--data-dir", str(MNIST_DIR))
    assert_clean_error(result, 2, rf"^error: {re.escape(str(bad))}: cannot read it as an \.npz")

    missing = run_cli("eval", str(tmp_path / "nope.npz"), "--data-dir", str(MNIST_DIR))
    assert_clean_error(missing, 2, r"nope\.npz: no such file")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden", "0"], "argument --hidden: layer sizes must be >= 1"),
        (["--hidden", "256,x"], "argument --hidden: expected comma-separated layer sizes"),
        (["--epochs", "0"], "argument --epochs: must be >= 1"),
        (["--batch-size", "many"], "argument --batch-size: expected an integer"),
        (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice"),
    ],
)
def test_bad_option_values_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr", "-1"], "error: lr must be a positive number, got -1.0"),
        (["--lr", "nan"], "error: lr must be a positive number"),
        (["--momentum", "0", "--nesterov"], "error: nesterov needs momentum > 0"),
        (["--weight-decay", "-1"], "error: weight decay must be a number >= 0"),
        (["--output", "/no/such/dir/m.npz"], "error: cannot write /no/such/dir/m.npz"),
    ],
)
def test_bad_option_values_are_rejected_before_loading_data(argv, message, capsys, tmp_path):
    status = cli.main(["train", *argv, "--data-dir", str(tmp_path / "absent")])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "MNIST" not in err


@pytest.mark.slow
def test_diverged_training_exits_1_without_saving(tmp_path, capsys):
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST files are not at {MNIST_DIR}")
    argv = ["train", *QUICK, "--lr", "1e6", "--schedule", "none", "--data-dir", str(MNIST_DIR)]
    status = cli.main([*argv, "--output", str(tmp_path / "m.npz")])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("error: training diverged: the loss became")
    assert "epoch 1/12, step " in err and "lr 1e+06" in err and "lower --lr" in err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------- help
TRAIN_OPTIONS = [
    "--backend", "--hidden", "--activation", "--init", "--optimizer", "--lr", "--momentum",
    "--nesterov", "--no-nesterov", "--weight-decay", "--schedule", "--batch-size", "--epochs",
    "--seed", "--data-dir", "--output", "--metrics", "--checkpoint", "--resume", "--train-limit",
    "--test-limit", "--threads", "--plot", "--progress", "--no-progress",
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("train", TRAIN_OPTIONS),
        ("eval", ["MODEL", "--data-dir", "--backend", "--json", "--test-limit"]),
    ],
)
def test_help_lists_every_option_with_its_default(command, options, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in options:
        assert option in text, option
    if command == "train":
        flat = " ".join(text.split())
        assert "(default: 256,128)" in flat and "(default: 0.05)" in flat
        assert "(default: cosine)" in flat and "(default: mnist_mlp.npz)" in flat


@pytest.mark.slow
def test_python_dash_m_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in cli.COMMANDS:
        assert name in result.stdout


def test_every_command_module_has_add_parser_and_run():
    import importlib

    for name in cli.COMMANDS:
        module = importlib.import_module(f"tinygrad_mnist.commands.{name}")
        assert callable(module.add_parser) and callable(module.run)
    assert Path(cli.__file__).name == "cli.py"


def test_bad_backend_in_the_environment_is_one_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("TINYGRAD_BACKEND", "cuda")
    assert cli.main(["eval", "whatever.npz"]) == 2
    assert capsys.readouterr().err.startswith("error: TINYGRAD_BACKEND='cuda' is not one of")


@pytest.mark.slow
def test_train_with_plot_draws_the_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST files are not at {MNIST_DIR}")
    argv = ["train", *QUICK, "--epochs", "1", "--hidden", "32", "--data-dir", str(MNIST_DIR)]
    status = cli.main(
        [*argv, "--output", str(tmp_path / "m.npz"), "--plot", str(tmp_path / "plots")]
    )
    assert status == 0, capsys.readouterr().err
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert "curves.png" in pngs and "confusion.png" in pngs
    assert (tmp_path / "plots" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------- Ctrl-C during start-up
@pytest.mark.slow
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
