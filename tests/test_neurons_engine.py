"""The population engine (fastkernels.neurons._engine), the blocked layout and the package's
internal import structure (no model module imports another; result/analysis never import models)."""

import ast
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


def test_each_model_is_one_population_kernel_pair():
    for model in (hh.POPULATION, izhikevich.POPULATION):
        serial, parallel = model.kernels
        assert serial.py_func.__name__ == f"_{'izh' if model.name == 'izhikevich' else model.name}_blocks"
        assert parallel.py_func.__name__.endswith("_blocks_parallel")
    simulate_izhikevich(Izhikevich(), 4, 1.0, 0.1, I=10.0, backend="cpu")
    before = len(izhikevich.POPULATION.kernels[0].signatures)
    simulate_izhikevich(Izhikevich(), 4, 1.0, 0.1, I=10.0, method="rk4", backend="cpu")
    assert len(izhikevich.POPULATION.kernels[0].signatures) == before  # the method is a run-time argument


@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("shared", [True, False])
def test_synaptic_ring_adds_to_the_input_before_the_threshold(monkeypatch, backend, shared):
    # The synaptic hook: a (d, n) ring whose slot k % d is added to step k's drive. Equal, bit for
    # bit, to the same drive given as an input matrix.
    n, steps, d = 300, 400, 3
    ring = np.random.default_rng(0).uniform(0.0, 8.0, (d, n))
    matrix = 5.0 + ring[np.arange(steps) % d]
    ref = simulate_izhikevich(Izhikevich(), n, steps * 0.1, 0.1, I=matrix, record=[0, 299], backend=backend)
    real = _engine.simulate
    monkeypatch.setattr(izhikevich, "simulate", lambda *a, **k: real(*a, syn=ring, **k))
    got = simulate_izhikevich(Izhikevich(), n, steps * 0.1, 0.1, I=5.0 if shared else np.full((steps, n), 5.0),
                              record=[0, 299], backend=backend)
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
