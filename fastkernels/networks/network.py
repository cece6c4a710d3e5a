"""Synapse groups and the :class:`Network` that runs groups, synapses and monitors together.

In the spirit of Brian2 without its equation strings::

    G = NeuronGroup(4000, LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0),
                    receptors={"ge": Current(5.0), "gi": Current(10.0)}, v0=v0)
    Se = Synapses(G, G, bernoulli(3200, 4000, 0.02, weight=1.62, seed=1), on_pre="ge")  # rows 0..3199
    net = Network(G, Se, SpikeMonitor(G))
    net.run(1000.0)

A run is one compiled call per chunk of steps (:mod:`._network_kernels`): the neuron update is
the population engine's own LIF step code, the propagation a CSR scatter in a fixed order.
Every state is a NumPy array the user may read and change between runs: ``G.v``, ``G.g[name]``,
``S.weight`` (the projection's :class:`~.connectivity.Connectivity`), ``S.delay``.
"""

from __future__ import annotations

import math
import sys
import time

import numba
import numpy as np

from .._backend import check_backend
from .._random import resolve_seed
from .._validate import check_positive
from ..neurons._driver import SimulationError
from ..neurons._layout import blocked, unblocked
from ..neurons._lif_kernels import SINCE_MAX
from ..neurons.lif import PARAM_ORDER, STATE_ORDER, lif_parameters, lif_propagators
from ._network_kernels import network_kernels
from .connectivity import Connectivity
from .groups import NeuronGroup, SpikeGeneratorGroup
from .monitors import PopulationRateMonitor, SpikeMonitor, StateMonitor

__all__ = ["Network", "Synapses"]

#: ``backend="auto"`` runs the neuron update on threads from this many neurons (below it a
#: parallel region per step costs more than it saves).
PARALLEL_MIN_NEURONS = 20_000
#: A run whose estimate exceeds this many seconds shows a progress bar (``progress="auto"``).
PROGRESS_AFTER_S = 5.0


class Synapses:
    """The synapses of one projection from ``source`` to ``target`` and what a spike does.

    Parameters
    ----------
    source : NeuronGroup or SpikeGeneratorGroup
    target : NeuronGroup
    connectivity : Connectivity
        ``n_pre == len(source)``, ``n_post == len(target)``; its ``weight`` and ``delay`` (ms,
        rounded to steps as Brian2 does, :meth:`Connectivity.delay_steps`) are read at each run.
    on_pre : str
        What a presynaptic spike does to the postsynaptic neuron: ``"v"`` (``v += w``) or the
        name of one of the target's receptors (``g += w``), ``delay`` steps later.
    """

    def __init__(self, source, target, connectivity, *, on_pre="v", name=None):
        if not isinstance(source, (NeuronGroup, SpikeGeneratorGroup)):
            raise TypeError(f"source must be a NeuronGroup or SpikeGeneratorGroup, got {type(source).__name__}")
        if not isinstance(target, NeuronGroup):
            raise TypeError(f"target must be a NeuronGroup, got {type(target).__name__}")
        if not isinstance(connectivity, Connectivity):
            raise TypeError(f"connectivity must be a fastkernels.networks.Connectivity, got "
                            f"{type(connectivity).__name__}")
        if connectivity.n_pre != source.n or connectivity.n_post != target.n:
            raise ValueError(f"connectivity is {connectivity.n_pre} x {connectivity.n_post} (pre x post) but the "
                             f"groups have {source.n} and {target.n} neurons")
        self.row = target.target_row(on_pre)
        self.source, self.target, self.connectivity, self.on_pre = source, target, connectivity, on_pre
        self.name = name or f"synapses_{id(self):x}"

    @property
    def weight(self) -> np.ndarray:
        return self.connectivity.weight

    @weight.setter
    def weight(self, value):
        self.connectivity.weight = value

    @property
    def delay(self):
        return self.connectivity.delay

    @delay.setter
    def delay(self, value):
        self.connectivity.delay = value

    def __len__(self) -> int:
        return self.connectivity.n_synapses

    def __repr__(self) -> str:
        return f"Synapses({self.source.name} -> {self.target.name}, {len(self)} synapses, on_pre={self.on_pre!r})"


