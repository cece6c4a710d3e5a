"""Parameter sweeps on Dask: a grid of named values, chunks of grid points as tasks, results in grid order.

A *scalar* function is called once per grid point, ``fn(**point)``. A *vectorized* function is
called once per chunk with each parameter as an array of the chunk's values
(``fn(I=array, tau_m=array)``) and returns one result per point along axis 0 (an array, or a
dict of arrays): a population simulator with one neuron per grid point, so a million-point LIF
sweep is a few hundred compiled calls, not a million tasks. A function declares itself
vectorized with the :func:`vectorized` decorator (or ``sweep(..., vectorized=True)``);
:class:`PopulationRates` is a ready-made one for f-I style sweeps.

Reproducibility: with ``seed``, grid point ``i`` of a scalar function gets
``seed=point_seed(seed, i)``; a vectorized chunk starting at grid point ``lo`` gets ``seed``
itself and runs under :func:`fastkernels.neurons._driver.neuron_offset` ``(lo)``, so the noise
and Poisson streams of its neuron ``j`` are those of neuron ``lo + j`` of one population over
the whole grid: the sweep's result is the single call ``fn(**whole_grid, seed=seed)`` bit for
bit, whatever the chunk size and the cluster.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import numbers
import uuid
from collections.abc import Mapping

import numpy as np

from .._random import seed_kept
from .._validate import check_allocation, check_choice, check_scalar
from ..neurons._driver import neuron_offset
from ._cluster import (TaskFailure, auto_chunk, check_chunk, check_client, check_flag, check_threads, identity,
                       n_threads, numba_threads, require_distributed, show_progress, using_client)

ERRORS = ("raise", "collect")


class SweepError(RuntimeError):
    """``fn`` raised on some grid points (``errors="raise"``); the other points' results are kept.

    Attributes
    ----------
    failures : list of PointFailure
        One per failed grid point, in grid order.
    results
        What :func:`sweep` would have returned, with NaN (float results) or None at the failed points.
    """

    def __init__(self, message, failures, results):
        super().__init__(message)
        self.failures, self.results = failures, results


@dataclasses.dataclass
class PointFailure:
    """A grid point on which ``fn`` raised.

    Attributes
    ----------
    index : int
        Position in grid order.
    point : dict
        Parameter name -> value.
    error : BaseException
        The exception (a ``RuntimeError`` with its text when it could not be pickled).
    traceback : str
        The worker-side traceback.
    """

    index: int
    point: dict
    error: BaseException
    traceback: str

    def __str__(self):
        return f"grid point {self.index} {self.point}: {type(self.error).__name__}: {self.error}"


def vectorized(fn):
    """Mark ``fn`` as vectorized for :func:`sweep`: it takes one array per grid parameter (a chunk
    of grid points) and returns one result per point along axis 0. Returns ``fn``.

    Raises
    ------
    TypeError
        ``fn`` not callable, or an object that takes no attributes (a builtin, a bound method: pass
        ``sweep(..., vectorized=True)`` instead).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    try:
        fn.__fastkernels_vectorized__ = True
    except (AttributeError, TypeError):
        raise TypeError(f"fn ({type(fn).__name__}) takes no attributes, so it cannot be marked vectorized; "
                        "pass sweep(..., vectorized=True) instead") from None
    return fn


def is_vectorized(fn) -> bool:
    return bool(getattr(fn, "__fastkernels_vectorized__", False))


def point_seed(seed: int, index: int) -> int:
    """The seed grid point ``index`` of a scalar function receives from ``sweep(..., seed=seed)``:
    a non-negative 63-bit int from ``numpy.random.SeedSequence(seed, spawn_key=(index,))``.

    Raises
    ------
    TypeError, ValueError
        ``seed`` or ``index`` not a non-negative int (bools and floats such as ``2.0`` refused).
    """
    seed = check_scalar(seed, "seed", integer=True, lo=0)
    index = check_scalar(index, "index", integer=True, lo=0)
    state = np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


