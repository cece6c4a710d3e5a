"""Optimizers as fused, in-place update kernels: SGD (with classical or Nesterov
momentum), RMSprop, Adam and AdamW, L2/L1 weight decay, global-norm gradient
clipping and learning-rate schedules.

Each step is one pass over each parameter array that reads the gradient and
state and writes the parameter and state in place; give all parameters as one
flat buffer (the MLP does) and a step is a single kernel. Update rules follow
``torch.optim`` (seed 002 lines 1841-2113 for SGD, momentum and decay; Adam and
RMSprop are from Kingma & Ba 2015 and Hinton's lecture 6e, which the seed only
names):

* SGD: ``g += wd p + l1 sign(p)``; with momentum ``v = mu v + g`` and
  ``p -= lr v`` (Nesterov: ``p -= lr (g + mu v)``). For a constant ``lr`` this is
  the seed's ``u = mu u - lr g; p += u`` with ``u = -lr v``.
* RMSprop: ``r = rho r + (1 - rho) g^2``; ``p -= lr g / (sqrt(r) + eps)``.
* Adam: ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
  ``p -= lr mhat / (sqrt(vhat) + eps)`` with bias-corrected ``mhat``, ``vhat``.
  ``weight_decay`` adds ``wd p`` to ``g`` (L2); AdamW instead decays
  ``p *= 1 - lr wd`` before the update (decoupled).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._backend import is_device_array, load_cuda, resolve_backend
from .._jit import FASTMATH, cpu_kernels, device, jit
from .._validate import FLOAT_DTYPES, array_dtype, as_array, as_output, check_choice, check_positive, check_scalar


@device
def decayed_grad(p, g, wd, l1):
    """g + wd p + l1 sign(p): the L2 and L1 penalties' gradients added to g."""
    s = 1.0 if p > 0 else (-1.0 if p < 0 else 0.0)
    return g + wd * p + l1 * s


@device
def sgd_element(p, g, v, lr, mu, nesterov, wd, l1):
    """One parameter's SGD update: returns (new p, new velocity)."""
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
    return p * decay_mult - lr * (m / c1) / (math.sqrt(v / c2) + eps), m, v


# CPU kernels: one prange loop per rule over the flat arrays; the CUDA twins in
# _optim_cuda.py call the same element functions.


def _sgd_body(p, g, v, lr, mu, nesterov, wd, l1):
    for i in prange(p.size):
        p[i], v[i] = sgd_element(p[i], g[i], v[i], lr, mu, nesterov, wd, l1)


def _rmsprop_body(p, g, r, lr, rho, eps, wd, l1):
    for i in prange(p.size):
        p[i], r[i] = rmsprop_element(p[i], g[i], r[i], lr, rho, eps, wd, l1)


def _adam_body(p, g, m, v, lr, b1, b2, eps, c1, c2, wd, l1, decay_mult):
    for i in prange(p.size):
        p[i], m[i], v[i] = adam_element(p[i], g[i], m[i], v[i], lr, b1, b2, eps, c1, c2, wd, l1, decay_mult)


_sgd = dict(zip(("cpu", "parallel"), cpu_kernels(_sgd_body)))
_rmsprop = dict(zip(("cpu", "parallel"), cpu_kernels(_rmsprop_body)))
_adam = dict(zip(("cpu", "parallel"), cpu_kernels(_adam_body)))


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


