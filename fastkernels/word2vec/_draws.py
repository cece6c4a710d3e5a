"""The per-token random draws that the CPU kernels and the CUDA kernels share, written once as
``@device`` helpers (numba-cuda compiles them into device functions): word2vec.c's reduced
window of a centre, the subsampling keep/drop of a token, and the redraw limit of negatives.

Each is a pure function of a stream key and a position (see :mod:`fastkernels._random`), so
every backend and thread count draws the same values.
"""

from __future__ import annotations

from .._jit import device
from .._random import below, uniform

#: Attempts per entry before giving up on avoiding the excluded word (see ``NegativeSampler.sample``).
MAX_TRIES = 1 << 16


@device
def reduced_window(wkey, position, window, shrink):
    """Effective window of the centre at ``position``: uniform in [1, window] when
    ``shrink`` (word2vec.c's ``window - b``, ``b = rand % window``), else ``window``."""
    if shrink:
        return window - below(wkey, position, window)
    return window


@device
def keep_token(p, skey, position):
    """Whether the token at ``position`` (keep probability ``p``) survives, given the
    subsampling stream key ``skey``: draw ``position`` of that stream is below ``p``."""
    return uniform(skey, position) < p


__all__ = ["MAX_TRIES", "keep_token", "reduced_window"]
