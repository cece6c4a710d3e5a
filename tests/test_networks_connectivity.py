"""Synapse storage (fastkernels.networks.connectivity): CSR invariants, dense and array round trips,
delays (Brian2's rounding, spikequeue.h: ``(int)(delay / dt + 0.5)``), memory, bad arrays."""


import numpy as np
import pytest

from fastkernels.networks import (
    Connectivity,
    all_to_all,
    bernoulli,
    fixed_in_degree,
    fixed_out_degree,
    one_to_one,
)

stats = pytest.importorskip("scipy.stats")


def pairs(c):
    return set(zip(c.i.tolist(), c.j.tolist()))


def rows_ascending(c):
    """Posts strictly ascending within each row (no repeated pair)."""
    d = np.diff(c.post.astype(np.int64))
    starts = c.indptr[1:-1]
    ok = d > 0
    ok[starts[(starts > 0) & (starts < c.n_synapses)] - 1] = True
    return bool(ok.all())


def same(a, b):
    return (a.n_pre == b.n_pre and a.n_post == b.n_post and np.array_equal(a.indptr, b.indptr)
            and np.array_equal(a.post, b.post) and np.array_equal(a.weight, b.weight))



# -- delays ---------------------------------------------------------------------------------------


def test_delay_steps_round_half_up_in_seconds_as_brian2():
    d = [0.0, 0.04, 0.05, 0.15, 0.25, 0.35, 0.45, 0.7, 1.25, 2.0]
    c = Connectivity.from_arrays(np.zeros(len(d), dtype=np.int64), np.arange(len(d)), delay=d, n_pre=1, n_post=len(d))
    # Brian2: (int)(delay_s / dt_s + 0.5); 0.35 ms / 0.1 ms is 3.4999... in ms, 3.5 in seconds
    assert c.delay_steps(0.1).tolist() == [0, 0, 1, 1, 3, 4, 5, 7, 13, 20]
    assert c.delay_steps(1.0).tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1, 2]
    assert one_to_one(3).delay_steps(0.1).tolist() == [0, 0, 0]


@pytest.mark.bad_input
def test_delay_steps_refuses_bad_values_written_in_place():
    c = one_to_one(3, delay=1.0)
    for bad, msg in ((-1.0, ">= 0"), (np.nan, "finite")):
        c.delay[1] = bad
        with pytest.raises(ValueError, match=msg):
            c.delay_steps(0.1)
    c.delay[1] = 1e300
    with pytest.raises(ValueError, match="steps"):
        c.delay_steps(0.1)
    for dt, exc in ((0.0, ValueError), (-0.1, ValueError), (np.nan, ValueError), ("0.1", TypeError), (1e-320, ValueError)):
        with pytest.raises(exc, match="dt"):
            c.delay_steps(dt)


# -- storage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_round_trip(dtype, rng):
    W = (rng.random((7, 9)) * (rng.random((7, 9)) < 0.4)).astype(dtype)
    c = Connectivity.from_dense(W)
    assert c.n_post == 7 and c.n_pre == 9 and c.dtype == dtype and c.n_synapses == np.count_nonzero(W)
    np.testing.assert_array_equal(c.to_dense(), W)
    assert rows_ascending(c)
    assert np.array_equal(c.out_degree(), np.count_nonzero(W, axis=0))
    assert np.array_equal(c.in_degree(), np.count_nonzero(W, axis=1))
    mask = np.ones_like(W, dtype=bool)
    full = Connectivity.from_dense(W, mask=mask, delay=2.5)
    assert full.n_synapses == 63 and (full.delay == 2.5).all()
    np.testing.assert_array_equal(full.to_dense(), W)
    np.testing.assert_array_equal(full.to_dense("count"), np.ones((7, 9), dtype=np.int64))
    D = rng.random((7, 9))
    withd = Connectivity.from_dense(W, delay=D)
    np.testing.assert_array_equal(withd.to_dense(withd.delay), np.where(W != 0, D, 0))
    same_again = Connectivity(c.indptr, c.post, c.weight, n_post=7, dtype=dtype)
    assert same(c, same_again)


def test_from_arrays_sorts_stably_and_keeps_repeats():
    i = [2, 0, 2, 0, 2]
    j = [1, 3, 0, 3, 1]
    w = [1.0, 2.0, 3.0, 4.0, 5.0]
    c = Connectivity.from_arrays(i, j, w, delay=[0.1, 0.2, 0.3, 0.4, 0.5], n_pre=3, n_post=4)
    order = np.lexsort((j, i))
    assert c.i.tolist() == [0, 0, 2, 2, 2] and c.j.tolist() == [3, 3, 0, 1, 1]
    assert c.weight.tolist() == np.array(w)[order].tolist() == [2.0, 4.0, 3.0, 1.0, 5.0]
    assert c.delay.tolist() == [0.2, 0.4, 0.3, 0.1, 0.5]
    dense = c.to_dense()
    assert dense[3, 0] == 6.0 and dense[1, 2] == 6.0 and c.to_dense("count")[3, 0] == 2
    assert c.out_degree().tolist() == [2, 0, 3] and c.in_degree().tolist() == [1, 2, 0, 2]
    empty = Connectivity.from_arrays([], [], n_pre=2, n_post=2)
    assert empty.n_synapses == 0 and empty.indptr.tolist() == [0, 0, 0] and np.isnan(empty.bytes_per_synapse)


