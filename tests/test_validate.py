"""Each shared check of what a call reads (fastkernels._validate) fed good and bad input (also run
with NUMBA_BOUNDSCHECK=1 in CI)."""

import numpy as np
import pytest

from fastkernels import _validate as V

pytestmark = pytest.mark.bad_input


def test_as_array_passes_conforming_arrays_through_without_copy():
    x = np.zeros((3, 4), np.float32)
    assert V.as_array(x, "x", ndim=2) is x


def test_as_array_converts_lists_and_makes_strided_views_contiguous():
    a = V.as_array([[1.0, 2.0]], "x")
    assert a.dtype == np.float64 and a.flags.c_contiguous
    x = np.zeros((4, 6))[:, ::2]
    y = V.as_array(x, "x")
    assert y.flags.c_contiguous and y is not x


def test_as_array_casts_python_floats_to_the_only_accepted_dtype():
    assert V.as_array([1.0], "x", dtypes=[np.float32]).dtype == np.float32


@pytest.mark.parametrize("bad", [np.zeros(3, np.int64), np.zeros(3, bool), np.zeros(3, np.complex64), np.array(["a"])])
def test_as_array_rejects_wrong_dtype_naming_argument_and_dtype(bad):
    with pytest.raises(TypeError, match=rf"logits must have dtype float32 or float64, got {bad.dtype.name}"):
        V.as_array(bad, "logits")


def test_as_array_rejects_wrong_ndim_and_shape():
    with pytest.raises(ValueError, match=r"x must be 2-dimensional, got shape \(3,\)"):
        V.as_array(np.zeros(3), "x", ndim=2)
    with pytest.raises(ValueError, match=r"w must have shape \(\*, 5\), got \(3, 4\)"):
        V.as_array(np.zeros((3, 4)), "w", shape=(None, 5))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_as_array_finite_check_names_first_bad_position(value):
    x = np.zeros((2, 3))
    x[1, 2] = value
    with pytest.raises(ValueError, match=r"x must be finite, but 1 entries are not \(first at index \(1, 2\)"):
        V.as_array(x, "x", finite=True)


def test_as_index_array_accepts_int32_int64_and_lists():
    assert V.as_index_array(np.array([0, 2], np.int32), "y", n=3).dtype == np.int32
    assert V.as_index_array([0, 2], "y", n=3).dtype == np.int64
    assert V.as_index_array([], "y", n=3).size == 0


@pytest.mark.parametrize("bad,where", [([0, 3], "found 3 at flat position 1"), ([-1, 0], "found -1 at flat position 0")])
def test_as_index_array_rejects_out_of_range(bad, where):
    with pytest.raises(ValueError, match=rf"labels must lie in \[0, 3\); {where}"):
        V.as_index_array(bad, "labels", n=3)


def test_as_index_array_allows_one_sentinel():
    V.as_index_array([0, -100, 2], "y", n=3, allow=-100)
    with pytest.raises(ValueError, match="or equal -100"):
        V.as_index_array([0, -99], "y", n=3, allow=-100)


def test_as_index_array_rejects_float_ids():
    with pytest.raises(TypeError, match="ids must have dtype int32 or int64, got float64"):
        V.as_index_array(np.array([0.0, 1.0]), "ids", n=3)


def test_check_scalar_bounds_and_types():
    assert V.check_scalar(3, "k", integer=True, lo=1) == 3
    assert V.check_positive(0.1, "dt") == 0.1
    assert V.check_scalar(np.float32(2.0), "x") == 2.0
    with pytest.raises(ValueError, match=r"dt must be > 0, got 0.0"):
        V.check_positive(0.0, "dt")
    with pytest.raises(ValueError, match=r"tau must be > 0, got -1.0"):
        V.check_positive(-1, "tau")
    with pytest.raises(ValueError, match="p must be <= 1, got 1.5"):
        V.check_scalar(1.5, "p", lo=0, hi=1)
    with pytest.raises(ValueError, match="x must not be NaN"):
        V.check_scalar(float("nan"), "x")
    with pytest.raises(ValueError, match="x must be finite"):
        V.check_scalar(float("inf"), "x")
    with pytest.raises(TypeError, match="window must be an integer, got float"):
        V.check_scalar(2.0, "window", integer=True)
    with pytest.raises(TypeError, match="got bool"):
        V.check_scalar(True, "window", integer=True)
    with pytest.raises(TypeError, match="real number"):
        V.check_scalar("1", "lr")


