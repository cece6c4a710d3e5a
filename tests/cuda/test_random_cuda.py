import numpy as np
import pytest

import fastkernels as fk


@pytest.mark.parametrize("fill", [fk.random_uniform, fk.random_normal])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_draws_are_bit_identical_to_cpu(fill, dtype, threads_per_block):
    n = 3 * threads_per_block + 5  # more items than threads in the capped grid
    a = fill(n, seed=42, dtype=dtype, backend="cpu")
    b = fill(n, seed=42, dtype=dtype, backend="cuda")
    assert b.dtype == dtype and np.array_equal(a, b)


def test_empty_fill_on_cuda():
    assert fk.random_uniform(0, seed=1, backend="cuda").shape == (0,)
