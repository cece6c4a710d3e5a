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

from numba import prange

from .._jit import cpu_kernels
from .._scalar import adam_element, rmsprop_element, sgd_element
from .._validate import check_flag, check_positive, check_scalar
from ._checks import check_sequence
from ._optimizer import Optimizer
from .clipping import clip_grad_norm
from .schedules import SCHEDULES, lr_schedule

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "clip_grad_norm", "lr_schedule", "SCHEDULES"]


# CPU kernels: one prange loop per rule over the flat arrays; the update rules are
# fastkernels._scalar's, which the CUDA twins in _optim_cuda.py and the compiled MLP
# epoch (_mlp_epoch.py) call too.


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
    _hyper_names = ("momentum", "nesterov", "weight_decay", "l1")
    _kind = "sgd"
    _kernel = _sgd

    def __init__(self, params, lr=0.01, *, momentum=0.0, nesterov=False, weight_decay=0.0, l1=0.0, backend="auto"):
        self.momentum, self.nesterov, self.weight_decay, self.l1 = momentum, nesterov, weight_decay, l1
        self.__dict__.update(self._validated_hyper())
        super().__init__(params, lr, backend)

    def _validated_hyper(self):
        momentum = check_scalar(self.momentum, "momentum", lo=0.0, hi=1.0, hi_open=True)
        nesterov = check_flag(self.nesterov, "nesterov")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        return {"momentum": momentum, "nesterov": nesterov,
                "weight_decay": check_scalar(self.weight_decay, "weight_decay", lo=0.0),
                "l1": check_scalar(self.l1, "l1", lo=0.0)}

    def _scalars(self):
        return (self.lr, self.momentum, self.nesterov, self.weight_decay, self.l1)


class RMSprop(Optimizer):
    """RMSprop: ``r = rho r + (1 - rho) g^2``, ``p -= lr g / (sqrt(r) + eps)`` (torch's defaults)."""

    _state_names = ("square_avg",)
    _hyper_names = ("rho", "eps", "weight_decay", "l1")
    _kind = "rmsprop"
    _kernel = _rmsprop

    def __init__(self, params, lr=0.01, *, rho=0.99, eps=1e-8, weight_decay=0.0, l1=0.0, backend="auto"):
        self.rho, self.eps, self.weight_decay, self.l1 = rho, eps, weight_decay, l1
        self.__dict__.update(self._validated_hyper())
        super().__init__(params, lr, backend)

    def _validated_hyper(self):
        return {"rho": check_scalar(self.rho, "rho", lo=0.0, hi=1.0, hi_open=True),
                "eps": check_positive(self.eps, "eps"),
                "weight_decay": check_scalar(self.weight_decay, "weight_decay", lo=0.0),
                "l1": check_scalar(self.l1, "l1", lo=0.0)}

    def _scalars(self):
        return (self.lr, self.rho, self.eps, self.weight_decay, self.l1)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; ``weight_decay`` is L2 (added to g)."""

    _state_names = ("exp_avg", "exp_avg_sq")
    _hyper_names = ("beta1", "beta2", "eps", "weight_decay", "l1")
    _kind = "adam"
    _kernel = _adam
    _decoupled = False

    def __init__(self, params, lr=1e-3, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, l1=0.0, backend="auto"):
        self.beta1, self.beta2 = check_sequence(betas, "betas", length=2)
        self.eps, self.weight_decay, self.l1 = eps, weight_decay, l1
        self.__dict__.update(self._validated_hyper())
        super().__init__(params, lr, backend)

    def _validated_hyper(self):
        return {"beta1": check_scalar(self.beta1, "betas[0]", lo=0.0, hi=1.0, hi_open=True),
                "beta2": check_scalar(self.beta2, "betas[1]", lo=0.0, hi=1.0, hi_open=True),
                "eps": check_positive(self.eps, "eps"),
                "weight_decay": check_scalar(self.weight_decay, "weight_decay", lo=0.0),
                "l1": check_scalar(self.l1, "l1", lo=0.0)}

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
