"""Dask glue shared by the distributed helpers: the client, task failures, chunk sizes, warmup.

Nothing here imports Dask at module level except the optional :class:`distributed.WorkerPlugin`
base of :class:`WarmupPlugin` (``object`` when Dask is missing), so ``import
fastkernels.distributed`` works without the extra and a call says what to install.
"""

from __future__ import annotations

import contextlib
import pickle
import traceback
from dataclasses import dataclass

try:  # the plugin's base class; without Dask the module still imports (calls then explain)
    from distributed import WorkerPlugin as _PluginBase
except ImportError:  # pragma: no cover - exercised only without the extra
    _PluginBase = object

from .._areas import AREAS
from .._backend import set_num_threads, get_num_threads
from .._validate import check_dtype, check_flag, check_scalar

#: Tasks per Dask thread the automatic chunk size aims for (load balance against per-task overhead).
TASKS_PER_THREAD = 4
#: Grid points per task of a vectorized function: a population call of fewer neurons spends more
#: on its fixed cost (validation, propagators, buffers: ~0.2-0.5 ms) than on the neurons.
MIN_VECTOR_CHUNK = 512
MAX_VECTOR_CHUNK = 8192
#: Grid points per task of a function called once per point.
MAX_SCALAR_CHUNK = 256
#: Neurons per slice of a chunked population (at least; a slice's fixed cost as above).
MIN_SLICE = 1024