class Optimizer:
    """Base class: validates the parameter list and owns per-parameter state.

    Parameters
    ----------
    params : sequence of ndarray
        Float32 or float64 arrays, C-contiguous and writeable, updated in place
        (never copied). One flat buffer holding every parameter is fastest.
    lr : float
        Learning rate (> 0); may be changed between steps (schedules).
    backend : {"auto", "cpu", "parallel", "cuda"}
        "cuda" needs device arrays (or copies host ones each step).
    """

    _state_names: tuple = ()

    def __init__(self, params, lr, backend="auto"):
        if isinstance(params, np.ndarray) or is_device_array(params):
            params = [params]
        params = list(params)
        if not params:
            raise ValueError("params must hold at least one array")
        self.params = []
        for k, p in enumerate(params):
            if not (isinstance(p, np.ndarray) or is_device_array(p)):
                raise TypeError(f"params[{k}] must be an ndarray updated in place, got {type(p).__name__}")
            if array_dtype(p) not in FLOAT_DTYPES:
                raise TypeError(f"params[{k}] must have dtype float32 or float64, got {array_dtype(p).name}")
            self.params.append(as_output(p, f"params[{k}]", dtype=array_dtype(p), shape=tuple(p.shape)))
        self.lr = check_positive(lr, "lr")
        self.backend = backend
        self.steps = 0
        self.state = {name: [self._zeros_like(p) for p in self.params] for name in self._state_names}

    @staticmethod
    def _zeros_like(p):
        if isinstance(p, np.ndarray):
            return np.zeros_like(p)
        from numba import cuda

        return cuda.to_device(np.zeros(tuple(p.shape), p.dtype))

    def _check_grads(self, grads):
        if isinstance(grads, np.ndarray) or is_device_array(grads):
            grads = [grads]
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"grads must hold {len(self.params)} arrays (one per parameter), got {len(grads)}")
        out = []
        for k, (p, g) in enumerate(zip(self.params, grads)):
            g = as_array(g, f"grads[{k}]", dtypes=(array_dtype(p),), shape=tuple(p.shape))
            out.append(g)
        return out

    def step(self, grads):
        """Apply one update with ``grads`` (one array per parameter, same shapes and dtypes)."""
        grads = self._check_grads(grads)
        self.steps += 1
        for k, (p, g) in enumerate(zip(self.params, grads)):
            be = resolve_backend(self.backend, work=p.size, arrays=(p, g))
            state = [self.state[name][k] for name in self._state_names]
            if p.size == 0:
                continue
            if be == "cuda":
                load_cuda("fastkernels.nn._optim_cuda").step(self._kind, p, g, state, self._scalars())
            else:
                self._kernel[be](_flat(p), _flat(g), *(_flat(s) for s in state), *self._scalars())


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, L2 and L1 decay.

    Parameters
    ----------
    params, lr, backend
        See :class:`Optimizer`.
    momentum : float in [0, 1)
        ``mu``; 0.9 is the seed's suggestion (line 2008), 0 is plain SGD.
    nesterov : bool
        Nesterov momentum (needs ``momentum > 0``).
    weight_decay : float
        L2 coefficient ``wd`` (gradient ``wd p``: the seed's ``(1 - lr wd) p`` decay).
    l1 : float
        L1 coefficient (gradient ``l1 sign(p)``).
    """

    _state_names = ("velocity",)
    _kind = "sgd"
    _kernel = _sgd

    def __init__(self, params, lr=0.01, *, momentum=0.0, nesterov=False, weight_decay=0.0, l1=0.0, backend="auto"):
        self.momentum = check_scalar(momentum, "momentum", lo=0.0, hi=1.0, hi_open=True)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)
        self.weight_decay = check_scalar(weight_decay, "weight_decay", lo=0.0)
        self.l1 = check_scalar(l1, "l1", lo=0.0)
        super().__init__(params, lr, backend)

    def _scalars(self):
        return (self.lr, self.momentum, self.nesterov, self.weight_decay, self.l1)


class RMSprop(Optimizer):
    """RMSprop: ``r = rho r + (1 - rho) g^2``, ``p -= lr g / (sqrt(r) + eps)`` (torch's defaults)."""

    _state_names = ("square_avg",)
    _kind = "rmsprop"
    _kernel = _rmsprop

    def __init__(self, params, lr=0.01, *, rho=0.99, eps=1e-8, weight_decay=0.0, l1=0.0, backend="auto"):
        self.rho = check_scalar(rho, "rho", lo=0.0, hi=1.0, hi_open=True)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_scalar(weight_decay, "weight_decay", lo=0.0)
        self.l1 = check_scalar(l1, "l1", lo=0.0)
        super().__init__(params, lr, backend)

    def _scalars(self):
        return (self.lr, self.rho, self.eps, self.weight_decay, self.l1)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; ``weight_decay`` is L2 (added to g)."""

    _state_names = ("exp_avg", "exp_avg_sq")
    _kind = "adam"
    _kernel = _adam
    _decoupled = False

    def __init__(self, params, lr=1e-3, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, l1=0.0, backend="auto"):
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = check_scalar(betas[0], "betas[0]", lo=0.0, hi=1.0, hi_open=True)
        self.beta2 = check_scalar(betas[1], "betas[1]", lo=0.0, hi=1.0, hi_open=True)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_scalar(weight_decay, "weight_decay", lo=0.0)
        self.l1 = check_scalar(l1, "l1", lo=0.0)
        super().__init__(params, lr, backend)

    def _scalars(self):
        t = self.steps
        c1, c2 = 1 - self.beta1**t, 1 - self.beta2**t
        if self._decoupled:
            return (self.lr, self.beta1, self.beta2, self.eps, c1, c2, 0.0, self.l1, 1 - self.lr * self.weight_decay)
        return (self.lr, self.beta1, self.beta2, self.eps, c1, c2, self.weight_decay, self.l1, 1.0)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr wd`` before the Adam step."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, l1=0.0, backend="auto"):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay, l1=l1, backend=backend)


def clip_grad_norm(grads, max_norm):
    """Scale ``grads`` in place so their global L2 norm is at most ``max_norm``.

    Seed 002 line 3182: if ``||g|| > eta`` then ``g <- eta g / ||g||``, the direction kept.

    Parameters
    ----------
    grads : ndarray or sequence of ndarray
        Host gradient arrays (float32/float64, C-contiguous, writeable).
    max_norm : float
        ``eta`` > 0.

    Returns
    -------
    float
        The global norm before clipping (NaN or inf if a gradient holds one; then
        nothing is scaled).
    """
    if isinstance(grads, np.ndarray):
        grads = [grads]
    checked = []
    for k, g in enumerate(grads):
        if not isinstance(g, np.ndarray) or g.dtype not in FLOAT_DTYPES:
            raise TypeError(f"grads[{k}] must be a float32 or float64 ndarray (scaled in place)")
        checked.append(as_output(g, f"grads[{k}]", dtype=g.dtype, shape=g.shape))
    grads = checked
    max_norm = check_positive(max_norm, "max_norm")
    total = math.sqrt(sum(_sum_squares(_flat(g)) for g in grads if g.size))
    if math.isfinite(total) and total > max_norm:
        c = max_norm / total
        for g in grads:
            if g.size:
                _scale_in_place(_flat(g), g.dtype.type(c))
    return total


SCHEDULES = ("constant", "step", "exponential", "cosine")


def lr_schedule(kind, base_lr, epoch, *, step_size=10, gamma=0.1, tau=None, total_epochs=None, min_lr=0.0):
    """Learning rate at ``epoch`` (0-based) under a schedule.

    Parameters
    ----------
    kind : {"constant", "step", "exponential", "cosine"}
        ``step``: ``base_lr * gamma ** (epoch // step_size)``; ``exponential``:
        ``base_lr * exp(-epoch / tau)`` (seed 002 line 2018) or, without ``tau``,
        ``base_lr * gamma ** epoch``; ``cosine``: from ``base_lr`` down to ``min_lr``
        over ``total_epochs`` (``min_lr + (base_lr - min_lr)(1 + cos(pi epoch / T)) / 2``).
    base_lr : float
        > 0.
    epoch : int
        >= 0.

    Returns
    -------
    float
    """
    check_choice(kind, "kind", SCHEDULES)
    base_lr = check_positive(base_lr, "base_lr")
    epoch = check_scalar(epoch, "epoch", integer=True, lo=0)
    if kind == "constant":
        return base_lr
    if kind == "step":
        step_size = check_scalar(step_size, "step_size", integer=True, lo=1)
        return base_lr * check_scalar(gamma, "gamma", lo=0.0) ** (epoch // step_size)
    if kind == "exponential":
        if tau is not None:
            return base_lr * math.exp(-epoch / check_positive(tau, "tau"))
        return base_lr * check_scalar(gamma, "gamma", lo=0.0) ** epoch
    if total_epochs is None:
        raise ValueError("the cosine schedule needs total_epochs")
    total_epochs = check_scalar(total_epochs, "total_epochs", integer=True, lo=1)
    min_lr = check_scalar(min_lr, "min_lr", lo=0.0, hi=base_lr)
    t = min(epoch, total_epochs)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_epochs)) / 2