_KINDS = (NeuronGroup, SpikeGeneratorGroup, Synapses, SpikeMonitor, StateMonitor, PopulationRateMonitor)


class Network:
    """Groups, synapses and monitors simulated together; :meth:`run` may be called again to continue.

    Parameters
    ----------
    *objects
        NeuronGroup, SpikeGeneratorGroup, Synapses and monitor objects (more with :meth:`add`).
    dt : float, ms
        Time step (> 0), default 0.1 ms.
    seed : None, int or numpy.random.Generator
        Key of the noise and Poisson-input streams (neuron ``i`` of the network, counting groups
        in the order they were added, uses stream ``i``, counter ``step``): the same seed gives
        the same run on every backend and thread count, and a continued run draws on.

    Attributes
    ----------
    t : float, ms
        Time reached (``step * dt``).
    step : int
        Steps run so far.
    """

    def __init__(self, *objects, dt=0.1, seed=None):
        self.dt = check_positive(dt, "dt")
        self._key = resolve_seed(seed)
        self.objects = []
        self.step = 0
        self._pending = None  # (ring, step): delayed effects not yet delivered
        self.add(*objects)

    @property
    def t(self) -> float:
        return self.step * self.dt

    def add(self, *objects) -> None:
        """Add objects (groups, synapses, monitors); each may be added once."""
        for obj in objects:
            if not isinstance(obj, _KINDS):
                raise TypeError(f"a Network holds groups, synapses and monitors, got {type(obj).__name__}")
            if any(obj is o for o in self.objects):
                raise ValueError(f"{obj!r} is already in the network")
        self.objects.extend(objects)

    def _of(self, kind):
        return [o for o in self.objects if isinstance(o, kind)]

    # ------------------------------------------------------------------ run
    def run(self, duration, *, backend="auto", progress="auto"):
        """Advance the network by ``duration`` ms (``round(duration / dt)`` steps).

        Parameters
        ----------
        duration : float, ms
            ``> 0``.
        backend : {"auto", "cpu", "parallel"}
            ``"parallel"`` runs each step's neuron update on threads (propagation stays serial,
            in a fixed order: the result is the same). ``"auto"``: parallel from
            :data:`PARALLEL_MIN_NEURONS` neurons. A CUDA kernel does not exist yet:
            ``"cuda"`` raises ``ValueError``.
        progress : "auto", bool
            A text progress bar on stderr: always, never, or when the run is estimated to take
            more than :data:`PROGRESS_AFTER_S` seconds.

        Raises
        ------
        ValueError
            Bad ``duration``, a synapse or monitor whose group is not in the network, a group
            state changed to a wrong shape, dtype or non-finite value, a negative delay,
            groups whose LIF models differ in ``freeze_refractory`` or ``refractory_mode``.
        SimulationError
            A neuron's state became NaN or ran away; the network is left as before the call.
        """
        duration = check_positive(duration, "duration")
        n_steps = int(round(duration / self.dt))
        if n_steps < 1:
            raise ValueError(f"duration must be at least half a step (dt = {self.dt} ms), got {duration}")
        check_backend(backend)
        if backend == "cuda":
            raise ValueError("Network.run has no CUDA kernel yet; use backend='auto', 'cpu' or 'parallel'")
        if not (progress == "auto" or isinstance(progress, bool)):
            raise ValueError(f"progress must be 'auto', True or False, got {progress!r}")
        plan = _Plan(self)
        if backend == "auto":
            backend = "parallel" if plan.n >= PARALLEL_MIN_NEURONS and numba.get_num_threads() > 1 else "cpu"
        times, ids, traces = plan.execute(self.step, self.step + n_steps, backend, progress)
        plan.commit(self.step, self.step + n_steps, times, ids, traces)
        self.step += n_steps
        self._pending = (plan.ring, self.step) if plan.ring.shape[0] > 1 and plan.ring.any() else None


