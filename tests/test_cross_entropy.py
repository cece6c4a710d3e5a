"""softmax_cross_entropy against the float64 NumPy reference (fastkernels.nn.cross_entropy); against
torch in test_losses_torch.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastkernels.nn import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    gradcheck,
    mse,
    mse_loss,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
)
from fastkernels.nn._reference import ref_softmax_cross_entropy

BACKENDS = ["cpu", "parallel"]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def problem(rng, n=6, c=9, dtype=np.float64, scale=3.0):
    x = (rng.standard_normal((n, c)) * scale).astype(dtype)
    y = rng.integers(0, c, n)
    return x, y


OPTIONS = [dict(), dict(label_smoothing=0.1), dict(weight="w"), dict(ignore_index=-100),
           dict(ignore_index=2), dict(weight="w", ignore_index=-100, label_smoothing=0.2)]


def _opts(opts, c, dtype, rng):
    o = dict(opts)
    if o.get("weight") == "w":
        o["weight"] = (rng.random(c) + 0.2).astype(dtype)
    return o


def _targets(y, opts):
    y = y.copy()
    if opts.get("ignore_index") is not None:
        y[::3] = opts["ignore_index"]
    return y


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_index_targets_match_reference(backend, dtype, reduction, opts, rng):
    x, y = problem(rng, dtype=dtype)
    o = _opts(opts, x.shape[1], dtype, rng)
    y = _targets(y, o)
    loss, g = softmax_cross_entropy(x, y, reduction=reduction, backend=backend, **o)
    want = ref_softmax_cross_entropy(x, y, reduction=reduction, **o)
    assert np.asarray(loss).dtype == dtype
    np.testing.assert_allclose(loss, want, **TOL[dtype])
    if "ignore_index" in o:
        ign = y == o["ignore_index"]
        assert np.all(g[ign] == 0)
        if reduction == "none":
            assert np.all(loss[ign] == 0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_index_gradient_matches_finite_differences(reduction, opts, rng):
    x, y = problem(rng, n=4, c=5)
    o = _opts(opts, 5, np.float64, rng)
    y = _targets(y, o)
    _, g = softmax_cross_entropy(x, y, reduction=reduction, backend="cpu", **o)

    def f(z):
        return np.sum(softmax_cross_entropy(z, y, reduction=reduction, return_grad=False, **o))

    gradcheck(f, x, g, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", [dict(), dict(label_smoothing=0.3), dict(weight="w")], ids=["plain", "smooth", "weight"])
def test_probability_targets_match_reference_and_finite_differences(backend, reduction, opts, rng):
    x, _ = problem(rng, n=5, c=6)
    t = rng.random((5, 6))
    t /= t.sum(axis=1, keepdims=True)
    o = _opts(opts, 6, np.float64, rng)
    loss, g = softmax_cross_entropy(x, t, reduction=reduction, backend=backend, **o)
    np.testing.assert_allclose(loss, ref_softmax_cross_entropy(x, t, reduction=reduction, **o), rtol=1e-12)
    gradcheck(lambda z: np.sum(softmax_cross_entropy(z, t, reduction=reduction, return_grad=False, **o)), x, g,
              rtol=1e-5, atol=1e-7)


def test_one_hot_probabilities_equal_class_ids(rng):
    x, y = problem(rng)
    l1, g1 = softmax_cross_entropy(x, y)
    l2, g2 = softmax_cross_entropy(x, np.eye(x.shape[1])[y])
    np.testing.assert_allclose(l1, l2, rtol=1e-13)
    np.testing.assert_allclose(g1, g2, atol=1e-15)


def test_seed_002_gradient_is_softmax_minus_target():
    # seed 002 line 910: dL/dz = y - t for the fused loss (sum reduction, one row)
    z = np.array([[1.0, 2.0, 0.5]])
    _, g = softmax_cross_entropy(z, np.array([1]), reduction="sum")
    y = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(g, y - [[0, 1, 0]], rtol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_and_masked_logits(backend, dtype):
    x = np.array([[1e4, -1e4, 0.0, -np.inf], [-1e4, -1e4 + 3, -np.inf, -1e4], [3e4, 3e4, 3e4, 3e4]], dtype)
    y = np.array([1, 1, 2])
    loss, g = softmax_cross_entropy(x, y, reduction="none", backend=backend)
    np.testing.assert_allclose(loss, ref_softmax_cross_entropy(x, y, reduction="none"), rtol=1e-6)
    assert np.isfinite(g).all() and g[0, 3] == 0 and g[1, 2] == 0
    # masked classes stay out of label smoothing: finite loss and zero gradient there
    loss, g = softmax_cross_entropy(x, y, label_smoothing=0.1, backend=backend)
    assert np.isfinite(loss) and np.isfinite(g).all() and g[0, 3] == 0


def test_target_logit_masked_gives_infinite_loss():
    loss, g = softmax_cross_entropy(np.array([[0.0, -np.inf]]), np.array([1]))
    assert loss == np.inf and np.isfinite(g).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_nan_logits_propagate_to_their_row_only(backend):
    x = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]])
    loss, g = softmax_cross_entropy(x, np.array([0, 1]), reduction="none", backend=backend)
    assert np.isnan(loss[0]) and np.isnan(g[0]).all()
    assert np.isfinite(loss[1]) and np.isfinite(g[1]).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_and_all_ignored_batches_follow_torch(backend):
    x = np.zeros((0, 4))
    y = np.zeros(0, np.int64)
    assert np.isnan(softmax_cross_entropy(x, y, backend=backend)[0])
    assert softmax_cross_entropy(x, y, reduction="sum", backend=backend)[0] == 0
    loss, g = softmax_cross_entropy(x, y, reduction="none", backend=backend)
    assert loss.shape == (0,) and g.shape == (0, 4)
    x = np.ones((3, 4))
    loss, g = softmax_cross_entropy(x, [-100] * 3, ignore_index=-100, backend=backend)
    assert np.isnan(loss) and np.all(g == 0)
    loss, g = softmax_cross_entropy(x, [-100] * 3, ignore_index=-100, reduction="sum", backend=backend)
    assert loss == 0 and np.all(g == 0)


@pytest.mark.parametrize("ids", [np.int32, np.int64])
def test_int32_and_int64_targets_agree(ids, rng):
    x, y = problem(rng)
    l1, g1 = softmax_cross_entropy(x, y.astype(ids))
    l2, g2 = softmax_cross_entropy(x, y.astype(np.int64))
    assert l1 == l2 and np.array_equal(g1, g2)


def test_single_sample_and_out_buffer(rng):
    x, y = problem(rng, n=1)
    l1, g1 = softmax_cross_entropy(x[0], int(y[0]))
    l2, g2 = softmax_cross_entropy(x, y)
    assert g1.shape == (x.shape[1],)
    np.testing.assert_allclose(l1, l2, rtol=1e-15)
    np.testing.assert_allclose(g1, g2[0], rtol=1e-15)
    assert softmax_cross_entropy(x[0], int(y[0]), reduction="none")[0].shape == ()
    out = np.full_like(x, 5.0)
    loss, g = softmax_cross_entropy(x, y, out=out)
    assert g is out and np.array_equal(out, g2)
    assert np.isclose(softmax_cross_entropy(x, y, return_grad=False), l2)


def test_serial_and_parallel_are_bitwise_equal(rng):
    x, y = problem(rng, n=257, c=33, dtype=np.float32)
    a = softmax_cross_entropy(x, y, backend="cpu", label_smoothing=0.1)
    b = softmax_cross_entropy(x, y, backend="parallel", label_smoothing=0.1)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


def test_large_vocabulary_row_float32_accuracy(rng):
    x, y = problem(rng, n=4, c=50_000, dtype=np.float32)
    loss, g = softmax_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(loss, ref_softmax_cross_entropy(x, y, reduction="none"), rtol=1e-5)
    np.testing.assert_allclose(g.sum(axis=1), 0, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(2, 12)), elements=st.floats(-30, 30)),
       st.floats(-1e3, 1e3), st.integers(0, 2**31))
def test_properties_shift_invariance_and_zero_sum_gradient(x, c, seed):
    y = np.random.default_rng(seed).integers(0, x.shape[1], x.shape[0])
    loss, g = softmax_cross_entropy(x, y, backend="cpu")
    loss2, g2 = softmax_cross_entropy(x + c, y, backend="cpu")
    np.testing.assert_allclose(loss2, loss, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(g2, g, atol=1e-9)
    np.testing.assert_allclose(g.sum(axis=1), 0, atol=1e-12)
    assert loss >= 0



# -- torch's defaults and call shapes (issue 18) ---------------------------------------------------


def _rows(x):
    """(N, C, d1, ...) -> class-last (N * d1 * ..., C) rows, the 2-D problem the kernels solve."""
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def test_minus_100_is_ignored_by_default_like_torch(rng):
    x, y = problem(rng)
    y[1] = -100
    loss, g = softmax_cross_entropy(x, y)
    keep = np.arange(len(y)) != 1
    l2, g2 = softmax_cross_entropy(x[keep], y[keep])
    np.testing.assert_allclose(loss, l2, rtol=1e-14)
    assert np.all(g[1] == 0)
    np.testing.assert_allclose(g[keep], g2, rtol=1e-14)
    assert cross_entropy(x, y) == loss
    # probability targets: a negative ignore_index (the default) is accepted and unused, as torch
    p = np.full_like(x, 1 / x.shape[1])
    assert softmax_cross_entropy(x, p, ignore_index=-1)[0] == softmax_cross_entropy(x, p)[0]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_extra_dimensions_match_the_class_last_rows(backend, reduction, opts, rng):
    n, c, d1, d2 = 3, 5, 4, 2
    x = rng.standard_normal((n, c, d1, d2)) * 3
    y = rng.integers(0, c, (n, d1, d2))
    o = _opts(opts, c, np.float64, rng)
    if o.get("ignore_index") is not None:
        y[:, ::3] = o["ignore_index"]
    loss, g = softmax_cross_entropy(x, y, reduction=reduction, backend=backend, **o)
    want_loss, want_g = softmax_cross_entropy(_rows(x), y.reshape(-1), reduction=reduction, backend=backend, **o)
    assert g.shape == x.shape and g.flags.c_contiguous
    np.testing.assert_array_equal(_rows(g), want_g)
    if reduction == "none":
        assert loss.shape == (n, d1, d2)
        np.testing.assert_array_equal(loss.reshape(-1), want_loss)
    else:
        assert loss == want_loss
    np.testing.assert_allclose(loss, ref_softmax_cross_entropy(_rows(x), y.reshape(-1), reduction=reduction, **o)
                               .reshape(np.shape(loss)), rtol=1e-12)
    only = cross_entropy(x, y, o.get("weight"), None, o.get("ignore_index", -100), None, reduction,
                         o.get("label_smoothing", 0.0), backend=backend)
    np.testing.assert_array_equal(only, loss)


def test_extra_dimensions_gradient_matches_finite_differences(rng):
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 3, (2, 4))
    y[1, 2] = -100
    w = rng.random(3) + 0.5
    _, g = softmax_cross_entropy(x, y, w, label_smoothing=0.1)
    gradcheck(lambda z: cross_entropy(z, y, w, label_smoothing=0.1), x, g, rtol=1e-5, atol=1e-7)
    p = rng.random((2, 3, 4))
    _, g = softmax_cross_entropy(x, p, reduction="sum")
    gradcheck(lambda z: cross_entropy(z, p, reduction="sum"), x, g, rtol=1e-5, atol=1e-7)


def test_extra_dimensions_out_buffer_and_probability_targets(rng):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    p = rng.random((2, 4, 3)).astype(np.float32)
    out = np.full_like(x, 9.0)
    loss, g = softmax_cross_entropy(x, p, out=out)
    want_loss, want_g = softmax_cross_entropy(_rows(x), _rows(p))
    assert g is out and loss == want_loss and loss.dtype == np.float32
    np.testing.assert_array_equal(_rows(out), want_g)
    with pytest.raises(ValueError, match="out is the memory of logits"):
        softmax_cross_entropy(x, p, out=x)
    empty = softmax_cross_entropy(np.zeros((0, 4, 3)), np.zeros((0, 3), np.int64), reduction="none")
    assert empty[0].shape == (0, 3) and empty[1].shape == (0, 4, 3)


def test_weight_is_positional_as_in_torch(rng):
    x, y = problem(rng)
    w = rng.random(x.shape[1]) + 0.1
    a = softmax_cross_entropy(x, y, w)
    b = softmax_cross_entropy(x, y, weight=w)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert cross_entropy(x, y, w) == a[0]
    z = rng.standard_normal((3, 4))
    t = rng.random((3, 4))
    wb = rng.random(4)
    assert sigmoid_binary_cross_entropy(z, t, wb)[0] == sigmoid_binary_cross_entropy(z, t, weight=wb)[0]


def test_loss_only_functions_equal_the_fused_losses(rng):
    x, y = problem(rng)
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_array_equal(cross_entropy(x, y, reduction=reduction),
                                      softmax_cross_entropy(x, y, reduction=reduction)[0])
    z = rng.standard_normal((3, 4))
    t = rng.random((3, 4))
    pw = rng.random(4) + 0.5
    assert binary_cross_entropy_with_logits(z, t, None, None, None, "sum", pw) == \
        sigmoid_binary_cross_entropy(z, t, reduction="sum", pos_weight=pw)[0]
    assert mse_loss(z, t) == mse(z, t)[0]
    np.testing.assert_array_equal(mse_loss(z, t, None, None, "none"), mse(z, t, reduction="none")[0])
    assert np.isscalar(cross_entropy(x[0], int(y[0]))) or np.ndim(cross_entropy(x[0], int(y[0]))) == 0


@pytest.mark.parametrize("size_average, reduce, want", [(None, False, "none"), (False, None, "sum"),
                                                         (True, True, "mean"), (False, False, "none")])
def test_legacy_size_average_and_reduce_map_as_torch(size_average, reduce, want, rng):
    x, y = problem(rng)
    with pytest.warns(UserWarning, match=f"reduction='{want}'"):
        got = cross_entropy(x, y, None, size_average, -100, reduce, "mean")
    np.testing.assert_array_equal(got, cross_entropy(x, y, reduction=want))
    z = rng.standard_normal((3, 4))
    t = rng.random((3, 4))
    with pytest.warns(UserWarning):
        np.testing.assert_array_equal(binary_cross_entropy_with_logits(z, t, None, size_average, reduce),
                                      binary_cross_entropy_with_logits(z, t, reduction=want))
    with pytest.warns(UserWarning):
        np.testing.assert_array_equal(mse_loss(z, t, size_average, reduce), mse_loss(z, t, reduction=want))


@pytest.mark.bad_input
def test_loss_only_functions_name_their_own_arguments():
    with pytest.raises(TypeError, match="input must have dtype float32 or float64"):
        cross_entropy(np.zeros((2, 3), np.int64), [0, 1])
    with pytest.raises(ValueError, match="target must have shape \\(2,\\) to match input"):
        cross_entropy(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(TypeError, match="input must have dtype"):
        binary_cross_entropy_with_logits(np.zeros(3, np.int64), np.zeros(3))
    with pytest.raises(ValueError, match="target must have shape"):
        mse_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="size_average must be True or False"):
        cross_entropy(np.zeros((2, 3)), [0, 1], None, "yes")
    with pytest.raises(TypeError, match="reduce must be True or False"):
        mse_loss(np.zeros(3), np.zeros(3), None, 2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'return_grad'"):
        cross_entropy(np.zeros((2, 3)), [0, 1], return_grad=True)


@pytest.mark.bad_input
class TestBadInput:
    def test_label_out_of_range_names_value_and_position(self):
        with pytest.raises(ValueError, match=r"target must lie in \[0, 3\) or equal -100; found 3 at flat position 1"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 3])
        with pytest.raises(ValueError, match="found -1"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, -1])
        with pytest.raises(ValueError, match="found -100"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, -100], ignore_index=-99)
        with pytest.raises(ValueError, match=r"target must lie in \[0, 3\); found -100"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, -100], ignore_index=None)  # None ignores nothing
        with pytest.raises(ValueError, match=r"target must lie in \[0, 3\) or equal -100; found -1"):
            cross_entropy(np.zeros((2, 3, 2)), [[0, 1], [-1, -100]])

    def test_shape_mismatches(self):
        with pytest.raises(ValueError, match=r"target must have shape \(2,\)"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1, 2])
        with pytest.raises(ValueError, match=r"target must have shape \(2, 3\)"):
            softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 4)))
        with pytest.raises(ValueError, match=r"target must have shape \(2, 4\) to match logits \(2, 3, 4\)"):
            softmax_cross_entropy(np.zeros((2, 3, 4)), [0, 1])
        with pytest.raises(ValueError, match=r"target must have shape \(2, 3, 4\)"):
            softmax_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 4, 3)))
        with pytest.raises(ValueError, match=r"target must have shape \(\) to match logits \(3,\)"):
            softmax_cross_entropy(np.zeros(3), [0])
        with pytest.raises(ValueError, match=r"logits must have shape \(N, C\), \(C,\) or \(N, C, d1, ...\)"):
            softmax_cross_entropy(np.float64(1.0), 0)
        with pytest.raises(ValueError, match="input must have at least one class"):
            cross_entropy(np.zeros((2, 0, 3)), np.zeros((2, 3), np.int64))
        with pytest.raises(ValueError, match="at least one class"):
            softmax_cross_entropy(np.zeros((2, 0)), [0, 1])
        with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], weight=np.ones(4))

    def test_dtypes(self):
        with pytest.raises(TypeError, match="logits must have dtype float32 or float64, got int64"):
            softmax_cross_entropy(np.zeros((2, 3), np.int64), [0, 1])
        with pytest.raises(TypeError, match="target must have dtype float32, got float64"):
            softmax_cross_entropy(np.zeros((2, 3), np.float32), np.zeros((2, 3)))
        with pytest.raises(TypeError, match="target must be integer class ids"):
            softmax_cross_entropy(np.zeros((2, 3)), np.array([True, False]))
        with pytest.raises(TypeError, match="weight must have dtype float32"):
            softmax_cross_entropy(np.zeros((2, 3), np.float32), [0, 1], weight=np.ones(3))

    def test_bad_probabilities_and_weights(self):
        t = np.full((2, 3), 1 / 3)
        t[1, 2] = -0.1
        with pytest.raises(ValueError, match=r"non-negative, got -0.1 at index \(1, 2\)"):
            softmax_cross_entropy(np.zeros((2, 3)), t)
        t[1, 2] = np.nan
        with pytest.raises(ValueError, match="target must be finite"):
            softmax_cross_entropy(np.zeros((2, 3)), t)
        with pytest.raises(ValueError, match="weight must be non-negative"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], weight=[1.0, -1.0, 1.0])
        with pytest.raises(ValueError, match="weight must be finite"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], weight=[1.0, np.inf, 1.0])
        for ignore in (0, 2):  # torch: a non-negative ignore_index is refused with probabilities
            with pytest.raises(ValueError, match=f"ignore_index={ignore} is only supported"):
                softmax_cross_entropy(np.zeros((2, 3)), np.full((2, 3), 1 / 3), ignore_index=ignore)

    def test_bad_options(self):
        with pytest.raises(ValueError, match="reduction must be one of"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], reduction="avg")
        with pytest.raises(ValueError, match="label_smoothing must be <= 1.0"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], label_smoothing=1.5)
        with pytest.raises(TypeError, match="ignore_index must be an integer"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], ignore_index=1.5)

    def test_bad_out_is_rejected_and_left_unchanged(self):
        out = np.full((2, 3), 7.0, np.float32)
        with pytest.raises(TypeError, match="out must have dtype float64"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], out=out)
        assert np.all(out == 7.0)
        out = np.full((3, 2), 7.0)
        with pytest.raises(ValueError, match=r"out must have shape \(2, 3\)"):
            softmax_cross_entropy(np.zeros((2, 3)), [0, 1], out=out)


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.bad_input
@pytest.mark.parametrize("backend", BACKENDS)
def test_sce_out_is_logits_is_refused_not_a_wrong_loss(backend, rng):
    # issue 13 defect 1: out=logits overwrote the logits with exp(x - max) mid-row and returned a wrong loss
    x, y = problem(rng, n=4, c=5)
    keep = x.copy()
    with pytest.raises(ValueError, match="out is the memory of logits"):
        softmax_cross_entropy(x, y, out=x, backend=backend)
    np.testing.assert_array_equal(x, keep)
    probs = np.full_like(x, 0.2)
    with pytest.raises(ValueError, match="out is the memory of target"):
        softmax_cross_entropy(x, probs, out=probs, backend=backend)


@pytest.mark.bad_input
def test_sce_targets_that_would_wrap_or_are_not_ids_are_refused():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="target must lie in"):  # uint64 max would wrap to -1 = ignore_index
        softmax_cross_entropy(x, np.array([0, 2**64 - 1], np.uint64), ignore_index=-1)
    with pytest.raises(TypeError, match="target must be integer class ids"):
        softmax_cross_entropy(x, np.array([True, False]))
    with pytest.raises(ValueError, match="ignore_index must be <="):
        softmax_cross_entropy(x, np.array([0, 1]), ignore_index=2**64)
    with pytest.raises(TypeError, match="return_grad must be True or False"):
        softmax_cross_entropy(x, np.array([0, 1]), return_grad="no")
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\], got nan at index \(0, 1\)"):
        sigmoid_binary_cross_entropy(x, np.array([[0.5, np.nan, 0], [0, 0, 0]]))
    loss = softmax_cross_entropy(np.zeros((0, 3)), [], return_grad=False)  # an empty list of ids
    assert np.isnan(loss)
