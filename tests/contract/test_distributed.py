"""Contract tests of fastkernels.distributed (docs/CONTRACT.md): every public function, class and method driven
with generated bad and edge inputs.

A bad input must raise TypeError/ValueError (FileNotFoundError for a missing shard) naming the argument, before
anything is submitted to Dask: the module's one client (an in-process LocalCluster of one single-threaded worker)
counts every submit/run/gather/plugin call, and a refused call must have made none. The caller's grid columns,
arrays, models, vocabularies, shard lists and Generator seeds must be unchanged after any error, including a
SweepError raised after the work ran. A call that returns on edge input must give the plain loop's answer (a sweep
in grid order, point seeds, chunk sizes within their bounds). Nothing here runs a neuron kernel beyond the
zero-duration validation run the helpers make on the client, so the module takes a few seconds.
"""

import inspect
import itertools
import os
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

distributed = pytest.importorskip("distributed")

import fastkernels.distributed as fkd  # noqa: E402
from fastkernels.distributed import (  # noqa: E402
    PointFailure,
    PopulationRates,
    SearchResult,
    SweepError,
    WarmupPlugin,
    auto_chunk,
    build_vocabulary,
    count_pairs,
    count_words,
    grid_search,
    point_seed,
    predict,
    predict_blocks,
    predict_proba,
    simulate_population,
    sweep,
    vectorized,
    warm_workers,
)
from fastkernels.distributed._cluster import MAX_SCALAR_CHUNK, MAX_VECTOR_CHUNK, MIN_VECTOR_CHUNK  # noqa: E402
from fastkernels.neurons import HH, LIF, simulate_lif  # noqa: E402
from fastkernels.word2vec import Vocabulary  # noqa: E402

from .harness import CLEAR_ERRORS, Snapshot, bad_scalars, bad_seeds, fails_cleanly, raises_naming  # noqa: E402

pytestmark = pytest.mark.bad_input

COVERS = {
    "sweep", "point_seed", "vectorized", "auto_chunk", "PointFailure", "SearchResult", "SearchResult.to_frame",
    "PopulationRates", "simulate_population", "build_vocabulary", "count_words", "count_pairs",
    "predict_blocks", "predict", "predict_proba", "grid_search", "WarmupPlugin", "WarmupPlugin.setup",
    "warm_workers",
}

BAD_FLAGS = [None, "yes", "no", 2, -1, 0.5, np.array([True]), [True], "True"]
BAD_CLIENTS = ["tcp://127.0.0.1:1", 1, object(), True, distributed.LocalCluster]
BAD_INTS = [v for v in [np.nan, np.inf, True, "1", None, [1], np.array([1.0, 2.0]), 1 + 2j, 1.5, 2.0,
                        np.float64(3.0), 0, -1]]
NO_PANDAS = "pandas" not in sys.modules and __import__("importlib").util.find_spec("pandas") is None
#: client methods that send work, data or plugins to the cluster: a refused call makes none of them
SENDING = ("submit", "map", "run", "run_on_scheduler", "register_plugin", "register_worker_plugin", "scatter",
           "compute", "persist", "gather", "upload_file")


# ---------------------------------------------------------------- the cluster and the spy

@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
    c = distributed.Client(cluster)
    calls = []
    for name in SENDING:
        method = getattr(c, name, None)
        if method is None:
            continue

        def spy(*args, _method=method, _name=name, **kwargs):
            calls.append(_name)
            return _method(*args, **kwargs)

        setattr(c, name, spy)
    c.sent = calls
    yield c
    for name in SENDING:
        c.__dict__.pop(name, None)
    c.close()
    cluster.close()


def refused(client, fn, *names, errors=CLEAR_ERRORS, **objects):
    """``fails_cleanly`` plus: nothing was sent to the cluster."""
    before = len(client.sent)
    exc = fails_cleanly(fn, *names, errors=errors, **objects)
    assert client.sent[before:] == [], f"{client.sent[before:]} sent to the cluster before the error {exc!r}"
    return exc


def test_the_spy_sees_a_submission(client):
    before = len(client.sent)
    assert sweep(_add, {"a": [1, 2]}, client=client).tolist() == [2.0, 3.0]
    assert "submit" in client.sent[before:] and "gather" in client.sent[before:]


# ---------------------------------------------------------------- sweep

def _add(a, b=1.0, seed=None):
    return a + b + (0 if seed is None else seed % 7)


def _fails_on_2(a, seed=None):
    if a == 2:
        raise ValueError("two is bad")
    return float(a)


