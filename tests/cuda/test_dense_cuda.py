"""Dense-layer and activation CUDA kernels (``nn._dense_cuda``, ``nn._activations_cuda``) under the simulator.

Run as ``NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda/test_dense_cuda.py``.
The module functions are compared with an inline float64 NumPy reference; the
public ``backend="cuda"`` entry points with ``backend="cpu"``. The simulator
spends ~0.3 s per block of 256 threads, so shapes are tiny and most matmul tests
run with ``MAX_BLOCKS = 1``: one block then walks every output tile, which also
exercises the tile-stride loop. Ragged shapes put 1, 3, 17 and 33 on every axis
(33 = one full 32-wide tile plus a 1-wide tail).
"""

import numpy as np
import pytest
from numba import cuda
from scipy import special

from fastkernels import _backend, _launch
from fastkernels.nn import _activations_cuda as ac
from fastkernels.nn import _reference as _ref
from fastkernels.nn import _dense_cuda as dc
from fastkernels.nn.activations import ACTIVATIONS, CODES, NEEDS_Z

ALPHA = 0.07  # leaky_relu slope (not the default, so a dropped alpha shows)


@pytest.fixture
def one_block(monkeypatch):
    """Every launch is a single block: matmul blocks walk all output tiles, and the
    elementwise kernels run 32-thread blocks (cheap in the simulator) grid-stride."""
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 1)
    monkeypatch.setattr(_launch, "THREADS_PER_BLOCK", 32)


# --------------------------------------------------------------------------- float64 references


def ref_act(z, name):
    return _ref.ref_act(z, name, ALPHA)


def ref_grad(name, cache):
    """f' from the cache: Z for softplus/gelu, A for the others (the kernels' contract)."""
    return _ref.ref_act_grad(name, cache, ALPHA)


def ref_forward(X, W, b, name):
    return _ref.ref_dense_forward(X, W, b, name, ALPHA)


def ref_backward(dA, X, W, cache, name):
    return _ref.ref_dense_backward(dA, X, W, cache, name, ALPHA)


def tol(dtype, depth):
    """Tolerance of a ``depth``-term sum accumulated in ``dtype`` (terms ~ N(0, 1))."""
    root = np.sqrt(max(depth, 1))
    if dtype == np.float32:
        return dict(rtol=1e-5, atol=4e-6 * root)
    return dict(rtol=1e-12, atol=1e-14 * root)


def layer(rng, n, m, k, dtype):
    return (rng.standard_normal((n, k)).astype(dtype), rng.standard_normal((m, k)).astype(dtype),
            rng.standard_normal(m).astype(dtype))


def cache_of(name, A, Z):
    return Z if name in NEEDS_Z else A


# --------------------------------------------------------------------------- module functions


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_every_activation(name, dtype, rng):
    X, W, b = layer(rng, 3, 5, 7, dtype)
    A, Z = dc.dense_forward(X, W, b, CODES[name], ALPHA, True, None)
    want_a, want_z = ref_forward(X, W, b, name)
    assert isinstance(A, np.ndarray) and A.dtype == dtype and A.shape == (3, 5)
    assert isinstance(Z, np.ndarray) and Z.dtype == dtype and Z.shape == (3, 5)
    np.testing.assert_allclose(Z, want_z, **tol(dtype, 7))
    np.testing.assert_allclose(A, want_a, **tol(dtype, 7))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_every_activation(name, dtype, rng, one_block):
    n, m, k = 4, 3, 5
    X, W, b = layer(rng, n, m, k, dtype)
    want_a, want_z = ref_forward(X, W, b, name)
    cache = cache_of(name, want_a, want_z).astype(dtype)
    dA = rng.standard_normal((n, m)).astype(dtype)
    dX, dW, db = dc.dense_backward(dA, X, W, cache, CODES[name], ALPHA, True)
    want_dx, want_dw, want_db = ref_backward(dA, X, W, cache, name)
    for got, want, depth in ((dX, want_dx, m), (dW, want_dw, n), (db, want_db, n)):
        assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol(dtype, depth))


# (N, M, K): each axis in {1, 3, 17, 33} somewhere, plus K = 32 (db alone in the second
# column tile of dW's output) and K = 33 (two contraction tiles, the second 1 wide).
# Each shape gets its own activation, keep_z and need_dx; dtypes alternate (both for the last).
RAGGED = [(1, 1, 1), (33, 3, 17), (3, 33, 1), (17, 1, 33), (2, 3, 32), (33, 17, 33)]
CASES = [(s, np.float64 if i % 2 else np.float32) for i, s in enumerate(RAGGED)] + [(RAGGED[-1], np.float32)]


