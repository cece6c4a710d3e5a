"""``fk.info()`` / ``fastkernels info``: what the kernels will run on."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _threading_layer() -> str:
    """The layer parallel kernels use; found by running one tiny cached parallel kernel."""
    import numba

    from ._warmup import probe_parallel

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


def _cuda() -> dict:
    from ._backend import _cuda_probe, cuda_simulator_enabled

    ok, reason = _cuda_probe()
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
        threading layer and thread count; SVML state; CUDA availability and
        device; the Numba cache directory.
    """
    import numba

    from . import __version__
    from ._backend import cache_dir, get_num_threads

    d = {
        "fastkernels": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "numba": numba.__version__,
        "llvmlite": _version("llvmlite"),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "numba-cuda": _version("numba-cuda"),
        "threading_layer": _threading_layer(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
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