def require_distributed():
    """The ``distributed`` module, or ``ImportError`` saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError("fastkernels.distributed needs Dask's distributed scheduler: "
                          "pip install 'fastkernels[distributed]'") from exc
    return distributed


def check_client(client):
    """Refuse a ``client`` that is neither None nor a ``distributed.Client`` (``TypeError``)."""
    distributed = require_distributed()
    if client is not None and not isinstance(client, distributed.Client):
        raise TypeError(f"client must be a dask.distributed.Client or None, got {type(client).__name__}")
    return client


@contextlib.contextmanager
def using_client(client):
    """The client to submit to: ``client``; else the current one (``distributed.get_client()``);
    else a fresh ``LocalCluster`` (one single-threaded worker process per core), closed on exit."""
    distributed = require_distributed()
    check_client(client)
    if client is None:
        try:
            client = distributed.get_client()
        except ValueError:
            client = None
    if client is not None:
        yield client
        return
    cluster = distributed.LocalCluster(threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def identity(x):
    """A task holding ``x`` (a sweep's function, a vocabulary), so it travels once per worker and Dask
    can recompute it if the worker holding it dies (scattered data could not be)."""
    return x


def n_threads(client) -> int:
    """Dask threads of the cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def auto_chunk(n_items: int, threads: int, vectorized: bool) -> int:
    """The chunk size :func:`~fastkernels.distributed.sweep` chooses for ``n_items`` grid points on
    ``threads`` Dask threads: :data:`TASKS_PER_THREAD` tasks per thread, clipped to
    [:data:`MIN_VECTOR_CHUNK`, :data:`MAX_VECTOR_CHUNK`] points for a vectorized function and
    [1, :data:`MAX_SCALAR_CHUNK`] for one called per point.

    Raises
    ------
    TypeError, ValueError
        ``n_items`` not an int >= 0, ``threads`` not an int >= 1, ``vectorized`` not a flag.
    """
    n_items = check_scalar(n_items, "n_items", integer=True, lo=0)
    threads = check_scalar(threads, "threads", integer=True, lo=1)
    vectorized = check_flag(vectorized, "vectorized")
    per = -(-n_items // (TASKS_PER_THREAD * threads))  # ceil, exact for any int
    if vectorized:
        return max(1, min(n_items, max(MIN_VECTOR_CHUNK, min(per, MAX_VECTOR_CHUNK))))
    return max(1, min(per, MAX_SCALAR_CHUNK))


def check_chunk(chunk, name="chunk"):
    """``chunk``: None or an int >= 1 (``TypeError``/``ValueError`` naming it; bools, floats and
    arrays are refused)."""
    if chunk is None:
        return None
    return check_scalar(chunk, name, integer=True, lo=1)


def check_threads(numba_threads):
    """``numba_threads``: None (leave Numba's setting) or an int >= 1."""
    if numba_threads is None:
        return None
    return check_chunk(numba_threads, "numba_threads")


@contextlib.contextmanager
def numba_threads(n):
    """Run the block with ``n`` Numba threads in this thread (None: unchanged); Dask supplies the
    parallelism, so the default of one thread per task keeps workers from oversubscribing cores."""
    if n is None:
        yield
        return
    import numba

    before = get_num_threads()
    set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        set_num_threads(before)


@dataclass
class TaskFailure:
    """An exception raised inside a task, carried back as data (the task itself succeeds, so its
    neighbours' results and Dask's bookkeeping are unaffected).

    Attributes
    ----------
    type_name : str
        The exception's class name.
    message : str
    traceback : str
        The worker-side traceback.
    error : BaseException or None
        The exception itself when it survives pickling, else None.
    fields : dict
        Extra attributes (a SimulationError's ``step``, ``time``, ``neuron``).
    """

    type_name: str
    message: str
    traceback: str
    error: object = None
    fields: dict = None

    @classmethod
    def capture(cls, exc: BaseException) -> "TaskFailure":
        fields = {k: getattr(exc, k) for k in ("step", "time", "neuron") if hasattr(exc, k)}
        try:
            error = pickle.loads(pickle.dumps(exc))
        except Exception:
            error = None
        return cls(type(exc).__name__, str(exc), "".join(traceback.format_exception(exc)), error, fields)

    def exception(self) -> BaseException:
        """The original exception when it was picklable, else a ``RuntimeError`` carrying its text."""
        if isinstance(self.error, BaseException):
            return self.error
        return RuntimeError(f"{self.type_name}: {self.message}")


def check_names(value, name, known):
    """A tuple of names from ``value`` (a str or a sequence of str), each in ``known``."""
    if isinstance(value, str):
        value = (value,)
    try:
        value = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of names, got {type(value).__name__}") from None
    for v in value:
        if not isinstance(v, str):
            raise TypeError(f"{name} must hold strings, got {v!r}")
        if known is not None and v not in known:
            raise ValueError(f"{name}: unknown name {v!r}; known: {tuple(known)}")
    return value


def check_dtypes(value, name="dtypes") -> tuple:
    """``dtypes`` as :func:`fastkernels.warmup` reads it (one dtype, or a list or tuple of them, each
    float32 or float64 as a type, name or ``np.dtype``), returned as a tuple of names."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        value = (value,)
    return tuple(check_dtype(d, name).name for d in value)


class WarmupPlugin(_PluginBase):
    """A Dask worker plugin that compiles (or loads from Numba's cache) the kernels of ``areas``
    when a worker starts, and again on every worker that joins or restarts.

    Parameters are those of :func:`fastkernels.warmup` (checked here, when the plugin is made:
    ``TypeError``/``ValueError`` naming ``areas``, ``backends`` or ``dtypes``). Register it with
    ``client.register_plugin(WarmupPlugin(("neurons",)))`` or :func:`warm_workers`.
    """

    name = "fastkernels-warmup"

    def __init__(self, areas=("neurons",), backends=("cpu",), dtypes=("float64",)):
        self.areas = check_names(areas, "areas", AREAS)
        self.backends = check_names(backends, "backends", ("cpu", "parallel", "cuda"))
        self.dtypes = check_dtypes(dtypes)
        self.seconds = None

    def setup(self, worker=None):
        from .._warmup import warmup

        self.seconds = warmup(self.areas, backends=self.backends, dtypes=self.dtypes)


def _warm(areas, backends, dtypes):
    from .._warmup import warmup

    return warmup(areas, backends=backends, dtypes=dtypes)


def warm_workers(client=None, areas=("neurons",), *, backends=("cpu",), dtypes=("float64",), plugin=True) -> dict:
    """Compile (or load from cache) the kernels of ``areas`` on every worker now.

    With Numba's on-disk cache (every kernel uses ``cache=True``) the first worker on a machine
    compiles and writes the cache; workers sharing that file system (``NUMBA_CACHE_DIR`` or the
    package directory) then only load it, in a fraction of the compile time.

    Parameters
    ----------
    client : dask.distributed.Client, optional
        Default: the current client.
    areas : sequence of str
        Subset of :data:`fastkernels._areas.AREAS`.
    backends, dtypes
        As in :func:`fastkernels.warmup`.
    plugin : bool
        Also register a :class:`WarmupPlugin`, so workers that join or restart later warm up too.

    Returns
    -------
    dict
        Worker address -> seconds spent per area.

    Raises
    ------
    TypeError, ValueError
        Bad ``client``, ``areas``, ``backends``, ``dtypes`` (float32/float64 only) or ``plugin``
        (checked before anything runs on a worker).
    ImportError
        Dask is not installed.
    """
    require_distributed()
    check_client(client)
    areas = check_names(areas, "areas", AREAS)
    backends = check_names(backends, "backends", ("cpu", "parallel", "cuda"))
    dtypes = check_dtypes(dtypes)
    plugin = check_flag(plugin, "plugin")
    with using_client(client) as c:
        out = c.run(_warm, areas, backends, dtypes)
        if plugin:
            c.register_plugin(WarmupPlugin(areas, backends, dtypes))
    return out


def show_progress(futures, progress):
    """Dask's own progress bar over ``futures`` when ``progress`` (a notebook widget or a text bar)."""
    if progress:
        require_distributed().progress(futures)
