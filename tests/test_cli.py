"""The command line, run as a user would: in a subprocess."""

import json
import re
import subprocess
import sys

import pytest


def fk(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastkernels", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_info_prints_versions_threads_svml_cuda_and_cache():
    out = fk("info")
    assert out.returncode == 0, out.stderr
    for key in ("python", "numba", "llvmlite", "numpy", "numba-cuda", "threading_layer", "num_threads", "svml", "cuda",
                "cache_dir", "vector_isa", "llvm_cpu"):
        assert key in out.stdout


def test_info_json():
    out = fk("info", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["threading_layer"] in ("tbb", "omp", "workqueue") and d["num_threads"] >= 1
    assert isinstance(d["cuda"]["available"], bool)


def test_bench_list():
    out = fk("bench", "--list")
    assert out.returncode == 0, out.stderr
    assert "softmax" in out.stdout


def test_bench_runs_validates_and_writes_json_and_png(tmp_path):
    out = fk("bench", "--filter", "softmax", "--threads", "1", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "speedup" in out.stdout and "first call" in out.stdout
    assert "[1/" in out.stderr  # progress
    data = json.loads((tmp_path / "fastkernels-bench.json").read_text())
    assert data["meta"]["profile"] == "quick" and data["meta"]["num_threads"] == 1
    assert data["meta"]["vector_isa"] and data["meta"]["cpu"] and f"({data['meta']['vector_isa']}" in out.stdout
    assert all(r["status"] == "ok" and r["speedup"] > 0 for r in data["results"])
    assert (tmp_path / "fastkernels-bench.png").stat().st_size > 1000


@pytest.mark.bad_input
def test_bench_errors_are_reported_not_raised():
    out = fk("bench", "--area", "nosuch")
    assert out.returncode == 1 and "unknown area" in out.stderr
    out = fk("bench", "--filter", "no-such-case")
    assert out.returncode == 1 and "no benchmark case" in out.stderr
    out = fk("bench", "--threads", "100000")
    assert out.returncode == 1 and "n must be in" in out.stderr


def test_warmup_command():
    """Every area's warmup through the command line, one backend and precision (the float32
    variants are compiled by their own tests; all of them here cost ~80 s on 2 cores)."""
    out = fk("warmup", "--backend", "cpu", "--dtype", "float64")
    assert out.returncode == 0, out.stderr
    for area in ("nn", "neurons", "networks", "word2vec"):
        assert re.search(rf"warmup \[\d/4\] {area} cpu float64: [\d.]+ s, \d+ kernels compiled, \d+ loaded", out.stdout)
    assert "warmup done in" in out.stdout
    out = fk("warmup", "--dtype", "float16")
    assert out.returncode == 2 and "float16" in out.stderr


def test_coldstart_times_a_first_call_from_an_empty_cache_then_from_the_cache(tmp_path):
    """The cold-start benchmark on its cheapest case (the full run, every case and a warmup, takes
    minutes): the first process compiles, the second loads what the first cached."""
    out = fk("coldstart", "--case", "softmax_cross_entropy", "--no-warmup", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "softmax_cross_entropy" in out.stdout and "empty cache" in out.stdout and "under 5 s" in out.stdout
    data = json.loads((tmp_path / "fastkernels-coldstart.json").read_text())
    assert data["budgets"] == {"first_call_s": 5.0, "warmup_s": 60.0} and data["warmup_s"] is None
    (case,) = data["cases"]
    assert case["name"] == "softmax_cross_entropy" and case["area"] == "nn"
    assert case["cold_s"] > 0 and case["cold_compiled"] > 0
    assert case["cached_s"] > 0 and case["cached_compiled"] == 0
    assert case["within_budget"] == (case["cold_s"] < 5.0)
    assert data["meta"]["vector_isa"]


@pytest.mark.bad_input
def test_coldstart_lists_its_cases_and_refuses_unknown_ones():
    from fastkernels.bench import coldstart

    out = fk("coldstart", "--list")
    assert out.returncode == 0, out.stderr
    for name in coldstart.CASES:
        assert name in out.stdout
    out = fk("coldstart", "--case", "vision")
    assert out.returncode == 1 and "unknown cold-start case 'vision'" in out.stderr
    with pytest.raises(ValueError, match="unknown cold-start case"):
        coldstart.first_call("vision")
    with pytest.raises(TypeError, match="name"):
        coldstart.first_call(["simulate_lif", "simulate_hh"])
    with pytest.raises(ValueError, match="names: unknown"):
        coldstart.run(["simulate_lif", "vision"], warmup=False, verbose=False)  # refused before any case runs
    for bad in (0, 1.5):
        with pytest.raises((ValueError, TypeError), match="processes"):
            coldstart.full_warmup(processes=bad)
