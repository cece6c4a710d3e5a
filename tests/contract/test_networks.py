"""Contract tests of fastkernels.networks (docs/CONTRACT.md): every public function, constructor and method
driven with generated bad and edge inputs.

A bad input must raise TypeError/ValueError naming the argument (or the state variable a run reads), leave the
caller's arrays, groups, synapses, monitors, networks and random generators unchanged, and be refused before
anything runs; a call that returns on edge input must give a self-consistent result (a Connectivity's row starts
monotone, post ids in range and ascending within rows, its counts, dense form and degrees agreeing; a rule's
synapses exactly the pairs it allows; a run's spikes sorted, inside the run, ids in range, states finite,
monitors agreeing with each other, STDP weights within [w_min, w_max]) or match a plain formula. Populations are
2-8 neurons and runs a few steps long; every run uses one network layout (LIF groups with the two current
receptors of fastkernels.warmup's CUBA network), so the module compiles at most three run kernels (serial,
serial with STDP, parallel) and runs in well under a minute with a warm Numba cache.

A defect a case finds is marked ``xfail(strict=True)`` with its reason until the package is fixed (the
case then fails as XPASS and the marker goes); none is open now.
"""

import math
import resource
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastkernels.networks import (
    MAX_NEURONS,
    STDP,
    Conductance,
    Connectivity,
    Current,
    Network,
    NeuronGroup,
    PoissonGroup,
    PopulationRateMonitor,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    all_to_all,
    bernoulli,
    fixed_in_degree,
    fixed_out_degree,
    gaussian_distance,
    neighbourhood,
    one_to_one,
)
from fastkernels.neurons import HH, LIF, Izhikevich, SimulationError

from .harness import (
    Snapshot,
    bad_scalars,
    bad_seeds,
    fails_cleanly,
    layout_variants,
    odd_float_arrays,
    raises_naming,
    wrong_dtype_arrays,
)

COVERS = {
    "Connectivity", "Connectivity.from_dense", "Connectivity.from_arrays", "Connectivity.delay_steps",
    "Connectivity.to_dense", "Connectivity.in_degree", "Connectivity.out_degree",
    "all_to_all", "one_to_one", "neighbourhood", "bernoulli", "fixed_in_degree", "fixed_out_degree",
    "gaussian_distance",
    "Current", "Current.coefficients", "Current.engine_coefficients",
    "Conductance", "Conductance.coefficients", "Conductance.engine_coefficients",
    "NeuronGroup", "NeuronGroup.receptor_key", "NeuronGroup.receptor_keys", "NeuronGroup.check_state",
    "SpikeGeneratorGroup", "SpikeGeneratorGroup.steps",
    "PoissonGroup", "PoissonGroup.probabilities",
    "Synapses",
    "STDP", "STDP.window", "STDP.kernel_params",
    "SpikeMonitor", "SpikeMonitor.spike_trains", "StateMonitor", "PopulationRateMonitor",
    "PopulationRateMonitor.smooth_rate",
    "Network", "Network.add", "Network.run",
}

DT = 0.1
INDEX = (np.int32, np.int64)
FLOATS = (np.float32, np.float64)
F32_MAX = float(np.finfo(np.float32).max)
LIMIT = 1e9  # |v| beyond which a LIF state counts as runaway (fastkernels.neurons._lif_kernels.LIMIT)
BAD_DTYPES = [None, "float16", np.int32, "nope", object, True, [np.float32], np.complex128, "int64"]
BAD_BACKENDS = ["gpu", None, 1, "CPU", ["cpu"], True, "Parallel"]  # "cuda" is never passed here
BAD_FLAGS = [None, "yes", 2, -1, 0.5, np.array([True]), [True], "True"]
#: every network of this module: LIF groups (scalar parameters) with these receptors (the warmup's CUBA layout)
RECEPTORS = {"ge": Current(5.0), "gi": Current(10.0)}


def not_none(strategy):
    return strategy.filter(lambda x: x is not None)


def lif_group(n, **kw):
    kw.setdefault("receptors", dict(RECEPTORS))
    return NeuronGroup(n, kw.pop("model", LIF()), **kw)


def snap_if_array(**values):
    return Snapshot(**{k: v for k, v in values.items() if isinstance(v, np.ndarray)})


# ---------------------------------------------------------------- consistency of a Connectivity

def assert_connectivity(c, n_pre=None, n_post=None):
    """A Connectivity that was returned must be a valid CSR whose views all agree."""
    assert isinstance(c, Connectivity)
    if n_pre is not None:
        assert c.n_pre == n_pre
    if n_post is not None:
        assert c.n_post == n_post
    ip, post, w, d = c.indptr, c.post, c.weight, c.delay
    assert ip.dtype == np.int64 and ip.shape == (c.n_pre + 1,) and ip[0] == 0
    assert (np.diff(ip) >= 0).all(), "indptr not monotone"
    assert ip[-1] == c.n_synapses == post.size == w.size == len(c)
    assert post.dtype == np.int32 and ((post >= 0) & (post < c.n_post)).all(), "post id out of range"
    assert not ip.flags.writeable and not post.flags.writeable
    rows = c.i
    assert rows.dtype == np.int32 and rows.shape == post.shape and ((rows >= 0) & (rows < c.n_pre)).all()
    assert (np.lexsort((post, rows)) == np.arange(post.size)).all(), "posts not ascending within rows"
    assert c.j is post
    assert w.dtype in FLOATS and w.dtype == c.dtype and np.isfinite(w).all() and w.flags.writeable
    assert d is None or (d.dtype == np.float64 and d.shape == post.shape and np.isfinite(d).all() and (d >= 0).all())
    out_deg, in_deg = c.out_degree(), c.in_degree()
    assert out_deg.dtype == np.int64 and in_deg.dtype == np.int64
    np.testing.assert_array_equal(out_deg, np.diff(ip))
    np.testing.assert_array_equal(in_deg, np.bincount(post, minlength=c.n_post))
    assert out_deg.sum() == in_deg.sum() == c.n_synapses
    assert c.nbytes == ip.nbytes + post.nbytes + w.nbytes + (0 if d is None else d.nbytes)
    if c.n_pre * c.n_post <= 4096:
        counts = c.to_dense("count")
        assert counts.shape == (c.n_post, c.n_pre) and counts.dtype == np.int64 and counts.sum() == c.n_synapses
        ref = np.zeros((c.n_post, c.n_pre), w.dtype)
        np.add.at(ref, (post, rows), w)
        dense = c.to_dense()
        assert dense.dtype == w.dtype
        np.testing.assert_array_equal(dense, ref)
    return c


def pairs_of(c):
    return list(zip(c.i.tolist(), c.j.tolist()))


# ---------------------------------------------------------------- Connectivity(...)

GOOD_CSR = dict(indptr=np.array([0, 2, 3]), post=np.array([0, 2, 1]), weight=np.array([0.5, -1.0, 2.0]),
                delay=np.array([0.0, 1.5, 3.0]), n_post=3, dtype=np.float64)


def bad_csr_values(arg):
    if arg == "indptr":
        return st.one_of(wrong_dtype_arrays((3,), accept=INDEX), st.sampled_from([
            np.array([0, 2, 1, 3]), np.array([1, 2, 3]), np.array([0, 2, 2]), np.array([0, 2, 4]), np.array([0, 2, -1]),
            np.array([], np.int64), np.array([[0, 2, 3]]), np.array(0), [0, 2.0, 3], None, "abc", [0, 2**63, 3]]))
    if arg == "post":
        return st.one_of(wrong_dtype_arrays((3,), accept=INDEX), st.sampled_from([
            np.array([0, 3, 1]), np.array([0, -1, 1]), np.array([2, 0, 1]), np.array([[0, 2, 1]]), np.array([0, 2]),
            None, "abc", [0, 2.5, 1], [0, 2**31, 1]]))
    if arg == "weight":
        return st.one_of(bad_scalars(), st.sampled_from([
            np.array([np.nan, 1.0, 1.0]), np.array([1.0, np.inf, 1.0]), np.ones(3, np.float16), np.ones(4), np.ones((3, 1)),
            np.ones(3, np.int64), np.ones(3, bool), [1.0, "a", 2.0], 1e309]))
    if arg == "delay":
        return st.one_of(not_none(bad_scalars()), st.sampled_from([
            -1.0, -1e-300, np.array([0.0, -1.0, 0.0]), np.array([np.nan, 0.0, 0.0]), np.array([0.0, np.inf, 0.0]),
            np.ones(3, np.int64), np.ones(2), np.ones((3, 1)), "a"]))
    if arg == "n_post":
        return st.one_of(bad_scalars(integer=True), st.sampled_from([-1, 2, MAX_NEURONS + 1, 2**63]))
    return st.sampled_from(BAD_DTYPES)


@given(arg=st.sampled_from(["indptr", "post", "weight", "delay", "n_post", "dtype"]), data=st.data())
def test_connectivity_bad_arguments_refused(arg, data):
    kw = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in GOOD_CSR.items()}
    kw[arg] = data.draw(bad_csr_values(arg))
    names = {"indptr": ("indptr", "post"), "post": ("post", "indptr"), "n_post": ("n_post", "post")}.get(arg, (arg,))
    fails_cleanly(lambda: Connectivity(kw.pop("indptr"), kw.pop("post"), **kw), *names,
                  **{k: v for k, v in kw.items() if isinstance(v, np.ndarray)})


def test_connectivity_weight_beyond_float32_refused():
    for w in (1e39, np.array([1.0, 1e39, 1.0]), -3.5e38):
        snap = snap_if_array(w=w)
        raises_naming(lambda: Connectivity([0, 2, 3], [0, 2, 1], weight=w, n_post=3, dtype=np.float32), "weight")
        snap.assert_unchanged()


@st.composite
def csrs(draw, max_pre=4, max_post=4, max_row=4):
    n_pre, n_post = draw(st.integers(0, max_pre)), draw(st.integers(0, max_post))
    rows = [sorted(draw(st.lists(st.integers(0, n_post - 1), max_size=max_row))) if n_post else []
            for _ in range(n_pre)]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows], dtype=np.int64)]).astype(draw(st.sampled_from(INDEX)))
    post = np.array([p for r in rows for p in r], dtype=draw(st.sampled_from(INDEX)))
    return n_pre, n_post, indptr, post


LAYOUTS = ["as-is", "readonly", "fortran", "strided", "list"]


def laid_out(x, layout):
    if layout == "as-is" or not isinstance(x, np.ndarray) or x.ndim == 0 or (layout == "list" and x.size == 0):
        return x  # (an empty list loses the array's shape)
    return layout_variants(x)[layout]


def float_values(n, dtype, *, lo=None):
    """A float scalar or an (n,) array with edge values (NaN, inf, 1e308, subnormals, -0.0)."""
    scalars = [0.0, -0.0, 1.0, -2.5, 5e-324, 1e-300, F32_MAX, 1e300, 1e308, np.nan, np.inf, -np.inf]
    if lo is not None:
        scalars = [s for s in scalars if not s < lo]
    return st.one_of(st.sampled_from(scalars), odd_float_arrays((n,), dtype=dtype))


def is_bad_value(v, dtype, *, nonneg=False):
    a = np.asarray(v, dtype=np.float64)
    if not np.isfinite(a).all() or (nonneg and (a < 0).any()):
        return True
    return np.ndim(v) == 0 and np.dtype(dtype) == np.float32 and abs(float(v)) > F32_MAX or \
        np.ndim(v) == 1 and np.dtype(dtype) == np.float32 and a.size > 0 and np.abs(a).max() > F32_MAX


def _refuses_bad_weight_or_delay(call, weight, delay, dtype, snap):
    """True (after checking the refusal names them and nothing changed) when ``weight`` or ``delay`` is bad."""
    bad_w, bad_d = is_bad_value(weight, dtype), delay is not None and is_bad_value(delay, np.float64, nonneg=True)
    if bad_w or bad_d:
        raises_naming(call, *(["weight"] if bad_w else []) + (["delay"] if bad_d else []))
        snap.assert_unchanged()
    return bad_w or bad_d


