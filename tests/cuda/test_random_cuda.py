import numpy as np
import pytest

import fastkernels as fk


@pytest.mark.parametrize("fill", [fk.random_uniform, fk.random_normal])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_draws_match_cpu(fill, dtype, threads_per_block):
    n = 3 * threads_per_block + 5  # more items than threads in the capped grid
    a = fill(n, seed=42, dtype=dtype, backend="cpu")
    b = fill(n, seed=42, dtype=dtype, backend="cuda")
    assert b.dtype == dtype
    if fill is fk.random_uniform:
        np.testing.assert_array_equal(a, b)  # integer bits to [0, 1): exact on every device
    else:
        # Box-Muller: libdevice's log/cos and NVVM's FMA contraction may differ from the CPU in
        # the last bits on a real GPU (the simulator runs the CPU's maths, so it is exact there)
        np.testing.assert_array_max_ulp(a, b, maxulp=8)


def test_empty_fill_on_cuda():
    assert fk.random_uniform(0, seed=1, backend="cuda").shape == (0,)
