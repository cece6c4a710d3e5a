import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import fastkernels as fk
from fastkernels.nn import log_softmax, logsumexp, softmax
from fastkernels.nn._reference import ref_softmax_family

BACKENDS = ["cpu", "parallel"]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-15)}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 2), (7, 33), (3, 1000), (2, 3, 17), (5,)])
def test_family_matches_scipy(backend, dtype, shape, rng):
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    p, lp, lse = ref_softmax_family(x)
    for got, want in ((softmax(x, backend=backend), p), (log_softmax(x, backend=backend), lp), (logsumexp(x, backend=backend), lse)):
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_do_not_overflow(backend, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1, -1e4], [3e4, 3e4, 3e4]], dtype)
    p, lp, lse = ref_softmax_family(x)
    np.testing.assert_allclose(softmax(x, backend=backend), p, **TOL[dtype])
    np.testing.assert_allclose(log_softmax(x, backend=backend), lp, rtol=1e-6)
    np.testing.assert_allclose(logsumexp(x, backend=backend), lse, rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_masked_minus_inf_entries_get_zero_probability(backend):
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
    p = softmax(x, backend=backend)
    assert p[0, 1] == 0.0 and p[1, 0] == 0.0 and p[1, 1] == 1.0
    assert log_softmax(x, backend=backend)[0, 1] == -np.inf
    np.testing.assert_allclose(logsumexp(x, backend=backend), special.logsumexp(x, axis=-1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_finite_rows_follow_scipy_and_torch(backend):
    x = np.array([[np.inf, 0.0], [-np.inf, -np.inf], [np.nan, 1.0], [1.0, np.nan], [1.0, 2.0]])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(logsumexp(x, backend=backend), special.logsumexp(x, axis=-1))
    p = softmax(x, backend=backend)
    assert np.isnan(p[:4]).all() and np.isfinite(p[4]).all()
    assert np.isnan(log_softmax(x, backend=backend)[:4]).all()


def test_empty_inputs():
    assert softmax(np.zeros((0, 4))).shape == (0, 4)
    assert softmax(np.zeros((3, 0))).shape == (3, 0)
    np.testing.assert_array_equal(logsumexp(np.zeros((3, 0))), [-np.inf] * 3)
    assert logsumexp(np.zeros((0, 3), np.float32)).shape == (0,)


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_is_written_in_place_and_returned(backend, rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    out = np.full_like(x, 7.0)
    assert softmax(x, out=out, backend=backend) is out
    np.testing.assert_allclose(out, ref_softmax_family(x)[0], rtol=1e-6)
    o2 = np.empty(4, np.float32)
    assert logsumexp(x, out=o2, backend=backend) is o2


def test_serial_and_parallel_agree_exactly(rng):
    x = rng.standard_normal((64, 257)).astype(np.float32)
    with fk.num_threads(fk.get_num_threads()):
        assert np.array_equal(softmax(x, backend="cpu"), softmax(x, backend="parallel"))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=20),
                  elements=st.floats(-50, 50)), st.floats(-1e3, 1e3))
def test_properties_rows_sum_to_one_and_shift_invariance(x, c):
    p = softmax(x, backend="cpu")
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax(x + c, backend="cpu"), p, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(logsumexp(x + c) - c, logsumexp(x), rtol=1e-9, atol=1e-9)


@pytest.mark.bad_input
class TestBadInput:
    def test_integer_logits_are_rejected(self):
        with pytest.raises(TypeError, match="x must have dtype float32 or float64, got int64"):
            softmax(np.array([[1, 2]]))

    def test_scalar_is_rejected(self):
        with pytest.raises(ValueError, match="at least one dimension"):
            log_softmax(np.float64(1.0))

    def test_out_of_wrong_dtype_shape_or_layout_is_rejected_and_left_unchanged(self):
        x = np.zeros((2, 3), np.float32)
        for out, exc in ((np.zeros((2, 3)), TypeError), (np.zeros((3, 2), np.float32), ValueError),
                         (np.zeros((3, 2), np.float32).T, ValueError)):
            before = out.copy()
            with pytest.raises(exc, match="out must"):
                softmax(x, out=out)
            assert np.array_equal(out, before)
        with pytest.raises(ValueError, match=r"out must have shape \(2,\)"):
            logsumexp(x, out=np.zeros(3, np.float32))

    def test_unknown_backend(self):
        with pytest.raises(ValueError, match="backend must be one of"):
            softmax(np.zeros((1, 2)), backend="gpu")


# -- issue 13 (reliability) regressions ------------------------------------------------------------


@pytest.mark.bad_input
@pytest.mark.parametrize("fn", [softmax, log_softmax, logsumexp])
def test_out_overlapping_x_shifted_by_one_is_refused(fn, rng):
    # issue 13 defect 2: accepted, and the rows read values already overwritten
    x = rng.standard_normal((3, 4))
    base = np.empty(x.size + 1)
    base[:x.size] = x.ravel()
    xin = base[:x.size].reshape(3, 4)
    out = base[1:].reshape(3, 4) if fn is not logsumexp else base[x.size - 2:x.size + 1]
    keep = base.copy()
    with pytest.raises(ValueError, match="out overlaps the memory of x"):
        fn(xin, out=out)
    np.testing.assert_array_equal(base, keep)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_out_may_be_x_itself(fn, backend, rng):
    x = rng.standard_normal((3, 5)) * 4
    want = fn(x, backend=backend)
    assert fn(x, out=x, backend=backend) is x
    np.testing.assert_array_equal(x, want)