class _Plan:
    """One run's arrays: the groups laid end to end, the projections concatenated."""

    def __init__(self, net: Network):
        dt = self.dt = net.dt
        self.net = net
        self.groups = net._of(NeuronGroup)
        if not self.groups:
            raise ValueError("a Network needs at least one NeuronGroup")
        self.gens = net._of(SpikeGeneratorGroup)
        members = set(map(id, self.groups + self.gens))
        for o in net.objects:
            for attr in ("source", "target", "group"):
                g = getattr(o, attr, None)
                if g is not None and id(g) not in members:
                    raise ValueError(f"{o!r}: its {attr} {g.name} is not in the network")
        self.offset = {}
        lo = 0
        for g in self.groups + self.gens:
            self.offset[id(g)] = lo
            lo += g.n
        self.n = n = sum(g.n for g in self.groups)
        self._parameters(dt)
        # receptors: row r of G is each group's r-th receptor
        self.n_rec = max(len(g.receptors) for g in self.groups)
        self.G = np.zeros((self.n_rec, n))
        self.coef = np.zeros((self.n_rec, n))
        self.decay = np.ones((self.n_rec, n))
        for g in self.groups:
            g.check_state()
            o = self.offset[id(g)]
            p = g.model.arrays(g.n)
            for r, (name, rec) in enumerate(g.receptors.items()):
                self.G[r, o:o + g.n] = g.g[name]
                self.coef[r, o:o + g.n], self.decay[r, o:o + g.n] = rec.coefficients(p["tau_m"], p["resistance"], dt,
                                                                                       g.method)
        self.iext = np.concatenate([g.I for g in self.groups])
        # uniform columns travel as one value (the kernel reads them as scalars)
        if np.ptp(self.iext) == 0:
            self.iext = self.iext[:1].copy()
        if self.coef.size and np.ptp(self.coef, axis=1).max() == 0 and np.ptp(self.decay, axis=1).max() == 0:
            self.coef, self.decay = self.coef[:, :1].copy(), self.decay[:, :1].copy()
        self._projections(dt)
        steps, gids = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for g in self.gens:
            k, i = g.steps(dt)
            steps.append(k)
            gids.append(i + self.offset[id(g)])
        k, i = np.concatenate(steps), np.concatenate(gids)
        order = np.lexsort((i, k))
        self.gen_k, self.gen_id = k[order], i[order]

    def _parameters(self, dt):
        ps, flags = [], set()
        for g in self.groups:
            p, _uniform, noisy, dynamics, poisson = lif_parameters(g.model, g.n, dt, g.method)
            lif_propagators(p, dt, g.method, noisy, dynamics)
            ps.append({k: np.broadcast_to(v, (g.n,)) for k, v in p.items()})
            flags.add((g.model.refractory_mode == "legacy_float", bool(g.model.freeze_refractory)))
            self.noisy = getattr(self, "noisy", False) or noisy
            self.dynamics = getattr(self, "dynamics", False) or dynamics
            self.poisson = getattr(self, "poisson", False) or poisson
        if len(flags) > 1:
            raise ValueError("the network's LIF groups must share freeze_refractory and refractory_mode")
        (self.legacy, self.freeze), = flags
        p = {k: np.concatenate([q[k] for q in ps]) for k in ps[0]}
        self.varied = any(np.ptp(p[name]) != 0 for name in PARAM_ORDER)
        self.P = blocked(p, PARAM_ORDER, self.n if self.varied else 1, np.float64)
        self.ref_s = p["tau_ref"] * 1e-3 if self.varied else p["tau_ref"][:1] * 1e-3
        state = {}
        for name in ("v", "v_threshold", "w", "since"):
            state[name] = np.concatenate([getattr(g, name) for g in self.groups])
        state["since"] = np.minimum(state["since"], SINCE_MAX)
        self.S = blocked(state, STATE_ORDER, self.n, np.float64)

    def _projections(self, dt):
        syns = self.net._of(Synapses)
        self.syns = syns
        src_lo, src_hi, rows, tgt, ip_off, syn_off = [], [], [], [], [], []
        ips, posts, ws, ds = [np.zeros(0, np.int64)], [np.zeros(0, np.int32)], [np.zeros(0)], [np.zeros(0, np.int32)]
        n_ip = n_syn = 0
        for s in syns:
            c = s.connectivity
            lo = self.offset[id(s.source)]
            src_lo.append(lo)
            src_hi.append(lo + c.n_pre)
            rows.append(s.row)
            tgt.append(self.offset[id(s.target)])
            ip_off.append(n_ip)
            syn_off.append(n_syn)
            ips.append(c.indptr)
            posts.append(c.post)
            w = np.asarray(c.weight, dtype=np.float64)
            if not np.isfinite(w).all():
                raise ValueError(f"{s.name}: weight must be finite")
            ws.append(w)
            ds.append(c.delay_steps(dt))
            n_ip += c.n_pre + 1
            n_syn += c.n_synapses
        as64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
        self.src_lo, self.src_hi, self.rows, self.tgt = as64(src_lo), as64(src_hi), as64(rows), as64(tgt)
        self.ip_off, self.syn_off = as64(ip_off), as64(syn_off)
        self.indptr, self.post = np.concatenate(ips), np.concatenate(posts)
        self.weight, self.dsteps = np.concatenate(ws), np.concatenate(ds)
        d_max = int(self.dsteps.max()) if self.dsteps.size else 0
        # no delays: one unused slot (spikes act at once); else one slot per step of delay, slot
        # ``k % R`` for step k. Effects still in flight from the last run carry over.
        pending = self.net._pending
        if pending is not None:
            old, k_old = pending
            if old.shape[1:] != (1 + self.n_rec, self.n):
                raise ValueError("the network's groups changed while delayed spikes were in flight; add groups "
                                 "before the first run or after the delays have elapsed")
            d_max = max(d_max, old.shape[0] - 1)
        self.ring = np.zeros((d_max + 1, 1 + self.n_rec, self.n if d_max else 1))
        if pending is not None:
            for k in range(k_old, k_old + old.shape[0]):
                self.ring[k % self.ring.shape[0]] = old[k % old.shape[0]]

    def execute(self, k_start, k_end, backend, progress):
        """Run the kernel from ``k_start`` to ``k_end`` in chunks; returns spike times, global ids, traces."""
        serial, parallel = network_kernels(self.varied, self.dynamics, self.noisy, self.legacy, self.freeze,
                                           self.poisson)
        kern = parallel if backend == "parallel" else serial
        mons = self.net._of(StateMonitor)
        every = math.gcd(*[m.every for m in mons]) if mons else 1
        rec = np.concatenate([m.record + self.offset[id(m.group)] for m in mons]) if mons else np.zeros(0, np.int64)
        k_first = -(-k_start // every) * every  # the first sampled step: absolute multiples of every
        n_rows = max(0, -(-(k_end - k_first) // every))
        traces = np.zeros((1 + self.n_rec, rec.size, n_rows))
        self.rec, self.every, self.k_first = rec, every, k_first
        n_gen = self.gen_k.size
        cap = max(1024, 4 * (self.n + min(n_gen, 1 << 20)))
        spk_t, spk_i = np.empty((1, cap)), np.empty((1, cap), dtype=np.int64)
        spk_n = np.zeros(1, np.int64)
        k_begin = np.array([k_start], np.int64)
        gen_pos = np.array([np.searchsorted(self.gen_k, k_start)], np.int64)
        err = np.full(2, -1, np.int64)
        chunk = min(k_end - k_start, 1000)
        first, t0, k_timed = True, 0.0, k_start
        bar = _Bar(k_end - k_start, progress)
        while k_begin[0] < k_end:
            if spk_t.shape[1] - spk_n[0] < self.n + 1 + (n_gen and 1 << 10):
                grow = max(spk_t.shape[1], 2 * (self.n + n_gen))
                spk_t = np.concatenate([spk_t, np.empty((1, grow))], axis=1)
                spk_i = np.concatenate([spk_i, np.empty((1, grow), np.int64)], axis=1)
            stop = min(k_end, k_begin[0] + chunk)
            kern(self.n, self.S, self.P, self.ref_s, self.iext, self.G, self.coef, self.decay, self.net._key, k_begin, stop,
                 k_first, self.dt, self.gen_k, self.gen_id, gen_pos, self.src_lo, self.src_hi, self.rows, self.tgt,
                 self.ip_off, self.syn_off, self.indptr, self.post, self.weight, self.dsteps, self.ring, spk_t, spk_i,
                 spk_n, rec, every, traces, err)
            if err[0] >= 0:
                bar.close()
                step, i = int(err[0]), int(err[1])
                g, local = self._locate(i)
                raise SimulationError(f"the state of neuron {local} of {g.name} became NaN or ran away at step {step} "
                                      f"(t = {step * self.dt:g} ms)", step, step * self.dt, local)
            if first:  # the first launch may have compiled: time the rest from here
                first, t0, k_timed = False, time.perf_counter(), k_begin[0]
                continue
            elapsed = time.perf_counter() - t0
            rate = (k_begin[0] - k_timed) / max(elapsed, 1e-9)
            chunk = max(100, int(rate * 0.25))  # ~0.25 s per launch: launches are cheap, and the bar moves
            bar.update(k_begin[0] - k_start, (k_end - k_begin[0]) / rate)
        bar.close()
        m = spk_n[0]
        return spk_t[0, :m].copy(), spk_i[0, :m].copy(), traces

    def _locate(self, i):
        for g in self.groups + self.gens:
            o = self.offset[id(g)]
            if o <= i < o + g.n:
                return g, i - o
        raise AssertionError(i)

    def commit(self, k_start, k_end, times, ids, traces):
        """Write the final state back into the groups' arrays (in place) and feed the monitors."""
        for r, name in enumerate(("v", "v_threshold", "w", "since")):
            flat = unblocked(self.S, r, self.n)
            for g in self.groups:
                o = self.offset[id(g)]
                getattr(g, name)[:] = flat[o:o + g.n]
        for g in self.groups:
            o = self.offset[id(g)]
            for r, name in enumerate(g.receptors):
                g.g[name][:] = self.G[r, o:o + g.n]
        n_steps = k_end - k_start
        for mon in self.net._of(SpikeMonitor):
            o = self.offset[id(mon.group)]
            sel = (ids >= o) & (ids < o + mon.group.n)
            mon._add(times[sel], ids[sel] - o)
        for mon in self.net._of(PopulationRateMonitor):
            o = self.offset[id(mon.group)]
            sel = (ids >= o) & (ids < o + mon.group.n)
            k = np.rint(times[sel] / self.dt).astype(np.int64) - k_start
            counts = np.bincount(k, minlength=n_steps)[:n_steps]
            mon._add((k_start + np.arange(n_steps)) * self.dt, counts / (mon.group.n * self.dt * 1e-3))
        q = 0
        sample_k = self.k_first + self.every * np.arange(traces.shape[2])
        for mon in self.net._of(StateMonitor):
            sel = sample_k % mon.every == 0
            x = traces[:1 + len(mon.group.receptors), q:q + mon.record.size][:, :, sel]
            mon._add(sample_k[sel] * self.dt, x.copy())
            q += mon.record.size


class _Bar:
    """A text progress bar on stderr (shown when asked, or when the run looks long)."""

    def __init__(self, total, mode):
        self.total, self.mode, self.shown = total, mode, False

    def update(self, done, left):
        """``done`` steps of ``total``, ``left`` seconds estimated to go."""
        if self.mode is False or (not self.shown and not (self.mode is True or left > PROGRESS_AFTER_S)):
            return
        self.shown = True
        f = int(30 * done / self.total)
        sys.stderr.write(f"\r[{'#' * f}{'.' * (30 - f)}] {100 * done / self.total:5.1f}%  {left:6.1f} s left ")
        sys.stderr.flush()

    def close(self):
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False