def sweep_bad_values(arg):
    if arg == "fn":
        return st.sampled_from([None, 1, "f", [_add], np.array([1.0])])
    if arg in ("product", "vectorized", "as_frame", "progress"):
        return st.sampled_from([v for v in BAD_FLAGS if not (arg == "vectorized" and v is None)])
    if arg in ("chunk", "numba_threads"):
        return st.sampled_from([v for v in BAD_INTS if v is not None])
    if arg == "seed":
        return bad_seeds()
    if arg == "errors":
        return st.sampled_from(["ignore", None, 1, ["raise"], np.array(["raise", "collect"]), "RAISE", b"raise"])
    if arg == "client":
        return st.sampled_from(BAD_CLIENTS)
    return st.sampled_from([  # grid
        None, [1, 2], "a", 3, {"a": 1}, {"a": "xyz"}, {"a": b"xy"}, {"a": []}, {"a": np.array(3)},
        {"a": np.ones((2, 2))}, {"a": {1, 2}}, {"a": {"x": 1}}, {1: [1]}, {}, {"a": iter([1, 2])},
        {"a": np.arange(1 << 16), "b": np.arange(1 << 16), "c": np.arange(1 << 16), "d": np.arange(1 << 16)},
        {"a": None}, {"a": np.array([])}])


SWEEP_ARGS = ["fn", "grid", "product", "vectorized", "chunk", "seed", "errors", "as_frame", "progress",
              "numba_threads", "client"]


@pytest.mark.parametrize("arg", SWEEP_ARGS)
@given(data=st.data())
def test_sweep_bad_arguments_refused_before_submitting(client, arg, data):
    cols = {"a": np.array([1, 2, 3]), "b": [10.0, 20.0]}
    kw = dict(fn=_add, grid=cols, client=client, seed=np.random.default_rng(5))
    kw[arg] = data.draw(sweep_bad_values(arg), label=arg)
    if arg == "seed" and kw["seed"] is None:
        return
    objects = dict(a=cols["a"], b=cols["b"])
    if isinstance(kw["seed"], np.random.Generator):
        objects["seed"] = kw["seed"]
    refused(client, lambda: sweep(kw.pop("fn"), kw.pop("grid"), **kw), arg, **objects)


@pytest.mark.parametrize("fn, grid, kw, names", [
    (_add, {"c": [1]}, {}, ("c",)),  # a name fn does not take
    (_add, {"b": [1.0]}, {}, ("a",)),  # a required parameter the grid leaves out
    (_add, {"a": [1], "seed": [1]}, dict(seed=2), ("seed",)),  # seed twice
    (lambda a: a, {"a": [1]}, dict(seed=2), ("seed",)),  # seed to a fn without one
    (lambda a, /: a, {"a": [1]}, {}, ("a",)),  # positional-only: not a keyword
    (_add, {"a": [1, 2], "b": [1.0]}, dict(product=False), ("a", "b", "grid")),  # zipped columns of two lengths
    (max, {"a": [1]}, dict(vectorized=True, errors="nope"), ("errors",)),  # no signature: names not checked
])
def test_sweep_grid_names_checked_against_fn(client, fn, grid, kw, names):
    g = np.random.default_rng(0)
    refused(client, lambda: sweep(fn, grid, client=client, **kw), *names, g=g)


def test_sweep_without_pandas_refuses_as_frame_before_the_work(client):
    if not NO_PANDAS:
        pytest.skip("pandas is installed")
    g = np.random.default_rng(1)
    refused(client, lambda: sweep(_add, {"a": [1]}, as_frame=True, seed=g, client=client), "pandas",
            errors=(ImportError,), g=g)


def test_sweep_error_after_the_work_leaves_the_generator_seed(client):
    g = np.random.default_rng(3)
    cols = {"a": np.arange(5)}
    snap = Snapshot(g=g, a=cols["a"])
    with pytest.raises(SweepError, match=r"grid point 2 \{'a': 2\}: ValueError: two is bad") as info:
        sweep(_fails_on_2, cols, client=client, chunk=2, seed=g)
    snap.assert_unchanged()  # the draw is undone: rerunning gives the same seeds
    err = info.value
    assert [f.index for f in err.failures] == [2] and isinstance(err.failures[0], PointFailure)
    assert err.failures[0].point == {"a": 2} and "two is bad" in err.failures[0].traceback
    np.testing.assert_array_equal(err.results, [0.0, 1.0, np.nan, 3.0, 4.0])
    # errors="collect" returns: the call succeeded, the Generator gave its one draw
    values, failures = sweep(_fails_on_2, cols, client=client, seed=g, errors="collect")
    assert [f.index for f in failures] == [2] and np.isnan(values[2]) and values[4] == 4.0
    assert g.bit_generator.state != np.random.default_rng(3).bit_generator.state