def test_structure_is_read_only_values_are_writeable():
    c = bernoulli(50, 40, 0.2, seed=1, delay=1.0)
    for a in (c.indptr, c.post, c.j):
        with pytest.raises(ValueError):
            a[0] = 1
    w = c.weight
    c.weight[:3] = 7.0
    c.weight = 0.5
    assert c.weight is w and (w == 0.5).all()
    d = c.delay
    c.delay = np.arange(c.n_synapses, dtype=np.float64)
    assert c.delay is d and c.delay[5] == 5.0
    c.delay = None
    assert c.delay is None and (c.delay_steps(0.1) == 0).all()
    with pytest.raises(AttributeError):
        c.post = c.post
    with pytest.raises(AttributeError):
        c.indptr = c.indptr


def test_memory_report():
    c = bernoulli(100, 100, 0.5, seed=1, dtype=np.float32)
    assert c.nbytes == 101 * 8 + c.n_synapses * 8
    assert c.bytes_per_synapse == pytest.approx(8 + 808 / c.n_synapses)
    c = bernoulli(100, 100, 0.5, seed=1, delay=1.0)
    assert c.nbytes == 101 * 8 + c.n_synapses * 20
    assert "n_synapses" in repr(c) and len(c) == c.n_synapses


def test_empty_populations():
    for c in (all_to_all(0, 5), all_to_all(5, 0), bernoulli(0, 0, 0.5, seed=1), fixed_out_degree(0, 3, 2, seed=1),
              fixed_in_degree(4, 0, 3, seed=1), one_to_one(0), bernoulli(7, 7, 0.0, seed=1)):
        assert c.n_synapses == 0 and c.to_dense().sum() == 0 and c.i.size == 0


# -- bad input --------------------------------------------------------------------------------------


BAD_ARRAYS = [
    (lambda: Connectivity.from_arrays([0, 3], [1, 1], n_pre=3, n_post=3), ValueError, "i"),
    (lambda: Connectivity.from_arrays([0, 1], [1, -1], n_pre=3, n_post=3), ValueError, "j"),
    (lambda: Connectivity.from_arrays([0, 1], [1, 2, 0], n_pre=3, n_post=3), ValueError, "same length"),
    (lambda: Connectivity.from_arrays([0.0, 1.0], [1, 2], n_pre=3, n_post=3), TypeError, "i"),
    (lambda: Connectivity.from_arrays([True, False], [1, 2], n_pre=3, n_post=3), TypeError, "i"),
    (lambda: Connectivity.from_arrays([[0]], [[1]], n_pre=3, n_post=3), ValueError, "i"),
    (lambda: Connectivity.from_arrays([0, 1], [1, 2], [1.0], n_pre=3, n_post=3), ValueError, "weight"),
    (lambda: Connectivity.from_arrays([0, 1], [1, 2], [1.0, np.nan], n_pre=3, n_post=3), ValueError, "weight"),
    (lambda: Connectivity.from_arrays([0, 1], [1, 2], np.array([1, 2]), n_pre=3, n_post=3), TypeError, "weight"),
    (lambda: Connectivity.from_arrays([0, 1], [1, 2], delay=[1.0, -2.0], n_pre=3, n_post=3), ValueError, "delay"),
    (lambda: Connectivity.from_arrays([0, 1], [1, 2], delay=[1.0, np.inf], n_pre=3, n_post=3), ValueError, "delay"),
    (lambda: Connectivity.from_arrays([0, 1], [1, 2], n_pre=3, n_post=2.0), TypeError, "n_post"),
    (lambda: Connectivity.from_dense(np.eye(3, dtype=np.int64)), TypeError, "W"),
    (lambda: Connectivity.from_dense(np.ones(3)), ValueError, "W"),
    (lambda: Connectivity.from_dense(np.array([[np.inf]])), ValueError, "W"),
    (lambda: Connectivity.from_dense(np.eye(2), mask=np.eye(2)), TypeError, "mask"),
    (lambda: Connectivity.from_dense(np.eye(2), mask=np.ones((2, 3), bool)), ValueError, "mask"),
    (lambda: Connectivity.from_dense(np.eye(2), delay=-np.eye(2)), ValueError, "delay"),
    (lambda: Connectivity.from_dense(np.eye(2), delay=np.ones((3, 3))), ValueError, "delay"),
    (lambda: Connectivity([0, 2, 1], [0, 1], n_post=2), ValueError, "indptr"),
    (lambda: Connectivity([1, 2], [0, 1], n_post=2), ValueError, "indptr"),
    (lambda: Connectivity([], [], n_post=2), ValueError, "indptr"),
    (lambda: Connectivity([0, 2], [1, 0], n_post=2), ValueError, "post"),
    (lambda: Connectivity([0, 2], [0, 2], n_post=2), ValueError, "post"),
    (lambda: Connectivity([0.0, 2.0], [0, 1], n_post=2), TypeError, "indptr"),
    (lambda: one_to_one(3).to_dense("delay"), ValueError, "values"),
    (lambda: one_to_one(3).to_dense(np.ones(2)), ValueError, "values"),
    (lambda: Connectivity.from_arrays([0], [0], n_pre=2**20, n_post=2**20).to_dense(), ValueError, "n_post \\* n_pre"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize("call, exc, name", BAD_ARRAYS, ids=[f"{b[2]}-{n}" for n, b in enumerate(BAD_ARRAYS)])
def test_bad_arrays_name_the_argument(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


