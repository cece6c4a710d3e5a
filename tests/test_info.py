"""The machine and build report (fastkernels._info) read directly; `fastkernels info` is in test_cli.py."""

import sys


def test_info_names_the_cpu_and_its_vector_isa():
    import platform

    from fastkernels._info import cpu_model, llvm_cpu, vector_isa

    isa = vector_isa()
    if platform.machine().lower() in ("x86_64", "amd64"):
        flags = open("/proc/cpuinfo").read().split() if sys.platform.startswith("linux") else []
        assert isa in ("AVX-512", "AVX2", "AVX", "SSE4.2")
        if flags and "avx512f" not in flags:
            assert isa != "AVX-512"
        if "avx2" in flags and "avx512bw" not in flags:
            assert isa == "AVX2"
    assert cpu_model() and llvm_cpu()
