import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# tests/cuda/ runs in its own pytest process: under the simulator (NUMBA_ENABLE_CUDASIM=1, set
# before numba is imported; see .ci/run) or on a real GPU (FK_CUDA_TESTS=1); skip it in a plain run.
collect_ignore = []
if not (os.environ.get("NUMBA_ENABLE_CUDASIM") or os.environ.get("FK_CUDA_TESTS")):
    collect_ignore.append("cuda")
# tests/contract/ runs one interpreter per area (tests/test_contract.py), so that a hard crash in a
# kernel fails one test instead of killing the suite; FK_CONTRACT_CHILD marks that interpreter.
if not os.environ.get("FK_CONTRACT_CHILD"):
    collect_ignore.append("contract")

# Property tests: "ci" (default) is bounded and derandomised, so the suite is fast and the same on
# every machine; `pytest --hypothesis-profile=thorough` explores far more examples.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=400, print_blob=True, **_common)
settings.load_profile(os.environ.get("FK_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
