"""fastkernels._launch: CUDA launch shapes (host code only, no GPU needed)."""

import pytest

from fastkernels import _launch


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 10**9])
def test_grid_1d_covers_or_strides(n):
    blocks, threads = _launch.grid_1d(n)
    assert threads == _launch.THREADS_PER_BLOCK and 1 <= blocks <= _launch.MAX_BLOCKS
    assert blocks * threads >= n or blocks == _launch.MAX_BLOCKS  # grid-stride beyond


@pytest.mark.parametrize("n", [1, 100, 132 * 32, 132 * 64 + 1, 10**7])
def test_spread_1d_uses_small_blocks_for_few_items(n):
    blocks, threads = _launch.spread_1d(n)
    assert 32 <= threads <= _launch.THREADS_PER_BLOCK and threads & (threads - 1) == 0
    assert blocks * threads >= n or blocks == _launch.MAX_BLOCKS
    if n <= 132 * 32:
        assert threads == 32


def test_spread_1d_uses_every_sm_for_few_long_running_threads():
    assert _launch.spread_1d(1000) == (32, 32)  # 32 warps on 32 SMs, not 4 blocks of 256
    blocks, threads = _launch.spread_1d(20_000)
    assert threads == 256 or blocks >= _launch.SMS * 0.9
    assert _launch.spread_1d(10**6) == _launch.grid_1d(10**6)
    for n in (1, 31, 5000, 40_000):
        blocks, threads = _launch.spread_1d(n)
        assert blocks * threads >= n or blocks == _launch.MAX_BLOCKS


@pytest.mark.parametrize("cols, limit, want", [(1, 1024, 32), (33, 1024, 64), (1000, 1024, 256), (1000, 128, 128)])
def test_row_threads(cols, limit, want):
    assert _launch.row_threads(cols, limit) == want


@pytest.mark.parametrize("cols, want", [(1, 1), (3, 4), (32, 32), (100, 32)])
def test_row_group(cols, want):
    assert _launch.row_group(cols) == want
