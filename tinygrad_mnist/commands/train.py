"""`tinygrad-mnist train`: train an MLP on MNIST; write the model, its metrics, checkpoints.

    tinygrad-mnist train                                 the default recipe (>= 98% test acc)
    tinygrad-mnist train --hidden 128 --epochs 3 --optimizer adam --lr 1e-3
    tinygrad-mnist train --resume mnist_mlp.ckpt.npz      continue after Ctrl-C

The options map one to one onto `training.TrainConfig`; the work is done by
`training.train`, so the command and the library always train the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..backends import NAMES as BACKENDS
from ..nn.activation import ACTIVATION_LAYERS
from ..nn.init import INITS
from ..plots import make_plots, require_matplotlib
from ..training import (
    OPTIMIZERS,
    SCHEDULES,
    RunAlreadyComplete,
    TrainConfig,
    TrainingInterrupted,
    default_metrics_path,
    train,
)
from . import THREADS_ENV, HelpFormatter, add_data_dir, apply_threads
from .arguments import positive_int

NAME = "train"


def hidden_sizes(text: str) -> tuple[int, ...]:
    """ "256,128" -> (256, 128); every size must be a positive integer."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes like 256,128, got {text!r}"
        ) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `train` subcommand and its options."""
    d = TrainConfig()  # the defaults live in one place: TrainConfig
    p = subparsers.add_parser(
        NAME,
        help="train an MLP on MNIST and save it",
        description="Train an MLP on MNIST, print one line per epoch, and save the model (.npz) "
        "and a metrics JSON. Ctrl-C saves a checkpoint; --resume continues from it and "
        "gives the same final weights as an uninterrupted run.",
        formatter_class=HelpFormatter,
    )
    model = p.add_argument_group("model")
    model.add_argument(
        "--hidden",
        type=hidden_sizes,
        default=",".join(map(str, d.hidden)),  # argparse passes a str default through `type`
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (the input is 784, the output 10)",
    )
    model.add_argument(
        "--activation",
        choices=sorted(ACTIVATION_LAYERS),
        default=d.activation,
        help="nonlinearity after each hidden layer",
    )
    model.add_argument(
        "--init",
        choices=sorted(INITS),
        default=d.init,
        help="weight initialisation (kaiming for relu, xavier for tanh/sigmoid)",
    )

    opt = p.add_argument_group("optimization")
    opt.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer, help="update rule")
    opt.add_argument("--lr", type=float, default=d.lr, help="learning rate at the start")
    opt.add_argument(
        "--momentum",
        type=float,
        default=d.momentum,
        help="SGD momentum (0 for plain SGD; ignored by adam)",
    )
    opt.add_argument(
        "--nesterov",
        action=argparse.BooleanOptionalAction,
        default=d.nesterov,
        help="use Nesterov momentum with SGD",
    )
    opt.add_argument(
        "--weight-decay",
        type=float,
        default=d.weight_decay,
        help="L2 penalty added to the gradient",
    )
    opt.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=d.schedule,
        help="learning-rate schedule, stepped every batch: cosine decays to 0 over "
        "the run; step multiplies the lr by 0.1 after each third of it",
    )
    opt.add_argument(
        "--batch-size", type=positive_int, default=d.batch_size, help="training images per step"
    )
    opt.add_argument(
        "--epochs", type=positive_int, default=d.epochs, help="passes over the training set"
    )
    opt.add_argument(
        "--seed", type=int, default=d.seed, help="seed of the weight init and of the shuffling"
    )

    data = p.add_argument_group("data")
    add_data_dir(data)
    data.add_argument(
        "--train-limit",
        type=positive_int,
        default=None,
        metavar="N",
        help="train on the first N images only (default: all 60000)",
    )
    data.add_argument(
        "--test-limit",
        type=positive_int,
        default=None,
        metavar="N",
        help="test on the first N images only (default: all 10000)",
    )

    files = p.add_argument_group("files")
    files.add_argument("--output", default=d.output, metavar="PATH", help="model file to write")
    files.add_argument(
        "--metrics",
        default=None,
        metavar="PATH",
        help="metrics JSON to write (default: the --output path with .json)",
    )
    files.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="save a checkpoint here after every epoch and on Ctrl-C "
        "(default: on Ctrl-C only, to the --output path with .ckpt.npz)",
    )
    files.add_argument(
        "--resume",
        default=None,
        metavar="CKPT",
        help="continue the run saved in this checkpoint; its model and "
        "training options are used, the ones given here are ignored",
    )
    files.add_argument(
        "--plot",
        default=None,
        metavar="DIR",
        help="after training, draw the plots into DIR (needs matplotlib)",
    )

    run_group = p.add_argument_group("running")
    run_group.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="array backend (default: $TINYGRAD_BACKEND, else c if it is compiled, else numpy)",
    )
    run_group.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"threads for the C kernels, at most the CPU count; sets ${THREADS_ENV} "
        "(default: the kernels' own default)",
    )
    run_group.add_argument(
        "--capture",
        action=argparse.BooleanOptionalAction,
        default=TrainConfig.capture,
        help="replay each training step from C in one call after recording it once (same "
        "numbers as eager; needs the c backend); --no-capture runs every step eagerly",
    )
    run_group.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar per epoch (default: only when stderr is a terminal)",
    )
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig the parsed options describe."""
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    return TrainConfig(
        hidden=tuple(args.hidden),
        activation=args.activation,
        init=args.init,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        nesterov=args.nesterov,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        train_limit=args.train_limit,
        test_limit=args.test_limit,
        backend=args.backend,
        data_dir=args.data_dir,
        output=args.output,
        metrics=args.metrics,
        checkpoint=args.checkpoint,
        resume=args.resume,
        progress=progress,
        capture=args.capture,
    )


