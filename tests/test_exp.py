"""Accuracy, special values and vectorisation of fastkernels._exp."""

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numba import njit
from numba.np.numpy_support import from_dtype

try:
    from fastkernels import _exp
except ModuleNotFoundError:  # plain `pytest` in a checkout, not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from fastkernels import _exp

from fastkernels._exp import exp_f32, exp_f64, exp_poly

ULP_BOUND = 1.5          # documented bound; measured max is ~1.01 ulp
SAFE_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
LD_IS_EXTENDED = np.finfo(np.longdouble).nmant >= 63   # x87 80-bit
DTYPES = [np.float32, np.float64]
DOMAIN = {np.float32: (-104.0, 89.0), np.float64: (-746.0, 710.0)}
# largest x with finite exp(x), smallest x with exp(x) > 0 (correctly rounded)
THRESHOLDS = {np.float32: (88.72283, -103.97208),
              np.float64: (709.782712893384, -745.1332191019411)}


@njit
def _map_f32(x, out):
    for i in range(x.size):
        out[i] = exp_f32(x[i])


@njit
def _map_f64(x, out):
    for i in range(x.size):
        out[i] = exp_f64(x[i])


@njit
def _map_poly(x, out):
    for i in range(x.size):
        out[i] = exp_poly(x[i])


@njit(fastmath=SAFE_FASTMATH)
def _map_poly_fastmath(x, out):
    for i in range(x.size):
        out[i] = exp_poly(x[i])


KERNELS = {np.float32: _map_f32, np.float64: _map_f64}


def _apply(kernel, x):
    out = np.empty_like(x)
    kernel(x, out)
    return out


def _bound(dtype):
    # Without an x87 long double the float64 reference is libm's exp, which
    # is itself off by up to ~0.5 ulp.
    exact_ref = dtype == np.float32 or LD_IS_EXTENDED
    return ULP_BOUND if exact_ref else ULP_BOUND + 1


