"""How every CPU kernel is compiled: one place for Numba options.

* ``cache=True`` everywhere (the cache lives where ``NUMBA_CACHE_DIR`` says, or
  beside the modules), ``nogil=True`` so users may call kernels from threads,
  and ``error_model="numpy"`` so a division in a hot loop is not a branch that
  raises ``ZeroDivisionError``.
* No eager signatures: nothing compiles at ``import fastkernels``.
* One way to derive variants of a kernel: :func:`specialise` (a renamed copy of
  a template with globals bound as compile-time constants) and, for CUDA device
  variants of a chain of helpers, :func:`retarget`, built on it.
* :func:`cpu_kernels` compiles one Python body twice, serial and ``parallel=True``.
  The parallel twin is a renamed :func:`specialise` copy: Numba's on-disk cache
  keys entries by qualified name and signature only, so two dispatchers of the
  same function with different ``parallel`` flags would load each other's
  machine code from the cache.
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


def specialise(fn, name: str, namespace: dict | None = None, **consts):
    """A copy of the plain function ``fn`` named ``name``, with some globals bound to constants.

    The package's one way to derive kernel variants from one source. Numba freezes globals
    as compile-time constants, so a template that reads a global (an activation code, a
    method's step function, a block kernel) becomes one branch-free variant per value.
    Each variant has its own name and qualified name, hence its own on-disk cache entry
    (Numba keys the cache by qualified name and signature only). Globals, not closures:
    Numba's cache key hashes pickled closure cells, and a pickled dispatcher carries a
    per-process id, so a closure over one recompiles in every process.

    Parameters
    ----------
    fn : function
        The template (a plain Python function, or a dispatcher's ``py_func``).
    name : str
        The variant's qualified name (its ``__name__`` is the last dotted part).
    namespace : dict, optional
        The globals the variant sees; default ``fn``'s module globals (shared, not copied,
        when ``consts`` is empty, so names defined after ``fn`` still resolve).
    **consts
        Globals to bind (copied into a fresh namespace).
    """
    ns = fn.__globals__ if namespace is None else namespace
    if consts:
        ns = dict(ns, **consts)
    clone = types.FunctionType(fn.__code__, ns, name.rsplit(".", 1)[-1], fn.__defaults__, fn.__closure__)
    clone.__qualname__ = name
    clone.__module__ = fn.__module__
    clone.__doc__ = fn.__doc__
    return clone


def retarget(source: dict, names, suffix: str = "_cuda", **replace) -> dict:
    """Device-function variants of a chain of jitted helpers, with some globals replaced.

    :func:`specialise` applied to ``source[name].py_func`` for each name, in order, in one
    shared namespace, so later helpers call the variants of earlier ones; each is compiled
    with :func:`device` (``inline="always"``: numba-cuda compiles a non-inlined CPU function
    called from a kernel only with a GPU present, so ``compile_ptx`` could not check it).

    Parameters
    ----------
    source : dict
        The defining module's ``globals()``.
    names : sequence of str
        Helpers to derive, callees first.
    suffix : str
        Appended to each helper's name.
    **replace
        Globals to override, e.g. ``_exp=math.exp`` (``exp_poly``'s ``np.rint`` does not
        compile for CUDA).

    Returns
    -------
    dict
        ``{name: device function}``.
    """
    ns = dict(source, **replace)
    out = {}
    for name in names:
        fn = source[name].py_func
        ns[name] = out[name] = device(specialise(fn, fn.__name__ + suffix, ns))
    return out


def cpu_kernels(fn=None, **options):
    """Compile one kernel body (written with ``prange``) as a serial and a parallel dispatcher.

    Returns
    -------
    tuple
        ``(serial, parallel)``; under the serial build ``prange`` is ``range``.
    """
    if fn is None:
        return lambda f: cpu_kernels(f, **options)
    return jit(fn, **options), jit(specialise(fn, fn.__qualname__ + "_parallel"), parallel=True, **options)
