"""Learning-rate schedules: constant, step, exponential and cosine decay by epoch."""

from __future__ import annotations

import math

from .._validate import INT64_MAX, check_choice, check_positive, check_scalar


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