@given(product=st.sampled_from([True, False, np.True_, np.False_, 1, 0]),
       progress=st.sampled_from([False, np.False_, 0]),
       as_frame=st.sampled_from([False, np.False_, 0]),
       chunk=st.sampled_from([None, 1, 2, np.int64(3), np.array(2), 10**30]),
       threads=st.sampled_from([None, 1, np.int32(2), 2**70]),
       a=st.lists(st.integers(-5, 5), min_size=1, max_size=4),
       b=st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=3),
       seed=st.sampled_from([None, 0, 2**100, np.uint64(7)]))
def test_sweep_edge_arguments_give_the_plain_loop(client, product, progress, as_frame, chunk, threads, a, b, seed):
    if not bool(product):
        b = (b * 4)[:len(a)]
        b += [0.5] * (len(a) - len(b))
    cols = {"a": np.array(a), "b": list(b)}
    snap = Snapshot(a=cols["a"], b=cols["b"])
    out = sweep(_add, cols, product=product, progress=progress, as_frame=as_frame, chunk=chunk, numba_threads=threads,
                seed=seed, client=client)
    snap.assert_unchanged()
    points = itertools.product(a, b) if bool(product) else zip(a, b)
    expect = [_add(x, y, seed=None if seed is None else point_seed(seed, i)) for i, (x, y) in enumerate(points)]
    np.testing.assert_array_equal(out, expect)


def test_vectorized_sweep_of_a_column_with_an_object(client):
    @vectorized
    def first(a):
        return np.array([str(v)[:1] for v in a])

    out = sweep(first, {"a": [1, "b", None, [2, 3]]}, client=client, chunk=3)
    assert out.tolist() == ["1", "b", "N", "["]


# ---------------------------------------------------------------- point_seed, vectorized, auto_chunk

@given(seed=st.one_of(bad_seeds(), st.just(np.random.default_rng(0)), st.just(None)))
def test_point_seed_refuses_bad_seeds(seed):
    g = seed if isinstance(seed, np.random.Generator) else None
    fails_cleanly(lambda: point_seed(seed, 0), "seed", **({"g": g} if g is not None else {}))


@given(index=st.one_of(bad_scalars(integer=True), st.sampled_from([-1, -(2**70)])))
def test_point_seed_refuses_bad_indices(index):
    if type(index) is int and index > 0:
        return  # an index of any size is fine, as a seed is (SeedSequence's spawn key)
    raises_naming(lambda: point_seed(1, index), "index")


@given(seed=st.integers(0, 2**200), index=st.integers(0, 2**70))
def test_point_seed_is_a_63_bit_function_of_seed_and_index(seed, index):
    s = point_seed(seed, index)
    assert type(s) is int and 0 <= s < 2**63
    assert s == point_seed(seed, index)
    if seed < 2**63 and index < 2**63:
        assert s == point_seed(np.int64(seed), np.int64(index)) == point_seed(np.array(seed), index)
    assert s != point_seed(seed, index + 1)


class _Slotted:
    __slots__ = ()

    def __call__(self, a):
        return a


@pytest.mark.parametrize("fn", [None, 1, "f", [len], len, _Slotted(), _Slotted().__call__, np.array([1])])
def test_vectorized_refuses_what_it_cannot_mark(fn):
    raises_naming(lambda: vectorized(fn), "fn", errors=(TypeError,))


def test_vectorized_marks_and_returns_the_function():
    def f(a):
        return a

    class Callable:
        def __call__(self, a):
            return a

    c = Callable()
    assert vectorized(f) is f and vectorized(c) is c
    assert f.__fastkernels_vectorized__ and c.__fastkernels_vectorized__


@pytest.mark.parametrize("arg", ["n_items", "threads", "vectorized"])
@given(data=st.data())
def test_auto_chunk_refuses_bad_arguments(arg, data):
    kw = dict(n_items=1000, threads=4, vectorized=True)
    if arg == "vectorized":
        kw[arg] = data.draw(st.sampled_from([v for v in BAD_FLAGS if v is not None] + [None]))
    else:
        kw[arg] = data.draw(st.sampled_from([v for v in BAD_INTS if not (arg == "n_items" and type(v) is int and v == 0)]
                                            + [-(2**70)]))
    raises_naming(lambda: auto_chunk(**kw), arg)


