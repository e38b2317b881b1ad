"""`train`: one training run from its options to the saved model, around `train_loop`.

It checks the options and every output path before any work, reads the data, builds the
model, optimizer and schedule (or restores them from a checkpoint), runs loop.py's
`train_loop` with monitor.py's hooks, and writes the model and its metrics together, to the
temp folder if they cannot go where asked.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .. import backends
from ..atomic_file import write_bytes_atomic, write_files_atomic
from ..nn import MLP
from ..optim import SGD, Adam, CosineLR, Optimizer, StepLR
from ..serialization import model_bytes, read_checkpoint_extra
from ..utils.data import DataLoader, load_mnist_arrays
from .checkpoint import Position, config_for_resume, restore
from .config import NUM_CLASSES, TrainConfig
from .errors import ConfigError, RunAlreadyComplete, SaveFailedError
from .evaluation import evaluate_with_loss
from .loop import train_loop
from .metrics import final_metrics, to_json
from .monitor import RunMonitor, SigintFlag
from .outputs import default_metrics_path, rescue


def train(config: TrainConfig, stop_after_steps: int | None = None) -> dict[str, Any]:
    """Train as `config` says; save the model and metrics; return the metrics dict.

    `stop_after_steps=N` behaves as if Ctrl-C came during step N (counted over the whole
    run): it saves a checkpoint and raises TrainingInterrupted. Raises ConfigError,
    TrainingDivergedError, ModelFileError (bad --resume file), RunAlreadyComplete (--resume
    of a finished run whose model and metrics are written), and the data loader's errors.
    """
    config.validate()
    notes: list[str] = []
    saved: dict[str, Any] | None = None
    if config.resume:
        saved = read_checkpoint_extra(config.resume)
        config, notes = config_for_resume(config, saved)
    for note in notes:
        tqdm.write(note, file=sys.stderr)
    config.check_outputs()
    chosen = backends.backend(config.backend) if config.backend else contextlib.nullcontext()
    # Overflow on the way to a NaN loss is reported once, as TrainingDivergedError, instead
    # of as a stream of NumPy warnings.
    quiet_overflow = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    with chosen, quiet_overflow, SigintFlag() as sigint:
        return _run(config, saved, stop_after_steps, sigint)


def _run(
    cfg: TrainConfig,
    saved: dict[str, Any] | None,
    stop_after_steps: int | None,
    sigint: SigintFlag,
) -> dict[str, Any]:
    x_train, y_train = load_mnist_arrays("train", cfg.data_dir)
    x_test, y_test = load_mnist_arrays("test", cfg.data_dir)
    x_train, y_train = x_train[: cfg.train_limit], y_train[: cfg.train_limit]
    x_test, y_test = x_test[: cfg.test_limit], y_test[: cfg.test_limit]
    if len(x_train) == 0 or len(x_test) == 0:
        raise ConfigError(
            f"no images to {'train' if len(x_train) == 0 else 'test'} on: the data set is empty"
        )

    loader = DataLoader(x_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
    model = MLP([784, *cfg.hidden, NUM_CLASSES], cfg.activation, init=cfg.init, seed=cfg.seed)
    optimizer = make_optimizer(cfg, model)
    schedule = make_schedule(cfg, optimizer, cfg.epochs * len(loader))
    pos, history = Position(), []
    if saved is not None:
        pos, history = restore(cfg, saved, model, optimizer, schedule, loader)
        if pos.epoch == cfg.epochs:
            _finished_run(cfg)

    monitor = RunMonitor(
        cfg, model, optimizer, schedule, loader, pos, history, sigint, stop_after_steps
    )
    capture = cfg.capture and backends.get_backend() == "c"  # NumPy steps have no plan
    train_loop(model, optimizer, schedule, loader, x_test, y_test, cfg.epochs, monitor, capture)

    test_loss, confusion = monitor.test_loss, monitor.confusion
    if confusion is None:  # resumed from a checkpoint of a finished run
        test_loss, confusion = evaluate_with_loss(model, x_test, y_test)
    metrics = final_metrics(
        cfg, monitor.history, test_loss, confusion, monitor.pos.elapsed, len(x_train)
    )
    _save_results(cfg, model, metrics)
    return metrics


def _finished_run(cfg: TrainConfig) -> None:
    """The checkpoint being resumed was saved after the run's last epoch: there is nothing
    to train. Raise RunAlreadyComplete if its outputs are already written (nothing is
    rewritten); otherwise say that the final model is written from the checkpoint."""
    done = f"{cfg.resume}: the run is already complete ({cfg.epochs}/{cfg.epochs} epochs)"
    if cfg.output:  # the model and its metrics are written as a pair
        outputs = [cfg.output, cfg.metrics or default_metrics_path(cfg.output)]
    else:
        outputs = [cfg.metrics] if cfg.metrics else []
    missing = [str(p) for p in outputs if not Path(p).is_file()]
    if not missing:
        where = f"; its model is in {cfg.output}" if cfg.output else ""
        raise RunAlreadyComplete(f"{done}{where}; nothing to do")
    tqdm.write(f"{done}; writing the missing {' and '.join(missing)} from it", file=sys.stderr)


def make_optimizer(cfg: TrainConfig, model: MLP) -> Optimizer:
    """The optimizer `cfg` asks for, over the model's parameters."""
    if cfg.optimizer == "adam":
        return Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return SGD(
        model.parameters(),
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        nesterov=cfg.nesterov and cfg.momentum > 0,
    )


def make_schedule(
    cfg: TrainConfig, optimizer: Optimizer, total_steps: int
) -> CosineLR | StepLR | None:
    """The per-batch schedule: cosine to 0 over the run, or x0.1 after each third of it."""
    if cfg.schedule == "cosine":
        return CosineLR(optimizer, total_steps)
    if cfg.schedule == "step":
        return StepLR(optimizer, step_size=max(1, total_steps // 3), gamma=0.1)
    return None


def _save_results(cfg: TrainConfig, model: MLP, metrics: dict[str, Any]) -> None:
    """Write the model and its metrics JSON (both or neither), or only the metrics if no
    model file was asked for. SaveFailedError says where the model went instead."""
    metrics_json = (to_json(metrics) + "\n").encode()
    if cfg.output:
        meta = {k: metrics[k] for k in ("test_acc", "backend", "total_time")}
        data = model_bytes(model, {**meta, "config": metrics["config"]})
        metrics_path = cfg.metrics or default_metrics_path(cfg.output)
        try:  # both or neither: never a new model beside the old run's metrics
            write_files_atomic({cfg.output: data, metrics_path: metrics_json})
        except OSError as e:
            rescued = rescue(Path(cfg.output).name, data)
            where = (
                f"the trained model was saved to {rescued} instead"
                if rescued
                else "it could not be saved anywhere else either: the trained weights are lost"
            )
            raise SaveFailedError(f"{e}; {where}") from e
    elif cfg.metrics:
        write_bytes_atomic(cfg.metrics, metrics_json)
