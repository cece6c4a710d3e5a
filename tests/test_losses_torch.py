"""Fused losses checked against torch (float64 autograd of the same inputs).

torch is optional (CI does not install it): the whole module is skipped without it.
Install a CPU build to run it, e.g. ``pip install torch==2.13.0``.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional
torch.set_num_threads(1)

from fastkernels.nn import (  # noqa: E402
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse,
    mse_loss,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
)
from fastkernels.nn._reference import ref_softmax_cross_entropy  # noqa: E402

BACKENDS = ["cpu", "parallel"]
DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
# (rtol, atol relative to the largest |reference| entry)
TOL = {np.float32: (1e-5, 1e-6), np.float64: (1e-10, 1e-12)}


def assert_close(got, want, dtype, rtol=None, what="", scale=0.0):
    """Compare with a float64 reference: rtol plus an atol scaled to the array's magnitude
    (or to ``scale``, the size of the terms it is made of, where that is larger)."""
    got = np.asarray(got)
    want = np.asarray(want, np.float64)
    rt, at = TOL[dtype]
    rt = rt if rtol is None else rtol
    finite = want[np.isfinite(want)]
    scale = max(float(np.abs(finite).max()) if finite.size else 1.0, scale)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rt, atol=at * max(scale, 1e-30),
                               err_msg=what)


def check_result(res, ref_loss, ref_grad, dtype, shape, rtol=None, gscale=0.0):
    """res is (loss, grad) from fastkernels; checks dtypes/shapes and values."""
    assert isinstance(res, tuple) and len(res) == 2
    loss, grad = res
    assert np.asarray(loss).dtype == dtype
    assert np.shape(loss) == np.shape(ref_loss)
    assert isinstance(grad, np.ndarray) and grad.dtype == dtype and grad.shape == shape
    assert_close(loss, ref_loss, dtype, rtol, "loss")
    assert_close(grad, ref_grad, dtype, rtol, "grad", gscale)


def t64(a):
    return None if a is None else torch.tensor(np.asarray(a, np.float64))


def torch_loss_and_grad(fn, x, reduction):
    """Loss and d(loss.sum())/dx with x as a float64 leaf tensor."""
    xt = torch.tensor(np.asarray(x, np.float64), requires_grad=True)
    loss = fn(xt)
    loss.sum().backward()  # identity for mean/sum; the "none" convention otherwise
    return loss.detach().numpy(), xt.grad.numpy()


def torch_ce(x, target, *, reduction="mean", label_smoothing=0.0, ignore_index=None, weight=None):
    target = np.asarray(target)
    if target.dtype.kind in "iu":
        tt = torch.tensor(target.astype(np.int64))
    else:
        tt = t64(target)
    ii = -100 if ignore_index is None else ignore_index
    return torch_loss_and_grad(
        lambda xt: F.cross_entropy(xt, tt, weight=t64(weight), ignore_index=ii, reduction=reduction,
                                   label_smoothing=label_smoothing),
        x, reduction)


def torch_bce(x, target, *, reduction="mean", weight=None, pos_weight=None):
    return torch_loss_and_grad(
        lambda xt: F.binary_cross_entropy_with_logits(xt, t64(target), weight=t64(weight),
                                                      pos_weight=t64(pos_weight), reduction=reduction),
        x, reduction)


def torch_mse(x, target, *, reduction="mean"):
    return torch_loss_and_grad(lambda xt: F.mse_loss(xt, t64(target), reduction=reduction), x, reduction)


def class_targets(rng, n, c, ignore, tdtype):
    """Class ids in [0, c); with ignore == "neg", some are -100; with ignore == "cls", class 2 is present."""
    t = rng.integers(0, c, n)
    if ignore == "neg":
        t[::3] = -100
        return t.astype(tdtype), -100
    if ignore == "cls":
        t[::4] = 2
        return t.astype(tdtype), 2
    return t.astype(tdtype), None


# -- softmax_cross_entropy: class-index targets ---------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tdtype", [np.int32, np.int64])
@pytest.mark.parametrize("ignore", [None, "neg", "cls"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_index_targets_match_torch(reduction, smoothing, weighted, ignore, tdtype, dtype, backend, rng):
    n, c = 24, 37
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    t, ignore_index = class_targets(rng, n, c, ignore, tdtype)
    w = rng.uniform(0.5, 2.0, c).astype(dtype) if weighted else None
    x0, t0 = x.copy(), t.copy()
    res = softmax_cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing,
                                ignore_index=ignore_index, weight=w, backend=backend)
    ref = torch_ce(x, t, reduction=reduction, label_smoothing=smoothing, ignore_index=ignore_index, weight=w)
    check_result(res, *ref, dtype, x.shape)
    assert np.array_equal(x, x0) and np.array_equal(t, t0)  # inputs untouched
    if ignore_index is not None:
        ignored = t == ignore_index
        assert ignored.any()
        assert np.all(res[1][ignored] == 0)  # exactly zero gradient
        if reduction == "none":
            assert np.all(res[0][ignored] == 0)


@pytest.mark.parametrize("backend", ["auto", "cpu", "parallel"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (1, 2), (5, 3), (64, 50), (2, 9)])
def test_ce_shapes_and_auto_backend(shape, dtype, backend, rng):
    n, c = shape
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    t = rng.integers(0, c, n)
    for reduction in REDUCTIONS:
        res = softmax_cross_entropy(x, t, reduction=reduction, backend=backend)
        # C == 1: the gradient p - 1 is exactly 0, a difference of terms of size 1/n (mean)
        gscale = 1 / n if reduction == "mean" else 1.0
        check_result(res, *torch_ce(x, t, reduction=reduction), dtype, shape, gscale=gscale)


# -- softmax_cross_entropy: probability targets ---------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_probability_targets_match_torch(reduction, smoothing, weighted, dtype, backend, rng):
    n, c = 19, 23
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    p = rng.dirichlet(np.full(c, 0.5), n)
    p[0] = 0.0
    p[0, 5] = 1.0  # a one-hot row
    p = p.astype(dtype)
    w = rng.uniform(0.5, 2.0, c).astype(dtype) if weighted else None
    res = softmax_cross_entropy(x, p, reduction=reduction, label_smoothing=smoothing, weight=w, backend=backend)
    ref = torch_ce(x, p, reduction=reduction, label_smoothing=smoothing, weight=w)
    check_result(res, *ref, dtype, x.shape)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_unnormalised_probability_targets_follow_torch(reduction, backend, rng):
    # torch takes -sum(t * log_softmax(x)) as is: the gradient is softmax * sum(t) - t
    x = rng.standard_normal((9, 6))
    t = rng.random((9, 6)) * 2
    t[3] = 0.0
    res = softmax_cross_entropy(x, t, reduction=reduction, label_smoothing=0.1, backend=backend)
    check_result(res, *torch_ce(x, t, reduction=reduction, label_smoothing=0.1), np.float64, x.shape)


def test_ce_probability_one_hot_equals_index_targets(rng):
    x = rng.standard_normal((11, 6))
    t = rng.integers(0, 6, 11)
    onehot = np.eye(6)[t]
    for reduction in REDUCTIONS:
        a = softmax_cross_entropy(x, t, reduction=reduction, backend="cpu")
        b = softmax_cross_entropy(x, onehot, reduction=reduction, backend="cpu")
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("ignore_index", [-100, -1, 0, 2])
def test_ce_probability_targets_and_ignore_index_follow_torch(ignore_index, rng):
    # torch: a negative ignore_index (its default -100 included) is unused, a non-negative one raises
    x = rng.standard_normal((4, 3))
    p = rng.random((4, 3))
    if ignore_index >= 0:
        with pytest.raises(RuntimeError):
            F.cross_entropy(t64(x), t64(p), ignore_index=ignore_index)
        with pytest.raises(ValueError, match="ignore_index"):
            softmax_cross_entropy(x, p, ignore_index=ignore_index)
        return
    check_result(softmax_cross_entropy(x, p, ignore_index=ignore_index), *torch_ce(x, p, ignore_index=ignore_index),
                 np.float64, x.shape)



# -- torch's defaults, positional signature and (N, C, d1, ...) shapes (issue 18) -------------


def test_ce_default_ignore_index_is_torchs(rng):
    x = rng.standard_normal((7, 5))
    t = rng.integers(0, 5, 7)
    t[[1, 4]] = -100
    xt = torch.tensor(x, requires_grad=True)
    want = F.cross_entropy(xt, torch.tensor(t))  # torch's defaults throughout
    want.backward()
    check_result(softmax_cross_entropy(x, t), want.detach().numpy(), xt.grad.numpy(), np.float64, x.shape)
    assert_close(cross_entropy(x, t), want.detach().numpy(), np.float64)


def torch_ce_positional(x, target, *args):
    """torch's cross_entropy called with the same positional arguments; (loss, d loss.sum() / dx)."""
    target = np.asarray(target)
    tt = torch.tensor(target.astype(np.int64)) if target.dtype.kind in "iu" else t64(target)
    args = tuple(t64(a) if isinstance(a, np.ndarray) else a for a in args)
    return torch_loss_and_grad(lambda xt: F.cross_entropy(xt, tt, *args), x, None)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 5, 3, 4), (0, 3, 2), (2, 3, 1, 2, 2)])
