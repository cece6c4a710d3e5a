"""Connectivity rules: the builders of a :class:`~.connectivity.Connectivity` from a rule.

:func:`all_to_all`, :func:`one_to_one`, :func:`neighbourhood`, :func:`bernoulli` (with a named or
callable condition on ``(i, j)``), :func:`fixed_out_degree`, :func:`fixed_in_degree` and
:func:`gaussian_distance`. Random rules draw from the package's counter-based streams, one
stream per row (per column for fixed in-degree), so a seed gives the same synapses on ``"cpu"``
and ``"parallel"`` with any thread count; the count and fill passes are compiled in
:mod:`._connectivity_kernels`.
"""

from __future__ import annotations

import numpy as np

from .._backend import resolve_backend
from .._random import check_seed, resolve_seed, seed_kept
from .._validate import (
    INT64_MAX,
    as_array,
    check_allocation,
    check_dtype,
    check_flag,
    check_positive,
    check_scalar,
)
from . import _connectivity_kernels as K
from .connectivity import (
    MAX_LENGTH,
    MAX_NEURONS,
    Connectivity,
    check_rows,
    is_scalar,
    population,
    weight_values,
)

__all__ = ["all_to_all", "bernoulli", "fixed_in_degree", "fixed_out_degree", "gaussian_distance", "neighbourhood",
           "one_to_one"]


class _Values:
    """The per-synapse values a rule attaches: validated before anything is built."""

    def __init__(self, weight, delay, dtype, weight_name="weight"):
        self.dtype = check_dtype(dtype)
        self.weight = (weight_values(weight, 0, self.dtype, weight_name) if is_scalar(weight)
                       else _refuse_array(weight, weight_name, "weight"))
        self.delay = None if delay is None else (check_scalar(delay, "delay", lo=0) if is_scalar(delay)
                                                 else _refuse_array(delay, "delay"))
        self.per_synapse = 4 + self.dtype.itemsize + (8 if self.delay is not None else 0)

    def check(self, count, name):
        check_allocation(count, self.per_synapse, name, what="synapses")

    def build(self, indptr, post, n_post, backend="cpu", weight=None):
        n = post.size
        w = weight if weight is not None else K.constant(n, self.weight, self.dtype, backend)
        d = None if self.delay is None else K.constant(n, self.delay, np.float64, backend)
        return Connectivity._make(indptr, post, w, d, n_post)


def _refuse_array(value, name, attr=None):
    raise TypeError(f"{name} must be a number here (a rule fixes the synapses, so per-synapse values are "
                    f"set afterwards: conn.{attr or name}[:] = ...), got {type(value).__name__}")


def _draws(seed, needed: bool):
    """The user's key when the rule draws; the seed is checked either way (a Generator is not
    advanced by a rule that draws nothing)."""
    check_seed(seed)
    return resolve_seed(seed) if needed else np.int64(0)


# -- deterministic rules -------------------------------------------------------------------------


def all_to_all(n_pre, n_post, *, self_connections=True, weight=1.0, delay=None, dtype=np.float64, backend="auto"):
    """Every presynaptic neuron to every postsynaptic one (Brian2's ``S.connect()``).

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes, ``0 <= n <= 2**31 - 1``.
    self_connections : bool
        ``False`` leaves out the pairs ``i == j`` (Brian2's ``condition='i != j'``; meaningful
        when pre and post are one group).
    weight : float
        Weight of every synapse (set per synapse afterwards through ``conn.weight``).
    delay : None or float
        Delay of every synapse, ms, ``>= 0``; ``None`` stores no delays.
    dtype : {float32, float64}
        dtype of the weights.
    backend : {"auto", "cpu", "parallel"}
        Fill kernel; ``"cuda"`` is refused (building runs on the host).

    Returns
    -------
    Connectivity

    Raises
    ------
    TypeError, ValueError
        A bad argument (named); more synapses than memory holds.

    Examples
    --------
    >>> from fastkernels.networks import all_to_all
    >>> all_to_all(10, 10, self_connections=False).n_synapses
    90
    """
    return _bernoulli_rule("all_to_all", n_pre, n_post, 1.0, None, None, self_connections, weight, delay, dtype,
                           None, backend)


