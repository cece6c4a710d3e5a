"""One ``Network.run`` call's arrays and its execution (:class:`Plan`).

The groups are laid end to end (neuron ids, then spike generators), the projections' CSR arrays
concatenated, the model's parameters and state blocked as the population engine lays them out
(with the receptor rows after them), and the compiled run (:mod:`._network_kernels`, or
:mod:`._network_cuda`) called in chunks; :meth:`Plan.commit` writes the outcome back into the
groups, synapses and monitors.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._backend import get_num_threads, load_cuda
from .._progress import ProgressBar
from .._validate import check_allocation, check_cast_range, max_bytes
from ..neurons import HH, LIF, Izhikevich
from ..neurons import hh as _hh
from ..neurons import izhikevich as _izh
from ..neurons._driver import SimulationError
from ..neurons._layout import blocked, unblocked
from ..neurons._lif_kernels import MAX_RECEPTORS, RECEPTOR_ROW, SINCE_MAX
from ..neurons.lif import PARAM_ORDER, STATE_ORDER, lif_parameters, lif_propagators
from ._network_kernels import engine_network_kernels, flush_period, network_kernels, run_scratch
from ._stdp_kernels import by_post
from ._sources import source_spikes
from .groups import SETUP, NeuronGroup, PoissonGroup, SpikeGeneratorGroup
from .monitors import PopulationRateMonitor, SpikeMonitor, StateMonitor
from .synapses import Synapses

#: The population-engine description of each model a group may hold besides the LIF.
POPULATIONS = {HH: _hh.POPULATION, Izhikevich: _izh.POPULATION}


def _all_equal(x) -> bool:
    """Whether every entry of ``x`` equals the first (``np.ptp(x) == 0`` without its ``inf - inf``
    warning: a receptor's ``h = dt / tau`` row may be inf)."""
    x = np.asarray(x)
    return x.size == 0 or bool((x == x.flat[0]).all())


class Plan:
    """One run's arrays: the groups laid end to end, the projections concatenated."""

    def __init__(self, net):
        dt = self.dt = net.dt
        self.dtype = net.dtype
        self.net = net
        self.groups = net._of(NeuronGroup)
        self.gens = net._of(SpikeGeneratorGroup)
        self.poissons = net._of(PoissonGroup)
        self.sources = self.gens + self.poissons
        if not self.groups and not self.sources:
            raise ValueError("a Network needs at least one NeuronGroup, SpikeGeneratorGroup or PoissonGroup")
        members = set(map(id, self.groups + self.sources))
        for o in net.objects:
            for attr in ("source", "target", "group"):
                g = getattr(o, attr, None)
                if g is not None and id(g) not in members:
                    raise ValueError(f"{o!r}: its {attr} {g.name} is not in the network")
        self.offset = {}
        lo = 0
        for g in self.groups + self.sources:  # neurons, then the generators, then the Poisson sources
            self.offset[id(g)] = lo
            lo += g.n
        self.n = sum(g.n for g in self.groups)
        # receptor rows: current receptors first, then conductances; a group's r-th receptor of a
        # kind and order shares its rows (one per filter stage) with the other groups' (r, kind, order)
        keys = sorted({(kind, r, order) for g in self.groups for r, kind, order in g.receptor_keys()})
        self.row_of, self.chain = {}, []
        for kind, r, order in keys:
            self.row_of[(r, kind, order)] = len(self.chain)
            self.chain.extend(range(order + 1))
        if len(self.chain) > MAX_RECEPTORS:
            raise ValueError(f"a network's groups may use at most {MAX_RECEPTORS} receptor rows (one per filter "
                             f"stage; a group's r-th receptor of a kind shares rows with other groups'), got "
                             f"{len(self.chain)}")
        self.n_rec = len(self.chain)
        self.n_cur = sum(order + 1 for kind, _r, order in keys if kind == 0)
        self._parameters(dt)
        self.iext = np.concatenate([g.I for g in self.groups] + [np.zeros(0 if self.groups else 1)])
        if self.dtype == np.float32:
            check_cast_range(self.iext, self.dtype, "I")
        self.iext = self.iext.astype(self.dtype)
        if _all_equal(self.iext):  # a uniform input travels as one value
            self.iext = self.iext[:1].copy()
        self._projections(dt)
        steps, gids = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for g in self.gens:
            k, i = g.steps(dt)
            steps.append(k)
            gids.append(i + self.offset[id(g)])
        k, i = np.concatenate(steps), np.concatenate(gids)
        order = np.lexsort((i, k))
        self.gen_k, self.gen_id = k[order], i[order]
        self.pois = [(self.offset[id(g)], g.probabilities(dt)) for g in self.poissons]

    def _parameters(self, dt):
        """The blocked parameters and state of all groups end to end (receptor rows included)."""
        kinds = {type(g.model) for g in self.groups}
        if len(kinds) > 1:
            raise ValueError(f"a network's neuron groups share one model class, got {sorted(k.__name__ for k in kinds)}")
        self.kind = kinds.pop() if kinds else LIF
        self.rec_names = [f"receptor{q}_{x}" for q in range(self.n_rec) for x in ("coef", "decay", "E")]
        if self.kind is LIF:
            self._lif_parameters(dt)
            self.state_names, self.rrow = STATE_ORDER[:4], RECEPTOR_ROW
        else:
            self._engine_parameters(dt)
        self._blocked_state()

    def _lif_parameters(self, dt):
        ps, flags = [], set()
        self.noisy = self.dynamics = self.poisson = False
        if not self.groups:  # spike generators only: an empty population (plasticity between generators)
            flags.add((False, True))
            p, *_ = lif_parameters(LIF(), 1, dt, "exact")
            lif_propagators(p, dt, "exact", False, False)
            ps.append({k: np.asarray(v, dtype=np.float64) for k, v in p.items()})
        rec_names = self.rec_names
        for g in self.groups:
            g.check_state()
            p, _uniform, noisy, dynamics, poisson = lif_parameters(g.model, g.n, dt, g.method)
            lif_propagators(p, dt, g.method, noisy, dynamics)
            p = {k: np.broadcast_to(v, (g.n,)) for k, v in p.items()}
            for name in rec_names:
                p[name] = np.zeros(g.n)
            for key, rec in zip(g.receptor_keys(), g.receptors.values()):
                self._receptor_rows(p, key, rec.coefficients(p["tau_m"], p["resistance"], dt, g.method))
            ps.append(p)
            flags.add((g.model.refractory_mode == "legacy_float", bool(g.model.freeze_refractory)))
            self.noisy, self.dynamics, self.poisson = self.noisy or noisy, self.dynamics or dynamics, \
                self.poisson or poisson
        if len(flags) > 1:
            raise ValueError("the network's LIF groups must share freeze_refractory and refractory_mode")
        (self.legacy, self.freeze), = flags
        p = {k: np.concatenate([q[k] for q in ps]) for k in ps[0]}
        order = PARAM_ORDER + tuple(rec_names)
        self.varied = not all(_all_equal(p[name]) for name in order)
        if self.dtype == np.float32:  # refuse values beyond float32's range, naming them
            for name in order:
                check_cast_range(p[name], self.dtype, name)
        self.P = blocked(p, order, self.n if self.varied else 1, self.dtype)
        self.ref_s = p["tau_ref"] * 1e-3 if self.varied else p["tau_ref"][:1] * 1e-3
        self.flush_every = flush_period([p["a"]] + [p[f"receptor{q}_decay"] for q in range(self.n_rec)], self.dtype)

    def _engine_parameters(self, dt):
        """HH or Izhikevich groups: the model's own setup, receptor coefficients after its rows."""
        pop = POPULATIONS[self.kind]
        self.population, self.code = pop, pop.methods.index(self.groups[0].method)
        if any(g.method != self.groups[0].method for g in self.groups):
            raise ValueError("a network's neuron groups share one integration method")
        ps, self.noisy = [], False
        for g in self.groups:
            g.check_state()
            p, _state, noisy = SETUP[self.kind](g.model, g.n, dt, g.method)
            self.noisy = self.noisy or noisy
            for name in self.rec_names:
                p[name] = np.zeros(g.n)
            for key, rec in zip(g.receptor_keys(), g.receptors.values()):
                self._receptor_rows(p, key, rec.engine_coefficients(g.n, dt, g.method))
            ps.append(p)
        order = pop.params + tuple(self.rec_names)
        p = {k: np.concatenate([q[k] for q in ps]) for k in order}
        if self.dtype == np.float32:
            for name in order:
                check_cast_range(p[name], self.dtype, pop.labels.get(name, name))
        self.P = blocked(p, order, self.n, self.dtype)  # the engine models' loops read per-neuron rows
        self.ref_s = np.zeros(1)
        self.flush_every = flush_period([p[f"receptor{q}_decay"] for q in range(self.n_rec)], self.dtype)
        self.state_names, self.rrow = pop.state, len(pop.state) + 2

    def _blocked_state(self):
        if self.dtype == np.float32:  # refuse values beyond float32's range, naming the group's variable
            for g in self.groups:
                for name in self.state_names:
                    if name != "since":  # capped at SINCE_MAX below
                        check_cast_range(g.state[name], self.dtype, f"{g.name}.{name}")
                for name, x in g.g.items():
                    check_cast_range(x, self.dtype, f"{g.name}.g[{name!r}]")
        state = {name: np.concatenate([g.state[name] for g in self.groups] + [np.zeros(0)])
                 for name in self.state_names}
        if "since" in state:
            state["since"] = np.minimum(state["since"], SINCE_MAX)
        for q in range(self.n_rec):
            state[f"receptor{q}"] = np.concatenate([self._stage(g, q) for g in self.groups] + [np.zeros(0)])
        rows = STATE_ORDER if self.kind is LIF else POPULATIONS[self.kind].state + ("xi", "input")
        order = rows + tuple(f"receptor{q}" for q in range(self.n_rec))
        if self.dtype == np.float32:
            for name in order:
                if name in state:
                    check_cast_range(state[name], self.dtype, name)
        self.S = blocked(state, order, self.n, self.dtype)

    def _receptor_rows(self, p, key, values):
        """Write one receptor's ``(coef, decay, third)`` rows (``(stages, n)`` each) into ``p``."""
        q0 = self.row_of[key]
        for st in range(values[0].shape[0]):
            for x in range(3):
                p[self.rec_names[3 * (q0 + st) + x]] = values[x][st]

    def _stage(self, g, q):
        """Group ``g``'s value in receptor row ``q`` (a filter stage, or zeros when it has none there)."""
        for key, name in zip(g.receptor_keys(), g.receptors):
            q0 = self.row_of[key]
            if q0 <= q <= q0 + key[2]:
                return g.g[name] if key[2] == 0 else g.g[name][q - q0]
        return np.zeros(g.n)

    def _projections(self, dt):
        syns = self.net._of(Synapses)
        self.syns = syns
        cols = {name: [] for name in ("src_lo", "src_hi", "rows", "tgt", "tgt_hi", "ip_off", "syn_off")}
        ips, posts, ws, ds = [np.zeros(0, np.int64)], [np.zeros(0, np.int32)], [np.zeros(0, self.dtype)], \
            [np.zeros(0, np.int32)]
        pl = {name: [] for name in ("plastic", "pre", "post", "ip", "syn")}
        xs = {name: [np.zeros(0, t)] for name, t in (("x_pre", float), ("k_pre", np.int64), ("x_post", float),
                                                      ("k_post", np.int64), ("ipost", np.int64),
                                                      ("syn", np.int64), ("pre", np.int32))}
        params = [np.zeros((0, 6))]
        n_ip = n_syn = 0
        for p, s in enumerate(syns):
            c = s.connectivity
            lo, tlo = self.offset[id(s.source)], self.offset[id(s.target)]
            for name, value in (("src_lo", lo), ("src_hi", lo + c.n_pre), ("tgt", tlo), ("tgt_hi", tlo + c.n_post),
                                ("rows", -1 if s.on_pre is None else 0 if s.key is None else 1 + self.row_of[s.key]),
                                ("ip_off", n_ip), ("syn_off", n_syn)):
                cols[name].append(value)
            ips.append(c.indptr)
            posts.append(c.post)
            if not np.isfinite(c.weight).all():  # checked before the cast (a float32 cast of 1e39 is inf too)
                raise ValueError(f"{s.name}: weight must be finite")
            if self.dtype == np.float32:
                check_cast_range(c.weight, self.dtype, f"{s.name}.weight")
            ws.append(np.asarray(c.weight, dtype=self.dtype))
            d = c.delay_steps(dt)
            ds.append(d)
            if s.stdp is not None:
                if d.any():
                    raise ValueError(f"{s.name}: STDP needs a projection without delays (its traces are per neuron)")
                pl["plastic"].append(p)
                for name, arr in (("pre", xs["x_pre"]), ("post", xs["x_post"]), ("ip", xs["ipost"]),
                                  ("syn", xs["syn"])):
                    pl[name].append(sum(a.size for a in arr))
                xs["x_pre"].append(s._x_pre)
                xs["k_pre"].append(s._k_pre)
                xs["x_post"].append(s._x_post)
                xs["k_post"].append(s._k_post)
                ipost, sid, pre = by_post(c.indptr, c.post, c.n_post)
                xs["ipost"].append(ipost)
                xs["syn"].append(sid)
                xs["pre"].append(pre)
                params.append(s.stdp.kernel_params(dt)[None, :])
            n_ip += c.n_pre + 1
            n_syn += c.n_synapses
        as64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
        self.src_lo, self.src_hi, self.rows, self.tgt, self.tgt_hi, self.ip_off, self.syn_off = (
            as64(cols[name]) for name in ("src_lo", "src_hi", "rows", "tgt", "tgt_hi", "ip_off", "syn_off"))
        self.indptr, self.post = np.concatenate(ips), np.concatenate(posts)
        self.weight, self.dsteps = np.concatenate(ws), np.concatenate(ds)
        self.plastic, self.pl_pre, self.pl_post, self.pl_ip, self.pl_syn = (
            as64(pl[name]) for name in ("plastic", "pre", "post", "ip", "syn"))
        self.x_pre, self.k_pre, self.x_post, self.k_post, self.ipost, self.syn_ids, self.pre_ids = (
            np.concatenate(xs[name]) for name in ("x_pre", "k_pre", "x_post", "k_post", "ipost", "syn", "pre"))
        self.pl_params = np.concatenate(params)
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
        self.ring = self._ring(d_max, dt)
        if pending is not None:
            for k in range(k_old, k_old + old.shape[0]):
                self.ring[k % self.ring.shape[0]] = old[k % old.shape[0]]

    def _ring(self, d_max, dt):
        """The delay ring, ``(d_max + 1, 1 + n_rec, n)`` zeros, refused up front (naming the delay) when
        it cannot fit in memory."""
        shape = (d_max + 1, 1 + self.n_rec, self.n if d_max else 1)
        nbytes = math.prod(shape) * self.dtype.itemsize
        why = (f"the longest delay, {d_max} steps ({d_max * dt:.4g} ms at dt = {dt!r} ms), needs a delay ring of "
               f"{shape[0]} x {shape[1]} x {shape[2]} values ({nbytes / 2**30:.3g} GiB)")
        if nbytes > max_bytes():
            raise ValueError(f"{why}, more than this machine's memory ({max_bytes() / 2**30:.3g} GiB); shorten the "
                             f"delays or use a larger dt")
        try:
            return np.zeros(shape, dtype=self.dtype)
        except MemoryError:
            raise ValueError(f"{why}, and that much memory is not available; shorten the delays or use a larger "
                             f"dt") from None

    def execute(self, k_start, k_end, backend, progress):
        """Run the kernel from ``k_start`` to ``k_end`` in chunks; returns spike times, global ids, traces."""
        if backend == "cuda":
            cu = load_cuda("fastkernels.networks._network_cuda")
            if self.kind is LIF:
                serial = parallel = cu.network_cuda(self.varied, self.dynamics, self.noisy, self.legacy, self.freeze,
                                                    self.poisson, self.n_cur, self.n_rec - self.n_cur,
                                                    tuple(self.chain))
            else:
                serial = parallel = cu.engine_network_cuda(self.population, self.code, self.noisy, self.n_cur,
                                                           self.n_rec - self.n_cur, tuple(self.chain),
                                                           self.plastic.size > 0)
        elif self.kind is LIF:
            serial, parallel = network_kernels(self.varied, self.dynamics, self.noisy, self.legacy, self.freeze,
                                               self.poisson, self.n_cur, self.n_rec - self.n_cur, tuple(self.chain),
                                               self.plastic.size > 0)
        else:
            serial, parallel = engine_network_kernels(self.population, self.code, self.noisy, self.n_cur,
                                                      self.n_rec - self.n_cur, tuple(self.chain),
                                                      self.plastic.size > 0)
        kern = parallel if backend == "parallel" else serial
        n_threads = get_num_threads() if backend == "parallel" else 1
        mons = self.net._of(StateMonitor)
        every = math.gcd(*[m.every for m in mons]) if mons else 1
        rec = np.concatenate([m.record + self.offset[id(m.group)] for m in mons]) if mons else np.zeros(0, np.int64)
        k_first = -(-k_start // every) * every  # the first sampled step: absolute multiples of every
        n_rows = max(0, -(-(k_end - k_first) // every))
        check_allocation((1 + self.n_rec) * rec.size * n_rows, self.dtype.itemsize, "duration",
                         what="StateMonitor samples")
        n_rate = len(self.net._of(PopulationRateMonitor))
        check_allocation(n_rate * (k_end - k_start), 16, "duration", what="PopulationRateMonitor samples")
        traces = np.zeros((1 + self.n_rec, rec.size, n_rows), dtype=self.dtype)
        self.rec, self.every, self.k_first = rec, every, k_first
        n_src = sum(g.n for g in self.sources)
        cap = max(1024, 4 * (self.n + min(n_src, 1 << 20)))
        spk_t, spk_i = np.empty((1, cap)), np.empty((1, cap), dtype=np.int64)
        spk_n = np.zeros(1, np.int64)
        k_begin = np.array([k_start], np.int64)
        gen_pos = np.zeros(1, np.int64)
        err = np.full(2, -1, np.int64)
        chunk = min(k_end - k_start, 1000)
        first, t0, k_timed = True, 0.0, k_start
        bar = ProgressBar(k_end - k_start, progress)
        while k_begin[0] < k_end:
            stop = min(k_end, k_begin[0] + chunk)
            # the sources' spikes of this chunk (drawn again from the same streams if the call stops early)
            gen_k, gen_id = source_spikes(self.net._key, k_begin[0], stop, self.gen_k, self.gen_id, self.pois)
            gen_pos[0] = 0
            per_step = int(np.bincount(gen_k - k_begin[0]).max()) if gen_k.size else 0
            if spk_t.shape[1] - spk_n[0] < self.n + 1 + per_step:  # room for the fullest step
                grow = max(spk_t.shape[1], 2 * (self.n + per_step))
                spk_t = np.concatenate([spk_t, np.empty((1, grow))], axis=1)
                spk_i = np.concatenate([spk_i, np.empty((1, grow), np.int64)], axis=1)
            kern(self.n, self.S, self.P, self.ref_s, self.iext, self.n_rec, self.net._key, k_begin, stop,
                 k_first, self.dt, gen_k, gen_id, gen_pos, self.src_lo, self.src_hi, self.rows, self.tgt,
                 self.tgt_hi, self.ip_off, self.syn_off, self.indptr, self.post, self.weight, self.dsteps, self.ring,
                 self.plastic, self.pl_pre, self.pl_post, self.pl_ip, self.pl_syn, self.x_pre, self.k_pre,
                 self.x_post, self.k_post, self.ipost, self.syn_ids, self.pre_ids, self.pl_params, spk_t, spk_i,
                 spk_n, rec, every, traces, err, self.flush_every, n_threads,
                 None if backend == "cuda" else run_scratch(self.S, self.n, gen_k.size))
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
        for g in self.groups + self.sources:
            o = self.offset[id(g)]
            if o <= i < o + g.n:
                return g, i - o
        raise AssertionError(i)

    def commit(self, k_start, k_end, times, ids, traces):
        """Write the final state back into the groups' arrays (in place) and feed the monitors."""
        for r, name in enumerate(self.state_names):
            flat = unblocked(self.S, r, self.n)
            for g in self.groups:
                o = self.offset[id(g)]
                g.state[name][:] = flat[o:o + g.n]
        for g in self.groups:
            o = self.offset[id(g)]
            for key, name in zip(g.receptor_keys(), g.receptors):
                q0 = self.row_of[key]
                for st in range(key[2] + 1):
                    values = unblocked(self.S, self.rrow + q0 + st, self.n)[o:o + g.n]
                    if key[2]:
                        g.g[name][st] = values
                    else:
                        g.g[name][:] = values
        for q, p in enumerate(self.plastic):  # the learnt weights and the traces
            s = self.syns[p]
            c = s.connectivity
            c.weight[:] = self.weight[self.syn_off[p]:self.syn_off[p] + c.n_synapses]
            for name, off in (("_x_pre", self.pl_pre[q]), ("_k_pre", self.pl_pre[q])):
                arr = getattr(s, name)
                arr[:] = getattr(self, name[1:])[off:off + arr.size]
            for name, off in (("_x_post", self.pl_post[q]), ("_k_post", self.pl_post[q])):
                arr = getattr(s, name)
                arr[:] = getattr(self, name[1:])[off:off + arr.size]
            s._step, s._dt = k_end, self.dt
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
            rows = [0] + [1 + self.row_of[key] + key[2] for key in mon.group.receptor_keys()]  # a filter's drive
            x = traces[rows, q:q + mon.record.size][:, :, sel]
            mon._add(sample_k[sel] * self.dt, x.copy())
            q += mon.record.size
