"""sigmoid_binary_cross_entropy and mse against the float64 NumPy references (fastkernels.nn.losses);
against torch in test_losses_torch.py."""

import numpy as np
import pytest

from fastkernels.nn import gradcheck, mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from fastkernels.nn._reference import ref_mse, ref_sigmoid_binary_cross_entropy

BACKENDS = ["cpu", "parallel"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", ["plain", "weight_full", "weight_c", "pos_weight"])
def test_bce_matches_reference_and_finite_differences(backend, reduction, opts, rng):
    z = rng.standard_normal((5, 4)) * 3
    t = rng.random((5, 4))
    o = {"plain": {}, "weight_full": dict(weight=rng.random((5, 4))), "weight_c": dict(weight=rng.random(4)),
         "pos_weight": dict(pos_weight=rng.random(4) * 3)}[opts]
    loss, g = sigmoid_binary_cross_entropy(z, t, reduction=reduction, backend=backend, **o)
    np.testing.assert_allclose(loss, ref_sigmoid_binary_cross_entropy(z, t, reduction=reduction, **o), rtol=1e-12)
    gradcheck(lambda v: np.sum(ref_sigmoid_binary_cross_entropy(v, t, reduction=reduction, **o)), z, g, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_extreme_logits_are_finite(dtype):
    z = np.array([1e4, -1e4, 0.0, 50.0], dtype)
    t = np.array([0.0, 1.0, 1.0, 1.0], dtype)
    loss, g = sigmoid_binary_cross_entropy(z, t, reduction="none")
    np.testing.assert_allclose(loss, [1e4, 1e4, np.log(2), 0.0], rtol=1e-6, atol=1e-20)
    np.testing.assert_allclose(g, [1.0, -1.0, -0.5, 0.0], atol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_reference_and_finite_differences(backend, reduction, rng):
    a, b = rng.standard_normal((2, 7, 3))
    loss, g = mse(a, b, reduction=reduction, backend=backend)
    np.testing.assert_allclose(loss, ref_mse(a, b, reduction=reduction), rtol=1e-13)
    gradcheck(lambda v: np.sum(ref_mse(v, b, reduction=reduction)), a, g, rtol=1e-5, atol=1e-7)
    assert mse(a.astype(np.float32), b.astype(np.float32))[1].dtype == np.float32


@pytest.mark.parametrize("backend", BACKENDS)
def test_elementwise_losses_of_empty_inputs(backend):
    for shape in [(0,), (0, 3)]:
        assert np.isnan(mse(np.zeros(shape), np.zeros(shape), backend=backend)[0])
        loss, g = sigmoid_binary_cross_entropy(np.zeros(shape), np.zeros(shape), reduction="sum", backend=backend)
        assert loss == 0 and g.shape == shape


@pytest.mark.bad_input
class TestBadInput:
    def test_bce_and_mse_bad_input(self):
        with pytest.raises(ValueError, match=r"target must lie in \[0, 1\]"):
            sigmoid_binary_cross_entropy(np.zeros(3), np.array([0.0, 2.0, 1.0]))
        with pytest.raises(ValueError, match="target must have shape"):
            sigmoid_binary_cross_entropy(np.zeros(3), np.zeros(4))
        with pytest.raises(ValueError, match="weight must have the shape of logits"):
            sigmoid_binary_cross_entropy(np.zeros((2, 3)), np.zeros((2, 3)), weight=np.ones(2))
        with pytest.raises(ValueError, match="pos_weight must be non-negative"):
            sigmoid_binary_cross_entropy(np.zeros((2, 3)), np.zeros((2, 3)), pos_weight=-np.ones(3))
        with pytest.raises(TypeError, match="target must have dtype float64"):
            mse(np.zeros(3), np.zeros(3, np.float32))


# -- issue 13 (reliability) regressions ------------------------------------------------------------


def _shifted(x):
    """A buffer of x's shape and dtype overlapping x shifted by one element (and x's copy in it)."""
    base = np.empty(x.size + 1, x.dtype)
    base[:x.size] = x.ravel()
    return base[:x.size].reshape(x.shape), base[1:].reshape(x.shape)


@pytest.mark.bad_input
@pytest.mark.parametrize("fn", ["sce", "bce", "mse"])
def test_losses_refuse_an_out_overlapping_an_input_shifted_by_one(fn, rng):
    # issue 13 defect 2: a shifted overlap was accepted and gave garbage
    x = rng.standard_normal((3, 4)) * 3.0
    y = rng.integers(0, 4, 3)
    xin, out = _shifted(x)
    keep = xin.copy()
    call = {"sce": lambda: softmax_cross_entropy(xin, y, out=out),
            "bce": lambda: sigmoid_binary_cross_entropy(xin, np.full_like(x, 0.5), out=out),
            "mse": lambda: mse(xin, np.zeros_like(x), out=out)}[fn]
    with pytest.raises(ValueError, match="out overlaps the memory of"):
        call()
    np.testing.assert_array_equal(xin, keep)


@pytest.mark.parametrize("fn", ["bce", "mse"])
def test_elementwise_losses_accept_out_is_the_first_input(fn, rng):
    # the documented in-place use: each element is read before its gradient is written
    z = rng.standard_normal((3, 4))
    t = rng.random((3, 4))
    f = sigmoid_binary_cross_entropy if fn == "bce" else mse
    want_loss, want_g = f(z, t)
    y = z.copy()
    loss, g = f(y, t, out=y)
    assert g is y and loss == want_loss
    np.testing.assert_array_equal(y, want_g)
