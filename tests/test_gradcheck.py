"""gradcheck, the finite-difference gradient check every backward test uses (fastkernels.nn.gradcheck)."""

import numpy as np
import pytest

from fastkernels.nn import gradcheck


def test_gradcheck_catches_a_wrong_gradient(rng):
    x = rng.standard_normal(5)
    with pytest.raises(AssertionError, match="gradient mismatch at"):
        gradcheck(lambda v: float(np.sum(v**2)), x, 3 * x)
    info = gradcheck(lambda v: float(np.sum(v**2)), x, 2 * x, max_checks=3)
    assert info["checked"] == 3 and info["max_abs_err"] < 1e-8


@pytest.mark.bad_input
def test_gradcheck_bad_input():
    with pytest.raises(TypeError, match="x must have dtype float64, got float32"):
        gradcheck(lambda v: 0.0, np.zeros(3, np.float32), np.zeros(3))
    with pytest.raises(ValueError, match=r"grad must have shape \(3,\)"):
        gradcheck(lambda v: 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="eps must be > 0"):
        gradcheck(lambda v: 0.0, np.zeros(3), np.zeros(3), eps=0)
