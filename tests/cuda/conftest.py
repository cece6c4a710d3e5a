"""CUDA kernels, compared with the CPU backend, under Numba's simulator or on a GPU.

Run in its own process: ``NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda``
(the variable must be set before numba is imported); on a GPU machine
``FK_CUDA_TESTS=1 python -m pytest tests/cuda``. Inputs stay tiny: the simulator
runs each thread as a Python thread.
"""

import numpy as np
import pytest

from fastkernels import _launch


@pytest.fixture(params=[32, 256], ids=["tpb32", "tpb256"])
def threads_per_block(request, monkeypatch):
    """Small blocks exercise ragged tails and grid-stride loops on tiny inputs."""
    monkeypatch.setattr(_launch, "THREADS_PER_BLOCK", request.param)
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 3)
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(7)
