"""The population engine (fastkernels.neurons._engine), the blocked layout and the package's
internal import structure (no model module imports another; result/analysis never import models)."""

import ast
import dataclasses
import pathlib

import numpy as np
import pytest

from fastkernels.neurons import HH, Izhikevich, _engine, _layout, hh, izhikevich, simulate_hh, simulate_izhikevich

NEURONS = pathlib.Path(_engine.__file__).parent


def _imports(module: str) -> set:
    """Sibling modules ``module`` imports anywhere (deferred imports included)."""
    tree = ast.parse((NEURONS / f"{module}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("module, forbidden", [
    ("hh", {"lif", "izhikevich", "_lif_kernels"}),
    ("_hh_kernels", {"lif", "izhikevich", "hh"}),
    ("izhikevich", {"lif", "hh", "_hh_kernels", "_lif_kernels"}),
    ("lif", {"hh", "izhikevich", "_hh_kernels"}),
    ("_lif_kernels", {"lif", "hh", "izhikevich"}),
    ("result", {"analysis", "lif", "hh", "izhikevich"}),
    ("analysis", {"lif", "hh", "izhikevich", "_lif_kernels", "_hh_kernels"}),
    ("_engine", {"lif", "hh", "izhikevich", "analysis", "_cuda"}),
    ("_layout", {"_driver", "_engine", "lif", "hh", "izhikevich"}),
    ("_reference", {"lif", "hh", "izhikevich", "_engine"}),
])
def test_no_sideways_imports_between_models(module, forbidden):
    assert not (_imports(module) & forbidden), _imports(module) & forbidden


def test_blocked_round_trip():
    n = 2 * _layout.BLOCK + 5
    x, y = np.arange(n, dtype=np.float64), np.full(1, 7.0)
    B = _layout.blocked({"x": x, "y": y}, ("x", "z", "y"), n, np.float64)
    assert B.shape == (3, 3, _layout.ROW)
    np.testing.assert_array_equal(_layout.unblocked(B, 0, n), x)
    np.testing.assert_array_equal(_layout.unblocked(B, 1, n), 0.0)
    np.testing.assert_array_equal(_layout.unblocked(B, 2, n), 7.0)
    flat = _layout.unblocked_rows(B, 3, n)
    np.testing.assert_array_equal(flat[0], x)
    C = np.zeros_like(B)
    _layout.reblock(C, flat, n)
    np.testing.assert_array_equal(C, B)


def test_each_method_is_one_population_kernel_pair_compiled_on_use():
    # One (serial, parallel) pair per method: a run compiles its own method's loop only (one block
    # kernel with every method's loop compiled all of them at a first call).
    for model in (hh.POPULATION, izhikevich.POPULATION):
        assert len(model.kernels) == len(model.methods)
        prefix = "izh" if model.name == "izhikevich" else model.name
        for code, (serial, parallel) in enumerate(model.kernels):
            assert serial.py_func.__name__ == f"_{prefix}{code}_blocks"
            assert parallel.py_func.__name__.endswith("_blocks_parallel")
    kernels = izhikevich.POPULATION.kernels
    rk4 = izhikevich.METHODS.index("rk4")
    untouched = [len(kernels[c][0].signatures) for c in range(len(kernels)) if c != rk4]
    simulate_izhikevich(Izhikevich(), 4, 1.0, 0.1, I=10.0, method="rk4", backend="cpu")
    simulate_izhikevich(Izhikevich(), 4, 1.0, 0.1, I=10.0, method="rk4", dtype=np.float32, backend="cpu")
    assert [len(kernels[c][0].signatures) for c in range(len(kernels)) if c != rk4] == untouched
    dtypes = {sig[0].dtype.name for sig in kernels[rk4][0].signatures}
    assert dtypes == {"float64", "float32"}  # one compile per working dtype
    assert len(kernels[rk4][0].signatures) == 2


def test_models_declare_their_working_dtypes():
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    for model in (hh.POPULATION, izhikevich.POPULATION):
        assert model.working_dtype(np.float32) == f32 and model.working_dtype("float64") == f64
    only64 = dataclasses.replace(izhikevich.POPULATION, dtypes=(f64,))
    assert only64.working_dtype(np.float32) == f64


def test_a_float64_only_model_returns_float32_results_of_a_float64_run(monkeypatch):
    # The engine's general rule (a model that does not list float32 integrates in float64 and
    # rounds its results): the float32 result is the float64 one rounded.
    real = _engine.simulate
    only64 = dataclasses.replace(izhikevich.POPULATION, dtypes=(np.dtype(np.float64),))
    monkeypatch.setattr(izhikevich, "simulate", lambda model, *a, **k: real(only64, *a, **k))
    kw = {"I": np.linspace(5, 20, 4), "record": [1], "backend": "cpu"}
    a = simulate_izhikevich(Izhikevich(), 4, 50.0, 0.1, **kw)
    b = simulate_izhikevich(Izhikevich(), 4, 50.0, 0.1, dtype=np.float32, **kw)
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    for key in "vu":
        assert b.final_state[key].dtype == np.float32 and b.traces[key].dtype == np.float32
        np.testing.assert_array_equal(b.final_state[key], a.final_state[key].astype(np.float32))
        np.testing.assert_array_equal(b.traces[key], a.traces[key].astype(np.float32))


