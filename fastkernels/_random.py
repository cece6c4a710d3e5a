"""Counter-based random numbers shared by serial, ``prange`` and CUDA kernels.

A draw is a pure function of ``(seed, stream, counter)``: kernels give each
independent unit of work (a neuron, a token position, a row) its own
``stream`` and number its draws with ``counter``. Nothing depends on how work
is split across threads or blocks, so the same seed gives bit-identical
results on ``"cpu"``, ``"parallel"`` (any thread count) and ``"cuda"``, and no
per-thread generator state has to be allocated, stored or advanced.

The generator is SplitMix64 (Steele, Lea & Flood 2014): draw ``c`` of a stream
is ``mix64(stream_key + (c + 1) * 0x9E3779B97F4A7C15)``, where
``stream_key = mix64(key ^ mix64(stream))``. It passes BigCrush per stream;
two streams overlap only if their keys differ by a small multiple of the
golden-ratio constant, a chance of about ``draws * streams / 2**64``.

The scalar functions are :func:`fastkernels._jit.device` helpers, so the same
code runs inside ``@njit`` and ``@cuda.jit`` kernels.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from numba import prange

from ._backend import resolve_backend, load_cuda
from ._jit import cpu_kernels, device
from ._validate import check_allocation, check_dtype, check_scalar

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TWO_POW_M53 = 1.0 / 9007199254740992.0  # 2**-53
_TWO_PI = 2.0 * math.pi


def resolve_seed(seed) -> np.int64:
    """Turn a user's ``seed`` into the 64-bit key the kernels use.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        ``None`` draws fresh OS entropy (not reproducible); a non-negative int is
        hashed through ``numpy.random.SeedSequence`` (any size, nearby seeds give
        unrelated keys); a ``Generator`` supplies one 64-bit draw (advancing it).

    Returns
    -------
    numpy.int64
        The 64 key bits, typed int64: uint64 values do not survive a round trip
        through Python (the CUDA simulator calls device helpers from Python, and
        Numba boxes uint64 as a Python int that it then types as int64).
    """
    if seed is None:
        return _as_key(np.random.SeedSequence().generate_state(1, np.uint64))
    if isinstance(seed, np.random.Generator):
        return _as_key(seed.integers(0, 2**64, size=1, dtype=np.uint64))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be None, a non-negative int or a numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return _as_key(np.random.SeedSequence(int(seed)).generate_state(1, np.uint64))


def check_seed(seed):
    """Refuse a ``seed`` of the wrong type or range up front, whether or not the call draws from
    it (a call with no noise must not accept ``seed="0"`` silently). Draws nothing: a
    ``Generator`` is not advanced, an int is not hashed. Returns ``seed``.

    Raises
    ------
    TypeError, ValueError
        As :func:`resolve_seed`.
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return seed
    resolve_seed(seed)  # raises, naming seed
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def seed_kept(seed):
    """Put a ``numpy.random.Generator`` seed back as it was if the block raises (other seeds:
    nothing to keep). A call draws its key from a Generator (advancing it) before some errors
    can be known (ids a kernel checks, a state that blows up mid-run); a call that raises must
    leave the caller's objects as they were, the Generator included."""
    saved = seed.bit_generator.state if isinstance(seed, np.random.Generator) else None
    try:
        yield
    except BaseException:
        if saved is not None:
            seed.bit_generator.state = saved
        raise


def _as_key(bits):
    return bits.view(np.int64)[0]


@device
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche hash of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@device
def stream_key(key, stream):
    """Key (int64 bits) of stream ``stream`` (an int >= 0) under the user's int64 ``key``.

    Compute it once per unit of work, then pass it to the draw functions.
    """
    return np.int64(mix64(np.uint64(key) ^ mix64(np.uint64(stream))))


@device
def random_u64(skey, counter):
    """Draw number ``counter`` (int >= 0) of the stream keyed ``skey``, as a uint64 (kernel-internal)."""
    return mix64(np.uint64(skey) + (np.uint64(counter) + _ONE) * _GOLDEN)


@device
def uniform(skey, counter):
    """Uniform float64 in [0, 1) with 53 random bits."""
    return np.float64(random_u64(skey, counter) >> _S11) * _TWO_POW_M53


@device
def uniform_open0(skey, counter):
    """Uniform float64 in (0, 1]: safe for ``log``."""
    return (np.float64(random_u64(skey, counter) >> _S11) + 1.0) * _TWO_POW_M53


@device
def below(skey, counter, n):
    """Integer uniform in [0, n) for 1 <= n < 2**32 (Lemire's multiply-shift, bias < n / 2**32)."""
    return np.int64(((random_u64(skey, counter) >> _S32) * np.uint64(n)) >> _S32)


