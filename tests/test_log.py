"""The vectorisable log1p on [0, 1] against libm in extended precision."""

import numpy as np
import pytest
from numba import njit

from fastkernels._log import log1p_unit


@njit(cache=True)
def _apply(x, out):
    for i in range(x.size):
        out[i] = log1p_unit(x[i])


def _inputs():
    rng = np.random.default_rng(0)
    edges = [0.0, 5e-324, 1e-300, 1e-17, 0.41421356237309503, 0.41421356237309515, 0.5, 1.0]
    return np.concatenate([rng.uniform(0, 1, 200_000), 10.0 ** rng.uniform(-300, 0, 50_000), edges])


def test_float64_within_two_ulp():
    x = _inputs()
    out = np.empty_like(x)
    _apply(x, out)
    ref = np.log1p(x.astype(np.longdouble)).astype(np.float64)
    nz = ref != 0
    ulp = np.abs(out[nz] - ref[nz]) / np.spacing(ref[nz])
    assert ulp.max() <= 2.0
    assert out[~nz].tolist() == [0.0] * int((~nz).sum())


def test_float32_within_three_ulp_and_stays_float32():
    x = _inputs().astype(np.float32)
    out = np.empty_like(x)
    _apply(x, out)
    ref = np.log1p(x.astype(np.float64))
    nz = ref != 0
    ulp = np.abs(out[nz] - ref[nz]) / np.spacing(ref[nz].astype(np.float32)).astype(np.float64)
    assert ulp.max() <= 3.0 and out.dtype == np.float32


def test_loop_vectorises():
    import llvmlite.binding as llvm  # noqa: F401

    from numba import njit as _njit

    @_njit
    def f(x, out):
        for i in range(x.size):
            out[i] = log1p_unit(x[i])

    x = np.linspace(0, 1, 64)
    f(x, np.empty_like(x))
    asm = f.inspect_asm(f.signatures[0])
    assert "pd" in asm and any(r in asm for r in ("ymm", "zmm")), "log1p_unit loop did not vectorise"
    assert f.py_func is not None


@pytest.mark.parametrize("x", [0.0, 1.0])
def test_ends(x):
    out = np.empty(1)
    _apply(np.array([x]), out)
    assert out[0] == pytest.approx(np.log1p(x), rel=1e-16, abs=0)