def _ulps(y, x):
    """Error of y = exp(x) in ulps of the correctly rounded result; also
    returns that rounded result (for the inf checks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in cast
        if x.dtype == np.float32:
            ref = np.exp(x.astype(np.float64))           # 29 extra bits
        elif LD_IS_EXTENDED:
            ref = np.exp(x.astype(np.longdouble))        # 11 extra bits
        else:
            ref = np.exp(x)
        rounded = ref.astype(x.dtype)
    fin = np.isfinite(rounded)
    err = np.abs(y[fin].astype(ref.dtype) - ref[fin])
    ulps = err / np.spacing(rounded[fin]).astype(ref.dtype)
    return ulps.astype(float), rounded


def _sweep(dtype):
    """Dense linspace over the whole domain, plus tiny |x| and the range
    with subnormal results."""
    lo, hi = DOMAIN[dtype]
    rng = np.random.default_rng(0)
    dense = np.linspace(lo, hi, 2_000_001)
    tiny = np.logspace(-40, 0, 20_000) * rng.choice([-1, 1], 20_000)
    subnormal = np.linspace(lo, lo + 20, 200_001)
    return np.concatenate([dense, tiny, subnormal]).astype(dtype)


def _specials(dtype):
    """x and the exact expected exp(x)."""
    f = np.finfo(dtype)
    last_finite, first_nonzero = (dtype(t) for t in THRESHOLDS[dtype])
    pairs = [(0.0, 1.0), (-0.0, 1.0), (np.inf, np.inf), (-np.inf, 0.0),
             (np.nan, np.nan), (f.max, np.inf), (f.min, 0.0),
             (np.nextafter(last_finite, dtype(np.inf)), np.inf),
             (np.nextafter(first_nonzero, dtype(-np.inf)), 0.0),
             (first_nonzero, f.smallest_subnormal)]
    pairs += [(s * t, 1.0) for t in (f.smallest_subnormal, f.tiny, 1e-30)
              for s in (1, -1)]
    x, expected = np.array(pairs, dtype=dtype).T
    return np.ascontiguousarray(x), expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_ulp_error_whole_domain(dtype):
    x = _sweep(dtype)
    y = _apply(KERNELS[dtype], x)
    assert y.dtype == dtype
    ulps, rounded = _ulps(y, x)
    worst = x[np.isfinite(rounded)][ulps.argmax()]
    assert ulps.max() <= _bound(dtype), (ulps.max(), worst)
    # overflow exactly where the correctly rounded result overflows
    np.testing.assert_array_equal(np.isinf(y), np.isinf(rounded))


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values(dtype):
    x, expected = _specials(dtype)
    y = _apply(KERNELS[dtype], x)
    # exp(+-0) == 1 and exp(tiny) == 1 exactly; exp(-inf) == +0;
    # exp(inf) == inf; nan -> nan; both sides of both thresholds.
    np.testing.assert_array_equal(y, expected)
    assert not np.signbit(y).any()
    last_finite = dtype(THRESHOLDS[dtype][0])
    assert np.isfinite(_apply(KERNELS[dtype], np.array([last_finite]))).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_poly_dispatch(dtype):
    x = _sweep(dtype)[::97]
    np.testing.assert_array_equal(_apply(_map_poly, x),
                                  _apply(KERNELS[dtype], x))

    @njit
    def scalar(v):
        return exp_poly(v)

    scalar(dtype(1.0))
    # float32 in -> float32 arithmetic and result (no float64 promotion)
    ret = scalar.nopython_signatures[-1].return_type
    assert ret == from_dtype(np.dtype(dtype))
    assert scalar(3) == pytest.approx(np.exp(3.0), rel=1e-15)   # int -> f64
    assert exp_poly(dtype(1.0)) == np.exp(dtype(1.0))           # from Python


@pytest.mark.parametrize("dtype", DTYPES)
def test_caller_fastmath_keeps_semantics(dtype):
    """Inlined into a caller compiled with the reassoc/contract/afn flag
    set, accuracy, overflow/underflow and special values must survive."""
    x = _sweep(dtype)[::8]
    y = _apply(_map_poly_fastmath, x)
    ulps, rounded = _ulps(y, x)
    assert ulps.max() <= _bound(dtype)
    np.testing.assert_array_equal(np.isinf(y), np.isinf(rounded))
    xs, expected = _specials(dtype)
    np.testing.assert_array_equal(_apply(_map_poly_fastmath, xs), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_loop_vectorises(dtype):
    x = np.linspace(-5, 5, 64).astype(dtype)
    _apply(_map_poly, x)
    sig = next(s for s in _map_poly.signatures
               if s[0].dtype == from_dtype(np.dtype(dtype)))
    llvm_ir = _map_poly.inspect_llvm(sig)
    sfx, llty = ("f32", "float") if dtype == np.float32 else ("f64", "double")
    # The polynomial (fmuladd), the rounding (rint) and the 2**k bit casts
    # must all be in vector form: the exp itself is vectorised, not just the
    # loads and stores around a scalar call.
    assert re.search(rf"llvm\.fmuladd\.v\d+{sfx}", llvm_ir), "poly is scalar"
    assert re.search(rf"llvm\.rint\.v\d+{sfx}", llvm_ir), "rint is scalar"
    assert re.search(rf"bitcast <\d+ x i\d+> %\S+ to <\d+ x {llty}>", llvm_ir)
    assert not re.search(r"call [^\n]*@(exp|expf)\(", llvm_ir)   # no libm


def _poly_rel_error(coeffs):
    a = np.log(2.0) / 2
    r = np.linspace(-a, a, 100_001).astype(np.longdouble)
    q = np.zeros_like(r)
    for c in coeffs[::-1]:
        q = q * r + np.longdouble(c)
    return np.max(np.abs((1 + r + r * r * q) / np.exp(r) - 1))


@pytest.mark.skipif(not LD_IS_EXTENDED, reason="needs an 80-bit long double")
def test_coefficients():
    """The stored polynomials are accurate to < 0.1 ulp on |r| <= ln2/2, and
    the fitter reproduces the float32 set."""
    q32 = [_exp._Q0_F32, _exp._Q1_F32, _exp._Q2_F32, _exp._Q3_F32,
           _exp._Q4_F32]
    assert _poly_rel_error(q32) < 0.1 * 2.0**-24
    assert _poly_rel_error(list(_exp._Q_F64)) < 0.1 * 2.0**-53
    np.testing.assert_allclose(_exp._fit_exp_poly(4, np.float32), q32,
                               rtol=1e-6)
