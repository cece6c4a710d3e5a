import numpy as np
import pytest

from fastkernels.nn import ACTIVATIONS, activation, activation_grad, dense_backward, dense_forward, gradcheck
from fastkernels.nn._reference import ref_act

BACKENDS = ["cpu", "parallel"]


def layer(rng, n=6, k=5, m=4, dtype=np.float64):
    return (rng.standard_normal((n, k)).astype(dtype), rng.standard_normal((m, k)).astype(dtype),
            rng.standard_normal(m).astype(dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_matches_numpy(backend, dtype, name, rng):
    X, W, b = layer(rng, dtype=dtype)
    A, cache = dense_forward(X, W, b, name, backend=backend)
    z = X.astype(np.float64) @ W.T.astype(np.float64) + b
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(A, ref_act(z, name), **tol)
    assert A.dtype == dtype and A.shape == (6, 4)
    if name in ("softplus", "gelu"):
        np.testing.assert_allclose(cache, z, **tol)
    else:
        assert cache is A


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("need_dx", [True, False])
def test_backward_matches_finite_differences(name, need_dx, rng):
    X, W, b = layer(rng)
    X += 0.1  # keep relu kinks away from the FD step
    R = rng.standard_normal((6, 4))
    A, cache = dense_forward(X, W, b, name)
    dX, dW, db = dense_backward(R, X, W, cache, name, need_dx=need_dx)

    def loss(Xv=X, Wv=W, bv=b):
        return float(np.sum(dense_forward(Xv, Wv, bv, name)[0] * R))

    gradcheck(lambda w: loss(Wv=w), W, dW, rtol=1e-5, atol=1e-7)
    gradcheck(lambda v: loss(bv=v), b, db, rtol=1e-5, atol=1e-7)
    if need_dx:
        gradcheck(lambda x: loss(Xv=x), X, dX, rtol=1e-5, atol=1e-7)
    else:
        assert dX is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_float32_matches_float64(backend, rng):
    X, W, b = layer(rng, n=33, k=17, m=9)
    R = rng.standard_normal((33, 9))
    want = dense_backward(R, X, W, dense_forward(X, W, b, "tanh")[1], "tanh")
    f = [a.astype(np.float32) for a in (X, W, b, R)]
    got = dense_backward(f[3], f[0], f[1], dense_forward(f[0], f[1], f[2], "tanh", backend=backend)[1], "tanh",
                         backend=backend)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_in_place_and_out_buffers(rng):
    X, W, b = layer(rng)
    out = np.empty((6, 4))
    A, cache = dense_forward(X, W, b, "relu", out=out)
    assert A is out and cache is out
    z = rng.standard_normal((4, 4))
    want = np.tanh(z)
    assert activation(z, "tanh", out=z) is z
    np.testing.assert_allclose(z, want, rtol=1e-15)


def test_identity_backward_and_empty_shapes(rng):
    X, W, b = layer(rng)
    R = rng.standard_normal((6, 4))
    dX, dW, db = dense_backward(R, X, W, R, "identity")
    np.testing.assert_allclose(dW, R.T @ X)
    np.testing.assert_allclose(db, R.sum(0))
    A, _ = dense_forward(np.zeros((0, 5)), W, b, "relu")
    assert A.shape == (0, 4)
    A, _ = dense_forward(np.zeros((3, 0)), np.zeros((4, 0)), b, "identity")
    np.testing.assert_allclose(A, np.tile(b, (3, 1)))


@pytest.mark.bad_input
class TestBadInput:
    def test_shape_chain_mismatch(self, rng):
        X, W, b = layer(rng)
        with pytest.raises(ValueError, match=r"W must have shape \(out, 5\) to match X's 5 input features, got \(4, 6\)"):
            dense_forward(X, np.zeros((4, 6)), b)
        with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
            dense_forward(X, W, np.zeros(5))
        with pytest.raises(ValueError, match=r"dA must have shape \(6, 4\)"):
            dense_backward(np.zeros((6, 3)), X, W, np.zeros((6, 4)), "relu")
        with pytest.raises(ValueError, match="X must be 2-dimensional"):
            dense_forward(X[0], W, b)

    def test_dtypes(self, rng):
        X, W, b = layer(rng)
        with pytest.raises(TypeError, match="W must have dtype float64, got float32"):
            dense_forward(X, W.astype(np.float32), b)
        with pytest.raises(TypeError, match="X must have dtype float32 or float64, got int64"):
            dense_forward(X.astype(np.int64), W, b)

    def test_bad_activation_and_alpha(self, rng):
        X, W, b = layer(rng)
        with pytest.raises(ValueError, match="activation must be one of"):
            dense_forward(X, W, b, "swish")
        with pytest.raises(ValueError, match="alpha must be >= 0.0"):
            dense_forward(X, W, b, "leaky_relu", alpha=-0.1)

    def test_bad_out(self, rng):
        X, W, b = layer(rng)
        out = np.zeros((6, 4), np.float32)
        with pytest.raises(TypeError, match="out must have dtype float64"):
            dense_forward(X, W, b, out=out)
        assert not out.any()


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh"])
def test_dense_forward_keeps_a_nan_row_nan(backend, name, rng):
    # issue 13 defect 4: relu hid NaN rows of dense_forward; the other rows are unaffected
    X, W, b = layer(rng)
    X[2, 1] = np.nan
    A, _ = dense_forward(X, W, b, name, backend=backend)
    assert np.isnan(A[2]).all()
    assert np.isfinite(np.delete(A, 2, axis=0)).all()


@pytest.mark.bad_input
def test_out_overlapping_an_input_is_refused(rng):
    # issue 13 defect 2: dense_forward, activation and activation_grad accepted shifted overlaps
    X, W, b = layer(rng, n=4, k=4, m=4)
    base = np.zeros(17)
    base[:16] = X.ravel()
    Xin, out = base[:16].reshape(4, 4), base[1:].reshape(4, 4)
    with pytest.raises(ValueError, match="out overlaps the memory of X"):
        dense_forward(Xin, W, b, "relu", out=out)
    bb = np.zeros(6)
    with pytest.raises(ValueError, match="out overlaps the memory of b"):  # the epilogue reads b while writing
        dense_forward(np.ones((1, 4)), np.ones((5, 4)), bb[:5], out=bb[1:].reshape(1, 5))
    with pytest.raises(ValueError, match="out overlaps the memory of z"):
        activation(Xin, "relu", out=out)
    with pytest.raises(ValueError, match="out overlaps the memory of da"):
        activation_grad(Xin, "tanh", a=np.zeros((4, 4)), out=out)
    np.testing.assert_array_equal(Xin, X)
    z = X.copy()
    assert activation(z, "gelu", out=z) is z  # exactly z: the documented in-place use
    np.testing.assert_allclose(z, ref_act(X, "gelu"), rtol=1e-12)


@pytest.mark.bad_input
def test_huge_output_refused_up_front_and_bad_flags():
    X = np.zeros((10**6, 1), np.float32)
    with pytest.raises(ValueError, match=r"X.shape\[0\] \* W.shape\[0\] asks for 1e\+12 elements"):
        dense_forward(X, X, None)
    with pytest.raises(TypeError, match="need_dx must be True or False"):
        dense_backward(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), need_dx="no")
    with pytest.raises(ValueError, match="name must be one of"):
        activation(np.ones(2), "swish")
