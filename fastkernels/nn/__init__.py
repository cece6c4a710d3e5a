"""Neural-network kernels: softmax family (losses, dense layers and optimizers to come)."""

import numpy as np

from .rowwise import log_softmax, logsumexp, softmax

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _warmup(backend, dtype):
    """Compile this area's kernels for one backend and dtype (see ``fk.warmup``)."""
    x = np.zeros((2, 3), dtype=dtype)
    softmax(x, backend=backend)
    log_softmax(x, backend=backend)
    logsumexp(x, backend=backend)
