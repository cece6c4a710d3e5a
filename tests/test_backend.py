import numba
import pytest

import fastkernels as fk
from fastkernels import _backend as B


def test_explicit_cpu_backends_resolve_to_themselves():
    assert B.resolve_backend("cpu") == "cpu"
    assert B.resolve_backend("parallel") == "parallel"


@pytest.mark.parametrize("bad", ["gpu", "CPU", "", None, 3, "numba"])
def test_unknown_backend_is_rejected_with_the_choices(bad):
    with pytest.raises(ValueError, match="backend must be one of"):
        B.resolve_backend(bad)


def test_auto_picks_cpu_for_small_and_parallel_for_large_work():
    assert B.resolve_backend("auto", work=10) == "cpu"
    with fk.num_threads(1):
        assert B.resolve_backend("auto", work=10**7) == "cpu"
    if numba.config.NUMBA_NUM_THREADS > 1:
        with fk.num_threads(2):
            assert B.resolve_backend("auto", work=10**7) == "parallel"


def test_cuda_request_without_gpu_raises_a_clear_error():
    # the main test process never enables the simulator and CI has no GPU
    if B.cuda_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(B.BackendUnavailableError, match="backend='cuda' was requested"):
        B.resolve_backend("cuda")
    with pytest.raises(fk.BackendUnavailableError, match="fastkernels\\[cuda\\]"):
        fk.nn.softmax([[1.0, 2.0]], backend="cuda")


def test_auto_never_picks_cuda_without_gpu():
    if B.cuda_available():
        pytest.skip("a CUDA device is present")
    assert B.resolve_backend("auto", work=10**9) in ("cpu", "parallel")


class _FakeDeviceArray:
    __cuda_array_interface__ = {"shape": (2,), "typestr": "<f4", "data": (0, False), "version": 3}
    shape = (2,)


def test_device_arrays_are_detected_and_refused_by_cpu_backends():
    dev = _FakeDeviceArray()
    assert B.is_device_array(dev)
    with pytest.raises(ValueError, match="device array"):
        B.resolve_backend("cpu", arrays=(dev,))


def test_set_and_get_num_threads_round_trip():
    old = fk.get_num_threads()
    try:
        fk.set_num_threads(1)
        assert fk.get_num_threads() == 1
    finally:
        fk.set_num_threads(old)


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-1, ValueError), (10**6, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)])
def test_set_num_threads_rejects_bad_values(bad, exc):
    with pytest.raises(exc, match="n must"):
        fk.set_num_threads(bad)


def test_num_threads_context_restores_after_an_exception():
    old = fk.get_num_threads()
    with pytest.raises(RuntimeError):
        with fk.num_threads(1):
            assert fk.get_num_threads() == 1
            raise RuntimeError
    assert fk.get_num_threads() == old


def test_cache_dir_respects_numba_cache_dir(monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", "/tmp/somewhere")
    assert B.cache_dir() == "/tmp/somewhere"


def test_cpu_only_functions_never_get_cuda(monkeypatch):
    monkeypatch.setattr(B, "cuda_available", lambda: True)  # as on a GPU machine
    monkeypatch.setattr(B, "cuda_simulator_enabled", lambda: False)
    assert B.resolve_backend("auto", work=10**9, cpu_only="f") in ("cpu", "parallel")
    with pytest.raises(ValueError, match="f runs on the CPU backends"):
        B.resolve_backend("cuda", cpu_only="f")
    with pytest.raises(ValueError, match="f runs on the CPU backends"):
        B.resolve_backend("auto", arrays=(_FakeDeviceArray(),), cpu_only="f")
    from fastkernels.neurons import poisson_spike_trains
    from fastkernels.word2vec import log_uniform_candidates

    with pytest.raises(ValueError, match="poisson_spike_trains runs on the CPU"):
        poisson_spike_trains(10.0, 3, 100.0, backend="cuda")
    with pytest.raises(ValueError, match="log_uniform_candidates runs on the CPU"):
        log_uniform_candidates([1], 5, 100, backend="cuda")
    with pytest.raises(ValueError, match="backend must be one of"):
        log_uniform_candidates([1], 5, 100, backend="gpu")


def _omp_env_after_import(env):
    import json
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = ("import json, os, fastkernels; print(json.dumps({k: os.environ.get(k) for k in "
            "('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')}))")
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_sets_a_passive_omp_policy_with_a_short_spin_unless_the_user_chose():
    """PASSIVE keeps Numba's idle threads off the BLAS threads' cores; the short spin keeps per-step
    parallel regions (networks, f-I curves) from waking a sleeping thread every step."""
    assert _omp_env_after_import({}) == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "10000"}
    assert _omp_env_after_import({"OMP_WAIT_POLICY": "ACTIVE"}) == {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": None}
    assert _omp_env_after_import({"GOMP_SPINCOUNT": "5"}) == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "5"}


def test_brian2_programs_run_with_the_users_omp_settings(monkeypatch):
    """Brian2's standalone programs get the environment the user had: what fastkernels set is lifted
    while they run and restored after."""
    import os

    from fastkernels.neurons._brian2_peer import _own_omp_policy

    for name, value in (("OMP_WAIT_POLICY", "PASSIVE"), ("GOMP_SPINCOUNT", "10000")):
        monkeypatch.setenv(name, value)
        monkeypatch.setenv(f"FASTKERNELS_SET_{name}", "1")
    with _own_omp_policy():
        assert "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE" and os.environ["GOMP_SPINCOUNT"] == "10000"
    monkeypatch.delenv("FASTKERNELS_SET_GOMP_SPINCOUNT")  # the user's own spin count stays
    with _own_omp_policy():
        assert os.environ["GOMP_SPINCOUNT"] == "10000" and "OMP_WAIT_POLICY" not in os.environ
