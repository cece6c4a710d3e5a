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