@given(data=st.data())
def test_connectivity_edge_values_are_consistent_and_copied(data):
    n_pre, n_post, indptr, post = data.draw(csrs())
    n = post.size
    dtype = data.draw(st.sampled_from(FLOATS))
    weight = data.draw(float_values(n, data.draw(st.sampled_from(FLOATS))))
    delay = data.draw(st.one_of(st.none(), float_values(n, np.float64)))
    layout = data.draw(st.sampled_from(LAYOUTS))
    snap = snap_if_array(indptr=indptr, post=post, weight=weight, delay=delay)
    args = [laid_out(x, layout) for x in (indptr, post, weight, delay)]
    call = lambda: Connectivity(args[0], args[1], args[2], args[3], n_post=n_post, dtype=dtype)  # noqa: E731
    if _refuses_bad_weight_or_delay(call, weight, delay, dtype, snap):
        return
    c = assert_connectivity(call(), n_pre, n_post)
    snap.assert_unchanged()
    assert c.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(c.post, post)
    np.testing.assert_array_equal(c.indptr, indptr)
    np.testing.assert_array_equal(c.weight, np.broadcast_to(np.asarray(weight, dtype=np.float64).astype(dtype), (n,)))
    if delay is None:
        assert c.delay is None and (c.delay_steps(DT) == 0).all()
    else:
        np.testing.assert_array_equal(c.delay, np.broadcast_to(np.asarray(delay, np.float64), (n,)))
    for x in (weight, delay):  # the arrays were copied: the caller's arrays are not the stored ones
        if isinstance(x, np.ndarray) and x.size:
            assert not np.shares_memory(x, c.weight) and (c.delay is None or not np.shares_memory(x, c.delay))


@given(values=st.sampled_from(["foo", None, 3, np.ones(2), np.ones(3, np.int64), np.ones(3, bool), np.ones((3, 1)),
                               np.ones(3, np.float16), "Weight", ["a", "b", "c"]]))
def test_to_dense_bad_values_refused(values):
    c = Connectivity(**GOOD_CSR)
    fails_cleanly(lambda: c.to_dense(values), "values", c=c, **({"values": values} if isinstance(values, np.ndarray)
                                                                  else {}))


@given(values=odd_float_arrays((3,), dtype=np.float64), dtype=st.sampled_from(FLOATS))
def test_to_dense_of_given_values_sums_them_per_pair(values, dtype):
    c = Connectivity([0, 2, 2, 3], [1, 1, 0], n_post=2)  # two synapses 0 -> 1
    with np.errstate(over="ignore", invalid="ignore"):  # IEEE: huge values overflow to inf, inf - inf is NaN
        v = values.astype(dtype)
        dense = c.to_dense(v)
    assert dense.dtype == np.dtype(dtype) and dense.shape == (2, 3)
    zero = np.zeros((), dtype)
    with np.errstate(all="ignore"):  # the reference adds in the working dtype too (IEEE: exact, any ISA);
        # summing in float64 and then casting rounds twice and can differ from float32 additions
        expect = np.array([[zero, zero, zero + v[2]], [(zero + v[0]) + v[1], zero, zero]], dtype=dtype)
    np.testing.assert_array_equal(dense, expect)


@given(dt=st.one_of(bad_scalars(), st.sampled_from([0.0, -0.1, -0.0, 5e-324, 1e-310])))
def test_delay_steps_bad_dt_refused(dt):
    c = Connectivity(**GOOD_CSR)
    fails_cleanly(lambda: c.delay_steps(dt), "dt", c=c)


@given(case=st.sampled_from([("nan", np.nan), ("neg", -1.0), ("inf", np.inf), ("huge", 1e300), ("tiny_neg", -5e-324)]))
def test_delay_steps_refuses_delays_changed_in_place(case):
    c = Connectivity(**GOOD_CSR)
    c.delay[1] = case[1]
    fails_cleanly(lambda: c.delay_steps(DT), "delay", c=c)


@given(delay=float_values(4, np.float64, lo=0.0).filter(lambda d: np.ndim(d) == 0 or (np.asarray(d) >= 0).all()),
       dt=st.sampled_from([1e-300, 1e-3, 0.05, 0.1, 0.25, 1.0, 1e300]))
def test_delay_steps_rounds_half_up_in_seconds(delay, dt):
    c = Connectivity([0, 4], [0, 1, 2, 3], n_post=4)
    try:
        c.delay = delay
    except (TypeError, ValueError) as exc:
        assert "delay" in str(exc) and not np.isfinite(np.asarray(delay, np.float64)).all()
        return
    with np.errstate(all="ignore"):
        q = (np.broadcast_to(np.asarray(delay, np.float64), (4,)) * 1e-3) / (dt * 1e-3) + 0.5
    if q.max() >= 2**31 - 1:
        raises_naming(lambda: c.delay_steps(dt), "delay")
        return
    steps = c.delay_steps(dt)
    assert steps.dtype == np.int32 and steps.shape == (4,) and (steps >= 0).all()
    np.testing.assert_array_equal(steps, np.floor(q).astype(np.int32))


def test_delay_steps_match_brian2_ties():
    c = Connectivity([0, 4], [0, 1, 2, 3], delay=[0.05, 0.15, 0.25, 0.35], n_post=4)
    assert c.delay_steps(0.1).tolist() == [1, 1, 3, 4]


@given(attr=st.sampled_from(["weight", "delay"]), data=st.data())
def test_weight_and_delay_assignment_is_validated_and_atomic(attr, data):
    c = Connectivity(**GOOD_CSR)
    before = getattr(c, attr)
    bad = data.draw(st.one_of(not_none(bad_scalars()), st.sampled_from(
        [np.ones(4), np.array([np.inf, 1.0, 1.0]), np.ones(3, np.int64), np.ones((3, 1)), [1.0, 2.0]] +
        ([-1.0, np.array([0.0, -1.0, 0.0])] if attr == "delay" else [1e309]))))
    fails_cleanly(lambda: setattr(c, attr, bad), attr, c=c, **({"bad": bad} if isinstance(bad, np.ndarray) else {}))
    good = data.draw(st.sampled_from([0.0, 2.5, np.array([1.0, 2.0, 3.0]), [0.5, 0.25, 0.0]]))
    setattr(c, attr, good)
    assert getattr(c, attr) is before  # written into the same array
    np.testing.assert_array_equal(getattr(c, attr), np.broadcast_to(np.asarray(good, np.float64), (3,)))
    assert_connectivity(c)


# ---------------------------------------------------------------- Connectivity.from_dense

def bad_dense(arg):
    if arg == "W":
        return st.one_of(wrong_dtype_arrays((3, 2), accept=FLOATS), st.sampled_from([
            np.ones(3), np.ones((3, 2, 1)), np.array([[0.0, np.nan], [1.0, 0.0], [0.0, 0.0]]),
            np.array([[0.0, np.inf], [1.0, 0.0], [0.0, 0.0]]), None, "W", 1.0, [[1.0, "a"]]]))
    if arg == "mask":
        return st.one_of(wrong_dtype_arrays((3, 2), accept=(np.bool_,)), st.sampled_from([
            np.ones((2, 3), bool), np.ones(6, bool), True, "mask", [[True, False]]]))
    return st.one_of(not_none(bad_scalars()), st.sampled_from([
        -1.0, np.full((3, 2), -1.0), np.full((3, 2), np.nan), np.ones((2, 3)), np.ones((3, 2), np.int64),
        np.ones((3, 2), bool), "d"]))


@given(arg=st.sampled_from(["W", "mask", "delay"]), data=st.data())
def test_from_dense_bad_arguments_refused(arg, data):
    kw = dict(W=np.array([[0.0, 0.5], [2.0, 0.0], [0.0, -1.0]]), mask=None, delay=None)
    kw[arg] = bad = data.draw(bad_dense(arg))
    fails_cleanly(lambda: Connectivity.from_dense(kw["W"], mask=kw["mask"], delay=kw["delay"]), arg,
                  **({"bad": bad} if isinstance(bad, np.ndarray) else {}))


@given(data=st.data())
def test_from_dense_round_trips(data):
    shape = (data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4)))
    W = data.draw(odd_float_arrays(shape, dtype=data.draw(st.sampled_from(FLOATS))))
    mask = data.draw(st.one_of(st.none(), hnp.arrays(np.bool_, shape)))
    delay = data.draw(st.one_of(st.none(), st.sampled_from([0.0, -0.0, 2.5, -1.0, np.nan]),
                                odd_float_arrays(shape, dtype=np.float64)))
    layout = data.draw(st.sampled_from(LAYOUTS))
    snap = snap_if_array(W=W, mask=mask, delay=delay)
    call = lambda: Connectivity.from_dense(laid_out(W, layout), mask=laid_out(mask, layout),  # noqa: E731
                                           delay=laid_out(delay, layout))
    sel = (W != 0) if mask is None else mask
    if not np.isfinite(W).all():
        raises_naming(call, "W")
        snap.assert_unchanged()
        return
    d_at = None if delay is None else np.broadcast_to(np.asarray(delay, np.float64), shape)[sel]
    if d_at is not None and ((np.ndim(delay) == 0 and not delay >= 0) or not (np.isfinite(d_at).all() and
                                                                              (d_at >= 0).all())):
        raises_naming(call, "delay")
        snap.assert_unchanged()
        return
    c = assert_connectivity(call(), shape[1], shape[0])
    snap.assert_unchanged()
    assert c.dtype == W.dtype
    np.testing.assert_array_equal(c.to_dense("count"), sel.astype(np.int64))
    np.testing.assert_array_equal(c.to_dense(), np.where(sel, W, 0).astype(W.dtype))
    if delay is None:
        assert c.delay is None
    else:  # delays off the synapses are not read
        np.testing.assert_array_equal(c.to_dense(c.delay), np.where(sel, np.broadcast_to(
            np.asarray(delay, np.float64), shape), 0.0))


# ---------------------------------------------------------------- Connectivity.from_arrays

GOOD_PAIRS = dict(i=np.array([1, 0]), j=np.array([0, 2]), weight=np.array([0.5, -1.0]), delay=np.array([1.0, 0.0]),
                  n_pre=2, n_post=3, dtype=np.float64)


def bad_pair_values(arg):
    if arg in ("i", "j"):
        return st.one_of(wrong_dtype_arrays((2,), accept=INDEX), st.sampled_from([
            np.array([0, 5]), np.array([-1, 0]), np.array([[0, 1]]), np.array([0, 1, 1]), None, "0", 1.0, True,
            [0, 1.5], [0, 2**63]]))
    if arg in ("n_pre", "n_post"):
        return st.one_of(bad_scalars(integer=True), st.sampled_from([-1, 1, MAX_NEURONS + 1]))
    if arg == "dtype":
        return st.sampled_from(BAD_DTYPES)
    if arg == "weight":
        return st.one_of(not_pair_shaped(bad_scalars()), st.sampled_from([
            np.array([np.nan, 1.0]), np.array([1.0, -np.inf]), np.ones(2, np.float16), np.ones(3), np.ones((2, 1)),
            np.ones(2, np.int64), np.ones(2, bool), [1.0, "a"], 1e309]))
    return st.one_of(not_none(not_pair_shaped(bad_scalars())), st.sampled_from([
        -1.0, -1e-300, np.array([0.0, -1.0]), np.array([np.nan, 0.0]), np.array([0.0, np.inf]), np.ones(2, np.int64),
        np.ones(3), np.ones((2, 1)), "a"]))


def not_pair_shaped(strategy):
    """bad_scalars() less its float array of shape (2,), a valid value where two are expected."""
    return strategy.filter(lambda v: not (isinstance(v, np.ndarray) and v.shape == (2,) and v.dtype.kind == "f"))


@given(arg=st.sampled_from(["i", "j", "weight", "delay", "n_pre", "n_post", "dtype"]), data=st.data())
def test_from_arrays_bad_arguments_refused(arg, data):
    kw = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in GOOD_PAIRS.items()}
    kw[arg] = data.draw(bad_pair_values(arg))
    names = {"n_pre": ("n_pre", "i"), "n_post": ("n_post", "j"), "i": ("i", "j"), "j": ("j", "i")}.get(arg, (arg,))
    fails_cleanly(lambda: Connectivity.from_arrays(kw.pop("i"), kw.pop("j"), **kw), *names,
                  **{k: v for k, v in kw.items() if isinstance(v, np.ndarray)})