@given(n=st.integers(0, 10**12), threads=st.integers(1, 10**6), vect=st.sampled_from([True, False, np.True_, 0]))
def test_auto_chunk_stays_within_its_bounds(n, threads, vect):
    c = auto_chunk(n, threads, vect)
    assert type(c) is int and c >= 1
    assert c == auto_chunk(np.int64(n), np.int64(threads), bool(vect))
    if vect:
        assert c <= max(n, 1) and c <= MAX_VECTOR_CHUNK
        assert c >= min(max(n, 1), MIN_VECTOR_CHUNK)
    else:
        assert c <= MAX_SCALAR_CHUNK
    if n:
        assert c >= min(-(-n // (4 * threads)), MIN_VECTOR_CHUNK if vect else 1, n)


# ---------------------------------------------------------------- PopulationRates

def rates_bad_values(arg):
    return st.sampled_from({
        "model": [LIF, None, object(), "LIF", 1.0, SearchResult([], np.zeros(0), -1, {}, np.nan)],
        "backend": ["cuda", "auto", None, 1, "CPU", np.array(["cpu", "x"]), ["cpu"]],
        "duration": [np.nan, np.inf, -np.inf, True, "1", None, [1.0], 1 + 2j, 0.0, -1.0],
        "transient": [np.nan, np.inf, -1.0, True, "1", None, 1000.0, 2000.0],
        "dt": [0.0, -0.1, np.nan, np.inf, "0.1", True, 0.3, [0.1]],
        "I": [np.nan, np.inf, "a", True, np.ones(3), [np.nan], 1 + 2j, np.array(["a"])],
        "method": ["nope", 1, ["exact"], True],
        "dtype": ["float16", None, np.int32, "nope"],
        "v0": [np.nan, "a", np.ones(2)],
        "seed": [1, None],
        "bogus": [1],
        "tau_m": [-1.0, np.nan, 0.0, "a"],
    }[arg])


@pytest.mark.parametrize("arg", ["model", "backend", "duration", "transient", "dt", "I", "method", "dtype", "v0", "seed",
                                 "bogus", "tau_m"])
@given(data=st.data())
def test_population_rates_checks_every_option_when_made(arg, data):
    value = data.draw(rates_bad_values(arg), label=arg)
    model = LIF(tau_m=value) if arg == "tau_m" else LIF()
    kw = dict(duration=1000.0)
    if arg not in ("model", "tau_m"):
        kw[arg] = value
    names = {"dt": ("dt", "duration")}.get(arg, (arg,))
    m = value if arg == "model" else model
    fails_cleanly(lambda: PopulationRates(m, **kw), *names, **({"model": model} if arg != "model" else {}))


def test_population_rates_call_refuses_bad_columns_before_running():
    pr = PopulationRates(LIF(), duration=1.0)
    for kw, name, err in [(dict(tau_x=[1.0]), "tau_x", ValueError), (dict(I=np.array(["a"])), "I", TypeError),
                          (dict(I=np.array([True, False])), "I", TypeError),
                          (dict(tau_m=[1.0, "a"]), "tau_m", TypeError), (dict(tau_m=[[1.0], [2.0, 3.0]]), "tau_m", TypeError),
                          (dict(I=[1.0, 2.0], tau_m=[10.0]), "lengths", ValueError),
                          (dict(tau_m=np.array([None, 1.0])), "tau_m", TypeError)]:
        snap = Snapshot(model=pr.model, **{k: v for k, v in kw.items() if isinstance(v, np.ndarray)})
        raises_naming(lambda: pr(**kw), name, errors=(err,))
        snap.assert_unchanged()


def test_population_rates_signature_lists_the_grid_names(client):
    pr = PopulationRates(HH(), duration=1.0)
    params = inspect.signature(pr).parameters
    assert {"I", "seed", "g_Na", "C_m"} <= set(params) and all(p.kind == p.KEYWORD_ONLY for p in params.values())
    refused(client, lambda: sweep(pr, {"bogus": [1.0]}, client=client), "bogus")
    refused(client, lambda: sweep(pr, {"I": [1.0]}, client=client, seed=True), "seed")


# ---------------------------------------------------------------- simulate_population

N = 4


def population_bad_values(arg):
    return st.sampled_from({
        "simulate": [None, 1, print, len, lambda model, n, duration: None, LIF, "simulate_lif"],
        "model": [LIF, object(), HH(), None],
        "n": BAD_INTS + [2**62, -(2**70)],
        "duration": [np.nan, np.inf, -1.0, "1", None, True, 1.05, 1e300],
        "dt": [0.0, -0.1, np.nan, np.inf, "0.1", True, 0.3],
        "chunk": [v for v in BAD_INTS if v is not None],
        "numba_threads": [v for v in BAD_INTS if v is not None],
        "progress": BAD_FLAGS,
        "client": BAD_CLIENTS,
        "backend": ["cuda", "gpu", None, 1, np.array(["cpu", "x"]), ["cpu"]],
        "seed": [v for v in [-1, 1.5, 2.0, "0", b"0", [0], np.array([1, 2]), True, object(),
                             np.random.RandomState(0), -(2**200)]],
        "I": [np.ones(N - 1), np.full(N, np.nan), "a", np.ones((2, N)), np.ones(N, bool), [1.0, np.inf, 1.0, 1.0]],
        "record": [[N], [-1], [0.5], "u", [0, N]],
        "v0": [np.full(N, np.nan), np.ones(N + 1), "a"],
        "method": ["nope", 3],
        "bogus": [1],
    }[arg])


POPULATION_ARGS = ["simulate", "model", "n", "duration", "dt", "chunk", "numba_threads", "progress", "client",
                   "backend", "seed", "I", "record", "v0", "method", "bogus"]


@pytest.mark.parametrize("arg", POPULATION_ARGS)
@given(data=st.data())
def test_simulate_population_refuses_bad_arguments_before_submitting(client, arg, data):
    model, I = LIF(tau_m=np.linspace(10.0, 20.0, N)), np.linspace(0.5, 2.0, N)
    kw = dict(simulate=simulate_lif, model=model, n=N, duration=1.0, dt=0.1, client=client, I=I,
              seed=np.random.default_rng(2))
    kw[arg] = data.draw(population_bad_values(arg), label=arg)
    names = {"n": ("n",), "dt": ("dt", "duration"), "duration": ("duration",)}.get(arg, (arg,))
    objects = dict(model=model, I=I)
    if isinstance(kw["seed"], np.random.Generator):
        objects["seed"] = kw["seed"]
    refused(client, lambda: simulate_population(kw.pop("simulate"), kw.pop("model"), kw.pop("n"), kw.pop("duration"),
                                                kw.pop("dt"), **kw), *names, **objects)


# ---------------------------------------------------------------- corpora

@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    paths = []
    for i, text in enumerate([b"the cat sat\nthe dog\n", b"a cat and a dog\n"]):
        p = root / f"part{i}.txt"
        p.write_bytes(text)
        paths.append(str(p))
    return paths


def bad_shards(paths):
    root = os.path.dirname(paths[0])
    return st.sampled_from([None, 1, [], [1], [None], b"part0.txt", [paths[0].encode()], os.path.join(root, "nope"),
                            [root], [paths[0], os.path.join(root, "missing.txt")], iter([]), [paths[0] + "\0"],
                            [[paths[0]]]])


CORPUS_ERRORS = CLEAR_ERRORS + (FileNotFoundError,)


def corpus_bad_values(arg, paths):
    if arg == "shards":
        return bad_shards(paths)
    return st.sampled_from({
        "encoding": ["utf-16", "nope", None, 1, "rot13", b"utf-8"],
        "chunk_bytes": [v for v in BAD_INTS if v is not None] + [2**62],
        "progress": BAD_FLAGS,
        "client": BAD_CLIENTS,
        "min_count": [0, 1.5, True, "1", None, -1],
        "max_size": [0, 1.5, True, "2", -1],
        "unk": [1, "", "a\0", b"UNK"],
        "ties": ["last", None, 1],
        "vocab": [None, {"the": 1}, ["the"], "the"],
        "window": [0, -1, 1.5, True, "2", None, np.nan, 2.0],
        "unknown": ["bogus", 1, "UNK", "unk"],  # "unk": the vocabulary has no UNK word
        "max_sentence_length": [0, -1, 1.5, True, "3", np.nan],
    }[arg])


CORPUS_ARGS = {"count_words": ["shards", "encoding", "chunk_bytes", "progress", "client"],
               "build_vocabulary": ["shards", "encoding", "chunk_bytes", "progress", "client", "min_count", "max_size",
                                    "unk", "ties"],
               "count_pairs": ["shards", "chunk_bytes", "progress", "client", "vocab", "window", "unknown",
                               "max_sentence_length"]}


@pytest.mark.parametrize("fn, arg", [(fn, arg) for fn, args in CORPUS_ARGS.items() for arg in args])
@given(data=st.data())
def test_corpus_helpers_refuse_bad_arguments_before_submitting(client, shards, fn, arg, data):
    vocab = Vocabulary(["the", "cat", "dog"], [3, 2, 2])
    paths = list(shards)
    kw = dict(shards=paths, client=client)
    if fn == "count_pairs":
        kw["vocab"] = vocab
    kw[arg] = data.draw(corpus_bad_values(arg, shards), label=arg)
    names = ("max_size", "unk") if arg == "max_size" else ("unk", "UNK") if arg == "unknown" else (arg,)
    call = {"count_words": count_words, "build_vocabulary": build_vocabulary, "count_pairs": count_pairs}[fn]
    args = (kw.pop("shards"), kw.pop("vocab")) if fn == "count_pairs" else (kw.pop("shards"),)
    refused(client, lambda: call(*args, **kw), *names, errors=CORPUS_ERRORS, paths=paths, vocab=vocab)


# ---------------------------------------------------------------- predict_blocks, predict, predict_proba

class Means:
    """A fitted nearest-mean classifier of 2 classes on 3 features (NumPy only); it refuses X as MLP does."""

    def __init__(self):
        self.means = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])

    def _check(self, X):
        X = np.asarray(X)
        if X.dtype.kind not in "f":
            raise TypeError(f"X must have dtype float32 or float64, got {X.dtype}")
        if X.ndim != 2 or X.shape[1] != 3:
            raise ValueError(f"X has {X.shape[-1]} features, but Means is expecting 3")
        return X

    def predict_proba(self, X):
        d = -((self._check(X)[:, None, :] - self.means[None]) ** 2).sum(-1)
        e = np.exp(d - d.max(1, keepdims=True)) if len(X) else d
        return e / e.sum(1, keepdims=True) if len(X) else e

    def predict(self, X):
        return self.predict_proba(X).argmax(1)


