"""Runs each area's contract tests (tests/contract/) in its own interpreter.

A kernel that reads or writes out of bounds can kill the process instead of raising; in a child
process with faulthandler on, that fails one test here with the case's traceback, and the suite goes
on. The child sees the same hypothesis profile (FK_HYPOTHESIS_PROFILE) and NUMBA_BOUNDSCHECK.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
AREAS = sorted(p.stem[len("test_"):] for p in (HERE / "contract").glob("test_*.py"))


def test_every_area_has_contract_tests():
    assert {"shared", "nn", "neurons", "word2vec", "networks", "distributed"} <= set(AREAS)


@pytest.mark.bad_input
@pytest.mark.parametrize("area", AREAS)
def test_contract(area, request):
    profile = request.config.getoption("hypothesis_profile", None)
    env = dict(os.environ, FK_CONTRACT_CHILD="1", PYTHONFAULTHANDLER="1")
    if profile:
        env["FK_HYPOTHESIS_PROFILE"] = profile
    cmd = [sys.executable, "-X", "faulthandler", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
           "--rootdir", str(HERE.parent), str(HERE / "contract" / f"test_{area}.py")]
    proc = subprocess.run(cmd, cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=1200)
    out = (proc.stdout + proc.stderr)[-12000:]
    if proc.returncode < 0:
        pytest.fail(f"hard crash (signal {-proc.returncode}) in the {area} contract tests:\n{out}")
    assert proc.returncode == 0, f"{area} contract tests failed:\n{out}"


def _covers(area: str) -> set:
    """The literal ``COVERS`` set of tests/contract/test_<area>.py (read without importing it)."""
    import ast

    tree = ast.parse((HERE / "contract" / f"test_{area}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COVERS" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"tests/contract/test_{area}.py defines no COVERS set")


def public_surface(module) -> set:
    """Every public callable a user reaches from ``module.__all__``: functions, classes (their
    constructor) and each public method of those classes, and the functions of public submodules
    listed there (``plots.raster``). Exceptions and constants are not callables to drive."""
    import inspect
    import types

    names = set()
    for name in module.__all__:
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            if obj.__name__.startswith("fastkernels."):
                names |= {f"{name}.{n}" for n, f in vars(obj).items()
                          if inspect.isfunction(f) and not n.startswith("_") and f.__module__ == obj.__name__}
        elif inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            names.add(name)
            for klass in obj.__mro__:
                if not klass.__module__.startswith("fastkernels"):
                    continue
                for meth, f in vars(klass).items():
                    if meth.startswith("_"):
                        continue
                    if isinstance(f, (staticmethod, classmethod)) or inspect.isfunction(f):
                        names.add(f"{name}.{meth}")
        elif callable(obj):
            names.add(name)
    return names


@pytest.mark.parametrize("area", ["shared", "nn", "neurons", "word2vec", "networks", "distributed"])
def test_contract_tests_cover_every_public_callable(area):
    import importlib

    import fastkernels

    module = fastkernels if area == "shared" else importlib.import_module(f"fastkernels.{area}")
    surface = public_surface(module)
    if area == "shared":
        surface -= {"nn", "neurons", "word2vec", "networks", "distributed"}
    missing = surface - _covers(area)
    assert not missing, f"public callables of {area} with no contract test: {sorted(missing)}"
