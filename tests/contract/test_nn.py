"""Contract tests of fastkernels.nn (docs/CONTRACT.md): every public function and method driven
with generated bad and edge inputs.

* a bad input raises TypeError/ValueError naming the argument;
* after an error, inputs, ``out=`` buffers, models and optimizers are unchanged;
* a call that returns on edge input is right: checked against a NumPy reference, with NaN
  propagating as documented (NaN in a row -> NaN in that row only, as torch).

Run by tests/test_contract.py in its own interpreter (FK_CONTRACT_CHILD=1).
"""

from __future__ import annotations

import inspect
import math
import os
import pickle

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import fastkernels.nn as nn
from fastkernels._io import save_npz
from fastkernels.nn._reference import ref_act, ref_mse, ref_rows, ref_sce_rows, ref_sigmoid_binary_cross_entropy

from .harness import (INT_EXTREMES, Snapshot, bad_scalars, bad_seeds, corrupt_bytes, fails_cleanly, layout_variants,
                      odd_float_arrays, overlapping_out, raises_naming, wrong_dtype_arrays)

COVERS = {
    "softmax", "log_softmax", "logsumexp",
    "softmax_cross_entropy", "sigmoid_binary_cross_entropy", "mse",
    "cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
    "activation", "activation_grad", "dense_forward", "dense_backward",
    "dropout", "dropout_backward", "batchnorm_forward", "batchnorm_backward",
    "gradcheck", "numerical_gradient",
    "SGD", "SGD.step", "Adam", "Adam.step", "AdamW", "AdamW.step", "RMSprop", "RMSprop.step",
    "clip_grad_norm", "lr_schedule",
    "MLP", "MLP.fit", "MLP.predict", "MLP.predict_proba", "MLP.decision_function", "MLP.score",
    "MLP.loss_and_grad", "MLP.save", "MLP.load", "MLP.get_params", "MLP.set_params",
}

pytestmark = pytest.mark.bad_input

FLOATS = st.sampled_from([np.float32, np.float64])
BACKENDS = st.sampled_from(["cpu", "cpu", "parallel"])
TOL = {np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6), np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12)}


def _f64(a):
    return np.asarray(a, np.float64)


def test_covers_every_public_callable_and_method():
    want = set()
    for name in nn.__all__:
        obj = getattr(nn, name)
        if inspect.isclass(obj):
            want.add(name)
            want |= {f"{name}.{m}" for m, v in vars(obj).items() if not m.startswith("_") and callable(v)}
            for base in obj.__mro__[1:]:
                if base.__module__.startswith("fastkernels"):
                    want |= {f"{name}.{m}" for m, v in vars(base).items() if not m.startswith("_") and callable(v)}
            want |= {f"{name}.{m}" for m, v in vars(obj).items() if isinstance(v, classmethod)}
        elif callable(obj):
            want.add(name)
    assert want <= COVERS, sorted(want - COVERS)


# -- references -----------------------------------------------------------------------------


def assert_close(got, want, dtype):
    np.testing.assert_allclose(_f64(got), _f64(want), equal_nan=True, **TOL[np.dtype(dtype)])


def shapes(max_rows=3, max_cols=4, min_rows=0, min_cols=1):
    return st.tuples(st.integers(min_rows, max_rows), st.integers(min_cols, max_cols))


# -- softmax family ----------------------------------------------------------------------------

ROW_FNS = {"softmax": nn.softmax, "log_softmax": nn.log_softmax, "logsumexp": nn.logsumexp}


@given(kind=st.sampled_from(sorted(ROW_FNS)), dtype=FLOATS, backend=BACKENDS, data=st.data())
def test_rowwise_edge_values_match_reference_row_by_row(kind, dtype, backend, data):
    x = data.draw(odd_float_arrays(data.draw(shapes()), dtype=dtype))
    keep = x.copy()
    got = ROW_FNS[kind](x, backend=backend)
    assert np.array_equal(x, keep, equal_nan=True)
    assert got.dtype == x.dtype and got.shape == (x.shape[:-1] if kind == "logsumexp" else x.shape)
    want = ref_rows(x, kind)
    # float32 logits of finfo.max: exp(x - m) and log(s) are exact enough; compare loosely there
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_f64(got), want, equal_nan=True, **tol)


@given(kind=st.sampled_from(sorted(ROW_FNS)), data=st.data())
def test_rowwise_bad_x(kind, data):
    x = data.draw(st.one_of(wrong_dtype_arrays((2, 3), accept=(np.float32, np.float64)),
                            st.sampled_from([np.float32(1.0), np.array(1.0), None, "ab", object()])))
    raises_naming(lambda: ROW_FNS[kind](x, backend="cpu"), "x")


@given(kind=st.sampled_from(sorted(ROW_FNS)), dtype=FLOATS, data=st.data())
def test_rowwise_overlapping_out_refused_and_exact_alias(kind, dtype, data):
    x = data.draw(hnp.arrays(dtype, data.draw(shapes(min_rows=1, min_cols=2)), elements=st.floats(-5, 5, width=32)))
    if kind == "logsumexp":
        base = np.zeros(x.size + x.shape[0], dtype)
        xin = base[: x.size].reshape(x.shape)
        xin[...] = x
        out = base[x.size - 1: x.size - 1 + x.shape[0]]  # shares xin's last element
        fails_cleanly(lambda: nn.logsumexp(xin, out=out, backend="cpu"), "out", xin=xin, out=out)
        return
    xin, out = overlapping_out(x)
    fails_cleanly(lambda: ROW_FNS[kind](xin, out=out, backend="cpu"), "out", xin=xin, out=out)
    # exactly x itself: documented in-place use, same answer
    want = ROW_FNS[kind](x, backend="cpu")
    y = x.copy()
    assert ROW_FNS[kind](y, out=y, backend=data.draw(BACKENDS)) is y
    assert_close(y, want, dtype)


@given(kind=st.sampled_from(sorted(ROW_FNS)), layout=st.sampled_from(["readonly", "fortran", "strided", "list"]),
       bad_out=st.sampled_from(["readonly", "fortran", "strided", "dtype", "shape", "list"]))
def test_rowwise_layouts_accepted_by_copy_and_bad_out_refused(kind, layout, bad_out):
    x = np.arange(12, dtype=np.float64).reshape(3, 4) / 7 - 0.5
    want = ROW_FNS[kind](x, backend="cpu")
    assert_close(ROW_FNS[kind](layout_variants(x)[layout], backend="cpu"), want, np.float64)
    shape = x.shape[:-1] if kind == "logsumexp" else x.shape
    good = np.zeros(shape)
    out = {"dtype": good.astype(np.float32), "shape": np.zeros(shape + (1,)), "list": good.tolist()}.get(bad_out)
    if out is None:
        out = layout_variants(good)[bad_out]
    if bad_out == "fortran" and out.flags.c_contiguous:
        out = np.zeros(shape[::-1]).T if len(shape) == 2 else np.zeros(shape[0] * 2)[::2]
    fails_cleanly(lambda: ROW_FNS[kind](x, out=out, backend="cpu"), "out", x=x, out=out)


# -- losses --------------------------------------------------------------------------------------


@given(dtype=FLOATS, backend=BACKENDS, data=st.data())
def test_softmax_cross_entropy_nan_stays_in_its_row(dtype, backend, data):
    n, c = data.draw(shapes(max_rows=4, max_cols=5))
    x = data.draw(odd_float_arrays((n, c), dtype=dtype))
    x = np.where(np.abs(x) > 1e30, np.float32(7), x).astype(dtype)  # finfo.max rows: covered by the row tests
    t = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    rows, g = nn.softmax_cross_entropy(x, t, reduction="none", backend=backend)
    want_rows, want_g = ref_sce_rows(x, t)
    np.testing.assert_allclose(_f64(rows), want_rows, equal_nan=True, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_f64(g), want_g, equal_nan=True, rtol=1e-4, atol=1e-5)
    loss, _ = nn.softmax_cross_entropy(x, t, backend=backend)
    assert np.isnan(loss) == (n == 0 or bool(np.isnan(want_rows).any()))


@given(data=st.data())
def test_softmax_cross_entropy_bad_targets(data):
    x = np.zeros((3, 4), np.float32)
    case = data.draw(st.sampled_from(["range", "extreme", "uint", "bool", "float_neg", "shape", "object", "str"]))
    t = {"range": np.array([0, 4, 1]), "extreme": np.array([0, data.draw(st.sampled_from(INT_EXTREMES[:2])), 1]),
         "uint": np.array([0, 2**64 - 1, 1], np.uint64), "bool": np.array([True, False, True]),
         "float_neg": np.full((3, 4), -0.25, np.float32), "shape": np.array([0, 1]),
         "object": np.array([0, None, 1], object), "str": np.array(["a", "b", "c"])}[case]
    out = np.full((3, 4), 5.0, np.float32)
    fails_cleanly(lambda: nn.softmax_cross_entropy(x, t, out=out, backend="cpu"), "target", x=x, t=t, out=out)


