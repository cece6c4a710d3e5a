"""Validation shared by the neuron models: per-neuron parameters, run length, seeds, records, sizes.

Every check runs before a simulation allocates or draws anything, and every error names the
argument (or the parameter field) and the bad value or the limit it broke.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import check_backend
from .._random import check_seed
from .._validate import as_array, check_allocation, check_choice, check_positive, check_scalar

#: ``refractory_mode`` values; see :class:`fastkernels.neurons.LIF`.
REFRACTORY_MODES = ("steps", "legacy_float")
#: Largest step index a run may reach (``|t / dt|``): step times ``k * dt`` and step counts are
#: exact in float64 below it, and every step counter fits an int64.
MAX_STEP = 2 ** 53
_NUMBER_DTYPES = (np.float64, np.float32, np.int64, np.int32)


def _plain_number(value) -> bool:
    """A Python float, or an int that fits int64 (bool is not: its type is bool)."""
    return type(value) is float or (type(value) is int and -2 ** 63 <= value < 2 ** 63)


def field_array(value, name: str, *, allow_inf=False) -> np.ndarray:
    """A parameter given as a scalar or a 1-D array of numbers, as float64 (0-d or 1-d), checked finite.

    Raises ``TypeError`` for bools, strings, objects, complex or unsigned values and ``ValueError``
    for more than one dimension or a NaN (or an infinity unless ``allow_inf``), naming ``name``.
    """
    if _plain_number(value):
        # A plain Python number meets as_array's dtype and shape rules by construction; skipping
        # it saves ~20 us a parameter of a small run's setup.
        arr = np.asarray(float(value))
    else:
        arr = np.asarray(as_array(value, name, dtypes=_NUMBER_DTYPES), dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array of one value per neuron, got shape {arr.shape}")
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        where = f"entry {i} is" if arr.ndim else "got"
        raise ValueError(f"{name} must be finite; {where} {arr.ravel()[i]}")
    return arr


def per_neuron(value, name: str, n: int, *, positive=False, nonneg=False, allow_inf=False, limit=None) -> np.ndarray:
    """``value`` (scalar or ``(n,)``) as a float64 ``(n,)`` array, checked finite (and > 0 / >= 0,
    and ``|value| <= limit`` when given)."""
    arr = field_array(value, name, allow_inf=allow_inf)
    if arr.ndim == 1 and arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have one value per neuron, shape ({n},); got shape {arr.shape}")
    # The checks run before a scalar is broadcast (one value, not n); a scalar's entry is 0.
    if positive and (arr <= 0).any():
        raise ValueError(f"{name} must be > 0; entry {int(np.flatnonzero(arr <= 0)[0])} is {arr[arr <= 0][0]}")
    if nonneg and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0; entry {int(np.flatnonzero(arr < 0)[0])} is {arr[arr < 0][0]}")
    if limit is not None and (np.abs(arr) > limit).any():
        i = int(np.flatnonzero(np.abs(arr) > limit)[0])
        raise ValueError(f"{name} must lie within +-{limit:g} (the state limit beyond which a run counts as "
                         f"runaway); entry {i} is {arr.ravel()[i]}")
    return np.full(n, float(arr)) if arr.ndim == 0 else arr


def model_fields(model, names, n: int, *, positive=(), nonneg=(), limits=None) -> dict:
    """:func:`per_neuron` of every field ``names`` of ``model``: ``{name: (n,) float64}``, checked
    finite, > 0 for ``positive`` names, >= 0 for ``nonneg``, within ``+-limits[name]``.

    When every field is a plain Python number that passes, they are checked and broadcast in one
    pass (the rows of one fresh array: ~10 us for the LIF's 15 fields against ~100 us one by one,
    the f-I curve's serial setup); otherwise field by field, naming the first bad one."""
    limits = limits or {}
    values = []
    for name in names:
        v = getattr(model, name)
        x = float(v) if _plain_number(v) else math.nan
        if not (math.isfinite(x) and not (name in positive and x <= 0) and not (name in nonneg and x < 0)
                and not (limits.get(name) is not None and abs(x) > limits[name])):
            return {name: per_neuron(getattr(model, name), name, n, positive=name in positive,
                                     nonneg=name in nonneg, limit=limits.get(name)) for name in names}
        values.append(x)
    return dict(zip(names, np.repeat(np.array(values)[:, None], n, axis=1)))


def check_n(n, bytes_per_neuron: int, name: str = "n") -> int:
    """A population size: an int >= 1 whose state and parameter arrays fit in memory."""
    n = check_scalar(n, name, integer=True, lo=1)
    check_allocation(n, bytes_per_neuron, name, what="neurons")
    return n


def check_dtype(dtype) -> np.dtype:
    """``float32`` or ``float64`` (as a type, name or ``np.dtype``); anything else is a ``TypeError``."""
    try:
        dt = None if dtype is None or isinstance(dtype, (bool, np.bool_)) else np.dtype(dtype)
    except Exception:
        dt = None
    if dt is None:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dt.name}")
    return dt


