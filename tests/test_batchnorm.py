import numpy as np
import pytest

from fastkernels.nn import batchnorm_backward, batchnorm_forward, gradcheck

BACKENDS = ["cpu", "parallel"]


def params(rng, c, dtype=np.float64):
    return (rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype),
            np.zeros(c, dtype), np.ones(c, dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy_and_updates_running_stats_like_torch(backend, dtype, rng):
    x = (rng.standard_normal((16, 70)) * 3 + 5).astype(dtype)
    gamma, beta, rm, rv = params(rng, 70, dtype)
    y, (xhat, inv_std) = batchnorm_forward(x, gamma, beta, rm, rv, momentum=0.1, backend=backend)
    x64 = x.astype(np.float64)
    mu, var = x64.mean(0), x64.var(0)
    want = gamma * (x64 - mu) / np.sqrt(var + 1e-5) + beta
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, want, **tol)
    np.testing.assert_allclose(rm, 0.1 * mu, **tol)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * x64.var(0, ddof=1), **tol)  # unbiased, as torch
    ye, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=False, backend=backend)
    np.testing.assert_allclose(ye, gamma * (x64 - rm) / np.sqrt(rv.astype(np.float64) + 1e-5) + beta, **tol)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_matches_finite_differences(backend, rng):
    x = rng.standard_normal((6, 5)) * 2 + 1
    gamma, beta, rm, rv = params(rng, 5)
    r = rng.standard_normal((6, 5))

    def loss(xv=x, gv=gamma, bv=beta):
        return float(np.sum(batchnorm_forward(xv, gv, bv, rm.copy(), rv.copy())[0] * r))

    _, cache = batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy())
    dx, dgamma, dbeta = batchnorm_backward(r, cache, gamma, backend=backend)
    gradcheck(lambda v: loss(xv=v), x, dx, rtol=1e-5, atol=1e-7)
    gradcheck(lambda v: loss(gv=v), gamma, dgamma, rtol=1e-5, atol=1e-7)
    gradcheck(lambda v: loss(bv=v), beta, dbeta, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dx.sum(axis=0), 0, atol=1e-10)  # normalisation removes the mean


def test_against_torch_where_installed(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((8, 4))
    gamma, beta, rm, rv = params(rng, 4)
    bn = torch.nn.BatchNorm1d(4, momentum=0.1, eps=1e-5).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    xt = torch.tensor(x, requires_grad=True)
    yt = bn(xt)
    r = rng.standard_normal((8, 4))
    yt.backward(torch.tensor(r))
    y, cache = batchnorm_forward(x, gamma, beta, rm, rv)
    dx, dgamma, dbeta = batchnorm_backward(r, cache, gamma)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(rm, bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-10)


@pytest.mark.bad_input
class TestBadInput:
    def test_single_row_in_training_and_shapes(self, rng):
        gamma, beta, rm, rv = params(rng, 3)
        with pytest.raises(ValueError, match="at least 2 rows"):
            batchnorm_forward(np.ones((1, 3)), gamma, beta, rm, rv)
        with pytest.raises(ValueError, match=r"gamma must have shape \(4,\)"):
            batchnorm_forward(np.ones((2, 4)), gamma, beta, rm, rv)

    def test_running_stats_are_never_copied(self, rng):
        gamma, beta, rm, rv = params(rng, 3)
        with pytest.raises(TypeError, match="running_mean must have dtype float64 to be written in place"):
            batchnorm_forward(np.ones((2, 3)), gamma, beta, rm.astype(np.float32), rv)
        with pytest.raises(ValueError, match="momentum must be <= 1.0"):
            batchnorm_forward(np.ones((2, 3)), gamma, beta, rm, rv, momentum=2.0)
        with pytest.raises(ValueError, match="eps must be > 0"):
            batchnorm_forward(np.ones((2, 3)), gamma, beta, rm, rv, eps=0.0)

    def test_backward_needs_a_training_cache(self, rng):
        gamma, beta, rm, rv = params(rng, 3)
        _, cache = batchnorm_forward(np.ones((2, 3)), gamma, beta, rm, rv, training=False)
        with pytest.raises(ValueError, match="training-mode forward"):
            batchnorm_backward(np.ones((2, 3)), cache, gamma)


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.bad_input
def test_running_statistics_sharing_memory_or_negative_are_refused(rng):
    # issue 13 defect 2 for batch norm: the running statistics are its in-place outputs
    x = rng.standard_normal((5, 3))
    g, b, rm, rv = params(rng, 3)
    with pytest.raises(ValueError, match="running_mean is the memory of running_var"):
        batchnorm_forward(x, g, b, rv, rv)
    base = np.zeros(16)
    base[:15] = x.ravel()
    with pytest.raises(ValueError, match="running_mean overlaps the memory of x"):
        batchnorm_forward(base[:15].reshape(5, 3), g, b, base[13:16], rv)
    bad_var = np.array([1.0, -0.5, 1.0])
    before = rm.copy()
    for training in (True, False):
        with pytest.raises(ValueError, match=r"running_var must be non-negative, got -0.5 at index 1"):
            batchnorm_forward(x, g, b, rm, bad_var, training=training)
    np.testing.assert_array_equal(rm, before)
    with pytest.raises(TypeError, match="training must be True or False"):
        batchnorm_forward(x, g, b, rm, rv, training="no")
    with pytest.raises(TypeError, match="cache must be the"):
        batchnorm_backward(x, x, g)  # a malformed cache: no bare unpacking error


@pytest.mark.parametrize("backend", BACKENDS)
def test_nan_stays_in_its_column(backend, rng):
    x = rng.standard_normal((6, 3))
    x[2, 1] = np.nan
    g, b, rm, rv = params(rng, 3)
    y, _ = batchnorm_forward(x, g, b, rm, rv, backend=backend)
    assert np.isnan(y[:, 1]).all() and np.isfinite(y[:, [0, 2]]).all()
    assert np.isnan(rm[1]) and np.isfinite(rm[[0, 2]]).all()
