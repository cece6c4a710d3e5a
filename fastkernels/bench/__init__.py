"""Benchmark cases and the runner behind ``fastkernels bench``."""

from .registry import AREA_MODULES, Case, SelfTimed, cases, register
from .runner import PROFILES, SPEEDUP, Result, run, run_case, table, to_json, to_png

__all__ = ["AREA_MODULES", "Case", "SelfTimed", "cases", "register", "PROFILES", "SPEEDUP", "Result", "run", "run_case", "table", "to_json", "to_png"]