class OnlyPredict:
    predict_proba = None

    def predict(self, X):
        return np.zeros(len(X), np.int64)


def predict_bad_values(arg):
    da = pytest.importorskip("dask.array")
    return st.sampled_from({
        "method": ["nope", None, 1, ["predict"], np.array(["predict", "x"]), "fit", "score", "PREDICT"],
        "model": [None, object(), OnlyPredict(), Means, "model"],
        "X": [None, "abc", 1.0, np.ones(3), np.ones((2, 2, 3)), [[1.0, 2.0, 3.0]], da.ones(3),
              np.ones((4, 3), np.int64), np.ones((4, 2)), np.ones((4, 3), object)],
    }[arg])


@pytest.mark.parametrize("fn, arg", [("predict_blocks", "method"), ("predict_blocks", "model"), ("predict_blocks", "X"),
                                     ("predict", "model"), ("predict", "X"), ("predict_proba", "model"),
                                     ("predict_proba", "X")])
@given(data=st.data())
def test_predict_blocks_refuses_bad_arguments_unchanged(client, fn, arg, data):
    model, X = Means(), np.arange(12.0).reshape(4, 3) / 10
    kw = dict(model=model, X=X, method="predict_proba")
    value = data.draw(predict_bad_values(arg), label=arg)
    if fn == "predict" and arg == "model" and isinstance(value, OnlyPredict):
        return  # it has predict()
    kw[arg] = value
    call = {"predict_blocks": lambda: predict_blocks(kw["model"], kw["X"], method=kw["method"]),
            "predict": lambda: predict(kw["model"], kw["X"]),
            "predict_proba": lambda: predict_proba(kw["model"], kw["X"])}[fn]
    refused(client, call, arg, model=model, X=X)