def one_to_one(n, *, weight=1.0, delay=None, dtype=np.float64):
    """Neuron ``i`` to neuron ``i`` for ``i < n`` (Brian2's ``S.connect(j='i')``).

    Parameters
    ----------
    n : int
        Size of both populations, ``0 <= n <= 2**31 - 1``.
    weight, delay, dtype
        As in :func:`all_to_all`.

    Returns
    -------
    Connectivity

    Raises
    ------
    TypeError, ValueError
        A bad argument (named); more synapses than memory holds.

    Examples
    --------
    >>> from fastkernels.networks import one_to_one
    >>> one_to_one(10).j.tolist() == list(range(10))
    True
    """
    n = population(n, "n")
    values = _Values(weight, delay, dtype)
    check_rows(n, "n")
    values.check(n, "n")
    return values.build(np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32), n)


def neighbourhood(n_pre, n_post, k, *, self_connections=False, weight=1.0, delay=None, dtype=np.float64,
                  backend="auto"):
    """Every pair with ``|i - j| <= k`` (Brian2's ``condition='abs(i - j) <= k and i != j'``).

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    k : int
        Neighbourhood radius in neuron ids, ``>= 0``.
    self_connections : bool
        Include ``i == j`` (default ``False``, as in the tutorial).
    weight, delay, dtype, backend
        As in :func:`all_to_all`.

    Returns
    -------
    Connectivity

    Raises
    ------
    TypeError, ValueError
        A bad argument (named); more synapses than memory holds.

    Examples
    --------
    >>> from fastkernels.networks import neighbourhood
    >>> neighbourhood(10, 10, 3).n_synapses  # the tutorial's abs(i - j) < 4 and i != j
    48
    """
    return _bernoulli_rule("neighbourhood", n_pre, n_post, 1.0, "|i-j|<=k", k, self_connections, weight, delay,
                           dtype, None, backend)


# -- random rules ---------------------------------------------------------------------------------


def bernoulli(n_pre, n_post, p, *, condition=None, k=None, self_connections=True, weight=1.0, delay=None,
              dtype=np.float64, seed=None, backend="auto"):
    """Each allowed pair ``(i, j)`` gets a synapse with probability ``p``, independently
    (Brian2's ``S.connect(condition=..., p=p)``).

    Row ``i`` draws the gaps between its successes (geometric skips, one draw per synapse) from
    stream ``i`` of the seed, once to count and once to fill, so 1e8 synapses take seconds
    and the result is the same on ``"cpu"`` and ``"parallel"`` with any thread count.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes, ``0 <= n <= 2**31 - 1``.
    p : float
        Connection probability, ``0 <= p <= 1`` (``p = 1``: every allowed pair, nothing drawn).
    condition : None, str or callable
        Which pairs are allowed: ``None`` (all); ``"i != j"`` (no self-connections); ``"|i - j|
        <= k"`` (a neighbourhood of radius ``k``, also written ``"abs(i - j) <= k"``; spaces are
        ignored); or a vectorised callable ``condition(i, j) -> bool array`` called with
        equal-length int64 arrays of candidate pairs. The callable runs on the host after the
        Bernoulli draws, only on the pairs they selected (about ``p`` of all pairs, in chunks of
        whole rows of about 1e6 pairs), so it must be elementwise (a pair's verdict may not
        depend on the other pairs in the call); the result is the same as drawing on the allowed
        pairs only.
    k : int, optional
        Radius for ``"|i - j| <= k"``, ``>= 0``; only with that condition.
    self_connections : bool
        ``False`` also leaves out ``i == j`` (combines with any ``condition``).
    weight, delay, dtype, backend
        As in :func:`all_to_all`.
    seed : None, int or numpy.random.Generator
        Random seed (checked even when ``p`` is 0 or 1, which draw nothing).

    Returns
    -------
    Connectivity

    Raises
    ------
    TypeError, ValueError
        A bad argument (named): ``p`` outside [0, 1], an unknown ``condition``, ``k`` missing or
        negative, a callable returning something other than bools of the right length;
        ``n_pre * n_post * p`` (expected, then counted) synapses beyond memory. An exception the
        callable raises propagates; nothing is built and a Generator seed is restored.

    Examples
    --------
    >>> from fastkernels.networks import bernoulli
    >>> c = bernoulli(1000, 1000, 0.1, condition="i != j", seed=1)
    >>> 0.09 < c.n_synapses / (1000 * 999) < 0.11
    True
    """
    p = check_scalar(p, "p", lo=0, hi=1)
    return _bernoulli_rule("bernoulli", n_pre, n_post, p, condition, k, self_connections, weight, delay, dtype,
                           seed, backend)