@given(arg=st.sampled_from(["label_smoothing", "ignore_index", "reduction", "return_grad", "weight"]), data=st.data())
def test_softmax_cross_entropy_bad_options(arg, data):
    x = np.zeros((3, 4))
    t = np.array([0, 1, 2])
    value = {"label_smoothing": bad_scalars(),
             "ignore_index": bad_scalars(integer=True).filter(lambda v: v is not None),
             "reduction": st.sampled_from(["avg", None, 1, "MEAN"]),
             "return_grad": st.sampled_from(["no", None, 2, np.array([True])]),
             "weight": st.sampled_from([np.full(4, np.nan), -np.ones(4), np.ones(3), np.ones(4, np.float32), "w"])}[arg]
    v = data.draw(value)
    if arg == "label_smoothing":
        assume(not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1))
    if arg == "ignore_index" and isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        assume(not (-(2**63) <= v < 2**63))
    out = np.full((3, 4), 2.0)
    fails_cleanly(lambda: nn.softmax_cross_entropy(x, t, out=out, backend="cpu", **{arg: v}), arg, x=x, out=out)


@given(how=st.sampled_from(["logits", "shifted", "target_probs", "weight"]))
def test_softmax_cross_entropy_out_aliasing_refused(how):
    # defect 1: out=logits returned a wrong loss; now refused, as is any other overlap
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    kw = {}
    if how == "logits":
        logits, t, out = x, np.array([0, 1, 3]), x
    elif how == "shifted":
        logits, out = overlapping_out(x)
        t = np.array([0, 1, 3])
    elif how == "target_probs":
        logits, t = x, np.full((3, 4), 0.25)
        out = t
    else:
        base = np.ones(3 * 4 + 4)
        logits, t, out = x, np.array([0, 1, 3]), base[:12].reshape(3, 4)
        kw["weight"] = base[8:12]
    fails_cleanly(lambda: nn.softmax_cross_entropy(logits, t, out=out, backend="cpu", **kw), "out",
                  logits=logits, t=t, out=out)


# torch's loss-only signatures (issue 18): cross_entropy, binary_cross_entropy_with_logits, mse_loss


@given(dtype=FLOATS, backend=BACKENDS, data=st.data())
def test_cross_entropy_extra_dims_and_default_ignore_match_reference(dtype, backend, data):
    n, c = data.draw(shapes(max_rows=3, max_cols=4))
    d = data.draw(st.lists(st.integers(0, 3), min_size=0, max_size=2))
    shape = (n, c, *d)
    x = data.draw(odd_float_arrays(shape, dtype=dtype))
    x = np.where(np.abs(x) > 1e30, np.float32(7), x).astype(dtype)  # finfo.max rows: covered by the row tests
    t = data.draw(hnp.arrays(np.int64, (n, *d), elements=st.one_of(st.integers(0, c - 1), st.just(-100))))
    keep_x, keep_t = x.copy(), t.copy()
    elems = nn.cross_entropy(x, t, reduction="none", backend=backend)
    loss, g = nn.softmax_cross_entropy(x, t, reduction="none", backend=backend)
    assert np.array_equal(x, keep_x, equal_nan=True) and np.array_equal(t, keep_t)
    assert elems.shape == t.shape and g.shape == x.shape and elems.dtype == x.dtype
    np.testing.assert_array_equal(elems, loss)
    rows, tr = np.moveaxis(x, 1, -1).reshape(-1, c), t.reshape(-1)
    valid = tr != -100
    want = np.zeros(tr.size)
    want_g = np.zeros(rows.shape)
    if valid.any():
        want[valid], want_g[valid] = ref_sce_rows(rows[valid], tr[valid])
    np.testing.assert_allclose(_f64(elems).reshape(-1), want, equal_nan=True, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_f64(np.moveaxis(g, 1, -1)).reshape(-1, c), want_g, equal_nan=True, rtol=1e-4,
                               atol=1e-5)
    mean = nn.cross_entropy(x, t, backend=backend)
    assert np.isnan(mean) == (not valid.any() or bool(np.isnan(want[valid]).any()))


TORCH_STYLE = {"cross_entropy": nn.cross_entropy,
               "binary_cross_entropy_with_logits": nn.binary_cross_entropy_with_logits, "mse_loss": nn.mse_loss}


@given(fn=st.sampled_from(sorted(TORCH_STYLE)), data=st.data())
def test_torch_style_losses_bad_inputs_name_the_argument(fn, data):
    z = np.linspace(-2, 2, 6).reshape(2, 3)
    t = np.array([0, 2]) if fn == "cross_entropy" else np.full((2, 3), 0.5)
    f = TORCH_STYLE[fn]
    cases = ["input", "target_shape", "size_average", "reduce", "reduction"]
    if fn == "cross_entropy":
        cases += ["ignore_index", "weight", "label_smoothing", "target_range"]
    elif fn == "binary_cross_entropy_with_logits":
        cases += ["weight", "pos_weight", "target_range"]
    case = data.draw(st.sampled_from(cases))
    args, kw, name = [z, t], {}, case
    if case == "input":
        args[0] = data.draw(st.one_of(wrong_dtype_arrays((2, 3), accept=(np.float32, np.float64)),
                                      st.sampled_from([None, "ab", object()])))
    elif case == "target_shape":
        args[1], name = (np.array([0, 1, 2]) if fn == "cross_entropy" else t[:, :2]), "target"
    elif case == "target_range":
        args[1], name = (np.array([0, 3]) if fn == "cross_entropy" else np.full((2, 3), 1.5)), "target"
    elif case in ("size_average", "reduce"):
        kw[case] = data.draw(st.sampled_from(["yes", 2, np.array([True, False])]))
    elif case == "reduction":
        kw[case] = data.draw(st.sampled_from(["avg", None, 1]))
    elif case == "ignore_index":
        kw[case] = data.draw(st.sampled_from([1.5, "x", 2**64, True]))
    elif case == "label_smoothing":
        kw[case] = data.draw(bad_scalars().filter(lambda v: v is not None))
    else:  # weight, pos_weight
        kw[case] = data.draw(st.sampled_from([-np.ones(3), np.full(3, np.nan), np.ones(4), np.ones(3, np.float32)]))
    fails_cleanly(lambda: f(*args, backend="cpu", **kw), name, z=z, t=t)
    # a good call: the loss of the fused twin, positional arguments as in torch
    fused = {"cross_entropy": nn.softmax_cross_entropy, "binary_cross_entropy_with_logits":
             nn.sigmoid_binary_cross_entropy, "mse_loss": nn.mse}[fn]
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_array_equal(f(z, t, reduction=reduction, backend="cpu"),
                                      fused(z, t, reduction=reduction, backend="cpu")[0])


@given(fn=st.sampled_from(["bce", "mse"]), dtype=FLOATS, backend=BACKENDS, data=st.data())
def test_elementwise_losses_nan_propagates_elementwise(fn, dtype, backend, data):
    shape = data.draw(shapes(max_rows=3, max_cols=4))
    z = data.draw(hnp.arrays(dtype, shape, elements=st.one_of(st.sampled_from([np.nan, np.inf, -np.inf]),
                                                                st.floats(-20, 20, width=32))))
    if fn == "bce":
        t = data.draw(hnp.arrays(dtype, shape, elements=st.floats(0, 1, width=32)))
        elem, g = nn.sigmoid_binary_cross_entropy(z, t, reduction="none", backend=backend)
        with np.errstate(all="ignore"):
            zz, tt = _f64(z), _f64(t)
            want = ref_sigmoid_binary_cross_entropy(zz, tt, reduction="none")
            want = np.where(np.isnan(zz), np.nan, want)
            want_g = special.expit(zz) - tt
    else:
        t = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-5, 5, width=32)))
        elem, g = nn.mse(z, t, reduction="none", backend=backend)
        with np.errstate(all="ignore"):
            want = ref_mse(z, _f64(t), reduction="none")
            want_g = 2 * (_f64(z) - _f64(t))
    finite = np.isfinite(_f64(z))
    # NaN exactly where the input is NaN (+-inf may give inf, or NaN where it meets a 0 factor)
    assert np.array_equal(np.isnan(elem) & ~np.isinf(z), np.isnan(z))
    np.testing.assert_allclose(_f64(elem)[finite], want[finite], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_f64(g)[finite], want_g[finite], rtol=1e-4, atol=1e-5)
    assert np.array_equal(np.isnan(g[~np.isinf(z)]), np.isnan(z[~np.isinf(z)]))


