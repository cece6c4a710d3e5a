"""Dropout and batch normalisation: CUDA against the CPU backend."""

import numpy as np
import pytest
from numba import cuda

from fastkernels.nn import batchnorm_backward, batchnorm_forward, dropout, dropout_backward


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_mask_is_bit_identical_to_cpu(dtype, rng, threads_per_block):
    x = rng.standard_normal((7, threads_per_block // 2 + 5)).astype(dtype)
    a = dropout(x, 0.35, seed=8, step=2, backend="cpu")
    b = dropout(x, 0.35, seed=8, step=2, backend="cuda")
    assert np.array_equal(a == 0, b == 0)
    # float32: the simulator multiplies in float32 where compiled code rounds once from float64
    np.testing.assert_allclose(b, a, rtol=2.5e-7 if dtype == np.float32 else 0)
    d = dropout_backward(cuda.to_device(x), 0.35, seed=8, step=2)
    assert np.array_equal(d.copy_to_host() == 0, a == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_cuda_matches_cpu(dtype, rng, threads_per_block):
    # more rows than row slices, and at 256 threads more 32-column tiles than the 3 blocks
    n, c = 19, threads_per_block // 4 + 35
    x = (rng.standard_normal((n, c)) * 2 + 1).astype(dtype)
    gamma, beta = rng.standard_normal((2, c)).astype(dtype)
    rm1, rv1 = np.zeros(c, dtype), np.ones(c, dtype)
    rm2, rv2 = rm1.copy(), rv1.copy()
    y1, c1 = batchnorm_forward(x, gamma, beta, rm1, rv1, backend="cpu")
    y2, c2 = batchnorm_forward(x, gamma, beta, rm2, rv2, backend="cuda")
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for a, b in ((y1, y2), (rm1, rm2), (rv1, rv2), (c1[0], c2[0]), (c1[1], c2[1])):
        np.testing.assert_allclose(b, a, **tol)
    dy = rng.standard_normal((n, c)).astype(dtype)
    for a, b in zip(batchnorm_backward(dy, c1, gamma, backend="cpu"), batchnorm_backward(dy, c2, gamma, backend="cuda")):
        np.testing.assert_allclose(b, a, **tol)
    ye1, _ = batchnorm_forward(x, gamma, beta, rm1, rv1, training=False, backend="cpu")
    ye2, _ = batchnorm_forward(x, gamma, beta, rm2, rv2, training=False, backend="cuda")
    np.testing.assert_allclose(ye2, ye1, **tol)


def test_batchnorm_on_device_arrays_stays_on_the_device(rng):
    from numba import cuda

    x = rng.standard_normal((9, 5))
    dy = rng.standard_normal((9, 5))
    gamma, beta = np.ones(5), np.zeros(5)
    y1, c1 = batchnorm_forward(x, gamma, beta, np.zeros(5), np.ones(5), backend="cpu")
    want = batchnorm_backward(dy, c1, gamma, backend="cpu")
    rm, rv = cuda.to_device(np.zeros(5)), cuda.to_device(np.ones(5))
    y2, c2 = batchnorm_forward(cuda.to_device(x), cuda.to_device(gamma), cuda.to_device(beta), rm, rv)
    got = batchnorm_backward(cuda.to_device(dy), c2, cuda.to_device(gamma))
    assert all(hasattr(g, "copy_to_host") for g in got)  # dx, dgamma and dbeta: no host round-trip
    for a, b in zip(want, got):
        np.testing.assert_allclose(b.copy_to_host(), a, rtol=1e-12, atol=1e-13)


# -- issue 13 regressions ------------------------------------------------------------------


def test_dropout_eval_mode_fills_a_device_out(rng):
    x = rng.standard_normal((2, 3))
    out = cuda.to_device(np.zeros((2, 3)))
    assert dropout(cuda.to_device(x), 0.5, seed=0, training=False, out=out) is out
    np.testing.assert_array_equal(out.copy_to_host(), x)
    host = np.zeros((2, 3))
    assert dropout(cuda.to_device(x), 0.5, seed=0, training=False, out=host) is host
    np.testing.assert_array_equal(host, x)


@pytest.mark.bad_input
def test_dropout_and_batchnorm_refuse_overlapping_device_buffers(rng):
    base = cuda.to_device(np.ones(7))
    with pytest.raises(ValueError, match="out overlaps the memory of x"):
        dropout(base[:6], 0.5, seed=0, out=base[1:])
    x = cuda.to_device(rng.standard_normal((4, 3)))
    g, b = cuda.to_device(np.ones(3)), cuda.to_device(np.zeros(3))
    rm = cuda.to_device(np.zeros(3))
    with pytest.raises(ValueError, match="running_mean is the memory of running_var"):
        batchnorm_forward(x, g, b, rm, rm)
    with pytest.raises(ValueError, match="running_var must be non-negative"):
        batchnorm_forward(x, g, b, rm, cuda.to_device(np.array([1.0, -1.0, 1.0])))
    np.testing.assert_array_equal(rm.copy_to_host(), np.zeros(3))
