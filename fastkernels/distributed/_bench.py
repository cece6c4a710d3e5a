"""Benchmark of :mod:`fastkernels.distributed` against the single-process loop a user would write.

Run ``python -m fastkernels.distributed._bench`` (``--help`` for sizes). Two sweeps:

* a LIF f-I sweep of ``--points`` input values (default 100 000; 1 s at dt 0.1 ms per neuron):
  the loop a user writes calls the simulator once per point (timed on ``--loop-points`` points
  and extrapolated), the one vectorized call simulates every point as one population (the best a
  single process does), the sweep runs :class:`~fastkernels.distributed.PopulationRates` in chunks;
* a seed sweep of ``--runs`` CUBA networks (default 64 runs of 4000 neurons for 1 s, the networks
  benchmark case's setup, :func:`fastkernels.networks._bench.spec_network`): the loop runs them one
  after another, the sweep one run per grid point.

Each sweep runs on LocalClusters of 1 and 2 worker processes (1 thread each) after one warm-up
sweep (the workers load the kernels from Numba's cache; its time is printed). It prints wall
times, speedups against the loop, the chunk size and task count chosen, and the scheduler's
overhead per task: the sweep's wall time times the workers, less the time the tasks computed
(Dask's task stream), per task; plus the round trip of empty tasks. Not part of the
``fastkernels bench`` registry (it starts clusters).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np


def cuba_spikes(seed, n=4000, duration=1000.0):
    """Spikes of one CUBA network run (synapses and initial state from ``seed``), serial backend."""
    from ..networks._bench import spec_network
    from ..networks._reference import cuba_network

    net, _G, M = spec_network(cuba_network(n, seed=int(seed)))
    net.run(duration, backend="cpu", progress=False)
    return int(M.num_spikes)


def _fi_point(I, duration):
    from ..neurons import LIF, simulate_lif

    return simulate_lif(LIF(), 1, duration, 0.1, I=float(I), method="event", backend="cpu").spike_times.size


def _noop(x):
    return x


def _timed_sweep(client, fn, grid, **kw):
    from distributed import get_task_stream

    from ._sweep import sweep

    with get_task_stream(client) as ts:
        t0 = time.perf_counter()
        out = sweep(fn, grid, client=client, **kw)
        wall = time.perf_counter() - t0
    compute = [s for t in ts.data for s in t["startstops"] if s["action"] == "compute" and
               t["key"].startswith("sweep-") and not t["key"].startswith("sweep-fn")]
    busy = sum(s["stop"] - s["start"] for s in compute)
    return out, wall, busy, len(compute)


def _overhead(wall, busy, workers, tasks):
    return (wall * workers - busy) / max(tasks, 1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--loop-points", type=int, default=2_000, help="points the per-point loop is timed on")
    p.add_argument("--fi-duration", type=float, default=1000.0)
    p.add_argument("--runs", type=int, default=64)
    p.add_argument("--cuba-n", type=int, default=4000)
    p.add_argument("--cuba-duration", type=float, default=1000.0)
    p.add_argument("--loop-runs", type=int, default=8, help="CUBA runs the loop is timed on")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--empty-tasks", type=int, default=500)
    a = p.parse_args(argv)

    from distributed import Client, LocalCluster

    from ..neurons import LIF, firing_rate_curve
    from ._cluster import auto_chunk
    from ._rates import PopulationRates
    from ._sweep import sweep

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"f-I: {a.points} points x {a.fi_duration:g} ms; CUBA: {a.runs} runs x {a.cuba_n} neurons x "
          f"{a.cuba_duration:g} ms")
    I = np.linspace(0.5, 3.0, a.points)
    # ---- single process
    _fi_point(1.5, a.fi_duration)
    t0 = time.perf_counter()
    loop_counts = [_fi_point(x, a.fi_duration) for x in I[:: max(1, a.points // a.loop_points)][: a.loop_points]]
    per_point = (time.perf_counter() - t0) / len(loop_counts)
    firing_rate_curve(LIF(), I[:100], duration=a.fi_duration, backend="cpu")
    t0 = time.perf_counter()
    ref = firing_rate_curve(LIF(), I, duration=a.fi_duration, backend="cpu")
    t_vec = time.perf_counter() - t0
    print(f"f-I single process: loop of simulate_lif calls {per_point * 1e3:.3f} ms/point -> "
          f"{per_point * a.points:.1f} s for {a.points} (timed on {len(loop_counts)}); one vectorized call "
          f"(serial) {t_vec:.2f} s")
    cuba_spikes(0, a.cuba_n, a.cuba_duration)
    t0 = time.perf_counter()
    loop_runs = min(a.loop_runs, a.runs)
    [cuba_spikes(s, a.cuba_n, a.cuba_duration) for s in range(loop_runs)]
    per_run = (time.perf_counter() - t0) / loop_runs
    print(f"CUBA single process: {per_run:.3f} s/run -> {per_run * a.runs:.1f} s for {a.runs} (timed on {loop_runs})")
    # ---- clusters
    for w in a.workers:
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
        t_start = time.perf_counter() - t0
        try:
            fn = PopulationRates(LIF(), duration=a.fi_duration)
            t0 = time.perf_counter()
            sweep(fn, {"I": I[: 64 * w]}, client=client, chunk=64)
            sweep(cuba_spikes, {"seed": [0] * w, "n": [a.cuba_n], "duration": [a.cuba_duration]}, client=client,
                  chunk=1)
            t_warm = time.perf_counter() - t0
            chunk = auto_chunk(a.points, w, True)
            rates, wall, busy, tasks = _timed_sweep(client, fn, {"I": I})
            same = np.array_equal(rates, ref)
            print(f"[{w} worker(s)] cluster start {t_start:.1f} s, warm-up sweeps {t_warm:.1f} s")
            print(f"  f-I sweep: {wall:.2f} s, chunk {chunk} ({tasks} tasks); speedup {per_point * a.points / wall:.1f}x "
                  f"vs the per-point loop, {t_vec / wall:.2f}x vs the one vectorized call; tasks computed "
                  f"{busy:.2f} s in all; overhead {_overhead(wall, busy, w, tasks) * 1e3:.1f} ms/task; equal to the "
                  f"single call: {same}")
            grid = {"seed": list(range(a.runs)), "n": [a.cuba_n], "duration": [a.cuba_duration]}
            chunk = auto_chunk(a.runs, w, False)
            spikes, wall, busy, tasks = _timed_sweep(client, cuba_spikes, grid)
            print(f"  CUBA seed sweep: {wall:.2f} s, chunk {chunk} ({tasks} tasks); speedup "
                  f"{per_run * a.runs / wall:.2f}x vs the loop; tasks computed {busy / a.runs:.3f} s/run; overhead "
                  f"{_overhead(wall, busy, w, tasks) * 1e3:.1f} ms/task; {int(np.sum(spikes))} spikes")
            _, wall, busy, tasks = _timed_sweep(client, _noop, {"x": list(range(a.empty_tasks))}, chunk=1)
            print(f"  empty tasks: {a.empty_tasks} in {wall:.2f} s: {wall / a.empty_tasks * 1e3:.2f} ms per task "
                  f"(throughput), {_overhead(wall, busy, w, tasks) * 1e3:.2f} ms of worker time per task")
            print(f"  load average now: {os.getloadavg()[0]:.2f}")
        finally:
            client.close()
            cluster.close()
    chunk = auto_chunk(a.points, max(a.workers), True)
    print(f"data per f-I task: {chunk} float64 inputs in and rates out ({8 * chunk / 1024:.0f} KiB each way), "
          f"{math.ceil(a.points / chunk)} tasks on {max(a.workers)} worker(s)")


if __name__ == "__main__":
    main()