# ---------------------------------------------------------------- the grid
def _column(values, name):
    """One grid column as a 1-D array (numeric/str columns as such, anything else as objects)."""
    if isinstance(values, (str, bytes, set, frozenset, Mapping)) or not hasattr(values, "__len__") \
            or isinstance(values, np.ndarray) and values.ndim == 0:
        raise TypeError(f"grid[{name!r}] must be a list, tuple or 1-D array of values, got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"grid[{name!r}] is empty")
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"grid[{name!r}] must be 1-D, got shape {values.shape}")
        return values
    try:
        arr = np.asarray(values)
    except Exception:  # ragged nested values: keep them as objects
        arr = None
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "biufcUS":
        return arr
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def make_grid(grid, product=True) -> dict:
    """``grid`` validated and expanded to columns of equal length, in grid order.

    ``product=True``: the cartesian product, the last name varying fastest (``itertools.product``
    order); ``product=False``: the columns zipped, all of one length.

    Raises
    ------
    TypeError
        ``grid`` not a mapping of str to sequences; ``product`` not a bool.
    ValueError
        An empty grid or column, a column that is not 1-D, ragged columns with ``product=False``, a
        product too large for memory.
    """
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict of parameter name -> list of values, got {type(grid).__name__}")
    product = check_flag(product, "product")
    if not grid:
        raise ValueError("grid is empty: give at least one parameter name -> list of values")
    cols = {}
    for name, values in grid.items():
        if not isinstance(name, str):
            raise TypeError(f"grid keys must be parameter names (str), got {name!r}")
        cols[name] = _column(values, name)
    if not product:
        lengths = {name: len(c) for name, c in cols.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError("grid columns must have one length with product=False (zipped); got "
                             + ", ".join(f"{k}: {v}" for k, v in lengths.items()))
        return cols
    sizes = [len(c) for c in cols.values()]
    total = int(np.prod(sizes, dtype=object))
    check_allocation(total, 16 * len(cols), "grid (the product of its column lengths)", what="grid points")
    out, inner = {}, total
    outer = 1
    for (name, c), size in zip(cols.items(), sizes):
        inner //= size
        idx = np.tile(np.repeat(np.arange(size), inner), outer)
        out[name] = c[idx]
        outer *= size
    return out


def grid_point(cols: dict, i: int) -> dict:
    """Grid point ``i`` as ``{name: value}`` (numpy scalars as Python scalars)."""
    return {k: (v[i].item() if isinstance(v[i], np.generic) else v[i]) for k, v in cols.items()}


def _signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without one: nothing to check
        return None


def check_parameters(fn, names, *, seed_given: bool):
    """Refuse grid names ``fn`` does not take and required parameters the grid leaves out (``ValueError``)."""
    sig = _signature(fn)
    if sig is None:
        return
    params = sig.parameters
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    by_name = {k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    label = getattr(fn, "__name__", type(fn).__name__)
    if not var_kw:
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"unknown parameter name(s) {unknown} for {label}; it takes {sorted(by_name)}")
        if seed_given and "seed" not in by_name:
            raise ValueError(f"seed is given but {label} takes no 'seed' parameter")
    given = set(names) | ({"seed"} if seed_given else set())
    missing = [k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and p.default is p.empty and k not in given]
    if missing:
        raise ValueError(f"{label} needs parameter(s) {missing}, which the grid does not give")


def check_seed(seed):
    """``seed`` checked without drawing from it: None, a non-negative int or a Generator."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be None, a non-negative int or a numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return int(seed)


def _check_seed(seed, names):
    if seed is None:
        return None
    if "seed" in names:
        raise ValueError("seed is both a grid parameter and the sweep's seed; give one of them")
    seed = check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    return seed


def require_pandas(what="as_frame=True"):
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(f"{what} needs pandas (pip install pandas)") from exc
    return pd


# ---------------------------------------------------------------- on the workers
def _as_columns(out, m: int):
    """A vectorized function's output for ``m`` points as ``{key: array}`` (key None: one array)."""
    items = out.items() if isinstance(out, Mapping) else [(None, out)]
    cols = {}
    for key, value in items:
        arr = np.asarray(value)
        if arr.ndim == 0 or arr.shape[0] != m:
            what = "its output" if key is None else f"its output[{key!r}]"
            raise ValueError(f"a vectorized function must return one result per grid point along axis 0: "
                             f"{what} has shape {arr.shape} for {m} points")
        cols[key] = arr
    return cols


def run_chunk(fn, params: dict, lo: int, vect: bool, seed, threads):
    """Run one chunk ``[lo, lo + m)`` of a sweep on a worker; never raises for ``fn``'s errors.

    Returns ``("vector", pieces, failures)`` (pieces: ``(start, {key: array})``) or
    ``("scalar", values, failures)`` (failures: ``(index, TaskFailure)``, global indices).
    A vectorized chunk that raises is rerun point by point (each under its own neuron offset, so
    the points that succeed give what the chunk would have) to name the points that fail.
    """
    m = len(next(iter(params.values())))
    kw = {} if seed is None else {"seed": seed}
    failures = []
    with numba_threads(threads):
        if vect:
            try:
                with neuron_offset(lo):
                    return "vector", [(lo, _as_columns(fn(**params, **kw), m))], failures
            except Exception:
                pieces = []
                for j in range(m):
                    one = {k: v[j:j + 1] for k, v in params.items()}
                    try:
                        with neuron_offset(lo + j):
                            pieces.append((lo + j, _as_columns(fn(**one, **kw), 1)))
                    except Exception as exc:
                        failures.append((lo + j, TaskFailure.capture(exc)))
                return "vector", pieces, failures
        values = []
        for j in range(m):
            point = {k: (v[j].item() if isinstance(v[j], np.generic) else v[j]) for k, v in params.items()}
            if seed is not None:
                point["seed"] = point_seed(seed, lo + j)
            try:
                values.append(fn(**point))
            except Exception as exc:
                values.append(None)
                failures.append((lo + j, TaskFailure.capture(exc)))
        return "scalar", values, failures


# ---------------------------------------------------------------- assembling
def _fill(dtype, n):
    if dtype.kind in "fc":
        return np.full(n, np.nan, dtype=dtype)
    if dtype.kind in "iub":
        return np.full(n, np.nan)
    return np.full(n, None, dtype=object)


def _assemble_vector(pieces, n):
    keys = list(pieces[0][1]) if pieces else [None]
    for _, cols in pieces:  # chunks that disagree could not be joined (a bare KeyError or concatenate error)
        if set(cols) != set(keys):
            raise ValueError(f"fn (vectorized) returned different outputs for different chunks: keys "
                             f"{sorted(map(str, keys))} and {sorted(map(str, cols))}")
        for key in keys:
            if cols[key].shape[1:] != pieces[0][1][key].shape[1:]:
                what = "its output" if key is None else f"its output[{key!r}]"
                raise ValueError(f"fn (vectorized): {what} has per-point shape {cols[key].shape[1:]} in one chunk "
                                 f"and {pieces[0][1][key].shape[1:]} in another")
    out = {}
    for key in keys:
        first = next((p[1][key] for p in pieces), None)
        if first is None:
            out[key] = np.full(n, None, dtype=object)
            continue
        covered = sum(p[1][key].shape[0] for p in pieces)
        if covered == n:
            out[key] = np.concatenate([p[1][key] for p in sorted(pieces, key=lambda p: p[0])])
            continue
        if first.ndim == 1:
            arr = _fill(first.dtype, n)
        else:
            arr = np.full((n,) + first.shape[1:], np.nan if first.dtype.kind in "fciub" else None,
                          dtype=np.result_type(first.dtype, np.float64) if first.dtype.kind in "fciub" else object)
        for start, cols in pieces:
            arr[start:start + cols[key].shape[0]] = cols[key]
        out[key] = arr
    return out[None] if list(out) == [None] else out


def _is_scalar(v):
    return isinstance(v, (numbers.Number, np.generic)) and not isinstance(v, (bool, np.bool_)) \
        or isinstance(v, np.ndarray) and v.ndim == 0


def _assemble_scalar(values, failed):
    ok = [v for i, v in enumerate(values) if i not in failed]
    if ok and all(_is_scalar(v) for v in ok):
        arr = np.array([np.nan if i in failed else v for i, v in enumerate(values)])
        return arr
    if ok and all(isinstance(v, np.ndarray) for v in ok) and len({v.shape for v in ok}) == 1:
        if not failed:
            return np.stack(values)
        if ok[0].dtype.kind in "fciub":
            filler = np.full(ok[0].shape, np.nan)
            return np.stack([filler if i in failed else v for i, v in enumerate(values)])
    return values


def to_frame(cols, values, failures):
    """A pandas DataFrame: the grid columns, then the results (``result``, or one column per key of
    dict results), then ``error`` (None where the point succeeded) when there were failures."""
    pd = require_pandas()
    data = {k: v for k, v in cols.items()}
    n = len(next(iter(cols.values())))
    if isinstance(values, dict):
        for k, v in values.items():
            data[k if k not in data else f"result_{k}"] = list(v) if np.ndim(v) > 1 else v
    elif isinstance(values, list) and values and all(isinstance(v, Mapping) or v is None for v in values):
        keys = list(dict.fromkeys(k for v in values if v is not None for k in v))
        for k in keys:
            data[k if k not in data else f"result_{k}"] = [None if v is None else v.get(k) for v in values]
    else:
        data["result"] = list(values) if isinstance(values, list) or np.ndim(values) > 1 else values
    if failures:
        err = [None] * n
        for f in failures:
            err[f.index] = f"{type(f.error).__name__}: {f.error}"
        data["error"] = err
    return pd.DataFrame(data)


# ---------------------------------------------------------------- the sweep
def sweep(fn, grid, *, product=True, vectorized=None, client=None, chunk=None, seed=None, errors="raise",
          as_frame=False, progress=False, numba_threads=1):
    """Run ``fn`` over a parameter grid on a Dask cluster; results in grid order.

    Parameters
    ----------
    fn : callable
        Called as ``fn(**point)`` (scalar) or, when vectorized, ``fn(**chunk)`` with one array per
        parameter holding a chunk of grid points, returning one result per point along axis 0 (an
        array or a dict of arrays). Must be picklable (cloudpickle: lambdas and closures work).
    grid : dict of str -> sequence
        Parameter name -> values. Names must be parameters of ``fn`` (checked against its signature).
    product : bool
        True: the cartesian product (last name fastest, as ``itertools.product``); False: the
        columns zipped (all of one length).
    vectorized : bool, optional
        Default: whether ``fn`` was marked by :func:`vectorized` (:class:`PopulationRates` is).
    client : dask.distributed.Client, optional
        Default: the current client, else a temporary ``LocalCluster`` (one worker process per core).
    chunk : int, optional
        Grid points per task. Default :func:`~fastkernels.distributed._cluster.auto_chunk`: about four
        tasks per Dask thread, 512-8192 points for a vectorized function, at most 256 for a scalar one.
    seed : None, int or numpy.random.Generator
        Passed to ``fn`` as ``seed``: point ``i`` of a scalar ``fn`` gets :func:`point_seed` ``(seed, i)``;
        a vectorized chunk gets ``seed`` under a neuron offset (see the module docstring). A
        Generator is turned into an int with one draw, once every argument has been checked; a call
        that raises (a :class:`SweepError` included) puts the Generator back as it was.
    errors : {"raise", "collect"}
        What a point on which ``fn`` raises does, after every chunk has run (no result is lost):
        "raise" raises :class:`SweepError` (naming the first failed point; ``.results`` holds the
        rest); "collect" returns ``(results, failures)``, or a frame with an ``error`` column.
    as_frame : bool
        Return a pandas DataFrame (grid columns + results) instead.
    progress : bool
        Show Dask's progress bar (``dask.distributed.progress``) while the tasks run.
    numba_threads : int or None
        Numba threads each task uses (default 1: Dask's threads are the parallelism); None leaves
        the worker's setting.

    Returns
    -------
    ndarray, dict of ndarray, list or DataFrame
        In grid order: a vectorized ``fn``'s outputs concatenated (a dict of arrays for dict
        outputs); a scalar ``fn``'s results as an array when they are all numbers (or arrays of
        one shape, stacked), else a list. Failed points hold NaN (numeric) or None.
        With ``errors="collect"`` (and not ``as_frame``): ``(results, failures)``, failures a list of
        :class:`PointFailure`.

    Raises
    ------
    TypeError
        ``fn`` not callable, ``grid`` not a dict of sequences, bad ``client``/``chunk``/``seed``/flags.
    ValueError
        Empty grid or column, ragged zipped columns, names ``fn`` does not take, required parameters
        the grid leaves out, ``seed`` given to a ``fn`` without one (or also in the grid), an unknown
        ``errors``. All checked before anything is submitted. After the run: a vectorized ``fn``
        whose chunks return different keys or per-point shapes.
    SweepError
        ``fn`` raised on some points (``errors="raise"``).
    ImportError
        Dask (or, for ``as_frame``, pandas) is not installed.

    Examples
    --------
    >>> from dask.distributed import Client                   # doctest: +SKIP
    >>> from fastkernels.distributed import PopulationRates, sweep
    >>> from fastkernels.neurons import LIF
    >>> client = Client()                                      # doctest: +SKIP
    >>> rates = sweep(PopulationRates(LIF(), duration=500.0),  # doctest: +SKIP
    ...               {"I": np.linspace(0.5, 3, 100_000)}, client=client)
    """
    require_distributed()
    check_client(client)
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    cols = make_grid(grid, product)
    vect = is_vectorized(fn) if vectorized is None else check_flag(vectorized, "vectorized")
    check_parameters(fn, list(cols), seed_given=seed is not None)
    chunk = check_chunk(chunk)
    check_choice(errors, "errors", ERRORS)
    as_frame = check_flag(as_frame, "as_frame")
    progress = check_flag(progress, "progress")
    threads = check_threads(numba_threads)
    if as_frame:
        require_pandas()  # before the work, not after it
    with seed_kept(seed):
        seed = _check_seed(seed, cols)  # last: a Generator is drawn from only once all else is valid
        return _run_sweep(fn, cols, vect, client, chunk, seed, errors, as_frame, progress, threads)


def _run_sweep(fn, cols, vect, client, chunk, seed, errors, as_frame, progress, threads):
    n = len(next(iter(cols.values())))
    with using_client(client) as c:
        size = chunk or auto_chunk(n, n_threads(c), vect)
        name = getattr(fn, "__name__", type(fn).__name__)
        token = uuid.uuid4().hex[:8]
        held = c.submit(identity, fn, key=f"sweep-fn-{name}-{token}", pure=False)
        futures = [c.submit(run_chunk, held, {k: v[lo:lo + size] for k, v in cols.items()}, lo, vect, seed, threads,
                            key=f"sweep-{name}-{token}-{lo}", pure=False)
                   for lo in range(0, n, size)]
        show_progress(futures, progress)
        outs = c.gather(futures)
        c.cancel([held])
    failures = [PointFailure(i, grid_point(cols, i), f.exception(), f.traceback)
                for _, _, fl in outs for i, f in fl]
    failures.sort(key=lambda f: f.index)
    if vect:
        values = _assemble_vector([p for _, pieces, _ in outs for p in pieces], n)
    else:
        values = _assemble_scalar(list(itertools.chain.from_iterable(v for _, v, _ in outs)),
                                  {f.index for f in failures})
    if failures and errors == "raise":
        first = failures[0]
        raise SweepError(f"{name} raised on {len(failures)} of {n} grid points; first: {first}",
                         failures, values) from first.error
    if as_frame:
        return to_frame(cols, values, failures)
    return (values, failures) if errors == "collect" else values
