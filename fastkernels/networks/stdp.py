"""Pair-based spike-timing-dependent plasticity (STDP): parameters and the learning window.

With ``Delta t = t_post - t_pre`` (ms), every pair of a presynaptic and a postsynaptic spike
changes the weight by

    W(Delta t) = A_pre  exp(-Delta t / tau_pre)    for Delta t >= 0 (pre before post: potentiation)
    W(Delta t) = A_post exp( Delta t / tau_post)   for Delta t <  0 (post before pre: depression)

and the changes of all pairs add up ("all-to-all" pairing). A network does not sum over pairs: it
keeps two traces, ``a_pre`` (jumps by ``A_pre`` at each pre spike, decays with ``tau_pre``) and
``a_post`` (jumps by ``A_post`` at each post spike, decays with ``tau_post``), and applies
Brian2's ``Synapses`` model::

    on_pre  = 'v_post += w; apre += A_pre; w = clip(w + apost, w_min, w_max)'
    on_post = 'apost += A_post; w = clip(w + apre, w_min, w_max)'

Within one step the presynaptic pathway runs first (as in Brian2), so a pre and a post spike in
the same step form the pair ``Delta t = 0+`` and add ``A_pre``: ``window(0) == A_pre``. Without
clipping (``w_min=-inf, w_max=inf``) the traces reproduce the pair sum exactly for spike times on
the step grid. Traces are kept per neuron, not per synapse (see
:mod:`fastkernels.networks._stdp_kernels`), with the same results as Brian2's per-synapse
``(event-driven)`` traces.
"""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np

from .._validate import check_positive, check_scalar

__all__ = ["STDP"]


def _check_tau(value, name):
    """A trace's time constant: finite, > 0, and with a finite ``1 / tau`` (a subnormal tau makes
    ``dt / tau`` inf at any step of 1 ms or more, and the kernels' decay NaN)."""
    tau = check_positive(value, name)
    if not math.isfinite(1.0 / tau):
        raise ValueError(f"{name} must be at least {1.0 / sys.float_info.max:.4g} ms (1 / {name} overflows), "
                         f"got {tau!r}")
    return tau


@dataclasses.dataclass(frozen=True)
class STDP:
    """Parameters of pair-based STDP with all-to-all pairing and weight clipping.

    Defaults are those of the Brian2 tutorial (seed 000): ``tau_pre = tau_post = 20`` ms,
    ``A_pre = 0.01``, ``A_post = -1.05 A_pre tau_pre / tau_post``, weights clipped to
    ``[0, 0.01]``. The integral of the window, ``A_pre tau_pre + A_post tau_post``, is then
    negative: depression slightly dominates.

    Parameters
    ----------
    tau_pre : float
        Decay time constant of the presynaptic trace (ms), > 0: the potentiation side of the
        window.
    tau_post : float
        Decay time constant of the postsynaptic trace (ms), > 0: the depression side.
    A_pre : float
        Jump of the presynaptic trace at a pre spike, in weight units: ``W(0+)``.
    A_post : float, optional
        Jump of the postsynaptic trace at a post spike, in weight units: ``W(0-)``. Default
        ``-1.05 * A_pre * tau_pre / tau_post``.
    w_max : float
        Upper weight bound (weight units); ``np.inf`` for none.
    w_min : float
        Lower weight bound (weight units), ``<= w_max``; ``-np.inf`` for none.

    Raises
    ------
    ValueError
        A time constant that is not positive and finite (or so small, subnormal, that ``1 / tau``
        overflows), a non-finite amplitude, a NaN bound or ``w_min > w_max`` (the message names the
        field).
    TypeError
        A field that is not a real number.

    Examples
    --------
    >>> from fastkernels.networks.stdp import STDP
    >>> rule = STDP()
    >>> round(rule.A_post, 6)
    -0.0105
    >>> rule.window([-20.0, 0.0, 20.0]).round(6).tolist()
    [-0.003863, 0.01, 0.003679]
    """

    tau_pre: float = 20.0
    tau_post: float = 20.0
    A_pre: float = 0.01
    A_post: float | None = None
    w_max: float = 0.01
    w_min: float = 0.0

    def __post_init__(self):
        tau_pre = _check_tau(self.tau_pre, "tau_pre")
        tau_post = _check_tau(self.tau_post, "tau_post")
        a_pre = check_scalar(self.A_pre, "A_pre")
        if self.A_post is None:
            a_post = -a_pre * tau_pre / tau_post * 1.05  # the seed's (Brian2 tutorial's) expression
            if not math.isfinite(a_post):
                raise ValueError(f"A_post = -1.05 * A_pre * tau_pre / tau_post overflows ({a_post!r}); give A_post")
        else:
            a_post = check_scalar(self.A_post, "A_post")
        w_max = check_scalar(self.w_max, "w_max", finite=False)
        w_min = check_scalar(self.w_min, "w_min", finite=False)
        if w_min > w_max:
            raise ValueError(f"w_min must be <= w_max, got w_min = {w_min!r} > w_max = {w_max!r}")
        if w_min == math.inf or w_max == -math.inf:
            raise ValueError(f"the weight range [w_min, w_max] = [{w_min!r}, {w_max!r}] holds no finite weight")
        for name, value in (("tau_pre", tau_pre), ("tau_post", tau_post), ("A_pre", a_pre), ("A_post", a_post),
                            ("w_max", w_max), ("w_min", w_min)):
            object.__setattr__(self, name, value)

    def window(self, delta_t):
        """The learning window ``W(Delta t)``: the weight change of one spike pair.

        Parameters
        ----------
        delta_t : float or array_like of float
            ``t_post - t_pre`` (ms); NaN gives NaN.

        Returns
        -------
        float or ndarray of float64
            ``W`` in weight units, with the shape of ``delta_t`` (a float for a scalar).
            ``W(0) = A_pre``: a same-step pair counts as pre before post, because the
            presynaptic pathway runs first within a step.
        """
        d = np.asarray(delta_t)
        if d.dtype.kind not in "biuf":
            raise TypeError(f"delta_t must be real numbers (ms), got dtype {d.dtype}")
        d = d.astype(np.float64)
        with np.errstate(over="ignore", under="ignore"):
            w = np.where(d >= 0, self.A_pre * np.exp(-np.abs(d) / self.tau_pre),
                         self.A_post * np.exp(-np.abs(d) / self.tau_post))
        w = np.where(np.isnan(d), np.nan, w)
        return float(w) if w.ndim == 0 else w

    @property
    def integral(self) -> float:
        """``A_pre tau_pre + A_post tau_post`` (weight units x ms): the net change of pairs at
        uniformly spread time differences; negative means depression dominates."""
        return self.A_pre * self.tau_pre + self.A_post * self.tau_post

    def kernel_params(self, dt) -> np.ndarray:
        """The float64 array the step kernels read:
        ``[A_pre, A_post, dt / tau_pre, dt / tau_post, w_min, w_max]``.

        Parameters
        ----------
        dt : float
            Time step (ms), > 0.
        """
        dt = check_positive(dt, "dt")
        for name, tau in (("tau_pre", self.tau_pre), ("tau_post", self.tau_post)):
            if not math.isfinite(dt / tau):  # a trace decayed over 0 steps would be 0 * inf = NaN
                raise ValueError(f"dt / {name} = {dt!r} / {tau!r} overflows; use a larger {name} or a smaller dt")
        return np.array([self.A_pre, self.A_post, dt / self.tau_pre, dt / self.tau_post,
                         self.w_min, self.w_max], dtype=np.float64)
