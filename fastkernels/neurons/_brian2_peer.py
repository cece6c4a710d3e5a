"""Brian2 peers of the neuron population benchmark cases (``lif_population``, ``hh_population``).

Each factory returns ``peer(I, steps)``: the same inputs as the case's kernel, the same work as
fastkernels does (same model, parameters, integrator and schedule, a ``SpikeMonitor`` on every
neuron), and a :class:`PeerTiming` ``(result, seconds)``: the spike counts per neuron (``(n,)``
int64) and Brian2's own measure of the simulation time:

* ``mode="cpp_standalone"``: Brian2's fastest CPU mode. The network is generated, compiled
  and run as a C++ program in a build directory made once per factory (later calls reuse it,
  so ``make`` finds nothing to recompile; the directory is removed with the peer); ``seconds``
  is the program's own run time (``device._last_run_time``), without code generation,
  compilation or process start. Each call resets the standalone device (``device.reinit()``)
  before and after its build, so several runs in one process work.
  ``threads`` sets ``prefs.devices.cpp_standalone.openmp_threads`` (0: no OpenMP, the default).
* ``mode="runtime"``: the runtime device with Brian2's default code-generation target
  (``prefs.codegen.target``, "auto": Cython when it is installed and compiles, else NumPy) or
  ``codegen_target``; ``seconds`` is the wall time of ``Network.run`` (it includes Brian2's
  per-run code preparation; compiled Cython extensions are cached by Brian2 across calls).

Brian2 is imported only when a factory is called: importing this module never needs it, and a
factory raises ImportError when Brian2 (or, for ``cpp_standalone``, a C++ compiler) is
missing, as :class:`fastkernels.bench.registry.Case` expects of its ``peers``. A case's
``_bench`` module registers one as a self-timed peer (this module may not import the bench
registry)::

    def _self_timed(factory, mode):
        def make():
            peer = factory(mode)  # ImportError without Brian2
            return lambda *inputs: SelfTimed(*peer(*inputs))
        return make

    peers={"Brian2 cpp_standalone": _self_timed(lif_population_peer, "cpp_standalone")}

The models, in Brian2's own terms:

* LIF (the ``lif_population`` case): ``dv/dt = (I - v) / tau : 1 (unless refractory)``,
  ``tau`` 10 ms, threshold ``v > 1``, reset ``v = 0``, refractory 2 ms, ``method="exact"``,
  dt 0.1 ms, ``v`` starting at 0. Brian2's refractory rule (``timestep(t - lastspike, dt) >=
  timestep(refractory, dt)``) is the schedule fastkernels' ``refractory_mode="steps"`` follows.
* HH (the ``hh_population`` case): :class:`fastkernels.neurons.HH`'s modern parameter set in
  SI units, the rate functions with ``exprel`` for ``alpha_m`` and ``alpha_n``,
  ``method="exponential_euler"``, dt 0.1 ms, ``v`` starting at ``V_rest`` and the gates at their
  steady state there (as :func:`fastkernels.neurons.simulate_hh` does). Spikes:
  ``threshold="v > V_threshold"`` with ``refractory="v > V_threshold"``: Brian2 re-arms a
  neuron when ``v <= V_threshold`` at the start of a step, so a spike is exactly an upward
  crossing within a step, fastkernels' rule. ``I`` is in uA/cm^2, as for ``simulate_hh``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

MODES = ("cpp_standalone", "runtime")
# The lif_population case's parameters (fastkernels/neurons/_bench.py), ms.
LIF_TAU, LIF_TREF, DT = 10.0, 2.0, 0.1


class PeerTiming(NamedTuple):
    """A peer's output and its own measure of the seconds the work took (the simulation alone)."""

    result: Any
    seconds: float


def _brian2():
    try:
        import brian2
    except ImportError as exc:
        raise ImportError("the Brian2 peer needs brian2 (pip install brian2); it is not installed: "
                          f"{exc}") from exc
    return brian2


def _check_mode(mode, codegen_target, threads):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if codegen_target is not None and mode != "runtime":
        raise ValueError("codegen_target applies to mode='runtime' only")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be an int >= 0, got {threads!r}")
    if threads and mode != "cpp_standalone":
        raise ValueError("threads applies to mode='cpp_standalone' only")