@given(fn=st.sampled_from(["bce", "mse"]), data=st.data())
def test_elementwise_losses_bad_inputs_and_out(fn, data):
    z = np.linspace(-2, 2, 6).reshape(2, 3)
    t = np.full((2, 3), 0.5)
    f = nn.sigmoid_binary_cross_entropy if fn == "bce" else nn.mse
    first = "logits" if fn == "bce" else "pred"
    case = data.draw(st.sampled_from(["target_range", "target_nan", "weight", "pos_weight", "overlap", "out_is_target",
                                      "dtype", "shape", "return_grad", "reduction"]))
    if fn == "mse" and case in ("target_range", "target_nan", "weight", "pos_weight"):
        case = "dtype"
    out = np.full((2, 3), 9.0)
    args, kw, name = (z, t), {"out": out}, case
    if case == "target_range":
        args, name = (z, np.array([[0.5, 1.5, 0], [0, 0, 0]])), "target"
    elif case == "target_nan":
        args, name = (z, np.array([[0.5, np.nan, 0], [0, 0, 0]])), "target"
    elif case in ("weight", "pos_weight"):
        kw[case] = data.draw(st.sampled_from([-np.ones(3), np.full(3, np.nan), np.ones(4), np.ones(3, np.float32)]))
    elif case == "overlap":
        zin, out = overlapping_out(z)
        args, kw, name = (zin, t), {"out": out}, "out"
    elif case == "out_is_target":
        kw, name = {"out": t}, "out"
    elif case == "dtype":
        args, name = (data.draw(wrong_dtype_arrays((2, 3), accept=(np.float32, np.float64))), t), first
    elif case == "shape":
        args, name = (z, t[:, :2]), "target"
    elif case == "return_grad":
        kw["return_grad"] = data.draw(st.sampled_from(["yes", None, 3]))
    else:
        kw["reduction"] = "avg"
    fails_cleanly(lambda: f(*args, backend="cpu", **kw), name, z=z, t=t, out=kw["out"])
    # out = the first input itself is the documented in-place use
    want = f(z, t, backend="cpu")
    y = z.copy()
    loss, g = f(y, t, out=y, backend="cpu")
    assert g is y and loss == pytest.approx(float(want[0])) and np.allclose(y, want[1])


# -- activations and dense layers ---------------------------------------------------------------------


@given(name=st.sampled_from(nn.ACTIVATIONS), dtype=FLOATS, backend=BACKENDS, data=st.data())
def test_activations_propagate_nan_and_match_reference(name, dtype, backend, data):
    z = data.draw(odd_float_arrays(data.draw(shapes(max_rows=3, max_cols=5)), dtype=dtype))
    a = nn.activation(z, name, backend=backend)
    want = ref_act(z, name).astype(dtype)
    assert np.array_equal(np.isnan(a), np.isnan(want)), (z, a)  # relu(nan) is nan (defect 4)
    np.testing.assert_allclose(_f64(a), _f64(want), equal_nan=True, rtol=2e-5, atol=1e-6)
    # the derivative never hides a NaN gradient
    da = np.ones_like(z)
    da.flat[:1] = np.nan
    cache = {"z": z} if name in ("softplus", "gelu") else {"a": a}
    dz = nn.activation_grad(da, name, backend=backend, **cache)
    assert np.isnan(dz.flat[:1]).all()


@given(arg=st.sampled_from(["z", "name", "alpha", "out", "overlap"]), grad=st.booleans(), data=st.data())
def test_activation_bad_inputs(arg, grad, data):
    z = np.linspace(-1, 1, 6).reshape(2, 3)
    out = np.full((2, 3), 4.0)
    kw = {"out": out}
    x, name, want = z, "tanh", arg
    if arg == "z":
        x = data.draw(wrong_dtype_arrays((2, 3), accept=(np.float32, np.float64)))
        want = "da" if grad else "z"
    elif arg == "name":
        name = data.draw(st.sampled_from(["swish", None, 3, "RELU"]))
    elif arg == "alpha":
        name, kw["alpha"] = "leaky_relu", data.draw(st.one_of(bad_scalars(), st.just(-0.5)))
    elif arg == "out":
        kw["out"] = data.draw(st.sampled_from([z.astype(np.float32), np.zeros((3, 2)), np.zeros((2, 3)).T.copy().T,
                                               [[0.0] * 3] * 2, layout_variants(np.zeros((2, 3)))["readonly"]]))
    else:
        x, kw["out"] = overlapping_out(z)
        want = "out"
    if grad:
        call = lambda: nn.activation_grad(x, name, a=np.tanh(z), backend="cpu", **kw)  # noqa: E731
    else:
        call = lambda: nn.activation(x, name, backend="cpu", **kw)  # noqa: E731
    fails_cleanly(call, want, z=z, out=kw["out"])


@given(act=st.sampled_from(nn.ACTIVATIONS), dtype=FLOATS, backend=BACKENDS, data=st.data())
def test_dense_forward_nan_rows_propagate(act, dtype, backend, data):
    n, k = data.draw(shapes(max_rows=4, max_cols=3))
    m = data.draw(st.integers(1, 3))
    X = data.draw(hnp.arrays(dtype, (n, k), elements=st.one_of(st.sampled_from([np.nan, np.inf, -np.inf]),
                                                                 st.floats(-3, 3, width=32))))
    W = data.draw(hnp.arrays(dtype, (m, k), elements=st.floats(-2, 2, width=32)))
    b = data.draw(hnp.arrays(dtype, (m,), elements=st.floats(-1, 1, width=32)))
    A, cache = nn.dense_forward(X, W, b, act, backend=backend)
    with np.errstate(all="ignore"):
        Z = _f64(X) @ _f64(W).T + _f64(b)
    want = ref_act(Z, act)
    assert np.array_equal(np.isnan(A), np.isnan(want.astype(dtype)))
    np.testing.assert_allclose(_f64(A), want, equal_nan=True, rtol=1e-4, atol=1e-4)
    bad_rows = ~np.isfinite(X).all(axis=1)
    assert np.isfinite(A[~bad_rows]).all()  # a bad row stays in its row
    dX, dW, db = nn.dense_backward(np.ones_like(A), X, W, cache, act, backend=backend)
    assert dX.shape == X.shape and dW.shape == W.shape and db.shape == b.shape


@given(case=st.sampled_from(["X_dtype", "X_ndim", "W_shape", "W_dtype", "b_shape", "out_overlap_X", "out_is_b",
                             "out_shape", "activation", "alpha", "huge", "X_object", "X_bool"]))
def test_dense_forward_bad_inputs(case):
    X = np.ones((2, 3))
    W = np.ones((4, 3))
    b = np.zeros(4)
    out = np.full((2, 4), 7.0)
    args, kw, name = [X, W, b], {"out": out}, case.split("_")[0]
    if case == "X_dtype":
        args[0] = X.astype(np.int64)
    elif case == "X_ndim":
        args[0] = np.ones(3)
    elif case == "W_shape":
        args[1] = np.ones((4, 2))
    elif case == "W_dtype":
        args[1] = W.astype(np.float32)
    elif case == "b_shape":
        args[2] = np.zeros(3)
    elif case == "out_overlap_X":
        base = np.ones(12)
        args[0], kw["out"] = base[:6].reshape(2, 3), base[4:12].reshape(2, 4)
    elif case == "out_is_b":
        base = np.zeros(8)
        args[2], kw["out"] = base[:4], base.reshape(2, 4)
    elif case == "out_shape":
        kw["out"] = np.zeros((4, 2))
    elif case == "activation":
        args.append("swish")
    elif case == "alpha":
        args.append("leaky_relu")
        kw["alpha"] = -1.0
    elif case == "huge":  # 10**6 x 10**6 outputs: refused naming the sizes, before any allocation
        args = [np.zeros((10**6, 1), np.float32), np.zeros((10**6, 1), np.float32), None]
        kw, name = {}, "X"
    elif case == "X_object":
        args[0] = np.ones((2, 3), object)
    else:
        args[0] = np.ones((2, 3), bool)
    fails_cleanly(lambda: nn.dense_forward(*args, backend="cpu", **kw), name, X=args[0], W=args[1], out=kw.get("out"))


@given(case=st.sampled_from(["dA", "cache", "need_dx", "activation", "W"]))
def test_dense_backward_bad_inputs(case):
    X, W = np.ones((2, 3)), np.ones((4, 3))
    A, cache = nn.dense_forward(X, W, None, "relu", backend="cpu")
    args = {"dA": np.ones((2, 4)), "X": X, "W": W, "cache": cache}
    kw = {}
    if case == "dA":
        args["dA"] = np.ones((4, 2))
    elif case == "cache":
        args["cache"] = cache.astype(np.float32)
    elif case == "need_dx":
        kw["need_dx"] = "no"
    elif case == "activation":
        kw["activation"] = "swish"
    else:
        args["W"] = np.ones((4, 2))
    fails_cleanly(lambda: nn.dense_backward(args["dA"], args["X"], args["W"], args["cache"],
                                            kw.pop("activation", "relu"), backend="cpu", **kw), case,
                  **{k: v for k, v in args.items()})


# -- dropout ---------------------------------------------------------------------------------------


@given(backward=st.booleans(), p=st.sampled_from([0.0, 0.3, 1.0]), training=st.booleans(), seed=bad_seeds())
def test_dropout_bad_seed_refused_on_every_path(backward, p, training, seed):
    # defect 7: p = 1 and training=False skipped validation
    x = np.ones((2, 3))
    if backward:
        call = lambda: nn.dropout_backward(x, p, seed=seed, backend="cpu")  # noqa: E731
    else:
        call = lambda: nn.dropout(x, p, seed=seed, training=training, backend="cpu")  # noqa: E731
    fails_cleanly(call, "seed", x=x)


@given(arg=st.sampled_from(["p", "step", "training", "x", "out"]), p=st.sampled_from([0.0, 0.5, 1.0]),
       training=st.booleans(), data=st.data())