@given(data=st.data())
def test_from_arrays_matches_a_stable_sort_of_the_pairs(data):
    n_pre, n_post = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
    k = data.draw(st.integers(0, 6)) if n_pre and n_post else 0
    i = data.draw(hnp.arrays(data.draw(st.sampled_from(INDEX)), k, elements=st.integers(0, max(n_pre - 1, 0))))
    j = data.draw(hnp.arrays(data.draw(st.sampled_from(INDEX)), k, elements=st.integers(0, max(n_post - 1, 0))))
    if k == 1 and data.draw(st.booleans()):
        i = int(i[0])  # a scalar broadcasts against the other
    dtype = data.draw(st.sampled_from(FLOATS))
    weight = data.draw(float_values(k, np.float64))
    delay = data.draw(st.one_of(st.none(), float_values(k, np.float64)))
    layout = data.draw(st.sampled_from(LAYOUTS))
    snap = snap_if_array(i=i, j=j, weight=weight, delay=delay)
    call = lambda: Connectivity.from_arrays(laid_out(i, layout), laid_out(j, layout), laid_out(weight, layout),  # noqa
                                            laid_out(delay, layout), n_pre=n_pre, n_post=n_post, dtype=dtype)
    if _refuses_bad_weight_or_delay(call, weight, delay, dtype, snap):
        return
    c = assert_connectivity(call(), n_pre, n_post)
    snap.assert_unchanged()
    ii, jj = np.broadcast_to(i, (k,)), np.broadcast_to(j, (k,))
    order = np.lexsort((jj, ii))
    np.testing.assert_array_equal(c.i, ii[order])
    np.testing.assert_array_equal(c.j, jj[order])
    w = np.broadcast_to(np.asarray(weight, np.float64), (k,))[order].astype(dtype)
    np.testing.assert_array_equal(c.weight, w)
    if delay is not None:
        np.testing.assert_array_equal(c.delay, np.broadcast_to(np.asarray(delay, np.float64), (k,))[order])


# ---------------------------------------------------------------- rules

RULES = {
    "all_to_all": (all_to_all, dict(n_pre=3, n_post=3)),
    "one_to_one": (one_to_one, dict(n=3)),
    "neighbourhood": (neighbourhood, dict(n_pre=3, n_post=3, k=1)),
    "bernoulli": (bernoulli, dict(n_pre=3, n_post=3, p=0.5)),
    "fixed_out_degree": (fixed_out_degree, dict(n_pre=3, n_post=3, degree=2)),
    "fixed_in_degree": (fixed_in_degree, dict(n_pre=3, n_post=3, degree=2)),
    "gaussian_distance": (gaussian_distance, dict(pre_positions=np.arange(3.0), sigma=1.0)),
}
RANDOM_RULES = ("bernoulli", "fixed_out_degree", "fixed_in_degree", "gaussian_distance")
COMMON = ("weight", "delay", "dtype")
RULE_ARGS = {
    "all_to_all": ("n_pre", "n_post", "self_connections", *COMMON, "backend"),
    "one_to_one": ("n", *COMMON),
    "neighbourhood": ("n_pre", "n_post", "k", "self_connections", *COMMON, "backend"),
    "bernoulli": ("n_pre", "n_post", "p", "condition", "k", "self_connections", *COMMON, "seed", "backend"),
    "fixed_out_degree": ("n_pre", "n_post", "degree", "self_connections", *COMMON, "seed", "backend"),
    "fixed_in_degree": ("n_pre", "n_post", "degree", "self_connections", *COMMON, "seed", "backend"),
    # weight_max: see test_gaussian_distance_bad_weight_max_is_named
    "gaussian_distance": ("pre_positions", "post_positions", "sigma", "p_max", "weight_sigma", "self_connections",
                          "delay", "dtype", "seed", "backend"),
}


def bad_rule_values(rule, arg):
    if arg in ("n", "n_pre", "n_post"):
        return st.one_of(bad_scalars(integer=True), st.sampled_from([-1, MAX_NEURONS + 1, 2**63]))
    if arg == "k":
        s = st.one_of(bad_scalars(integer=True), st.sampled_from([-1, 2**64]))
        return st.one_of(not_none(s), st.just(1)) if rule == "bernoulli" else s  # bernoulli: k needs the condition
    if arg == "degree":
        return st.one_of(bad_scalars(integer=True), st.sampled_from([-1, 4, 2**64]))
    if arg in ("p", "p_max"):
        return st.one_of(bad_scalars(), st.sampled_from([-0.1, -5e-324, 1.0000001, 2.0]))
    if arg in ("sigma", "weight_sigma"):
        return st.one_of(not_none(bad_scalars()), st.sampled_from([0.0, -1.0, 1e-151, 1e151]))
    if arg == "self_connections":
        return st.sampled_from(BAD_FLAGS)
    if arg == "weight":
        return st.one_of(bad_scalars(), st.sampled_from([np.ones(9), [1.0] * 9, 1e309]))
    if arg == "delay":
        return st.one_of(not_none(bad_scalars()), st.sampled_from([-1.0, -1e-300, np.zeros(9), [0.0]]))
    if arg == "dtype":
        return st.sampled_from(BAD_DTYPES)
    if arg == "seed":
        return bad_seeds()
    if arg == "backend":
        return st.sampled_from(BAD_BACKENDS)
    if arg == "condition":
        return st.sampled_from([3, [1], b"i!=j", "i == j", "i<j", "|i - j| < k", object(), np.array([True])])
    positions = st.one_of(wrong_dtype_arrays((3,), accept=FLOATS), st.sampled_from([
        np.array([0.0, np.nan, 1.0]), np.array([0.0, np.inf, 1.0]), np.zeros((3, 2, 1)), np.array([0.0, 1e151, 0.0]),
        "abc", [0.0, "a"]]))
    if arg == "post_positions":
        return st.one_of(positions, st.just(np.zeros((3, 2))))  # 2 coordinates against pre's 1
    return st.one_of(positions, st.none())


@pytest.mark.parametrize("rule", sorted(RULES))
@given(data=st.data())
def test_rule_bad_arguments_refused(rule, data):
    fn, good = RULES[rule]
    arg = data.draw(st.sampled_from(RULE_ARGS[rule]))
    bad = data.draw(bad_rule_values(rule, arg))
    kw = dict(good)
    gen = np.random.default_rng(11)
    if rule in RANDOM_RULES:
        kw["seed"] = gen
    kw[arg] = bad
    names = {"k": ("k", "condition"), "condition": ("condition", "k"), "degree": ("degree",)}.get(arg, (arg,))
    fails_cleanly(lambda: fn(**kw), *names, gen=gen, **({"bad": bad} if isinstance(bad, np.ndarray) else {}))


@given(bad=st.sampled_from([np.nan, np.inf, "1", None, np.ones(9)]))
def test_gaussian_distance_bad_weight_max_is_named(bad):
    raises_naming(lambda: gaussian_distance(np.arange(3.0), sigma=1.0, weight_max=bad, seed=0), "weight_max")


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_float32_weight_beyond_range_refused(rule):
    fn, good = RULES[rule]
    key = "weight_max" if rule == "gaussian_distance" else "weight"
    raises_naming(lambda: fn(**good, **{key: 1e39}, dtype=np.float32), "weight", key)


def allowed(n_pre, n_post, self_ok, k=None):
    return [(i, j) for i in range(n_pre) for j in range(n_post)
            if (self_ok or i != j) and (k is None or abs(i - j) <= k)]


def assert_constant_values(c, weight, delay, dtype):
    assert c.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(c.weight, np.full(c.n_synapses, weight, dtype=dtype))
    if delay is None:
        assert c.delay is None
    else:
        np.testing.assert_array_equal(c.delay, np.full(c.n_synapses, delay))


SIZES = st.integers(0, 6)
WEIGHTS = st.sampled_from([0.0, -0.0, 1.0, -2.5, 5e-324, F32_MAX, 1e308])
DELAYS = st.sampled_from([None, 0.0, -0.0, 0.25, 1e300, 5e-324])
EDGE_K = st.sampled_from([0, 1, 2, 5, 2**62, 2**63 - 1])


@pytest.mark.parametrize("rule", sorted(RULES))
@given(data=st.data())
def test_rule_edge_arguments_give_exactly_the_allowed_synapses(rule, data):
    fn = RULES[rule][0]
    dtype = data.draw(st.sampled_from(FLOATS))
    weight, delay = data.draw(WEIGHTS), data.draw(DELAYS)
    if dtype == np.float32 and weight > F32_MAX:
        weight = 1.0
    kw = dict(delay=delay, dtype=dtype)
    kw["weight_max" if rule == "gaussian_distance" else "weight"] = weight
    self_ok = data.draw(st.booleans())
    seed = data.draw(st.one_of(st.integers(0, 2**64 - 1), st.none()))
    backend = data.draw(st.sampled_from(["auto", "cpu"]))
    n_pre, n_post = data.draw(SIZES), data.draw(SIZES)
    if rule == "all_to_all":
        c = fn(n_pre, n_post, self_connections=self_ok, backend=backend, **kw)
        expect = allowed(n_pre, n_post, self_ok)
    elif rule == "one_to_one":
        c = fn(n_pre, **kw)
        n_post, expect = n_pre, [(i, i) for i in range(n_pre)]
    elif rule == "neighbourhood":
        k = data.draw(EDGE_K)
        c = fn(n_pre, n_post, k, self_connections=self_ok, backend=backend, **kw)
        expect = allowed(n_pre, n_post, self_ok, k)
    elif rule == "bernoulli":
        p = data.draw(st.sampled_from([0.0, 1e-3, 0.3, 0.5, 1.0 - 1e-16, 1.0]))
        cond = data.draw(st.sampled_from([None, "i != j", "abs(i-j)<=k", "|i - j| <= k", "callable"]))
        k = data.draw(EDGE_K) if cond in ("abs(i-j)<=k", "|i - j| <= k") else None
        fcond = (lambda i, j: (i + j) % 2 == 0) if cond == "callable" else cond
        c = fn(n_pre, n_post, p, condition=fcond, k=k, self_connections=self_ok, seed=seed, backend=backend, **kw)
        pool = [(i, j) for i, j in allowed(n_pre, n_post, self_ok and cond != "i != j", k)
                if cond != "callable" or (i + j) % 2 == 0]
        expect = pool if p == 1.0 else [] if p == 0.0 else None
        assert set(pairs_of(c)) <= set(pool) and len(set(pairs_of(c))) == c.n_synapses
    elif rule in ("fixed_out_degree", "fixed_in_degree"):
        rows, other = (n_pre, n_post) if rule == "fixed_out_degree" else (n_post, n_pre)
        most = other - (1 if not self_ok and min(rows, other) > 0 else 0)
        degree = data.draw(st.integers(0, max(most, 0)))
        c = fn(n_pre, n_post, degree, self_connections=self_ok, seed=seed, backend=backend, **kw)
        deg = c.out_degree() if rule == "fixed_out_degree" else c.in_degree()
        assert (deg == degree).all()
        assert len(set(pairs_of(c))) == c.n_synapses  # without replacement
        assert set(pairs_of(c)) <= set(allowed(n_pre, n_post, self_ok))
        expect = allowed(n_pre, n_post, self_ok) if self_ok and degree == other else None
    else:
        dims = data.draw(st.integers(1, 2))
        pre = data.draw(hnp.arrays(np.float64, (n_pre, dims), elements=st.sampled_from([0.0, -3.0, 1.5, 1e150, -1e150])))
        post = data.draw(st.one_of(st.none(), hnp.arrays(np.float64, (n_post, dims),
                                                         elements=st.floats(-1e150, 1e150))))
        n_post = n_pre if post is None else n_post
        sigma = data.draw(st.sampled_from([None, 1e-150, 1.0, 1e150]))
        weight_sigma = data.draw(st.sampled_from([None, 1e-150, 2.0, 1e150]))
        p_max = data.draw(st.sampled_from([0.0, 0.5, 1.0]))
        if dims == 1 and data.draw(st.booleans()):
            pre, post = pre[:, 0], None if post is None else post[:, 0]
        c = fn(pre, post, sigma=sigma, p_max=p_max, weight_sigma=weight_sigma, self_connections=self_ok,
               seed=seed, backend=backend, **kw)
        assert_connectivity(c, n_pre, n_post)
        pool = allowed(n_pre, n_post, self_ok)
        assert set(pairs_of(c)) <= set(pool) and len(set(pairs_of(c))) == c.n_synapses
        if p_max == 0.0:
            assert c.n_synapses == 0
        if p_max == 1.0 and sigma is None:
            assert pairs_of(c) == pool
        P = np.asarray(pre, np.float64).reshape(n_pre, dims)
        Q = P if post is None else np.asarray(post, np.float64).reshape(n_post, dims)
        d2 = ((P[c.i] - Q[c.j]) ** 2).sum(axis=1)
        with np.errstate(all="ignore"):
            w = weight * (np.ones_like(d2) if weight_sigma is None else np.exp(-d2 / (2.0 * weight_sigma**2)))
        tiny = (1e-290 if dtype == np.float64 else 1e-36) * max(1.0, abs(weight))
        np.testing.assert_allclose(c.weight, w.astype(dtype), rtol=1e-9 if dtype == np.float64 else 1e-6, atol=tiny)
        if delay is None:
            assert c.delay is None
        else:
            np.testing.assert_array_equal(c.delay, np.full(c.n_synapses, delay))
        if p_max == 1.0:  # at distance 0 the probability is p_max
            same = [(i, j) for i, j in pool if ((P[i] - Q[j]) ** 2).sum() == 0.0]
            assert set(same) <= set(pairs_of(c))
        return
    assert_connectivity(c, n_pre, n_post)
    assert_constant_values(c, weight, delay, dtype)
    if expect is not None:
        assert pairs_of(c) == expect


