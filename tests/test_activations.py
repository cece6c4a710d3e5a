"""Elementwise activations and their gradients (fastkernels.nn.activations) against the float64
reference; the fused dense-layer epilogue is tested in test_dense.py."""

import numpy as np
import pytest

from fastkernels.nn import ACTIVATIONS, activation, activation_grad
from fastkernels.nn._reference import ref_act

BACKENDS = ["cpu", "parallel"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_elementwise_activation_and_grad(backend, name, rng):
    z = rng.standard_normal((3, 4, 5)) * 3
    a = activation(z, name, backend=backend)
    np.testing.assert_allclose(a, ref_act(z, name), rtol=1e-12, atol=1e-14)
    da = rng.standard_normal(z.shape)
    dz = activation_grad(da, name, z=z, a=a, backend=backend)
    num = np.empty_like(z)
    eps = 1e-6
    zf, nf = z.reshape(-1), num.reshape(-1)
    for i in range(z.size):
        zp, zm = zf.copy(), zf.copy()
        zp[i] += eps
        zm[i] -= eps
        nf[i] = (ref_act(zp[i], name) - ref_act(zm[i], name)) / (2 * eps)
    np.testing.assert_allclose(dz, da * num, rtol=1e-5, atol=1e-7)


def test_activation_extremes_are_finite():
    z = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    for name in ACTIVATIONS:
        a = activation(z, name)
        assert not np.isnan(a).any()
        assert np.isfinite(activation_grad(np.ones(5), name, z=z, a=a)).all()
    np.testing.assert_array_equal(activation(z, "sigmoid"), [0.0, 0.0, 0.5, 1.0, 1.0])
    assert activation_grad(np.ones(1), "relu", a=np.zeros(1))[0] == 0.0  # relu'(0) = 0, as torch


@pytest.mark.bad_input
class TestBadInput:
    def test_activation_grad_needs_the_right_cache(self):
        with pytest.raises(ValueError, match="needs z"):
            activation_grad(np.ones(3), "gelu", a=np.ones(3))
        with pytest.raises(ValueError, match="needs a"):
            activation_grad(np.ones(3), "tanh", z=np.ones(3))


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_propagates_nan(backend, dtype, name):
    # issue 13 defect 4: relu mapped NaN to 0 (torch gives NaN)
    z = np.array([[np.nan, -1.0, 0.0, 2.0]], dtype)
    a = activation(z, name, backend=backend)
    assert np.isnan(a[0, 0]) and np.isfinite(a[0, 1:]).all()


def test_relu_derivative_passes_the_gradient_at_nan_like_torch():
    dz = activation_grad(np.ones((1, 3)), "relu", a=np.array([[np.nan, 0.0, 2.0]]))
    np.testing.assert_array_equal(dz, [[1.0, 0.0, 1.0]])