_NAMED = {"i!=j": "i!=j", "|i-j|<=k": "|i-j|<=k", "abs(i-j)<=k": "|i-j|<=k"}


def _bernoulli_rule(fname, n_pre, n_post, p, condition, k, self_connections, weight, delay, dtype, seed, backend):
    n_pre = population(n_pre, "n_pre")
    n_post = population(n_post, "n_post")
    self_ok = check_flag(self_connections, "self_connections")
    values = _Values(weight, delay, dtype)
    check_rows(n_pre)
    call = None
    if condition is None or isinstance(condition, str):
        named = None if condition is None else _NAMED.get(condition.replace(" ", ""))
        if condition is not None and named is None:
            raise ValueError(f"condition must be None, 'i != j', '|i - j| <= k' or a callable, got {condition!r}")
        self_ok = self_ok and named != "i!=j"
    elif callable(condition):
        call, named = condition, None
    else:
        raise TypeError(f"condition must be None, a str or a callable, got {type(condition).__name__}")
    if named == "|i-j|<=k":
        if k is None:
            raise ValueError("k must be given with condition '|i - j| <= k'")
        k = min(check_scalar(k, "k", integer=True, lo=0, hi=INT64_MAX), max(n_pre, n_post))
    elif k is not None:
        raise ValueError(f"k is used only with condition '|i - j| <= k', got k={k!r} with condition={condition!r}")
    else:
        k = -1
    check_seed(seed)
    if k < 0:  # every pair, less the diagonal without self-connections
        pairs = n_pre * n_post - (0 if self_ok else min(n_pre, n_post))
    else:
        pairs = int(K.allowed_pairs(n_pre, n_post, k, self_ok))
    per = values.per_synapse if call is None else 5  # candidate posts and their verdicts first
    check_allocation(pairs * p, per, "n_pre * n_post * p", what="synapses")
    be = resolve_backend(backend, work=int(pairs * p) + n_pre, cpu_only=fname)
    if p == 0.0:
        return values.build(np.zeros(n_pre + 1, dtype=np.int64), np.empty(0, dtype=np.int32), n_post)
    with seed_kept(seed):
        key = _draws(seed, p < 1.0)
        indptr, post = K.bernoulli_structure(
            be, K.rule_key(key, K.BERNOULLI), n_pre, n_post, p, k, self_ok,
            lambda n: check_allocation(n, per, "n_pre * n_post * p", what="synapses"))
        if call is not None:
            indptr, post = K.filter_pairs(indptr, post, call)
            values.check(post.size, "n_pre * n_post * p")
        return values.build(indptr, post, n_post, be)


def _degree_rule(fname, rule, n_pre, n_post, degree, self_connections, weight, delay, dtype, seed, backend):
    n_pre = population(n_pre, "n_pre")
    n_post = population(n_post, "n_post")
    self_ok = check_flag(self_connections, "self_connections")
    values = _Values(weight, delay, dtype)
    degree = check_scalar(degree, "degree", integer=True, lo=0)
    rows, other, other_name = (n_pre, n_post, "n_post") if rule == K.FIXED_OUT else (n_post, n_pre, "n_pre")
    excl = int(not self_ok and min(rows, other) > 0)
    if degree > other - excl:
        extra = " - 1 (self-connections excluded)" if excl else ""
        raise ValueError(f"degree must be <= {other_name}{extra} = {other - excl} when sampling without "
                         f"replacement, got {degree}")
    check_seed(seed)
    check_rows(n_pre)
    n = rows * degree
    values.check(n, f"{'n_pre' if rule == K.FIXED_OUT else 'n_post'} * degree")
    if rule == K.FIXED_IN:
        check_allocation(n, values.per_synapse + 4, "n_post * degree", what="synapses")
    be = resolve_backend(backend, work=n, cpu_only=fname)
    with seed_kept(seed):
        key = _draws(seed, n > 0)
        build = K.fixed_out_structure if rule == K.FIXED_OUT else K.fixed_in_structure
        indptr, post = build(be, K.rule_key(key, rule), n_pre, n_post, degree, self_ok)
        return values.build(indptr, post, n_post, be)


