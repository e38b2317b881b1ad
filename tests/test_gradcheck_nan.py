"""gradcheck treats a NaN or an infinity on either side as a mismatch, and names it.

NaN compares false with everything, so a worst element picked with `>` never picked it: a
NaN analytic gradient used to pass as "OK"."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_mnist.gradient_check import GradcheckError, check_gradients, gradcheck


def nan_backward(x):
    """sqrt(0 * x): the value is 0 everywhere, so the numeric derivative is 0, but backward
    gives 0.5 / sqrt(0) * 0 = inf * 0 = NaN (torch gives NaN here too)."""
    return (x * 0).sqrt().sum()


def test_a_nan_analytic_gradient_is_a_mismatch():
    report = check_gradients(nan_backward, [np.array([1.0, 2.0])])
    assert not report.ok
    assert np.isnan(report.analytic) and report.numeric == 0.0
    text = str(report)
    assert "MISMATCH" in text and "analytic nan" in text and "not finite" in text


def test_gradcheck_raises_on_a_nan_analytic_gradient():
    with pytest.raises(GradcheckError, match="analytic nan"):
        gradcheck(nan_backward, [np.array([1.0, 2.0])])


def test_a_nan_numeric_gradient_is_a_mismatch():
    """log at 1e-7 with eps 1e-6: x - eps < 0 gives a NaN difference quotient."""
    report = check_gradients(lambda x: x.log().sum(), [np.array([1e-7, 1.0])])
    assert not report.ok
    assert report.worst_index == (0,) and np.isnan(report.numeric)
    assert "numeric nan" in str(report)


def test_an_infinite_analytic_gradient_is_a_mismatch():
    """sqrt at 0: backward gives 0.5 / 0 = inf; the numeric side is NaN (sqrt(-eps))."""
    report = check_gradients(lambda x: x.sqrt().sum(), [np.array([4.0, 0.0])])
    assert not report.ok and report.worst_index == (1,)
    assert np.isinf(report.analytic)


def test_a_nan_in_the_second_input_is_found_after_a_small_error_in_the_first():
    def fn(a, b):
        return (a * a).sum() + (b * 0).sqrt().sum()

    report = check_gradients(fn, [np.array([1.0, 2.0]), np.array([3.0])])
    assert not report.ok and report.worst_input == 1 and np.isnan(report.analytic)


def test_finite_gradients_still_pass():
    report = check_gradients(lambda x: (x * x).sum(), [np.array([1.0, 2.0])])
    assert report.ok and report.abs_error < 1e-8 and report.analytic in (2.0, 4.0)
    assert gradcheck(lambda x: (x * x * x).sum(), [np.array([[1.0, -2.0], [0.5, 3.0]])])
