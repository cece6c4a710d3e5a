"""fastkernels._jit: the one way kernels are compiled and specialised."""

import math

import numpy as np
from numba import prange

from fastkernels._jit import cpu_kernels, jit, retarget, specialise

SCALE = 1.0


def _template(x):
    return x * _K  # noqa: F821 (bound by specialise)


def _uses_late_global(x):
    return x + _LATE


_LATE = 5.0  # defined after the function that reads it


def test_specialise_binds_globals_as_constants_and_names_the_variant():
    double = specialise(_template, "_template_double", _K=2.0)
    triple = jit(specialise(_template, "_template_triple", _K=3.0))
    assert double(4.0) == 8.0 and triple(4.0) == 12.0
    assert double.__name__ == double.__qualname__ == "_template_double"
    assert double.__module__ == _template.__module__ and double.__doc__ == _template.__doc__
    assert "_K" not in globals()  # the module's namespace is not touched


def test_specialise_without_constants_shares_the_module_namespace():
    clone = specialise(_uses_late_global, "outer.late_clone")
    assert clone.__globals__ is _uses_late_global.__globals__
    assert clone.__name__ == "late_clone" and clone.__qualname__ == "outer.late_clone"
    assert clone(1.0) == 6.0


@cpu_kernels
def _scaled_sum(x):
    s = 0.0
    for i in prange(x.size):
        s += x[i] * SCALE
    return s


def test_cpu_kernels_twins_have_distinct_cache_names_and_agree():
    serial, parallel = _scaled_sum
    assert serial.py_func.__qualname__ != parallel.py_func.__qualname__
    assert parallel.targetoptions.get("parallel") and not serial.targetoptions.get("parallel")
    x = np.arange(100.0)
    assert serial(x) == parallel(x) == x.sum()


@jit
def _half(u):
    return 0.5 * _fn(u)


@jit
def _fn(u):
    return _exp_like(u)


@jit
def _exp_like(u):
    return u + 1.0


def test_retarget_derives_a_chain_with_replaced_globals():
    fns = retarget(globals(), ("_fn", "_half"), suffix="_exact", _exp_like=math.exp)
    assert set(fns) == {"_fn", "_half"}
    assert fns["_half"].py_func.__qualname__ == "_half_exact"
    # the derived _half calls the derived _fn, which calls the replacement
    assert math.isclose(fns["_half"](1.0), 0.5 * math.e)
    assert _half(1.0) == 1.0  # the originals are untouched
