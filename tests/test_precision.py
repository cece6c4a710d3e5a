"""fastkernels._precision: constants and choices that follow an argument's precision."""

import numpy as np

from fastkernels import _precision


def test_precision_helpers():
    from numba import njit

    @njit
    def probe(x):
        return _precision.like(x, 0.1), _precision.per_precision(x, 1.0, 2.0), _precision.is_float32(x)

    a, b, c = probe(np.float32(1.0))
    assert a == np.float32(0.1) and a != 0.1 and b == 1.0 and c
    a, b, c = probe(1.0)
    assert a == 0.1 and b == 2.0 and not c
    assert probe(3) == (0.1, 2.0, False)  # integers count as float64, as NumPy promotes them
    assert probe(np.zeros(2, np.float32))[2] and not probe(np.zeros(2))[2]