def run(args: argparse.Namespace) -> int:
    """Train; 0 when done, 130 after Ctrl-C (checkpoint saved). Errors go up to cli.main."""
    if args.threads is not None:
        apply_threads(args.threads, "--threads ")  # capped: libgomp aborts on too many
    config = config_from_args(args)
    if args.plot:
        if not _check_plotting():  # fail before training, not after
            return 1
        if Path(args.plot).exists() and not Path(args.plot).is_dir():
            print(f"error: --plot {args.plot} is a file, not a folder", file=sys.stderr)
            return 2
    if not config.resume:  # a resumed run takes its recipe from the checkpoint (train says so)
        config.validate()  # a bad option is reported before the recipe line, not after it
        config.check_outputs()
        print(recipe_line(config))
        if config.output and Path(config.output).is_file():  # resuming rewrites its own run
            print(f"overwriting {config.output} (give --output another name to keep it)")
    try:
        metrics = train(config)
    except TrainingInterrupted as e:
        print(e, file=sys.stderr)
        return 130
    except RunAlreadyComplete as e:  # --resume of a finished run: nothing to do
        print(e)
        return 0

    metrics_path = config.metrics or default_metrics_path(config.output)
    time_to_98 = metrics["time_to_98"]
    reached = f"{time_to_98:.1f}s" if time_to_98 is not None else "not reached"
    print(
        f"test accuracy {100 * metrics['test_acc']:.2f}%  total time {metrics['total_time']:.1f}s"
        f"  time to 98%: {reached}  backend {metrics['backend']}"
        + (" (captured steps)" if config.capture and metrics["backend"] == "c" else "")
    )
    print(f"saved model to {config.output} and metrics to {metrics_path}")
    if args.plot:
        return _make_plots(config, metrics_path, args.plot)
    return 0


def recipe_line(config: TrainConfig) -> str:
    """The run's recipe in one line: the model, the loss, the optimizer and its schedule."""
    sizes = "-".join(map(str, (784, *config.hidden, 10)))
    if config.optimizer == "sgd":
        opt = f"SGD lr {config.lr:g}"
        if config.momentum:
            opt += f", {'Nesterov ' if config.nesterov else ''}momentum {config.momentum:g}"
    else:
        opt = f"Adam lr {config.lr:g}"
    if config.weight_decay:
        opt += f", weight decay {config.weight_decay:g}"
    schedule = {"cosine": "cosine lr schedule", "step": "step lr schedule (x0.1 per third)"}
    epochs = f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}"
    return (
        f"recipe: MLP {sizes}, {config.activation}, {config.init} init; softmax + "
        f"cross-entropy loss; {opt}; {schedule.get(config.schedule, 'constant lr')}; "
        f"batch {config.batch_size}, {epochs}, seed {config.seed}"
    )


def _check_plotting() -> bool:
    """True if plots can be drawn; else False, after printing why.

    Checked before training, so a missing matplotlib is reported before the minutes of work.
    """
    try:
        require_matplotlib()
    except ImportError as e:
        print(f"error: --plot: {e}", file=sys.stderr)
        return False
    return True


def _make_plots(config: TrainConfig, metrics_path: os.PathLike[str] | str, out_dir: str) -> int:
    """Draw the plots of the run just finished; 1 (after saying why) if that fails."""
    try:
        paths = make_plots(config.output, metrics_path, out_dir, config.data_dir)
    except (ImportError, ValueError, OSError) as e:
        print(f"error: --plot: {e} (the model and metrics were saved)", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path}")
    return 0