@device
def normal(skey, counter):
    """Standard normal float64 by Box-Muller; consumes draws ``2*counter`` and ``2*counter + 1``."""
    u1 = uniform_open0(skey, 2 * counter)
    u2 = uniform(skey, 2 * counter + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


#: Above this mean, :func:`poisson` uses the rounded normal approximation.
POISSON_NORMAL_ABOVE = 30.0


@device
def poisson(skey, counter, lam):
    """Poisson(``lam``) count; consumes draws ``2*counter`` and ``2*counter + 1`` like :func:`normal`.

    Inversion by sequential search (one uniform, ``~lam`` iterations) for ``lam <= 30``;
    above, the normal approximation ``round(lam + sqrt(lam) z)`` clipped at 0 (relative error of
    the mean and variance below 1e-3 there). ``lam <= 0`` gives 0.
    """
    if lam <= 0.0:
        return 0
    if lam > POISSON_NORMAL_ABOVE:
        x = math.floor(lam + math.sqrt(lam) * normal(skey, counter) + 0.5)
        return np.int64(x) if x > 0.0 else 0
    u = uniform(skey, 2 * counter)
    p = math.exp(-lam)
    cdf = p
    x = 0
    while u > cdf and x < 200:  # the cap only guards against u rounding above the summed cdf
        x += 1
        p *= lam / x
        cdf += p
    return x


# -- public fillers: element i is stream i, draw 0 (so any split gives the same array) --


def _fill_uniform_body(out, key, low, high):
    for i in prange(out.size):
        out[i] = low + (high - low) * uniform(stream_key(key, i), 0)


def _fill_normal_body(out, key, mean, std):
    for i in prange(out.size):
        out[i] = mean + std * normal(stream_key(key, i), 0)


_fill_uniform = dict(zip(("cpu", "parallel"), cpu_kernels(_fill_uniform_body)))
_fill_normal = dict(zip(("cpu", "parallel"), cpu_kernels(_fill_normal_body)))


def _fill(kind, size, seed, dtype, a, b, backend):
    size = check_scalar(size, "size", integer=True, lo=0)
    dtype = check_dtype(dtype, "dtype")
    check_allocation(size, dtype.itemsize, "size", what="values")
    key = resolve_seed(seed)
    be = resolve_backend(backend, work=size)
    if be == "cuda":
        return load_cuda("fastkernels._random_cuda").fill(kind, size, key, dtype, a, b)
    out = np.empty(size, dtype=dtype)
    (_fill_uniform if kind == "uniform" else _fill_normal)[be](out, key, a, b)
    return out


def random_uniform(size, *, low=0.0, high=1.0, seed=None, dtype=np.float64, backend="auto"):
    """Uniform random numbers, reproducible across backends and thread counts.

    Parameters
    ----------
    size : int
        Number of values.
    low, high : float
        Interval ``[low, high)``; finite, ``low < high``, ``high - low`` within the dtype's range.
    seed : None, int or numpy.random.Generator
        See :func:`resolve_seed`.
    dtype : {float32, float64}
        Output dtype (values are drawn in float64, then rounded).
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray of shape (size,)
        Element ``i`` is draw 0 of stream ``i``.

    Raises
    ------
    TypeError
        ``size`` not an int, ``dtype`` not float32/float64, ``seed`` of a wrong type.
    ValueError
        ``size < 0`` or larger than memory, bounds out of range, negative ``seed``.
    """
    low = check_scalar(low, "low")
    high = check_scalar(high, "high", lo=low, lo_open=True)
    top = float(np.finfo(check_dtype(dtype, "dtype")).max)
    if not math.isfinite(high - low) or max(abs(low), abs(high)) > top:
        # high - low overflowing would make every draw inf or NaN
        raise ValueError(f"low and high must lie within +-{top:.4g} of each other and of 0 for dtype "
                         f"{np.dtype(dtype).name}, got [{low!r}, {high!r})")
    return _fill("uniform", size, seed, dtype, low, high, backend)


def random_normal(size, *, mean=0.0, std=1.0, seed=None, dtype=np.float64, backend="auto"):
    """Normal random numbers (Box-Muller), reproducible across backends and thread counts.

    Parameters
    ----------
    size : int
        Number of values.
    mean, std : float
        Mean and standard deviation (``std >= 0``); ``|mean| + 9 std`` must fit the dtype.
    seed : None, int or numpy.random.Generator
        See :func:`resolve_seed`.
    dtype : {float32, float64}
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray of shape (size,)

    Raises
    ------
    TypeError
        ``size`` not an int, ``dtype`` not float32/float64, ``seed`` of a wrong type.
    ValueError
        ``size < 0`` or larger than memory, ``std < 0``, values beyond the dtype, negative ``seed``.
    """
    mean = check_scalar(mean, "mean")
    std = check_scalar(std, "std", lo=0)
    top = float(np.finfo(check_dtype(dtype, "dtype")).max)
    # Box-Muller from 53-bit uniforms never exceeds 8.6 standard deviations.
    if abs(mean) + 9.0 * std > top:
        raise ValueError(f"mean + 9 std must stay within {top:.4g} for dtype {np.dtype(dtype).name} "
                         f"(draws would overflow to inf), got mean={mean!r}, std={std!r}")
    return _fill("normal", size, seed, dtype, mean, std, backend)
