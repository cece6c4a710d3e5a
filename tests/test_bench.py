"""The benchmark registry and runner, on every registered case at its tiny 'test' sizes."""

import json

import numba
import numpy as np
import pytest

import fastkernels

from fastkernels import bench
from fastkernels.bench import runner

ALL = bench.cases()


def test_every_area_registers_cases_with_all_profiles():
    assert ALL, "no benchmark case registered"
    for case in ALL:
        assert {"test", "quick", "full"} <= set(case.sizes)
        assert case.description and case.area in bench.AREA_MODULES


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
@pytest.mark.parametrize("backend", ["cpu", "parallel"])
def test_each_case_validates_and_times_at_test_sizes(case, backend, monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})
    for size in case.sizes["test"]:
        res = runner.run_case(case, size, backend=backend, profile="quick", log=lambda m: None)
        assert res.status == "ok", res.status
        assert res.numpy_s > 0 and res.fastkernels_s > 0 and res.first_call_s > 0
        assert res.speedup == res.numpy_s / res.fastkernels_s


def test_a_wrong_kernel_is_reported_failed_and_not_timed():
    case = bench.Case(
        name="broken", area="nn", description="adds one", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=lambda x, backend: x + 1, baseline=lambda x: x.copy(),
        sizes={"test": [dict(n=4)], "quick": [], "full": []}, label=lambda n: str(n),
    )
    res = runner.run_case(case, dict(n=4), backend="cpu", profile="quick", log=lambda m: None)
    assert res.status.startswith("FAILED") and res.fastkernels_s is None


def test_missing_peer_is_skipped_and_present_peer_is_timed(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})

    def absent():
        raise ImportError

    case = bench.Case(
        name="double", area="nn", description="doubles", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=lambda x, backend: 2 * x, baseline=lambda x: x * 2,
        sizes={"test": [dict(n=8)], "quick": [], "full": []}, label=lambda n: str(n),
        peers={"absent": absent, "present": lambda: (lambda x: x + x), "wrong": lambda: (lambda x: x)},
    )
    res = runner.run_case(case, dict(n=8), backend="cpu", profile="quick", log=lambda m: None)
    assert "absent" not in res.peers and res.peers["present"] > 0 and res.peers["wrong"] is None


def test_a_self_timed_peer_is_checked_and_reports_its_own_seconds(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 3})
    seconds = iter([50.0, 5.0, 1.0, 2.0])  # the first (checked) call builds: left out

    def standalone():  # a peer whose call includes a build the comparison leaves out
        return lambda x: bench.SelfTimed(x + x, next(seconds))

    case = bench.Case(
        name="double", area="nn", description="doubles", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=lambda x, backend: 2 * x, baseline=lambda x: x * 2,
        sizes={"test": [dict(n=8)], "quick": [], "full": []}, label=lambda n: str(n),
        peers={"standalone": standalone, "wrong": lambda: (lambda x: bench.SelfTimed(x, 1.0))},
    )
    res = runner.run_case(case, dict(n=8), backend="cpu", profile="quick", log=lambda m: None)
    assert res.peers["standalone"] == 2.0 and res.peers["wrong"] is None  # the median of its three runs


def test_bounds_are_timed_unchecked_and_explained_under_the_table(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})

    def half_the_work():
        """does half the kernel's work"""
        return lambda x: x  # a different output: a bound is never checked

    case = bench.Case(
        name="double", area="nn", description="doubles", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=lambda x, backend: 2 * x, baseline=lambda x: x * 2,
        sizes={"test": [dict(n=8)], "quick": [], "full": []}, label=lambda n: str(n),
        bounds={"half": half_the_work},
    )
    res = runner.run_case(case, dict(n=8), backend="cpu", profile="quick", log=lambda m: None)
    assert res.status == "ok" and res.peers["half"] > 0
    monkeypatch.setattr(runner, "cases", lambda: [case])
    text = runner.table([res])
    assert "half (speedup vs half)" in text and "half: does half the kernel's work" in text


def test_a_bound_that_takes_a_backend_gets_the_runs(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})
    seen = set()

    def same_backend():
        """the kernel's work on the run's backend"""
        return lambda x, backend: seen.add(backend) or x

    case = bench.Case(
        name="double", area="nn", description="doubles", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=lambda x, backend: 2 * x, baseline=lambda x: x * 2,
        sizes={"test": [dict(n=8)], "quick": [], "full": []}, label=lambda n: str(n),
        bounds={"same": same_backend},
    )
    res = runner.run_case(case, dict(n=8), backend="cpu", profile="quick", log=lambda m: None)
    assert res.peers["same"] > 0 and seen == {"cpu"}


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs a pool of 2+ threads")
def test_a_thread_scaling_case_is_also_timed_on_one_thread_in_parallel_runs(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})
    seen = set()

    def kernel(x, backend):
        seen.add((backend, fastkernels.get_num_threads()))
        return 2 * x

    case = bench.Case(
        name="double", area="nn", description="doubles", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=kernel, baseline=lambda x: x * 2,
        sizes={"test": [dict(n=8)], "quick": [], "full": []}, label=lambda n: str(n), thread_scaling=True,
    )
    with fastkernels.num_threads(2):
        res = runner.run_case(case, dict(n=8), backend="parallel", profile="quick", log=lambda m: None)
        assert fastkernels.get_num_threads() == 2  # restored after the one-thread calls
    assert res.peers[runner.ONE_THREAD] > 0 and seen == {("parallel", 2), ("parallel", 1)}
    monkeypatch.setattr(runner, "cases", lambda: [case])
    assert f"{runner.ONE_THREAD}: {runner.ONE_THREAD_NOTE}" in runner.table([res])
    for backend, threads in (("cpu", 2), ("parallel", 1)):  # nothing to compare against
        with fastkernels.num_threads(threads):
            res = runner.run_case(case, dict(n=8), backend=backend, profile="quick", log=lambda m: None)
        assert runner.ONE_THREAD not in res.peers