def fixed_out_degree(n_pre, n_post, degree, *, self_connections=True, weight=1.0, delay=None, dtype=np.float64,
                     seed=None, backend="auto"):
    """Each presynaptic neuron connects to ``degree`` distinct postsynaptic neurons, drawn
    uniformly without replacement (Brian2's ``j='k for k in sample(N_post, size=degree)'``).

    Each row is a uniform ``degree``-subset, built sorted in O(degree): a Bernoulli pass by
    geometric skips slightly below ``degree / n_post``, topped up (rarely thinned) by exact
    draws without replacement; above half of ``n_post`` the left-out posts are sampled instead.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    degree : int
        Synapses per presynaptic neuron, ``0 <= degree <= n_post`` (``n_post - 1`` without
        self-connections).
    self_connections : bool
        ``False`` never draws ``j == i``.
    weight, delay, dtype, backend
        As in :func:`all_to_all`.
    seed : None, int or numpy.random.Generator
        Row ``i`` draws from stream ``i``.

    Returns
    -------
    Connectivity
        ``out_degree() == degree`` everywhere.

    Raises
    ------
    TypeError, ValueError
        A bad argument (named); ``degree`` above the population; sizes beyond memory.

    Examples
    --------
    >>> from fastkernels.networks import fixed_out_degree
    >>> c = fixed_out_degree(100, 50, 5, seed=0)
    >>> set(c.out_degree().tolist())
    {5}
    """
    return _degree_rule("fixed_out_degree", K.FIXED_OUT, n_pre, n_post, degree, self_connections, weight, delay,
                        dtype, seed, backend)


def fixed_in_degree(n_pre, n_post, degree, *, self_connections=True, weight=1.0, delay=None, dtype=np.float64,
                    seed=None, backend="auto"):
    """Each postsynaptic neuron receives ``degree`` synapses from distinct presynaptic neurons,
    drawn uniformly without replacement (Brian2's ``i='k for k in sample(N_pre, size=degree)'``).

    Column ``j`` draws from stream ``j``; the columns are then transposed into rows (a serial
    counting sort, O(synapses)).

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    degree : int
        Synapses per postsynaptic neuron, ``0 <= degree <= n_pre`` (``n_pre - 1`` without
        self-connections).
    self_connections, weight, delay, dtype, seed, backend
        As in :func:`fixed_out_degree`.

    Returns
    -------
    Connectivity
        ``in_degree() == degree`` everywhere.

    Raises
    ------
    TypeError, ValueError
        A bad argument (named); ``degree`` above the population; sizes beyond memory.

    Examples
    --------
    >>> from fastkernels.networks import fixed_in_degree
    >>> c = fixed_in_degree(50, 100, 5, seed=0)
    >>> set(c.in_degree().tolist())
    {5}
    """
    return _degree_rule("fixed_in_degree", K.FIXED_IN, n_pre, n_post, degree, self_connections, weight, delay,
                        dtype, seed, backend)


def _positions(x, name):
    x = as_array(x, name, finite=True)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, dims), got {x.shape}")
    if x.shape[0] > MAX_NEURONS:
        raise ValueError(f"{name} holds {x.shape[0]} neurons, more than {MAX_NEURONS}")
    if x.size and np.abs(x).max() > MAX_LENGTH:
        raise ValueError(f"{name} must lie within +-{MAX_LENGTH:g} (squared distances must stay finite), "
                         f"got {float(np.abs(x).max())!r}")
    return np.ascontiguousarray(x, dtype=np.float64)


def _width(s, name):
    if s is None:
        return 0.0
    s = check_positive(s, name)
    if not 1.0 / MAX_LENGTH <= s <= MAX_LENGTH:
        raise ValueError(f"{name} must lie in [{1 / MAX_LENGTH:g}, {MAX_LENGTH:g}], got {s!r}")
    return 1.0 / (2.0 * s * s)


