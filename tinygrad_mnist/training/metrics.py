"""The numbers a run reports: one record per epoch, and the metrics JSON written beside the
model (JSON has no NaN or Infinity, so such a value is written as null)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .. import backends
from .config import TrainConfig, jsonable_config
from .evaluation import accuracies

TARGET_ACCURACY = 0.98  # for the metric "time to reach 98%"


def final_metrics(
    cfg: TrainConfig,
    history: list[dict[str, Any]],
    test_loss: float,
    confusion: np.ndarray,
    total_time: float,
    train_samples: int,
) -> dict[str, Any]:
    """The metrics JSON of a finished run: its options, every epoch's record, the final test
    loss, accuracies and confusion matrix, and the time to reach TARGET_ACCURACY."""
    test_acc, per_class = accuracies(confusion)
    reached = [h["elapsed"] for h in history if h["test_acc"] >= TARGET_ACCURACY]
    return {
        "config": jsonable_config(cfg),
        "backend": backends.get_backend(),
        "train_samples": train_samples,
        "test_samples": int(confusion.sum()),
        "epochs": history,
        "test_loss": finite_or_none(test_loss),
        "test_acc": test_acc,
        "per_class_acc": [None if math.isnan(a) else float(a) for a in per_class],
        "confusion": confusion.tolist(),
        "total_time": total_time,
        "time_to_98": reached[0] if reached else None,
    }


def to_json(obj: Any) -> str:
    """`obj` as indented JSON; a NaN or Infinity left in it is an error, not invalid JSON."""
    return json.dumps(obj, indent=2, allow_nan=False)


def finite_or_none(x: float) -> float | None:
    """JSON has no NaN or Infinity; such a value is written as null."""
    return x if math.isfinite(x) else None
