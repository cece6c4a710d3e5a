"""Synapse storage: CSR by presynaptic neuron (the rules that build it are in :mod:`.rules`).

A :class:`Connectivity` holds the synapses of one projection from ``n_pre`` presynaptic to
``n_post`` postsynaptic neurons: ``indptr`` (``n_pre + 1``, int64), ``post`` (int32, sorted
ascending within each row), ``weight`` (float32 or float64) and an optional ``delay`` (float64,
ms). Synapse ``s`` of row ``i`` (``indptr[i] <= s < indptr[i + 1]``) goes from ``i`` to
``post[s]``; ``i``/``j`` give the pairs as Brian2's ``S.i``/``S.j`` do.

Building is a host-side, one-off job (count and fill passes compiled with Numba, serial or
``prange``): there is no CUDA builder, and the same structure serves every simulation backend
(a CUDA run copies the arrays to the device once). Random rules draw from the package's
counter-based streams, one stream per row, so a seed gives the same synapses on ``"cpu"`` and
``"parallel"`` with any thread count.

Builders: :meth:`Connectivity.from_dense`, :meth:`Connectivity.from_arrays` and the rules
:func:`all_to_all`, :func:`one_to_one`, :func:`neighbourhood`, :func:`bernoulli`,
:func:`fixed_out_degree`, :func:`fixed_in_degree`, :func:`gaussian_distance`.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import (
    FLOAT_DTYPES,
    as_array,
    as_index_array,
    cast_float,
    check_allocation,
    check_dtype,
    check_finite,
    check_positive,
    check_scalar,
)

__all__ = ["MAX_NEURONS", "Connectivity"]

#: Largest population: neuron ids are stored as int32.
MAX_NEURONS = 2**31 - 1
#: Largest delay in steps that :meth:`Connectivity.delay_steps` returns (int32).
MAX_DELAY_STEPS = 2**31 - 1
#: Bound on positions and Gaussian widths, so squared distances and ``1 / (2 sigma^2)`` stay finite.
MAX_LENGTH = 1e150


class Connectivity:
    """The synapses of one projection, stored by presynaptic neuron (CSR).

    The structure (``indptr``, ``post``, ``n_pre``, ``n_post``) is fixed and its arrays are
    read-only; ``weight`` and ``delay`` are writeable NumPy arrays the user may change in place
    (``conn.weight[:] = 0.2 * conn.j``) or assign whole (``conn.weight = 0.5``: validated, then
    written into the same array). Values written in place are re-checked by what reads them
    (:meth:`delay_steps` refuses negative or non-finite delays).

    Parameters
    ----------
    indptr : array_like of int, shape (n_pre + 1,)
        Row starts: ``indptr[0] == 0``, non-decreasing, ``indptr[-1] == len(post)``.
    post : array_like of int, shape (n_synapses,)
        Postsynaptic ids in ``[0, n_post)``, ascending within each row (repeats allowed: several
        synapses between one pair, as Brian2's ``connect(n=2)``).
    weight : float or array_like of float, shape (n_synapses,)
        Synaptic weights (any unit the model gives them), finite.
    delay : None, float or array_like of float, shape (n_synapses,)
        Delays in ms, finite and ``>= 0``; ``None``: no delays (all 0, nothing stored).
    n_post : int
        Size of the postsynaptic population, ``0 <= n_post <= 2**31 - 1``.
    dtype : {float32, float64}
        dtype of the stored weights.

    The arrays are copied (the structure must not change behind the object's back).

    Examples
    --------
    >>> from fastkernels.networks import Connectivity
    >>> c = Connectivity([0, 2, 2, 3], [1, 2, 0], weight=[0.2, 0.4, 1.0], n_post=3)
    >>> c.n_synapses, c.i.tolist(), c.j.tolist()
    (3, [0, 0, 2], [1, 2, 0])
    >>> c.to_dense()
    array([[0. , 0. , 1. ],
           [0.2, 0. , 0. ],
           [0.4, 0. , 0. ]])
    """

    __slots__ = ("_delay", "_indptr", "_n_post", "_post", "_weight")

    def __init__(self, indptr, post, weight=1.0, delay=None, *, n_post, dtype=np.float64):
        n_post = population(n_post, "n_post")
        dtype = check_dtype(dtype)
        post = as_index_array(post, "post", n=n_post, ndim=1)
        indptr = as_index_array(indptr, "indptr", n=post.size + 1, ndim=1)  # entries in [0, len(post)]
        if indptr.size == 0:
            raise ValueError("indptr must have n_pre + 1 >= 1 entries, got an empty array")
        if indptr.size - 1 > MAX_NEURONS:
            raise ValueError(f"indptr describes {indptr.size - 1} presynaptic neurons, more than {MAX_NEURONS}")
        if indptr[0] != 0 or indptr[-1] != post.size:
            raise ValueError(f"indptr must start at 0 and end at len(post) = {post.size}, "
                             f"got {int(indptr[0])} and {int(indptr[-1])}")
        steps = np.diff(indptr)
        if (steps < 0).any():
            r = int(np.argmax(steps < 0))
            raise ValueError(f"indptr must be non-decreasing; indptr[{r + 1}] = {int(indptr[r + 1])} "
                             f"< indptr[{r}] = {int(indptr[r])}")
        down = np.diff(post) < 0
        down[indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < post.size)] - 1] = False  # row starts
        if down.any():
            s = int(np.argmax(down)) + 1
            raise ValueError(f"post must be ascending within each row; post[{s}] = {int(post[s])} "
                             f"follows {int(post[s - 1])} (sort each row, or use Connectivity.from_arrays)")
        w = weight_values(weight, post.size, dtype)
        d = delay_values(delay, post.size)
        self._init(indptr.astype(np.int64), post.astype(np.int32), materialise(w, post.size, dtype),
                   materialise(d, post.size, np.float64), n_post)

    def _init(self, indptr, post, weight, delay, n_post):
        indptr.setflags(write=False)
        post.setflags(write=False)
        self._indptr, self._post, self._weight, self._delay, self._n_post = indptr, post, weight, delay, n_post

    @classmethod
    def _make(cls, indptr, post, weight, delay, n_post):
        """Wrap arrays a builder made (already valid and owned): no checks, no copies."""
        obj = cls.__new__(cls)
        obj._init(indptr, post, weight, delay, n_post)
        return obj

    # -- structure ---------------------------------------------------------------------------

    @property
    def n_pre(self) -> int:
        """Size of the presynaptic population."""
        return self._indptr.size - 1

    @property
    def n_post(self) -> int:
        """Size of the postsynaptic population."""
        return self._n_post

    @property
    def n_synapses(self) -> int:
        """Number of synapses."""
        return self._post.size

    def __len__(self) -> int:
        return self._post.size

    @property
    def indptr(self) -> np.ndarray:
        """Row starts, shape (n_pre + 1,), int64, read-only."""
        return self._indptr

    @property
    def post(self) -> np.ndarray:
        """Postsynaptic id of each synapse, shape (n_synapses,), int32, read-only."""
        return self._post

    @property
    def j(self) -> np.ndarray:
        """Postsynaptic ids (Brian2's ``S.j``): :attr:`post` itself."""
        return self._post

    @property
    def i(self) -> np.ndarray:
        """Presynaptic id of each synapse (Brian2's ``S.i``), shape (n_synapses,), int32: a new
        array on each access (4 bytes per synapse)."""
        return np.repeat(np.arange(self.n_pre, dtype=np.int32), np.diff(self._indptr))

    def out_degree(self) -> np.ndarray:
        """Synapses leaving each presynaptic neuron, shape (n_pre,), int64."""
        return np.diff(self._indptr)

    def in_degree(self) -> np.ndarray:
        """Synapses reaching each postsynaptic neuron, shape (n_post,), int64."""
        return np.bincount(self._post, minlength=self._n_post).astype(np.int64, copy=False)

    # -- values ------------------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """dtype of the weights (float32 or float64)."""
        return self._weight.dtype

    @property
    def weight(self) -> np.ndarray:
        """Weights, shape (n_synapses,), writeable in place; assigning validates the value (a
        finite scalar or array of that shape) and writes it into this same array."""
        return self._weight

    @weight.setter
    def weight(self, value):
        self._weight[...] = materialise(weight_values(value, self.n_synapses, self.dtype, "weight"),
                                         self.n_synapses, self.dtype)

    @property
    def delay(self):
        """Delays in ms, shape (n_synapses,), float64, writeable in place; ``None`` when the
        projection has no delays. Assign a scalar or array (finite, ``>= 0``) to set them (into
        the same array when there is one) or ``None`` to drop them."""
        return self._delay

    @delay.setter
    def delay(self, value):
        d = delay_values(value, self.n_synapses)
        if d is None:
            self._delay = None
        elif self._delay is None:
            self._delay = materialise(d, self.n_synapses, np.float64)
        else:
            self._delay[...] = d

    def delay_steps(self, dt) -> np.ndarray:
        """Per-synapse delay in whole steps of ``dt``, rounded as Brian2 rounds it.

        Brian2's spike queue (``brian2/synapses/spikequeue.h``, ``SpikeQueue::prepare``) takes
        ``(int)(delay / dt + 0.5)`` with both times in seconds: round half up. The same is done
        here on ``(delay * 1e-3) / (dt * 1e-3)``, so the tie cases that binary fractions split
        (0.35 ms at dt = 0.1 ms is 3.4999... in ms but 3.5 in seconds) round as in Brian2: 0.05 ms
        -> 1 step, 0.15 ms -> 1, 0.25 ms -> 3, 0.35 ms -> 4 at dt = 0.1 ms.

        Parameters
        ----------
        dt : float
            Time step in ms, ``> 0``.

        Returns
        -------
        ndarray of int32, shape (n_synapses,)
            Zeros when the projection has no delays.

        Raises
        ------
        TypeError
            ``dt`` not a real number.
        ValueError
            ``dt <= 0`` or too small to express in seconds; a stored delay (changed in place)
            negative or non-finite; a delay of ``2**31 - 1`` steps or more.
        """
        dt = check_positive(dt, "dt")
        if dt * 1e-3 == 0.0:
            raise ValueError(f"dt must be at least 1e-300 ms, got {dt!r}")
        if self._delay is None:
            return np.zeros(self.n_synapses, dtype=np.int32)
        check_delay_array(self._delay, "delay")
        with np.errstate(over="ignore"):
            q = (self._delay * 1e-3) / (dt * 1e-3) + 0.5
        if q.size and q.max() >= MAX_DELAY_STEPS:
            s = int(np.argmax(q))
            raise ValueError(f"delay[{s}] = {self._delay[s]!r} ms is {q[s] - 0.5:.4g} steps of dt = {dt!r} ms, "
                             f"more than {MAX_DELAY_STEPS - 1}")
        return q.astype(np.int32)  # truncation: q >= 0.5

    # -- memory and export -------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Bytes held by ``indptr``, ``post``, ``weight`` and ``delay``."""
        d = 0 if self._delay is None else self._delay.nbytes
        return self._indptr.nbytes + self._post.nbytes + self._weight.nbytes + d

    @property
    def bytes_per_synapse(self) -> float:
        """:attr:`nbytes` / :attr:`n_synapses` (NaN without synapses): 8 for int32 posts and
        float32 weights, 12 with float64 weights, +8 with delays, plus ``8 (n_pre + 1)`` spread."""
        return self.nbytes / self.n_synapses if self.n_synapses else math.nan

    def to_dense(self, values="weight") -> np.ndarray:
        """The projection as a dense matrix ``W[post, pre]`` (the package's layout for synaptic
        weights, so ``W @ r_pre`` is the input each postsynaptic neuron receives).

        Parameters
        ----------
        values : {"weight", "count"} or array_like of float, shape (n_synapses,)
            What each synapse adds to its entry: its weight, 1 (number of synapses per pair, int64)
            or a value of the given array. Repeated pairs are summed.

        Returns
        -------
        ndarray, shape (n_post, n_pre)

        Raises
        ------
        TypeError, ValueError
            A ``values`` of the wrong kind, dtype or shape; a matrix larger than memory.
        """
        if isinstance(values, str):
            if values not in ("weight", "count"):
                raise ValueError(f"values must be 'weight', 'count' or an array, got {values!r}")
            vals = self._weight if values == "weight" else np.ones(self.n_synapses, dtype=np.int64)
        else:
            vals = as_array(values, "values", dtypes=FLOAT_DTYPES, shape=(self.n_synapses,))
        check_allocation(self.n_post * self.n_pre, vals.dtype.itemsize, "n_post * n_pre", what="matrix entries")
        dense = np.zeros((self.n_post, self.n_pre), dtype=vals.dtype)
        np.add.at(dense, (self._post, self.i), vals)
        return dense

    def __repr__(self) -> str:
        d = "no delays" if self._delay is None else "delays"
        return (f"Connectivity(n_pre={self.n_pre}, n_post={self.n_post}, n_synapses={self.n_synapses}, "
                f"weight {self.dtype.name}, {d})")

    # -- builders from explicit synapses -----------------------------------------------------

    @classmethod
    def from_dense(cls, W, *, mask=None, delay=None):
        """Synapses from a dense matrix ``W[post, pre]`` (the layout of :meth:`to_dense`).

        Parameters
        ----------
        W : array_like of float32 or float64, shape (n_post, n_pre)
            Weights, finite; ``W[j, i]`` is the weight of the synapse ``i -> j``. The weights keep
            ``W``'s dtype.
        mask : None or array_like of bool, shape (n_post, n_pre)
            Where synapses exist; ``None``: where ``W != 0`` (with a mask, zero weights are
            synapses too).
        delay : None, float or array_like of float, shape (n_post, n_pre)
            Delays in ms, finite and ``>= 0`` where a synapse exists (other entries are not read).

        Returns
        -------
        Connectivity

        Raises
        ------
        TypeError
            ``W`` not float32/float64, ``mask`` not bool, ``delay`` not a float.
        ValueError
            Wrong shapes, non-finite weights, negative or non-finite delays at synapses, more
            than ``2**31 - 1`` neurons on an axis, more synapses than memory holds.

        Examples
        --------
        >>> import numpy as np
        >>> from fastkernels.networks import Connectivity
        >>> c = Connectivity.from_dense(np.array([[0.0, 0.5], [2.0, 0.0]]))
        >>> c.i.tolist(), c.j.tolist(), c.weight.tolist()
        ([0, 1], [1, 0], [2.0, 0.5])
        """
        W = as_array(W, "W", ndim=2, finite=True)
        n_post, n_pre = W.shape
        for n, name in ((n_post, "W.shape[0] (n_post)"), (n_pre, "W.shape[1] (n_pre)")):
            if n > MAX_NEURONS:
                raise ValueError(f"{name} must be <= {MAX_NEURONS}, got {n}")
        if mask is None:
            sel = W.T != 0
        else:
            sel = as_array(mask, "mask", dtypes=(np.bool_,), shape=W.shape).T
        if delay is not None and not is_scalar(delay):
            delay = as_array(delay, "delay", dtypes=(np.float64, np.float32), shape=W.shape)
        n_syn = int(np.count_nonzero(sel))
        check_allocation(n_syn, 4 + W.dtype.itemsize + 16 + (8 if delay is not None else 0), "W",
                         what="synapses")
        pre, post = np.nonzero(sel)  # ascending by pre, then post
        d = delay
        if delay is not None and not is_scalar(delay):
            d = np.ascontiguousarray(delay.T[pre, post], dtype=np.float64)
            check_delay_array(d, "delay", where=lambda s: f"[{int(post[s])}, {int(pre[s])}]")
        d = delay_values(d, n_syn)
        indptr = np.zeros(n_pre + 1, dtype=np.int64)
        np.cumsum(np.count_nonzero(sel, axis=1), out=indptr[1:])
        weight = np.ascontiguousarray(W.T[pre, post])
        return cls._make(indptr, post.astype(np.int32), weight, materialise(d, n_syn, np.float64), n_post)

    @classmethod
    def from_arrays(cls, i, j, weight=1.0, delay=None, *, n_pre, n_post, dtype=np.float64):
        """Synapses from pairs ``(i[s], j[s])``, as Brian2's ``S.connect(i=..., j=...)``.

        Repeated pairs are kept as separate synapses (Brian2 allows several synapses between
        one pair). Synapses are reordered by ``(i, j)`` with a stable sort: synapse ``s`` of the
        result is input ``np.lexsort((j, i))[s]``, so repeats keep their input order.

        Parameters
        ----------
        i, j : int or array_like of int32/int64, shape (n,)
            Pre- and postsynaptic ids in ``[0, n_pre)`` and ``[0, n_post)``; a scalar is broadcast
            against the other (``i=0, j=[1, 2]``).
        weight : float or array_like of float, shape (n,)
            Finite weights.
        delay : None, float or array_like of float, shape (n,)
            Delays in ms, finite, ``>= 0``.
        n_pre, n_post : int
            Population sizes, ``0 <= n <= 2**31 - 1``.
        dtype : {float32, float64}
            dtype of the stored weights.

        Returns
        -------
        Connectivity

        Raises
        ------
        TypeError
            Float or bool ids, float data of the wrong kind, a bad ``dtype``.
        ValueError
            Ids out of range, ``i`` and ``j`` of different lengths, non-finite weights,
            negative or non-finite delays, sizes beyond memory.

        Examples
        --------
        >>> from fastkernels.networks import Connectivity
        >>> c = Connectivity.from_arrays(0, [2, 1], weight=[0.4, 0.2], delay=[4.0, 2.0], n_pre=3, n_post=3)
        >>> c.j.tolist(), c.weight.tolist(), c.delay.tolist()
        ([1, 2], [0.2, 0.4], [2.0, 4.0])
        """
        n_pre = population(n_pre, "n_pre")
        n_post = population(n_post, "n_post")
        dtype = check_dtype(dtype)
        check_rows(n_pre)
        i = as_index_array(i, "i", n=n_pre, ndim=None)
        j = as_index_array(j, "j", n=n_post, ndim=None)
        for x, name in ((i, "i"), (j, "j")):
            if x.ndim > 1:
                raise ValueError(f"{name} must be 1-dimensional (or a scalar), got shape {x.shape}")
        if i.ndim and j.ndim and i.size != j.size:
            raise ValueError(f"i and j must have the same length, got {i.size} and {j.size}")
        n = i.size if i.ndim else j.size  # a scalar broadcasts against the other (1 if both are)
        w = weight_values(weight, n, dtype)
        d = delay_values(delay, n)
        check_allocation(n, 4 + dtype.itemsize + 24 + (8 if d is not None else 0), "i and j", what="synapses")
        i, j = np.broadcast_to(i, (n,)), np.broadcast_to(j, (n,))
        order = np.lexsort((j, i))
        indptr = np.zeros(n_pre + 1, dtype=np.int64)
        np.cumsum(np.bincount(i, minlength=n_pre), out=indptr[1:])
        w = w if np.ndim(w) == 0 else w[order]
        d = d if d is None or np.ndim(d) == 0 else d[order]
        return cls._make(indptr, j[order].astype(np.int32), materialise(w, n, dtype),
                         materialise(d, n, np.float64), n_post)


# -- argument checks ---------------------------------------------------------------------------


def is_scalar(x) -> bool:
    return np.ndim(x) == 0 and not isinstance(x, (str, bytes)) and x is not None


def population(n, name):
    return check_scalar(n, name, integer=True, lo=0, hi=MAX_NEURONS)


def check_rows(n_pre, name="n_pre"):
    """``indptr`` holds 8 bytes per presynaptic neuron: refuse what cannot fit."""
    check_allocation(n_pre + 1, 8, name, what="row starts (indptr)")


def weight_values(weight, n, dtype, name="weight"):
    """A validated weight: a float (within ``dtype``'s range) or a float array of shape (n,)."""
    if is_scalar(weight):
        w = check_scalar(weight, name)
        top = float(np.finfo(dtype).max)
        if abs(w) > top:
            raise ValueError(f"{name} = {w!r} is beyond the {np.dtype(dtype).name} range (+-{top:.4g})")
        return w
    w = as_array(weight, name, shape=(n,), finite=True)
    return cast_float(w, name, dtype)


def delay_values(delay, n, name="delay"):
    """A validated delay: None, a float >= 0 or a float64 array of shape (n,) (ms)."""
    if delay is None:
        return None
    if is_scalar(delay):
        return check_scalar(delay, name, lo=0)
    d = as_array(delay, name, dtypes=(np.float64, np.float32), shape=(n,))
    check_delay_array(d, name)
    return d.astype(np.float64, copy=False)


def check_delay_array(d, name, where=None):
    check_finite(d, name)
    neg = d < 0
    if neg.any():
        s = int(np.argmax(neg))
        at = where(s) if where is not None else f"[{s}]"
        raise ValueError(f"{name} must be >= 0 ms, got {d[s]!r} at {name}{at}")


def materialise(value, n, dtype):
    """A fresh writeable array of ``n`` values from a validated scalar or array (None stays None)."""
    if value is None:
        return None
    if np.ndim(value) == 0:
        return np.full(n, value, dtype=dtype)
    return np.array(value, dtype=dtype, copy=True)
