"""pytest-benchmark over the cases ``fastkernels bench`` runs.

    python -m pytest benchmarks --benchmark-enable               # quick sizes
    FASTKERNELS_BENCH_PROFILE=full python -m pytest benchmarks --benchmark-enable

Each implementation is first checked against the NumPy baseline (which also
compiles it), then timed; results are grouped per case and size so the NumPy /
fastkernels / peer rows sit together. Without ``--benchmark-enable`` every
benchmark runs once as a smoke test.
"""

import os

import pytest

from fastkernels import bench
from fastkernels.bench import runner

PROFILE = os.environ.get("FASTKERNELS_BENCH_PROFILE", "quick")


def bench_params(area):
    """(case, size, implementation) triples of one area for ``parametrize``."""
    params = []
    for case in bench.cases([area]):
        for size in case.sizes[PROFILE]:
            for impl in ["numpy", "fastkernels", *case.peers, *case.bounds]:
                params.append(pytest.param(case, size, impl, id=f"{case.name}-{case.label(**size)}-{impl}"))
    return params


def run_benchmark(benchmark, case, size, impl, backend="parallel"):
    inputs = case.make_inputs(**size)
    ref = case.baseline(*inputs)
    if impl == "numpy":
        fn = lambda: case.baseline(*inputs)  # noqa: E731
    elif impl == "fastkernels":
        fn = lambda: case.kernel(*inputs, backend=backend)  # noqa: E731
    elif impl in case.bounds:  # a speed bound doing part of the work: timed, not checked
        fn = runner.bound_call(case.bounds[impl], inputs, backend)
    else:
        try:
            peer = case.peers[impl]()
        except ImportError:
            pytest.skip(f"{impl} is not installed")
        fn = lambda: peer(*inputs)  # noqa: E731
    if impl not in case.bounds:
        case.validate(fn(), ref)  # correctness first; also compiles
    benchmark.group = f"{case.name} {case.label(**size)}"
    benchmark.extra_info["implementation"] = impl
    benchmark(fn)
