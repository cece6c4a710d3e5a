"""GEMM through NumPy's BLAS from compiled code (fastkernels._blas), and its np.dot fallback."""

import numpy as np
import pytest

from fastkernels import _blas

NO_BLAS = None  # what blas_functions() returns where NumPy has no CBLAS


@pytest.fixture(params=["numpy_blas", "fallback"])
def fns(request):
    return _blas.blas_functions() if request.param == "numpy_blas" else NO_BLAS


def test_numpy_blas_is_found_on_pip_numpy():
    # NumPy's wheels bundle OpenBLAS; other builds (MKL, Accelerate) take the fallback.
    if not _blas._numpy_blas_paths():
        pytest.skip("this NumPy has no bundled OpenBLAS")
    fns = _blas.blas_functions()
    assert fns is not None and fns[0] != 0 and fns[1] != 0 and fns[2] in (32, 64)


def test_the_fallback_is_compiled_only_where_it_runs():
    # where NumPy's CBLAS is found, np.dot's path is pruned by fns' type: ~1 s of compile a dtype saved
    if not _blas._numpy_blas_paths():
        pytest.skip("this NumPy has no bundled OpenBLAS")
    before = set(_blas._dot_fallback.signatures)
    _blas.gemm(_blas.blas_functions(), False, True, 1.0, np.ones((3, 2)), np.ones((4, 2)), 0.0, np.empty((3, 4)))
    assert set(_blas._dot_fallback.signatures) == before


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_gemm_matches_numpy(fns, dtype, ta, tb, rng):
    m, n, k = 33, 17, 9
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    ref = 1.5 * (a.T if ta else a) @ (b.T if tb else b) - 0.5 * c
    _blas.gemm(fns, ta, tb, 1.5, a, b, -0.5, c)
    np.testing.assert_allclose(c, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_beta_zero_never_reads_c(fns):
    a, b = np.ones((4, 3)), np.ones((3, 2))
    c = np.full((4, 2), np.nan)
    _blas.gemm(fns, False, False, 1.0, a, b, 0.0, c)
    np.testing.assert_array_equal(c, 3.0)


def test_empty_inner_dimension_scales_c(fns):
    c = np.full((2, 3), 4.0)
    _blas.gemm(fns, False, False, 1.0, np.ones((2, 0)), np.ones((0, 3)), 0.5, c)
    np.testing.assert_array_equal(c, 2.0)
    _blas.gemm(fns, False, False, 1.0, np.ones((2, 0)), np.ones((0, 3)), 0.0, c)
    np.testing.assert_array_equal(c, 0.0)


def test_non_contiguous_operands_are_refused_at_compile_time():
    from numba.core.errors import TypingError

    a = np.ones((6, 4))[::2]
    with pytest.raises(TypingError):
        _blas.gemm(_blas.blas_functions(), False, False, 1.0, a, np.ones((4, 2)), 0.0, np.empty((3, 2)))