def test_check_choice_and_same_dtype():
    assert V.check_choice("mean", "reduction", ("mean", "sum")) == "mean"
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum'\), got 'avg'"):
        V.check_choice("avg", "reduction", ("mean", "sum"))
    x = np.zeros(2, np.float32)
    V.check_same_dtype(x, weight=np.zeros(2, np.float32), other=None)
    with pytest.raises(TypeError, match=r"weight must have the same dtype as the data \(float32\), got float64"):
        V.check_same_dtype(x, weight=np.zeros(2))


class _ForeignDeviceArray:
    """Stands in for a CuPy array or PyTorch CUDA tensor: ``__cuda_array_interface__`` and a
    ``dtype`` that is not a NumPy dtype (``np.dtype(torch.float32)`` raises)."""

    def __init__(self, shape, typestr):
        self.shape, self.ndim, self.dtype = shape, len(shape), object()
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (0, False), "version": 3,
                                         "strides": None}


def test_foreign_device_arrays_are_read_through_the_interface(monkeypatch):
    from numba import cuda

    from fastkernels._validate import numba_view, array_dtype

    x = _ForeignDeviceArray((2, 3), "<f4")
    assert array_dtype(x) == np.float32 and array_dtype(np.zeros(2)) == np.float64
    seen = []
    monkeypatch.setattr(cuda, "as_cuda_array", lambda a: seen.append(a) or "numba view", raising=False)
    assert numba_view(x) == "numba view" and seen == [x]  # zero-copy numba view at the API boundary
    host = np.zeros(3)
    assert numba_view(host) is host


# -- issue 13: float lists as ids, casts that overflow, sizes, dtypes ---------------------------


def test_float_lists_are_not_truncated_to_ids():
    # np.asarray([0.9, 1.7]) is float64; it used to be cast to int32 (0, 1) silently
    with pytest.raises(TypeError, match="ids must have dtype int32 or int64, got float64"):
        V.as_index_array([0.9, 1.7], "ids", n=4)
    with pytest.raises(TypeError, match="ids"):
        V.as_array([0.0, 1.0], "ids", dtypes=V.INDEX_DTYPES)


def test_list_values_beyond_float32_are_refused_not_made_inf():
    with pytest.raises(ValueError, match=r"x holds 1e\+308, beyond the float32 range"):
        V.as_array([0.0, 1e308], "x", dtypes=[np.float32])
    assert V.as_array([3e38], "x", dtypes=[np.float32])[0] == np.float32(3e38)


def test_cast_float_refuses_overflow_and_passes_same_dtype_through():
    x = np.array([1.0, -1e300])
    with pytest.raises(ValueError, match="X holds -1e\\+300"):
        V.cast_float(x, "X", np.float32)
    y = np.ones(3, np.float32)
    assert V.cast_float(y, "X", np.float32) is y
    np.testing.assert_array_equal(V.cast_float(np.array([np.nan, np.inf]), "X", np.float32), [np.nan, np.inf])


def test_check_allocation_names_the_argument_and_the_limit():
    assert V.check_allocation(10, 8, "n") == 80
    with pytest.raises(ValueError, match=r"n \* steps asks for 1e\+13 elements .* more than this machine's memory"):
        V.check_allocation(1e13, 8, "n * steps")
    for bad in (float("inf"), float("nan"), 2.0**70):
        with pytest.raises(ValueError, match="rate"):
            V.check_allocation(bad, 8, "rate")


@pytest.mark.parametrize("bad, err", [(None, TypeError), ("foo", TypeError), (True, TypeError), ([1], TypeError),
                                      (np.int32, ValueError), ("float16", ValueError)])
def test_check_dtype(bad, err):
    assert V.check_dtype("float32") == np.float32 and V.check_dtype(np.float64) == np.float64
    with pytest.raises(err, match="dtype must be one of float32 or float64"):
        V.check_dtype(bad)


def test_progress_takes_auto_or_a_flag():
    from fastkernels._progress import check_progress

    assert check_progress("auto") == "auto"
    assert check_progress(np.True_) is True and check_progress(0) is False and check_progress(True) is True
    for bad in ("yes", 2, None, np.array([1, 2]), 1.0):
        with pytest.raises(ValueError, match="progress must be 'auto', True or False"):
            check_progress(bad)