def test_register_rejects_duplicates_and_missing_profiles():
    case = ALL[0]
    with pytest.raises(ValueError, match="already registered"):
        bench.register(bench.Case(**{**case.__dict__}))
    with pytest.raises(ValueError, match="lacks sizes"):
        bench.register(bench.Case(**{**case.__dict__, "name": "x", "sizes": {"quick": []}}))


def test_reports_table_json_and_png(tmp_path, monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})
    case = ALL[0]
    results = [runner.run_case(case, s, backend="cpu", profile="quick", log=lambda m: None) for s in case.sizes["test"]]
    text = runner.table(results)
    assert "speedup" in text and case.name in text and "first call" in text
    runner.to_json(results, tmp_path / "b.json", meta={"k": 1})
    data = json.loads((tmp_path / "b.json").read_text())
    assert data["meta"] == {"k": 1} and data["results"][0]["speedup"] > 0
    row = data["results"][0]
    assert data["speedup"] == runner.SPEEDUP and row["speedups"]["numpy"] == row["speedup"]
    runner.to_png(results, tmp_path / "b.png", title="t")
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_format_time_units():
    assert runner.format_time(2.5) == "2.5 s"
    assert runner.format_time(0.0123) == "12.3 ms"
    assert runner.format_time(4.2e-6) == "4.2 us"
    assert runner.format_time(None) == "-"


def test_speedup_means_the_same_in_table_json_and_png(tmp_path):
    # issue 18: the table's torch column was fastkernels over torch, the PNG's torch bar torch over NumPy.
    # Now every ratio is the other's time / fastkernels' time: how many times faster fastkernels is.
    r = runner.Result("softmax", "nn", "8x8", "cpu", numpy_s=4.0, fastkernels_s=1.0,
                      peers={"torch": 2.0, "slowpeer": 0.5, "broken": None})
    assert r.speedup == 4.0 and r.speedup_vs("torch") == 2.0 and r.speedup_vs("slowpeer") == 0.5
    assert r.speedups == {"numpy": 4.0, "torch": 2.0, "slowpeer": 0.5, "broken": None}
    text = runner.table([r])
    assert "speedup vs NumPy" in text and "torch (speedup vs torch)" in text and runner.SPEEDUP in text
    row = next(line for line in text.splitlines() if line.startswith("softmax"))
    assert "4.00x" in row and "(2.00x)" in row and "(0.50x)" in row
    runner.to_json([r], tmp_path / "b.json", meta={})
    data = json.loads((tmp_path / "b.json").read_text())
    assert data["results"][0]["speedups"] == {"numpy": 4.0, "torch": 2.0, "slowpeer": 0.5, "broken": None}
    series = dict(runner.chart_series([r]))
    assert series["vs NumPy"] == [4.0] and series["vs torch"] == [2.0] and series["vs slowpeer"] == [0.5]
    assert "vs broken" not in series
    runner.to_png([r], tmp_path / "b.png", title="t")
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_size_the_backend_cannot_run_is_skipped_with_its_reason(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})
    case = bench.Case(
        name="double", area="nn", description="doubles", make_inputs=lambda n: (np.arange(n, dtype=float),),
        kernel=lambda x, backend: 2 * x, baseline=lambda x: x * 2,
        sizes={"test": [], "quick": [dict(n=8), dict(n=9)], "full": []}, label=lambda n: str(n),
        unsupported=lambda backend, n: "nine is host-only" if n == 9 and backend == "cpu" else None,
    )
    monkeypatch.setattr(runner, "cases", lambda areas, filter: [case])
    logged = []
    results = runner.run(backend="cpu", log=logged.append)
    assert [r.size for r in results] == ["8"]
    assert any("skipped double 9 (cpu): nine is host-only" in m for m in logged)
    assert bench.registry.cpu_only("cuda") and bench.registry.cpu_only("parallel") is None


def test_a_kernel_that_raises_is_reported_and_the_run_goes_on(monkeypatch):
    monkeypatch.setitem(runner.PROFILES, "quick", {"min_time": 1e-4, "rounds": 2})

    def refuses(x, backend):
        raise ValueError("x is too large")

    mk = dict(area="nn", description="d", make_inputs=lambda n: (np.arange(n, dtype=float),), baseline=lambda x: x * 2,
              sizes={"test": [], "quick": [dict(n=8)], "full": []}, label=lambda n: str(n))
    cases = [bench.Case(name="refuses", kernel=refuses, **mk),
             bench.Case(name="double", kernel=lambda x, backend: 2 * x, **mk)]
    monkeypatch.setattr(runner, "cases", lambda areas, filter: cases)
    results = runner.run(backend="cpu", log=lambda m: None)
    assert results[0].status == "ERROR: ValueError: x is too large" and results[0].fastkernels_s is None
    assert results[1].status == "ok"
