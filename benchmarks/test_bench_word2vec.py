"""Benchmarks of fastkernels.word2vec against NumPy (and the TF tutorial's Python generator)."""

import pytest
from conftest import bench_params, run_benchmark


@pytest.mark.parametrize("case,size,impl", bench_params("word2vec"))
def test_word2vec(benchmark, case, size, impl):
    run_benchmark(benchmark, case, size, impl)