@pytest.mark.parametrize("rule", RANDOM_RULES)
@given(seed=st.integers(0, 2**64 - 1))
def test_random_rules_are_reproducible_and_the_same_on_cpu_and_parallel(rule, seed):
    fn, good = RULES[rule]
    kw = dict(good, n_pre=6, n_post=5) if rule != "gaussian_distance" else dict(good, pre_positions=np.arange(6.0))
    a, b, c = fn(**kw, seed=seed, backend="cpu"), fn(**kw, seed=seed, backend="parallel"), fn(**kw, seed=seed)
    for x in (b, c):
        np.testing.assert_array_equal(a.indptr, x.indptr)
        np.testing.assert_array_equal(a.post, x.post)
        np.testing.assert_array_equal(a.weight, x.weight)
    gen = np.random.default_rng(seed % 1000)
    before = gen.bit_generator.state
    assert_connectivity(fn(**kw, seed=gen))
    assert gen.bit_generator.state != before  # a Generator seed is drawn from when the rule draws


@pytest.mark.parametrize("rule, kw", [("bernoulli", dict(p=0.0)), ("bernoulli", dict(p=1.0)),
                                      ("fixed_out_degree", dict(degree=0)), ("fixed_in_degree", dict(degree=0)),
                                      ("gaussian_distance", dict(p_max=0.0)),
                                      ("gaussian_distance", dict(sigma=None, p_max=1.0))])
def test_rules_that_draw_nothing_leave_a_generator_alone(rule, kw):
    fn, good = RULES[rule]
    gen = np.random.default_rng(4)
    before = gen.bit_generator.state
    assert_connectivity(fn(**dict(good, **kw), seed=gen))
    assert gen.bit_generator.state == before


class ConditionFailed(Exception):
    pass


def _raise(i, j):
    raise ConditionFailed("from the user's callable")


BAD_CONDITIONS = {
    "list": lambda i, j: [True] * i.size, "ints": lambda i, j: (i != j).astype(np.int64), "none": lambda i, j: None,
    "str": lambda i, j: "yes", "2d": lambda i, j: np.ones((i.size, 1), bool), "long": lambda i, j: np.ones(i.size + 1, bool),
    "short": lambda i, j: np.ones(max(i.size - 1, 0), bool), "int": lambda i, j: 1, "object": lambda i, j: np.zeros(i.size, object),
    "floats": lambda i, j: np.ones(i.size), "float": lambda i, j: 1.0,
}


@pytest.mark.parametrize("p", [0.5, 1.0])
@pytest.mark.parametrize("case", sorted(BAD_CONDITIONS) + ["raises"])
def test_bernoulli_condition_callable_that_misbehaves(case, p):
    gen = np.random.default_rng(2)
    if case == "raises":  # the callable's own exception propagates; nothing is built, the generator restored
        snap = Snapshot(gen=gen)
        with pytest.raises(ConditionFailed):
            bernoulli(4, 4, p, condition=_raise, seed=gen)
        snap.assert_unchanged()
        return
    fails_cleanly(lambda: bernoulli(4, 4, p, condition=BAD_CONDITIONS[case], seed=gen), "condition", gen=gen)


@given(case=st.sampled_from(["true", "false", "np_true", "0d", "parity", "upper"]), seed=st.integers(0, 2**32),
       p=st.sampled_from([0.2, 0.5, 1.0]))
def test_bernoulli_condition_callable_filters_the_same_draws(case, seed, p):
    seen = []

    def cond(i, j):
        assert i.dtype == np.int64 and j.dtype == np.int64 and i.shape == j.shape
        seen.append(i.size)
        return {"true": True, "false": False, "np_true": np.True_, "0d": np.array(True), "parity": (i + j) % 2 == 0,
                "upper": i < j}[case]

    c = bernoulli(5, 4, p, condition=cond, seed=seed)
    plain = bernoulli(5, 4, p, seed=seed)
    keep = {"true": True, "false": False, "np_true": True, "0d": True}
    expect = [(i, j) for i, j in pairs_of(plain) if keep.get(case, (i + j) % 2 == 0 if case == "parity" else i < j)]
    assert_connectivity(c, 5, 4)
    assert pairs_of(c) == expect


TINY_P = """
import numpy as np
from fastkernels.networks import bernoulli, gaussian_distance
counts = [bernoulli(n, n, p, seed=s, backend="cpu").n_synapses for n in (3, 5) for p in (1e-30, 5e-324) for s in (0, 1)]
counts += [gaussian_distance(np.arange(float(n)), sigma=None, p_max=p, seed=s, backend="cpu").n_synapses
           for n in (3, 5) for p in (1e-100, 5e-324) for s in (0, 1)]
print(sum(counts))
"""


def test_tiny_probabilities_connect_almost_nothing():
    # in a child interpreter with a time limit: the defect can loop forever
    proc = subprocess.run([sys.executable, "-c", TINY_P], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert int(proc.stdout.split()[-1]) == 0  # expected about 1e-28 synapses in all


# ---------------------------------------------------------------- receptors

@given(case=st.sampled_from(["Current.tau", "Current.order", "Conductance.tau", "Conductance.E_rev"]), data=st.data())
def test_receptor_bad_parameters_refused(case, data):
    cls, field = case.split(".")
    if field == "order":
        bad = data.draw(st.one_of(bad_scalars(integer=True), st.sampled_from([-1, 4, 2**63])))
    elif field == "tau":
        bad = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -0.0, -1.0])))
    else:
        bad = data.draw(bad_scalars())
    kw = {"Current": dict(tau=5.0), "Conductance": dict(tau=5.0, E_rev=0.0)}[cls]
    kw[field] = bad
    raises_naming(lambda: {"Current": Current, "Conductance": Conductance}[cls](**kw), field)


TAUS = st.sampled_from([1e-3, 0.1, 5.0, 20.0, 1e6])


@given(tau=TAUS, order=st.integers(0, 3), dt=st.sampled_from([1e-3, 0.1, 1.0]),
       tau_m=st.lists(st.sampled_from([5.0, 20.0, 1e-2, 1e4]), min_size=1, max_size=4),
       method=st.sampled_from(["exact", "euler"]))
def test_current_coefficients_are_finite_and_match_the_formulas(tau, order, dt, tau_m, method):
    rec = Current(tau, order)
    tau_m = np.array(tau_m)
    R = np.linspace(0.5, 2.0, tau_m.size)
    if method == "euler" and order:
        raises_naming(lambda: rec.coefficients(tau_m, R, dt, method), "method")
        raises_naming(lambda: rec.engine_coefficients(tau_m.size, dt, method), "method")
        return
    coef, decay, h = rec.coefficients(tau_m, R, dt, method)
    for x in (coef, decay, h):
        assert x.shape == (order + 1, tau_m.size) and x.dtype == np.float64 and np.isfinite(x).all()
    np.testing.assert_array_equal(h, dt / tau)
    if method == "euler":
        np.testing.assert_array_equal(decay, 1.0 - dt / tau)
        np.testing.assert_array_equal(coef[0], 1.0 / R)
    else:
        np.testing.assert_array_equal(decay, math.exp(-dt / tau))
        assert (coef >= -1e-12 * np.abs(coef).max()).all()
        if order == 0:
            a, b = np.exp(-dt / tau_m), math.exp(-dt / tau)
            with np.errstate(all="ignore"):
                K = tau / (tau - tau_m) * (b - a) / (1.0 - a)
            K = np.where(np.isclose(tau_m, tau, rtol=1e-9, atol=0.0), dt / tau_m * a / (1.0 - a), K)
            np.testing.assert_allclose(coef[0], K / R, rtol=1e-6)
    ec, ed, eh = rec.engine_coefficients(tau_m.size, dt, method)
    np.testing.assert_array_equal(ec, np.eye(order + 1)[-1][:, None] * np.ones(tau_m.size))
    np.testing.assert_array_equal(ed, 1.0 - dt / tau if method == "euler" else math.exp(-dt / tau))
    np.testing.assert_array_equal(eh, dt / tau)


@given(tau=TAUS, E_rev=st.sampled_from([-80.0, 0.0, 1e300]), dt=st.sampled_from([1e-3, 0.1]),
       n=st.integers(1, 4), method=st.sampled_from(["exact", "euler", "rk4"]))
def test_conductance_coefficients_are_the_euler_step(tau, E_rev, dt, n, method):
    rec = Conductance(tau, E_rev)
    tau_m, R = np.full(n, 20.0), np.full(n, 2.0)
    if method != "euler":
        raises_naming(lambda: rec.coefficients(tau_m, R, dt, method), "method")
    else:
        coef, decay, E = rec.coefficients(tau_m, R, dt, method)
        np.testing.assert_array_equal(coef, np.full((1, n), 0.5))
        np.testing.assert_array_equal(decay, np.full((1, n), 1.0 - dt / tau))
        np.testing.assert_array_equal(E, np.full((1, n), E_rev))
    coef, decay, E = rec.engine_coefficients(n, dt, method)
    np.testing.assert_array_equal(coef, np.ones((1, n)))
    np.testing.assert_array_equal(decay, np.full((1, n), 1.0 - dt / tau if method == "euler" else math.exp(-dt / tau)))
    np.testing.assert_array_equal(E, np.full((1, n), E_rev))


@pytest.mark.parametrize("call, names", [
    (lambda: Current(5.0).coefficients(np.full(2, 20.0), np.ones(2), np.nan, "exact"), ("dt",)),
    (lambda: Current(5.0).coefficients(np.full(2, 20.0), np.ones(2), -0.1, "exact"), ("dt",)),
    (lambda: Current(5.0).coefficients(np.full(2, 20.0), np.ones(2), 0.1, "nope"), ("method",)),
    (lambda: Current(5.0).coefficients([20.0, 20.0], np.ones(2), 0.1, "exact"), ("tau_m",)),
    (lambda: Current(5.0).coefficients(np.full(2, 20.0), np.ones(3), 0.1, "exact"), ("resistance", "tau_m")),
    (lambda: Current(5.0).engine_coefficients(-1, 0.1, "euler"), ("n",)),
    (lambda: Current(5.0).engine_coefficients(2, np.nan, "euler"), ("dt",)),
    (lambda: Current(5.0).engine_coefficients(2, 0.1, "nope"), ("method",)),
    (lambda: Conductance(5.0, 0.0).coefficients(np.full(2, 20.0), np.ones(2), np.nan, "euler"), ("dt",)),
    (lambda: Conductance(5.0, 0.0).engine_coefficients("a", 0.1, "euler"), ("n",)),
    (lambda: Conductance(5.0, 0.0).engine_coefficients(2, -0.1, "euler"), ("dt",)),
], ids=["cur-dt-nan", "cur-dt-neg", "cur-method", "cur-tau_m-list", "cur-shapes", "cur-eng-n", "cur-eng-dt",
        "cur-eng-method", "cond-dt-nan", "cond-eng-n", "cond-eng-dt"])
def test_receptor_coefficients_bad_arguments_refused(call, names):
    raises_naming(call, *names)


# ---------------------------------------------------------------- NeuronGroup

MODELS = {"lif": LIF, "hh": HH, "izh": Izhikevich}


def bad_group_values(arg, n):
    if arg == "n":
        return st.one_of(bad_scalars(integer=True), st.sampled_from([0, -1, MAX_NEURONS + 1, 2**40]))
    if arg == "model":
        return st.sampled_from(["LIF", LIF, HH, object(), 3, {"tau_m": 20.0}, Current(5.0)])
    if arg == "receptors":
        return st.sampled_from([{"ge": 5.0}, {"ge": Current}, {"ge": None}, {"v": Current(5.0)}, {"g e": Current(5.0)},
                                {3: Current(5.0)}, {"": Current(5.0)}, {"ge": Conductance(5.0, 0.0)},
                                {"ge": LIF()}])
    if arg in ("v0", "I"):
        s = st.one_of(bad_scalars(), st.sampled_from([np.ones(n + 1), np.ones((n, 1)), np.array([np.nan] * n),
                                                      np.ones(n, np.complex128), np.full(n, "a"), [1.0] * (n - 1)]))
        return not_none(s).filter(lambda v: not isinstance(v, list) or len(v) != n) if arg == "v0" else s
    return st.sampled_from(["nope", 1, ["exact"], "EXACT", True, "exponential_euler"])