def test_dropout_bad_arguments_on_every_path(arg, p, training, data):
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    out = np.full((2, 3), 3.0)
    kw = dict(p=p, seed=1, step=0, training=training, out=out)
    xx = x
    if arg == "p":
        kw["p"] = data.draw(st.one_of(bad_scalars(), st.sampled_from([-0.1, 1.5])))
    elif arg == "step":
        kw["step"] = data.draw(st.one_of(bad_scalars(integer=True), st.just(-1)))
    elif arg == "training":
        kw["training"] = data.draw(st.sampled_from(["no", None, 2, np.array([1, 0])]))
    elif arg == "x":
        xx = data.draw(wrong_dtype_arrays((2, 3), accept=(np.float32, np.float64)))
    else:
        xx, kw["out"] = overlapping_out(x)
    fails_cleanly(lambda: nn.dropout(xx, backend="cpu", **kw), arg, x=x, out=kw["out"])


@given(dtype=FLOATS, p=st.sampled_from([0.0, 0.25, 0.5, 1.0]), backend=BACKENDS, data=st.data())
def test_dropout_keeps_nan_visible_and_scales_the_rest(dtype, p, backend, data):
    x = data.draw(hnp.arrays(dtype, data.draw(shapes(max_rows=3, max_cols=5)),
                             elements=st.one_of(st.sampled_from([np.nan, np.inf]), st.floats(-5, 5, width=32))))
    step = data.draw(st.integers(0, 3))
    y = nn.dropout(x, p, seed=7, step=step, backend=backend)
    assert np.isnan(y[np.isnan(x)]).all()  # NaN in -> NaN out, kept or dropped (nan * 0)
    fin = np.isfinite(x)
    kept = y[fin] != 0
    if p < 1:
        np.testing.assert_allclose(y[fin][kept], (x[fin] / dtype(1 - p))[kept], rtol=1e-6)
    assert not (y[fin] != 0).any() if p == 1 else True
    # in place (out=x) equals the separate result; evaluation copies into out
    z = x.copy()
    assert nn.dropout(z, p, seed=7, step=step, out=z, backend=backend) is z
    assert np.array_equal(z, y, equal_nan=True)
    o = np.empty_like(x)
    assert nn.dropout(x, p, seed=7, training=False, out=o) is o and np.array_equal(o, x, equal_nan=True)
    assert np.array_equal(nn.dropout_backward(np.ones_like(x), p, seed=7, step=step, backend=backend) == 0,
                          nn.dropout(np.ones_like(x), p, seed=7, step=step, backend=backend) == 0)


# -- batch norm ------------------------------------------------------------------------------------


def _bn_args(c=3, n=4, dtype=np.float64):
    rng = np.random.default_rng(c * 10 + n)
    return (rng.standard_normal((n, c)).astype(dtype), np.ones(c, dtype), np.zeros(c, dtype), np.zeros(c, dtype),
            np.ones(c, dtype))


@given(case=st.sampled_from(["running_var_neg", "running_mean_is_x", "running_var_is_mean", "running_mean_ro",
                             "gamma_shape", "beta_dtype", "momentum", "eps", "training", "x_one_row", "x_dtype",
                             "running_var_list"]), training=st.booleans(), data=st.data())
def test_batchnorm_forward_bad_inputs_leave_running_stats(case, training, data):
    x, g, b, rm, rv = _bn_args()
    kw = dict(training=training)
    name = case.split("_is_")[0] if "_is_" in case else case.rsplit("_", 1)[0] if case != "training" else case
    if case == "running_var_neg":
        rv[1] = -0.5
    elif case == "running_mean_is_x":
        base = np.zeros(15)
        x, rm = base[:12].reshape(4, 3), base[12 - 1: 15 - 1]
        x[...] = 1.0
        name = "running_mean"
    elif case == "running_var_is_mean":
        rv = rm
        name = "running_mean"
    elif case == "running_mean_ro":
        rm = layout_variants(rm)["readonly"]
        name = "running_mean"
    elif case == "gamma_shape":
        g = np.ones(4)
    elif case == "beta_dtype":
        b = b.astype(np.float32)
    elif case == "momentum":
        kw["momentum"] = data.draw(st.one_of(bad_scalars(), st.just(1.5)))
    elif case == "eps":
        kw["eps"] = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -1e-5])))
    elif case == "training":
        kw["training"] = data.draw(st.sampled_from(["yes", None, 5]))
    elif case == "x_one_row":
        x = x[:1]
        kw["training"] = True
        name = "x"
    elif case == "x_dtype":
        x = data.draw(wrong_dtype_arrays((4, 3), accept=(np.float32, np.float64)))
        name = "x"
    else:
        rv = [1.0, 1.0, 1.0]
        name = "running_var"
    fails_cleanly(lambda: nn.batchnorm_forward(x, g, b, rm, rv, backend="cpu", **kw), name, rm=rm, rv=rv, x=x)


@given(dtype=FLOATS, backend=BACKENDS, data=st.data())
def test_batchnorm_nan_stays_in_its_column(dtype, backend, data):
    n, c = data.draw(shapes(max_rows=5, max_cols=4, min_rows=2))
    x = data.draw(hnp.arrays(dtype, (n, c), elements=st.one_of(st.just(np.nan), st.floats(-5, 5, width=32))))
    _, g, b, rm, rv = _bn_args(c, n, dtype)
    y, cache = nn.batchnorm_forward(x, g, b, rm, rv, backend=backend)
    bad = np.isnan(x).any(axis=0)
    assert np.isnan(y[:, bad]).all() and np.isnan(rm[bad]).all()
    xx = _f64(x[:, ~bad])
    want = (xx - xx.mean(0)) / np.sqrt(xx.var(0) + 1e-5)
    np.testing.assert_allclose(_f64(y[:, ~bad]), want, rtol=1e-3, atol=1e-3)
    assert np.isfinite(rm[~bad]).all() and (rv[~bad] >= 0).all()
    dx, dg, db = nn.batchnorm_backward(np.ones_like(y), cache, g, backend=backend)
    assert np.isfinite(dx[:, ~bad]).all()


@given(case=st.sampled_from(["cache_none", "cache_triple", "cache_eval", "dy_shape", "gamma_dtype", "cache_array"]))
def test_batchnorm_backward_bad_inputs(case):
    x, g, b, rm, rv = _bn_args()
    y, cache = nn.batchnorm_forward(x, g, b, rm, rv, backend="cpu")
    dy = np.ones_like(y)
    name = "cache"
    if case == "cache_none":
        cache = None
    elif case == "cache_triple":
        cache = cache + (1,)
    elif case == "cache_eval":
        cache = nn.batchnorm_forward(x, g, b, rm, rv, training=False, backend="cpu")[1]
    elif case == "cache_array":
        cache = np.ones(3)
    elif case == "dy_shape":
        dy, name = np.ones((3, 3)), "dy"
    else:
        g, name = g.astype(np.float32), "gamma"
    fails_cleanly(lambda: nn.batchnorm_backward(dy, cache, g, backend="cpu"), name, dy=dy, g=g)


# -- gradcheck ------------------------------------------------------------------------------------------


@given(case=st.sampled_from(["f", "x_dtype", "eps", "indices_range", "indices_float", "grad_shape", "rtol",
                             "max_checks", "seed", "f_returns_array"]), numerical=st.booleans(), data=st.data())
def test_gradcheck_bad_inputs(case, numerical, data):
    x = np.linspace(-1, 1, 4)
    f = lambda v: float(np.sum(v**2))  # noqa: E731
    kw = {}
    name = {"x_dtype": "x", "indices_range": "indices", "indices_float": "indices", "grad_shape": "grad",
            "f_returns_array": "f"}.get(case, case)
    if case == "f":
        f = data.draw(st.sampled_from([None, 3, "f"]))
    elif case == "x_dtype":
        x, name = x.astype(np.float32), "x"
    elif case == "eps":
        kw["eps"] = data.draw(st.one_of(bad_scalars(), st.just(0.0)))
    elif case in ("indices_range", "indices_float"):
        kw["indices"] = [0, 4] if case == "indices_range" else [0.5]
        numerical = True
    elif case == "f_returns_array":
        f, name = (lambda v: v * 2), "f"
    elif numerical:
        kw["eps"], name = -1.0, "eps"
    if not numerical:
        if case == "grad_shape":
            kw["grad"] = np.ones(3)
        elif case == "rtol":
            kw["rtol"] = data.draw(st.one_of(bad_scalars(), st.just(-1.0)))
        elif case == "max_checks":
            kw["max_checks"] = data.draw(st.one_of(bad_scalars(integer=True).filter(lambda v: v is not None),
                                                   st.just(0)))
        elif case == "seed":
            kw["seed"] = data.draw(bad_seeds())
            kw["max_checks"] = 2
        kw.pop("indices", None)
        grad = kw.pop("grad", 2 * x)
        call = lambda: nn.gradcheck(f, x, grad, **kw)  # noqa: E731
    else:
        call = lambda: nn.numerical_gradient(f, x, **kw)  # noqa: E731
    fails_cleanly(call, name, x=x)


