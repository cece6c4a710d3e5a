"""Finite-difference gradient checks, for users' own kernels and for our tests."""

from __future__ import annotations

import numpy as np

from .._random import check_seed
from .._validate import INT64_MAX, as_array, as_index_array, check_positive, check_scalar


def _check_callable(f):
    if not callable(f):
        raise TypeError(f"f must be a callable returning a float, got {type(f).__name__}")


def _value(f, xp):
    """``float(f(xp))``, naming ``f`` when it returns something that is not a scalar."""
    v = f(xp)
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError(f"f must return a real scalar, got {type(v).__name__}") from None


def numerical_gradient(f, x, *, eps=1e-6, indices=None):
    """Central-difference gradient ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; called with perturbed copies, ``x`` itself is never modified.
    x : ndarray of float64
        The point.
    eps : float
        Step (> 0); 1e-6 balances truncation and rounding error in float64.
    indices : sequence of int, optional
        Flat positions to differentiate (default: all).

    Returns
    -------
    ndarray of x's shape
        The estimate at ``indices`` (NaN elsewhere). A NaN from ``f`` stays NaN.

    Raises
    ------
    TypeError
        ``f`` not callable or not returning a scalar, ``x`` not float64, ``indices`` not integers.
    ValueError
        ``eps`` not positive and finite, an index outside ``[0, x.size)``.
    """
    _check_callable(f)
    x = as_array(x, "x", dtypes=(np.float64,))
    eps = check_positive(eps, "eps")
    if indices is not None:
        indices = as_index_array(indices, "indices", n=x.size)
    xp = x.copy()
    flat = xp.reshape(-1)
    grad = np.full(x.size, np.nan)
    for i in range(x.size) if indices is None else indices.tolist():
        old = flat[i]
        flat[i] = old + eps
        hi = _value(f, xp)
        flat[i] = old - eps
        lo = _value(f, xp)
        flat[i] = old
        grad[i] = (hi - lo) / (2 * eps)
    return grad.reshape(x.shape)


def gradcheck(f, x, grad, *, eps=1e-6, rtol=1e-5, atol=1e-8, max_checks=None, seed=0):
    """Compare an analytic gradient with central differences; raise if they disagree.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, the scalar whose gradient ``grad`` claims to be.
    x : ndarray of float64
        Finite differences in float32 are too coarse to check anything.
    grad : ndarray of x's shape
        The analytic gradient at ``x``.
    eps : float
        Finite-difference step.
    rtol, atol : float
        Passes where ``|grad - numeric| <= atol + rtol * |numeric|``.
    max_checks : int, optional
        Check this many randomly chosen positions (seeded) instead of all.
    seed : int
        Seed of that choice.

    Returns
    -------
    dict
        ``max_abs_err``, ``max_rel_err`` and ``checked`` (number of positions).

    Raises
    ------
    AssertionError
        Naming the worst position, both values and the error. A NaN or inf in ``grad`` or
        in the numerical estimate is a mismatch (it never passes silently).
    TypeError, ValueError
        ``f`` not callable, non-float64 ``x``, shape mismatch, bad tolerances, ``eps``,
        ``max_checks`` or ``seed``.
    """
    _check_callable(f)
    x = as_array(x, "x", dtypes=(np.float64,))
    grad = as_array(grad, "grad", dtypes=(np.float32, np.float64), shape=tuple(x.shape))
    rtol = check_scalar(rtol, "rtol", lo=0)
    atol = check_scalar(atol, "atol", lo=0)
    eps = check_positive(eps, "eps")
    seed = check_seed(seed)
    idx = None
    if max_checks is not None:
        max_checks = check_scalar(max_checks, "max_checks", integer=True, lo=1, hi=INT64_MAX)
        if max_checks < x.size:
            idx = np.random.default_rng(seed).choice(x.size, max_checks, replace=False)
    num = numerical_gradient(f, x, eps=eps, indices=idx).reshape(-1)
    ana = np.asarray(grad, np.float64).reshape(-1)
    pos = np.arange(x.size) if idx is None else np.sort(idx)
    err = np.abs(ana[pos] - num[pos])
    bad = ~(err <= atol + rtol * np.abs(num[pos]))  # NaN (in either gradient) fails, never passes
    if bad.any():
        k = int(np.argmax(np.where(bad, np.where(np.isnan(err), np.inf, err), -1)))
        at = tuple(int(v) for v in np.unravel_index(pos[k], x.shape))
        raise AssertionError(
            f"gradient mismatch at {at}: analytic {ana[pos[k]]!r}, numeric {num[pos[k]]!r}, "
            f"error {err[k]:.3g} > atol + rtol*|numeric| ({int(bad.sum())} of {pos.size} positions fail)"
        )
    rel = err / np.maximum(np.abs(num[pos]), 1e-300)
    return {"max_abs_err": float(err.max(initial=0)), "max_rel_err": float(rel.max(initial=0)), "checked": int(pos.size)}