def _fresh_loop(module, chain, **consts):
    """An uncached copy of a model's step loop (``module._loop_template``) and of the jitted step
    functions it calls, so that its LLVM IR can be read: Numba's cache keeps machine code only
    (and a cached callee is called, not inlined, so its code would not show)."""
    from numba import njit

    from fastkernels._jit import specialise

    ns = dict(vars(module))
    for name in chain:  # callees first; each clone sees the earlier ones in the shared namespace
        ns[name] = njit(specialise(getattr(module, name).py_func, f"_probe_{name}", ns))
    consts = {k: ns[v] if isinstance(v, str) else v for k, v in consts.items()}
    return njit(specialise(module._loop_template, "_probe_loop", ns, **consts))


@pytest.mark.parametrize("model", ["izhikevich", "hh"])
def test_float32_step_loops_are_float32_code(model):
    # A float64 literal or parameter anywhere in a step would promote its float32 arithmetic to
    # float64 (half the SIMD lanes); the float32 loop's IR must hold no double arithmetic at all.
    import re

    from fastkernels.neurons import _hh_kernels

    if model == "izhikevich":
        loop = _fresh_loop(izhikevich, ("izh_rhs", "_izh_finish", "izh_step_rk4"), _STEP="izh_step_rk4")
        rows, params = 4, 6
    else:
        loop = _fresh_loop(_hh_kernels, ("rates", "conductances", "derivatives", "_finish", "hh_step"),
                           _METHOD=_hh_kernels.EXP_EULER)
        rows, params = 6, 11
    f = np.float32
    sb, pb = np.zeros(rows * _layout.ROW, f), np.zeros(params * _layout.ROW, f)
    loop(sb, pb, np.zeros(8, f), f(0.0), np.zeros(_layout.ROW, np.uint8), 8, f(0.1))
    body = loop.inspect_llvm(loop.signatures[0]).split("define", 2)[1]  # the loop itself, not Python's wrapper
    ops = re.findall(r"= (?:fadd|fsub|fmul|fdiv|fneg|fpext|fcmp)[^=]*?\bdouble\b", body)
    assert not ops, ops[:5]
    assert re.search(r"fmul[^\n]*float", body)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("shared", [True, False])
def test_synaptic_ring_adds_to_the_input_before_the_threshold(monkeypatch, backend, shared, dtype):
    # The synaptic hook: a (d, n) ring whose slot k % d is added to step k's drive. Equal, bit for
    # bit, to the same drive given as an input matrix (in float32 too: the ring follows the dtype).
    n, steps, d = 300, 400, 3
    ring = np.random.default_rng(0).uniform(0.0, 8.0, (d, n)).astype(dtype)
    matrix = dtype(5.0) + ring[np.arange(steps) % d]
    ref = simulate_izhikevich(Izhikevich(), n, steps * 0.1, 0.1, I=matrix, record=[0, 299], dtype=dtype,
                              backend=backend)
    real = _engine.simulate
    monkeypatch.setattr(izhikevich, "simulate", lambda *a, **k: real(*a, syn=ring, **k))
    got = simulate_izhikevich(Izhikevich(), n, steps * 0.1, 0.1, I=5.0 if shared else np.full((steps, n), 5.0),
                              record=[0, 299], dtype=dtype, backend=backend)
    assert ref.spike_times.size > 0
    np.testing.assert_array_equal(got.spike_times, ref.spike_times)
    np.testing.assert_array_equal(got.spike_neurons, ref.spike_neurons)
    np.testing.assert_array_equal(got.traces["v"], ref.traces["v"])
    np.testing.assert_array_equal(got.final_state["u"], ref.final_state["u"])


def test_synaptic_ring_of_the_wrong_shape_is_refused(monkeypatch):
    real = _engine.simulate
    monkeypatch.setattr(hh, "simulate", lambda *a, **k: real(*a, syn=np.zeros((2, 3)), **k))
    with pytest.raises(ValueError, match="syn"):
        simulate_hh(HH(), 4, 1.0, 0.1, I=10.0, method="exponential_euler", backend="cpu")


def test_synaptic_ring_beyond_float32_is_refused_in_a_float32_run(monkeypatch):
    real = _engine.simulate
    monkeypatch.setattr(hh, "simulate", lambda *a, **k: real(*a, syn=np.full((2, 4), 1e39), **k))
    with pytest.raises(ValueError, match="syn"):
        simulate_hh(HH(), 4, 1.0, 0.1, I=10.0, method="exponential_euler", dtype=np.float32, backend="cpu")


def test_auto_backend_runs_one_block_serially():
    # one block has nothing to share among threads: "auto" compiles and runs the serial kernel
    import numba

    from fastkernels.neurons._engine import population_backend
    from fastkernels.neurons._layout import BLOCK

    assert population_backend("auto", 10**9, BLOCK) == "cpu"
    assert population_backend("parallel", 10**9, 1) == "parallel"  # asked for: kept
    assert population_backend("cpu", 10**9, 10 * BLOCK) == "cpu"
    assert population_backend("auto", 10**9, BLOCK + 1) == ("parallel" if numba.get_num_threads() > 1 else "cpu")