@given(bad=st.sampled_from([np.nan, np.inf]), where=st.integers(0, 3))
def test_gradcheck_never_passes_a_nan_gradient(bad, where):
    x = np.linspace(-1, 1, 4)
    grad = 2 * x
    grad[where] = bad
    with pytest.raises(AssertionError, match="gradient mismatch"):
        nn.gradcheck(lambda v: float(np.sum(v**2)), x, grad)
    num = nn.numerical_gradient(lambda v: float(np.sum(v**2)) if v[where] < 5 else np.nan, x)
    np.testing.assert_allclose(num, 2 * x, rtol=1e-6)


# -- optimizers --------------------------------------------------------------------------------------

OPTS = {"SGD": (nn.SGD, dict(momentum=0.9)), "Adam": (nn.Adam, {}), "AdamW": (nn.AdamW, {}),
        "RMSprop": (nn.RMSprop, {})}
HYPER = {"SGD": ["momentum", "weight_decay", "l1", "nesterov"], "Adam": ["betas", "eps", "weight_decay", "l1"],
         "AdamW": ["betas", "eps", "weight_decay"], "RMSprop": ["rho", "eps", "weight_decay", "l1"]}


def _opt(kind, n=5, dtype=np.float64, **kw):
    cls, base = OPTS[kind]
    p = np.linspace(-1, 1, n).astype(dtype)
    return cls(p, lr=0.1, backend="cpu", **{**base, **kw}), p


def ref_step(kind, p, g, opt_kw, t=1):
    p, g = _f64(p), _f64(g)
    lr = 0.1
    if kind == "SGD":
        return p - lr * g  # first step: v = g
    if kind == "RMSprop":
        r = 0.01 * g * g
        return p - lr * g / (np.sqrt(r) + 1e-8)
    m, v = 0.1 * g, 0.001 * g * g
    q = p * (1 - lr * 0.01) if kind == "AdamW" else p
    return q - lr * (m / 0.1) / (np.sqrt(v / 0.001) + 1e-8)


@given(kind=st.sampled_from(sorted(OPTS)), dtype=FLOATS, data=st.data())
def test_optimizer_step_matches_reference_and_nan_stays_in_its_element(kind, dtype, data):
    opt, p = _opt(kind, dtype=dtype)
    g = data.draw(hnp.arrays(dtype, (5,), elements=st.one_of(st.just(np.nan), st.floats(-3, 3, width=32))))
    want = ref_step(kind, p.copy(), g, {})
    opt.step(g)
    assert opt.steps == 1
    assert np.array_equal(np.isnan(p), np.isnan(g))  # a NaN gradient reaches its parameter only
    np.testing.assert_allclose(_f64(p), want, equal_nan=True, rtol=1e-5, atol=1e-6)


@given(kind=st.sampled_from(sorted(OPTS)), case=st.sampled_from(["count", "dtype", "shape", "is_param", "overlap",
                                                                 "not_seq", "state", "lr_mutated", "hyper_mutated",
                                                                 "object"]), data=st.data())
def test_optimizer_failed_step_changes_nothing(kind, case, data):
    # defect 8: a step that raised still counted the step
    opt, p = _opt(kind)
    opt.step(np.full(5, 0.5))  # some state to protect
    g = np.ones(5)
    name = "grads"
    if case == "count":
        g = [g, g]
    elif case == "dtype":
        g = data.draw(wrong_dtype_arrays((5,), accept=(np.float64,)))
    elif case == "shape":
        g = np.ones(4)
    elif case == "is_param":
        g = p
    elif case == "overlap":
        base = np.ones(6)
        opt, p = None, base[:5]
        opt = OPTS[kind][0](p, lr=0.1, backend="cpu")
        g = base[1:]
    elif case == "not_seq":
        g = data.draw(st.sampled_from([3.0, None, "g"]))
    elif case == "state":
        g = next(iter(opt.state.values()))[0]
    elif case == "lr_mutated":
        opt.lr, name = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -1.0]))), "lr"
    elif case == "object":
        g = np.ones(5, object)
    else:
        attr = {"SGD": "momentum", "Adam": "beta1", "AdamW": "eps", "RMSprop": "rho"}[kind]
        setattr(opt, attr, data.draw(st.sampled_from([np.nan, -1.0, "x"] + ([] if attr == "eps" else [2.0]))))
        name = {"beta1": "betas[0]"}.get(attr, attr)
    fails_cleanly(lambda: opt.step(g), name, opt=opt, p=p)


@given(kind=st.sampled_from(sorted(OPTS)), data=st.data())
def test_optimizer_construction_bad_arguments(kind, data):
    cls = OPTS[kind][0]
    p = np.zeros(4)
    arg = data.draw(st.sampled_from(["params", "lr", "backend"] + HYPER[kind]))
    kw = {}
    params = p
    if arg == "params":
        params = data.draw(st.sampled_from([[], 3.0, [p, p], [p[:3], p[2:]], [np.zeros(3, np.int64)], [[1.0, 2.0]],
                                            [layout_variants(p)["readonly"]], "p"]))
    elif arg == "lr":
        kw["lr"] = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -1.0])))
    elif arg == "backend":
        kw["backend"] = data.draw(st.sampled_from(["gpu", None, 3]))
    elif arg == "betas":
        kw["betas"] = data.draw(st.sampled_from([(0.9,), 0.9, (0.9, 1.0), (np.nan, 0.9), "ab", (0.9, 0.99, 0.1)]))
    elif arg == "nesterov":
        kw["nesterov"] = data.draw(st.sampled_from(["yes", None, 2]))
    else:
        kw[arg] = data.draw(st.one_of(bad_scalars(), st.just(-1.0)))
    fails_cleanly(lambda: cls(params, **kw), arg, p=p)


@given(case=st.sampled_from(["overlap", "same_twice", "dtype", "readonly", "max_norm", "not_seq", "list"]),
       data=st.data())
def test_clip_grad_norm_bad_inputs_and_nan(case, data):
    g1, g2 = np.full(3, 3.0), np.full(2, 4.0)
    grads, kw, name = [g1, g2], {"max_norm": 1.0}, "grads"
    if case == "overlap":
        base = np.ones(5)
        grads = [base[:3], base[2:]]
    elif case == "same_twice":
        grads = [g1, g1]
    elif case == "dtype":
        grads = [g1, data.draw(wrong_dtype_arrays((2,), accept=(np.float32, np.float64)))]
    elif case == "readonly":
        grads = [g1, layout_variants(g2)["readonly"]]
    elif case == "max_norm":
        kw["max_norm"], name = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -1.0]))), "max_norm"
    elif case == "not_seq":
        grads = data.draw(st.sampled_from([3.0, None, "g"]))
    else:
        grads = [[3.0, 3.0]]
    fails_cleanly(lambda: nn.clip_grad_norm(grads, **kw), name, g1=g1, g2=g2)
    # NaN: reported, nothing scaled
    h = np.array([1.0, np.nan, 100.0])
    assert math.isnan(nn.clip_grad_norm([h], 1.0)) and h[2] == 100.0
    total = nn.clip_grad_norm([g1, g2], 1.0)
    assert total == pytest.approx(math.sqrt(27 + 32)) and np.linalg.norm(np.r_[g1, g2]) == pytest.approx(1.0)


@given(kind=st.sampled_from(["constant", "step", "exponential", "cosine"]),
       arg=st.sampled_from(["base_lr", "epoch", "step_size", "gamma", "tau", "total_epochs", "min_lr", "kind"]),
       data=st.data())
def test_lr_schedule_checks_every_argument_whatever_the_kind(kind, arg, data):
    kw = dict(step_size=3, gamma=0.5, tau=None, total_epochs=10, min_lr=0.0)
    args = [kind, 0.1, 4]
    if arg == "base_lr":
        args[1] = data.draw(st.one_of(bad_scalars(), st.just(-0.1)))
    elif arg == "epoch":
        args[2] = data.draw(st.one_of(bad_scalars(integer=True), st.just(-1)))
    elif arg == "kind":
        args[0] = data.draw(st.sampled_from(["linear", None, 3]))
    elif arg in ("step_size", "total_epochs"):
        bad = bad_scalars(integer=True)
        kw[arg] = data.draw(st.one_of(bad.filter(lambda v: v is not None) if arg == "total_epochs" else bad,
                                      st.just(0)))
    elif arg == "gamma":
        kw[arg] = data.draw(st.one_of(bad_scalars(), st.just(-0.5)))
    elif arg == "tau":
        kw[arg] = data.draw(st.one_of(bad_scalars().filter(lambda v: v is not None), st.just(0.0)))
    else:
        kw[arg] = data.draw(st.one_of(bad_scalars(), st.sampled_from([-0.1, 0.2])))
    raises_naming(lambda: nn.lr_schedule(*args, **kw), arg)


@given(kind=st.sampled_from(["step", "exponential"]), epoch=st.integers(0, 10**6), gamma=st.floats(0, 50))
def test_lr_schedule_is_right_or_refuses_overflow(kind, epoch, gamma):
    k = epoch // 7 if kind == "step" else epoch
    try:
        want = 0.1 * gamma**k
    except OverflowError:
        want = math.inf
    if not math.isfinite(want):
        raises_naming(lambda: nn.lr_schedule(kind, 0.1, epoch, step_size=7, gamma=gamma), "gamma", "epoch")
    else:
        assert nn.lr_schedule(kind, 0.1, epoch, step_size=7, gamma=gamma) == pytest.approx(want)