@pytest.mark.parametrize("kind", sorted(MODELS))
@given(arg=st.sampled_from(["n", "model", "receptors", "v0", "I", "method"]), data=st.data())
def test_neuron_group_bad_arguments_refused(kind, arg, data):
    n = 3
    kw = dict(n=n, model=MODELS[kind](), receptors=None, v0=None, I=0.0, method=None)
    kw[arg] = bad = data.draw(bad_group_values(arg, n))
    if arg == "receptors" and kind != "lif" and "ge" in bad and isinstance(bad["ge"], Conductance):
        return  # HH and Izhikevich groups take conductances with their own methods
    if arg == "method" and kind == "hh" and bad == "exponential_euler":
        return
    if arg == "method" and kind != "lif" and bad == "exponential_euler":
        bad = kw["method"] = "exact"
    names = {"receptors": ("receptors", "receptor")}.get(arg, (arg,))
    model = kw["model"]
    fails_cleanly(lambda: NeuronGroup(kw.pop("n"), kw.pop("model"), **kw), *names, model=model,
                  **({"bad": bad} if isinstance(bad, np.ndarray) else {}))


@pytest.mark.parametrize("kind", sorted(MODELS))
@given(field_value=st.sampled_from([np.nan, -1.0, "a", np.array([1.0, 2.0]), True]))
def test_neuron_group_refuses_a_bad_model_field_naming_it(kind, field_value):
    field = {"lif": "tau_m", "hh": "C_m", "izh": "a"}[kind]
    model = MODELS[kind](**{field: field_value})
    if kind == "izh" and isinstance(field_value, float) and field_value == -1.0:
        return  # a negative recovery rate is a valid Izhikevich parameter
    raises_naming(lambda: NeuronGroup(3, model), field)


@pytest.mark.parametrize("receptors", ["ge", [1], 5, [("ge", Current(5.0), 1)]], ids=["str", "list", "int", "triples"])
def test_neuron_group_receptors_not_a_mapping_refused(receptors):
    raises_naming(lambda: NeuronGroup(2, receptors=receptors), "receptors")


@pytest.mark.parametrize("kind", sorted(MODELS))
@given(data=st.data())
def test_neuron_group_edge_arguments_give_float64_state_copies(kind, data):
    n = data.draw(st.integers(1, 8))
    limit = {"lif": LIMIT, "hh": 1e3, "izh": LIMIT}[kind]
    v0 = data.draw(st.one_of(st.none(), st.sampled_from([0.0, -0.0, 5e-324, limit, -limit]),
                             hnp.arrays(data.draw(st.sampled_from([np.float64, np.float32, np.int64, np.int32])), n,
                                        elements=st.integers(-50, 50))))
    I = data.draw(st.one_of(st.sampled_from([0.0, 1e300, -1e300, 5e-324]),
                            hnp.arrays(np.float64, n, elements=st.floats(-1e3, 1e3))))
    orders = data.draw(st.lists(st.integers(0, 3), max_size=3))
    receptors = {f"r{q}": Current(5.0, o) for q, o in enumerate(orders)}
    if data.draw(st.booleans()) and kind != "lif":
        receptors["cond"] = Conductance(3.0, -80.0)
    layout = data.draw(st.sampled_from(LAYOUTS))
    snap = snap_if_array(v0=v0, I=I)
    G = NeuronGroup(n, MODELS[kind](), receptors=receptors, v0=laid_out(v0, layout), I=laid_out(I, layout))
    snap.assert_unchanged()
    assert len(G) == G.n == n
    for name, x in G.state.items():
        assert x.dtype == np.float64 and x.shape == (n,) and np.isfinite(x).all(), name
        for src in (v0, I):
            assert not (isinstance(src, np.ndarray) and np.shares_memory(src, x))
    assert G.v is G.state["v"]
    if v0 is None and kind != "hh":
        np.testing.assert_array_equal(G.v, {"lif": 0.0, "izh": -65.0}[kind])
    if v0 is not None:
        np.testing.assert_array_equal(G.v, np.broadcast_to(np.asarray(v0, np.float64), (n,)))
    np.testing.assert_array_equal(G.I, np.broadcast_to(np.asarray(I, np.float64), (n,)))
    assert set(G.g) == set(receptors)
    for name, rec in receptors.items():
        assert G.g[name].shape == ((n,) if rec.order == 0 else (rec.order + 1, n)) and not G.g[name].any()
    keys = G.receptor_keys()
    assert keys == [(q, rec.kind, rec.order) for q, rec in enumerate(receptors.values())]
    for q, name in enumerate(receptors):
        assert G.receptor_key(name) == keys[q]
    assert G.receptor_key("v") is None
    G.check_state()


@given(on_pre=st.sampled_from(["x", "V", "", " ge", "ge ", 3, None, 1.5, b"ge", "gi"]))
def test_receptor_key_refuses_what_is_not_a_receptor(on_pre):
    G = NeuronGroup(2, receptors={"ge": Current(5.0)})
    fails_cleanly(lambda: G.receptor_key(on_pre), "on_pre", G=G)


@pytest.mark.parametrize("caller", ["receptor_key", "Synapses"])
@pytest.mark.parametrize("on_pre", [["ge"], {"ge": 1}], ids=["list", "dict"])
def test_unhashable_on_pre_refused_naming_it(caller, on_pre):
    G = NeuronGroup(2, receptors={"ge": Current(5.0)})
    if caller == "receptor_key":
        raises_naming(lambda: G.receptor_key(on_pre), "on_pre")
    else:
        raises_naming(lambda: Synapses(G, G, one_to_one(2), on_pre=on_pre), "on_pre")


BROKEN_STATES = {
    "v-shape": (lambda G: G.state.__setitem__("v", np.zeros(G.n + 1)), "v"),
    "v-dtype": (lambda G: G.state.__setitem__("v", np.zeros(G.n, np.float32)), "v"),
    "v-list": (lambda G: G.state.__setitem__("v", [0.0] * G.n), "v"),
    "v-nan": (lambda G: G.v.__setitem__(0, np.nan), "v"),
    "v-inf": (lambda G: G.v.__setitem__(1, -np.inf), "v"),
    "v-runaway": (lambda G: G.v.__setitem__(0, 2e9), "v"),
    "since-negative": (lambda G: G.state["since"].__setitem__(0, -1.0), "since"),
    "w-nan": (lambda G: G.state["w"].__setitem__(0, np.nan), "w"),
    "threshold-2d": (lambda G: G.state.__setitem__("v_threshold", np.ones((G.n, 1))), "v_threshold"),
    "g-shape": (lambda G: G.g.__setitem__("ge", np.zeros(G.n + 1)), "g"),
    "g-int": (lambda G: G.g.__setitem__("gi", np.zeros(G.n, np.int64)), "g"),
    "g-nan": (lambda G: G.g["ge"].__setitem__(0, np.nan), "g"),
    "g-none": (lambda G: G.g.__setitem__("ge", None), "g"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_STATES))
def test_check_state_refuses_what_the_kernels_cannot_take(case):
    G = lif_group(3, name="G")
    breaks, name = BROKEN_STATES[case]
    breaks(G)
    fails_cleanly(G.check_state, name, G=G)


@pytest.mark.parametrize("entry", ["state.w", "g.ge"])
def test_check_state_refuses_a_missing_entry(entry):
    G = lif_group(3, name="G")
    where, key = entry.split(".")
    del getattr(G, where)[key]
    raises_naming(G.check_state, key, where)
    net = Network(G)
    fails_cleanly(lambda: net.run(0.5, backend="cpu", progress=False), key, where, net=net)


@pytest.mark.parametrize("make", ["NeuronGroup", "SpikeGeneratorGroup", "PoissonGroup", "Synapses"])
def test_names_must_be_strings(make):
    G = NeuronGroup(2)
    ctor = {"NeuronGroup": lambda nm: NeuronGroup(2, name=nm),
            "SpikeGeneratorGroup": lambda nm: SpikeGeneratorGroup(2, [0], [1.0], name=nm),
            "PoissonGroup": lambda nm: PoissonGroup(2, 1.0, name=nm),
            "Synapses": lambda nm: Synapses(G, G, one_to_one(2), name=nm)}[make]
    for bad in (5, ["G"], b"G", 0):
        raises_naming(lambda: ctor(bad), "name")


# ---------------------------------------------------------------- SpikeGeneratorGroup

def bad_generator_values(arg):
    if arg == "n":
        return st.one_of(bad_scalars(integer=True), st.sampled_from([0, -1, 1, MAX_NEURONS + 1]))
    if arg == "indices":
        return st.one_of(wrong_dtype_arrays((2,), accept=INDEX), st.sampled_from([
            np.array([0, 2]), np.array([-1, 0]), np.array([[0, 1]]), np.array([0, 1, 1]), None, "01", [0, 1.5]]))
    return st.one_of(not_pair_shaped(bad_scalars()), st.sampled_from([
        np.array([0.5, np.nan]), np.array([0.5, np.inf]), np.array([0.5, -1.0]), np.array([0.5, 1.0, 2.0]),
        [0.5], -5e-324]))


@given(arg=st.sampled_from(["n", "indices", "times"]), data=st.data())
def test_spike_generator_bad_arguments_refused(arg, data):
    kw = dict(n=2, indices=np.array([0, 1]), times=np.array([0.5, 1.0]))
    kw[arg] = bad = data.draw(bad_generator_values(arg))
    names = {"n": ("n", "indices"), "indices": ("indices", "times")}.get(arg, (arg,))
    fails_cleanly(lambda: SpikeGeneratorGroup(kw["n"], kw["indices"], kw["times"]), *names,
                  **{k: v for k, v in kw.items() if isinstance(v, np.ndarray)}, **({"bad": bad} if isinstance(
                      bad, np.ndarray) else {}))


@pytest.mark.parametrize("times", [["a", "b"], [object(), object()], [1j, 2j], [True, False], [[0.5, 1.0]]],
                         ids=["str", "object", "complex", "bool", "2d"])
def test_spike_generator_non_numeric_times_refused(times):
    raises_naming(lambda: SpikeGeneratorGroup(2, [0, 1], times), "times")


@given(data=st.data())
def test_spike_generator_steps_are_brian2_timesteps(data):
    n = data.draw(st.integers(1, 4))
    k = data.draw(st.integers(0, 8))
    ids = data.draw(hnp.arrays(data.draw(st.sampled_from(INDEX)), k, elements=st.integers(0, n - 1)))
    times = data.draw(hnp.arrays(np.float64, k, elements=st.one_of(
        st.floats(0, 10), st.sampled_from([0.0, -0.0, 5e-324, 0.1, 0.3, 0.7, 1e6]))))
    dt = data.draw(st.sampled_from([0.1, 0.05, 0.3, 1.0]))
    snap = Snapshot(ids=ids, times=times)
    src = SpikeGeneratorGroup(n, laid_out(ids, data.draw(st.sampled_from(LAYOUTS))), times)
    snap.assert_unchanged()
    expect_k = ((times + 1e-3 * dt) / dt).astype(np.int64)
    pairs = sorted(zip(expect_k.tolist(), ids.tolist()))
    if len(set(pairs)) < len(pairs):  # one source twice in one step
        fails_cleanly(lambda: src.steps(dt), "dt", "times", src=src)
        return
    steps, sid = src.steps(dt)
    assert steps.dtype == np.int64 and sid.dtype == np.int64 and (steps >= 0).all() and ((sid >= 0) & (sid < n)).all()
    assert list(zip(steps.tolist(), sid.tolist())) == pairs