def _compiler():
    """The C++ compiler cpp_standalone would call, or None."""
    for cand in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if cand and shutil.which(cand.split()[0]):
            return cand
    return None


def _inputs(I, steps):
    I = np.ascontiguousarray(I, dtype=np.float64)
    if I.ndim != 1 or I.size < 1:
        raise ValueError(f"I must be a non-empty 1-D array (one value per neuron), got shape {I.shape}")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
    return I, int(steps)


@contextlib.contextmanager
def _own_omp_policy():
    """Brian2's standalone program runs with the OpenMP wait policy the user had: fastkernels sets
    ``OMP_WAIT_POLICY=PASSIVE`` for its own threads when the user set none (see
    ``fastkernels/__init__.py``), which would make an OpenMP standalone program sleep between
    every step's parallel regions (and the ``GOMP_SPINCOUNT`` set with it)."""
    saved = {name: os.environ.pop(name, None) for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
             if os.environ.get(f"FASTKERNELS_SET_{name}") == "1"}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value


def make_peer(mode: str, build: Callable, codegen_target, threads) -> Callable[..., PeerTiming]:
    """``peer(I, steps)`` running the network that ``build(b2, I, steps)`` makes in ``mode``.

    ``build`` returns ``(objects, spike_monitor, duration)`` with Brian2 imported as ``b2``.
    """
    _check_mode(mode, codegen_target, threads)
    b2 = _brian2()
    from brian2.devices.device import all_devices, get_device, reset_device, set_device

    if mode == "cpp_standalone":
        if _compiler() is None:
            raise ImportError("Brian2's cpp_standalone mode needs a C++ compiler (g++); none was found: "
                              "use mode='runtime'")
        directory = tempfile.mkdtemp(prefix="fk_brian2_")

        def peer(I, steps):
            I, steps = _inputs(I, steps)
            dev = all_devices["cpp_standalone"]
            old_threads = b2.prefs.devices.cpp_standalone.openmp_threads
            dev.reinit()  # forget whatever an earlier build left in the device
            # Let the previous call's objects go: while they live, Brian2 renames the new ones
            # (``fk_lif_clock_1``...), the generated code changes and make recompiles it all.
            gc.collect()
            set_device(dev, build_on_run=False, directory=directory)
            try:
                b2.prefs.devices.cpp_standalone.openmp_threads = threads
                objects, mon, duration = build(b2, I, steps)
                net = b2.Network(*objects)
                net.run(duration, report=None, namespace={})
                with _own_omp_policy():
                    dev.build(directory=directory, compile=True, run=True, with_output=False)
                counts = np.asarray(mon.count[:], dtype=np.int64).copy()
                seconds = float(dev._last_run_time)
                peer.timers = {k: dict(v) if isinstance(v, dict) else v for k, v in dev.timers.items()}
            finally:
                b2.prefs.devices.cpp_standalone.openmp_threads = old_threads
                dev.reinit()
                reset_device()
            return PeerTiming(counts, seconds)

        peer.directory = directory
        weakref.finalize(peer, shutil.rmtree, directory, True)  # the build goes with the peer
    else:
        def peer(I, steps):
            I, steps = _inputs(I, steps)
            gc.collect()  # as above: stable names, so Brian2's cache of compiled Cython code is reused
            pushed = not isinstance(get_device(), type(all_devices["runtime"]))
            if pushed:
                set_device("runtime")
            old_target = b2.prefs.codegen.target
            try:
                if codegen_target is not None:
                    b2.prefs.codegen.target = codegen_target
                objects, mon, duration = build(b2, I, steps)
                net = b2.Network(*objects)
                t0 = time.perf_counter()
                net.run(duration, report=None, namespace={})
                seconds = time.perf_counter() - t0
                counts = np.asarray(mon.count[:], dtype=np.int64).copy()
            finally:
                b2.prefs.codegen.target = old_target
                if pushed:
                    reset_device()
            return PeerTiming(counts, seconds)

    peer.mode = mode
    return peer


