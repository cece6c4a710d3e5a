"""LIF CUDA kernels under the simulator: same spikes, traces and final state as the CPU backend."""

import numpy as np
import pytest

from fastkernels.neurons import LIF, SimulationError, simulate_lif

CASES = {
    "legacy_unfrozen": (LIF(tau_m=5, v_threshold=0.8, tau_ref=15, freeze_refractory=False,
                            refractory_mode="legacy_float"), 1, dict(I=1.0)),
    "if_curve": (LIF(tau_m=10, tau_ref=5), 20, dict(I=np.linspace(0, 3, 20))),
    "noise": (LIF(tau_m=10, tau_ref=2, sigma=0.3), 7, dict(I=1.1, method="euler", seed=3)),
    "adaptive": (LIF(tau_m=10, tau_ref=2, threshold_jump=0.1, adaptation_jump=0.05), 5,
                 dict(I=np.linspace(1, 3, 5), record=[1, 3])),
    "per_neuron": (LIF(tau_m=np.linspace(5, 20, 6), tau_ref=2), 6, dict(I=np.linspace(1, 3, 6), method="rk4")),
    "event": (LIF(tau_m=10, tau_ref=2), 5, dict(I=np.linspace(1, 3, 5), method="event", record=[0])),
    "poisson": (LIF(tau_m=10, tau_ref=2, poisson_inputs=np.array([50, 80, 200, 0]), poisson_rate=40.0,
                    poisson_weight=0.1), 4, dict(I=0.2, seed=5, record=[2])),
    "series": (LIF(tau_m=10, tau_ref=1), 3, dict(I=lambda t: 1.5 + np.sin(t)[:, None] * np.ones(3))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cuda_matches_cpu(name, threads_per_block):
    model, n, kw = CASES[name]
    a = simulate_lif(model, n, 30.0, 0.1, backend="cpu", **kw)
    b = simulate_lif(model, n, 30.0, 0.1, backend="cuda", **kw)
    assert a.spike_times.size > 0
    # Grid methods record spikes at step starts (exact); the event method's interpolated
    # times use log and contractible products, which may differ in the last bits on a GPU.
    np.testing.assert_allclose(b.spike_times, a.spike_times, rtol=1e-13)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    for key in a.traces:
        np.testing.assert_allclose(a.traces[key], b.traces[key], rtol=1e-12, atol=1e-12)
    for key in ("v", "w", "since"):
        np.testing.assert_allclose(a.final_state[key], b.final_state[key], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("window_bytes", [1, 100])
def test_raster_windows_lose_and_invent_nothing(monkeypatch, window_bytes):
    from fastkernels.neurons import _driver

    # Windows of 1 and 2 steps (36 bytes a block and step): one launch each, the state carried on
    # the device and each window's raster zeroed before it is filled.
    monkeypatch.setattr(_driver, "RASTER_BYTES", window_bytes)
    model = LIF(tau_m=10, tau_ref=1)
    a = simulate_lif(model, 4, 20.0, 0.1, I=np.linspace(2, 4, 4), backend="cpu")
    b = simulate_lif(model, 4, 20.0, 0.1, I=np.linspace(2, 4, 4), backend="cuda")
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)


def test_event_method_overflow_mid_reservation_loses_and_invents_nothing(monkeypatch):
    from fastkernels.neurons import _cuda

    # Several spikes per step (dt 1 ms, no refractoriness, strong drive): a neuron's
    # reservation of its step's spikes often straddles the end of a buffer of m + 1 slots.
    monkeypatch.setattr(_cuda, "buffer_capacity", lambda n, m: m + 1)
    model = LIF(tau_m=10, tau_ref=0.0)
    kw = dict(I=np.linspace(20, 40, 3), method="event")
    a = simulate_lif(model, 3, 6.0, 1.0, backend="cpu", **kw)
    b = simulate_lif(model, 3, 6.0, 1.0, backend="cuda", **kw)
    assert a.spike_times.size > 3 * 6 * 2  # several spikes per neuron and step
    np.testing.assert_allclose(b.spike_times, a.spike_times, rtol=1e-12)
    np.testing.assert_array_equal(b.spike_neurons, a.spike_neurons)


def test_cuda_reports_runaway_state():
    with pytest.raises(SimulationError, match="neuron 1"):
        simulate_lif(LIF(tau_m=[10, 0.01], v_threshold=[1, 1e12]), 2, 5.0, 0.1, I=0.5, v0=[0, 1.0], method="euler",
                     backend="cuda")


@pytest.mark.parametrize("method", ["exact", "euler", "event"])
def test_cuda_huge_drive_spikes_at_every_allowed_step_like_the_cpu(method):
    # issue 13: the runaway test now reads v after the reset on both backends (the CUDA kernel
    # used to raise SimulationError where the CPU silently dropped the step)
    a = simulate_lif(LIF(), 2, 6.0, 0.1, I=[1e12, 1.5], method=method, backend="cpu")
    b = simulate_lif(LIF(), 2, 6.0, 0.1, I=[1e12, 1.5], method=method, backend="cuda")
    np.testing.assert_allclose(b.spike_times, a.spike_times, rtol=1e-13)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    np.testing.assert_allclose(a.spike_train(0), [0.0, 2.0, 4.0], atol=1e-9)


def test_cuda_huge_negative_drive_raises_like_the_cpu():
    with pytest.raises(SimulationError, match="neuron 1"):
        simulate_lif(LIF(), 2, 1.0, 0.1, I=[1.5, -1e12], backend="cuda")


def test_to_device_copies_a_broadcast_row_with_standard_strides():
    # numba-cuda 0.30 walks a zero-stride array one element at a time (0.24 s for a 100 000-neuron
    # input row on an H200): fastkernels._launch.to_device copies such an array first.
    from fastkernels import _launch

    row = np.broadcast_to(np.arange(5.0), (1, 5))
    assert 0 in row.strides
    d = _launch.to_device(row)
    assert 0 not in d.strides
    np.testing.assert_array_equal(d.copy_to_host(), row)


@pytest.mark.parametrize("method", ["exact", "event"])
@pytest.mark.parametrize("record", ["v", ["w"], True])
def test_cuda_lif_traces_the_recorded_prefix_like_the_cpu(method, record):
    model = LIF(adaptation_jump=0.1, threshold_jump=0.2) if method == "exact" else LIF()
    kw = dict(I=np.array([1.5, 2.0, 3.0]), method=method, record=record)
    a = simulate_lif(model, 3, 10.0, 0.1, backend="cpu", **kw)
    b = simulate_lif(model, 3, 10.0, 0.1, backend="cuda", **kw)
    assert list(b.traces) == list(a.traces)
    for name in a.traces:
        np.testing.assert_allclose(b.traces[name], a.traces[name], rtol=1e-12, atol=1e-12)
