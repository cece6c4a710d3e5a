"""The checks on arrays a kernel writes (fastkernels._outputs) fed good and bad input (also run with
NUMBA_BOUNDSCHECK=1 in CI)."""

import numpy as np
import pytest

from fastkernels._outputs import as_output, check_disjoint

pytestmark = pytest.mark.bad_input


def test_as_output_accepts_exact_buffer():
    out = np.empty((2, 3), np.float32)
    assert as_output(out, "out", dtype=np.float32, shape=(2, 3)) is out


def test_as_output_never_casts_or_copies():
    with pytest.raises(TypeError, match="out must have dtype float32 to be written in place, got float64"):
        as_output(np.empty((2, 3)), "out", dtype=np.float32, shape=(2, 3))
    with pytest.raises(ValueError, match=r"out must have shape \(2, 3\), got \(3, 2\)"):
        as_output(np.empty((3, 2), np.float32), "out", dtype=np.float32, shape=(2, 3))
    with pytest.raises(ValueError, match="C-contiguous"):
        as_output(np.empty((3, 2), np.float32).T, "out", dtype=np.float32, shape=(2, 3))
    ro = np.empty((2, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        as_output(ro, "out", dtype=np.float32, shape=(2, 3))
    with pytest.raises(TypeError, match="numpy or device array"):
        as_output([[0.0] * 3] * 2, "out", dtype=np.float64, shape=(2, 3))


# -- issue 13: overlapping out= -----------------------------------------------------------------


def test_check_disjoint():
    base = np.zeros(11, np.float32)
    x, out = base[:10], base[1:]
    with pytest.raises(ValueError, match="out overlaps the memory of x"):
        check_disjoint(out, "out", x=x)
    with pytest.raises(ValueError, match="out is the memory of x"):
        check_disjoint(x, "out", x=x)
    check_disjoint(x, "out", allow_same=("x",), x=x)  # documented in-place use
    with pytest.raises(ValueError, match="overlaps"):  # same start, other shape: not an exact alias
        check_disjoint(base[:5], "out", allow_same=("x",), x=x)
    check_disjoint(base[::2], "out", x=base[1::2])  # interleaved, no shared element
    check_disjoint(np.zeros(3), "out", x=x, y=None, n=3)
    check_disjoint(np.zeros(0), "out", x=x)
