"""lr_schedule, the learning-rate schedules (fastkernels.nn.schedules)."""

import math

import numpy as np
import pytest

from fastkernels.nn import clip_grad_norm, lr_schedule


def test_schedules():
    assert lr_schedule("constant", 0.1, 7) == 0.1
    assert lr_schedule("step", 0.1, 25, step_size=10, gamma=0.5) == pytest.approx(0.025)
    assert lr_schedule("exponential", 0.1, 3, tau=2.0) == pytest.approx(0.1 * math.exp(-1.5))  # seed line 2018
    assert lr_schedule("exponential", 0.1, 2, gamma=0.9) == pytest.approx(0.081)
    assert lr_schedule("cosine", 0.1, 0, total_epochs=10) == pytest.approx(0.1)
    assert lr_schedule("cosine", 0.1, 5, total_epochs=10, min_lr=0.02) == pytest.approx(0.06)
    assert lr_schedule("cosine", 0.1, 10, total_epochs=10) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.bad_input
class TestBadInput:
    def test_clip_and_schedule_errors(self):
        with pytest.raises(ValueError, match="max_norm must be > 0"):
            clip_grad_norm(np.ones(3), 0.0)
        with pytest.raises(TypeError, match="float32 or float64 ndarray"):
            clip_grad_norm([np.ones(3, np.int64)], 1.0)
        with pytest.raises(ValueError, match="kind must be one of"):
            lr_schedule("linear", 0.1, 0)
        with pytest.raises(ValueError, match="needs total_epochs"):
            lr_schedule("cosine", 0.1, 0)
        with pytest.raises(ValueError, match="epoch must be >= 0"):
            lr_schedule("step", 0.1, -1)


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.bad_input
def test_lr_schedule_checks_every_argument_and_refuses_overflow():
    with pytest.raises(TypeError, match="step_size must be an integer"):
        lr_schedule("constant", 0.1, 0, step_size="a")
    with pytest.raises(ValueError, match="tau must be > 0"):
        lr_schedule("cosine", 0.1, 0, tau=-1.0, total_epochs=5)
    with pytest.raises(ValueError, match="overflows"):
        lr_schedule("exponential", 0.1, 10**4, gamma=10.0)
    assert lr_schedule("step", 0.1, 2**63 - 1, step_size=1, gamma=0.5) == 0.0
    with pytest.raises(ValueError, match="epoch must be <= 9223372036854775807"):  # integers are int64
        lr_schedule("constant", 0.1, 2**63)