@pytest.mark.parametrize("shape, dtype", CASES, ids=["x".join(map(str, s)) + "-" + np.dtype(d).name for s, d in CASES])
def test_ragged_shapes_forward_and_backward(shape, dtype, rng, one_block):
    n, m, k = shape
    i = RAGGED.index(shape)
    name = ("gelu", "leaky_relu", "softplus", "sigmoid", "tanh", "relu")[i]
    keep_z = name in NEEDS_Z or i % 2 == 1
    need_dx = i != 4
    X, W, b = layer(rng, n, m, k, dtype)
    A, Z = dc.dense_forward(X, W, b, CODES[name], ALPHA, keep_z, None)
    want_a, want_z = ref_forward(X, W, b, name)
    np.testing.assert_allclose(A, want_a, **tol(dtype, k))
    if keep_z:
        np.testing.assert_allclose(Z, want_z, **tol(dtype, k))
    else:
        assert Z is None
    dA = rng.standard_normal((n, m)).astype(dtype)
    cache = cache_of(name, A, Z)
    dX, dW, db = dc.dense_backward(dA, X, W, cache, CODES[name], ALPHA, need_dx)
    want_dx, want_dw, want_db = ref_backward(dA, X, W, cache, name)
    np.testing.assert_allclose(dW, want_dw, **tol(dtype, n))
    np.testing.assert_allclose(db, want_db, **tol(dtype, n))
    if need_dx:
        np.testing.assert_allclose(dX, want_dx, **tol(dtype, m))
    else:
        assert dX is None


def test_many_tiles_with_small_grids(rng, threads_per_block):
    """Several blocks (MAX_BLOCKS = 3) over 2 row tiles; grid-stride dZ (99 > 3 x 32 elements)."""
    n, m, k = 33, 3, 5
    X, W, b = layer(rng, n, m, k, np.float64)
    A, Z = dc.dense_forward(X, W, b, CODES["gelu"], ALPHA, True, None)
    want_a, want_z = ref_forward(X, W, b, "gelu")
    np.testing.assert_allclose(Z, want_z, **tol(np.float64, k))
    np.testing.assert_allclose(A, want_a, **tol(np.float64, k))
    dA = rng.standard_normal((n, m))
    got = dc.dense_backward(dA, X, W, Z, CODES["gelu"], ALPHA, True)
    for g, w, depth in zip(got, ref_backward(dA, X, W, Z, "gelu"), (m, n, n)):
        np.testing.assert_allclose(g, w, **tol(np.float64, depth))


def test_no_bias_and_empty_axes(rng, one_block):
    X, W, _ = layer(rng, 2, 3, 4, np.float64)
    A, Z = dc.dense_forward(X, W, None, CODES["identity"], ALPHA, False, None)
    np.testing.assert_allclose(A, X @ W.T, **tol(np.float64, 4))
    assert Z is None
    # K = 0: Z is the bias; dW is (M, 0) but db still sums dZ
    b = rng.standard_normal(3)
    A, Z = dc.dense_forward(np.zeros((2, 0)), np.zeros((3, 0)), b, CODES["softplus"], ALPHA, True, None)
    np.testing.assert_allclose(Z, np.tile(b, (2, 1)), rtol=1e-15)
    dA = rng.standard_normal((2, 3))
    dX, dW, db = dc.dense_backward(dA, np.zeros((2, 0)), np.zeros((3, 0)), Z, CODES["softplus"], ALPHA, True)
    assert dX.shape == (2, 0) and dW.shape == (3, 0)
    np.testing.assert_allclose(db, (dA * special.expit(Z)).sum(0), rtol=1e-13)
    # N = 0: no rows, zero gradients
    A, Z = dc.dense_forward(np.zeros((0, 4)), W, b, CODES["relu"], ALPHA, False, None)
    assert A.shape == (0, 3) and Z is None
    dX, dW, db = dc.dense_backward(np.zeros((0, 3)), np.zeros((0, 4)), W, A, CODES["relu"], ALPHA, True)
    assert dX.shape == (0, 4) and not dW.any() and not db.any()


