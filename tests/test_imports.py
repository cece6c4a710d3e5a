"""The package's import graph: no cycles (deferred imports included) and only the documented
directions (CONTRIBUTING.md, "Where things go"):

* the shared layer (``fastkernels/_*.py``) imports only the shared layer;
* an area (``nn``, ``neurons``, ``word2vec``) imports itself and the shared layer, never another
  area; its ``_bench*`` modules may also import ``fastkernels.bench.registry``;
* ``networks`` imports ``neurons`` and the shared layer;
* the top (``fastkernels/__init__.py``, ``cli``, ``bench``, ``_warmup``, ``distributed``) imports anything;
* a name another module imports is public within the package (no leading underscore);
* a CUDA module (``_x_cuda.py``) is imported only inside functions (when the cuda backend is used)
  or by other CUDA modules, so ``import fastkernels.<area>`` never loads numba.cuda.

Imports are read from the source (``ast``), at every depth, so a cycle hidden in a deferred
import inside a function is found too. One test imports the package in a fresh interpreter: nothing
compiles and numba.cuda stays unloaded.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fastkernels
from fastkernels._areas import AREAS

ROOT = Path(fastkernels.__file__).parent
TOP = {"fastkernels", "fastkernels.__main__", "fastkernels.cli", "fastkernels._warmup", "fastkernels.distributed"}


def _module_name(path: Path) -> str:
    parts = ("fastkernels",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts}


MODULES = _modules()


def _resolve(module: str, path: Path, node) -> list[tuple[str, bool]]:
    """Package modules that ``node`` imports; ``(name, True)`` when it is at module level."""
    out = []
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t:
                out.append(t)
        return out
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level:
        base = package
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        base = f"{base}.{node.module}" if node.module else base
    else:
        base = node.module or ""
    if not base.startswith("fastkernels"):
        return out
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if sub in MODULES else base)
    return out


def _private_imports() -> list[str]:
    """``module <- source name`` for each private name (``_x``, not a module) imported from another module."""
    found = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom) or not (node.level or (node.module or "").startswith("fastkernels")):
                continue
            for alias, target in zip(node.names, _resolve(module, path, node)):
                name = alias.name
                if name.startswith("_") and not name.startswith("__") and not target.endswith("." + name):
                    found.append(f"{module} <- {target}.{name}")
    return sorted(found)


def _edges() -> dict[str, list[tuple[str, bool]]]:
    edges = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        top_level = {id(n) for n in tree.body}
        found = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                at_top = id(node) in top_level or _in_module_level_block(tree, node)
                found += [(t, at_top) for t in _resolve(module, path, node) if t != module]
        edges[module] = found
    return edges


def _in_module_level_block(tree, node) -> bool:
    """True for an import inside a module-level ``try``/``if`` (still run at import time)."""
    for stmt in tree.body:
        if isinstance(stmt, (ast.Try, ast.If)) and any(n is node for n in ast.walk(stmt)):
            return not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                           and any(m is node for m in ast.walk(n)) for n in ast.walk(stmt))
    return False


EDGES = _edges()


def _layer(module: str) -> str:
    parts = module.split(".")
    if module in TOP or (len(parts) > 1 and parts[1] in ("bench", "distributed")):
        return "top"
    if len(parts) == 2 and parts[1].startswith("_"):
        return "shared"
    return parts[1]


def _allowed(src: str, dst: str) -> bool:
    a, b = _layer(src), _layer(dst)
    if a == "top" or b == "shared":
        return True
    if a == "shared":
        return False
    if a == b:
        return True
    if a == "networks" and b == "neurons":
        return True
    return (src.rpartition(".")[2].startswith("_bench") and dst == "fastkernels.bench.registry")


def test_the_walk_sees_the_package():
    assert {"fastkernels._validate", "fastkernels.nn.rowwise", "fastkernels.neurons.lif"} <= set(MODULES)
    assert set(AREAS) <= {_layer(m) for m in MODULES}
    assert ("fastkernels._validate", True) in EDGES["fastkernels.nn.rowwise"]


def test_imports_follow_the_documented_directions():
    bad = sorted(f"{src} -> {dst}" for src, targets in EDGES.items() for dst, _ in targets if not _allowed(src, dst))
    assert not bad, "imports against the documented directions (CONTRIBUTING.md):\n" + "\n".join(bad)


def test_cuda_modules_load_only_on_use():
    bad = sorted(f"{src} -> {dst}" for src, targets in EDGES.items() for dst, at_top in targets
                 if at_top and dst.endswith("_cuda") and not src.endswith("_cuda") and _layer(src) != "top")
    assert not bad, "CUDA modules imported at module level:\n" + "\n".join(bad)


def test_import_compiles_nothing_and_does_not_import_numba_cuda():
    import subprocess
    import sys

    code = (
        "import sys, fastkernels, fastkernels.nn\n"
        "from numba.core.registry import CPUDispatcher\n"
        "import fastkernels.nn.rowwise as r\n"
        "assert not r._softmax['cpu'].signatures, 'compiled at import'\n"
        "assert 'numba.cuda' not in sys.modules, 'numba.cuda imported at import'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_no_private_name_crosses_modules():
    bad = _private_imports()
    assert not bad, "private names imported by other modules (make them public within the package):\n" + "\n".join(bad)


def _find_cycle(graph: dict[str, list[str]]):
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in graph.get(u, ()):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                cycle = visit(v)
                if cycle:
                    return cycle
        state[u] = 2
        stack.pop()
        return None

    for u in sorted(graph):
        if u not in state:
            cycle = visit(u)
            if cycle:
                return cycle
    return None


def test_no_import_cycles_deferred_imports_included():
    graph = {m: sorted({t for t, _ in targets}) for m, targets in EDGES.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("graph, cycle", [({"a": ["b"], "b": ["c"], "c": ["a"]}, True),
                                          ({"a": ["b", "c"], "b": ["c"], "c": []}, False)])
def test_the_cycle_finder(graph, cycle):
    assert (_find_cycle(graph) is not None) == cycle
