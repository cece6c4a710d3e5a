"""The runner behind ``fastkernels bench``.

For every selected case and size it: builds the inputs (fixed seed); runs the
NumPy baseline once for the reference output; calls the fastkernels kernel
once, timing that first call on its own (compile or cache load), and checks
its output against the reference; does the same for each installed peer; then
times all contenders round-robin (one batch of calls each per round, so
machine noise hits them alike) and keeps the median per call. A case marked
``thread_scaling`` run on the ``parallel`` backend with 2+ threads also times its kernel
on one thread, in the same rounds: its parallel scaling, measured side by side. A contender that
fails its check is reported as FAILED and never timed.

"Speedup" has one meaning in the table, the JSON and the PNG (:data:`SPEEDUP`): the time of
the other contender (the NumPy baseline, a peer such as torch, or a bound) divided by
fastkernels' time, i.e. how many times faster fastkernels is than it (above 1: faster).
"""

from __future__ import annotations

import inspect
import json
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .._backend import get_num_threads, num_threads, resolve_backend
from .registry import Case, SelfTimed, cases

#: What every ratio in the reports means.
SPEEDUP = ("speedup vs X = X's time / fastkernels' time: how many times faster fastkernels is than X "
           "(above 1: fastkernels is faster; X = NumPy, a peer or a bound)")

PROFILES = {
    # min seconds per timed batch, rounds; quick runs every case in a few minutes on 2 cores
    "quick": {"min_time": 0.02, "rounds": 5},
    "full": {"min_time": 0.1, "rounds": 7},
}


@dataclass
class Result:
    """Timings of one case at one size (seconds per call; ``None`` when not run)."""

    case: str
    area: str
    size: str
    backend: str
    numpy_s: float | None = None
    fastkernels_s: float | None = None
    first_call_s: float | None = None
    peers: dict = field(default_factory=dict)
    status: str = "ok"
    gbytes_per_s: float | None = None
    gflops: float | None = None
    gupdates_per_s: float | None = None
    words_per_s: float | None = None

    @property
    def speedup(self) -> float | None:
        """fastkernels' speedup vs NumPy: ``numpy_s / fastkernels_s`` (see :data:`SPEEDUP`)."""
        return self.speedup_vs("numpy")

    def speedup_vs(self, other: str) -> float | None:
        """fastkernels' speedup vs ``other`` ("numpy" or a peer/bound name): its time / fastkernels' time."""
        t = self.numpy_s if other == "numpy" else self.peers.get(other)
        if t and self.fastkernels_s:
            return t / self.fastkernels_s
        return None

    @property
    def speedups(self) -> dict:
        """``{"numpy": ..., peer: ...}``: fastkernels' speedup vs each contender (None where not timed)."""
        return {name: self.speedup_vs(name) for name in ("numpy", *self.peers)}


def _calibrate(fn, min_time: float) -> int:
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    return max(1, int(min_time / max(dt, 1e-7)))


# Pause between contenders' batches: a thread pool that just finished (Numba's,
# torch's OpenMP) keeps spinning briefly and would slow whoever runs next.
SETTLE_S = 0.01


def _time_round_robin(fns: dict, min_time: float, rounds: int) -> dict:
    """Median seconds per call of each zero-argument callable, timed in alternation."""
    loops = {k: _calibrate(f, min_time) for k, f in fns.items()}
    samples = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            n = loops[k]
            time.sleep(SETTLE_S)
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            samples[k].append((time.perf_counter() - t0) / n)
    return {k: statistics.median(v) for k, v in samples.items()}


def _sync_cuda(backend):
    if backend != "cuda":
        return lambda: None
    from numba import cuda

    return cuda.synchronize


#: The column of a ``--backend cuda`` run that times the kernel on inputs already on the GPU.
ON_DEVICE = "inputs on GPU"
ON_DEVICE_NOTE = ("fastkernels on the same inputs copied to the GPU once: the kernels without the "
                  "host-device copies that the fastkernels column (NumPy inputs) pays on every call")


#: The column of a ``parallel`` run on 2+ threads that times a scaling case's kernel on one thread.
ONE_THREAD = "1 thread"
ONE_THREAD_NOTE = ("the same call on one thread, timed in alternation with the run's threads: the speedup is "
                   "the parallel scaling (1-thread time / n-thread time)")


def _one_thread_call(kernel):
    """``kernel`` run with Numba's thread count set to 1 for the call (restored after it)."""
    def call():
        with num_threads(1):
            return kernel()
    return call


def _device_inputs(inputs):
    """``inputs`` with every ndarray copied to the GPU, or None when none is an ndarray."""
    from .._launch import to_device

    if not any(isinstance(x, np.ndarray) for x in inputs):
        return None
    return tuple(to_device(x) if isinstance(x, np.ndarray) else x for x in inputs)


