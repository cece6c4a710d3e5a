"""Argument checks used only by :mod:`fastkernels.nn` (the shared ones are in ``fastkernels._validate``
and ``fastkernels._outputs``)."""

from __future__ import annotations

import warnings

import numpy as np

from .._validate import check_flag


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


#: The reductions every loss accepts.
REDUCTIONS = ("mean", "sum", "none")


def first_bad(values, bad):
    """(index tuple, value) of the first True of ``bad`` in ``values``."""
    i = int(np.argmax(bad.ravel()))
    pos = tuple(int(p) for p in np.unravel_index(i, values.shape))
    return (pos[0] if len(pos) == 1 else pos), values.ravel()[i]


def check_non_negative(values, name):
    bad = values < 0
    if bad.any():
        at, v = first_bad(values, bad)
        raise ValueError(f"{name} must be non-negative, got {float(v)!r} at index {at}")


def legacy_reduction(size_average, reduce, reduction):
    """torch's deprecated ``size_average``/``reduce`` pair mapped onto ``reduction`` as
    ``torch.nn._reduction.legacy_get_string`` does (with its ``UserWarning``); ``reduction``
    itself when both are None."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else check_flag(size_average, "size_average")
    reduce = True if reduce is None else check_flag(reduce, "reduce")
    ret = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=3)
    return ret