@pytest.mark.parametrize("dt", [0.0, -0.1, np.nan, "a", None, 1e-320], ids=["zero", "neg", "nan", "str", "none", "tiny"])
def test_spike_generator_steps_bad_dt_refused(dt):
    src = SpikeGeneratorGroup(2, [0, 1], [0.5, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fails_cleanly(lambda: src.steps(dt), "dt", src=src)


def test_spike_generator_time_beyond_every_step_refused_or_never_negative():
    try:
        src = SpikeGeneratorGroup(1, [0], [1e300])
    except (TypeError, ValueError) as exc:
        assert "times" in str(exc)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            steps, _ = src.steps(DT)
        except (TypeError, ValueError) as exc:
            assert "times" in str(exc) or "dt" in str(exc)
        else:
            assert (steps >= 0).all()


# ---------------------------------------------------------------- PoissonGroup

def bad_rates():
    return st.one_of(bad_scalars(), st.sampled_from([
        -1.0, -5e-324, [1.0, -1.0, 1.0], np.ones(4), np.ones((3, 1)), np.ones(3, bool), [1.0, np.inf, 1.0],
        np.array([1.0, np.nan, 1.0]), np.ones(3, np.complex128), "fast", 2**64]))


@given(arg=st.sampled_from(["n", "rates"]), data=st.data())
def test_poisson_group_bad_arguments_refused(arg, data):
    if arg == "n":
        bad = data.draw(st.one_of(bad_scalars(integer=True), st.sampled_from([0, -1, MAX_NEURONS + 1])))
        raises_naming(lambda: PoissonGroup(bad, 10.0), "n")
        return
    bad = data.draw(bad_rates())
    snap = snap_if_array(bad=bad)
    raises_naming(lambda: PoissonGroup(3, bad), "rates")
    snap.assert_unchanged()


@given(bad=bad_rates().filter(lambda r: not (np.asarray(r).dtype.kind in "iuf" and np.asarray(r).size and
                                             (np.asarray(r, dtype=np.float64) < 0).any())))
def test_poisson_rates_assignment_is_validated_and_atomic(bad):
    P = PoissonGroup(3, [1.0, 2.0, 3.0])
    fails_cleanly(lambda: setattr(P, "rates", bad), "rates", P=P)


@pytest.mark.parametrize("bad", [-1.0, [1.0, -1.0, 1.0]])
def test_poisson_negative_rates_assignment_leaves_the_group_unchanged(bad):
    P = PoissonGroup(3, [1.0, 2.0, 3.0])
    fails_cleanly(lambda: setattr(P, "rates", bad), "rates", P=P)


@given(rates=st.one_of(st.sampled_from([0.0, 5e-324, 1e-300, 10.0, 1e4, 1e300]),
                       hnp.arrays(np.float64, 3, elements=st.floats(0, 1e5))),
       dt=st.sampled_from([0.0, 1e-300, 0.05, 0.1, 1.0, 1e300]))
def test_poisson_probabilities_are_rates_times_dt_or_refused(rates, dt):
    P = PoissonGroup(3, rates)
    assert P.rates.shape == (3,) and P.rates.dtype == np.float64
    if dt == 0.0:  # a step must be > 0 (as Network(dt=...) and SpikeGeneratorGroup.steps(dt) require)
        fails_cleanly(lambda: P.probabilities(dt), "dt", P=P)
        return
    with np.errstate(all="ignore"):
        p = np.broadcast_to(np.asarray(rates, np.float64), (3,)) * (dt * 1e-3)
    if (p > 1).any():
        fails_cleanly(lambda: P.probabilities(dt), "rates", P=P)
        return
    out = P.probabilities(dt)
    assert out.shape == (3,) and ((out >= 0) & (out <= 1)).all()
    np.testing.assert_array_equal(out, p)


@pytest.mark.parametrize("dt", [np.nan, -0.1, "a", None], ids=["nan", "neg", "str", "none"])
def test_poisson_probabilities_bad_dt_refused(dt):
    P = PoissonGroup(3, 10.0)
    fails_cleanly(lambda: P.probabilities(dt), "dt", P=P)


@given(rate=st.sampled_from([0.0, 1e4]), per_source=st.booleans(), dt=st.sampled_from([0.1, 0.05, 0.2]),
       steps=st.integers(1, 30), seed=st.integers(0, 2**32))
def test_poisson_group_spikes_never_at_rate_0_and_every_step_at_rate_times_dt_1(rate, per_source, dt, steps, seed):
    r = rate * 0.1 / dt  # rate * dt = 0 or 1 exactly (in Hz * s)
    P = PoissonGroup(3, np.full(3, r) if per_source else r)
    M, R = SpikeMonitor(P), PopulationRateMonitor(P)
    net = Network(lif_group(2), P, M, R, dt=dt, seed=seed)
    net.run(steps * dt, backend="cpu", progress=False)
    assert net.step == steps
    if r == 0.0:
        assert M.num_spikes == 0 and not R.rate.any()
    else:
        assert M.num_spikes == 3 * steps
        np.testing.assert_array_equal(M.count, [steps] * 3)
        np.testing.assert_allclose(R.rate, 1000.0 / dt)
    assert_spike_monitor(M, 0, steps, dt)


# ---------------------------------------------------------------- Synapses

def bad_synapse_values(arg):
    if arg in ("source", "target"):
        return st.sampled_from([None, "G", np.zeros(3), Connectivity([0, 0, 0, 0], [], n_post=3), LIF(), 3,
                                NeuronGroup, [NeuronGroup(3)]])
    if arg == "connectivity":
        return st.sampled_from([None, np.eye(3), "c", all_to_all(2, 3), all_to_all(3, 2), [[0, 1]], 1.0])
    if arg == "on_pre":
        return st.sampled_from(["x", "V", 3, "", "ge ", b"ge", 1.5, True])
    return st.sampled_from([{}, STDP, "stdp", 0.01, True, {"A_pre": 0.01}, LIF()])


@given(arg=st.sampled_from(["source", "target", "connectivity", "on_pre", "stdp"]), data=st.data())
def test_synapses_bad_arguments_refused(arg, data):
    G = NeuronGroup(3, receptors={"ge": Current(5.0)}, name="G")
    c = all_to_all(3, 3, weight=0.5)
    kw = dict(source=G, target=G, connectivity=c, on_pre="ge", stdp=None)
    kw[arg] = data.draw(bad_synapse_values(arg))
    fails_cleanly(lambda: Synapses(kw.pop("source"), kw.pop("target"), kw.pop("connectivity"), **kw), arg, G=G, c=c)


@given(case=st.sampled_from(["poisson-target", "generator-target", "size-pre", "size-post"]))
def test_synapses_shape_and_target_rules(case):
    G = NeuronGroup(3, name="G")
    P, src = PoissonGroup(3, 1.0), SpikeGeneratorGroup(3, [0], [1.0])
    if case == "poisson-target":
        fails_cleanly(lambda: Synapses(G, P, one_to_one(3), on_pre="v"), "target", G=G, P=P)
        S = Synapses(G, P, one_to_one(3), on_pre=None)  # a projection that only learns may end at a source
        assert S.key is None and len(S) == 3
    elif case == "generator-target":
        fails_cleanly(lambda: Synapses(G, src, one_to_one(3)), "target", G=G, src=src)
    else:
        c = all_to_all(2, 3) if case == "size-pre" else all_to_all(3, 4)
        fails_cleanly(lambda: Synapses(G, G, c), "connectivity", G=G, c=c)


def test_synapses_expose_the_connectivity_they_read():
    G = lif_group(3, name="G")
    c = all_to_all(3, 3, weight=0.5)
    S = Synapses(G, G, c, on_pre="gi", stdp=STDP())
    assert S.weight is c.weight and S.delay is None and len(S) == 9 and S.key == G.receptor_key("gi")
    S.weight = 0.25
    assert (c.weight == 0.25).all()
    snap = Snapshot(c=c)
    raises_naming(lambda: setattr(S, "weight", np.nan), "weight")
    raises_naming(lambda: setattr(S, "delay", -1.0), "delay")
    snap.assert_unchanged()
    assert S.a_pre.shape == (3,) and S.a_post.shape == (3,) and not S.a_pre.any()


# ---------------------------------------------------------------- STDP

STDP_FIELDS = ("tau_pre", "tau_post", "A_pre", "A_post", "w_max", "w_min")


@given(field=st.sampled_from(STDP_FIELDS), data=st.data())
def test_stdp_bad_fields_refused(field, data):
    extra = [0.0, -1.0] if field.startswith("tau") else []
    bad = data.draw(st.one_of(bad_scalars(), st.sampled_from(extra + [np.float64("nan")])))
    if field == "A_post":
        assume(bad is not None)
    if field == "w_max":
        assume(not (isinstance(bad, float) and bad == math.inf))
    if field == "w_min":
        assume(not (isinstance(bad, float) and bad == -math.inf))
    names = ("w_min", "w_max") if field.startswith("w_") else (field,)
    raises_naming(lambda: STDP(**{field: bad}), *names)


@given(case=st.sampled_from([dict(w_min=1.0, w_max=0.0), dict(w_min=math.inf, w_max=math.inf),
                             dict(w_min=-math.inf, w_max=-math.inf), dict(A_pre=1e308, tau_pre=10.0, tau_post=1.0),
                             dict(A_pre=-1e308, tau_pre=1e300, tau_post=1e-300)]))
def test_stdp_inconsistent_fields_refused(case):
    raises_naming(lambda: STDP(**case), *case, "A_post")


@given(delta_t=st.one_of(odd_float_arrays(st.integers(0, 5), dtype=np.float64),
                         odd_float_arrays((2, 2), dtype=np.float32),
                         st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, np.nan, 3, -2, np.int32(7)])),
       rule=st.sampled_from([STDP(), STDP(tau_pre=5.0, tau_post=50.0, A_pre=-0.5, A_post=2.0, w_min=-1, w_max=1),
                             STDP(tau_pre=1e-300, tau_post=1e300, A_pre=1e300, A_post=-1e300)]))
def test_stdp_window_is_the_formula(delta_t, rule):
    snap = snap_if_array(delta_t=delta_t)
    w = rule.window(delta_t)
    snap.assert_unchanged()
    d = np.asarray(delta_t, np.float64)
    with np.errstate(all="ignore"):
        ref = np.where(d >= 0, rule.A_pre * np.exp(-np.abs(d) / rule.tau_pre),
                       rule.A_post * np.exp(-np.abs(d) / rule.tau_post))
    ref = np.where(np.isnan(d), np.nan, ref)
    if np.ndim(delta_t) == 0:
        assert isinstance(w, float)
    else:
        assert w.shape == d.shape and w.dtype == np.float64
    np.testing.assert_array_equal(w, ref)
    assert rule.window(0.0) == rule.A_pre


@given(delta_t=st.sampled_from(["a", None, [1.0, "a"], 1j, np.array([1j]), object(), np.array(["1"]),
                                np.zeros(2, object)]))
def test_stdp_window_refuses_what_is_not_real(delta_t):
    raises_naming(lambda: STDP().window(delta_t), "delta_t")


@given(dt=st.one_of(bad_scalars(), st.sampled_from([0.0, -0.1, -0.0])))
def test_stdp_kernel_params_bad_dt_refused(dt):
    rule = STDP()
    fails_cleanly(lambda: rule.kernel_params(dt), "dt", rule=rule)


@given(dt=st.sampled_from([5e-324, 1e-3, 0.1, 1.0, 1e300]),
       rule=st.sampled_from([STDP(), STDP(w_min=-math.inf, w_max=math.inf), STDP(tau_pre=1e-3, tau_post=1e6)]))
def test_stdp_kernel_params_are_the_documented_array(dt, rule):
    p = rule.kernel_params(dt)
    assert p.dtype == np.float64 and p.shape == (6,)
    with np.errstate(all="ignore"):
        ref = [rule.A_pre, rule.A_post, dt / rule.tau_pre, dt / rule.tau_post, rule.w_min, rule.w_max]
    np.testing.assert_array_equal(p, ref)
    assert rule.integral == rule.A_pre * rule.tau_pre + rule.A_post * rule.tau_post


# ---------------------------------------------------------------- monitors

@given(kind=st.sampled_from(["SpikeMonitor", "StateMonitor", "PopulationRateMonitor"]),
       group=st.sampled_from([None, "G", np.zeros(3), LIF(), Connectivity([0], [], n_post=1), 3, [NeuronGroup(2)],
                              NeuronGroup, "poisson"]))
def test_monitor_bad_group_refused(kind, group):
    if isinstance(group, str) and group == "poisson":
        if kind != "StateMonitor":
            return  # spikes and rates of a source group are recorded
        group = PoissonGroup(2, 5.0)
    cls = {"SpikeMonitor": SpikeMonitor, "StateMonitor": StateMonitor, "PopulationRateMonitor": PopulationRateMonitor}
    raises_naming(lambda: cls[kind](group), "group")