def test_identity_backward_needs_no_cache(rng, one_block):
    X, W, _ = layer(rng, 3, 2, 4, np.float64)
    dA = rng.standard_normal((3, 2))
    dX, dW, db = dc.dense_backward(dA, X, W, None, CODES["identity"], ALPHA, True)
    np.testing.assert_allclose(dX, dA @ W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dW, dA.T @ X, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, dA.sum(0), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_host_out_buffer_is_filled_and_returned(dtype, rng):
    X, W, b = layer(rng, 3, 4, 5, dtype)
    out = np.full((3, 4), np.nan, dtype)
    A, Z = dc.dense_forward(X, W, b, CODES["tanh"], ALPHA, False, out)
    assert A is out and Z is None
    np.testing.assert_allclose(out, ref_forward(X, W, b, "tanh")[0], **tol(dtype, 5))


def test_device_inputs_give_device_outputs(rng, one_block):
    n, m, k = 5, 4, 3
    X, W, b = layer(rng, n, m, k, np.float32)
    d_X, d_W, d_b = cuda.to_device(X), cuda.to_device(W), cuda.to_device(b)
    d_out = cuda.device_array((n, m), np.float32)
    A, Z = dc.dense_forward(d_X, d_W, d_b, CODES["gelu"], ALPHA, True, d_out)
    assert A is d_out and _backend.is_device_array(Z)
    want_a, want_z = ref_forward(X, W, b, "gelu")
    np.testing.assert_allclose(A.copy_to_host(), want_a, **tol(np.float32, k))
    np.testing.assert_allclose(Z.copy_to_host(), want_z, **tol(np.float32, k))
    dA = rng.standard_normal((n, m)).astype(np.float32)
    got = dc.dense_backward(cuda.to_device(dA), d_X, d_W, Z, CODES["gelu"], ALPHA, True)
    assert all(_backend.is_device_array(g) for g in got)
    for g, w, depth in zip(got, ref_backward(dA, X, W, Z.copy_to_host(), "gelu"), (m, n, n)):
        np.testing.assert_allclose(g.copy_to_host(), w, **tol(np.float32, depth))
    # a host input mixed with a device out buffer: the result lands in the device buffer
    A, _ = dc.dense_forward(X, W, b, CODES["relu"], ALPHA, False, d_out)
    assert A is d_out
    np.testing.assert_allclose(d_out.copy_to_host(), ref_forward(X, W, b, "relu")[0], **tol(np.float32, k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_elementwise_activation_and_grad(name, dtype, rng):
    z = (rng.standard_normal((5, 7)) * 3).astype(dtype)
    z[0, :3] = [0.0, 40.0, -40.0]  # relu's kink, saturated sigmoid/softplus
    a = ac.activation(z, CODES[name], ALPHA, None)
    assert isinstance(a, np.ndarray) and a.dtype == dtype and a.shape == z.shape
    # atol covers values near 0
    t = dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(a, ref_act(z, name), **t)
    da = rng.standard_normal(z.shape).astype(dtype)
    cache = z if name in NEEDS_Z else a
    dz = ac.activation_grad(da, z, a, CODES[name], ALPHA, None)
    assert dz.dtype == dtype and dz.shape == z.shape
    np.testing.assert_allclose(dz, da * ref_grad(name, cache), **t)


def test_elementwise_grid_stride_out_and_device(rng, threads_per_block):
    z = rng.standard_normal((9, 13))  # 117 elements: > 3 blocks of 32 threads
    out = np.empty_like(z)
    assert ac.activation(z, CODES["leaky_relu"], ALPHA, out) is out
    np.testing.assert_allclose(out, ref_act(z, "leaky_relu"), rtol=1e-15)
    d_z = cuda.to_device(z)
    d_a = ac.activation(d_z, CODES["gelu"], ALPHA, None)
    assert _backend.is_device_array(d_a)
    np.testing.assert_allclose(d_a.copy_to_host(), ref_act(z, "gelu"), rtol=1e-14)
    da = rng.standard_normal(z.shape)
    d_dz = cuda.device_array(z.shape)
    assert ac.activation_grad(cuda.to_device(da), d_z, None, CODES["gelu"], ALPHA, d_dz) is d_dz
    np.testing.assert_allclose(d_dz.copy_to_host(), da * ref_grad("gelu", z), rtol=1e-14)
    # in place (out is da) and identity with neither z nor a
    assert ac.activation_grad(da, None, None, CODES["identity"], ALPHA, da) is da


# --------------------------------------------------------------------------- public API, cuda vs cpu


@pytest.mark.parametrize("name, dtype", [("identity", np.float32), ("leaky_relu", np.float64), ("gelu", np.float32)])
def test_public_dense_cuda_matches_cpu(name, dtype, rng, one_block):
    from fastkernels.nn import dense_backward, dense_forward

    n, m, k = 6, 5, 4
    X, W, b = layer(rng, n, m, k, dtype)
    bias = None if name == "identity" else b
    want_a, want_cache = dense_forward(X, W, bias, name, alpha=ALPHA, backend="cpu")
    got_a, got_cache = dense_forward(X, W, bias, name, alpha=ALPHA, backend="cuda")
    t = tol(dtype, k)
    np.testing.assert_allclose(got_a, want_a, **t)
    np.testing.assert_allclose(got_cache, want_cache, **t)
    assert got_a.dtype == dtype and (got_cache is got_a) == (name not in NEEDS_Z)
    dA = rng.standard_normal((n, m)).astype(dtype)
    want = dense_backward(dA, X, W, want_cache, name, alpha=ALPHA, need_dx=name != "gelu", backend="cpu")
    got = dense_backward(dA, X, W, want_cache, name, alpha=ALPHA, need_dx=name != "gelu", backend="cuda")
    for g, w, depth in zip(got, want, (m, n, n)):
        if w is None:
            assert g is None
        else:
            assert g.dtype == dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, **tol(dtype, depth))


def test_public_device_arrays_pick_cuda(rng, one_block):
    from fastkernels.nn import dense_backward, dense_forward

    X, W, b = layer(rng, 4, 3, 5, np.float64)
    d_a, d_cache = dense_forward(cuda.to_device(X), cuda.to_device(W), cuda.to_device(b), "softplus")  # auto
    assert _backend.is_device_array(d_a) and _backend.is_device_array(d_cache)
    want_a, want_cache = dense_forward(X, W, b, "softplus", backend="cpu")
    np.testing.assert_allclose(d_a.copy_to_host(), want_a, rtol=1e-12, atol=1e-14)
    dA = rng.standard_normal((4, 3))
    got = dense_backward(cuda.to_device(dA), cuda.to_device(X), cuda.to_device(W), d_cache, "softplus")
    want = dense_backward(dA, X, W, want_cache, "softplus", backend="cpu")
    for g, w in zip(got, want):
        assert _backend.is_device_array(g)
        np.testing.assert_allclose(g.copy_to_host(), w, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_public_activation_cuda_matches_cpu(name, rng):
    from fastkernels.nn import activation, activation_grad

    dtype = np.float64 if CODES[name] % 2 else np.float32
    z = (rng.standard_normal((2, 3, 4)) * 3).astype(dtype)
    t = dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-14, atol=1e-300)
    a = activation(z, name, alpha=ALPHA, backend="cuda")
    np.testing.assert_allclose(a, activation(z, name, alpha=ALPHA, backend="cpu"), **t)
    assert a.shape == z.shape and a.dtype == dtype
    da = rng.standard_normal(z.shape).astype(dtype)
    kw = {"z": z} if name in NEEDS_Z else {"a": a}
    got = activation_grad(da, name, alpha=ALPHA, backend="cuda", **kw)
    np.testing.assert_allclose(got, activation_grad(da, name, alpha=ALPHA, backend="cpu", **kw), **t)


# --------------------------------------------------------------------------- issue 13 regressions


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_cuda_activations_propagate_nan(name, one_block):
    # issue 13 defect 4: the shared act_forward mapped relu(NaN) to 0 on the GPU too
    from fastkernels.nn import activation

    z = np.array([[np.nan, -1.0, 0.0, 2.0]])
    a = activation(z, name, backend="cuda")
    np.testing.assert_allclose(a, activation(z, name, backend="cpu"), rtol=1e-14)  # gelu: libdevice's erfc
    assert np.isnan(a[0, 0]) and np.isfinite(a[0, 1:]).all()


def test_cuda_dense_forward_keeps_a_nan_row_nan(rng, one_block):
    from fastkernels.nn import dense_forward

    X = rng.standard_normal((3, 4))
    X[1, 2] = np.nan
    W, b = rng.standard_normal((5, 4)), rng.standard_normal(5)
    for act in ("relu", "leaky_relu"):
        A, _ = dense_forward(X, W, b, act, backend="cuda")
        assert np.isnan(A[1]).all() and np.isfinite(A[[0, 2]]).all()


@pytest.mark.bad_input
def test_cuda_out_overlapping_an_input_is_refused(one_block):
    # issue 13 defect 2 on device arrays: a shifted overlap is refused before any launch
    from fastkernels.nn import activation, dense_forward

    base = cuda.to_device(np.arange(13, dtype=np.float64))
    x, out = base[:12].reshape(3, 4), base[1:].reshape(3, 4)
    with pytest.raises(ValueError, match="out overlaps the memory of z"):
        activation(x, "relu", out=out)
    with pytest.raises(ValueError, match="out overlaps the memory of X"):
        dense_forward(x, cuda.to_device(np.ones((4, 4))), out=out)
    np.testing.assert_array_equal(base.copy_to_host(), np.arange(13))
    z = cuda.to_device(np.array([[-1.0, 2.0]]))
    assert activation(z, "relu", out=z) is z  # exactly z: in place
    np.testing.assert_array_equal(z.copy_to_host(), [[0.0, 2.0]])
