"""Global-norm gradient clipping (seed 002 line 3182), in place over host gradient arrays."""

from __future__ import annotations

import math

import numpy as np

from .._jit import FASTMATH, jit
from .._outputs import as_output, check_no_overlap
from .._validate import FLOAT_DTYPES, check_positive
from ._checks import check_sequence


@jit(fastmath=FASTMATH)
def _sum_squares(g):
    s = 0.0
    for i in range(g.size):
        s += np.float64(g[i]) * g[i]
    return s


@jit
def _scale_in_place(g, c):
    for i in range(g.size):
        g[i] *= c


def _flat(a):
    return a.reshape(-1)


def clip_grad_norm(grads, max_norm):
    """Scale ``grads`` in place so their global L2 norm is at most ``max_norm``.

    Seed 002 line 3182: if ``||g|| > eta`` then ``g <- eta g / ||g||``, the direction kept.

    Parameters
    ----------
    grads : ndarray or sequence of ndarray
        Host gradient arrays (float32/float64, C-contiguous, writeable), no two sharing
        memory (a shared element would be scaled twice).
    max_norm : float
        ``eta`` > 0.

    Returns
    -------
    float
        The global norm before clipping (NaN or inf if a gradient holds one; then
        nothing is scaled, so the bad value stays visible).

    Raises
    ------
    TypeError
        ``grads`` not an array or a sequence of arrays, an array not float32/float64,
        ``max_norm`` not a number.
    ValueError
        A read-only or strided array, two arrays sharing memory, ``max_norm`` <= 0, NaN or
        infinite. Nothing is scaled when the call raises.
    """
    if isinstance(grads, np.ndarray):
        grads = [grads]
    grads = check_sequence(grads, "grads")
    checked = []
    for k, g in enumerate(grads):
        if not isinstance(g, np.ndarray) or g.dtype not in FLOAT_DTYPES:
            what = g.dtype.name if isinstance(g, np.ndarray) else type(g).__name__
            raise TypeError(f"grads[{k}] must be a float32 or float64 ndarray (scaled in place), got {what}")
        checked.append(as_output(g, f"grads[{k}]", dtype=g.dtype, shape=g.shape))
    grads = checked
    check_no_overlap(grads, [f"grads[{k}]" for k in range(len(grads))])
    max_norm = check_positive(max_norm, "max_norm")
    total = math.sqrt(sum(_sum_squares(_flat(g)) for g in grads if g.size))
    if math.isfinite(total) and total > max_norm:
        c = max_norm / total
        for g in grads:
            if g.size:
                _scale_in_place(_flat(g), g.dtype.type(c))
    return total