def check_run(n, duration, dt, dtype, *, bytes_per_neuron: int):
    """Validate the population size, run length and step; return ``(n, n_steps, dt, dtype)``.

    ``duration`` must be a whole number of steps (to 1e-9 relative), as in Brian2, and at most
    :data:`MAX_STEP` steps; ``n`` neurons of ``bytes_per_neuron`` bytes must fit in memory.
    """
    n = check_n(n, bytes_per_neuron)
    dt = check_positive(dt, "dt")
    duration = check_scalar(duration, "duration", lo=0)
    steps = duration / dt
    if not steps <= MAX_STEP:  # also inf (a subnormal dt)
        raise ValueError(f"duration / dt = {steps:.4g} steps (duration {duration} ms, dt {dt} ms) exceeds the "
                         f"limit of 2**53 steps")
    n_steps = int(round(steps))
    if abs(steps - n_steps) > 1e-9 * max(1.0, steps):
        raise ValueError(f"duration ({duration} ms) must be a whole number of steps of dt = {dt} ms")
    return n, n_steps, dt, check_dtype(dtype)


def first_step(t_start: float, dt: float, n_steps: int, initial_step=None, *, name="t_start") -> int:
    """The step index of a run's first step (``round(t_start / dt)``, or a continued run's
    ``initial['step']``), refused when the run would pass step +-:data:`MAX_STEP`."""
    if initial_step is not None:
        k0 = check_scalar(initial_step, "initial['step']", integer=True)
        name = "initial['step']"
    else:
        k = t_start / dt
        if not abs(k) <= MAX_STEP:
            raise ValueError(f"t_start / dt = {k:.4g} steps exceeds the limit of 2**53 steps")
        k0 = int(round(k))
    if abs(k0) > MAX_STEP or abs(k0 + n_steps) > MAX_STEP:
        raise ValueError(f"{name} puts the run at steps [{k0}, {k0 + n_steps}), beyond the limit of +-2**53 steps")
    return k0


def stride(record_every, n_steps: int) -> int:
    """``record_every`` checked (an int >= 1) and capped at the run length (the same samples)."""
    record_every = check_scalar(record_every, "record_every", integer=True, lo=1, hi=2 ** 63 - 1)
    return min(record_every, max(n_steps, 1))


def refractory_steps(tau_ref: np.ndarray, dt: float, limit: float) -> np.ndarray:
    """Refractory periods in whole steps, Brian2's ``timestep(tau_ref, dt)``: ``int((tau_ref + 1e-3 dt) / dt)``.

    Refuses (``ValueError`` naming ``tau_ref``) a period of ``limit`` steps or more before the
    cast to int, which would overflow for a huge ``tau_ref``.
    """
    steps = (tau_ref + 1e-3 * dt) / dt
    if (steps >= limit).any():
        i = int(np.flatnonzero(steps >= limit)[0])
        raise ValueError(f"tau_ref must be shorter than {int(limit)} steps of dt = {dt} ms ({limit * dt:g} ms); "
                         f"entry {i} is {tau_ref[i]} ms")
    return steps.astype(np.int64)


def check_mode(mode):
    return check_choice(mode, "refractory_mode", REFRACTORY_MODES)


