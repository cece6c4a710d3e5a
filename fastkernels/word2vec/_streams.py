"""Random-stream purposes of the word2vec kernels.

Every random decision is a draw of :mod:`fastkernels._random`, keyed by
``(seed, purpose, unit, counter)``: a purpose key ``stream_key(key, PURPOSE)``
is derived once per call, then each unit of work (a token position, a row of
negatives) gets ``stream_key(purpose_key, unit)`` or draws ``counter = unit``
from the purpose stream. Distinct purposes keep one seed reused across the
pipeline (subsampling, windows, negatives) from giving correlated draws.
"""

import functools

import numpy as np

from .._random import resolve_seed, stream_key

SUBSAMPLE = 0x53554253  # "SUBS": keep/drop of token i = draw i
WINDOW = 0x57494E44  # "WIND": reduced window of centre i = draw i
BATCH = 0x42415443  # "BATC": draws (position << 24) + k of generate_batch
NEGATIVE = 0x4E454741  # "NEGA": stream per row of negatives
LOG_UNIFORM = 0x4C4F4755  # "LOGU": stream per candidate set


def purpose_key(seed, purpose: int) -> np.int64:
    """``stream_key(resolve_seed(seed), purpose)``, cached for int seeds.

    ``resolve_seed`` hashes through ``numpy.random.SeedSequence`` (~10 us); a
    per-step call such as ``generate_batch`` should not pay that every time. A
    ``Generator`` seed is never cached (each call advances it), nor is ``None``.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return _cached_key(int(seed), purpose)
    return stream_key(resolve_seed(seed), purpose)


@functools.lru_cache(maxsize=256)
def _cached_key(seed: int, purpose: int) -> np.int64:
    return stream_key(resolve_seed(seed), purpose)