@pytest.mark.parametrize("target_kind", ["ids", "probs"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_extra_dimensions_match_torch(reduction, target_kind, shape, dtype, backend, rng):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    c = shape[1]
    if target_kind == "ids":
        t = rng.integers(0, c, shape[:1] + shape[2:])
        t.reshape(-1)[::4] = -100
        ignore = -100
    else:
        t = rng.random(shape).astype(dtype)
        ignore = -1
    w = rng.uniform(0.5, 2.0, c).astype(dtype)
    x0 = x.copy()
    # torch's positional order: weight, size_average, ignore_index, reduce, reduction, label_smoothing
    args = (w, None, ignore, None, reduction, 0.1)
    ref_loss, ref_grad = torch_ce_positional(x, t, *args)
    res = softmax_cross_entropy(x, t, w, reduction=reduction, ignore_index=ignore, label_smoothing=0.1,
                                backend=backend)
    check_result(res, ref_loss, ref_grad, dtype, shape)
    assert res[1].flags.c_contiguous and np.array_equal(x, x0)
    only = cross_entropy(x, t, *args, backend=backend)
    assert not isinstance(only, tuple) and np.shape(only) == np.shape(ref_loss)
    assert_close(only, ref_loss, dtype, what="loss-only")


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True)])
def test_loss_only_functions_take_torchs_positional_and_legacy_arguments(size_average, reduce, rng):
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    w = rng.uniform(0.5, 2.0, 4)
    with pytest.warns(UserWarning), np.errstate(all="ignore"):
        want = F.cross_entropy(t64(x), torch.tensor(t), t64(w), size_average, -100, reduce, "mean", 0.05).numpy()
        got = cross_entropy(x, t, w, size_average, -100, reduce, "mean", 0.05)
    assert_close(got, want, np.float64)
    y = rng.random((6, 4))
    pw = rng.uniform(0.5, 2.0, 4)
    with pytest.warns(UserWarning):
        want = F.binary_cross_entropy_with_logits(t64(x), t64(y), t64(w), size_average, reduce, "mean",
                                                  t64(pw)).numpy()
        got = binary_cross_entropy_with_logits(x, y, w, size_average, reduce, "mean", pw)
    assert_close(got, want, np.float64)
    with pytest.warns(UserWarning):
        want = F.mse_loss(t64(x), t64(y), size_average, reduce, "mean").numpy()
        got = mse_loss(x, y, size_average, reduce, "mean")
    assert_close(got, want, np.float64)
    for reduction in REDUCTIONS:
        assert_close(binary_cross_entropy_with_logits(x, y, w, None, None, reduction, pw),
                     F.binary_cross_entropy_with_logits(t64(x), t64(y), t64(w), None, None, reduction, t64(pw)),
                     np.float64)
        assert_close(mse_loss(x, y, None, None, reduction), F.mse_loss(t64(x), t64(y), None, None, reduction),
                     np.float64)
        assert_close(cross_entropy(x[0], int(t[0]), w, reduction=reduction),
                     F.cross_entropy(t64(x[0]), torch.tensor(int(t[0])), t64(w), reduction=reduction), np.float64)


