"""``fk.info()`` / ``fastkernels info``: what the kernels will run on."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import numpy as np
from numba import prange

from ._jit import jit
from ._version import __version__


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


@jit(parallel=True)
def _probe(x):
    s = 0.0
    for i in prange(x.size):
        s += x[i]
    return s


def probe_parallel() -> None:
    """Run one tiny parallel kernel so Numba picks (and reports) its threading layer."""
    _probe(np.ones(4))


def _threading_layer() -> str:
    """The layer parallel kernels use; found by running one tiny cached parallel kernel."""
    import numba

    probe_parallel()
    try:
        return numba.threading_layer()
    except ValueError:
        return "unknown"


def _svml() -> str:
    from numba.misc import numba_sysinfo

    info = numba_sysinfo.get_sysinfo()
    return "operational" if info.get(numba_sysinfo._svml_operational) else (
        "not available (llvmlite built without SVML: fastkernels uses its own vectorisable exp)"
    )


def cpu_model() -> str:
    """The processor's marketing name (``/proc/cpuinfo``, ``sysctl`` on macOS), else the
    architecture."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        import subprocess

        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True, timeout=5).stdout.strip() or platform.machine()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def vector_isa() -> str:
    """The widest SIMD instruction set LLVM will compile the kernels for on this CPU.

    Read from LLVM's view of the host (what Numba targets), so it also reflects a
    ``NUMBA_CPU_NAME`` override's absence: ``"AVX-512"`` (foundation + BW/DQ/VL, the set
    LLVM uses for 512-bit code), ``"AVX2"``, ``"AVX"``, ``"SSE4.2"``, ``"SVE"``, ``"NEON"``,
    else the architecture name. Speedups over NumPy differ between them (about half on
    AVX2-only machines for the SIMD-bound kernels), so benchmark reports carry it.
    """
    try:
        import llvmlite.binding as ll

        feats = {k for k, v in ll.get_host_cpu_features().items() if v}
    except Exception:  # pragma: no cover - llvmlite always present with numba
        feats = set()
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= feats:
        return "AVX-512"
    for flag, name in (("avx2", "AVX2"), ("avx", "AVX"), ("sse4.2", "SSE4.2"), ("sve", "SVE"), ("neon", "NEON")):
        if flag in feats:
            return name
    machine = platform.machine().lower()
    return "NEON" if machine in ("arm64", "aarch64") else machine or "unknown"


def llvm_cpu() -> str:
    """The CPU name LLVM targets (e.g. ``znver3``, ``skylake-avx512``); ``NUMBA_CPU_NAME`` wins."""
    import numba

    if numba.config.CPU_NAME:
        return numba.config.CPU_NAME
    import llvmlite.binding as ll

    return ll.get_host_cpu_name()


def _cuda() -> dict:
    from ._backend import cuda_probe, cuda_simulator_enabled

    ok, reason = cuda_probe()
    out = {"available": ok, "detail": reason}
    if ok and not cuda_simulator_enabled():
        from numba import cuda

        dev = cuda.get_current_device()
        out["device"] = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
        out["compute_capability"] = ".".join(map(str, dev.compute_capability))
    return out


def info(as_dict: bool = False):
    """Describe the software and hardware the kernels run on.

    Parameters
    ----------
    as_dict : bool
        Return a dict instead of printing.

    Returns
    -------
    dict or None
        Versions of Python, numba, llvmlite, numpy, numba-cuda and fastkernels;
        the CPU model, its widest vector ISA (AVX-512, AVX2, NEON, ...) and the
        LLVM target name; threading layer and thread count; SVML state; CUDA
        availability and device; the Numba cache directory.
    """
    import numba

    from ._backend import cache_dir, get_num_threads

    d = {
        "fastkernels": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "vector_isa": vector_isa(),
        "llvm_cpu": llvm_cpu(),
        "numba": numba.__version__,
        "llvmlite": _version("llvmlite"),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "numba-cuda": _version("numba-cuda"),
        "threading_layer": _threading_layer(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT", "unset"),
        "num_threads": get_num_threads(),
        "max_threads": numba.config.NUMBA_NUM_THREADS,
        "svml": _svml(),
        "cuda": _cuda(),
        "cache_dir": cache_dir(),
    }
    if as_dict:
        return d
    width = max(map(len, d))
    for k, v in d.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items())
        print(f"{k.ljust(width)}  {v}")
    return None