def test_predict_blocks_refuses_x_of_unknown_width(client):
    da = pytest.importorskip("dask.array")
    X = da.from_array(np.ones((4, 3)), chunks=2)
    unknown = X[:, X[0] > 0]  # columns chosen by a computed mask: a width of nan
    refused(client, lambda: predict(Means(), unknown), "X")


@pytest.mark.parametrize("layout", ["readonly", "fortran", "strided", "empty", "float32"])
def test_predict_blocks_of_edge_layouts_equal_the_model(client, layout):
    da = pytest.importorskip("dask.array")
    X = np.random.default_rng(0).normal(size=(7, 3))
    if layout == "readonly":
        X.flags.writeable = False
    elif layout == "fortran":
        X = np.asfortranarray(X)
    elif layout == "strided":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    elif layout == "empty":
        X = X[:0]
    else:
        X = X.astype(np.float32)
    model = Means()
    snap = Snapshot(X=X, model=model)
    np.testing.assert_array_equal(predict(model, X).compute(), model.predict(X))
    proba = predict_proba(model, da.from_array(X, chunks=(3, 2)))
    assert proba.shape == (X.shape[0], 2)
    np.testing.assert_array_equal(proba.compute(), model.predict_proba(X))
    snap.assert_unchanged()


# ---------------------------------------------------------------- grid_search

