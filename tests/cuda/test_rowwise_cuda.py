import numpy as np
import pytest
from numba import cuda

from fastkernels import _backend
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
