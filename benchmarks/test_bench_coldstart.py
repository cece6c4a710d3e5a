"""Cold start (``fastkernels coldstart``): each area's first calls from an empty Numba cache, each in
a fresh process, and a full ``fastkernels warmup`` into an empty cache. One round each (a second
round would find the cache filled); the budgets ride along in ``extra_info``, never asserted."""

import pytest

from fastkernels.bench import coldstart


@pytest.mark.parametrize("name", list(coldstart.CASES))
def test_first_call_from_an_empty_cache(benchmark, name):
    out = {}

    def first_call():
        out["r"] = coldstart.first_call(name, cached=False)

    benchmark.group = "cold start: first calls"
    benchmark.pedantic(first_call, rounds=1, iterations=1)
    r = out["r"]
    benchmark.extra_info.update(area=r.area, call_s=r.cold_s, kernels_compiled=r.cold_compiled,
                                budget_s=coldstart.FIRST_CALL_BUDGET, within_budget=r.within_budget)


def test_full_warmup_from_an_empty_cache(benchmark):
    out = {}

    def warmup():
        out["s"] = coldstart.full_warmup()

    benchmark.group = "cold start: full warmup"
    benchmark.pedantic(warmup, rounds=1, iterations=1)
    benchmark.extra_info.update(warmup_s=out["s"], budget_s=coldstart.WARMUP_BUDGET,
                                within_budget=out["s"] < coldstart.WARMUP_BUDGET)