# -- MLP ---------------------------------------------------------------------------------------------


def mlp_state(m):
    """What a failed call must not change: the constructor's parameters (the same objects), the
    fitted attributes (classes_, history_...), whether there is a network and its parameters,
    running statistics and random state (the harness's Snapshot compares a numpy Generator by
    identity)."""
    net = m._net
    state = {"params": {k: id(v) for k, v in m.get_params().items()},
             "fitted": pickle.dumps({k: v for k, v in vars(m).items() if k != "_net"}), "net": net}
    if net is not None:
        state.update(flat=net.flat_params.copy(), grad=net._grad.copy(), rng=pickle.dumps(net._rng.bit_generator.state),
                     running=[(a.copy(), b.copy()) for a, b in net.running.values()],
                     arch=(tuple(net.layer_sizes), net.activation, net.output, net.dropout, net.batch_norm,
                           net.dtype, net.backend))
    return state


def assert_same_state(a, b):
    assert a["params"] == b["params"] and a["fitted"] == b["fitted"] and a["net"] is b["net"]
    if a["net"] is None:
        return
    assert np.array_equal(a["flat"], b["flat"], equal_nan=True) and np.array_equal(a["grad"], b["grad"])
    assert a["rng"] == b["rng"] and a["arch"] == b["arch"]
    for (r1, v1), (r2, v2) in zip(a["running"], b["running"]):
        assert np.array_equal(r1, r2) and np.array_equal(v1, v2)


def mlp_fails_cleanly(m, fn, *names, **objects):
    before = mlp_state(m)
    snap = Snapshot(**objects)
    exc = raises_naming(fn, *names)
    assert_same_state(before, mlp_state(m))
    snap.assert_unchanged()
    return exc


def ref_forward(m, X):
    """Plain NumPy forward pass of a model without batch norm (evaluation mode)."""
    h = _f64(X)
    for i in range(m.n_layers):
        z = h @ _f64(m.params[("W", i)]).T + _f64(m.params[("b", i)])
        h = ref_act(z, m.activation) if i < m.n_layers - 1 else z
    return h


_DATA = np.random.default_rng(0)
X0 = _DATA.standard_normal((6, 3)).astype(np.float32)
Y0 = np.array([0, 1, 2, 0, 1, 2])


@given(arg=st.sampled_from(["layer_sizes", "activation", "output", "dropout", "batch_norm", "dtype", "backend",
                            "seed"]),
       data=st.data())
def test_mlp_constructor_bad_arguments(arg, data):
    # scikit-learn's rule: the constructor stores its arguments unchanged and checks nothing;
    # fit, and every first use of the parameters, refuse them naming the argument
    kw = {}
    sizes = [3, 4, 2]
    if arg == "layer_sizes":
        sizes = data.draw(st.sampled_from([5, "34", [3], [3, 0], [3, 4.5], [3, True], [3, None, 2], [10**12, 10**6],
                                           [2**64, 2], np.ones((2, 2), int), {3: 4}, [3, -1], [None]]))
    elif arg in ("activation", "output"):
        kw[arg] = data.draw(st.sampled_from(["swish", None, 3, ""]))
    elif arg == "dropout":
        kw[arg] = data.draw(st.one_of(bad_scalars(), st.sampled_from([1.0, -0.1])))
    elif arg == "batch_norm":
        kw[arg] = data.draw(st.sampled_from(["yes", None, 2]))
    elif arg == "dtype":
        kw[arg] = data.draw(st.sampled_from(["int32", "abc", np.int64, None.__class__, "float16", 3]))
    elif arg == "backend":
        kw[arg] = data.draw(st.sampled_from(["gpu", None, 3]))
    else:
        kw[arg] = data.draw(bad_seeds())
    m = nn.MLP(sizes, **kw)
    assert m.get_params()["layer_sizes"] is sizes and all(m.get_params()[k] is v for k, v in kw.items())
    mlp_fails_cleanly(m, lambda: m.fit(X0, Y0 % 2, epochs=1), arg)
    mlp_fails_cleanly(m, lambda: m.flat_params, arg)
    mlp_fails_cleanly(m, lambda: m.loss_and_grad(X0, Y0 % 2), arg)
    m.set_params(**{arg: nn.MLP([3, 4, 2]).get_params()[arg]} if arg != "layer_sizes" else {"layer_sizes": [3, 4, 2]})
    assert m.fit(X0, Y0 % 2, epochs=1) is m  # once the argument is fixed


def _fit_case(case, data):
    """(X, y, fit keyword arguments, names one of which the error must name)."""
    X, y, kw = X0, Y0, {}
    if case == "X_nan":
        X = X0.copy()
        X[data.draw(st.integers(0, 5)), data.draw(st.integers(0, 2))] = data.draw(st.sampled_from([np.nan, np.inf]))
        return X, y, kw, ("X",)
    if case == "X_huge":  # defect 5: 1e308 became inf in the cast and the fit ended in NaN
        X = X0.astype(np.float64)
        X[1, 1] = data.draw(st.sampled_from([1e308, -1e39, 3.5e38]))
        return X, y, kw, ("X",)
    if case == "X_dtype":
        return data.draw(wrong_dtype_arrays((6, 3), accept=(np.float32, np.float64))), y, kw, ("X",)
    if case == "X_cols":
        return X0[:, :2], y, kw, ("X",)
    if case == "X_empty":  # defect 9: ZeroDivisionError
        return X0[:0], y[:0], kw, ("X",)
    if case == "y_range":
        return X, np.array([0, 1, 3, 0, 1, data.draw(st.sampled_from(INT_EXTREMES[:2]))]), kw, ("y",)
    if case == "y_float":  # whole floats are labels (1.0, 2.0), as in scikit-learn; fractions are not
        return X, Y0.astype(np.float64) + data.draw(st.sampled_from([0.5, 1e-3])), kw, ("y",)
    if case == "y_kind":
        return X, data.draw(st.sampled_from([Y0 + 0j, None, Y0.reshape(2, 3), np.array(["a", 1, None], object)
                                             .repeat(2)])), kw, ("y",)
    if case == "y_len":
        return X, Y0[:5], kw, ("y",)
    if case == "validation_data":
        kw["validation_data"] = data.draw(st.sampled_from([(X0,), X0, (X0, Y0, Y0), (X0[:, :2], Y0), (X0, Y0 + 5),
                                                           "ab"]))
        return X, y, kw, ("validation_data", "validation_data[0]", "validation_data[1]")
    if case in ("epochs", "batch_size", "early_stopping"):
        bad = bad_scalars(integer=True)
        kw[case] = data.draw(st.one_of(bad.filter(lambda v: v is not None) if case == "early_stopping" else bad,
                                       st.just(0)))
        if case == "early_stopping":
            kw["validation_data"] = (X0, Y0)
        return X, y, kw, (case,)
    if case in ("lr", "momentum", "weight_decay"):
        kw[case] = data.draw(st.one_of(bad_scalars(), st.just(-1.0)))
        kw["optimizer"] = data.draw(st.sampled_from(["sgd", "adam"]))  # momentum is checked for adam too
        return X, y, kw, (case,)
    if case in ("shuffle", "verbose", "compiled", "nesterov"):
        kw[case] = data.draw(st.sampled_from(["yes", None, 2]))
        return X, y, kw, (case,)
    kw["optimizer"] = data.draw(st.sampled_from(["lbfgs", None, "SGD"]))
    return X, y, kw, ("optimizer",)


FIT_CASES = ["X_nan", "X_huge", "X_dtype", "X_cols", "X_empty", "y_range", "y_float", "y_kind", "y_len",
             "validation_data",
             "epochs", "batch_size", "early_stopping", "lr", "momentum", "weight_decay", "shuffle", "verbose",
             "compiled", "nesterov", "optimizer"]


@given(case=st.sampled_from(FIT_CASES), batch_norm=st.booleans(), fitted=st.booleans(), data=st.data())
def test_mlp_fit_bad_inputs_leave_the_model_unchanged(case, batch_norm, fitted, data):
    m = nn.MLP([3, 4, 3], seed=0, batch_norm=batch_norm, backend="cpu", warm_start=data.draw(st.booleans()))
    if fitted:  # a fitted model keeps its parameters, classes_ and history_ too
        m.fit(X0, Y0, epochs=1, batch_size=3)
    X, y, kw, names = _fit_case(case, data)
    mlp_fails_cleanly(m, lambda: m.fit(X, y, epochs=kw.pop("epochs", 1), verbose=kw.pop("verbose", False), **kw),
                      *names, X=X, y=y)


@given(output=st.sampled_from(["sigmoid", "linear"]), case=st.sampled_from(["nan", "huge", "range", "str", "object",
                                                                            "shape", "complex"]))
