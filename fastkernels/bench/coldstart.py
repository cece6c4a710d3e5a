"""The cold-start benchmark behind ``fastkernels coldstart``: first calls from an empty Numba cache.

A user's first call of a kernel pays its compile (seconds); later processes load it from Numba's
on-disk cache. This measures both, as a new user meets them: each case runs in a fresh Python
process whose ``NUMBA_CACHE_DIR`` is a new empty directory, timing only the call (imports and
inputs are set up first, untimed), then once more in another fresh process on the cache the first
one filled. It also times a full ``fastkernels warmup`` into an empty cache.

Budgets (issue "first use"): each first call under :data:`FIRST_CALL_BUDGET` seconds and a full
warmup under :data:`WARMUP_BUDGET` seconds, on 2 cores. They are reported, never asserted: speed
targets live in benchmarks, not tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass

from .._validate import check_scalar

#: Seconds a first call may take from an empty cache (import excluded).
FIRST_CALL_BUDGET = 5.0
#: Seconds a full ``fastkernels warmup`` may take from an empty cache.
WARMUP_BUDGET = 60.0

_NP = "import numpy as np\nimport fastkernels as fk\nrng = np.random.default_rng(0)\n"

#: ``name: (area, setup, call)``: what a user calls first in each area, on small inputs. ``setup``
#: (imports, NumPy inputs) runs untimed; ``call`` is the timed fastkernels work.
CASES = {
    "softmax_cross_entropy": ("nn", _NP + "x = rng.standard_normal((64, 10), dtype=np.float32)\n"
                                          "y = rng.integers(0, 10, 64)",
                              "fk.nn.softmax_cross_entropy(x, y)"),
    "MLP.fit": ("nn", _NP + "X = rng.random((64, 4), dtype=np.float32)\ny = np.arange(64) % 3",
                "fk.nn.MLP([4, 16, 3], epochs=2, seed=0).fit(X, y).predict(X)"),
    "simulate_lif": ("neurons", _NP, "fk.neurons.simulate_lif(fk.neurons.LIF(), 10, 10.0, 0.1, I=2.0)"),
    "simulate_hh": ("neurons", _NP, "fk.neurons.simulate_hh(fk.neurons.HH(), 10, 10.0, 0.01, I=10.0)"),
    "simulate_izhikevich": ("neurons", _NP, "fk.neurons.simulate_izhikevich(fk.neurons.Izhikevich(), 10, 10.0, "
                                            "0.5, I=10.0)"),
    "Network.run": ("networks", _NP + "from fastkernels import networks as nw",
                    "G = nw.NeuronGroup(100, fk.neurons.LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, "
                    "v_threshold=-50.0, tau_ref=5.0), receptors={'ge': nw.Current(5.0), 'gi': nw.Current(10.0)}, "
                    "v0=-55.0)\n"
                    "C = nw.bernoulli(100, 100, 0.1, weight=1.0, seed=1)\n"
                    "nw.Network(G, nw.Synapses(G, G, C, on_pre='ge'), nw.SpikeMonitor(G)).run(10.0, progress=False)"),
    "read_corpus": ("word2vec", _NP + "text = 'the quick brown fox jumps over the lazy dog'",
                    "fk.word2vec.read_corpus([text.split()], min_count=1)"),
    "Word2Vec": ("word2vec", _NP + "sents = [['a', 'b', 'c', 'a', 'd'], ['b', 'a', 'd']] * 5",
                 "fk.word2vec.Word2Vec(sents, vector_size=8, min_count=1, epochs=1, workers=1, progress=False)"),
}

_MARK = "FASTKERNELS_COLDSTART "

# Run in the child: the setup, then the call timed, with fastkernels' compiles counted
# (fastkernels._warmup.counting_compiles: a cache load is not a compile).
_CHILD = """
import json, time
from fastkernels._warmup import counting_compiles
{setup}
with counting_compiles() as _compiled:
    _t0 = time.perf_counter()
{call}
    _t1 = time.perf_counter()
