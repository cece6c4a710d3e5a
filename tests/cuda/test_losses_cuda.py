import numpy as np
import pytest
from numba import cuda

from fastkernels.nn import softmax_cross_entropy

OPTIONS = [dict(), dict(label_smoothing=0.1), dict(weight=True), dict(ignore_index=-100),
           dict(weight=True, ignore_index=1, label_smoothing=0.2)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_index_targets_cuda_matches_cpu(dtype, reduction, opts, rng, threads_per_block):
    n, c = 5, 40
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    x[2, 7] = -np.inf
    y = rng.integers(0, c, n)
    o = dict(opts)
    if o.get("weight"):
        o["weight"] = (rng.random(c) + 0.1).astype(dtype)
    if "ignore_index" in o:
        y[::2] = o["ignore_index"]
    want = softmax_cross_entropy(x, y, reduction=reduction, backend="cpu", **o)
    got = softmax_cross_entropy(x, y, reduction=reduction, backend="cuda", **o)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[0], want[0], **tol)
    np.testing.assert_allclose(got[1], want[1], **tol)
    assert got[1].dtype == dtype


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_probability_targets_cuda_matches_cpu(smoothing, rng, threads_per_block):
    x = rng.standard_normal((4, 37))
    t = rng.random((4, 37))
    w = rng.random(37)
    want = softmax_cross_entropy(x, t, weight=w, label_smoothing=smoothing, reduction="sum", backend="cpu")
    got = softmax_cross_entropy(x, t, weight=w, label_smoothing=smoothing, reduction="sum", backend="cuda")
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-11, atol=1e-15)


def test_non_finite_rows_match_cpu():
    x = np.array([[np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 0.0], [1e4, -1e4, 0.0]])
    y = np.array([1, 0, 1, 2])
    want = softmax_cross_entropy(x, y, reduction="none", backend="cpu")
    got = softmax_cross_entropy(x, y, reduction="none", backend="cuda")
    np.testing.assert_array_equal(np.isnan(got[0]), np.isnan(want[0]))
    np.testing.assert_allclose(got[0][3], want[0][3], rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(got[1]), np.isnan(want[1]))


def test_device_inputs_give_device_gradient_and_out_is_reused(rng):
    x = rng.standard_normal((3, 8)).astype(np.float32)
    y = np.array([1, 2, 7])
    d_x, d_y = cuda.to_device(x), cuda.to_device(y)
    loss, d_g = softmax_cross_entropy(d_x, d_y)
    want = softmax_cross_entropy(x, y, backend="cpu")
    np.testing.assert_allclose(loss, want[0], rtol=1e-6)
    np.testing.assert_allclose(d_g.copy_to_host(), want[1], rtol=1e-5, atol=1e-7)
    d_out = cuda.device_array((3, 8), np.float32)
    assert softmax_cross_entropy(d_x, d_y, out=d_out)[1] is d_out
    host_out = np.empty((3, 8), np.float32)
    assert softmax_cross_entropy(x, y, out=host_out, backend="cuda")[1] is host_out
    np.testing.assert_allclose(host_out, want[1], rtol=1e-5, atol=1e-7)


