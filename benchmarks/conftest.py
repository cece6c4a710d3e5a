"""pytest-benchmark over the cases ``fastkernels bench`` runs.

    python -m pytest benchmarks --benchmark-enable               # quick sizes
    FASTKERNELS_BENCH_PROFILE=full python -m pytest benchmarks --benchmark-enable

Each implementation is first checked against the NumPy baseline (which also
compiles it), then timed; results are grouped per case and size so the NumPy /
fastkernels / peer rows sit together. Without ``--benchmark-enable`` every
benchmark runs once as a smoke test.
"""

import os
import statistics

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


def run_self_timed_benchmark(benchmark, case, size, impl):
    """:func:`run_benchmark`, except for peers that time their own work (:class:`fastkernels.bench.SelfTimed`:
    Brian2's simulation alone, without code generation and compilation). pytest-benchmark can only
    time whole calls, so for them the checked output's ``.result`` is compared with the baseline,
    the peer's own median seconds go to ``extra_info["self_timed_s"]`` and the wall time of whole
    calls (build included) is what the table shows."""
    if impl not in case.peers:
        run_benchmark(benchmark, case, size, impl)
        return
    try:
        peer = case.peers[impl]()
    except ImportError:
        pytest.skip(f"{impl} is not installed")
    inputs = case.make_inputs(**size)
    out = peer(*inputs)
    if not isinstance(out, bench.SelfTimed):
        run_benchmark(benchmark, case, size, impl)
        return
    case.validate(out.result, case.baseline(*inputs))  # correctness first; also builds
    benchmark.group = f"{case.name} {case.label(**size)}"
    benchmark.extra_info["implementation"] = impl
    benchmark.extra_info["self_timed_s"] = statistics.median(peer(*inputs).seconds for _ in range(3))
    benchmark.pedantic(peer, args=inputs, rounds=3, iterations=1)
