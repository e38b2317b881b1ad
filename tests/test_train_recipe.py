"""`tinygrad-mnist train` says its recipe in one line before training, and says when it
overwrites a model file; the README's course-recipe command gives the recipe it describes."""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import REPO, assert_clean_error, run_cli

from tinygrad_mnist import cli
from tinygrad_mnist.commands.train import config_from_args, recipe_line

DEFAULT_RECIPE = (
    "recipe: MLP 784-256-128-10, relu, kaiming init; softmax + cross-entropy loss; "
    "SGD lr 0.05, Nesterov momentum 0.9, weight decay 0.0005; cosine lr schedule; "
    "batch 128, 12 epochs, seed 0"
)


def parsed(*argv: str):
    return config_from_args(cli.build_parser().parse_args(["train", *argv]))


def test_the_default_recipe_line():
    assert recipe_line(parsed()) == DEFAULT_RECIPE


def test_the_readmes_course_recipe_command_is_sigmoid_and_plain_sgd():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^tinygrad-mnist train --activation sigmoid[^\n#]*", readme, re.M)
    assert len(commands) == 1
    argv = shlex.split(commands[0])[1:]
    assert recipe_line(parsed(*argv[1:])) == (
        "recipe: MLP 784-256-128-10, sigmoid, xavier init; softmax + cross-entropy loss; "
        "SGD lr 0.5; constant lr; batch 128, 3 epochs, seed 0"
    )
    assert f"\n{DEFAULT_RECIPE}\n" in readme  # the README shows the default recipe's line


@pytest.mark.slow
def test_train_prints_the_recipe_then_says_when_it_overwrites(mnist_dir, tmp_path):
    quick = ["train", "--data-dir", str(mnist_dir), "--train-limit", "200", "--test-limit", "50"]
    quick += ["--hidden", "8", "--epochs", "1", "--no-progress", "--backend", "numpy"]
    out = tmp_path / "m.npz"
    first = run_cli(*quick, "--output", str(out))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == (
        "recipe: MLP 784-8-10, relu, kaiming init; softmax + cross-entropy loss; SGD lr 0.05, "
        "Nesterov momentum 0.9, weight decay 0.0005; cosine lr schedule; batch 128, 1 epoch, "
        "seed 0"
    )
    assert "overwriting" not in first.stdout and lines[1].startswith("epoch 1/1")
    before = out.read_bytes()
    second = run_cli(*quick, "--output", str(out), "--seed", "1")
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[1] == (
        f"overwriting {out} (give --output another name to keep it)"
    )
    assert out.read_bytes() != before  # it did overwrite, as it said


@pytest.mark.slow
def test_a_bad_option_is_reported_before_any_recipe(mnist_dir, tmp_path):
    result = run_cli("train", "--data-dir", str(mnist_dir), "--output", str(tmp_path))
    assert_clean_error(result, 2, r"error: --output .* is a directory")
    assert result.stdout == ""


def test_steps_are_captured_unless_no_capture_is_given():
    assert parsed().capture is True
    assert parsed("--no-capture").capture is False
    assert parsed("--capture").capture is True
