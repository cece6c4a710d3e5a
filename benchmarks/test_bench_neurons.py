"""Benchmarks of fastkernels.neurons against the vectorised NumPy time loop.

Brian2 peers time their own work (:class:`fastkernels.bench.SelfTimed`: the simulation alone,
without code generation and compilation); pytest-benchmark can only time whole calls, so for
them the checked output's ``.result`` is compared with the baseline, the peer's own median
seconds go to ``extra_info["self_timed_s"]`` and the wall time of whole calls (build included)
is what the table shows.
"""

import statistics

import pytest
from conftest import bench_params, run_benchmark

from fastkernels.bench import SelfTimed


@pytest.mark.parametrize("case,size,impl", bench_params("neurons"))
def test_neurons(benchmark, case, size, impl):
    if impl not in case.peers:
        run_benchmark(benchmark, case, size, impl)
        return
    try:
        peer = case.peers[impl]()
    except ImportError:
        pytest.skip(f"{impl} is not installed")
    inputs = case.make_inputs(**size)
    out = peer(*inputs)
    if not isinstance(out, SelfTimed):
        run_benchmark(benchmark, case, size, impl)
        return
    case.validate(out.result, case.baseline(*inputs))  # correctness first; also builds
    benchmark.group = f"{case.name} {case.label(**size)}"
    benchmark.extra_info["implementation"] = impl
    benchmark.extra_info["self_timed_s"] = statistics.median(peer(*inputs).seconds for _ in range(3))
    benchmark.pedantic(peer, args=inputs, rounds=3, iterations=1)
