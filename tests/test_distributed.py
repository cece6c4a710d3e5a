"""fastkernels.distributed on a LocalCluster of 2 single-threaded worker processes (one per module).

Every result is compared with the single-machine run for the same seeds, bit for bit. Sizes are
tiny: the file's time is mostly the cluster's start and the workers loading cached kernels.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
import cloudpickle  # noqa: E402  (a dependency of distributed)

import fastkernels.distributed as fkd  # noqa: E402
from fastkernels.neurons import LIF, Izhikevich, firing_rate_curve, simulate_izhikevich, simulate_lif  # noqa: E402
from fastkernels.neurons._driver import neuron_offset  # noqa: E402
from fastkernels.word2vec import Vocabulary, read_corpus, skipgram_pairs  # noqa: E402

# The workers cannot import this test module: its functions travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

# Every LIF run below uses one kernel variant (per-neuron parameters, noise, Poisson input): the
# workers load what the first reference run compiled into Numba's cache.
NOISY = dict(sigma=0.3, poisson_inputs=3, poisson_rate=50.0, poisson_weight=0.1)


def noisy(n):
    return LIF(tau_m=np.linspace(10.0, 30.0, n), **NOISY)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _task_keys(client):
    """The keys of the tasks the scheduler holds. Tests compare sets, not counts: an earlier test's
    tasks may be released meanwhile, so only keys that were not there before mean a submission."""
    return client.run_on_scheduler(lambda dask_scheduler: {str(k) for k in dask_scheduler.tasks})


def test_importing_fastkernels_does_not_import_dask():
    code = "import sys, fastkernels, fastkernels.neurons; print('dask' in sys.modules, 'distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- grids
def test_grid_product_order_and_zip():
    from fastkernels.distributed._sweep import make_grid

    g = make_grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert g["a"].tolist() == [1, 1, 1, 2, 2, 2] and g["b"].tolist() == ["x", "y", "z"] * 2
    z = make_grid({"a": [1, 2], "b": [3.0, 4.0]}, product=False)
    assert z["a"].tolist() == [1, 2] and z["b"].tolist() == [3.0, 4.0]


def test_neuron_offset_slices_equal_the_whole_run_izhikevich():
    # the engine path of the non-LIF models (noise drawn in stage_inputs), in-process
    n, I = 40, np.linspace(5, 15, 40)
    m = Izhikevich(sigma=2.0)
    whole = simulate_izhikevich(m, n, 30.0, 0.5, I=I, seed=5, backend="cpu")
    t, i = [], []
    for lo, hi in ((0, 13), (13, 40)):
        with neuron_offset(lo):
            r = simulate_izhikevich(m, hi - lo, 30.0, 0.5, I=I[lo:hi], seed=5, backend="cpu")
        t.append(r.spike_times)
        i.append(r.spike_neurons + lo)
    t, i = np.concatenate(t), np.concatenate(i)
    o = np.lexsort((i, t))
    assert whole.spike_times.size > 0
    np.testing.assert_array_equal(t[o], whole.spike_times)
    np.testing.assert_array_equal(i[o], whole.spike_neurons)


# ---------------------------------------------------------------- sweeps
def _affine(a, b=1.0, seed=None):
    return a * b + (0 if seed is None else seed % 1000)


def test_scalar_sweep_in_grid_order_with_point_seeds(client):
    grid = {"a": [1, 2, 3], "b": [10.0, 20.0]}
    out = fkd.sweep(_affine, grid, client=client, chunk=2, seed=9)
    expect = [_affine(a, b, seed=fkd.point_seed(9, i))
              for i, (a, b) in enumerate((a, b) for a in grid["a"] for b in grid["b"])]
    np.testing.assert_array_equal(out, expect)
    zipped = fkd.sweep(_affine, {"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]}, product=False, client=client)
    np.testing.assert_array_equal(zipped, [4.0, 10.0, 18.0])


def test_vectorized_sweep_equals_one_population_call(client):
    I = np.linspace(0.5, 3.0, 600)
    ref = firing_rate_curve(noisy(600), I, duration=100.0, seed=3, backend="cpu")  # first: it fills the cache
    fn = fkd.PopulationRates(LIF(**NOISY), duration=100.0)
    grid = {"I": I, "tau_m": noisy(600).tau_m}
    out = fkd.sweep(fn, grid, product=False, client=client, seed=3, chunk=250)  # 3 chunks, the last short
    np.testing.assert_array_equal(out, ref)
    assert ref.max() > 0


def test_sweep_as_frame(client):
    pd = pytest.importorskip("pandas")
    df = fkd.sweep(_affine, {"a": [1, 2], "b": [3.0]}, client=client, as_frame=True)
    assert isinstance(df, pd.DataFrame)
    assert df.columns.tolist() == ["a", "b", "result"] and df["result"].tolist() == [3.0, 6.0]


def _kill_once(a, marker):
    if a == 5 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)  # the worker process dies in the middle of the sweep
    return a * a


def test_a_worker_killed_mid_sweep_changes_nothing(client, tmp_path):
    marker = str(tmp_path / "killed")
    out = fkd.sweep(_kill_once, {"a": list(range(12)), "marker": [marker]}, client=client, chunk=1)
    assert os.path.exists(marker)  # the kill happened
    np.testing.assert_array_equal(out, np.arange(12) ** 2)
    client.wait_for_workers(2, timeout=60)


# ---------------------------------------------------------------- populations
def test_population_split_across_workers_equals_the_single_run(client):
    n = 3000
    model = noisy(n)
    kw = dict(I=np.linspace(0.5, 2.0, n), record=[3, 1500, 2999])
    ref = simulate_lif(model, n, 50.0, 0.1, seed=11, backend="cpu", **kw)
    res = fkd.simulate_population(simulate_lif, model, n, 50.0, 0.1, client=client, chunk=1100, seed=11, **kw)
    assert ref.spike_times.size > 100
    np.testing.assert_array_equal(res.spike_times, ref.spike_times)
    np.testing.assert_array_equal(res.spike_neurons, ref.spike_neurons)
    np.testing.assert_array_equal(res.trace_neurons, ref.trace_neurons)
    for name in ref.traces:
        np.testing.assert_array_equal(res.traces[name], ref.traces[name])
    for name in ref.final_state:
        np.testing.assert_array_equal(res.final_state[name], ref.final_state[name])
    # a Generator seed: the same draw as the single run, and advanced as that run advances it
    g1, g2 = np.random.default_rng(4), np.random.default_rng(4)
    b = simulate_lif(noisy(2000), 2000, 20.0, seed=g2, I=1.2, backend="cpu")
    a = fkd.simulate_population(simulate_lif, noisy(2000), 2000, 20.0, client=client, chunk=1024, seed=g1, I=1.2)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    assert g1.integers(1 << 30) == g2.integers(1 << 30)
    # record by variable name (Brian2's StateMonitor(G, "v", record=True)): every neuron's v
    kw = dict(I=np.linspace(0.5, 2.0, 60), record="v")
    ref = simulate_lif(noisy(60), 60, 20.0, 0.1, seed=5, backend="cpu", **kw)
    res = fkd.simulate_population(simulate_lif, noisy(60), 60, 20.0, 0.1, client=client, chunk=25, seed=5, **kw)
    assert sorted(res.traces) == ["v"] and res.traces["v"].shape == ref.traces["v"].shape
    np.testing.assert_array_equal(res.traces["v"], ref.traces["v"])


# ---------------------------------------------------------------- corpora
SHARDS = [b"the cat sat on the mat\nthe dog ran\n", b"a dog and a cat\nzebra the end\n", b"cat mat zebra yak\n"]


@pytest.fixture
def shards(tmp_path):
    paths = []
    for i, text in enumerate(SHARDS):
        p = tmp_path / f"shard{i}.txt"
        p.write_bytes(text)
        paths.append(str(p))
    return paths


@pytest.mark.parametrize("opts", [dict(min_count=1), dict(min_count=1, ties="gensim"),
                                  dict(min_count=2, unk="UNK"), dict(min_count=1, max_size=4, unk="UNK")])
def test_sharded_vocabulary_equals_the_single_machine_one(client, shards, opts):
    text = b"".join(SHARDS)
    ref = Vocabulary.build(text, **opts)  # first: it fills the cache the workers load
    assert read_corpus(text, **opts)[1] == ref
    assert fkd.build_vocabulary(shards, client=client, **opts) == ref


def test_sharded_pair_counts_equal_the_single_machine_ones(client, shards):
    vocab = fkd.build_vocabulary(shards, client=client, min_count=1)
    corpus, _ = read_corpus(b"".join(SHARDS), vocab)
    c, x = skipgram_pairs(corpus, 2, shrink_windows=False)
    counts = fkd.count_pairs(shards, vocab, window=2, client=client)
    ref = np.zeros((len(vocab), len(vocab)), np.int64)
    np.add.at(ref, (c, x), 1)
    np.testing.assert_array_equal(counts.toarray(), ref)


# ---------------------------------------------------------------- models
class Nearest:
    """A tiny estimator (nearest class mean) with the methods the helpers use."""

    def __init__(self, shrink=0.0, seed=None):
        self.shrink, self.seed = shrink, seed

    def fit(self, X, y, scale=1.0):
        self.means = np.stack([X[y == k].mean(0) for k in range(3)]) * (1 - self.shrink) * scale
        return self

    def predict_proba(self, X):
        d = -((X[:, None, :] - self.means[None]) ** 2).sum(-1)
        e = np.exp(d - d.max(1, keepdims=True)) if len(X) else d
        return e / e.sum(1, keepdims=True) if len(X) else e

    def predict(self, X):
        return self.predict_proba(X).argmax(1) if len(X) else np.zeros(0, np.int64)

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))


def _data(n=90):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), n // 3)
    return rng.normal(size=(n, 4)) + y[:, None], y


def test_blockwise_scoring_equals_the_whole_array(client):
    da = pytest.importorskip("dask.array")
    X, y = _data()
    model = Nearest().fit(X, y)
    Xd = da.from_array(X, chunks=(25, 2))
    np.testing.assert_array_equal(fkd.predict(model, Xd).compute(), model.predict(X))
    np.testing.assert_array_equal(fkd.predict_proba(model, Xd).compute(), model.predict_proba(X))


def test_blockwise_scoring_of_a_fastkernels_mlp(client):
    da = pytest.importorskip("dask.array")
    import inspect

    from fastkernels.nn import MLP

    params = inspect.signature(MLP).parameters
    model = MLP([4, 8, 3], seed=0) if "layer_sizes" in params else MLP(seed=0)
    X, y = _data()
    X = X.astype(np.float32)
    fit_kw = {k: v for k, v in dict(epochs=1, verbose=False).items() if k in inspect.signature(model.fit).parameters}
    model.fit(X, y, **fit_kw)  # whatever fit returns, the model is fitted
    np.testing.assert_array_equal(fkd.predict(model, da.from_array(X, chunks=30)).compute(), model.predict(X))


def test_grid_search_fits_on_the_workers(client):
    X, y = _data()
    res = fkd.grid_search(Nearest, {"shrink": [0.0, 0.5], "scale": [1.0, 0.1]}, X, y, client=client)
    assert len(res.params) == 4 and res.params[1] == {"shrink": 0.0, "scale": 0.1}
    for p, s in zip(res.params, res.scores):
        m = Nearest(shrink=p["shrink"]).fit(X, y, scale=p["scale"])
        assert s == m.score(X, y)
    assert res.best_score == res.scores.max()


def test_warm_workers_runs_on_every_worker_and_registers_the_plugin(client):
    # no area: the mechanics without minutes of compilation (fastkernels.warmup is tested on its own)
    out = fkd.warm_workers(client, (), backends=["cpu"], dtypes=["float64"])
    assert len(out) == 2 and all(v == {} for v in out.values())
    found = client.run(lambda dask_worker: fkd.WarmupPlugin.name in dask_worker.plugins)
    assert list(found.values()) == [True, True]


# ---------------------------------------------------------------- bad input
def _fails_on_3(a):
    if a == 3:
        raise ValueError("three is bad")
    return float(a)


@pytest.mark.bad_input
def test_a_failing_point_is_named_and_the_rest_kept(client):
    with pytest.raises(fkd.SweepError, match=r"grid point 3 \{'a': 3\}.*three is bad") as info:
        fkd.sweep(_fails_on_3, {"a": list(range(6))}, client=client, chunk=2)
    np.testing.assert_array_equal(info.value.results, [0, 1, 2, np.nan, 4, 5])
    assert isinstance(info.value.failures[0].error, ValueError)
    values, failures = fkd.sweep(_fails_on_3, {"a": list(range(6))}, client=client, errors="collect")
    assert [f.index for f in failures] == [3] and failures[0].point == {"a": 3}
    assert np.isnan(values[3]) and values[5] == 5.0


def test_a_failing_point_of_a_vectorized_chunk_is_isolated(client):
    # the chunk raises, its points rerun one by one under their own offsets: the others are unchanged
    fn = fkd.PopulationRates(LIF(**NOISY), duration=100.0)
    tau = np.array([10.0, 20.0, -1.0, 15.0, 30.0])
    values, failures = fkd.sweep(fn, {"tau_m": tau, "I": np.full(5, 2.0)}, product=False, client=client, seed=1,
                                 errors="collect")
    assert [f.index for f in failures] == [2] and "tau_m" in str(failures[0].error)
    ref = firing_rate_curve(LIF(tau_m=np.where(tau > 0, tau, 12.0), **NOISY), np.full(5, 2.0), duration=100.0,
                            seed=1, backend="cpu")
    ok = np.r_[0:2, 3:5]
    np.testing.assert_array_equal(values[ok], ref[ok])
    assert np.isnan(values[2]) and ref[ok].min() > 0


@pytest.mark.bad_input
@pytest.mark.parametrize("grid, kw, err, match", [
    ({"a": [1, 2], "b": [1.0]}, dict(product=False), ValueError, "one length with product=False.*a: 2, b: 1"),
    ({"a": [1], "c": [2]}, {}, ValueError, r"unknown parameter name\(s\) \['c'\]"),
    ({"b": [1.0]}, {}, ValueError, r"needs parameter\(s\) \['a'\]"),
    ({"a": []}, {}, ValueError, "grid\\['a'\\] is empty"),
    ({"a": 3}, {}, TypeError, "grid\\['a'\\] must be a list"),
    ([1, 2], {}, TypeError, "grid must be a dict"),
    ({"a": [1]}, dict(chunk=0), ValueError, "chunk must be >= 1"),
    ({"a": [1]}, dict(errors="ignore"), ValueError, "errors must be one of"),
    ({"a": [1], "seed": [1]}, dict(seed=2), ValueError, "seed is both"),
    ({"a": [1]}, dict(seed=-1), ValueError, "seed must be non-negative"),
])
def test_bad_grids_are_refused_before_anything_is_submitted(client, grid, kw, err, match):
    before = _task_keys(client)
    with pytest.raises(err, match=match):
        fkd.sweep(_affine, grid, client=client, **kw)
    assert not _task_keys(client) - before


@pytest.mark.bad_input
def test_bad_population_and_corpus_arguments(client, tmp_path):
    before = _task_keys(client)
    with pytest.raises(ValueError, match="I has shape"):
        fkd.simulate_population(simulate_lif, LIF(), 100, 10.0, client=client, I=np.ones(99))
    with pytest.raises(ValueError, match="whole number of steps"):
        fkd.simulate_population(simulate_lif, LIF(), 100, 10.05, client=client)
    with pytest.raises(ValueError, match="backend='cuda'"):
        fkd.simulate_population(simulate_lif, LIF(), 100, 10.0, client=client, backend="cuda")
    with pytest.raises(FileNotFoundError, match="shards\\[0\\]"):
        fkd.build_vocabulary([str(tmp_path / "missing.txt")], client=client)
    with pytest.raises(ValueError, match="shards is empty"):
        fkd.count_words([], client=client)
    with pytest.raises(ValueError, match="backend must be 'cpu' or 'parallel'"):
        fkd.PopulationRates(LIF(), backend="cuda")
    with pytest.raises(ValueError, match="seed is given but _noseed"):
        fkd.sweep(_noseed, {"a": [1]}, client=client, seed=1)
    with pytest.raises(ValueError, match=r"unknown parameter name\(s\) \['hidden'\]"):
        fkd.grid_search(Nearest, {"hidden": [1]}, *_data(), client=client)
    with pytest.raises(TypeError, match="client must be"):
        fkd.sweep(_affine, {"a": [1]}, client="tcp://x")
    assert not _task_keys(client) - before


def _noseed(a):
    return a


@pytest.mark.bad_input
def test_a_runaway_neuron_is_named_by_its_global_index(client):
    from fastkernels.neurons import SimulationError

    n = 2048
    tau, vt, I = np.full(n, 20.0), np.ones(n), np.full(n, 1.5)
    # Euler at dt = 0.1 ms >> tau_m: v grows x99 a step with alternating sign; driven below rest, it
    # passes -1e9 before the threshold could reset it: this neuron runs away
    tau[1500], vt[1500], I[1500] = 0.001, 5e8, -1.5
    model = LIF(tau_m=tau, v_threshold=vt, **NOISY)
    with pytest.raises(SimulationError) as single:
        simulate_lif(model, n, 5.0, 0.1, I=I, method="euler", seed=2, backend="cpu")
    with pytest.raises(SimulationError, match="neuron 1500 ") as split:
        fkd.simulate_population(simulate_lif, model, n, 5.0, 0.1, client=client, chunk=1024, I=I, method="euler",
                                seed=2)
    assert (split.value.step, split.value.neuron) == (single.value.step, single.value.neuron) == (split.value.step, 1500)


@pytest.mark.bad_input
def test_neuron_offset_is_checked_and_refused_on_cuda_launches():
    from fastkernels.neurons import _driver

    with pytest.raises(ValueError, match="offset must be"):
        with neuron_offset(-1):
            pass
    with pytest.raises(TypeError, match="offset"):
        with neuron_offset(1.5):
            pass
    with neuron_offset(3):
        assert _driver.current_offset() == 3
        with pytest.raises(ValueError, match="CPU backends only"):  # a shared buffer: a CUDA launcher
            _driver.run(lambda *a: None, units=1, k0=0, k1=1, per_step=1, dt=0.1, buffers=1)
    assert _driver.current_offset() == 0


# ---------------------------------------------------------------- regressions (contract tests, tests/contract/)
# Each test below failed before its fix in fastkernels/distributed/ (docs/CONTRACT.md, fastkernels.distributed).
@pytest.mark.bad_input
def test_flags_and_sizes_follow_the_shared_rules(client):
    # flags were bool only (np.bool_ and 0/1 refused); chunk=np.array([1.0, 2.0]) gave a bare TypeError
    out = fkd.sweep(_affine, {"a": [1, 2]}, product=np.True_, progress=0, as_frame=np.False_, client=client)
    np.testing.assert_array_equal(out, [1.0, 2.0])
    with pytest.raises(TypeError, match="chunk must be an integer"):
        fkd.sweep(_affine, {"a": [1]}, chunk=np.array([1.0, 2.0]), client=client)
    with pytest.raises(TypeError, match="numba_threads must be an integer"):
        fkd.simulate_population(simulate_lif, LIF(), 10, 1.0, numba_threads=2.0, client=client)


@pytest.mark.bad_input
def test_auto_chunk_and_point_seed_check_their_arguments():
    # auto_chunk(-5, 1, True) gave 1, auto_chunk(1.5, ...) 1.5, threads 0 was read as 1, "no" as true
    for args, match in [((-5, 1, True), "n_items must be >= 0"), ((1.5, 1, True), "n_items must be an integer"),
                        ((10, 0, False), "threads must be >= 1"), ((10, 1, "no"), "vectorized must be True or False")]:
        with pytest.raises((TypeError, ValueError), match=match):
            fkd.auto_chunk(*args)
    # point_seed(1.5, 0) truncated to 1, True and "3" were accepted, -1 gave NumPy's unnamed error
    for args, match in [((1.5, 0), "seed must be an integer"), ((True, 0), "seed must be a number"),
                        (("3", 0), "seed must be an integer"), ((-1, 0), "seed must be >= 0"),
                        ((0, 2.5), "index must be an integer"), ((0, -1), "index must be >= 0")]:
        with pytest.raises((TypeError, ValueError), match=match):
            fkd.point_seed(*args)


@pytest.mark.bad_input
def test_vectorized_refuses_objects_without_attributes():
    # a builtin or a bound method raised a bare AttributeError
    for fn in (len, Nearest().predict):
        with pytest.raises(TypeError, match=r"fn \(.*\) takes no attributes.*vectorized=True"):
            fkd.vectorized(fn)


@pytest.mark.bad_input
def test_bad_grid_columns_and_errors_are_named(client):
    from fastkernels.distributed._sweep import make_grid

    with pytest.raises(TypeError, match=r"grid\['a'\] must be a list"):  # was "len() of unsized object"
        make_grid({"a": np.array(3)})
    with pytest.raises(TypeError, match=r"grid\['a'\] must be a list"):  # a set has no grid order
        make_grid({"a": {1, 2}})
    with pytest.raises(ValueError, match="errors must be one of"):  # was NumPy's "truth value ... ambiguous"
        fkd.sweep(_affine, {"a": [1]}, errors=np.array(["raise", "collect"]), client=client)


@pytest.mark.bad_input
def test_a_generator_seed_is_left_unchanged_by_a_failed_sweep(client):
    g = np.random.default_rng(0)
    state = g.bit_generator.state
    with pytest.raises(TypeError, match="client must be"):  # the draw came before the client's check
        fkd.sweep(_affine, {"a": [1]}, seed=g, client="tcp://x")
    assert g.bit_generator.state == state
    with pytest.raises(fkd.SweepError):  # and a SweepError kept the draw
        fkd.sweep(_fails_on_3_seeded, {"a": [2, 3]}, seed=g, client=client)
    assert g.bit_generator.state == state
    with pytest.raises(fkd.SweepError):
        fkd.grid_search(_BadFit, {"shrink": [0.0]}, *_data(), seed=g, client=client)
    assert g.bit_generator.state == state


def _fails_on_3_seeded(a, seed=None):
    return _fails_on_3(a)


class _BadFit(Nearest):
    def fit(self, X, y, scale=1.0):
        raise ValueError("no fit")


@pytest.mark.bad_input
@pytest.mark.skipif(__import__("importlib").util.find_spec("pandas") is not None, reason="pandas is installed")
def test_as_frame_without_pandas_is_refused_before_the_work(client):
    before = _task_keys(client)
    with pytest.raises(ImportError, match="as_frame=True needs pandas"):  # was raised after every task ran
        fkd.sweep(_affine, {"a": [1, 2]}, as_frame=True, client=client)
    assert not _task_keys(client) - before
    with pytest.raises(ImportError, match="pandas"):  # was a bare ModuleNotFoundError
        fkd.SearchResult([{"a": 1}], np.array([1.0]), 0, {"a": 1}, 1.0).to_frame()


@pytest.mark.bad_input
def test_vectorized_chunks_that_disagree_are_named(client):
    # chunks returning different keys gave a bare KeyError on the client, different widths NumPy's error
    @fkd.vectorized
    def keys(a):
        return {"x" if a[0] == 0 else "y": a}

    @fkd.vectorized
    def widths(a):
        return np.zeros((a.size, 1 + int(a[0])))

    with pytest.raises(ValueError, match=r"fn \(vectorized\) returned different outputs"):
        fkd.sweep(keys, {"a": [0, 1]}, chunk=1, client=client)
    with pytest.raises(ValueError, match=r"fn \(vectorized\).*per-point shape"):
        fkd.sweep(widths, {"a": [0, 1]}, chunk=1, client=client)


@pytest.mark.bad_input
def test_warmup_dtypes_are_checked_on_the_client(client):
    # WarmupPlugin(dtypes="float64") stored ('f', 'l', 'o', ...); None gave a bare TypeError; float16 was refused
    # only by warmup on every worker
    assert fkd.WarmupPlugin((), dtypes="float64").dtypes == ("float64",)
    assert fkd.WarmupPlugin((), dtypes=[np.float32]).dtypes == ("float32",)
    for bad in (None, "float16", np.int32):
        with pytest.raises((TypeError, ValueError), match="dtypes"):
            fkd.WarmupPlugin((), dtypes=bad)
        with pytest.raises((TypeError, ValueError), match="dtypes"):
            fkd.warm_workers(client, (), dtypes=bad)


@pytest.mark.bad_input
def test_corpus_options_are_checked_before_submitting(client, shards):
    before = _task_keys(client)
    vocab = Vocabulary(["the", "cat"], [3, 2])
    for call, match in [(lambda: fkd.count_words(shards, chunk_bytes=0, client=client), "chunk_bytes"),
                        (lambda: fkd.count_words(shards, encoding="utf-16", client=client), "encoding"),
                        (lambda: fkd.build_vocabulary(shards, chunk_bytes=1.5, client=client), "chunk_bytes"),
                        (lambda: fkd.count_pairs(shards, vocab, unknown="bogus", client=client), "unknown"),
                        (lambda: fkd.count_pairs(shards, vocab, unknown="unk", client=client), "unk"),
                        (lambda: fkd.count_pairs(shards, vocab, max_sentence_length=0, client=client),
                         "max_sentence_length")]:
        with pytest.raises((TypeError, ValueError), match=match):  # each was raised by a worker
            call()
    assert not _task_keys(client) - before


def test_count_pairs_with_a_huge_window_is_as_fast_as_the_longest_sentence(client, shards):
    # window=10**6 looped a million times per shard (136 s for 3 tokens); 2**62 never ended
    vocab = fkd.build_vocabulary(shards, client=client, min_count=1)
    longest = max(len(line.split()) for text in SHARDS for line in text.splitlines())
    ref = fkd.count_pairs(shards, vocab, window=longest - 1, client=client).toarray()
    np.testing.assert_array_equal(fkd.count_pairs(shards, vocab, window=2**62, client=client).toarray(), ref)


def test_a_pathlike_shard_of_bytes_is_read_as_a_path(client, shards):
    # os.fspath gave bytes, which the reader takes for the corpus text itself (the path's characters counted)
    class BytesPath:
        def __init__(self, p):
            self.p = p

        def __fspath__(self):
            return os.fsencode(self.p)

    assert fkd.count_words([BytesPath(p) for p in shards], client=client) == fkd.count_words(shards, client=client)


@pytest.mark.bad_input
def test_model_helpers_name_what_they_refuse(client):
    X, y = _data()
    model = Nearest().fit(X, y)
    for call, err, match in [
        (lambda: fkd.predict_blocks(model, X, method=np.array(["predict", "x"])), ValueError, "method must be one of"),
        (lambda: fkd.predict(Nearest, X), TypeError, "model must be a fitted model"),  # the probe's unnamed error
        (lambda: fkd.predict(model, np.ones(3)), ValueError, "X must be 2-D"),  # Dask's chunk error
        (lambda: fkd.grid_search(dict, {"a": [1]}, X, y, client=client), TypeError, "factory"),  # no signature
        (lambda: fkd.grid_search(Nearest, {"shrink": [0.0]}, X, y, chunk=0, client=client), ValueError, "chunk"),
    ]:
        with pytest.raises(err, match=match):
            call()
    with pytest.raises(ValueError, match="scores must hold one score per grid point"):  # zip truncated it
        fkd.SearchResult([{"a": 1}], np.array([1.0, 2.0]), 0, {}, 1.0).to_frame()


@pytest.mark.bad_input
def test_population_helpers_check_their_options_on_the_client(client):
    before = _task_keys(client)
    with pytest.raises(TypeError, match="simulate must be"):  # a bare KeyError: 'dt'
        fkd.simulate_population(print, LIF(), 10, 1.0, client=client)
    with pytest.raises(ValueError, match="backend"):  # NumPy's "truth value ... ambiguous"
        fkd.simulate_population(simulate_lif, LIF(), 10, 1.0, backend=np.array(["cpu", "x"]), client=client)
    assert not _task_keys(client) - before
    # PopulationRates took any duration, dt, I and simulator keyword: every grid point then failed on a worker
    for kw, match in [(dict(duration=-1.0), "duration"), (dict(transient=5.0, duration=5.0), "transient"),
                      (dict(dt=0.0), "dt"), (dict(I=np.nan), "I"), (dict(dtype="float16"), "dtype"),
                      (dict(bogus=1), "bogus"), (dict(seed=1), "seed")]:
        with pytest.raises((TypeError, ValueError), match=match):
            fkd.PopulationRates(LIF(), **kw)
    fn = fkd.PopulationRates(LIF(), duration=1.0)
    with pytest.raises(TypeError, match="I must hold numbers"):  # strings: NumPy's unnamed cast error
        fn(I=np.array(["a"]))
    with pytest.raises(TypeError, match="I must hold numbers"):  # bools were cast to 0.0/1.0
        fn(I=np.array([True, False]))
