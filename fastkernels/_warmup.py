"""Compile ahead of time: ``fk.warmup()`` and the threading-layer probe."""

from __future__ import annotations

import contextlib
import importlib
import time

import numpy as np

from ._areas import AREAS
from ._backend import resolve_backend
from ._validate import check_dtype, check_scalar



def _names(value, name, *, strings_only=True) -> tuple:
    """A sequence argument as a tuple; a lone string is one name, not its characters."""
    if isinstance(value, str) or (not strings_only and not isinstance(value, (list, tuple))):
        value = (value,)
    try:
        value = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of names, got {type(value).__name__}") from None
    if strings_only and not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must hold strings, got {value!r}")
    return value


def warmup(areas=None, *, backends=("cpu", "parallel"), dtypes=("float32", "float64"), verbose=False,
           processes=1) -> dict:
    """Compile (or load from cache) the kernels of ``areas`` for ``backends`` x ``dtypes``.

    Call it once at start-up so the first real call does not pay compile latency; the compiled
    kernels also land in Numba's on-disk cache, so later processes only load them (about a second
    for an area's first call instead of tens of seconds of compiling).

    Parameters
    ----------
    areas : sequence of str, optional
        Subset of :data:`AREAS` (default all).
    backends : sequence of {"cpu", "parallel", "cuda"}
    dtypes : sequence of {"float32", "float64"}
    verbose : bool
        Print each (area, backend) job as it ends: seconds, kernels compiled and loaded from cache.
    processes : int >= 1
        Compile the (area, backend) jobs in this many worker processes first (the cores of the
        machine: compiling is single-threaded), then load them into this process from the disk
        cache. ``fastkernels warmup`` uses every core and skips the loading.

    Returns
    -------
    dict
        Seconds spent per area (summed over its jobs, in whichever process ran them).

    Raises
    ------
    ValueError
        An unknown area, backend or a dtype other than float32/float64, ``processes`` < 1 (all
        checked before anything compiles).
    TypeError
        ``areas``/``backends``/``dtypes`` not sequences of names.
    BackendUnavailableError
        ``"cuda"`` requested without a usable GPU.
    """
    return warmup_jobs(areas, backends, dtypes, verbose, processes, load=True)


def _check(areas, backends, dtypes, processes):
    areas = AREAS if areas is None else _names(areas, "areas")
    for area in areas:
        if area not in AREAS:
            raise ValueError(f"areas: unknown area {area!r}; known: {AREAS}")
    backends = _names(backends, "backends")
    for backend in backends:
        if backend not in ("cpu", "parallel", "cuda"):
            raise ValueError(f"backends: unknown backend {backend!r}; known: ('cpu', 'parallel', 'cuda')")
    if "cuda" in backends:
        resolve_backend("cuda")  # BackendUnavailableError before anything compiles
    dtypes = tuple(check_dtype(d, "dtypes") for d in _names(dtypes, "dtypes", strings_only=False))
    processes = check_scalar(processes, "processes", integer=True, lo=1)
    return areas, backends, dtypes, processes


#: Relative compile cost of each area's warmup (seconds on 2 cores, cold cache): the job order.
_COST = {"neurons": 90, "networks": 70, "nn": 55, "word2vec": 50}


def warmup_jobs(areas, backends, dtypes, verbose, processes, *, load):
    areas, backends, dtypes, processes = _check(areas, backends, dtypes, processes)
    # the longest first (neurons, networks: measured), each area's serial job before its parallel one
    # (which then loads the helpers they share from the cache): the processes end close together
    order = sorted(areas, key=lambda a: -_COST.get(a, 0))
    jobs = [(area, backend) for backend in backends for area in order]
    names = tuple(str(d) for d in dtypes)
    spent = dict.fromkeys(areas, 0.0)
    done = 0

    def report(area, backend, stats):
        nonlocal done
        done += 1
        spent[area] += stats["seconds"]
        if verbose:
            print(f"warmup [{done}/{len(jobs)}] {area} {backend} {'+'.join(names)}: {stats['seconds']:.1f} s, "
                  f"{stats['compiled']} kernels compiled, {stats['loaded']} loaded from cache", flush=True)

    if processes > 1 and len(jobs) > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        with cf.ProcessPoolExecutor(min(processes, len(jobs)), mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_job, area, backend, names): (area, backend) for area, backend in jobs}
            for fut in cf.as_completed(futures):
                report(*futures[fut], fut.result())
        if not load:
            return spent
        done = 0
        spent = dict.fromkeys(areas, 0.0)
        if verbose:
            print("warmup: loading the compiled kernels into this process", flush=True)
    for area, backend in jobs:
        report(area, backend, _job(area, backend, names))
    return spent


def fastkernels_signatures():
    """Compiled or cache-loaded signatures of every fastkernels dispatcher alive in this process."""
    import gc

    from numba.core.dispatcher import Dispatcher

    # type(), not isinstance(): a dead weakref.proxy among the objects raises ReferenceError on
    # any attribute access, isinstance's __class__ lookup included
    return sum(len(o.overloads) for o in gc.get_objects()
               if issubclass(type(o), Dispatcher) and getattr(o.py_func, "__module__", "").startswith("fastkernels"))


@contextlib.contextmanager
def counting_compiles():
    """Count fastkernels' kernels compiled inside the ``with`` block (Numba's compile events; a
    cache load is not a compile, Numba's own helpers compiled along are not counted). Yields a
    one-item list holding the running count."""
    from numba.core import event

    compiled = [0]

    class _Count(event.Listener):
        def on_start(self, ev):
            d = ev.data.get("dispatcher")
            if d is not None and getattr(d.py_func, "__module__", "").startswith("fastkernels"):
                compiled[0] += 1

        def on_end(self, ev):
            pass

    with event.install_listener("numba:compile", _Count()):
        yield compiled


def _job(area, backend, dtypes) -> dict:
    """Warm one area on one backend for ``dtypes`` in this process: ``{"seconds", "compiled", "loaded"}``
    (fastkernels' kernels only, see :func:`counting_compiles`)."""
    mod = importlib.import_module(f"fastkernels.{area}")
    before = fastkernels_signatures()
    t0 = time.perf_counter()
    with counting_compiles() as compiled:
        for dtype in dtypes:
            mod._warmup(backend, np.dtype(dtype))
    new = fastkernels_signatures() - before
    return {"seconds": time.perf_counter() - t0, "compiled": compiled[0], "loaded": max(new - compiled[0], 0)}
