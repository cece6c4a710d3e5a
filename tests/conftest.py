import os

import numpy as np
import pytest

# tests/cuda/ needs NUMBA_ENABLE_CUDASIM=1 set before numba is imported, so it runs
# in its own pytest process (see .ci/run); skip it in a plain run.
if not os.environ.get("NUMBA_ENABLE_CUDASIM"):
    collect_ignore = ["cuda"]


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