class Est:
    """A nearest-mean estimator with a build parameter, a fit parameter and a seed."""

    built = []

    def __init__(self, shrink=0.0, seed=None):
        Est.built.append(seed)
        self.shrink, self.seed = shrink, seed

    def fit(self, X, y, scale=1.0):
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        self.means = np.stack([X[y == k].mean(0) for k in (0, 1)]) * (1 - self.shrink) * scale
        return self

    def predict(self, X):
        return (((X[:, None, :] - self.means[None]) ** 2).sum(-1)).argmin(1)


class NoSeed:
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X), np.int64)


def search_bad_values(arg):
    return st.sampled_from({
        "factory": [None, 1, "Est", dict, lambda: object(), Est()],
        "grid": [None, [1], {}, {"shrink": []}, {"shrink": 1.0}, {"hidden": [1]}, {1: [0.0]}],
        "fit_params": [[1], "x", {"nope": 1}, 1],
        "validation": [1, "ab", (np.zeros((2, 3)),), (np.zeros((2, 3)), np.zeros(2), np.zeros(2))],
        "errors": ["ignore", None, ["raise"], np.array(["raise", "x"])],
        "return_models": BAD_FLAGS,
        "chunk": [v for v in BAD_INTS if v is not None],
        "progress": BAD_FLAGS,
        "client": BAD_CLIENTS,
        "seed": [v for v in [-1, 1.5, 2.0, "0", b"0", [0], np.array([1, 2]), True, object(),
                             np.random.RandomState(0), -(2**200)]],
        "product": BAD_FLAGS,
    }[arg])


SEARCH_ARGS = ["factory", "grid", "fit_params", "validation", "errors", "return_models", "chunk", "progress", "client",
               "seed", "product"]


@pytest.mark.parametrize("arg", SEARCH_ARGS)
@given(data=st.data())
def test_grid_search_refuses_bad_arguments_before_submitting(client, arg, data):
    X = np.array([[0.0, 0.1], [0.2, 0.0], [1.0, 0.9], [0.8, 1.1]])
    y = np.array([0, 0, 1, 1])
    kw = dict(factory=Est, grid={"shrink": [0.0, 0.5], "scale": [1.0]}, client=client, seed=np.random.default_rng(4))
    kw[arg] = data.draw(search_bad_values(arg), label=arg)
    names = {"grid": ("grid", "hidden")}.get(arg, (arg,))
    objects = dict(X=X, y=y)
    if isinstance(kw["seed"], np.random.Generator):
        objects["seed"] = kw["seed"]
    built = len(Est.built)
    refused(client, lambda: grid_search(kw.pop("factory"), kw.pop("grid"), X, y, **kw), *names, **objects)
    if arg not in ("factory", "grid", "fit_params"):  # checked before the client builds the first model
        assert len(Est.built) == built, f"a model was built before {arg} was refused"


def test_grid_search_refuses_a_seed_nobody_takes(client):
    X, y = np.zeros((2, 2)), np.zeros(2)
    refused(client, lambda: grid_search(NoSeed, {"x": [1]}, X, y, client=client), "x")
    refused(client, lambda: grid_search(NoSeed, {}, X, y, client=client), "grid")
    refused(client, lambda: grid_search(lambda: NoSeed(), {"fit_params": [1]}, X, y, seed=1, client=client),
            "fit_params")
    g = np.random.default_rng(0)
    refused(client, lambda: grid_search(lambda scale: NoSeed(), {"scale": [1]}, X, y, seed=g, client=client), "seed",
            g=g)


def test_grid_search_failed_fit_is_named_and_leaves_the_generator(client):
    X = np.array([[0.0, 0.1], [0.2, 0.0], [1.0, 0.9], [0.8, 1.1]])
    y = np.array([0, 0, 1, 1])
    g = np.random.default_rng(9)
    snap = Snapshot(g=g, X=X, y=y)
    with pytest.raises(SweepError, match=r"grid point 1 \{'scale': -1.0\}: ValueError: scale must be >= 0"):
        grid_search(Est, {"scale": [1.0, -1.0]}, X, y, client=client, seed=g)
    snap.assert_unchanged()
    res = grid_search(Est, {"scale": [1.0, -1.0]}, X, y, client=client, seed=1, errors="collect", return_models=1)
    assert isinstance(res, SearchResult) and res.best_index == 0 and res.best_score == 1.0
    assert np.isnan(res.scores[1]) and res.models[1] is None and isinstance(res.models[0], Est)
    assert [f.index for f in res.failures] == [1] and "grid point 1" in str(res.failures[0])