def as_record(record, n: int) -> np.ndarray:
    """Neurons whose state is traced: None/False (none), True (all), an int or a list of ids; sorted unique int64."""
    if record is None or (isinstance(record, (bool, np.bool_)) and not record):
        return np.empty(0, dtype=np.int64)
    if isinstance(record, (bool, np.bool_)):
        return np.arange(n, dtype=np.int64)
    try:
        ids = np.atleast_1d(np.asarray(record))
    except Exception:
        raise TypeError(f"record must be True, an int or a sequence of neuron ids, got {type(record).__name__}") \
            from None
    if ids.size == 0 and ids.dtype.kind == "f":  # an empty list: no neuron
        return np.empty(0, dtype=np.int64)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"record must be True, an int or a sequence of neuron ids, got dtype {ids.dtype.name}")
    ids = ids.ravel()
    if ids.size and (ids.max() >= n or (ids.dtype.kind == "i" and ids.min() < 0)):
        bad = ids[(ids >= n) | (ids < 0)][0]
        raise ValueError(f"record holds neuron id {bad}, outside [0, {n})")
    return np.unique(ids.astype(np.int64))


def record_variables(record, names: tuple):
    """Split a simulation's ``record`` into ``(neurons, variables)``.

    A variable name (``"v"``) or a list of names (``["v", "w"]``) records those variables of every
    neuron, as Brian2's ``StateMonitor(group, "v", record=True)``: ``(True, names)``. Anything
    else selects neurons (see :func:`as_record`) and leaves the variables to the model's
    default: ``(record, None)``.

    Raises
    ------
    TypeError
        A list mixing names and other items.
    ValueError
        A name that is not one of ``names`` (the model's state variables).
    """
    if isinstance(record, str):
        wanted = [record]
    elif isinstance(record, (list, tuple)) and record and any(isinstance(r, str) for r in record):
        if not all(isinstance(r, str) for r in record):
            raise TypeError(f"record must be True, neuron ids or variable names, not a mix of both: {record!r}")
        wanted = list(record)
    else:
        return record, None
    for name in wanted:
        if name not in names:
            raise ValueError(f"record names the variable {name!r}, which this model does not have; its variables "
                             f"are {', '.join(repr(v) for v in names)} (or pass True, a neuron id or ids)")
    return True, tuple(dict.fromkeys(wanted))


def traced_prefix(variables, names: tuple) -> int:
    """How many of the state variables ``names`` a run traces so that ``variables`` (names, or None
    for all) are among them: the kernels write a prefix of their trace rows, ``traces.shape[0]``
    of them, so recording ``"v"`` (the first) keeps one row of ``len(names)`` in memory."""
    if variables is None:
        return len(names)
    return 1 + max(names.index(v) for v in variables)


def select_traces(result, variables):
    """Keep only ``variables`` (a tuple of names, in that order) of ``result.traces``; ``result``."""
    result.traces = {name: result.traces[name] for name in variables}
    return result


def check_traces(n_vars: int, rec: np.ndarray, n_rows: int, itemsize: int) -> None:
    """Refuse up front traces (``n_vars x len(record) x n_rows``) that cannot fit in memory."""
    if rec.size:
        check_allocation(n_vars * rec.size * n_rows, itemsize,
                         f"record ({rec.size} neurons) x duration / (dt * record_every) ({n_rows} samples)",
                         what="trace values")


def check_common(seed, backend):
    """The checks every simulation runs first: ``seed`` and ``backend`` (a name, not yet resolved)."""
    check_seed(seed)
    check_backend(backend)


def check_finite_result(values: dict, what: str) -> None:
    """Internal derived coefficients must be finite: names the parameters behind the first bad one."""
    for names, arr in values.items():
        arr = np.asarray(arr)
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ValueError(f"{names} (entry {i}) make the {what} overflow (it is {arr.ravel()[i]}); "
                             "use parameters of a sensible magnitude")


def whole(arr: np.ndarray, name: str) -> None:
    """Every entry a whole number (counts given as floats)."""
    bad = arr != np.round(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be whole numbers of input trains; entry {i} is {arr[i]}")