# ------------------------------------------------------------------ LIF
def lif_population_peer(mode: str = "cpp_standalone", *, codegen_target: str | None = None, threads: int = 0,
                        tau: float = LIF_TAU, tau_ref: float = LIF_TREF, dt: float = DT):
    """Brian2 on the ``lif_population`` case: ``peer(I, steps) -> PeerTiming(counts, seconds)``.

    ``N = I.size`` neurons, ``dv/dt = (I - v)/tau (unless refractory)``, threshold ``v > 1``,
    reset ``v = 0``, refractory ``tau_ref``, exact integration, ``steps`` steps of ``dt`` (ms),
    a SpikeMonitor on all. Raises ImportError without Brian2 (or without a C++ compiler for
    ``mode="cpp_standalone"``).
    """

    def build(b2, I, steps):
        ms = b2.ms
        G = b2.NeuronGroup(I.size, "dv/dt = (I - v) / tau : 1 (unless refractory)\nI : 1",
                           threshold="v > 1", reset="v = 0", refractory=tau_ref * ms, method="exact",
                           dt=dt * ms, namespace={"tau": tau * ms}, name="fk_lif")
        G.I = I
        S = b2.SpikeMonitor(G, name="fk_lif_spikes")
        return (G, S), S, steps * dt * ms

    return make_peer(mode, build, codegen_target, threads)


# ------------------------------------------------------------------ HH
_HH_EQS = """
dv/dt = (I - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL))/Cm : volt
dm/dt = alpham*(1 - m) - betam*m : 1
dh/dt = alphah*(1 - h) - betah*h : 1
dn/dt = alphan*(1 - n) - betan*n : 1
alpham = 0.1/mV*10*mV/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
betam = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
alphah = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
betah = 1/(1 + exp(-(v + 35*mV)/(10*mV)))/ms : Hz
alphan = 0.01/mV*10*mV/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
betan = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
I : amp/meter**2
"""


def _hh_scalars(model):
    from .hh import HH

    model = HH() if model is None else model
    if not isinstance(model, HH):
        raise TypeError(f"model must be a fastkernels.neurons.HH, got {type(model).__name__}")
    p = {}
    for name in ("C_m", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L", "V_rest", "V_threshold", "V_shift", "phi",
                 "sigma"):
        a = np.asarray(getattr(model, name), dtype=np.float64)
        if a.ndim != 0:
            raise ValueError(f"the Brian2 HH peer takes scalar parameters; {name} is an array")
        p[name] = float(a)
    if p["V_shift"] != 0.0 or p["phi"] != 1.0 or p["sigma"] != 0.0:
        raise ValueError("the Brian2 HH peer models the modern set only (V_shift 0, phi 1, sigma 0)")
    return model, p


def hh_population_peer(mode: str = "cpp_standalone", *, codegen_target: str | None = None, threads: int = 0,
                       model=None, dt: float = DT):
    """Brian2 on the ``hh_population`` case: ``peer(I, steps) -> PeerTiming(counts, seconds)``.

    ``N = I.size`` HH neurons (``model``, default :class:`fastkernels.neurons.HH`), ``I`` in
    uA/cm^2 (one value per neuron), exponential Euler, ``steps`` steps of ``dt`` (ms), spikes
    as upward crossings of ``V_threshold``, a SpikeMonitor on all. Raises ImportError without
    Brian2 (or without a C++ compiler for ``mode="cpp_standalone"``).
    """
    model, p = _hh_scalars(model)
    m0, h0, n0 = (float(x) for x in model.steady_state(p["V_rest"]))

    def build(b2, I, steps):
        mV, ms, cm = b2.mV, b2.ms, b2.cm
        ns = {"Cm": p["C_m"] * b2.ufarad / cm ** 2, "gNa": p["g_Na"] * b2.msiemens / cm ** 2,
              "gK": p["g_K"] * b2.msiemens / cm ** 2, "gL": p["g_L"] * b2.msiemens / cm ** 2,
              "ENa": p["E_Na"] * mV, "EK": p["E_K"] * mV, "EL": p["E_L"] * mV, "v_th": p["V_threshold"] * mV}
        G = b2.NeuronGroup(I.size, _HH_EQS, threshold="v > v_th", refractory="v > v_th",
                           method="exponential_euler", dt=dt * ms, namespace=ns, name="fk_hh")
        G.v = p["V_rest"] * mV
        G.m = m0
        G.h = h0
        G.n = n0
        G.I = I * b2.uamp / cm ** 2
        S = b2.SpikeMonitor(G, name="fk_hh_spikes")
        return (G, S), S, steps * dt * ms

    return make_peer(mode, build, codegen_target, threads)
