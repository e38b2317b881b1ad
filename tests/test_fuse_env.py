"""TINYGRAD_FUSE takes documented values only; a misspelling is said once, not ignored."""

from __future__ import annotations

import warnings

import pytest

from tinygrad_mnist import nn
from tinygrad_mnist.nn import fusion


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(fusion, "_warned", set(), raising=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", False), ("off", False), ("FALSE", False), ("no", False), ("1", True), ("on", True),
     ("true", True), ("Yes", True), (" 0 ", False), ("", True)],
)  # fmt: skip
def test_documented_values(monkeypatch, value, expected):
    monkeypatch.setenv(fusion.FUSE_ENV, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a documented value gives no warning
        assert fusion.fusion_default() is expected


def test_a_misspelled_value_is_said_once_and_fusion_stays_on(monkeypatch):
    monkeypatch.setenv(fusion.FUSE_ENV, "maybe")
    with pytest.warns(UserWarning) as record:
        models = [nn.MLP([4, 3, 2]) for _ in range(3)]
    assert [m.fuse for m in models] == [True, True, True]
    assert len(record) == 1, [str(w.message) for w in record]
    message = str(record[0].message)
    assert "TINYGRAD_FUSE='maybe'" in message and "0" in message and "1" in message
    assert "\n" not in message
