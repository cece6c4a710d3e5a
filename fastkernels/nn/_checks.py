"""Argument checks used only by :mod:`fastkernels.nn` (the shared ones are in ``fastkernels._validate``)."""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_disjoint

#: Integer arguments (counts, steps, sizes) are bounded to what an int64 holds.
INT64_MAX = 2**63 - 1


def check_flag(value, name: str) -> bool:
    """A boolean switch: ``bool``, ``numpy.bool_`` or the integers 0 and 1; anything else (a
    string, None, an array) raises instead of being read by its truthiness (``"no"`` is true)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def check_sequence(value, name: str, *, length=None) -> list:
    """``value`` as a list, refusing non-sequences (a number, a string, a dict, an array of
    other than one dimension) and, when ``length`` is given, a wrong length."""
    if isinstance(value, (str, bytes, dict)) or (isinstance(value, np.ndarray) and value.ndim != 1):
        raise TypeError(f"{name} must be a sequence, got {type(value).__name__} {value!r}")
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence, got {type(value).__name__} {value!r}") from None
    if length is not None and len(items) != length:
        raise ValueError(f"{name} must hold {length} items, got {len(items)}")
    return items


def _byte_span(a):
    """(first byte, one past the last) of a host array's data, or None for a device array."""
    if not isinstance(a, np.ndarray):
        return None
    if a.flags.c_contiguous:
        lo = a.__array_interface__["data"][0]
        return lo, lo + a.nbytes
    lo, hi = np.byte_bounds(a) if hasattr(np, "byte_bounds") else np.lib.array_utils.byte_bounds(a)
    return lo, hi


def check_no_overlap(arrays, names):
    """Refuse any two of ``arrays`` that share memory (arrays updated in place, where a shared
    element would be updated twice), naming both. Sort-and-sweep over byte spans, so a list of
    many parameters costs O(k log k); candidates go to :func:`check_disjoint` for the exact
    verdict (interleaved views that never touch the same element pass)."""
    host, dev = [], []
    for a, name in zip(arrays, names):
        if a.size == 0:
            continue
        span = _byte_span(a)
        (dev if span is None else host).append((span, name, a))
    host.sort(key=lambda t: t[0][0])
    for i, ((lo, hi), name, a) in enumerate(host):
        for (lo2, _), name2, b in host[i + 1:]:
            if lo2 >= hi:
                break
            check_disjoint(b, name2, **{name: a})
    for i, (_, name, a) in enumerate(dev):
        for _, name2, b in dev[i + 1:]:
            check_disjoint(b, name2, **{name: a})