def test_mlp_float_targets_checked_before_the_cast(output, case):
    m = nn.MLP([3, 2], output=output, seed=0, backend="cpu")
    m.flat_params  # initialised: score reads y
    y = np.full((6, 2), 0.5)
    if case == "nan":
        y[2, 1] = np.nan
    elif case == "huge":
        y[2, 1] = 1e308
    elif case == "range":
        y[2, 1] = 1.5 if output == "sigmoid" else np.inf
    elif case == "str":
        y = np.full((6, 2), "a")
    elif case == "object":
        y = np.full((6, 2), None)
    elif case == "complex":
        y = y.astype(complex)
    else:
        y = y[:, :1]
    mlp_fails_cleanly(m, lambda: m.fit(X0, y, epochs=1, verbose=False), "y", y=y)
    mlp_fails_cleanly(m, lambda: m.score(X0, y), "y", y=y)
    mlp_fails_cleanly(m, lambda: m.loss_and_grad(X0, y), "y", y=y)


@given(method=st.sampled_from(["predict", "predict_proba", "decision_function", "score", "loss_and_grad"]),
       case=st.sampled_from(["nan", "huge", "dtype", "cols", "ndim", "list_str", "huge_rows"]), data=st.data())
def test_mlp_inference_bad_x(method, case, data):
    m = nn.MLP([3, 4, 3], seed=1, backend="cpu")
    m.flat_params  # initialised (an unfitted model raises NotFittedError first)
    X = X0.astype(np.float64)
    if case == "nan":
        X[0, 0] = data.draw(st.sampled_from([np.nan, -np.inf]))
    elif case == "huge":
        X[0, 0] = 1e300
    elif case == "dtype":
        X = data.draw(wrong_dtype_arrays((6, 3), accept=(np.float32, np.float64)))
    elif case == "cols":
        X = X[:, :2]
    elif case == "ndim":
        X = X[0]
    elif case == "list_str":
        X = [["a", "b", "c"]] * 6
    else:  # activations of 10**12 rows cannot fit: refused before the pass
        if method in ("score", "loss_and_grad"):
            X = X[:, :2]
        else:
            m = nn.MLP([1, 10**6, 2], seed=1, backend="cpu")
            m.flat_params
            X = np.broadcast_to(np.zeros((1, 1)), (10**7, 1))
            mlp_fails_cleanly(m, lambda: getattr(m, method)(X), "X")
            return
    call = (lambda: getattr(m, method)(X, Y0)) if method in ("score", "loss_and_grad") else \
        (lambda: getattr(m, method)(X))
    mlp_fails_cleanly(m, call, "X", X=X)


@given(output=st.sampled_from(["softmax", "sigmoid", "linear"]), act=st.sampled_from(["relu", "tanh", "gelu"]),
       n=st.integers(0, 4), dtype=FLOATS, seed=st.integers(0, 3))
def test_mlp_inference_matches_numpy_forward(output, act, n, dtype, seed):
    m = nn.MLP([3, 4, 2], act, output, seed=seed, dtype=dtype, backend="cpu")
    X = np.random.default_rng(seed).standard_normal((n, 3))  # float64 data for any model dtype
    with pytest.raises(ValueError, match="not fitted yet"):  # no parameters yet: NotFittedError
        m.decision_function(X)
    m.flat_params  # the seeded initialisation
    z = m.decision_function(X)
    want = ref_forward(m, X.astype(dtype))
    if output == "softmax":  # two classes: scikit-learn's margin z1 - z0
        assert z.shape == (n,) and z.dtype == dtype
        np.testing.assert_allclose(_f64(z), want[:, 1] - want[:, 0], rtol=1e-4, atol=1e-5)
    else:
        assert z.shape == (n, 2) and z.dtype == dtype
        np.testing.assert_allclose(_f64(z), want, rtol=1e-4, atol=1e-5)
    p = m.predict_proba(X)
    if output == "softmax":
        np.testing.assert_allclose(_f64(p), special.softmax(want, axis=1), rtol=1e-4, atol=1e-6)
        assert np.array_equal(m.predict(X), want.argmax(axis=1))
    elif output == "sigmoid":
        np.testing.assert_allclose(_f64(p), special.expit(want), rtol=1e-4, atol=1e-6)
    if n == 0:
        assert math.isnan(m.score(X, np.zeros(0, int) if output == "softmax" else np.zeros((0, 2))))


@given(backend=st.sampled_from(["cpu", "parallel", "auto"]), compiled=st.booleans(), shuffle=st.booleans(),
       batch_size=st.sampled_from([1, 4, 10**9]))
def test_mlp_fit_on_edge_sizes_is_finite_and_pickles_identically(backend, compiled, shuffle, batch_size):
    # one row, batches larger than the data (10**9 rows: no 10**9-row buffer); a pickled and a
    # deep-copied model keep training exactly like the original (defect 3)
    import copy

    m = nn.MLP([3, 4, 3], seed=2, backend=backend)
    p, d = pickle.loads(pickle.dumps(m)), copy.deepcopy(m)
    for model in (m, p, d):
        model.fit(X0[:5], Y0[:5], epochs=2, batch_size=batch_size, compiled=compiled, shuffle=shuffle, verbose=False)
    assert np.isfinite(m.flat_params).all() and np.isfinite(m.history["loss"]).all()
    assert np.array_equal(p.flat_params, m.flat_params) and np.array_equal(d.flat_params, m.flat_params)
    assert np.shares_memory(p.params[("W", 0)], p.flat_params)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlp")
    m = nn.MLP([3, 4, 2], seed=0, batch_norm=True, backend="cpu")
    m.fit(X0, Y0 % 2, epochs=1, batch_size=3, verbose=False)
    path = d / "good.npz"
    m.save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if not k.startswith("__")}
    return d, m, path, arrays


EDITS = {
    "layer_sizes_float": lambda a: a.update(layer_sizes=np.array([3, 4.5, 2])),
    "layer_sizes_zero": lambda a: a.update(layer_sizes=np.array([3, 0, 2])),
    "layer_sizes_huge": lambda a: a.update(layer_sizes=np.array([3, 2**40, 2])),
    "layer_sizes_2d": lambda a: a.update(layer_sizes=np.array([[3, 4, 2]])),
    "activation": lambda a: a.update(activation=np.array("swish")),
    "activation_bytes": lambda a: a.update(activation=np.array(b"relu")),
    "output": lambda a: a.update(output=np.array(3)),
    "dropout": lambda a: a.update(dropout=np.array(1.5)),
    "dropout_nan": lambda a: a.update(dropout=np.array(np.nan)),
    "batch_norm": lambda a: a.update(batch_norm=np.array("yes")),
    "dtype": lambda a: a.update(dtype=np.array("int32")),
    "flat_dtype": lambda a: a.update(flat=a["flat"].astype(np.float64)),
    "flat_nan": lambda a: a.update(flat=np.where(np.arange(a["flat"].size) == 3, np.nan, a["flat"]).astype(np.float32)),
    "flat_short": lambda a: a.update(flat=a["flat"][:-1]),
    "running_var_neg": lambda a: a.update(running_var_0=-np.abs(a["running_var_0"])),
    "running_mean_inf": lambda a: a.update(running_mean_0=np.full_like(a["running_mean_0"], np.inf)),
    "running_missing": lambda a: a.pop("running_var_0"),
    "extra": lambda a: a.update(extra=np.zeros(2)),
    "missing_flat": lambda a: a.pop("flat"),
    "classes_unsorted": lambda a: a.update(classes=a["classes"][::-1].copy()),
    "classes_short": lambda a: a.update(classes=a["classes"][:1]),
    "classes_2d": lambda a: a.update(classes=a["classes"][None]),
    "classes_complex": lambda a: a.update(classes=a["classes"] + 0j),
    "target_1d_softmax": lambda a: a.update(target_1d=np.array(True)),
}


@given(edit=st.sampled_from(sorted(EDITS)))
def test_mlp_load_refuses_structurally_bad_files(saved, edit):
    # defect 6: wrong dtypes were cast, layer_sizes of 4.5 and negative variances accepted
    d, _, _, arrays = saved
    a = {k: v.copy() for k, v in arrays.items()}
    EDITS[edit](a)
    path = d / f"bad_{edit}.npz"
    save_npz(path, "fastkernels.MLP", 1, a)  # a valid container with a fresh checksum
    raises_naming(lambda: nn.MLP.load(path), os.fspath(path), errors=(ValueError,))


@given(seed=st.integers(0, 2**16), which=st.integers(0, 6))
def test_mlp_load_refuses_damaged_and_foreign_files(saved, seed, which):
    d, m, good, arrays = saved
    data = corrupt_bytes(good.read_bytes(), seed)[which]
    path = d / f"damaged_{seed}_{which}.npz"
    path.write_bytes(data)
    try:
        back = nn.MLP.load(path, backend="cpu")
    except ValueError as exc:
        assert str(exc).startswith(os.fspath(path)), exc  # one clear error, naming the file
    except Exception as exc:  # noqa: BLE001 - anything else is not the contract's one clear error
        raise AssertionError(f"{type(exc).__name__} from a damaged file: {exc}") from exc
    else:  # a flipped byte outside every member's data (zip metadata): the same model, not garbage
        assert np.array_equal(back.flat_params, m.flat_params) and back.running.keys() == m.running.keys()
        for i in m.running:
            assert all(np.array_equal(a, b) for a, b in zip(back.running[i], m.running[i]))
    old = d / "old_format.npz"  # the unreleased pre-_io layout: refused with a clear error
    np.savez(old, **arrays)
    raises_naming(lambda: nn.MLP.load(old), os.fspath(old), errors=(ValueError,))
    back = nn.MLP.load(good, backend="cpu")
    assert np.array_equal(back.flat_params, m.flat_params)
    assert np.array_equal(back.predict_proba(X0), m.predict_proba(X0))