# ---------------------------------------------------------------- records: SearchResult, PointFailure

def test_records_store_their_fields_unchecked():
    r = SearchResult([{"a": 1}], np.array([0.5]), 0, {"a": 1}, 0.5)
    assert r.models is None and r.failures == [] and r.best_params == {"a": 1}
    f = PointFailure(3, {"a": 2}, ValueError("bad a"), "Traceback ...")
    assert str(f) == "grid point 3 {'a': 2}: ValueError: bad a"
    assert PointFailure(0, {}, None, "").index == 0  # a plain record: never raises


@pytest.mark.parametrize("params, scores, name", [
    ([{"a": 1}], np.array([1.0, 2.0]), "scores"), ([{"a": 1}, {"a": 2}], np.array([1.0]), "scores"),
    ([1], np.array([1.0]), "params"), ("ab", np.array([1.0, 2.0]), "params"), (None, np.zeros(0), "params"),
    ([{"a": 1}], np.array(1.0), "scores"), ([{"a": 1}], np.ones((1, 1)), "scores"),
])
def test_search_result_to_frame_refuses_a_broken_record(params, scores, name):
    r = SearchResult(params, scores, 0, {}, 1.0)
    fails_cleanly(r.to_frame, name, r=r)


def test_search_result_to_frame_without_or_with_pandas():
    r = SearchResult([{"a": 1}, {"a": 2}], np.array([0.5, np.nan]), 0, {"a": 1}, 0.5)
    if NO_PANDAS:
        raises_naming(r.to_frame, "pandas", errors=(ImportError,))
    else:
        df = r.to_frame()
        assert df.columns.tolist() == ["a", "score"] and df["a"].tolist() == [1, 2]


# ---------------------------------------------------------------- WarmupPlugin, setup, warm_workers

def warmup_bad_values(arg):
    return st.sampled_from({
        "areas": [None, 1, "nope", ["nn", 1], b"nn", ["NN"], [["nn"]]],
        "backends": ["gpu", None, 1, ["cpu", 2], "CPU"],
        "dtypes": ["float16", None, np.int32, [None], "nope", ["float32", "int64"], object, [[np.float32]], True],
        "plugin": BAD_FLAGS,
        "client": BAD_CLIENTS,
    }[arg])


@pytest.mark.parametrize("arg", ["areas", "backends", "dtypes"])
@given(data=st.data())
def test_warmup_plugin_checks_its_arguments_when_made(arg, data):
    kw = dict(areas=(), backends=("cpu",), dtypes=("float64",))
    kw[arg] = data.draw(warmup_bad_values(arg), label=arg)
    raises_naming(lambda: WarmupPlugin(**kw), arg)


@pytest.mark.parametrize("dtypes, names", [
    ("float32", ("float32",)), (np.float64, ("float64",)), (np.dtype("f4"), ("float32",)),
    ([np.float32, "float64"], ("float32", "float64")), ((), ()),
])
def test_warmup_plugin_reads_dtypes_as_warmup_does(dtypes, names):
    p = WarmupPlugin(("neurons",), backends="cpu", dtypes=dtypes)
    assert p.areas == ("neurons",) and p.backends == ("cpu",) and p.dtypes == names and p.seconds is None


def test_warmup_plugin_setup():
    p = WarmupPlugin(())
    p.setup(worker=None)
    assert p.seconds == {}
    broken = WarmupPlugin(())
    broken.areas = ("nope",)  # edited after it was made: warmup's own check names it
    fails_cleanly(broken.setup, "areas", broken=broken)
    assert broken.seconds is None


@pytest.mark.parametrize("arg", ["areas", "backends", "dtypes", "plugin", "client"])
@given(data=st.data())
def test_warm_workers_refuses_bad_arguments_before_running(client, arg, data):
    kw = dict(client=client, areas=(), backends=("cpu",), dtypes=("float64",), plugin=False)
    kw[arg] = data.draw(warmup_bad_values(arg), label=arg)
    refused(client, lambda: warm_workers(kw.pop("client"), kw.pop("areas"), **kw), arg)


def test_warm_workers_with_no_area(client):
    out = warm_workers(client, (), backends="cpu", dtypes=np.float32, plugin=np.False_)
    assert list(out.values()) == [{}] and len(out) == 1
    assert fkd.WarmupPlugin.name not in client.cluster.workers[0].plugins
