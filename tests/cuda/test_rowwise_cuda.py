import numpy as np
import pytest
from numba import cuda

from fastkernels import _backend
from fastkernels.nn import _rowwise_cuda as nn_cuda
from fastkernels.nn import log_softmax, logsumexp, softmax

FUNCS = [softmax, log_softmax, logsumexp]


@pytest.mark.parametrize("f", FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 2), (5, 3), (4, 70), (2, 3, 45)])
def test_cuda_matches_cpu(f, dtype, shape, rng, threads_per_block):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    x.reshape(-1)[1] = -np.inf  # a masked class
    want = f(x, backend="cpu")
    got = f(x, backend="cuda")
    assert got.dtype == dtype and got.shape == want.shape
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("f", FUNCS, ids=lambda f: f.__name__)
def test_cuda_non_finite_rows_match_cpu(f):
    x = np.array([[np.inf, 0.0], [-np.inf, -np.inf], [np.nan, 1.0], [1.0, np.nan], [1e4, -1e4]])
    np.testing.assert_array_equal(f(x, backend="cuda"), f(x, backend="cpu"))


def test_device_arrays_stay_on_device_and_auto_picks_cuda(rng):
    x = rng.standard_normal((3, 9))
    d_x = cuda.to_device(x)
    assert _backend.resolve_backend("auto", arrays=(d_x,)) == "cuda"
    d_p = softmax(d_x)  # auto
    assert _backend.is_device_array(d_p)
    np.testing.assert_allclose(d_p.copy_to_host(), softmax(x, backend="cpu"), rtol=1e-13)
    d_out = cuda.device_array(3)
    assert logsumexp(d_x, out=d_out) is d_out


def test_host_out_is_filled(rng):
    x = rng.standard_normal((3, 9)).astype(np.float32)
    out = np.empty_like(x)
    assert log_softmax(x, out=out, backend="cuda") is out
    np.testing.assert_allclose(out, log_softmax(x, backend="cpu"), rtol=1e-6)


def test_empty_inputs_on_cuda():
    assert softmax(np.zeros((0, 3)), backend="cuda").shape == (0, 3)
    assert logsumexp(np.zeros((0, 3)), backend="cuda").shape == (0,)


@pytest.mark.bad_input
def test_bad_out_on_cuda_is_rejected():
    with pytest.raises(TypeError, match="out must have dtype float64"):
        softmax(np.zeros((2, 3)), out=np.zeros((2, 3), np.float32), backend="cuda")


# -- row groups: several short rows per block, `group` threads each ------------------
# (C, N, dtype): groups of 1..32 threads, batches that leave row slots of the last block
# empty; both dtypes where C is typical (the simulator is slow: a few hundred elements each).
f32, f64 = np.float32, np.float64
SMALL_ROWS = [(1, 37, f64), (2, 7, f32), (3, 37, f64), (10, 7, f32), (10, 13, f64), (31, 7, f32), (32, 1, f64),
              (33, 7, f32), (33, 7, f64)]


def _rows_with_specials(rng, n, c, dtype):
    """Random rows plus a masked class, and (given the rows) NaN, +inf and all -inf rows."""
    x = rng.standard_normal((n, c)) * 4
    x[0, 0] = -np.inf  # a masked class (the whole row when c == 1)
    if n >= 7:
        x[2, c - 1] = np.nan
        x[3, c // 2] = np.inf
        x[4] = -np.inf
        x[5, 0], x[5, c - 1] = np.inf, np.nan  # NaN beside +inf: NaN, as the CPU
        x[6] *= 2500  # logits ~1e4
    return x.astype(dtype)


def _assert_funcs_match_cpu(x):
    # atol: log-softmax near 0 is log(s) for s ~ 1, where an ulp of s is ~1e-16 absolute
    tol = dict(rtol=1e-5, atol=1e-6) if x.dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    for f in FUNCS:
        want = f(x, backend="cpu")
        got = f(x, backend="cuda")
        assert got.dtype == x.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, err_msg=f.__name__, **tol)  # NaN where the CPU has NaN


@pytest.mark.parametrize("c,n,dtype", SMALL_ROWS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_row_groups_match_cpu(c, n, dtype, rng, threads_per_block):
    _, threads, group = nn_cuda.row_launch(n, c)
    assert group == min(32, 1 << (c - 1).bit_length()) and threads % group == 0
    _assert_funcs_match_cpu(_rows_with_specials(rng, n, c, dtype))


@pytest.mark.parametrize("side", ["groups", "block"])
def test_both_sides_of_the_group_threshold(side, rng, threads_per_block):
    c = nn_cuda.GROUP_MAX_COLS + (side == "block")
    _, threads, group = nn_cuda.row_launch(2, c)
    assert group == (threads if side == "block" else 32)
    x = _rows_with_specials(rng, 2, c, np.float64)
    x[1, 70] = np.nan
    _assert_funcs_match_cpu(x)


# -- issue 13 regressions ------------------------------------------------------------------


@pytest.mark.bad_input
@pytest.mark.parametrize("f", FUNCS, ids=lambda f: f.__name__)
def test_cuda_out_overlapping_x_is_refused(f):
    # issue 13 defect 2: out was only checked inside the CUDA module, never for overlap
    base = cuda.to_device(np.arange(9, dtype=np.float64))
    x = base[:8].reshape(2, 4)
    out = base[1:].reshape(2, 4) if f is not logsumexp else base[7:9]
    with pytest.raises(ValueError, match="out overlaps the memory of x"):
        f(x, out=out, backend="cuda")
    np.testing.assert_array_equal(base.copy_to_host(), np.arange(9))


@pytest.mark.parametrize("f", [softmax, log_softmax], ids=lambda f: f.__name__)
def test_cuda_out_may_be_x_itself(f, rng):
    x = rng.standard_normal((3, 5))
    d = cuda.to_device(x)
    assert f(d, out=d) is d
    np.testing.assert_allclose(d.copy_to_host(), f(x, backend="cpu"), rtol=1e-12)
