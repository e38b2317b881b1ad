"""Training an MLP on MNIST: the loop behind `tinygrad-mnist train`, usable as a library.

    from tinygrad_mnist.training import TrainConfig, train
    metrics = train(TrainConfig(epochs=1, train_limit=5000, output="model.npz"))

Read loop.py first: `train_loop` is the textbook loop (forward, cross-entropy, `zero_grad`,
`backward`, optimizer step, the schedule's step once per batch; evaluate after each epoch).
The rest wraps around it, one idea per file:

    loop.py        the loop, and the four hooks it calls
    monitor.py     those hooks in a real run: progress, metrics, NaN stop, Ctrl-C
    checkpoint.py  what a checkpoint holds; saving one on Ctrl-C; checking and resuming one
    run.py         `train`: options -> data, model, optimizer -> the loop -> saved files
    config.py      `TrainConfig` and the checks of its values
    evaluation.py  loss, accuracy and confusion matrix on a test set
    metrics.py     the per-run metrics JSON
    outputs.py     the files a run writes: default names, the writable check, rescue copies
    errors.py      the exceptions a run raises

Stopping and resuming. While `train` runs, Ctrl-C (SIGINT) only sets a flag; the step in
progress finishes, a checkpoint is saved and `TrainingInterrupted` is raised. `resume`
replays the epoch's shuffled order and skips the batches done: with the same backend the
final weights are bit-identical to an uninterrupted run. Resuming the checkpoint of a run that
finished (saved after its last epoch) trains nothing: if the model and its metrics are there,
`RunAlreadyComplete` says so and nothing is written; if not, they are written from the
checkpoint's weights.
"""

from .checkpoint import Position
from .config import NUM_CLASSES, OPTIMIZERS, RUN_FIELDS, SCHEDULES, TrainConfig
from .errors import (
    ConfigError,
    RunAlreadyComplete,
    SaveFailedError,
    TrainingDivergedError,
    TrainingInterrupted,
)
from .evaluation import accuracies, evaluate, evaluate_with_loss
from .loop import LoopHooks, train_loop
from .metrics import TARGET_ACCURACY
from .monitor import POSTFIX_EVERY, TEST_SIGINT_ENV, RunMonitor
from .outputs import check_writable, default_checkpoint_path, default_metrics_path
from .run import train

__all__ = [
    "NUM_CLASSES",
    "OPTIMIZERS",
    "POSTFIX_EVERY",
    "RUN_FIELDS",
    "SCHEDULES",
    "TARGET_ACCURACY",
    "TEST_SIGINT_ENV",
    "ConfigError",
    "LoopHooks",
    "Position",
    "RunAlreadyComplete",
    "RunMonitor",
    "SaveFailedError",
    "TrainConfig",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "accuracies",
    "check_writable",
    "default_checkpoint_path",
    "default_metrics_path",
    "evaluate",
    "evaluate_with_loss",
    "train",
    "train_loop",
]