# -- softmax_cross_entropy: extreme and masked logits ---------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_large_logits_match_torch(reduction, smoothing, dtype, backend, rng):
    n, c = 16, 10
    x = (rng.standard_normal((n, c)) * 1e4).astype(dtype)
    x[0] = 1e4  # ties at the max
    x[1] = [-1e4] * (c - 1) + [1e4]
    t = rng.integers(0, c, n)
    t[1] = c - 1
    ref = torch_ce(x, t, reduction=reduction, label_smoothing=smoothing)
    assert np.isfinite(ref[0]).all()
    res = softmax_cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing, backend=backend)
    assert np.isfinite(res[0]).all() and np.isfinite(res[1]).all()
    # float32: losses ~1e4 carry the float32 rounding of x - max (ulp(1e4) ~ 1e-3)
    check_result(res, *ref, dtype, x.shape, rtol=1e-6 if dtype == np.float32 else 1e-12)


def masked_logits(rng, n, c, dtype):
    x = rng.standard_normal((n, c)) * 3
    t = rng.integers(0, c, n)
    mask = rng.random((n, c)) < 0.4
    mask[np.arange(n), t] = False  # the target class is never masked
    mask[0] = True
    mask[0, t[0]] = False  # a row with only its target class left
    x[mask] = -np.inf
    return x.astype(dtype), t, mask


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_masked_minus_inf_logits_match_torch_without_smoothing(reduction, weighted, dtype, backend, rng):
    n, c = 12, 8
    x, t, mask = masked_logits(rng, n, c, dtype)
    t[5] = -100
    w = rng.uniform(0.5, 2.0, c).astype(dtype) if weighted else None
    res = softmax_cross_entropy(x, t, reduction=reduction, weight=w, ignore_index=-100, backend=backend)
    ref = torch_ce(x, t, reduction=reduction, weight=w, ignore_index=-100)
    check_result(res, *ref, dtype, x.shape)
    assert np.isfinite(res[1]).all() and np.all(res[1][mask] == 0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_masked_logits_probability_targets(reduction, weighted, dtype, backend, rng):
    # Probability targets with zero mass on the -inf classes. torch's loss is nan there
    # (0 * -inf); its gradient is finite. The loss is checked against 0 * log(0) = 0.
    n, c = 12, 8
    x, _, mask = masked_logits(rng, n, c, dtype)
    p = np.where(mask, 0.0, rng.random((n, c)))
    p = (p / p.sum(1, keepdims=True)).astype(dtype)
    w = rng.uniform(0.5, 2.0, c).astype(dtype) if weighted else None
    loss, g = softmax_cross_entropy(x, p, reduction=reduction, weight=w, backend=backend)
    want = ref_softmax_cross_entropy(x, p, weight=w, reduction=reduction)  # 0 * log(0) = 0
    assert np.isfinite(loss).all()
    assert_close(loss, want, dtype, what="loss")
    _, ref_grad = torch_ce(x, p, reduction=reduction, weight=w)
    assert np.isfinite(g).all() and np.all(g[mask] == 0)
    assert_close(g, ref_grad, dtype, what="grad")


@pytest.mark.parametrize("backend", BACKENDS)
def test_ce_target_on_masked_class_gives_inf_like_torch(backend, rng):
    x = rng.standard_normal((4, 5))
    x[1, 1] = -np.inf
    t = np.array([0, 1, 2, 3])
    loss, g = softmax_cross_entropy(x, t, reduction="none", backend=backend)
    ref_loss, ref_grad = torch_ce(x, t, reduction="none")
    assert np.isinf(loss[1]) and np.isinf(ref_loss[1])
    assert_close(loss, ref_loss, np.float64)
    assert_close(g, ref_grad, np.float64)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_masked_logits_with_smoothing_stay_finite(reduction, dtype, backend, rng):
    # Deliberate deviation from torch (which gives inf/nan): -inf classes leave the smoothing term.
    x, t, mask = masked_logits(rng, 10, 7, dtype)
    x[7:] = rng.standard_normal((3, 7))  # rows without masked classes
    mask[7:] = False
    loss, g = softmax_cross_entropy(x, t, reduction=reduction, label_smoothing=0.1, backend=backend)
    assert np.isfinite(loss).all() and np.isfinite(g).all()
    assert np.all(g[mask] == 0)
    # the finite logits still follow torch's smoothing where no entry is masked
    free = ~mask.any(1)
    assert free.any()
    if reduction == "none":
        ref = torch_ce(x[free], t[free], reduction="none", label_smoothing=0.1)
        assert_close(loss[free], ref[0], dtype)
        assert_close(g[free], ref[1], dtype)


# -- softmax_cross_entropy: empty and fully ignored batches ---------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target_kind", ["index", "prob"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_empty_batch(reduction, target_kind, dtype, backend):
    x = np.zeros((0, 5), dtype)
    t = np.zeros(0, np.int64) if target_kind == "index" else np.zeros((0, 5), dtype)
    loss, g = softmax_cross_entropy(x, t, reduction=reduction, backend=backend)
    ref_loss, _ = torch_ce(x, t, reduction=reduction)
    assert g.shape == (0, 5) and g.dtype == dtype
    assert np.asarray(loss).dtype == dtype and np.shape(loss) == np.shape(ref_loss)
    np.testing.assert_array_equal(loss, ref_loss)  # nan for mean (as torch), 0 for sum, () for none
    if reduction == "mean":
        assert np.isnan(loss)
    if reduction == "sum":
        assert loss == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_all_targets_ignored(reduction, ignore_index, smoothing, weighted, dtype, backend, rng):
    x = rng.standard_normal((6, 4)).astype(dtype)
    t = np.full(6, ignore_index, np.int64)
    w = rng.uniform(0.5, 2.0, 4).astype(dtype) if weighted else None
    loss, g = softmax_cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing,
                                    ignore_index=ignore_index, weight=w, backend=backend)
    ref_loss, _ = torch_ce(x, t, reduction=reduction, label_smoothing=smoothing, ignore_index=ignore_index,
                           weight=w)
    assert np.asarray(loss).dtype == dtype and np.shape(loss) == np.shape(ref_loss)
    np.testing.assert_array_equal(loss, ref_loss)
    if reduction == "mean":
        assert np.isnan(loss)
    else:
        assert np.all(loss == 0)
    assert g.shape == x.shape and g.dtype == dtype and np.all(g == 0)