@given(arg=st.sampled_from(["record", "every"]), data=st.data())
def test_state_monitor_bad_arguments_refused(arg, data):
    G = NeuronGroup(3, name="G")
    if arg == "record":
        bad = data.draw(st.sampled_from([3, -1, [0, 3], [0.5], "a", [True], np.array([True, False, True]), 1.0,
                                         object(), 2**63, np.array([0, -1])]))
        fails_cleanly(lambda: StateMonitor(G, bad), "record", G=G)
    else:
        bad = data.draw(st.one_of(bad_scalars(integer=True), st.sampled_from([0, -1])).filter(
            lambda v: not (isinstance(v, int) and v > 2**63 - 1)))  # see test_state_monitor_every_beyond_int64
        fails_cleanly(lambda: StateMonitor(G, True, every=bad), "every", G=G)


def test_state_monitor_every_beyond_int64_refused_or_runs():
    G = lif_group(2, name="G")
    try:
        SM = StateMonitor(G, every=2**63)
    except (TypeError, ValueError) as exc:
        assert "every" in str(exc)
        return
    Network(G, SM).run(1.0, backend="cpu", progress=False)
    assert SM.t.tolist() == [0.0]


@given(width=st.one_of(bad_scalars(), st.sampled_from([0.0, -1.0, -0.0])))
def test_smooth_rate_bad_width_refused(rate_net, width):
    R = rate_net[1]
    fails_cleanly(lambda: R.smooth_rate(width), "width", R=R)


@pytest.fixture(scope="module")
def rate_net():
    G = lif_group(4, I=np.array([1.2, 3.0, 10.0, 50.0]), name="G")
    R, M = PopulationRateMonitor(G), SpikeMonitor(G)
    net = Network(G, R, M)
    net.run(3.0, backend="cpu", progress=False)
    return net, R, M


@given(width=st.sampled_from([5e-324, 1e-3, 0.05, 0.1, 0.25, 0.3, 1.0, 2.0, 2.9]))
def test_smooth_rate_is_a_flat_window_of_the_rate(rate_net, width):
    net, R, M = rate_net
    assert R.rate.size == R.t.size == 30 and R.rate.any()
    s = R.smooth_rate(width)
    assert s.shape == R.rate.shape and np.isfinite(s).all() and (s >= 0).all()
    k = max(1, int(round(width / DT)))
    k += 1 - k % 2
    np.testing.assert_allclose(s, np.convolve(R.rate, np.ones(k) / k, mode="same"), rtol=1e-12)
    if width <= DT / 2:
        np.testing.assert_array_equal(s, R.rate)


@pytest.mark.parametrize("width", [3.0, 100.0, 1e308])
def test_smooth_rate_with_a_window_longer_than_the_recording(rate_net, width):
    R = rate_net[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        s = R.smooth_rate(width)
    assert s.shape == R.rate.shape and np.isfinite(s).all()


def test_empty_monitors_are_empty():
    G = lif_group(3, name="G")
    M, SM, R = SpikeMonitor(G), StateMonitor(G, [0, 2]), PopulationRateMonitor(G)
    assert M.t.size == 0 and M.i.dtype == np.int64 and M.count.tolist() == [0, 0, 0] and M.num_spikes == 0
    assert list(M.spike_trains()) == [0, 1, 2] and all(tr.size == 0 for tr in M.spike_trains().values())
    assert SM.t.size == 0 and SM.v.shape == (2, 0) and set(SM.values) == {"v", "ge", "gi"}
    assert R.smooth_rate(1.0).size == 0
    with pytest.raises(AttributeError, match="u"):
        SM.u  # noqa: B018


# ---------------------------------------------------------------- Network: construction and add

@given(arg=st.sampled_from(["dt", "seed", "dtype", "objects"]), data=st.data())
def test_network_bad_arguments_refused(arg, data):
    G = lif_group(2, name="G")
    if arg == "dt":
        bad = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -0.1, -0.0])))
        fails_cleanly(lambda: Network(G, dt=bad), "dt", G=G)
    elif arg == "seed":
        bad = data.draw(bad_seeds())
        fails_cleanly(lambda: Network(G, seed=bad), "seed", G=G)
    elif arg == "dtype":
        bad = data.draw(st.sampled_from(BAD_DTYPES))
        fails_cleanly(lambda: Network(G, dtype=bad), "dtype", G=G)
    else:  # *objects has no name: the message says what a Network holds
        bad = data.draw(st.sampled_from(["G", None, 3, LIF(), all_to_all(2, 2), [G], NeuronGroup, Current(5.0),
                                         STDP()]))
        fails_cleanly(lambda: Network(G, bad), "objects", "Network holds", G=G)


@given(bad=st.sampled_from(["G", None, 3, LIF(), [1], all_to_all(2, 2)]), dup=st.booleans())
def test_network_add_is_checked_and_atomic(bad, dup):
    G = lif_group(2, name="G")
    net = Network(G)
    H = lif_group(2, name="H")
    if dup:  # one already in the network: refused, and H with it
        fails_cleanly(lambda: net.add(H, G), "already in the network", net=net)
    else:
        fails_cleanly(lambda: net.add(H, bad), "objects", "Network holds", net=net)
    assert len(net.objects) == 1
    net.add(H, SpikeMonitor(H))
    assert len(net.objects) == 3


@pytest.mark.parametrize("how", ["constructor", "add"])
def test_network_refuses_an_object_twice_in_one_call(how):
    G = lif_group(2, name="G")
    if how == "constructor":
        raises_naming(lambda: Network(G, G), "already in the network", "twice")
    else:
        net = Network()
        fails_cleanly(lambda: net.add(G, G), "already in the network", "twice", net=net)


# ---------------------------------------------------------------- Network.run: consistency of a run

def assert_spike_monitor(M, k0, k1, dt):
    """The spikes of steps [k0, k1): float64 times on the step grid, sorted by step then index, ids in range."""
    t, i = M.t, M.i
    assert t.dtype == np.float64 and i.dtype == np.int64 and t.shape == i.shape and M.num_spikes == t.size
    assert np.isfinite(t).all() and ((i >= 0) & (i < M.group.n)).all()
    k = np.rint(t / dt).astype(np.int64)
    np.testing.assert_allclose(t, k * dt, rtol=1e-12, atol=0)
    assert ((k >= k0) & (k < k1)).all(), "spike outside the run"
    assert (np.lexsort((i, k)) == np.arange(t.size)).all(), "spikes not sorted by step then index"
    assert len(set(zip(k.tolist(), i.tolist()))) == t.size, "a neuron spiked twice in one step"
    np.testing.assert_array_equal(M.count, np.bincount(i, minlength=M.group.n))
    trains = M.spike_trains()
    assert list(trains) == list(range(M.group.n))  # every neuron, as Brian2
    assert M.it[0].tolist() == i.tolist()
    for q, train in trains.items():
        np.testing.assert_array_equal(train, t[i == q])
    return k, i


def assert_run_consistent(net, mons, k0, k1):
    dt = net.dt
    assert net.step == k1 and net.t == k1 * dt
    for obj in net.objects:
        if isinstance(obj, NeuronGroup):
            obj.check_state()
            for name, x in list(obj.state.items()) + list(obj.g.items()):
                assert x.dtype == np.float64 and np.isfinite(x).all(), name
            assert (np.abs(obj.v) <= LIMIT).all()
        elif isinstance(obj, Synapses):
            assert_connectivity(obj.connectivity)
            if obj.stdp is not None:
                w = obj.weight
                assert ((w >= obj.stdp.w_min) & (w <= obj.stdp.w_max)).all(), "STDP weight outside [w_min, w_max]"
                assert np.isfinite(obj.a_pre).all() and np.isfinite(obj.a_post).all()
    spikes = {}
    for m in mons:
        if isinstance(m, SpikeMonitor):
            spikes[id(m.group)] = assert_spike_monitor(m, 0, k1, dt)
    for m in mons:
        if isinstance(m, StateMonitor):
            t = m.t
            assert t.dtype == np.float64 and (np.diff(t) > 0).all()
            np.testing.assert_allclose(t, np.arange(0, k1, m.every)[:t.size] * dt, rtol=1e-12)
            assert t.size == len(range(0, k1, m.every))
            for name, x in m.values.items():
                assert x.shape == (m.record.size, t.size) and np.isfinite(x).all(), name
        elif isinstance(m, PopulationRateMonitor):
            assert m.t.size == m.rate.size == k1 and np.isfinite(m.rate).all() and (m.rate >= 0).all()
            np.testing.assert_allclose(m.t, np.arange(k1) * dt, rtol=1e-12)
            if id(m.group) in spikes:
                k, _ = spikes[id(m.group)]
                np.testing.assert_allclose(m.rate * m.group.n * dt * 1e-3, np.bincount(k, minlength=k1), rtol=1e-9)


@st.composite
def networks(draw, stdp=False):
    """A tiny network of the module's one layout, with edge values where the contract allows them (the first
    choice of each draw, where hypothesis starts, is an active network: driven neurons, spiking sources)."""
    n = draw(st.integers(2, 6))
    v0 = draw(st.one_of(st.sampled_from([0.999, 0.0, -1e3, 5e-324, -1e6]),
                        hnp.arrays(np.float64, n, elements=st.floats(-5, 0.999))))
    I = draw(st.one_of(st.sampled_from([50.0, 1.5, 0.0, -1e6, 5e-324]),
                       hnp.arrays(np.float64, n, elements=st.floats(-10, 60))))
    G = lif_group(n, v0=v0, I=I, name="G")
    spikes = draw(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 60)), min_size=1, max_size=8, unique=True))
    src = SpikeGeneratorGroup(2, [s[0] for s in spikes], [s[1] * DT for s in spikes], name="src")
    rates = draw(st.one_of(st.sampled_from([1e4, 500.0, 0.0]), hnp.arrays(np.float64, 3, elements=st.floats(0, 1e4))))
    P = PoissonGroup(3, rates, name="P")
    objs = [G, src, P]
    weights = st.one_of(st.sampled_from([0.5, -0.3, 1.2, 0.0, 2.0, -2.0]), st.floats(-2, 2))
    for q, (pre, rule) in enumerate([(src, draw(st.sampled_from(["all", "bernoulli", "arrays"]))),
                                     (P, draw(st.sampled_from(["all", "fixed_in"]))),
                                     (G, draw(st.sampled_from(["fixed_out", "neighbourhood", "none"])))]):
        if rule == "none":
            continue
        c = {"all": lambda: all_to_all(pre.n, n),
             "bernoulli": lambda: bernoulli(pre.n, n, 0.5, seed=q),
             "arrays": lambda: Connectivity.from_arrays([0, 0, 1], [0, 0, n - 1], n_pre=2, n_post=n),
             "fixed_in": lambda: fixed_in_degree(pre.n, n, 2, seed=q),
             "fixed_out": lambda: fixed_out_degree(n, n, 1, self_connections=False, seed=q),
             "neighbourhood": lambda: neighbourhood(n, n, 1)}[rule]()
        c.weight = draw(hnp.arrays(np.float64, c.n_synapses, elements=weights))
        plastic = stdp and not draw(st.booleans())
        if not plastic and not draw(st.booleans()):
            c.delay = draw(hnp.arrays(np.float64, c.n_synapses, elements=st.sampled_from([0.35, 0.0, 0.05, 0.1, 1.0])))
        rule_ = None
        if plastic:
            lo, hi = draw(st.sampled_from([(0.0, 0.01), (-1.0, 1.0), (-math.inf, 0.5), (0.0, math.inf)]))
            c.weight = np.clip(c.weight, lo, hi)
            rule_ = STDP(tau_pre=draw(st.sampled_from([20.0, 1.0, 1e6])), tau_post=draw(st.sampled_from([20.0, 0.5])),
                         A_pre=draw(st.sampled_from([0.01, -0.5, 1.0])), A_post=draw(st.sampled_from([None, 0.3, -2.0])),
                         w_min=lo, w_max=hi)
        on_pre = draw(st.sampled_from(["v", "ge", "gi"]))
        objs.append(Synapses(pre, G, c, on_pre=on_pre, stdp=rule_, name=f"S{q}"))
    record = draw(st.sampled_from([True, [0], [n - 1, 0], []]))
    mons = [SpikeMonitor(G), SpikeMonitor(src), SpikeMonitor(P), StateMonitor(G, record, every=draw(st.integers(1, 3))),
            PopulationRateMonitor(G), PopulationRateMonitor(P)]
    net = Network(*objs, *mons, dt=DT, seed=draw(st.integers(0, 2**64 - 1)))
    durations = draw(st.lists(st.sampled_from([2.5, 1.0, 0.5, 0.15, 0.1, 0.06]), min_size=1, max_size=3))
    return net, G, src, P, mons, durations


