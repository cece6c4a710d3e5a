"""Backend names, their resolution, the CUDA probe and thread control.

Every hot-loop API takes ``backend="auto" | "cpu" | "parallel" | "cuda"``:

``"cpu"``
    serial ``@njit`` kernel (deterministic, no threading overhead);
``"parallel"``
    ``@njit(parallel=True)`` kernel with ``prange`` over independent work;
``"cuda"``
    ``@cuda.jit`` kernel from the area's ``_cuda`` module (needs numba-cuda and a
    GPU, or ``NUMBA_ENABLE_CUDASIM=1`` for the simulator);
``"auto"``
    cuda when an input already lives on the GPU, or when a GPU is present and
    the work is large; otherwise parallel for large work and cpu for small.

Nothing here imports ``numba.cuda`` at module import: the probe runs on first
use, so ``import fastkernels`` needs neither a GPU nor numba-cuda.
"""

from __future__ import annotations

import contextlib
import importlib
import operator
import os
from functools import lru_cache

import numba

BACKENDS = ("auto", "cpu", "parallel", "cuda")

# Work sizes (in elements touched) above which "auto" leaves the serial kernel.
# Below ~64k elements thread start-up costs more than it saves on 2-16 cores;
# below ~4M a host->device copy costs more than a CPU pass.
AUTO_PARALLEL_MIN_WORK = 1 << 16
AUTO_CUDA_MIN_WORK = 1 << 22


class BackendUnavailableError(RuntimeError):
    """Raised when ``backend="cuda"`` is requested but cannot run here."""


@lru_cache(maxsize=1)
def cuda_probe() -> tuple[bool, str]:
    """Return ``(available, reason)``; imports numba.cuda on first call only."""
    try:
        from numba import cuda
    except Exception as exc:  # numba-cuda missing or broken
        return False, f"numba.cuda cannot be imported ({exc}); install fastkernels[cuda]"
    try:
        if cuda.is_available():
            return True, "simulator" if cuda_simulator_enabled() else "gpu"
    except Exception as exc:  # driver present but failing
        return False, f"the CUDA driver failed to initialise ({exc})"
    return False, "no CUDA GPU or driver was found"


def cuda_simulator_enabled() -> bool:
    """True when Numba's CUDA simulator is switched on (``NUMBA_ENABLE_CUDASIM=1``)."""
    return bool(numba.config.ENABLE_CUDASIM)


def cuda_available() -> bool:
    """True when ``backend="cuda"`` can run (a GPU, or the CUDA simulator)."""
    return cuda_probe()[0]


def is_device_array(x) -> bool:
    """True for numba device arrays (real or simulated) and anything exposing
    ``__cuda_array_interface__`` (CuPy, PyTorch CUDA tensors, ...)."""
    return hasattr(x, "__cuda_array_interface__") or (hasattr(x, "copy_to_host") and hasattr(x, "shape"))


def check_backend(backend) -> str:
    """Validate a backend name without resolving it."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return backend


def resolve_backend(backend="auto", *, work: int = 0, arrays=(), cpu_only: str | None = None) -> str:
    """Turn a user's ``backend`` argument into ``"cpu"``, ``"parallel"`` or ``"cuda"``.

    Parameters
    ----------
    backend : {"auto", "cpu", "parallel", "cuda"}
        The user's choice.
    work : int
        Elements the call touches; drives the ``"auto"`` choice.
    arrays : sequence
        The call's array arguments; a device array among them forces ``"cuda"``
        under ``"auto"`` and is an error under a CPU backend.
    cpu_only : str, optional
        The calling function's name when it has no CUDA kernel: ``"auto"`` then never
        picks ``"cuda"`` (however large the work) and ``"cuda"`` raises ``ValueError``.

    Returns
    -------
    str
        ``"cpu"``, ``"parallel"`` or ``"cuda"``.

    Raises
    ------
    ValueError
        Unknown backend name, or device arrays passed to a CPU backend.
    BackendUnavailableError
        ``"cuda"`` requested where numba-cuda or a GPU is missing.
    """
    check_backend(backend)
    on_device = any(is_device_array(a) for a in arrays)
    if cpu_only is not None and (backend == "cuda" or on_device):
        raise ValueError(f"{cpu_only} runs on the CPU backends; pass host arrays and backend='auto', 'cpu' "
                         "or 'parallel'")
    if backend == "auto":
        if on_device:
            backend = "cuda"
        elif cpu_only is None and work >= AUTO_CUDA_MIN_WORK and cuda_available() and not cuda_simulator_enabled():
            backend = "cuda"
        elif work >= AUTO_PARALLEL_MIN_WORK and numba.get_num_threads() > 1:
            return "parallel"
        else:
            return "cpu"
    if backend == "cuda":
        ok, reason = cuda_probe()
        if not ok:
            raise BackendUnavailableError(
                f"backend='cuda' was requested but {reason}. "
                "Install 'fastkernels[cuda]' on a machine with an NVIDIA GPU, "
                "set NUMBA_ENABLE_CUDASIM=1 to use the simulator, or pass backend='cpu'."
            )
        return "cuda"
    if on_device:
        raise ValueError(
            f"backend={backend!r} runs on the host but a device array was passed; "
            "use backend='cuda' or copy it to the host with .copy_to_host()"
        )
    return backend


def load_cuda(module: str):
    """Import an area's CUDA module (e.g. ``"fastkernels.nn._rowwise_cuda"``) after checking CUDA.

    The import happens here, never at package import, so CPU-only installs work.
    """
    resolve_backend("cuda")
    return importlib.import_module(module)


def set_num_threads(n: int) -> None:
    """Set the number of threads ``parallel`` kernels use (wraps ``numba.set_num_threads``).

    Parameters
    ----------
    n : int
        1 <= n <= ``numba.config.NUMBA_NUM_THREADS`` (the pool size fixed at start-up;
        raise it with the ``NUMBA_NUM_THREADS`` environment variable).
    """
    limit = numba.config.NUMBA_NUM_THREADS
    if isinstance(n, bool):
        raise TypeError("n must be an integer, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"n must be an integer, got {type(n).__name__}") from None
    if not 1 <= n <= limit:
        raise ValueError(f"n must be in [1, {limit}] (NUMBA_NUM_THREADS), got {n}")
    numba.set_num_threads(n)


def get_num_threads() -> int:
    """Number of threads ``parallel`` kernels use in this thread."""
    return numba.get_num_threads()


@contextlib.contextmanager
def num_threads(n: int):
    """Context manager that sets the thread count and always restores the old one."""
    old = numba.get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(old)


def cache_dir() -> str:
    """Where Numba writes the on-disk cache of ``cache=True`` kernels.

    ``NUMBA_CACHE_DIR`` when the user set it; otherwise ``__pycache__`` beside each
    module when the install is writable, else Numba's per-user cache directory.
    """
    if numba.config.CACHE_DIR:
        return numba.config.CACHE_DIR
    pkg = os.path.dirname(os.path.abspath(__file__))
    if os.access(pkg, os.W_OK):
        return os.path.join(pkg, "<module>", "__pycache__")
    from numba.misc.appdirs import AppDirs

    return AppDirs(appname="numba", appauthor=False).user_cache_dir