# -- softmax_cross_entropy: single sample, out=, return_grad, strided input -----------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_single_sample(reduction, smoothing, dtype, backend, rng):
    c = 9
    x = (rng.standard_normal(c) * 2).astype(dtype)
    w = rng.uniform(0.5, 2.0, c).astype(dtype)
    p = rng.dirichlet(np.ones(c)).astype(dtype)
    cases = [(3, {}), (np.int64(3), {"weight": w}), (np.int32(0), {}), (p, {}), (p, {"weight": w})]
    for target, kw in cases:
        loss, g = softmax_cross_entropy(x, target, reduction=reduction, label_smoothing=smoothing,
                                        backend=backend, **kw)
        t2 = np.asarray(target)[None] if np.ndim(target) == 0 else np.asarray(target)[None, :]
        ref_loss, ref_grad = torch_ce(x[None, :], t2, reduction=reduction, label_smoothing=smoothing,
                                      weight=kw.get("weight"))
        assert g.shape == (c,) and g.dtype == dtype
        assert np.asarray(loss).dtype == dtype and np.size(loss) == 1
        if reduction != "none":
            assert np.ndim(loss) == 0
        assert_close(np.reshape(loss, -1), np.reshape(ref_loss, -1), dtype, what=f"loss {target!r}")
        assert_close(g, ref_grad[0], dtype, what=f"grad {target!r}")