@given(case=st.sampled_from(["path_type", "nan_params", "backend"]))
def test_mlp_save_and_load_bad_arguments(saved, case):
    d, m, good, _ = saved
    if case == "path_type":
        for bad in (3, None, ["a"]):
            mlp_fails_cleanly(m, lambda: m.save(bad), "path")
            raises_naming(lambda: nn.MLP.load(bad), "path")
    elif case == "backend":
        raises_naming(lambda: nn.MLP.load(good, backend="gpu"), "backend")
    else:
        k = nn.MLP([3, 2], seed=0, backend="cpu")
        k.flat_params[1] = np.nan
        target = d / "never_written.npz"
        mlp_fails_cleanly(k, lambda: k.save(target), "flat_params")
        assert not target.exists()


# -- MLP as a scikit-learn estimator (issue 18) ------------------------------------------------------

ANY_VALUE = st.sampled_from([-1, 3.0, "helloworld", np.array([1.0, 4.0]), [1], {}, [], None, np.inf, object()])


@given(data=st.data())
def test_mlp_get_and_set_params_store_any_value_unchanged(data):
    # scikit-learn's protocol (sklearn.base.clone relies on it): the constructor and set_params
    # store the objects as given and check nothing; get_params returns those same objects
    names = list(nn.MLP([3, 2]).get_params())
    assert names[0] == "layer_sizes" and {"epochs", "lr", "optimizer", "warm_start", "seed"} <= set(names)
    kw = {k: data.draw(ANY_VALUE) for k in data.draw(st.lists(st.sampled_from(names[1:]), unique=True))}
    sizes = data.draw(ANY_VALUE)
    m = nn.MLP(sizes, **kw)
    got = m.get_params()
    assert list(got) == names and got["layer_sizes"] is sizes and all(got[k] is v for k, v in kw.items())
    assert m.get_params(deep=False).keys() == got.keys()
    new = {k: data.draw(ANY_VALUE) for k in data.draw(st.lists(st.sampled_from(names), unique=True))}
    assert m.set_params(**new) is m
    assert all(m.get_params()[k] is v for k, v in new.items())
    assert repr(m).startswith("MLP(")  # whatever is stored


@given(bad=st.sampled_from(["bogus", "layer_size", "lr__x", "seed__state", "X"]), fitted=st.booleans())
def test_mlp_set_params_unknown_name_changes_nothing(bad, fitted):
    m = nn.MLP([3, 4, 3], seed=0, backend="cpu")
    if fitted:
        m.fit(X0, Y0, epochs=1)
    mlp_fails_cleanly(m, lambda: m.set_params(lr=0.5, **{bad: 1}), bad)
    assert m.lr == 0.01


@given(method=st.sampled_from(["predict", "predict_proba", "decision_function", "score", "coefs_", "intercepts_"]),
       sizes=st.sampled_from([[3, 4, 3], [None, 4, None]]))
def test_mlp_unfitted_raises_not_fitted(method, sizes):
    # scikit-learn's NotFittedError: a ValueError and an AttributeError (hasattr(m, "coefs_") is False)
    m = nn.MLP(sizes, seed=0, backend="cpu")
    call = {"score": lambda: m.score(X0, Y0), "coefs_": lambda: m.coefs_,
            "intercepts_": lambda: m.intercepts_}.get(method, lambda: getattr(m, method)(X0))
    exc = mlp_fails_cleanly(m, call, "fit")
    assert isinstance(exc, AttributeError) and not hasattr(m, "classes_") and not hasattr(m, "coefs_")
    if None in sizes:  # nothing to initialise from: the sizes come from the data
        for first_use in (lambda: m.flat_params, lambda: m.loss_and_grad(X0, Y0), lambda: m.save("never.npz")):
            mlp_fails_cleanly(m, first_use, "layer_sizes")


def test_mlp_fit_returns_self_and_keywords_override_for_one_call():
    m = nn.MLP([3, 4, 3], seed=0, epochs=3, backend="cpu")
    before = m.get_params()
    assert m.fit(X0, Y0, epochs=1, lr=0.1, optimizer="adam") is m
    assert m.n_iter_ == 1 == len(m.history_["loss"]) and m.loss_curve_ == m.history_["loss"]
    assert m.best_loss_ == min(m.loss_curve_) and m.n_features_in_ == 3
    assert all(m.get_params()[k] is v for k, v in before.items())  # the constructor's values stay
    first = m.flat_params.copy()
    m.fit(X0, Y0, epochs=1, lr=0.1, optimizer="adam")  # warm_start=False: the same fresh start
    np.testing.assert_array_equal(m.flat_params, first)
    assert m.fit(X0, Y0).n_iter_ == 3
    for i, (W, b) in enumerate(zip(m.coefs_, m.intercepts_)):  # scikit-learn's (in, out) layout, views
        assert W.shape == (m.layer_sizes[i], m.layer_sizes[i + 1]) and np.shares_memory(W, m.flat_params)
        np.testing.assert_array_equal(W, m.params[("W", i)].T)
        np.testing.assert_array_equal(b, m.params[("b", i)])


@given(kind=st.sampled_from(["str", "object_str", "int_offset", "negative_float", "bool", "ids"]),
       given_out=st.booleans(), data=st.data())
def test_mlp_arbitrary_labels_and_score_is_accuracy(kind, given_out, data):
    labels = {"str": np.array(["b", "c", "a"]), "object_str": np.array(["x", "y", "z"], object),
              "int_offset": np.array([1, 2, 3]), "negative_float": np.array([-1.0, 0.0, 2.0]),
              "bool": np.array([True, False, True]), "ids": np.array([0, 1, 2], np.int32)}[kind]
    y = labels[Y0]
    classes = np.unique(y)
    m = nn.MLP([3, 4, len(classes) if given_out else None], seed=0, backend="cpu")
    m.fit(X0, y, epochs=2, batch_size=3, validation_data=(X0, y))
    np.testing.assert_array_equal(m.classes_, classes)
    pred = m.predict(X0)
    assert pred.shape == (6,) and set(pred.tolist()) <= set(classes.tolist())
    z = m.decision_function(X0)
    np.testing.assert_array_equal(classes[(z > 0).astype(int) if z.ndim == 1 else z.argmax(axis=1)], pred)
    assert m.predict_proba(X0).shape == (6, len(classes))
    other = np.array(y.tolist(), dtype=object)
    other[data.draw(st.integers(0, 5))] = data.draw(st.sampled_from(["unseen", 99]))  # counted as wrong
    want = np.mean([p == t for p, t in zip(pred.tolist(), other.tolist())])
    assert m.score(X0, other) == pytest.approx(want)
    mlp_fails_cleanly(m, lambda: m.loss_and_grad(X0, other), "y")  # training targets: unseen labels refused


def test_mlp_warm_start_keeps_training_and_refuses_a_changed_model():
    m = nn.MLP([3, 4, None], seed=0, warm_start=True, backend="cpu").fit(X0, Y0, epochs=1)
    w = m.flat_params.copy()
    m.fit(X0, Y0, epochs=1)
    assert m.n_iter_ == 2 and not np.array_equal(w, m.flat_params)
    mlp_fails_cleanly(m, lambda: m.fit(X0, Y0 + 1, epochs=1), "y")  # label 3 is not a class of the network
    mlp_fails_cleanly(m, lambda: m.fit(X0[:, :2], Y0, epochs=1), "X")
    m.set_params(activation="tanh")
    mlp_fails_cleanly(m, lambda: m.fit(X0, Y0, epochs=1), "activation")
    m.set_params(warm_start=False)
    assert m.fit(X0, Y0 + 1, epochs=1).classes_.tolist() == [1, 2, 3] and m.n_iter_ == 1


@given(output=st.sampled_from(["sigmoid", "linear"]), one_d=st.booleans())
def test_mlp_one_d_targets_give_one_d_outputs(output, one_d):
    y = (X0[:, 0] > 0).astype(np.float64) if output == "sigmoid" else X0[:, 0].astype(np.float64)
    m = nn.MLP([None, 4, None], output=output, seed=0, backend="cpu").fit(X0, y if one_d else y[:, None], epochs=2)
    shape = (6,) if one_d else (6, 1)
    assert m.predict(X0).shape == shape and m.decision_function(X0).shape == shape
    if output == "sigmoid":
        p = m.predict_proba(X0)
        assert p.shape == ((6, 2) if one_d else (6, 1))
        if one_d:
            np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
        assert m.classes_.tolist() == ([0, 1] if one_d else [0])
    else:
        assert not hasattr(m, "classes_")
