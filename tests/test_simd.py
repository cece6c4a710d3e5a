"""fastkernels._simd: the LLVM-level helpers kernels use to vectorise."""

import numpy as np
import pytest

from fastkernels._jit import jit
from fastkernels._simd import (bitcast_f32_to_i32, bitcast_f64_to_i64, bitcast_i32_to_f32, bitcast_i64_to_f64, fmuladd,
                               inline_hint, nonzero_bits64, prefer_wide_vectors, trailing_zeros)


@jit
def _round_trip64(x):
    return bitcast_i64_to_f64(bitcast_f64_to_i64(x)), bitcast_f64_to_i64(x)


@jit
def _round_trip32(x):
    return bitcast_i32_to_f32(bitcast_f32_to_i32(x)), bitcast_f32_to_i32(x)


@pytest.mark.parametrize("x", [0.0, -0.0, 1.5, -3.25e-300, np.inf, 5e-324])
def test_bitcasts_reinterpret_bits(x):
    back, bits = _round_trip64(x)
    assert np.float64(back).tobytes() == np.float64(x).tobytes()
    assert bits == np.array(x).view(np.int64)
    back32, bits32 = _round_trip32(np.float32(x))
    assert np.float32(back32).tobytes() == np.float32(x).tobytes()
    assert bits32 == np.array(np.float32(x)).view(np.int32)


@jit
def _fma(a, b, c):
    prefer_wide_vectors()
    inline_hint()
    return fmuladd(a, b, c)


def test_fmuladd_and_the_hints():
    assert _fma(2.0, 3.0, 1.0) == 7.0
    assert _fma(np.float32(1.5), np.float32(2.0), np.float32(0.25)) == np.float32(3.25)


@jit
def _tz(x):
    return trailing_zeros(x)


@pytest.mark.parametrize("k", [0, 1, 17, 63])
def test_trailing_zeros(k):
    assert _tz(np.uint64(1) << np.uint64(k)) == k
    assert _tz((np.uint64(1) << np.uint64(k)) | (np.uint64(1) << np.uint64(63))) == k


@jit
def _bits(a, start):
    return nonzero_bits64(a, start)


def test_nonzero_bits64_matches_a_loop():
    import sys

    if sys.byteorder != "little":
        pytest.skip("the raster uses a loop on big-endian machines")
    rng = np.random.default_rng(7)
    for dtype, start in ((np.int64, 0), (np.int64, 64), (np.int64, 3), (np.int32, 0), (np.int32, 5), (np.uint8, 0),
                         (np.uint8, 7)):
        for _ in range(50):
            a = np.zeros(140, dtype)
            a[rng.choice(140, rng.integers(0, 140), replace=False)] = rng.integers(1, 5)
            a[rng.integers(0, 140)] = 255 if dtype == np.uint8 else -7  # any non-zero value counts
            want = sum(1 << j for j in range(64) if a[start + j] != 0)
            assert int(_bits(a, start)) == want
