"""Scale out on Dask: parameter sweeps, chunked populations, sharded corpora and batch scoring.

Needs the optional extra (``pip install "fastkernels[distributed]"``); importing this module
works without it and every call then says what to install. Nothing in the rest of the package
imports it. Every helper takes ``client=``: a ``dask.distributed.Client`` of any cluster
(``LocalCluster``, dask-jobqueue's ``SLURMCluster``, dask-kubernetes), by default the current
client, else a temporary ``LocalCluster`` with one single-threaded worker process per core.

* :func:`sweep` runs a function over a parameter grid (cartesian product or zipped columns), in
  chunks of grid points per task, results in grid order; a :func:`vectorized` function (such as
  :class:`PopulationRates`) gets a whole chunk in one call, one neuron per grid point;
* :func:`simulate_population` splits one population into slices of neurons whose noise and Poisson
  streams are keyed by the global neuron index: the merged result equals the single run bit for bit;
* :func:`build_vocabulary`, :func:`count_words`, :func:`count_pairs` count corpora sharded in files;
* :func:`predict_blocks` (:func:`predict`, :func:`predict_proba`) scores a Dask array block by
  block; :func:`grid_search` fits one model per grid point on the workers;
* :func:`warm_workers` / :class:`WarmupPlugin` compile (or load from Numba's on-disk cache) the
  kernels once per worker; ``progress=True`` shows Dask's own progress bar.

The design and a plan for a 100-node sweep are in ``docs/distributed.md``.
"""

from ._cluster import WarmupPlugin, auto_chunk, warm_workers
from ._corpus import build_vocabulary, count_pairs, count_words
from ._mlp import SearchResult, grid_search, predict, predict_blocks, predict_proba
from ._population import simulate_population
from ._rates import PopulationRates
from ._sweep import PointFailure, SweepError, point_seed, sweep, vectorized

__all__ = ["PointFailure", "PopulationRates", "SearchResult", "SweepError", "WarmupPlugin", "auto_chunk",
           "build_vocabulary", "count_pairs", "count_words", "grid_search", "point_seed", "predict",
           "predict_blocks", "predict_proba", "simulate_population", "sweep", "vectorized", "warm_workers"]
