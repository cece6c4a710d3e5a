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

import bisect
import math
import operator
import weakref

import numpy as np
from numba import prange

from .._backend import is_device_array, load_cuda, resolve_backend
from .._jit import FASTMATH, cpu_kernels, device, jit
from .._validate import (
    FLOAT_DTYPES,
    INT64_MAX,
    array_dtype,
    as_array,
    as_output,
    check_choice,
    check_disjoint,
    check_flag,
    check_no_overlap,
    check_positive,
    check_scalar,
    host_span,
)
from ._checks import check_sequence


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


def _owner(a):
    """The ndarray that owns ``a``'s memory (following views), or None when the chain ends in
    something else (a memory map, a foreign buffer, a device array): then only byte spans tell."""
    if not isinstance(a, np.ndarray):
        return None
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a if a.base is None else None


#: Byte spans of each optimizer's parameters and state (see ``Optimizer._written_spans``); kept
#: outside the instances so that they never travel with a pickled or copied optimizer.
_WRITTEN_SPANS = weakref.WeakKeyDictionary()


class Optimizer:
    """Base class: validates the parameter list and owns per-parameter state.

    Parameters
    ----------
    params : sequence of ndarray
        Float32 or float64 arrays, C-contiguous and writeable, updated in place
        (never copied), no two sharing memory. One flat buffer holding every parameter
        is fastest.
    lr : float
        Learning rate (> 0); may be changed between steps (schedules).
    backend : {"auto", "cpu", "parallel", "cuda"}
        "cuda" needs device arrays (or copies host ones each step).

    Raises
    ------
    TypeError
        ``params`` not an array or a sequence of arrays, an array not float32/float64, a
        hyper-parameter of the wrong type.
    ValueError
        No arrays, a read-only or strided array, two arrays sharing memory, a
        hyper-parameter out of range, an unknown backend (or "cuda" without a GPU).

    Hyper-parameters are attributes (``lr``, ``momentum``, ``betas`` as ``beta1``/``beta2``,
    ...) that may be changed between steps; :meth:`step` re-checks them when they change.
    """

    _state_names: tuple = ()
    _hyper_names: tuple = ()  # attributes re-checked before a step (besides lr)

    def __init__(self, params, lr, backend="auto"):
        if isinstance(params, np.ndarray) or is_device_array(params):
            params = [params]
        params = check_sequence(params, "params")
        if not params:
            raise ValueError("params must hold at least one array")
        checked = []
        for k, p in enumerate(params):
            if not (isinstance(p, np.ndarray) or is_device_array(p)):
                raise TypeError(f"params[{k}] must be an ndarray updated in place, got {type(p).__name__}")
            if array_dtype(p) not in FLOAT_DTYPES:
                raise TypeError(f"params[{k}] must have dtype float32 or float64, got {array_dtype(p).name}")
            checked.append(as_output(p, f"params[{k}]", dtype=array_dtype(p), shape=tuple(p.shape)))
        # a shared element would be updated twice per step
        check_no_overlap(checked, [f"params[{k}]" for k in range(len(checked))])
        lr = check_positive(lr, "lr")
        resolve_backend(backend, arrays=checked)  # an unknown name or a missing GPU fails here, not mid-step
        self.params = checked
        self.lr = lr
        self.backend = backend
        self.steps = 0
        self.state = {name: [self._zeros_like(p) for p in self.params] for name in self._state_names}
        self._checked = self._hyper_values()

    @staticmethod
    def _zeros_like(p):
        if isinstance(p, np.ndarray):
            return np.zeros_like(p)
        from numba import cuda

        return cuda.to_device(np.zeros(tuple(p.shape), p.dtype))

    def _check_grads(self, grads):
        if isinstance(grads, np.ndarray) or is_device_array(grads):
            grads = [grads]
        grads = check_sequence(grads, "grads")
        if len(grads) != len(self.params):
            raise ValueError(f"grads must hold {len(self.params)} arrays (one per parameter), got {len(grads)}")
        out = []
        for k, (p, g) in enumerate(zip(self.params, grads)):
            g = as_array(g, f"grads[{k}]", dtypes=(array_dtype(p),), shape=tuple(p.shape))
            out.append(g)
        self._check_grads_disjoint(out)
        return out

    def _written(self):
        """(array, tag) of everything a step writes: parameters and state. Names are built from
        the tags only for an error message."""
        out = [(p, ("params", k)) for k, p in enumerate(self.params)]
        for name in self._state_names:
            out += [(a, ("state", name, k)) for k, a in enumerate(self.state[name])]
        return out

    def _exact_overlap_checks(self, grads):
        """The exact (and named) check of every gradient against every written array: raises
        on a true overlap (interleaved views that never touch the same element pass)."""
        for k, g in enumerate(grads):
            for a, tag in self._written():
                check_disjoint(g, f"grads[{k}]", **{self._name(tag): a})

    @staticmethod
    def _name(tag):
        return f"params[{tag[1]}]" if tag[0] == "params" else f"state[{tag[1]!r}][{tag[2]}]"

    def _check_grads_disjoint(self, grads):
        """Refuse a gradient that shares memory with a parameter or the state (the update
        would read values it has already overwritten)."""
        params, state = self.params, self.state
        if len(grads) * len(params) * (1 + len(self._state_names)) <= 64:  # the usual case: pairwise, in C
            may = np.may_share_memory
            for g in grads:
                if not isinstance(g, np.ndarray):
                    return self._exact_overlap_checks(grads)
                for a in params:
                    if not isinstance(a, np.ndarray) or may(g, a):
                        return self._exact_overlap_checks(grads)
                for name in self._state_names:
                    for a in state[name]:
                        if not isinstance(a, np.ndarray) or may(g, a):
                            return self._exact_overlap_checks(grads)
            return None
        # many arrays: the written arrays' owners and byte spans (mutually disjoint, so sorted by
        # start they are sorted by end too) are cached per optimizer. A gradient whose memory
        # belongs to an ndarray that owns no written array cannot overlap one (the common case:
        # a few attribute reads); anything else is a binary search over the spans.
        owners, los, his, spans = self._written_spans()
        for k, g in enumerate(grads):
            if g.size == 0:
                continue
            owner = _owner(g)
            if owner is not None and owners is not None and id(owner) not in owners:
                continue
            span = host_span(g)
            if span is None:  # a device gradient: exact checks
                for a, tag in self._written():
                    check_disjoint(g, f"grads[{k}]", **{self._name(tag): a})
                continue
            lo, hi = span
            i = bisect.bisect_right(his, lo)
            while i < len(los) and los[i] < hi:
                _, tag, a = spans[i]
                check_disjoint(g, f"grads[{k}]", **{self._name(tag): a})
                i += 1

    def _written_spans(self):
        state = self.state
        key = (*map(id, self.params), *(id(a) for name in self._state_names for a in state[name]))
        hit = _WRITTEN_SPANS.get(self)
        if hit is None or hit[0] != key:
            written = self._written()
            spans = sorted(((span, tag, a) for a, tag in written if a.size
                            for span in [host_span(a)] if span is not None), key=lambda t: t[0][0])
            owners = [_owner(a) for a, _ in written if a.size]
            owner_ids = None if any(o is None for o in owners) else {id(o) for o in owners}
            # the cache holds the arrays and their owners, so these ids stay theirs while cached
            hit = (key, owner_ids, [t[0][0] for t in spans], [t[0][1] for t in spans], spans, owners)
            _WRITTEN_SPANS[self] = hit
        return hit[1:5]

    _hyper_get = staticmethod(lambda self: (self.lr,))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._hyper_get = staticmethod(operator.attrgetter("lr", *cls._hyper_names))

    def _hyper_values(self):
        return self._hyper_get(self)

    def _validated_hyper(self) -> dict:
        """The hyper-parameters besides ``lr``, checked and normalised (nothing assigned)."""
        return {}

    def _ensure_hyper(self):
        """Re-check the hyper-parameters when one was reassigned since the last check (a user or
        a schedule may set ``opt.lr``; compared by identity: cheap, and safe for any object).
        Everything is checked before anything is assigned."""
        if not all(map(operator.is_, self._hyper_get(self), self._checked)):
            lr = check_positive(self.lr, "lr")
            values = self._validated_hyper()
            self.lr = lr
            self.__dict__.update(values)
            self._checked = self._hyper_values()

    def step(self, grads):
        """Apply one update with ``grads`` (one array per parameter, same shapes and dtypes).

        Parameters
        ----------
        grads : ndarray or sequence of ndarray
            One per parameter, of its shape and dtype. A gradient may not share memory
            with a parameter or the optimizer state. NaN or inf in a gradient reaches its
            parameters (as torch); check or clip first (:func:`clip_grad_norm` reports it).

        Raises
        ------
        TypeError
            ``grads`` not a sequence of arrays, or of the wrong dtype.
        ValueError
            Wrong count or shapes, a gradient sharing memory with what the step writes, a
            hyper-parameter (``lr``...) changed to an invalid value. Nothing is updated and
            :attr:`steps` is not counted when the call raises.
        """
        grads = self._check_grads(grads)
        self._ensure_hyper()
        backends = [resolve_backend(self.backend, work=p.size, arrays=(p, g)) for p, g in zip(self.params, grads)]
        self.steps += 1
        for k, (p, g, be) in enumerate(zip(self.params, grads, backends)):
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
    step_size : int
        >= 1.
    gamma : float
        >= 0, finite.
    tau : float, optional
        > 0.
    total_epochs : int, optional
        >= 1; required by ``cosine``.
    min_lr : float
        In [0, base_lr].

    Every argument is checked whatever ``kind`` reads.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        An argument of the wrong type (a float epoch, a string rate).
    ValueError
        Unknown ``kind``, an argument out of its range, ``cosine`` without ``total_epochs``,
        or a rate that overflows (``gamma > 1`` over many epochs).
    """
    check_choice(kind, "kind", SCHEDULES)
    base_lr = check_positive(base_lr, "base_lr")
    epoch = check_scalar(epoch, "epoch", integer=True, lo=0, hi=INT64_MAX)
    step_size = check_scalar(step_size, "step_size", integer=True, lo=1, hi=INT64_MAX)
    gamma = check_scalar(gamma, "gamma", lo=0.0)
    if tau is not None:
        tau = check_positive(tau, "tau")
    if total_epochs is not None:
        total_epochs = check_scalar(total_epochs, "total_epochs", integer=True, lo=1, hi=INT64_MAX)
    min_lr = check_scalar(min_lr, "min_lr", lo=0.0, hi=base_lr)
    if kind == "cosine" and total_epochs is None:
        raise ValueError("the cosine schedule needs total_epochs")
    try:
        if kind == "constant":
            lr = base_lr
        elif kind == "step":
            lr = base_lr * gamma ** (epoch // step_size)
        elif kind == "exponential":
            lr = base_lr * (math.exp(-epoch / tau) if tau is not None else gamma ** epoch)
        else:
            t = min(epoch, total_epochs)
            lr = min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_epochs)) / 2
    except OverflowError:  # an epoch count beyond float range: the decay has reached its limit
        if kind == "exponential" and tau is not None or kind != "cosine" and gamma < 1:
            lr = 0.0
        elif kind != "cosine" and gamma == 1:
            lr = base_lr
        else:
            lr = math.inf
    if not math.isfinite(lr):
        raise ValueError(f"the {kind} schedule overflows at epoch {epoch} (gamma={gamma!r}, base_lr={base_lr!r}): "
                         "the learning rate would be infinite")
    return lr