print({mark!r} + json.dumps({{"seconds": _t1 - _t0, "compiled": _compiled[0]}}))
"""


@dataclass
class ColdStart:
    """One case: ``cold_s`` from an empty cache, ``cached_s`` in a new process on the filled cache
    (seconds of the call alone), and the fastkernels kernels each compiled."""
    name: str
    area: str
    cold_s: float
    cold_compiled: int
    cached_s: float | None
    cached_compiled: int | None

    @property
    def within_budget(self) -> bool:
        return self.cold_s < FIRST_CALL_BUDGET


def _env(cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


def _child(name: str, cache_dir: str, timeout: float) -> dict:
    _area, setup, call = CASES[name]
    code = _CHILD.format(setup=setup, call=textwrap.indent(call, "    "), mark=_MARK)
    res = subprocess.run([sys.executable, "-c", code], env=_env(cache_dir), capture_output=True, text=True,
                         timeout=timeout)
    for line in res.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f"cold-start case {name!r} failed (exit {res.returncode}): {res.stderr[-2000:]}")


def check_names(names) -> tuple:
    """``names`` (None: every case) as a tuple of known case names; ``ValueError`` otherwise."""
    if names is None:
        return tuple(CASES)
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    for name in names:
        if name not in CASES:
            raise ValueError(f"names: unknown cold-start case {name!r}; known: {tuple(CASES)}")
    return names


def first_call(name: str, *, cached: bool = True, timeout: float = 600.0) -> ColdStart:
    """Time case ``name``'s first call in a fresh process on an empty cache (then, if ``cached``,
    in a second fresh process on the cache the first filled)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of one cold-start case, got {type(name).__name__}")
    (name,) = check_names(name)
    with tempfile.TemporaryDirectory(prefix="fastkernels-cold-") as cache:
        cold = _child(name, cache, timeout)
        warm = _child(name, cache, timeout) if cached else None
    return ColdStart(name, CASES[name][0], cold["seconds"], cold["compiled"],
                     None if warm is None else warm["seconds"], None if warm is None else warm["compiled"])


def full_warmup(*, processes: int | None = None, timeout: float = 1800.0) -> float:
    """Wall seconds of ``fastkernels warmup`` (every area, both CPU backends and precisions) into an
    empty cache, in a fresh process with ``processes`` workers (default: one per core)."""
    cmd = [sys.executable, "-m", "fastkernels", "warmup"]
    if processes is not None:
        cmd += ["--processes", str(check_scalar(processes, "processes", integer=True, lo=1))]
    with tempfile.TemporaryDirectory(prefix="fastkernels-cold-") as cache:
        t0 = time.perf_counter()
        res = subprocess.run(cmd, env=_env(cache), capture_output=True, text=True, timeout=timeout)
        seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"fastkernels warmup failed (exit {res.returncode}): {res.stderr[-2000:]}")
    return seconds


def run(names=None, *, warmup: bool = True, cached: bool = True, verbose: bool = True) -> dict:
    """Every case of ``names`` (default all), then a full warmup: ``{"cases": [ColdStart], "warmup_s"}``
    (``warmup_s`` None when ``warmup`` is False)."""
    names = check_names(names)
    out = []
    for i, name in enumerate(names, 1):
        if verbose:
            print(f"[{i}/{len(names)}] {name} ...", flush=True)
        r = first_call(name, cached=cached)
        if verbose:
            print(f"    {r.cold_s:.2f} s from an empty cache ({r.cold_compiled} kernels compiled)"
                  + ("" if r.cached_s is None else f", {r.cached_s:.2f} s from the cache"), flush=True)
        out.append(r)
    seconds = None
    if warmup:
        if verbose:
            print("full fastkernels warmup into an empty cache ...", flush=True)
        seconds = full_warmup()
    return {"cases": out, "warmup_s": seconds}


def table(result: dict) -> str:
    """The report: one row per first call, then the warmup, each against its budget."""
    rows = [("first call", "area", "empty cache", "kernels compiled", "from the cache", f"under {FIRST_CALL_BUDGET:g} s")]
    for r in result["cases"]:
        rows.append((r.name, r.area, f"{r.cold_s:.2f} s", str(r.cold_compiled),
                     "-" if r.cached_s is None else f"{r.cached_s:.2f} s", "yes" if r.within_budget else "NO"))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if result.get("warmup_s") is not None:
        w = result["warmup_s"]
        lines.append(f"\nfull `fastkernels warmup` from an empty cache ({os.cpu_count()} cores): {w:.1f} s "
                     f"(budget {WARMUP_BUDGET:g} s: {'within' if w < WARMUP_BUDGET else 'OVER'})")
    lines.append("Seconds of the call alone (imports and inputs excluded), each in a fresh process; "
                 "'from the cache': a second fresh process on the cache the first filled.")
    return "\n".join(lines)


def to_json(result: dict, path: str, meta: dict | None = None) -> None:
    """Write ``result`` (and ``meta``, e.g. ``fastkernels info``) as JSON."""
    doc = {"meta": meta or {}, "budgets": {"first_call_s": FIRST_CALL_BUDGET, "warmup_s": WARMUP_BUDGET},
           "cases": [dict(asdict(r), within_budget=r.within_budget) for r in result["cases"]],
           "warmup_s": result.get("warmup_s")}
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