def gaussian_distance(pre_positions, post_positions=None, *, sigma, p_max=1.0, weight_max=1.0, weight_sigma=None,
                      self_connections=True, delay=None, dtype=np.float64, seed=None, backend="auto"):
    """Distance-dependent connection probability and weight with Gaussian kernels:
    ``p(d) = p_max exp(-d^2 / (2 sigma^2))`` and ``w(d) = weight_max exp(-d^2 / (2 weight_sigma^2))``,
    ``d`` the Euclidean distance between the two neurons (the Brian2 tutorial's
    ``p='exp(-(x_pre - x_post)**2 / (2 * width**2))'``).

    Candidates are drawn at rate ``p_max`` by geometric skips and each is kept with probability
    ``p(d) / p_max``, so the cost is about ``p_max n_pre n_post`` pair evaluations (every pair
    when ``p_max = 1``); row ``i`` draws from stream ``i``.

    Parameters
    ----------
    pre_positions : array_like of float, shape (n_pre,) or (n_pre, dims)
        Positions (any length unit, the same as ``sigma``), finite, within +-1e150.
    post_positions : None or array_like of float, shape (n_post,) or (n_post, dims)
        ``None``: the same neurons as ``pre_positions`` (a recurrent projection).
    sigma : float or None
        Width of the probability kernel, in [1e-150, 1e150]; ``None``: constant ``p_max``.
    p_max : float
        Probability at distance 0, in [0, 1].
    weight_max : float
        Weight at distance 0, finite.
    weight_sigma : float or None
        Width of the weight kernel, in [1e-150, 1e150]; ``None``: every weight is ``weight_max``.
    self_connections : bool
        ``False`` leaves out ``i == j``.
    delay, dtype, seed, backend
        As in :func:`bernoulli`.

    Returns
    -------
    Connectivity

    Raises
    ------
    TypeError, ValueError
        A bad argument (named): positions not float, of different dimensions, non-finite or
        beyond 1e150; widths out of range; ``p_max`` outside [0, 1]; sizes beyond memory.

    Examples
    --------
    The tutorial's C7 (all pairs but self, weight by distance), positions in um:

    >>> import numpy as np
    >>> from fastkernels.networks import gaussian_distance
    >>> x = np.arange(30) * 50.0
    >>> c = gaussian_distance(x, sigma=None, weight_sigma=375.0, self_connections=False)
    >>> c.n_synapses, round(float(c.weight.min()), 7), round(float(c.weight.max()), 5)
    (870, 0.0005668, 0.99115)
    """
    pre = _positions(pre_positions, "pre_positions")
    post = pre if post_positions is None else _positions(post_positions, "post_positions")
    if post.shape[1] != pre.shape[1]:
        raise ValueError(f"post_positions must have {pre.shape[1]} coordinates per neuron like pre_positions, "
                         f"got {post.shape[1]}")
    inv_p = _width(sigma, "sigma")
    inv_w = _width(weight_sigma, "weight_sigma")
    p_max = check_scalar(p_max, "p_max", lo=0, hi=1)
    self_ok = check_flag(self_connections, "self_connections")
    values = _Values(weight_max, delay, dtype, "weight_max")
    n_pre, n_post = pre.shape[0], post.shape[0]
    check_seed(seed)
    check_rows(n_pre, "pre_positions")
    pairs = n_pre * n_post - (min(n_pre, n_post) if not self_ok else 0)
    check_allocation(pairs * p_max, values.per_synapse, "n_pre * n_post * p_max", what="synapses")
    be = resolve_backend(backend, work=int(pairs * p_max) + n_pre, cpu_only="gaussian_distance")
    if p_max == 0.0:
        return values.build(np.zeros(n_pre + 1, dtype=np.int64), np.empty(0, dtype=np.int32), n_post)
    with seed_kept(seed):
        key = _draws(seed, p_max < 1.0 or inv_p > 0.0)
        indptr, post_ids, weight = K.distance_structure(
            be, K.rule_key(key, K.DISTANCE), pre, post, p_max, inv_p, self_ok, values.weight, inv_w,
            values.dtype, lambda n: values.check(n, "n_pre * n_post * p_max"))
        return values.build(indptr, post_ids, n_post, be, weight=weight)
