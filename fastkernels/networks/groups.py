"""What a network is made of besides synapses: neuron groups, their receptors, spike generators.

A :class:`NeuronGroup` is ``n`` neurons of one model (today the LIF of
:class:`fastkernels.neurons.LIF`, integrated by the population engine's own step code) with
named *receptors*: postsynaptic variables that synapses add to and that drive the membrane.
Its state (``v``, each receptor, the refractory counter) is a set of NumPy arrays the user
reads and changes between runs. A :class:`SpikeGeneratorGroup` emits given spikes (Brian2's
``SpikeGeneratorGroup``) and a :class:`PoissonGroup` random ones at given rates (Brian2's
``PoissonGroup``): sources for synapses, with no state of their own (:data:`SOURCES`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._validate import (
    as_array,
    as_index_array,
    check_choice,
    check_positive,
    check_scalar,
)
from ..neurons import HH, LIF, Izhikevich
from ..neurons import hh as _hh
from ..neurons import izhikevich as _izh
from ..neurons._lif_kernels import LIMIT, MAX_RECEPTORS, SINCE_MAX
from ..neurons._params import MAX_STEP, check_n, per_neuron
from .connectivity import MAX_NEURONS

__all__ = ["Conductance", "Current", "NeuronGroup", "PoissonGroup", "SpikeGeneratorGroup"]

#: The neuron models a group may hold, their integrators in a network, and the default one.
MODELS = (LIF, HH, Izhikevich)
METHODS_OF = {LIF: ("exact", "euler"), HH: _hh.METHODS, Izhikevich: _izh.METHODS}
DEFAULT_METHOD = {LIF: "exact", HH: "exponential_euler", Izhikevich: "euler"}
#: ``setup(model, n, dt, method, v0) -> (p, state, noisy)`` of the engine models.
SETUP = {HH: _hh.population_setup, Izhikevich: _izh.population_setup}
#: The methods a receptor's coefficients are asked for: a LIF group's (:meth:`Current.coefficients`)
#: and an HH or Izhikevich group's (:meth:`Current.engine_coefficients`).
LIF_METHODS = METHODS_OF[LIF]
ENGINE_METHODS = tuple(dict.fromkeys(("exact", *_hh.METHODS, *_izh.METHODS)))


def check_name(name, default: str) -> str:
    """A group's or projection's ``name=``: None (``default``) or a non-empty str."""
    if name is None:
        return default
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__} {name!r}")
    if not name:
        raise ValueError("name must be a non-empty str (or None for the default)")
    return name


def _check_step(dt, tau, method, order=0):
    """``dt`` checked and ``h = dt / tau``, refused where a coefficient of ``method`` would not be
    finite: ``1 - h`` (Euler) or the chain's ``h^order / order!`` (a filter of order > 0). An exact
    first-order decay takes any ``h`` (``exp(-inf) = 0``)."""
    dt = check_positive(dt, "dt")
    h = dt / tau
    f = 1.0
    for i in range(1, order + 1):
        f = f * h / i
    if not math.isfinite(h if method == "euler" else f):
        raise ValueError(f"dt / tau = {dt!r} / {tau!r} overflows the receptor's {method!r} coefficients; "
                         f"use a larger tau or a smaller dt")
    return dt, h


def _check_lif_arrays(tau_m, resistance):
    """``tau_m`` and ``resistance`` of :meth:`Current.coefficients`: float64 ``(n,)`` arrays, finite,
    ``tau_m > 0`` and ``resistance != 0`` (the drive is divided by it)."""
    for name, x in (("tau_m", tau_m), ("resistance", resistance)):
        if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.ndim != 1:
            what = f"{x.dtype} array of shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
            raise TypeError(f"{name} must be a float64 ndarray of shape (n,), got {what}")
    if resistance.shape != tau_m.shape:
        raise ValueError(f"resistance must have the shape of tau_m {tau_m.shape}, got {resistance.shape}")
    if not (np.isfinite(tau_m).all() and (tau_m > 0).all()):
        raise ValueError("tau_m must be finite and > 0")
    if not (np.isfinite(resistance).all() and (resistance != 0).all()):
        raise ValueError("resistance must be finite and non-zero (a receptor's drive is divided by it)")


@dataclass(frozen=True)
class Current:
    """An exponential current-based receptor (Brian2's CUBA ``dge/dt = -ge / tau``, ``on_pre: ge += w``),
    or a higher-order PSC filter.

    In a LIF group its value ``g`` is in the units of ``v`` (mV for a physical LIF) and enters the
    membrane equation as an input: ``tau_m dv/dt = -(v - v_rest) + R I + sum_receptors g``. In an HH
    or Izhikevich group ``g`` is a current in the model's input units (uA/cm^2 for HH) added to
    the input (:meth:`engine_coefficients`). With ``method="exact"`` the pair is integrated exactly
    (Brian2's ``method="exact"``): ``g`` decays as ``g exp(-dt / tau)`` and its effect on ``v`` over
    a step is the closed form; with ``"euler"`` both are forward Euler steps from the step's start,
    as Brian2's ``"euler"``.

    ``order = n > 0`` makes the receptor the lecture notes' PSC filter ``h(t) = k t^n e^(-t/tau)``
    (seed 001 l.340) as a cascade of ``n + 1`` first-order stages ``tau ds_0/dt = -s_0``,
    ``tau ds_k/dt = s_(k-1) - s_k``: a spike adds ``w`` to ``s_0`` and the drive is ``s_n`` (so
    ``s_n(t) = w (t/tau)^n e^(-t/tau) / n!``: weights ``w / tau`` give the notes' normalised filter,
    ``s_i += w_ij / tau_s``). The chain and its effect on ``v`` are integrated exactly (LIF
    ``method="exact"``; the coefficients come from the matrix exponential of the linear system), the
    receptor's ``g`` holds all ``n + 1`` stages (shape ``(n + 1, n_neurons)``, the last is the drive).

    Parameters
    ----------
    tau : float, ms
        Decay time constant (> 0).
    order : int
        Filter order ``n >= 0`` (0: the exponential synapse).
    """

    tau: float
    order: int = 0

    def __post_init__(self):
        object.__setattr__(self, "tau", check_positive(self.tau, "tau"))
        object.__setattr__(self, "order", check_scalar(self.order, "order", integer=True, lo=0, hi=MAX_RECEPTORS - 1))

    kind = 0  # the kernels' code

    def coefficients(self, tau_m: np.ndarray, resistance: np.ndarray, dt: float, method: str):
        """``(coef, decay, h)``, float64 ``(order + 1, n)`` each, one row per stage: the step's drive gains
        ``coef * s`` (the LIF step adds ``R * drive`` to ``v``'s fixed point, held over the step) and
        the stages then become ``decay * (s_k + sum_i h^i / i! s_(k-i))`` (``h = dt / tau``).

        Exact, first order: ``coef = K / R`` with ``K = tau/(tau - tau_m) (e^(-dt/tau) - e^(-dt/tau_m)) /
        (1 - e^(-dt/tau_m))`` (``(dt/tau_m) e^(-dt/tau_m) / (1 - e^(-dt/tau_m))`` when ``tau == tau_m``), so
        the LIF's exact step ``v_inf + (v - v_inf) e^(-dt/tau_m)`` is the closed-form solution of the
        coupled pair; higher orders take each stage's exact contribution to ``v`` from the matrix
        exponential. Euler (order 0 only): ``coef = 1 / R``, ``decay = 1 - dt / tau``.
        """
        check_choice(method, "method", LIF_METHODS)
        _check_lif_arrays(tau_m, resistance)
        if method == "euler" and self.order:
            raise ValueError("a PSC filter of order > 0 needs the group's method='exact'")
        dt, hs = _check_step(dt, self.tau, method, self.order)
        n = tau_m.shape[0]
        h = np.full((self.order + 1, n), hs)
        if method == "euler":
            return (1.0 / resistance)[None, :], np.full((1, n), 1.0 - hs), h
        decay = np.full((self.order + 1, n), math.exp(-hs))
        if self.order == 0:
            hm = dt / tau_m
            a = np.exp(-hm)
            with np.errstate(divide="ignore", invalid="ignore"):
                k = self.tau / (self.tau - tau_m) * (np.exp(-hs) - a) / -np.expm1(-hm)
            same = np.isclose(tau_m, self.tau, rtol=1e-9, atol=0.0) | ~np.isfinite(k)
            k = np.where(same, hm * a / -np.expm1(-hm), k)
            return (k / resistance)[None, :], decay, h
        from scipy.linalg import expm

        coef = np.empty((self.order + 1, n))
        for tm in np.unique(tau_m):
            m = self.order + 2  # u = v - v_inf(I), then the stages
            A = np.zeros((m, m))
            A[0, 0], A[0, m - 1] = -1.0 / tm, 1.0 / tm
            for st in range(1, m):
                A[st, st] = -1.0 / self.tau
                if st > 1:
                    A[st, st - 1] = 1.0 / self.tau
            c = expm(A * dt)[0, 1:] / -np.expm1(-dt / tm)
            coef[:, tau_m == tm] = c[:, None]
        return coef / resistance[None, :], decay, h

    def engine_coefficients(self, n: int, dt: float, method: str):
        """``(coef, decay, h)`` for an HH or Izhikevich group (``(order + 1, n)`` each): the drive (a current
        in the model's input units) gains the last stage at the step's start; the stages then
        decay exactly (``exp(-dt/tau)``, the chain as in :meth:`coefficients`), or by ``1 - dt/tau``
        under ``"euler"`` (order 0 only)."""
        n = check_scalar(n, "n", integer=True, lo=1, hi=MAX_NEURONS)
        check_choice(method, "method", ENGINE_METHODS)
        if method == "euler" and self.order:
            raise ValueError("a PSC filter of order > 0 needs an exact decay: use the group's 'exponential_euler' "
                             "or 'rk4' method")
        dt, hs = _check_step(dt, self.tau, method, self.order)
        coef = np.zeros((self.order + 1, n))
        coef[-1] = 1.0
        decay = np.full((self.order + 1, n), 1.0 - hs if method == "euler" else math.exp(-hs))
        return coef, decay, np.full((self.order + 1, n), hs)


@dataclass(frozen=True)
class Conductance:
    """An exponential conductance-based receptor (COBA: ``dg/dt = -g / tau``, ``on_pre: g += w``).

    In a LIF group ``g`` is dimensionless, relative to the leak conductance, and enters the
    membrane equation as ``tau_m dv/dt = -(v - v_rest) + R I + g (E_rev - v)``. In an HH group ``g``
    is in mS/cm^2 and adds the current ``g (E_rev - v)`` (uA/cm^2) to the input; in an
    Izhikevich group it adds ``g (E_rev - v)`` to ``I`` (:meth:`engine_coefficients`). The equation is not linear with constant
    coefficients, so it needs ``method="euler"``: forward Euler from the step's start for ``v``
    and ``g`` alike (``g *= 1 - dt / tau``), as Brian2's ``method="euler"``.

    Parameters
    ----------
    tau : float, ms
        Decay time constant (> 0).
    E_rev : float
        Reversal potential (units of ``v``: mV for a physical LIF).
    """

    tau: float
    E_rev: float

    def __post_init__(self):
        object.__setattr__(self, "tau", check_positive(self.tau, "tau"))
        object.__setattr__(self, "E_rev", check_scalar(self.E_rev, "E_rev"))

    kind = 1  # the kernels' code
    order = 0

    def engine_coefficients(self, n: int, dt: float, method: str):
        """``(coef, decay, E)`` for an HH or Izhikevich group (``(1, n)`` each): the drive (a current in
        the model's input units) gains ``g (E - v)``, ``v`` and ``g`` at the step's start; ``g`` then
        decays exactly (``exp(-dt/tau)``), by ``1 - dt/tau`` under ``"euler"``."""
        n = check_scalar(n, "n", integer=True, lo=1, hi=MAX_NEURONS)
        check_choice(method, "method", ENGINE_METHODS)
        dt, h = _check_step(dt, self.tau, method)
        decay = 1.0 - h if method == "euler" else math.exp(-h)
        return np.ones((1, n)), np.full((1, n), decay), np.full((1, n), self.E_rev)

    def coefficients(self, tau_m: np.ndarray, resistance: np.ndarray, dt: float, method: str):
        """``(coef, decay, E)``, ``(1, n)`` each: the step's drive gains ``coef * g * (E - v)`` with
        ``coef = 1 / R`` (``v`` at the step's start), then ``g *= decay = 1 - dt / tau``."""
        check_choice(method, "method", LIF_METHODS)
        if method != "euler":
            raise ValueError("a Conductance receptor needs the group's method='euler' (v's equation is not "
                             "linear with constant coefficients)")
        _check_lif_arrays(tau_m, resistance)
        dt, h = _check_step(dt, self.tau, method)
        n = tau_m.shape[0]
        return (1.0 / resistance)[None, :], np.full((1, n), 1.0 - h), np.full((1, n), self.E_rev)


RECEPTORS = (Current, Conductance)


class NeuronGroup:
    """``n`` neurons of one model with named receptors, simulated by a :class:`~.network.Network`.

    Parameters
    ----------
    n : int
        Number of neurons (>= 1).
    model : fastkernels.neurons.LIF, HH or Izhikevich, optional
        Parameters (scalars or ``(n,)`` arrays; default ``LIF()``, the normalised form). A LIF
        group runs every feature of :func:`fastkernels.neurons.simulate_lif`'s grid methods
        (refractory rules, adaptive threshold and adaptation current, white noise, Poisson input);
        HH and Izhikevich groups run the population engine's step loops of those models (noise
        included). A network's groups share one model class.
    receptors : dict of str to Current or Conductance, optional
        The group's synaptic variables, by name (``{"ge": Current(5.0), "gi": Current(10.0)}``).
        ``"v"`` is reserved: a synapse with ``on_pre="v"`` jumps the membrane itself.
    v0 : float or array, optional
        Initial ``v`` (default: the model's rest, ``-65`` mV for Izhikevich; HH gates start at
        their steady state at ``v0``, Izhikevich's ``u`` at ``b v0``).
    I : float or array, optional
        Constant external input in the model's input units (LIF: ``R * I`` is in the units of
        ``v``; HH: uA/cm^2), default 0.
    method : str, optional
        Integrator: LIF ``"exact"`` (default) or ``"euler"`` (see :class:`Current`;
        :class:`Conductance` needs ``"euler"``); HH ``"exponential_euler"`` (default), ``"euler"``
        or ``"rk4"``; Izhikevich ``"euler"`` (default) or ``"rk4"``.
    name : str, optional
        For messages.

    Attributes
    ----------
    v : ndarray, float64, shape (n,)
        Membrane potential (written by each run; the user may change it in place between runs).
    state : dict of str to ndarray
        Every state variable of the model, float64 ``(n,)`` (LIF: ``v``, ``v_threshold``, ``w``,
        ``since``, the steps since the last spike; HH: ``v``, ``m``, ``h``, ``n``; Izhikevich:
        ``v``, ``u``), same rules as ``v``.
    g : dict of str to ndarray
        Each receptor's value, float64 ``(n,)`` (same rules as ``v``).
    """

    def __init__(self, n, model=None, *, receptors=None, v0=None, I=0.0, method=None, name=None):
        self.n = check_n(n, 64)
        if self.n > MAX_NEURONS:
            raise ValueError(f"n must be at most {MAX_NEURONS} (int32 neuron ids), got {self.n}")
        model = LIF() if model is None else model
        if not isinstance(model, MODELS):
            raise TypeError(f"model must be a fastkernels.neurons LIF, HH or Izhikevich, got {type(model).__name__}")
        self.model = model
        kind = type(model)
        method = DEFAULT_METHOD[kind] if method is None else method
        check_choice(method, "method", METHODS_OF[kind])
        self.method = method
        if receptors is not None and not isinstance(receptors, Mapping):
            raise TypeError(f"receptors must be a dict of name -> Current or Conductance, got "
                            f"{type(receptors).__name__}")
        receptors = {} if receptors is None else dict(receptors)
        for key, rec in receptors.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise ValueError(f"receptor names must be identifiers, got {key!r}")
            if key == "v":
                raise ValueError("'v' is reserved for the membrane potential (on_pre='v' jumps it); "
                                 "name the receptor otherwise")
            if not isinstance(rec, RECEPTORS):
                raise TypeError(f"receptors[{key!r}] must be a fastkernels.networks.Current or Conductance, got "
                                f"{type(rec).__name__}")
            if isinstance(rec, Conductance) and kind is LIF and method != "euler":
                raise ValueError(f"receptors[{key!r}] is a Conductance: a LIF group needs method='euler', got "
                                 f"{method!r}")
        name = check_name(name, f"neurongroup_{id(self):x}")
        self.receptors = receptors
        self.name = name
        self.I = per_neuron(I, "I", self.n)
        if kind is LIF:
            p = model.arrays(self.n)  # validates every parameter now, naming it
            self.state = {"v": per_neuron(p["v_rest"] if v0 is None else v0, "v0", self.n, limit=LIMIT).copy(),
                          "v_threshold": p["v_threshold"].copy(), "w": np.zeros(self.n),
                          "since": np.full(self.n, SINCE_MAX)}
        else:  # the model's own setup: checked parameters, its initial state (dt does not matter here)
            _p, state, _noisy = SETUP[kind](model, self.n, 0.1, method, v0)
            self.state = {key: np.array(value, dtype=np.float64) for key, value in state.items()}
        self._state_keys = tuple(self.state)  # what check_state requires of the state a user may change
        self.g = {key: np.zeros(self.n) if rec.order == 0 else np.zeros((rec.order + 1, self.n))
                  for key, rec in receptors.items()}

    @property
    def v(self) -> np.ndarray:
        return self.state["v"]

    @v.setter
    def v(self, value):
        self.state["v"] = value

    def __len__(self) -> int:
        return self.n

    def receptor_key(self, on_pre: str):
        """What a synapse's ``on_pre`` target names: ``None`` for ``"v"``, else the receptor's
        ``(position, kind, order)`` (how a network finds its rows)."""
        if not isinstance(on_pre, str):
            raise TypeError(f"on_pre must be 'v' or the name (a str) of a receptor of {self.name} "
                            f"({sorted(self.receptors)}), got {type(on_pre).__name__} {on_pre!r}")
        if on_pre == "v":
            return None
        if on_pre not in self.receptors:
            raise ValueError(f"on_pre must be 'v' or a receptor of {self.name} ({sorted(self.receptors)}), "
                             f"got {on_pre!r}")
        return list(self.receptors).index(on_pre), self.receptors[on_pre].kind, self.receptors[on_pre].order

    def receptor_keys(self) -> list:
        """``(position, kind, order)`` of each receptor, in order."""
        return [(r, rec.kind, rec.order) for r, rec in enumerate(self.receptors.values())]

    def check_state(self) -> None:
        """Refuse a state the user set to something the kernels cannot take (checked before each run)."""
        for where, d in (("state", self.state), ("g", self.g)):
            if not isinstance(d, dict):
                raise ValueError(f"{self.name}.{where} must stay a dict of arrays, got {type(d).__name__}")
        for where, keys, d in (("state", self._state_keys, self.state), ("g", tuple(self.receptors), self.g)):
            for k in keys:
                if k not in d:
                    raise ValueError(f"{self.name}.{where}[{k!r}] is missing (deleted?); it must stay a float64 "
                                     f"array of the group's neurons")
        for k in self.g:
            if k not in self.receptors:
                raise ValueError(f"{self.name}.g[{k!r}] is not a receptor of {self.name} ({sorted(self.receptors)})")
        shapes = {k: (self.n,) for k in self.state}
        shapes.update({f"g[{k!r}]": (self.n,) if rec.order == 0 else (rec.order + 1, self.n)
                       for k, rec in self.receptors.items()})
        for key, arr in [(k, a) for k, a in self.state.items()] + [(f"g[{k!r}]", a) for k, a in self.g.items()]:
            if not isinstance(arr, np.ndarray) or arr.shape != shapes[key] or arr.dtype != np.float64:
                raise ValueError(f"{self.name}.{key} must stay a float64 array of shape {shapes[key]}")
            if not np.isfinite(arr).all():
                raise ValueError(f"{self.name}.{key} must be finite")
        if (np.abs(self.v) > LIMIT).any():
            raise ValueError(f"{self.name}.v must lie within +-{LIMIT:g}")
        if "since" in self.state and (self.state["since"] < 0).any():
            raise ValueError(f"{self.name}.since must be >= 0")

    def __repr__(self) -> str:
        return f"NeuronGroup(n={self.n}, receptors={sorted(self.receptors)}, method={self.method!r})"


def _spike_times(times) -> np.ndarray:
    """A SpikeGeneratorGroup's ``times``: a real scalar or a 1-D sequence of real numbers (not bools),
    finite and >= 0 (checked by the caller), as a fresh float64 ``(k,)`` array."""
    if np.ndim(times) == 0 and not isinstance(times, (str, bytes)):
        return np.atleast_1d(np.float64(check_scalar(times, "times")))
    try:
        t = np.asarray(times)
    except Exception as exc:  # ragged nesting
        raise TypeError(f"times must be a 1-D sequence of real numbers (ms), got {type(times).__name__} that NumPy "
                        f"cannot read as one ({exc})") from None
    if t.dtype.kind not in "iuf":
        raise TypeError(f"times must be real numbers (ms), got dtype {t.dtype}")
    if t.ndim != 1:
        raise ValueError(f"times must be 1-dimensional, one time per spike; got shape {t.shape}")
    return np.array(as_array(t.astype(np.float64), "times", finite=True), dtype=np.float64)


class SpikeGeneratorGroup:
    """``n`` sources that spike at given times (Brian2's ``SpikeGeneratorGroup``).

    Parameters
    ----------
    n : int
        Number of sources.
    indices : array_like of int, shape (k,)
        Source of each spike, in ``[0, n)``.
    times : array_like of float, shape (k,), ms
        Time of each spike (finite, >= 0). A spike is emitted in the step that holds its time,
        ``int((t + 1e-3 dt) / dt)`` as Brian2's ``timestep()`` takes it; two spikes of one source
        in one step are refused.
    name : str, optional
    """

    def __init__(self, n, indices, times, *, name=None):
        self.n = check_scalar(n, "n", integer=True, lo=1, hi=MAX_NEURONS)
        self.indices = as_index_array(indices, "indices", n=self.n).astype(np.int64)
        t = _spike_times(times)
        if t.shape != self.indices.shape:
            raise ValueError(f"times must have one entry per index, shape {self.indices.shape}; got {t.shape}")
        if (t < 0).any():
            raise ValueError(f"times must be >= 0; entry {int(np.flatnonzero(t < 0)[0])} is {t[t < 0][0]}")
        self.name = check_name(name, f"spikegenerator_{id(self):x}")
        self.times = t

    def __len__(self) -> int:
        return self.n

    def steps(self, dt: float) -> tuple:
        """``(steps, ids)`` int64, sorted by step then id: each spike's step for time step ``dt``."""
        dt = check_positive(dt, "dt")
        with np.errstate(over="ignore", under="ignore"):
            q = (self.times + 1e-3 * dt) / dt
        if q.size and not q.max() < MAX_STEP:  # also inf (a tiny dt)
            s = int(np.argmax(q))
            raise ValueError(f"{self.name}: the spike at times[{s}] = {float(self.times[s])!r} ms falls in step "
                             f"{q[s]:.4g} at dt = {dt!r} ms, beyond the {MAX_STEP:.4g} steps a run reaches; give "
                             f"earlier times or a larger dt")
        k = q.astype(np.int64)
        order = np.lexsort((self.indices, k))
        k, ids = k[order], self.indices[order]
        dup = (np.diff(k) == 0) & (np.diff(ids) == 0)
        if dup.any():
            q = int(np.flatnonzero(dup)[0])
            raise ValueError(f"{self.name}: source {ids[q]} spikes twice in step {k[q]} (dt = {dt} ms)")
        return k, ids

    def __repr__(self) -> str:
        return f"SpikeGeneratorGroup(n={self.n}, spikes={self.times.size})"


class PoissonGroup:
    """``n`` independent Poisson sources (Brian2's ``PoissonGroup``).

    In every step source ``i`` spikes with probability ``rates[i] * dt`` (Brian2's threshold
    ``rand() < rates * dt``: a Bernoulli trial per step, so at most one spike per step and a
    count over ``T`` ms that is binomial, Poisson as ``dt -> 0``). The draws come from the
    network's seed through counter-based streams, one per group and step: the same seed gives
    the same spikes on every backend and thread count, and however a run is split into calls.

    Parameters
    ----------
    n : int
        Number of sources.
    rates : float or array_like of float, shape (n,), Hz
        Firing rate of each source (finite, >= 0; ``rates * dt`` must not exceed 1 at run time).
        ``group.rates`` is an ``(n,)`` float64 array the user may change between runs.
    name : str, optional

    Notes
    -----
    With one rate for the whole group a step costs O(its spikes) (the gaps between spiking
    sources are drawn as geometric variates); with per-source rates it costs one uniform per
    source and step, as Brian2's does.
    """

    def __init__(self, n, rates, *, name=None):
        self.n = check_scalar(n, "n", integer=True, lo=1, hi=MAX_NEURONS)
        self.name = check_name(name, f"poissongroup_{id(self):x}")
        self.rates = rates

    @property
    def rates(self) -> np.ndarray:
        """``(n,)`` float64, Hz."""
        return self._rates

    @rates.setter
    def rates(self, value):
        r = np.asarray(value)
        if r.dtype.kind not in "iuf":
            raise TypeError(f"rates must be real numbers (Hz), got dtype {r.dtype}")
        r = r.astype(np.float64)
        if r.ndim > 1 or (r.ndim == 1 and r.shape != (self.n,)):
            raise ValueError(f"rates must be a scalar or have shape ({self.n},), got shape {r.shape}")
        self._rates = self._checked(np.array(np.broadcast_to(r, (self.n,))))  # stored only once checked

    def _checked(self, r):
        """``r`` (the ``(n,)`` rates), refused unless finite and >= 0."""
        if r.shape != (self.n,):
            raise ValueError(f"{self.name}: rates must keep shape ({self.n},), got {r.shape}")
        if not np.isfinite(r).all():
            raise ValueError("rates must be finite")
        if (r < 0).any():
            q = int(np.flatnonzero(r < 0)[0])
            raise ValueError(f"rates must be >= 0 Hz; source {q} has {r[q]}")
        return r

    def probabilities(self, dt: float) -> np.ndarray:
        """Each source's spike probability per step of ``dt`` ms (``(n,)`` float64); the rates (which
        may have been changed in place) and ``dt`` are checked."""
        dt = check_positive(dt, "dt")
        r = self._checked(self._rates)
        p = r * (dt * 1e-3)
        if (p > 1.0).any():
            q = int(np.argmax(p))
            raise ValueError(f"{self.name}: rates * dt must be <= 1 (one spike per step at most); source {q} has "
                             f"{r[q]} Hz at dt = {dt} ms")
        return p

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        r = self._rates
        rate = f"{r[0]:g} Hz" if np.ptp(r) == 0 else f"{r.min():g}..{r.max():g} Hz"
        return f"PoissonGroup(n={self.n}, rates={rate})"


#: The groups that only emit spikes (no state): sources for synapses and monitors.
SOURCES = (SpikeGeneratorGroup, PoissonGroup)
