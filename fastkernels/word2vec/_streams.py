"""Random-stream purposes of the word2vec kernels.

Every random decision is a draw of :mod:`fastkernels._random`, keyed by
``(seed, purpose, unit, counter)``: a purpose key ``stream_key(key, PURPOSE)``
is derived once per call, then each unit of work (a token position, a row of
negatives) gets ``stream_key(purpose_key, unit)`` or draws ``counter = unit``
from the purpose stream. Distinct purposes keep one seed reused across the
pipeline (subsampling, windows, negatives) from giving correlated draws.
"""

import contextlib
import functools

import numpy as np

from .._random import resolve_seed, stream_key

SUBSAMPLE = 0x53554253  # "SUBS": keep/drop of token i = draw i
WINDOW = 0x57494E44  # "WIND": reduced window of centre i = draw i
BATCH = 0x42415443  # "BATC": draws (position << 24) + k of generate_batch
NEGATIVE = 0x4E454741  # "NEGA": stream per row of negatives
LOG_UNIFORM = 0x4C4F4755  # "LOGU": stream per candidate set


def check_seed(seed) -> None:
    """Raise as :func:`fastkernels._random.resolve_seed` would for a bad ``seed``, without drawing
    from a ``Generator``: a call checks its seed up front, even when it needs no random draw."""
    if seed is None or isinstance(seed, np.random.Generator):
        return
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return
    resolve_seed(seed)  # raises TypeError / ValueError naming seed


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


def restored_on_error(seed):
    """A context that puts a ``numpy.random.Generator`` seed back as it was if the block raises
    (any other seed: a no-op context).

    A call draws its key from a Generator seed (advancing it) before some errors can be
    known (ids checked by the kernel, a pair count known after the count pass); a call that
    raises must leave the caller's objects as they were, the Generator included.
    """
    if not isinstance(seed, np.random.Generator):
        return _NO_OP
    return _restoring(seed)


_NO_OP = contextlib.nullcontext()


@contextlib.contextmanager
def _restoring(gen):
    state = gen.bit_generator.state
    try:
        yield
    except BaseException:
        gen.bit_generator.state = state
        raise
