import numpy as np
import pytest
from numba import njit, prange
from scipy import stats

import fastkernels as fk
from fastkernels import _random as R

MASK = (1 << 64) - 1


def ref_mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def ref_uniform(key, stream, counter):
    """Pure-Python SplitMix64 reference of R.stream_key + R.uniform."""
    skey = ref_mix64((key & MASK) ^ ref_mix64(stream))
    bits = ref_mix64((skey + (counter + 1) * 0x9E3779B97F4A7C15) & MASK)
    return (bits >> 11) * 2.0**-53


@njit
def _draws(key, streams, counters):
    out = np.empty(streams.size)
    for i in range(streams.size):
        out[i] = R.uniform(R.stream_key(key, streams[i]), counters[i])
    return out


def test_kernel_draws_match_the_pure_python_reference():
    key = R.resolve_seed(2024)
    streams = np.array([0, 1, 2, 10**6, 2**40], np.int64)
    counters = np.array([0, 5, 1, 7, 3], np.int64)
    got = _draws(key, streams, counters)
    want = [ref_uniform(int(key), int(s), int(c)) for s, c in zip(streams, counters)]
    assert got.tolist() == want


@pytest.mark.parametrize("fill", [fk.random_uniform, fk.random_normal])
def test_same_seed_same_numbers_on_every_cpu_backend_and_thread_count(fill):
    a = fill(10_001, seed=7, backend="cpu")
    for n in range(1, fk.get_num_threads() + 1):
        with fk.num_threads(n):
            assert np.array_equal(fill(10_001, seed=7, backend="parallel"), a)
    assert np.array_equal(fill(10_001, seed=np.int64(7), backend="auto"), a)
    assert not np.array_equal(fill(10_001, seed=8, backend="cpu"), a)


def test_element_i_does_not_depend_on_the_array_length():
    # element i is stream i, draw 0: a prefix of a longer array is the shorter array
    assert np.array_equal(fk.random_uniform(100, seed=1)[:10], fk.random_uniform(10, seed=1))


def test_float32_output_is_the_rounded_float64_draw():
    a = fk.random_uniform(1000, seed=3, dtype=np.float32)
    b = fk.random_uniform(1000, seed=3)
    assert a.dtype == np.float32 and np.array_equal(a, b.astype(np.float32))


def test_uniform_is_uniform_chi_square():
    u = fk.random_uniform(200_000, seed=11)
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.histogram(u, bins=50, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 1e-3
    v = fk.random_uniform(1000, low=-2.0, high=3.0, seed=1)
    assert v.min() >= -2.0 and v.max() < 3.0


def test_normal_matches_the_normal_distribution_ks():
    z = fk.random_normal(100_000, seed=5)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    assert stats.kstest(z, "norm").pvalue > 1e-3
    w = fk.random_normal(50_000, mean=3.0, std=0.5, seed=5)
    assert abs(w.mean() - 3) < 0.02 and abs(w.std() - 0.5) < 0.01


@njit(parallel=True)
def _below(key, n, size):
    out = np.empty(size, np.int64)
    for i in prange(size):
        out[i] = R.below(R.stream_key(key, i), 0, n)
    return out


def test_below_covers_its_range_uniformly():
    x = _below(R.resolve_seed(9), 7, 70_000)
    assert x.min() == 0 and x.max() == 6
    assert stats.chisquare(np.bincount(x, minlength=7)).pvalue > 1e-3


def test_streams_are_independent():
    # neighbouring streams and counters are uncorrelated
    key = R.resolve_seed(1)
    n = 50_000
    a = _draws(key, np.arange(n), np.zeros(n, np.int64))
    b = _draws(key, np.arange(n) + 1, np.zeros(n, np.int64))
    c = _draws(key, np.arange(n), np.ones(n, np.int64))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.02


def test_resolve_seed_kinds():
    assert R.resolve_seed(1) == R.resolve_seed(1)
    assert R.resolve_seed(1) != R.resolve_seed(2)
    assert R.resolve_seed(2**100) == R.resolve_seed(2**100)
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert R.resolve_seed(g1) == R.resolve_seed(g2)
    assert R.resolve_seed(None) != R.resolve_seed(None)
    assert isinstance(R.resolve_seed(0), np.int64)


@pytest.mark.bad_input
@pytest.mark.parametrize("seed,exc", [(-1, ValueError), (1.5, TypeError), ("1", TypeError), (True, TypeError)])
def test_resolve_seed_rejects_bad_seeds(seed, exc):
    with pytest.raises(exc, match="seed must be"):
        R.resolve_seed(seed)


@pytest.mark.bad_input
def test_fillers_reject_bad_arguments():
    with pytest.raises(ValueError, match="size must be >= 0"):
        fk.random_uniform(-1, seed=0)
    with pytest.raises(ValueError, match="high must be > 1.0"):
        fk.random_uniform(3, low=1.0, high=1.0, seed=0)
    with pytest.raises(ValueError, match="std must be >= 0"):
        fk.random_normal(3, std=-1.0, seed=0)
    with pytest.raises(ValueError, match="dtype must be one of"):
        fk.random_normal(3, dtype=np.int32, seed=0)
    assert fk.random_normal(0, seed=0).shape == (0,)
