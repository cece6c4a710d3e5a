"""Benchmark cases: what each area registers for ``fastkernels bench`` and ``benchmarks/``.

A :class:`Case` pairs a fastkernels call with the honest vectorised NumPy code
a good user would write, plus optional peers (torch, gensim, Brian2) that are
timed only when installed. Each area declares its cases in its own
``_bench.py`` module (``fastkernels/nn/_bench.py``, ...), listed in
:data:`AREA_MODULES`; nothing is imported until a runner asks for the cases.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._areas import AREAS

#: Modules that register cases, one per area, imported on demand.
AREA_MODULES = {area: f"fastkernels.{area}._bench" for area in AREAS}

_CASES: dict[str, "Case"] = {}


@dataclass(frozen=True)
class SelfTimed:
    """A peer's output with the seconds the peer measured for its own work.

    For peers whose call includes work the comparison must leave out (Brian2's
    ``cpp_standalone`` device generates and compiles C++ on every run; its
    ``device._last_run_time`` is the simulation alone). The runner checks ``result``
    and reports the median of ``seconds`` over its rounds.
    """

    result: Any
    seconds: float


def _default_check(out, ref, rtol, atol):
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    if len(outs) != len(refs):
        raise AssertionError(f"{len(outs)} outputs, baseline gave {len(refs)}")
    for i, (o, r) in enumerate(zip(outs, refs)):
        o = o.copy_to_host() if hasattr(o, "copy_to_host") else np.asarray(o)
        np.testing.assert_allclose(o, np.asarray(r), rtol=rtol, atol=atol, err_msg=f"output {i}")


def cpu_only(backend: str, **size) -> str | None:
    """``Case.unsupported`` of a function that runs on the CPU backends only."""
    return "runs on the CPU backends only" if backend == "cuda" else None


@dataclass
class Case:
    """One benchmark case.

    Parameters
    ----------
    name : str
        Short unique name, e.g. ``"softmax"``.
    area : str
        ``"nn"``, ``"neurons"``, ``"networks"`` or ``"word2vec"``.
    description : str
        One line for the report.
    make_inputs : callable
        ``make_inputs(**size) -> tuple`` of arguments, built with a fixed seed.
    kernel : callable
        ``kernel(*inputs, backend=...)``: the fastkernels call.
    baseline : callable
        ``baseline(*inputs)``: the vectorised NumPy version; its output is the reference.
    sizes : dict
        ``{"test": [...], "quick": [...], "full": [...]}``; each size a dict of
        keyword arguments to ``make_inputs``. ``"test"`` sizes are tiny: the test
        suite runs every case on them through the runner.
    label : callable
        ``label(**size) -> str`` for the table, e.g. ``"8192x1000 f32"``.
    peers : dict
        ``{"torch": factory}``; ``factory()`` returns ``peer(*inputs)`` or raises
        ImportError when the peer is not installed. A peer that times its own work
        (Brian2's standalone device: the simulation alone, without code generation and
        compilation) returns :class:`SelfTimed`; the runner reports its seconds.
    bounds : dict
        ``{"GEMM alone": factory}``: contenders timed beside the kernel but not checked
        (a bound that takes a ``backend`` keyword is called with the run's backend),
        because they do only part of its work at the same shapes (a speed bound, not an
        alternative). Reported in the peer columns; the first line of the factory's
        docstring explains the column under the table.
    rtol, atol : float
        Tolerances of the default output check.
    check : callable, optional
        ``check(out, ref)`` raising AssertionError; replaces the default allclose.
    work : callable, optional
        ``work(**size) -> {"bytes": n}`` (and/or ``"flops"``) for throughput columns.
    unsupported : callable, optional
        ``unsupported(backend, **size) -> str | None``: why this size cannot run on ``backend``
        (e.g. a CPU-only function under ``--backend cuda``); the runner skips it with that reason.
    thread_scaling : bool
        On the ``parallel`` backend with 2+ threads, also time the kernel on one thread, in
        alternation with the run's threads (the "1 thread" column: the parallel scaling).
    """

    name: str
    area: str
    description: str
    make_inputs: Callable[..., tuple]
    kernel: Callable[..., Any]
    baseline: Callable[..., Any]
    sizes: dict
    label: Callable[..., str]
    peers: dict = field(default_factory=dict)
    bounds: dict = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-6
    check: Callable[[Any, Any], None] | None = None
    work: Callable[..., dict] | None = None
    unsupported: Callable[..., str | None] | None = None
    thread_scaling: bool = False

    def skip_reason(self, backend: str, size: dict) -> str | None:
        """Why ``size`` cannot run on ``backend``, or None when it can."""
        return None if self.unsupported is None else self.unsupported(backend, **size)

    def validate(self, out, ref) -> None:
        """Raise AssertionError when ``out`` does not match the baseline's ``ref``."""
        if self.check is not None:
            self.check(out, ref)
        else:
            _default_check(out, ref, self.rtol, self.atol)


def register(case: Case) -> Case:
    """Add a case to the registry (names are unique)."""
    missing = {"test", "quick", "full"} - set(case.sizes)
    if missing:
        raise ValueError(f"benchmark case {case.name!r} lacks sizes for {sorted(missing)}")
    if case.name in _CASES and _CASES[case.name] is not case:
        raise ValueError(f"benchmark case {case.name!r} is already registered")
    _CASES[case.name] = case
    return case


def cases(areas=None, filter: str | None = None) -> list[Case]:
    """All registered cases of ``areas`` (default: every area) whose name contains ``filter``."""
    areas = list(AREA_MODULES) if areas is None else list(areas)
    for area in areas:
        if area not in AREA_MODULES:
            raise ValueError(f"unknown area {area!r}; known: {tuple(AREA_MODULES)}")
        importlib.import_module(AREA_MODULES[area])
    selected = [c for c in _CASES.values() if c.area in areas]
    if filter:
        selected = [c for c in selected if filter.lower() in c.name.lower() or filter.lower() in c.area]
    return selected
