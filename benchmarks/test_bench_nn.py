"""Benchmarks of fastkernels.nn against NumPy (and torch when installed)."""

import pytest
from conftest import bench_params, run_benchmark


@pytest.mark.parametrize("case,size,impl", bench_params("nn"))
def test_nn(benchmark, case, size, impl):
    run_benchmark(benchmark, case, size, impl)
