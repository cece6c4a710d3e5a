"""The optimizer base class: parameter and gradient validation, per-parameter state, the
overlap checks between gradients and what a step writes, hyper-parameter re-checks, and
the step's dispatch to a rule's kernels (:mod:`fastkernels.nn.optim` defines the rules)."""

from __future__ import annotations

import bisect
import operator
import weakref

import numpy as np

from .._backend import is_device_array, load_cuda, resolve_backend
from .._outputs import as_output, check_disjoint, check_no_overlap, host_span
from .._validate import FLOAT_DTYPES, array_dtype, as_array, check_positive
from ._checks import check_sequence


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