def test_ce_single_sample_none_reduction_shape_follows_torch(rng):
    # torch's unbatched input gives a 0-d "none" loss
    x = rng.standard_normal(5)
    loss, _ = softmax_cross_entropy(x, 2, reduction="none")
    ref = F.cross_entropy(t64(x), torch.tensor(2), reduction="none")
    assert np.shape(loss) == tuple(ref.shape)
    np.testing.assert_allclose(loss, ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_out_and_return_grad(reduction, dtype, backend, rng):
    x = rng.standard_normal((7, 5)).astype(dtype)
    t = rng.integers(0, 5, 7).astype(np.int32)
    t[2] = -100
    ref_loss, ref_grad = torch_ce(x, t, reduction=reduction, label_smoothing=0.1, ignore_index=-100)
    out = np.full_like(x, 7.0)
    loss, g = softmax_cross_entropy(x, t, reduction=reduction, label_smoothing=0.1, ignore_index=-100,
                                    out=out, backend=backend)
    assert g is out
    assert_close(out, ref_grad, dtype)
    assert np.all(out[2] == 0)
    only = softmax_cross_entropy(x, t, reduction=reduction, label_smoothing=0.1, ignore_index=-100,
                                 return_grad=False, backend=backend)
    assert not isinstance(only, tuple)
    assert np.asarray(only).dtype == dtype
    assert_close(only, ref_loss, dtype)
    np.testing.assert_array_equal(only, loss)


def test_ce_strided_inputs(rng):
    base = rng.standard_normal((8, 12))
    x = base[:, ::2]  # non-contiguous view
    xf = np.asfortranarray(rng.standard_normal((8, 6)))
    t = rng.integers(0, 6, 8)
    p = np.asfortranarray(rng.dirichlet(np.ones(6), 8))
    for xx, tt in ((x, t), (xf, t), (x, p), (xf, t[::-1])):
        loss, g = softmax_cross_entropy(xx, tt, reduction="sum", backend="cpu")
        ref = torch_ce(np.ascontiguousarray(xx), np.ascontiguousarray(tt), reduction="sum")
        check_result((loss, g), *ref, np.float64, (8, 6))


# -- sigmoid_binary_cross_entropy --------------------------------------------------------


def bce_inputs(rng, shape, dtype, weight, pos_weight):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    y = rng.random(shape)
    y.reshape(-1)[::5] = 0.0
    y.reshape(-1)[1::5] = 1.0
    c = shape[-1]
    w = {None: None, "full": rng.uniform(0.2, 2.0, shape), "last": rng.uniform(0.2, 2.0, c)}[weight]
    pw = None if pos_weight is None else rng.uniform(0.3, 3.0, c)
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return x, cast(y), cast(w), cast(pw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos_weight", [None, "last"])
@pytest.mark.parametrize("weight", [None, "full", "last"])
@pytest.mark.parametrize("shape", [(29,), (13, 7)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(reduction, shape, weight, pos_weight, dtype, backend, rng):
    x, y, w, pw = bce_inputs(rng, shape, dtype, weight, pos_weight)
    x0 = x.copy()
    res = sigmoid_binary_cross_entropy(x, y, reduction=reduction, weight=w, pos_weight=pw, backend=backend)
    ref = torch_bce(x, y, reduction=reduction, weight=w, pos_weight=pw)
    check_result(res, *ref, dtype, shape)
    assert np.array_equal(x, x0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos_weight", [None, "last"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_extreme_logits(reduction, pos_weight, dtype, backend, rng):
    x = np.array([[1e4, -1e4, 1e4, -1e4, 30.0, -30.0, 0.0, 800.0],
                  [-1e4, 1e4, 1e4, -1e4, -100.0, 100.0, 1e-8, -800.0]], dtype)
    y = np.array([[0, 1, 1, 0, 0, 1, 0.5, 0.3],
                  [0, 1, 0.5, 0.25, 1, 0, 1, 0.7]], dtype)
    pw = None if pos_weight is None else rng.uniform(0.3, 3.0, 8).astype(dtype)
    w = rng.uniform(0.2, 2.0, x.shape).astype(dtype)
    for weight in (None, w):
        res = sigmoid_binary_cross_entropy(x, y, reduction=reduction, weight=weight, pos_weight=pw,
                                           backend=backend)
        ref = torch_bce(x, y, reduction=reduction, weight=weight, pos_weight=pw)
        assert np.isfinite(ref[0]).all() and np.isfinite(ref[1]).all()
        assert np.isfinite(res[0]).all() and np.isfinite(res[1]).all()
        check_result(res, *ref, dtype, x.shape, rtol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_out_and_return_grad(dtype, backend, rng):
    x, y, w, pw = bce_inputs(rng, (6, 4), dtype, "last", "last")
    ref_loss, ref_grad = torch_bce(x, y, weight=w, pos_weight=pw)
    out = np.full_like(x, 7.0)
    loss, g = sigmoid_binary_cross_entropy(x, y, weight=w, pos_weight=pw, out=out, backend=backend)
    assert g is out
    assert_close(out, ref_grad, dtype)
    only = sigmoid_binary_cross_entropy(x, y, weight=w, pos_weight=pw, return_grad=False, backend=backend)
    assert not isinstance(only, tuple)
    assert np.asarray(only).dtype == dtype and np.ndim(only) == 0
    assert_close(only, ref_loss, dtype)


def test_bce_auto_backend(rng):
    x, y, w, pw = bce_inputs(rng, (64, 50), np.float32, "full", "last")
    for reduction in REDUCTIONS:
        res = sigmoid_binary_cross_entropy(x, y, reduction=reduction, weight=w, pos_weight=pw)
        check_result(res, *torch_bce(x, y, reduction=reduction, weight=w, pos_weight=pw), np.float32, x.shape)


@pytest.mark.parametrize("fn", ["bce", "mse"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_empty_inputs_follow_torch(reduction, fn):
    x = np.zeros((0, 3), np.float32)
    f, ref = {"bce": (sigmoid_binary_cross_entropy, torch_bce), "mse": (mse, torch_mse)}[fn]
    loss, g = f(x, x, reduction=reduction, backend="cpu")
    ref_loss, _ = ref(x, x, reduction=reduction)
    assert g.shape == (0, 3) and g.dtype == np.float32
    assert np.asarray(loss).dtype == np.float32 and np.shape(loss) == np.shape(ref_loss)
    np.testing.assert_array_equal(loss, ref_loss)  # nan / 0 / empty


# -- mse ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["auto", "cpu", "parallel"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (31,), (13, 7), (64, 50)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_matches_torch(reduction, shape, dtype, backend, rng):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    y = (rng.standard_normal(shape) * 3).astype(dtype)
    y.reshape(-1)[::4] = x.reshape(-1)[::4]  # some exact zeros in the residual
    x0, y0 = x.copy(), y.copy()
    res = mse(x, y, reduction=reduction, backend=backend)
    check_result(res, *torch_mse(x, y, reduction=reduction), dtype, shape)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_out_and_return_grad(reduction, dtype, backend, rng):
    x = rng.standard_normal((5, 3)).astype(dtype)
    y = rng.standard_normal((5, 3)).astype(dtype)
    ref_loss, ref_grad = torch_mse(x, y, reduction=reduction)
    out = np.full_like(x, 7.0)
    loss, g = mse(x, y, reduction=reduction, out=out, backend=backend)
    assert g is out
    assert_close(out, ref_grad, dtype)
    only = mse(x, y, reduction=reduction, return_grad=False, backend=backend)
    assert not isinstance(only, tuple)
    assert_close(only, ref_loss, dtype)
