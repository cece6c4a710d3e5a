"""``fastkernels bench --backend cuda`` (under the simulator): the kernels are also timed on inputs
copied to the GPU once, in their own explained column; a function that takes host arrays only gets none."""

import numpy as np

from fastkernels import bench
from fastkernels.bench import runner


def test_a_cuda_run_adds_the_inputs_on_gpu_column(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 1})
    case = next(c for c in bench.cases(["nn"]) if c.name == "softmax")
    res = runner.run_case(case, case.sizes["test"][-1], backend="cuda", profile="quick", log=lambda m: None)
    assert res.status == "ok" and res.peers[runner.ON_DEVICE] > 0
    assert runner.ON_DEVICE_NOTE in runner.table([res])


def test_a_host_only_kernel_gets_no_column_and_says_why(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 1})

    def host_only(x, backend):
        if not isinstance(x, np.ndarray):
            raise TypeError("x must be a NumPy array")
        return 2 * x

    case = bench.Case(
        name="double", area="nn", description="doubles", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=host_only, baseline=lambda x: x * 2,
        sizes={"test": [dict(n=8)], "quick": [], "full": []}, label=lambda n: str(n),
    )
    logged = []
    res = runner.run_case(case, dict(n=8), backend="cuda", profile="quick", log=logged.append)
    assert res.status == "ok" and runner.ON_DEVICE not in res.peers
    assert any("no 'inputs on GPU' column (TypeError: x must be a NumPy array)" in m for m in logged)


def _counter_case(kernel):
    return bench.Case(
        name="bump", area="nn", description="adds one in place", make_inputs=lambda n: (np.zeros(n),),
        kernel=kernel, baseline=lambda x: x + 1, sizes={"test": [dict(n=4)], "quick": [], "full": []},
        label=lambda n: str(n))


def _bump(x, backend):
    """In place, as an optimizer step: the host call leaves its inputs one step on."""
    host = x.copy_to_host() if hasattr(x, "copy_to_host") else x
    host += 1
    if hasattr(x, "copy_to_device"):
        x.copy_to_device(host)
    return host.copy()


def test_the_gpu_column_starts_from_fresh_inputs_and_is_checked(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 1})
    res = runner.run_case(_counter_case(_bump), dict(n=4), backend="cuda", profile="quick", log=lambda m: None)
    assert res.status == "ok" and res.peers[runner.ON_DEVICE] > 0  # not one step on from the host's call

    def wrong_on_device(x, backend):
        return x.copy_to_host() if hasattr(x, "copy_to_host") else _bump(x, backend)

    logged = []
    res = runner.run_case(_counter_case(wrong_on_device), dict(n=4), backend="cuda", profile="quick",
                          log=logged.append)
    assert res.status == "ok" and runner.ON_DEVICE not in res.peers
    assert any("no 'inputs on GPU' column (AssertionError" in m for m in logged)
