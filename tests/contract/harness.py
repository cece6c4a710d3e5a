"""Shared machinery of the contract tests (see docs/CONTRACT.md).

Every public function is driven with generated bad and edge inputs and must keep the contract:

* a bad input raises ``TypeError`` or ``ValueError`` (or the documented error) whose message names
  the offending argument: :func:`raises_naming`;
* after any error the caller's arrays, ``out=`` buffers and models are unchanged:
  :class:`Snapshot`;
* a call that returns gives a right answer or one that visibly carries the bad value (NaN in,
  NaN out where the contract says it propagates): never a silent wrong result.

The strategies here generate the kinds of bad input every area shares; each area's module adds
its own. Hard crashes (a segfault in a kernel reading out of bounds) cannot be caught in-process,
so ``tests/test_contract.py`` runs each area's module in its own interpreter with faulthandler on:
a crash fails that test with the traceback of the case, and the rest of the suite goes on.
"""

from __future__ import annotations

import re

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

CLEAR_ERRORS = (TypeError, ValueError)

# -- checking outcomes -------------------------------------------------------------------------


def raises_naming(fn, *names, errors=CLEAR_ERRORS):
    """Call ``fn()``; it must raise one of ``errors`` whose message names one of ``names``.

    Returns the exception. A bare ``KeyError``/``IndexError``/``ZeroDivisionError``, NumPy's
    "array is too big", or a message without the argument's name fails the test.
    """
    try:
        fn()
    except errors as exc:
        msg = str(exc)
        if names and not any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", msg) for n in names):
            raise AssertionError(f"{type(exc).__name__} names none of {names}: {msg!r}") from exc
        return exc
    except Exception as exc:  # a raw error from deep inside: not a clear one
        raise AssertionError(f"expected {[e.__name__ for e in errors]} naming {names}, got "
                             f"{type(exc).__name__}: {exc}") from exc
    raise AssertionError(f"accepted a bad input: expected an error naming one of {names}")


def state_of(obj):
    """A comparable picture of an object's state: arrays by value, recursively through
    ``__dict__``, lists, tuples and dicts (models, optimizers, vocabularies)."""
    if isinstance(obj, np.ndarray):
        return ("nd", obj.dtype.str, obj.shape, obj.tobytes())
    if isinstance(obj, dict):
        return ("d", tuple((k, state_of(v)) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))))
    if isinstance(obj, (list, tuple)):
        return ("l", tuple(state_of(v) for v in obj))
    if isinstance(obj, float) and obj != obj:
        return ("nan",)
    if isinstance(obj, np.random.Generator):  # a seed a failed call must not advance
        return ("gen", state_of(obj.bit_generator.state))
    if hasattr(obj, "__dict__") and not isinstance(obj, type) and type(obj).__module__.startswith("fastkernels"):
        return ("o", type(obj).__name__, state_of({k: v for k, v in vars(obj).items() if not callable(v)}))
    if hasattr(obj, "__slots__") and type(obj).__module__.startswith("fastkernels"):
        return ("s", tuple(state_of(getattr(obj, k, None)) for k in obj.__slots__))
    try:
        hash(obj)
        return obj
    except TypeError:
        return ("id", id(obj))


class Snapshot:
    """Copies of the given objects, to assert after a failed call that nothing changed::

        snap = Snapshot(x=x, out=out, model=model)
        raises_naming(lambda: f(x, out=out), "x")
        snap.assert_unchanged()
    """

    def __init__(self, **objects):
        self._live = objects
        # the picture is taken now (no copies: an object field compares by identity, a Generator
        # by its state, arrays by their bytes)
        self._saved = {k: state_of(v) for k, v in objects.items()}

    def assert_unchanged(self):
        for k, v in self._live.items():
            if state_of(v) != self._saved[k]:
                raise AssertionError(f"{k} was changed by a call that raised")


