"""Benchmarks of fastkernels.neurons against the vectorised NumPy time loop.

Brian2 peers time their own work (see ``conftest.run_self_timed_benchmark``).
"""

import pytest
from conftest import bench_params, run_self_timed_benchmark


@pytest.mark.parametrize("case,size,impl", bench_params("neurons"))
def test_neurons(benchmark, case, size, impl):
    run_self_timed_benchmark(benchmark, case, size, impl)