def test_empty_and_all_ignored_on_cuda():
    assert np.isnan(softmax_cross_entropy(np.zeros((0, 4)), np.zeros(0, np.int64), backend="cuda")[0])
    loss, g = softmax_cross_entropy(np.ones((2, 4)), [-100, -100], ignore_index=-100, backend="cuda")
    assert np.isnan(loss) and np.all(g == 0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", ["plain", "weight_c", "weight_full_pos"])
def test_bce_cuda_matches_cpu(reduction, opts, rng, threads_per_block):
    from fastkernels.nn import sigmoid_binary_cross_entropy

    z = rng.standard_normal((9, 13)) * 4
    z[0, 0] = 1e4
    t = rng.random((9, 13))
    o = {"plain": {}, "weight_c": dict(weight=rng.random(13)),
         "weight_full_pos": dict(weight=rng.random((9, 13)), pos_weight=rng.random(13) * 2)}[opts]
    want = sigmoid_binary_cross_entropy(z, t, reduction=reduction, backend="cpu", **o)
    got = sigmoid_binary_cross_entropy(z, t, reduction=reduction, backend="cuda", **o)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_mse_cuda_matches_cpu_and_keeps_device_arrays(dtype, reduction, rng, threads_per_block):
    from fastkernels.nn import mse

    a, b = rng.standard_normal((2, 6, 11)).astype(dtype)
    want = mse(a, b, reduction=reduction, backend="cpu")
    got = mse(a, b, reduction=reduction, backend="cuda")
    tol = dict(rtol=1e-6) if dtype == np.float32 else dict(rtol=1e-13)
    np.testing.assert_allclose(got[0], want[0], **tol)
    np.testing.assert_allclose(got[1], want[1], **tol)
    d_loss, d_grad = mse(cuda.to_device(a), cuda.to_device(b), reduction=reduction)
    assert hasattr(d_grad, "copy_to_host")
    np.testing.assert_allclose(d_grad.copy_to_host(), want[1], **tol)
    assert np.isnan(mse(np.zeros(0, dtype), np.zeros(0, dtype), backend="cuda")[0])


# -- row groups: several short rows per block ----------------------------------------
# (C, N, dtype) on both sides of GROUP_MAX_COLS (C = 129: a block per row), batches that
# leave row slots of the last block empty. 32-thread blocks only: the row-slot loop, its
# masking and the grid stride are what these add (test_rowwise_cuda runs both sizes).
f32, f64 = np.float32, np.float64
GROUP_CASES = [(1, 7, f64), (2, 37, f32), (10, 7, f64), (33, 7, f32), (129, 2, f64)]
GROUP_OPTIONS = {
    "plain-mean": dict(reduction="mean"),
    "smoothing-sum": dict(reduction="sum", label_smoothing=0.1),
    "weight-none": dict(reduction="none", weight=True),
    "ignore-mean": dict(reduction="mean", ignore_index=-100),
    "all-none": dict(reduction="none", weight=True, ignore_index=1, label_smoothing=0.2),
    "all-ignored-mean": dict(reduction="mean", weight=True, ignore_index=-1),
    "probs-sum": dict(reduction="sum", weight=True, label_smoothing=0.25, probs=True),
    "no-grad-mean": dict(reduction="mean", label_smoothing=0.1, return_grad=False),
}


@pytest.mark.parametrize("threads_per_block", [32], indirect=True)
@pytest.mark.parametrize("opts", list(GROUP_OPTIONS), ids=str)
@pytest.mark.parametrize("c,n,dtype", GROUP_CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_row_groups_match_cpu(c, n, dtype, opts, rng, threads_per_block):
    o = dict(GROUP_OPTIONS[opts])
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    x[n - 1, c // 2] = -np.inf  # a masked class
    if o.pop("probs", False):
        y = rng.random((n, c)).astype(dtype)
    else:
        y = rng.integers(0, c, n)
        if "ignore_index" in o:
            y[::2 if opts != "all-ignored-mean" else 1] = o["ignore_index"]
    if o.get("weight"):
        o["weight"] = (rng.random(c) + 0.1).astype(dtype)
    want = softmax_cross_entropy(x, y, backend="cpu", **o)
    got = softmax_cross_entropy(x, y, backend="cuda", **o)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-15)
    if o.get("return_grad", True):
        np.testing.assert_allclose(got[1], want[1], **tol)
        assert got[1].dtype == dtype
        got, want = got[0], want[0]
    np.testing.assert_allclose(got, want, **tol)  # NaN (all ignored, mean) where the CPU has NaN


@pytest.mark.parametrize("threads_per_block", [32], indirect=True)
@pytest.mark.parametrize("probs", [False, True], ids=["ids", "probs"])
def test_row_groups_non_finite_and_ignored_rows_match_cpu(probs, threads_per_block):
    """NaN, +inf and all -inf rows give NaN loss and gradient; an ignored row gives zeros
    whatever its logits; neighbours in the same block are unaffected."""
    x = np.array([[np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 0.0], [1e4, -1e4, 0.0],
                  [np.nan, np.inf, -np.inf], [0.0, -np.inf, 2.0], [np.inf, np.nan, 0.0]])
    rng = np.random.default_rng(3)
    y = rng.random(x.shape) if probs else np.array([1, 0, 1, 2, -100, 2, 0])
    o = dict(reduction="none", label_smoothing=0.1, weight=np.array([0.5, 1.0, 2.0]))
    if not probs:
        o["ignore_index"] = -100
    want = softmax_cross_entropy(x, y, backend="cpu", **o)
    got = softmax_cross_entropy(x, y, backend="cuda", **o)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)
    if not probs:
        assert got[0][4] == 0 and np.all(got[1][4] == 0)


# -- issue 13 regressions ------------------------------------------------------------------


@pytest.mark.bad_input
def test_cuda_sce_out_is_logits_is_refused():
    # issue 13 defect 1 on the device: the gradient buffer may not be the logits
    x = cuda.to_device(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="out is the memory of logits"):
        softmax_cross_entropy(x, np.array([0, 2]), out=x)
    np.testing.assert_array_equal(x.copy_to_host(), np.zeros((2, 3)))


# -- issue 18: torch's defaults and (N, C, d1, ...) shapes on the cuda backend ------------------


def test_default_ignore_index_and_extra_dimensions_match_cpu(rng, threads_per_block):
    from fastkernels.nn import cross_entropy

    x = rng.standard_normal((2, 5, 3))
    y = rng.integers(0, 5, (2, 3))
    y[0, 1] = -100  # ignored by default, on the device as on the host
    w = rng.random(5) + 0.1
    want = softmax_cross_entropy(x, y, w, reduction="none", backend="cpu")
    got = softmax_cross_entropy(x, y, w, reduction="none", backend="cuda")
    assert got[0].shape == (2, 3) and got[1].shape == (2, 5, 3)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-15)
    assert got[0][0, 1] == 0 and np.all(got[1][0, :, 1] == 0)
    np.testing.assert_allclose(cross_entropy(x, y, w, backend="cuda"), cross_entropy(x, y, w, backend="cpu"),
                               rtol=1e-12)
    d_y = cuda.to_device(y[0].astype(np.int32))
    loss = cross_entropy(cuda.to_device(x[0].T.copy()), d_y)  # device (N, C) rows: the loss alone
    np.testing.assert_allclose(loss, cross_entropy(x[0].T.copy(), y[0], backend="cpu"), rtol=1e-12)


@pytest.mark.bad_input
def test_extra_dimension_device_logits_are_refused():
    x = cuda.to_device(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"logits of shape \(2, 3, 4\) is a device array"):
        softmax_cross_entropy(x, np.zeros((2, 4), np.int64))