def fails_cleanly(fn, *names, errors=CLEAR_ERRORS, **objects):
    """``raises_naming`` plus the unchanged-state check of every object in ``objects``."""
    snap = Snapshot(**objects)
    exc = raises_naming(fn, *names, errors=errors)
    snap.assert_unchanged()
    return exc


# -- strategies --------------------------------------------------------------------------------

BAD_FLOAT_VALUES = (np.nan, np.inf, -np.inf)
HUGE_FLOATS = (1e308, -1e308, 3.5e38, 1e39)
INT_EXTREMES = (np.iinfo(np.int64).max, np.iinfo(np.int64).min, 2**31, -(2**31) - 1, 2**63, 2**64)


def bad_scalars(*, integer=False):
    """Scalars no numeric argument should accept silently: NaN/inf, bools, strings, None, arrays,
    complex; for integer arguments also floats (even whole ones) and out-of-range ints."""
    common = [np.nan, np.inf, -np.inf, True, "1", None, [1], np.array([1.0, 2.0]), 1 + 2j, object()]
    if integer:
        common += [1.5, 2.0, np.float64(3.0), 2**64, -(2**63) - 1]
    return st.sampled_from(common)


def bad_seeds():
    """Seeds of the wrong type or range: each must raise even when no random draw is needed."""
    return st.sampled_from([-1, 1.5, 2.0, "0", b"0", [0], np.array([1, 2]), True, object(),
                            np.random.RandomState(0), 2**200 * -1])


def odd_float_arrays(shape, *, dtype=np.float32):
    """Valid-typed float arrays with edge values: NaN, +-inf, 1e308 (in float64), subnormals, +-0."""
    dtype = np.dtype(dtype)
    edge = [np.nan, np.inf, -np.inf, 0.0, -0.0, float(np.finfo(dtype).tiny) / 4, float(np.finfo(dtype).max)]
    return hnp.arrays(dtype, shape, elements=st.one_of(st.sampled_from(edge),
                                                       st.floats(-10, 10, width=dtype.itemsize * 8)))


def wrong_dtype_arrays(shape, *, accept):
    """Arrays of a dtype outside ``accept`` (bool, ints, float16, complex, object, strings)."""
    accept = {np.dtype(d) for d in accept}
    cands = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64, np.float16, np.float32,
             np.float64, np.complex64, np.complex128]
    cands = [np.dtype(d) for d in cands if np.dtype(d) not in accept]
    extra = [np.zeros(shape, object), np.full(shape, "a")]
    return st.one_of(st.sampled_from(cands).map(lambda d: np.ones(shape, d)), st.sampled_from(extra))


def layout_variants(x):
    """The same values as ``x`` in layouts a function must either accept (copying) or refuse
    clearly: read-only, Fortran order, strided (every other element of a larger array), a list."""
    ro = x.copy()
    ro.flags.writeable = False
    big = np.repeat(x, 2, axis=-1) if x.ndim else x
    strided = big[..., ::2] if x.ndim else x
    return {"readonly": ro, "fortran": np.asfortranarray(x), "strided": strided, "list": x.tolist()}


def overlapping_out(x):
    """A buffer of ``x``'s shape and dtype that overlaps ``x`` shifted by one element."""
    base = np.empty(x.size + 1, x.dtype)
    base[: x.size] = x.ravel()
    xin = base[: x.size].reshape(x.shape)
    out = base[1:].reshape(x.shape)
    return xin, out


def corrupt_bytes(data: bytes, seed: int) -> list:
    """Damaged versions of a saved file's bytes: truncations, a flipped byte, empty, foreign."""
    rng = np.random.default_rng(seed)
    flipped = bytearray(data)
    if flipped:
        i = int(rng.integers(len(flipped)))
        flipped[i] ^= 0xFF
    return [b"", data[: len(data) // 2], data[:30], bytes(flipped), b"PK\x03\x04" + b"\x00" * 64,
            b"not a fastkernels file\n", b"\x93NUMPY\x01\x00" + b"\x00" * 40]
