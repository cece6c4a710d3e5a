"""Package-wide rules, checked on every CPU dispatcher the package defines."""

import importlib
import pkgutil

import pytest
from numba.core.registry import CPUDispatcher

import fastkernels
from fastkernels._jit import FASTMATH


def _cpu_dispatchers():
    found = {}
    for m in pkgutil.walk_packages(fastkernels.__path__, "fastkernels."):
        if m.name.endswith(("_cuda", "__main__")):
            continue
        mod = importlib.import_module(m.name)
        for name, obj in vars(mod).items():
            objs = [obj]
            while any(isinstance(o, dict) for o in objs):  # kernel tables nest dicts
                objs = [v for o in objs for v in (o.values() if isinstance(o, dict) else [o])]
            for o in objs:
                if isinstance(o, CPUDispatcher) and o.py_func.__module__ == m.name:
                    found[f"{m.name}.{o.py_func.__qualname__}"] = o
    return found


DISPATCHERS = _cpu_dispatchers()


def test_dispatchers_found():
    assert any("rowwise" in k for k in DISPATCHERS)


@pytest.mark.parametrize("name", sorted(DISPATCHERS))
def test_cache_on_and_fastmath_only_from_the_shared_set(name):
    opts = DISPATCHERS[name].targetoptions
    assert type(DISPATCHERS[name]._cache).__name__ != "NullCache", f"{name} lacks cache=True"
    fm = opts.get("fastmath", False)
    assert fm in (False, FASTMATH) or set(fm) == FASTMATH, f"{name} uses fastmath={fm!r}; use _jit.FASTMATH"
    assert "nnan" not in str(fm) and "ninf" not in str(fm)


@pytest.mark.parametrize("name", sorted(k for k, d in DISPATCHERS.items() if d.targetoptions.get("parallel")))
def test_parallel_builds_have_their_own_cache_name(name):
    # the serial and parallel builds must not share a cache entry (see _jit.cpu_kernels)
    d = DISPATCHERS[name]
    serial = [o for o in DISPATCHERS.values() if o.py_func.__code__ is d.py_func.__code__ and o is not d]
    for s in serial:
        assert s.py_func.__qualname__ != d.py_func.__qualname__
