"""Benchmarks of fastkernels.networks (the CUBA and COBA networks) against the NumPy reference.

Brian2 peers time their own work (see ``conftest.run_self_timed_benchmark``).
"""

import pytest
from conftest import bench_params, run_self_timed_benchmark


@pytest.mark.parametrize("case,size,impl", bench_params("networks"))
def test_networks(benchmark, case, size, impl):
    run_self_timed_benchmark(benchmark, case, size, impl)
