"""How every CPU kernel is compiled: one place for Numba options.

* ``cache=True`` everywhere (the cache lives where ``NUMBA_CACHE_DIR`` says, or
  beside the modules), ``nogil=True`` so users may call kernels from threads,
  and ``error_model="numpy"`` so a division in a hot loop is not a branch that
  raises ``ZeroDivisionError``.
* No eager signatures: nothing compiles at ``import fastkernels``.
* :func:`cpu_kernels` compiles one Python body twice, serial and ``parallel=True``.
  The parallel twin is built from a *renamed clone* of the function: Numba's
  on-disk cache keys entries by qualified name and signature only, so two
  dispatchers of the same function with different ``parallel`` flags would load
  each other's machine code from the cache.
* :data:`FASTMATH` is the only fastmath set allowed. It leaves out ``nnan`` and
  ``ninf`` so NaN/inf semantics (masked logits, ``-inf`` log-probabilities,
  finiteness checks) survive; use it on pure arithmetic leaves only.
"""

from __future__ import annotations

import types

from numba import njit

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}  # a set: numba rejects frozenset
_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}


def jit(fn=None, **options):
    """``numba.njit`` with the package's defaults (usable bare or with options)."""
    opts = {**_OPTIONS, **options}
    if fn is None:
        return lambda f: njit(**opts)(f)
    return njit(**opts)(fn)


def device(fn):
    """An inlined scalar helper callable from ``@njit`` kernels *and* ``@cuda.jit`` kernels.

    numba-cuda compiles a CPU-jitted function called from a CUDA kernel into a
    device function, so shared maths (RNG, rate functions) is written once.
    """
    return njit(inline="always", cache=True, error_model="numpy")(fn)


def _renamed(fn, suffix: str):
    clone = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__)
    clone.__qualname__ = fn.__qualname__ + suffix
    clone.__module__ = fn.__module__
    clone.__doc__ = fn.__doc__
    return clone


def with_globals(fn, name: str, **consts):
    """``fn`` renamed to ``name``, its module globals extended by ``consts``.

    Numba freezes globals as compile-time constants, so this specialises one template
    into variants (a method code, a callee dispatcher). Globals rather than a closure:
    Numba's cache key hashes pickled closure cells, and a pickled dispatcher carries a
    per-process id, so a closure over one recompiles in every process.
    """
    clone = types.FunctionType(fn.__code__, dict(fn.__globals__, **consts), name, fn.__defaults__)
    clone.__qualname__ = name
    clone.__module__ = fn.__module__
    clone.__doc__ = fn.__doc__
    return clone


def cpu_kernels(fn=None, **options):
    """Compile one kernel body (written with ``prange``) as a serial and a parallel dispatcher.

    Returns
    -------
    tuple
        ``(serial, parallel)``; under the serial build ``prange`` is ``range``.
    """
    if fn is None:
        return lambda f: cpu_kernels(f, **options)
    return jit(fn, **options), jit(_renamed(fn, "_parallel"), parallel=True, **options)
