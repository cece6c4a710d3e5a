"""fastkernels: Numba-compiled CPU and CUDA kernels for neural computation.

Areas (subpackages, imported on first use): :mod:`fastkernels.nn` (losses,
dense layers, optimizers), :mod:`fastkernels.neurons`, :mod:`fastkernels.networks`
and :mod:`fastkernels.word2vec`. Importing the package compiles nothing and
needs no GPU.
"""

from ._version import __version__  # noqa: F401

import os as _os

# Numba's OpenMP threads otherwise spin after every parallel region and fight the
# BLAS threads that run between our kernels (3-10x slower training loops measured
# here). PASSIVE alone puts them to sleep at once, and waking a thread costs tens of
# microseconds on a VM: kernels that open a short parallel region per step (networks,
# the f-I curve) then ran slower on 2 threads than on 1. A brief spin (GOMP_SPINCOUNT
# 10 000, libgomp's; ~0.1 ms) bridges their serial gaps and leaves the BLAS threads alone
# (the MLP epoch unchanged). Read when Numba first starts its thread pool; a user's own
# settings win.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    # so child processes that are not ours (Brian2's standalone programs) can be run without it
    _os.environ["FASTKERNELS_SET_OMP_WAIT_POLICY"] = "1"
    if "GOMP_SPINCOUNT" not in _os.environ:
        _os.environ["GOMP_SPINCOUNT"] = "10000"
        _os.environ["FASTKERNELS_SET_GOMP_SPINCOUNT"] = "1"

from ._areas import AREAS as _AREAS  # noqa: E402
from ._backend import (  # noqa: E402
    BACKENDS,
    BackendUnavailableError,
    cuda_available,
    get_num_threads,
    num_threads,
    set_num_threads,
)
from ._info import info  # noqa: E402
from ._random import random_normal, random_uniform, resolve_seed  # noqa: E402
from ._warmup import warmup  # noqa: E402



def __getattr__(name):
    # Areas load lazily so `import fastkernels` stays light.
    if name in _AREAS:
        import importlib

        return importlib.import_module(f"fastkernels.{name}")
    raise AttributeError(f"module 'fastkernels' has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "cuda_available",
    "get_num_threads",
    "info",
    "networks",
    "neurons",
    "nn",
    "num_threads",
    "random_normal",
    "random_uniform",
    "resolve_seed",
    "set_num_threads",
    "warmup",
    "word2vec",
]