@given(case=networks())
def test_runs_of_edge_networks_are_self_consistent(case):
    net, G, src, P, mons, durations = case
    k = 0
    for d in durations:
        net.run(d, backend="cpu", progress=False)
        k += int(round(d / DT))
        assert_run_consistent(net, mons, 0, k)
    steps, ids = src.steps(DT)
    inside = steps < k
    got = mons[1]
    np.testing.assert_array_equal(np.rint(got.t / DT).astype(np.int64), steps[inside])
    np.testing.assert_array_equal(got.i, ids[inside])
    if not P.rates.any():
        assert mons[2].num_spikes == 0
    if (P.rates == 1e4).all():
        assert mons[2].num_spikes == 3 * k


@given(case=networks(stdp=True))
def test_stdp_keeps_weights_within_their_bounds(case):
    net, G, src, P, mons, durations = case
    k = 0
    for d in durations:
        net.run(d, backend="cpu", progress=False)
        k += int(round(d / DT))
        assert_run_consistent(net, mons, 0, k)


def test_stdp_with_subnormal_time_constants_is_refused_or_stays_finite():
    try:
        rule = STDP(tau_pre=5e-324, tau_post=5e-324, A_post=-0.01)
    except (TypeError, ValueError) as exc:
        assert "tau_pre" in str(exc) or "tau_post" in str(exc)
        return
    G = lif_group(3, I=1.5, name="G")
    src = SpikeGeneratorGroup(2, [0, 1, 0], [0.0, 0.3, 1.0])
    S = Synapses(src, G, all_to_all(2, 3, weight=0.005), on_pre="ge", stdp=rule)
    mons = [SpikeMonitor(G)]
    net = Network(G, src, S, *mons)
    net.run(5.0, backend="cpu", progress=False)
    assert_run_consistent(net, mons, 0, 50)


def fixed_network(stdp=True, seed=3):
    G = lif_group(4, v0=[0.0, 0.5, 0.9, 0.99], I=1.2, name="G")
    src = SpikeGeneratorGroup(2, [0, 1, 0, 1], [0.0, 0.3, 2.0, 2.0], name="src")
    P = PoissonGroup(2, 2000.0, name="P")
    c1 = all_to_all(2, 4, weight=0.4)
    c1.delay = np.array([0.0, 0.2, 0.5, 1.0, 0.1, 0.1, 0.3, 2.0])
    S1 = Synapses(src, G, c1, on_pre="ge", name="S1")
    S2 = Synapses(P, G, all_to_all(2, 4, weight=0.3), on_pre="v", name="S2")
    S3 = Synapses(G, G, all_to_all(4, 4, self_connections=False, weight=0.002), on_pre="gi",
                  stdp=STDP() if stdp else None, name="S3")
    mons = [SpikeMonitor(G), StateMonitor(G, [0, 2]), PopulationRateMonitor(G), SpikeMonitor(P)]
    return Network(G, src, P, S1, S2, S3, *mons, seed=seed), G, P, c1, mons


def running_network():
    """A network after a first run, with spikes recorded and delayed effects in flight."""
    net, G, P, c1, mons = fixed_network()
    net.run(1.5, backend="cpu", progress=False)
    assert net._pending is not None and mons[0].num_spikes + mons[3].num_spikes > 0
    return net, G, P, c1, mons


def test_serial_and_parallel_runs_are_the_same():
    results = []
    for backend in ("cpu", "parallel"):
        net, G, P, c1, mons = fixed_network(stdp=False)
        net.run(3.0, backend=backend, progress=False)
        assert_run_consistent(net, mons, 0, 30)
        results.append((mons[0].t, mons[0].i, mons[1].v, mons[3].i, G.v.copy(), G.g["ge"].copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_progress_bar_runs_are_the_same_run():
    a, b = fixed_network(), fixed_network()
    a[0].run(2.0, backend="cpu", progress=True)
    b[0].run(2.0, backend="cpu", progress=False)
    np.testing.assert_array_equal(a[4][0].t, b[4][0].t)
    np.testing.assert_array_equal(a[1].v, b[1].v)


@given(arg=st.sampled_from(["duration", "backend", "progress"]), data=st.data())
def test_run_bad_arguments_leave_the_network_unchanged(arg, data):
    net, G, P, c1, mons = running_network()
    kw = dict(duration=1.0, backend="cpu", progress=False)
    if arg == "duration":
        kw[arg] = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -0.0, -1.0, 0.04, 0.05, 5e-324])))
    elif arg == "backend":
        kw[arg] = data.draw(st.sampled_from(BAD_BACKENDS))
    else:
        kw[arg] = data.draw(st.sampled_from(["yes", None, 2, -1, 1.0, [True], "never", "Auto"]))
    fails_cleanly(lambda: net.run(kw.pop("duration"), **kw), arg, net=net)


BAD_RUN_STATES = {
    "v-nan": (lambda net, G, P, c1: G.v.__setitem__(0, np.nan), ("v",)),
    "v-shape": (lambda net, G, P, c1: setattr(G, "v", np.zeros(3)), ("v",)),
    "v-runaway": (lambda net, G, P, c1: G.v.__setitem__(1, -2e9), ("v",)),
    "g-float32": (lambda net, G, P, c1: G.g.__setitem__("ge", np.zeros(4, np.float32)), ("g",)),
    "since-negative": (lambda net, G, P, c1: G.state["since"].__setitem__(2, -3.0), ("since",)),
    "rates-inf": (lambda net, G, P, c1: P.rates.__setitem__(0, np.inf), ("rates",)),
    "rates-negative": (lambda net, G, P, c1: P.rates.__setitem__(1, -5.0), ("rates",)),
    "rates-dt-above-1": (lambda net, G, P, c1: P.rates.__setitem__(0, 2e4), ("rates",)),
    "rates-shape": (lambda net, G, P, c1: setattr(P, "_rates", np.ones(3)), ("rates",)),
    "delay-negative": (lambda net, G, P, c1: c1.delay.__setitem__(3, -0.5), ("delay",)),
    "delay-nan": (lambda net, G, P, c1: c1.delay.__setitem__(0, np.nan), ("delay",)),
    "delay-huge": (lambda net, G, P, c1: c1.delay.__setitem__(0, 1e300), ("delay",)),
    "weight-nan": (lambda net, G, P, c1: c1.weight.__setitem__(0, np.nan), ("weight",)),
    "weight-inf": (lambda net, G, P, c1: c1.weight.__setitem__(5, -np.inf), ("weight",)),
    "monitor-group-missing": (lambda net, G, P, c1: net.objects.append(SpikeMonitor(NeuronGroup(2, name="stray"))),
                              ("group", "stray")),
    "stdp-with-delays": (lambda net, G, P, c1: setattr(net.objects[5], "delay", 0.5), ("delay", "STDP")),
    "model-class-mix": (lambda net, G, P, c1: net.objects.insert(0, NeuronGroup(2, Izhikevich(), name="izh")),
                        ("model",)),
    "lif-flags-mix": (lambda net, G, P, c1: net.objects.insert(0, lif_group(2, model=LIF(freeze_refractory=False),
                                                                            name="F")), ("freeze_refractory",)),
    "synapse-target-missing": (lambda net, G, P, c1: net.objects.append(Synapses(G, lif_group(2, name="stray"),
                                                                                 all_to_all(4, 2), on_pre="ge")),
                               ("target", "stray")),
    "group-added-in-flight": (lambda net, G, P, c1: net.add(lif_group(2, name="late")), ("groups",)),
}


@pytest.mark.parametrize("case", sorted(BAD_RUN_STATES))
def test_run_refuses_a_bad_state_and_leaves_the_network_unchanged(case):
    net, G, P, c1, mons = running_network()
    breaks, names = BAD_RUN_STATES[case]
    breaks(net, G, P, c1)
    fails_cleanly(lambda: net.run(1.0, backend="cpu", progress=False), *names, net=net)


def test_a_run_that_blows_up_raises_simulation_error_and_changes_nothing():
    G = lif_group(2, model=LIF(v_threshold=1e300, v_reset=0.0, tau_ref=0.0), v0=0.0, name="G")
    src = SpikeGeneratorGroup(1, [0], [2.0], name="src")
    S = Synapses(src, G, Connectivity.from_arrays([0], [1], weight=1e300, n_pre=1, n_post=2), on_pre="ge")
    mons = [SpikeMonitor(G), StateMonitor(G), PopulationRateMonitor(G), SpikeMonitor(src)]
    net = Network(G, src, S, *mons)
    net.run(1.0, backend="cpu", progress=False)
    snap = Snapshot(net=net)
    with pytest.raises(SimulationError, match="neuron 1") as info:
        net.run(10.0, backend="cpu", progress=False)
    assert "G" in str(info.value)
    snap.assert_unchanged()
    assert net.step == 10


@pytest.mark.parametrize("duration", [1e300, 1e18])
def test_run_refuses_a_duration_beyond_int64_steps(duration):
    net = running_network()[0]
    fails_cleanly(lambda: net.run(duration, backend="cpu", progress=False), "duration", net=net)


def test_run_refuses_a_delay_ring_beyond_memory():
    G = lif_group(8, name="G")
    src = SpikeGeneratorGroup(1, [0], [0.0])
    c = all_to_all(1, 8, delay=2e8)  # 2e9 steps: a ring of 2e9 x 3 x 8 float64 (384 GB)
    net = Network(G, src, Synapses(src, G, c, on_pre="ge"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = used + 16 * 2**30  # the ring must fail to allocate even where memory is overcommitted
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        fails_cleanly(lambda: net.run(1.0, backend="cpu", progress=False), "delay", net=net)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_float32_network_refuses_weights_beyond_its_range():
    G = lif_group(2, name="G")
    src = SpikeGeneratorGroup(1, [0], [0.0])
    net = Network(G, src, Synapses(src, G, all_to_all(1, 2, weight=1e39), on_pre="ge"), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        exc = fails_cleanly(lambda: net.run(1.0, backend="cpu", progress=False), "weight", net=net)
    assert "float32" in str(exc)


@given(value=st.sampled_from([1e39, -1e39, 3.5e38, 1e308]))
def test_float32_network_refuses_an_input_beyond_its_range(value):
    G = lif_group(2, name="G", I=value)
    net = Network(G, SpikeMonitor(G), dtype=np.float32)
    fails_cleanly(lambda: net.run(0.5, backend="cpu", progress=False), "I", net=net)


def test_float32_network_refuses_a_receptor_value_beyond_its_range_naming_it():
    G = lif_group(2, name="G")
    G.g["ge"][:] = 1e39
    net = Network(G, dtype=np.float32)
    fails_cleanly(lambda: net.run(0.5, backend="cpu", progress=False), "ge", "g", net=net)


@pytest.mark.parametrize("tau, dt", [(5e-324, 0.1), (1e-300, 1e300)])
def test_receptor_whose_dt_over_tau_overflows_runs_cleanly(tau, dt):
    G = NeuronGroup(2, receptors={"ge": Current(tau), "gi": Current(10.0)}, I=1.5, name="G")
    src = SpikeGeneratorGroup(1, [0], [0.0])
    mons = [SpikeMonitor(G), StateMonitor(G)]
    net = Network(G, src, Synapses(src, G, all_to_all(1, 2, weight=0.5), on_pre="ge"), *mons, dt=dt)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        net.run(3 * dt, backend="cpu", progress=False)
    assert_run_consistent(net, mons, 0, 3)


@given(tau=st.sampled_from([1e-300, 1e-3, 1e6, 1e300]), dt=st.sampled_from([0.1, 0.05, 1.0, 1e300]))
def test_edge_time_constants_and_steps_run_consistently_or_are_refused(tau, dt):
    assume(math.isfinite(dt / tau))  # see test_receptor_whose_dt_over_tau_overflows_runs_cleanly
    G = NeuronGroup(2, receptors={"ge": Current(tau), "gi": Current(10.0)}, I=1.5, name="G")
    src = SpikeGeneratorGroup(1, [0], [0.0])
    mons = [SpikeMonitor(G), StateMonitor(G), PopulationRateMonitor(G)]
    net = Network(G, src, Synapses(src, G, all_to_all(1, 2, weight=0.5), on_pre="ge"), *mons, dt=dt)
    snap = Snapshot(net=net)
    try:
        net.run(3 * dt, backend="cpu", progress=False)
    except (TypeError, ValueError) as exc:
        assert any(n in str(exc) for n in ("dt", "tau", "tau_ref")), exc
        snap.assert_unchanged()
    else:
        assert_run_consistent(net, mons, 0, 3)
