"""Benchmarks of fastkernels.neurons against the vectorised NumPy time loop."""

import pytest
from conftest import bench_params, run_benchmark


@pytest.mark.parametrize("case,size,impl", bench_params("neurons"))
def test_neurons(benchmark, case, size, impl):
    run_benchmark(benchmark, case, size, impl)
