"""Element-level maths shared by the nn, neurons and word2vec kernels.

Every function here is a :func:`fastkernels._jit.device` scalar helper: inlined into
the ``@njit`` kernel that calls it (serial or ``prange``) and compiled as a device
function when a ``@cuda.jit`` kernel calls it, so one source serves every backend.
Arguments and results are scalars; float64 in gives float64 out, and float32 in
keeps float32 where the body's constants allow.

* Logistic function and its logs, never overflowing: :func:`sigmoid`,
  :func:`log_sigmoid`, :func:`softplus`.
* The binary cross-entropy of a logit and its gradient: :func:`bce_element` (libm
  ``exp``/``log1p``, for CUDA and reference loops) and :func:`bce_element_simd` (the
  polynomial ``exp``/``log1p`` that LLVM vectorises, for CPU loops).
* Optimizer update rules of one parameter, ``torch.optim``'s forms: :func:`decayed_grad`
  (L2 and L1 penalties), :func:`sgd_element` (classical or Nesterov momentum),
  :func:`rmsprop_element`, :func:`adam_element` (Adam, or AdamW through the decoupled
  ``decay_mult = 1 - lr wd``).

This module belongs to the shared layer: it imports only other ``fastkernels._*`` modules.
"""

from __future__ import annotations

import math

from ._exp import exp_poly
from ._jit import device
from ._log import log1p_unit

# -- logistic function ---------------------------------------------------------------


@device
def sigmoid(z):
    """``1 / (1 + exp(-z))`` from ``e = exp(-|z|) <= 1``: no overflow for any ``z``.

    Examples
    --------
    >>> from fastkernels._scalar import sigmoid
    >>> sigmoid(0.0), sigmoid(-1000.0), sigmoid(1000.0)
    (0.5, 0.0, 1.0)
    """
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


@device
def softplus(z):
    """``log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|))``, never overflowing."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@device
def log_sigmoid(z):
    """``log(sigmoid(z)) = -softplus(-z) = min(z, 0) - log1p(exp(-|z|))``: finite and accurate
    for large ``|z|`` (``log_sigmoid(-1000) = -1000``, ``log_sigmoid(40) ~ -4e-18``)."""
    return min(z, 0.0) - math.log1p(math.exp(-abs(z)))


# -- binary cross-entropy of a logit -------------------------------------------------


@device
def bce_element(z, t, w, pw):
    """(loss, dloss/dz) of one logit: w [pw t softplus(-z) + (1 - t) softplus(z)].

    One ``exp`` and one ``log1p`` serve both softplus terms and the sigmoid:
    softplus(+-z) = max(+-z, 0) + log1p(exp(-|z|)), never overflowing. Shared by
    the CPU and CUDA kernels (a ``device`` helper compiles for both).
    """
    e = math.exp(-abs(z))
    l1p = math.log1p(e)
    loss = w * (pw * t * (max(-z, 0.0) + l1p) + (1.0 - t) * (max(z, 0.0) + l1p))
    sig = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    return loss, w * (sig * (1.0 - t + pw * t) - pw * t)


@device
def bce_element_simd(z, t, w, pw):
    """:func:`bce_element` written for the CPU loops: the polynomial ``exp`` and ``log1p``
    of :mod:`fastkernels._exp` / :mod:`fastkernels._log` and selects instead of ``max``, so
    LLVM vectorises the loop (libm calls would keep it scalar)."""
    e = exp_poly(-abs(z))
    l1p = log1p_unit(e)
    sp_neg = (-z if z < 0.0 else 0.0) + l1p  # softplus(-z)
    sp_pos = (z if z > 0.0 else 0.0) + l1p  # softplus(z)
    loss = w * (pw * t * sp_neg + (1.0 - t) * sp_pos)
    inv = 1.0 / (1.0 + e)
    sig = inv if z >= 0.0 else e * inv
    return loss, w * (sig * (1.0 - t + pw * t) - pw * t)


# -- optimizer update rules ------------------------------------------------------------


@device
def decayed_grad(p, g, wd, l1):
    """g + wd p + l1 sign(p): the L2 and L1 penalties' gradients added to g."""
    g = g + wd * p
    if l1 != 0:  # a constant 0 folds the term away; a run-time one is a loop-invariant branch
        g += l1 * (1.0 if p > 0 else (-1.0 if p < 0 else 0.0))
    return g


@device
def sgd_element(p, g, v, lr, mu, nesterov, wd, l1):
    """One parameter's SGD update: returns (new p, new velocity).

    ``g += wd p + l1 sign(p)``; with momentum ``v = mu v + g`` and ``p -= lr v``
    (Nesterov: ``p -= lr (g + mu v)``); without (``mu == 0``) ``v`` is returned unchanged.
    """
    gi = decayed_grad(p, g, wd, l1)
    if mu != 0:
        v = mu * v + gi
        gi = gi + mu * v if nesterov else v
    return p - lr * gi, v


@device
def rmsprop_element(p, g, r, lr, rho, eps, wd, l1):
    """One parameter's RMSprop update: returns (new p, new square average)."""
    gi = decayed_grad(p, g, wd, l1)
    r = rho * r + (1 - rho) * gi * gi
    return p - lr * gi / (math.sqrt(r) + eps), r


@device
def adam_element(p, g, m, v, lr, b1, b2, eps, c1, c2, wd, l1, decay_mult):
    """One parameter's Adam/AdamW update: returns (new p, new m, new v).

    ``decay_mult`` is AdamW's decoupled ``1 - lr wd`` (1 for Adam); ``c1``, ``c2``
    the bias corrections ``1 - beta**t``.
    """
    gi = decayed_grad(p, g, wd, l1)
    m = b1 * m + (1 - b1) * gi
    v = b2 * v + (1 - b2) * gi * gi
    if decay_mult != 1:  # AdamW; p * 1 is p, so Adam skips the multiply
        p = p * decay_mult
    return p - lr * (m / c1) / (math.sqrt(v / c2) + eps), m, v