def _on_device_call(case, size, ref, sync, log):
    """A zero-argument call of the kernel on GPU-resident copies of fresh inputs (a stateful case,
    an optimizer, starts again where the baseline did), checked against the baseline's ``ref``;
    None where the case has no array input, takes host arrays only or disagrees (logged)."""
    dev = _device_inputs(case.make_inputs(**size))
    if dev is None:
        return None
    try:
        out = case.kernel(*dev, backend="cuda")
        sync()
        case.validate(out, ref)
    except Exception as exc:  # noqa: BLE001 (a refusal of device arrays or a wrong output: the column is left out)
        log(f"    {case.name}: no {ON_DEVICE!r} column ({type(exc).__name__}: {str(exc)[:120]})")
        return None
    return lambda: (case.kernel(*dev, backend="cuda"), sync())


def bound_call(factory, inputs, backend):
    """A zero-argument call of a case's bound on ``inputs``; a bound that takes ``backend`` gets the run's."""
    fn = factory()
    kw = {"backend": backend} if "backend" in inspect.signature(fn).parameters else {}
    return lambda: fn(*inputs, **kw)


def run_case(case: Case, size: dict, *, backend: str, profile: str, log=print) -> Result:
    """Validate then time one case at one size."""
    prof = PROFILES[profile]
    label = case.label(**size)
    res = Result(case.name, case.area, label, backend)
    inputs = case.make_inputs(**size)
    ref = case.baseline(*inputs)
    sync = _sync_cuda(backend)

    def kernel():
        out = case.kernel(*inputs, backend=backend)
        sync()
        return out

    t0 = time.perf_counter()
    try:
        out = kernel()
        res.first_call_s = time.perf_counter() - t0
        case.validate(out, ref)
    except AssertionError as exc:
        res.status = "FAILED: output differs from the NumPy baseline"
        log(f"    {case.name} [{label}]: {res.status}\n{exc}")
        return res
    except Exception as exc:  # noqa: BLE001 (one case's error is reported, the run goes on)
        res.status = f"ERROR: {type(exc).__name__}: {str(exc)[:200]}"
        log(f"    {case.name} [{label}]: {res.status}")
        return res
    contenders = {"numpy": lambda: case.baseline(*inputs), "fastkernels": kernel}
    self_timed = {}
    for peer, factory in case.peers.items():
        try:
            fn = factory()
        except ImportError:
            continue
        out = fn(*inputs)
        try:
            case.validate(out.result if isinstance(out, SelfTimed) else out, ref)
        except AssertionError as exc:
            res.peers[peer] = None
            log(f"    peer {peer} disagrees with the baseline on {case.name} [{label}]: {exc}")
            continue
        if isinstance(out, SelfTimed):
            # the first call may include the peer's own build (Brian2 compiles on its first run)
            self_timed[peer] = [fn(*inputs).seconds for _ in range(prof["rounds"])]
        else:
            contenders[peer] = (lambda fn=fn: fn(*inputs))
    for bound, factory in case.bounds.items():
        contenders[bound] = bound_call(factory, inputs, backend)
    if case.thread_scaling and backend == "parallel" and get_num_threads() > 1:
        contenders[ONE_THREAD] = _one_thread_call(kernel)
    if backend == "cuda":
        on_device = _on_device_call(case, size, ref, sync, log)
        if on_device is not None:
            contenders[ON_DEVICE] = on_device
    times = _time_round_robin(contenders, prof["min_time"], prof["rounds"])
    res.numpy_s = times.pop("numpy")
    res.fastkernels_s = times.pop("fastkernels")
    res.peers.update(times)
    res.peers.update({peer: statistics.median(s) for peer, s in self_timed.items()})
    if case.work is not None:
        work = case.work(**size)
        if "bytes" in work:
            res.gbytes_per_s = work["bytes"] / res.fastkernels_s / 1e9
        if "flops" in work:
            res.gflops = work["flops"] / res.fastkernels_s / 1e9
        if "updates" in work:  # neuron-state updates (neurons x steps; networks add their synaptic events)
            res.gupdates_per_s = work["updates"] / res.fastkernels_s / 1e9
        if "words" in work:  # corpus tokens (word2vec training: raw words per epoch, as gensim counts)
            res.words_per_s = work["words"] / res.fastkernels_s
    return res


def run(*, areas=None, filter=None, profile="quick", backend="parallel", log=None) -> list[Result]:
    """Run the selected cases; progress goes to ``log`` (default: stderr)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {tuple(PROFILES)}, got {profile!r}")
    backend = resolve_backend(backend)
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    selected = cases(areas, filter)
    jobs = []
    for c in selected:
        for s in c.sizes[profile]:
            reason = c.skip_reason(backend, s)
            if reason:
                log(f"skipped {c.name} {c.label(**s)} ({backend}): {reason}")
            else:
                jobs.append((c, s))
    results = []
    for i, (case, size) in enumerate(jobs, 1):
        log(f"[{i}/{len(jobs)}] {case.name} {case.label(**size)} ({backend}, {get_num_threads()} threads) ...")
        t0 = time.perf_counter()
        res = run_case(case, size, backend=backend, profile=profile, log=log)
        log(f"    done in {time.perf_counter() - t0:.1f} s: {format_ratio(res.speedup)} vs NumPy")
        results.append(res)
    return results


def format_time(s: float | None) -> str:
    """Seconds in a readable unit."""
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def format_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _bound_notes(results: list[Result]) -> dict:
    """Column name -> the first docstring line of its bound's factory, for the cases in ``results``."""
    names = {r.case for r in results}
    notes = {}
    for case in cases():
        if case.name in names:
            for bound, factory in case.bounds.items():
                doc = (factory.__doc__ or "").strip()
                notes[bound] = doc.splitlines()[0] if doc else ""
    if any(ON_DEVICE in r.peers for r in results):
        notes[ON_DEVICE] = ON_DEVICE_NOTE
    if any(ONE_THREAD in r.peers for r in results):
        notes[ONE_THREAD] = ONE_THREAD_NOTE
    return notes


