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


def test_tally_counts_in_the_precision_of_the_floats_beside_it():
    from numba import njit

    @njit
    def count(x, flags):
        acc = _precision.tally_zero(x)
        for f in flags:
            acc = _precision.tally(x, acc, f)
        return acc

    flags = np.arange(300) % 3 == 0
    n32 = count(np.zeros(2, np.float32), flags)
    n64 = count(np.zeros(2), flags)
    assert n32 == 100 and isinstance(n32, float)  # a float32 sum: 32-bit lanes in a float32 loop
    assert n64 == 100 and isinstance(n64, int)  # an int for float64 (as before)
