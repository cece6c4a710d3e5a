"""Inverted dropout with a counter-based mask that never has to be stored.

Training: ``y = x * m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` per element
(seed 002 lines 2705-2719: drop each unit with probability p, usually 1/2;
the 1/(1 - p) scaling makes evaluation a no-op). Element ``k``'s mask bit is
draw 0 of stream ``k`` under a key derived from ``(seed, step)``, so the
backward pass regenerates the same mask from the same arguments instead of
keeping an N x C boolean array, and every backend and thread count gives the
same mask.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import cpu_kernels, device
from .._outputs import as_output, check_disjoint
from .._random import check_seed, resolve_seed, stream_key, uniform
from .._validate import FLOAT_DTYPES, INT64_MAX, as_array, check_flag, check_scalar


@device
def keep_scale(key, k, p):
    """1 / (1 - p) if element ``k`` is kept, else 0 (drawn from stream ``k`` of ``key``)."""
    return 1.0 / (1.0 - p) if uniform(stream_key(key, k), 0) >= p else 0.0


def _dropout_body(x, key, p, y):
    for k in prange(x.size):
        y[k] = x[k] * keep_scale(key, k, p)


_dropout = dict(zip(("cpu", "parallel"), cpu_kernels(_dropout_body)))


def step_key(base, step):
    """The mask key of call ``step`` under the resolved seed ``base`` (:func:`resolve_seed`)."""
    return np.int64(stream_key(base, step))


def _copy_into(out, x):
    """``out[...] = x`` for host or device arrays (both validated, same shape and dtype)."""
    if isinstance(out, np.ndarray) and isinstance(x, np.ndarray):
        out[...] = x
    elif isinstance(out, np.ndarray):
        x.copy_to_host(out)
    else:
        out.copy_to_device(x)


def _apply(x, p, seed, step, out, backend, name, training=True):
    # everything is checked first, whatever path the call then takes (p = 1, evaluation)
    x = as_array(x, name, dtypes=FLOAT_DTYPES)
    p = check_scalar(p, "p", lo=0.0, hi=1.0)
    step = check_scalar(step, "step", integer=True, lo=0, hi=INT64_MAX)  # an int64 counter
    training = check_flag(training, "training")
    if out is not None:
        out = as_output(out, "out", dtype=x.dtype, shape=tuple(x.shape))
        check_disjoint(out, "out", allow_same=(name,), **{name: x})
    be = resolve_backend(backend, work=x.size, arrays=(x, out))
    if not training:  # inverted dropout: evaluation is the identity
        check_seed(seed)  # checked, not drawn from: a Generator is not advanced
        if out is None:
            return x
        if out is not x:
            _copy_into(out, x)
        return out
    # last, as the only step with a side effect (a Generator seed advances)
    key = step_key(resolve_seed(seed), step)
    return dropout_validated(x, key, p, out, be)


def dropout_validated(x, key, p, out, be):
    """Training-mode dropout of validated ``x`` with the mask of ``key`` (:func:`step_key`) and a
    resolved backend ``be``: the entry point of internal callers (forward and backward alike)."""
    # p = 1 runs the kernel too: every element is x * 0, so NaN and inf stay visible (as torch)
    if be == "cuda":
        return load_cuda("fastkernels.nn._dropout_cuda").dropout(x, key, p, out)
    y = np.empty_like(x) if out is None else out
    if x.size:
        _dropout[be](x.reshape(-1), key, p, y.reshape(-1))
    return y


def dropout(x, p=0.5, *, seed, step=0, training=True, out=None, backend="auto"):
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1/(1-p).

    Parameters
    ----------
    x : array_like of float32 or float64, any shape
    p : float in [0, 1]
        Drop probability (0.5 is the seed's default choice). ``p = 1`` drops everything:
        the result is ``x * 0``, zeros where ``x`` is finite.
    seed : int or numpy.random.Generator
        Required: the mask must be reproducible for the backward pass. Checked on every
        call, also when no mask is drawn (``training=False``, ``p`` of 0 or 1); a Generator
        is advanced only by a training call that succeeds.
    step : int
        Which mask (>= 0): pass the training step so every step draws a fresh mask.
    training : bool
        ``False`` returns ``x`` unchanged (inverted dropout needs no test-time scaling),
        or copies it into ``out`` when one is given. Every argument is validated either way.
    out : ndarray, optional
        Output buffer of ``x``'s shape and dtype. It may be ``x`` itself (in place); any
        other overlap with ``x`` is refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray of x's shape and dtype
        ``x * mask / (1 - p)``: NaN and inf entries stay NaN/inf where kept and become NaN
        where dropped (``nan * 0``), as torch's multiply by the mask.

    Raises
    ------
    TypeError
        ``x`` not a float32/float64 array; ``seed``, ``p``, ``step`` or ``training`` of the
        wrong type; ``out`` of another dtype.
    ValueError
        ``p`` outside [0, 1] or NaN, negative ``step`` or ``seed``; ``out`` of the wrong
        shape, read-only, strided or overlapping ``x`` other than exactly.
    """
    return _apply(x, p, seed, step, out, backend, "x", training)


def dropout_backward(dy, p=0.5, *, seed, step=0, out=None, backend="auto"):
    """Gradient of :func:`dropout`: ``dx = dy * m / (1 - p)`` with the mask regenerated from ``(seed, step)``.

    Parameters
    ----------
    dy : array_like
        Gradient with respect to the dropout output.
    p, seed, step
        Exactly as given to :func:`dropout` for this step.
    out, backend
        As in :func:`dropout` (``out`` may be ``dy`` itself).

    Returns
    -------
    ndarray of dy's shape and dtype

    Raises
    ------
    TypeError, ValueError
        As :func:`dropout`, naming ``dy`` for a bad gradient array.
    """
    return _apply(dy, p, seed, step, out, backend, "dy")