def table(results: list[Result]) -> str:
    """The plain-text table a user reads: one row per case and size."""
    peer_names = sorted({p for r in results for p in r.peers})
    head = ["case", "size", "NumPy", "fastkernels", "speedup vs NumPy", *[f"{p} (speedup vs {p})" for p in peer_names],
            "throughput"]
    rows = []
    for r in results:
        if r.status != "ok":
            rows.append([r.case, r.size, "-", "-", r.status] + ["-"] * len(peer_names) + ["-"])
            continue
        peers = []
        for p in peer_names:
            t = r.peers.get(p)
            peers.append("-" if t is None else f"{format_time(t)} ({format_ratio(r.speedup_vs(p))})")
        thr = []
        if r.gbytes_per_s is not None:
            thr.append(f"{r.gbytes_per_s:.1f} GB/s")
        if r.gflops is not None:
            thr.append(f"{r.gflops:.1f} GFLOP/s")
        if r.gupdates_per_s is not None:
            thr.append(f"{r.gupdates_per_s:.2f} G updates/s")
        if r.words_per_s is not None:
            thr.append(f"{r.words_per_s / 1e3:.0f}k words/s")
        rows.append([r.case, r.size, format_time(r.numpy_s), format_time(r.fastkernels_s),
                     format_ratio(r.speedup), *peers, ", ".join(thr) or "-"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in rows]
    lines.append(SPEEDUP)
    if peer_names:
        lines.append("peer columns: the peer's time (fastkernels' speedup vs the peer)")
    for name, note in sorted(_bound_notes(results).items()):
        if name in peer_names and note:
            lines.append(f"  {name}: {note}")
    lines.append("")
    lines.append("first call (compile or cache load + one run), excluded from the timings above:")
    for r in results:
        if r.first_call_s is not None:
            lines.append(f"  {r.case} [{r.size}]: {format_time(r.first_call_s)}")
    return "\n".join(lines)


def to_json(results: list[Result], path: str, *, meta: dict) -> None:
    """Write the results and the machine description to ``path``."""
    rows = []
    for r in results:
        row = dict(r.__dict__)
        row["speedup"] = r.speedup  # vs NumPy
        row["speedups"] = r.speedups  # vs NumPy and each peer: the same meaning
        rows.append(row)
    with open(path, "w") as f:
        json.dump({"meta": meta, "speedup": SPEEDUP, "results": rows}, f, indent=2)


def chart_series(results: list[Result]) -> list:
    """The PNG's bars: ``[(label, speedups), ...]``, fastkernels' speedup vs NumPy then vs each peer
    (NaN where a peer was not timed), one value per result, in the table's meaning (:data:`SPEEDUP`)."""
    peer_names = sorted({p for r in results for p, t in r.peers.items() if t is not None})
    series = [("vs NumPy", [r.speedup for r in results])]
    for p in peer_names:
        series.append((f"vs {p}", [r.speedup_vs(p) or float("nan") for r in results]))
    return series


def to_png(results: list[Result], path: str, *, title: str) -> None:
    """Bar chart of fastkernels' speedup vs NumPy and vs each peer (log scale; see :data:`SPEEDUP`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ok = [r for r in results if r.status == "ok"]
    series = chart_series(ok)
    peer_names = [name for name, _ in series[1:]]
    labels = [f"{r.case}\n{r.size}" for r in ok]
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.55 * max(1, len(ok)) * (1 + 0.35 * len(peer_names))))
    y = np.arange(len(ok))
    h = 0.8 / len(series)
    for k, (name, vals) in enumerate(series):
        vals = np.asarray(vals, dtype=float)
        # bars grow from parity (1x): right of the line fastkernels is faster than the other, left slower
        ax.barh(y + k * h, vals - 1.0, left=1.0, height=h, label=name)
        for yy, v in zip(y + k * h, vals):
            if np.isfinite(v):
                ax.text(v, yy, f" {v:.1f}x " if v >= 1 else f" {v:.2f}x ", va="center",
                        ha="left" if v >= 1 else "right", fontsize=8)
    finite = [v for _, vals in series for v in vals if v is not None and np.isfinite(v)] + [1.0]
    ax.set_xlim(min(finite) / 2.5, max(finite) * 2.5)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(y + h * (len(series) - 1) / 2, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("fastkernels speedup vs X = X's time / fastkernels' time\n"
                  "(above 1: fastkernels is faster; log scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8, title="fastkernels", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
