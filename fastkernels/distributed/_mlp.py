"""MLP scoring of a Dask array block by block, and a grid search with one fit per task.

Written against the estimator methods only (``fit(X, y, **kw)``, ``predict``, ``predict_proba``,
``decision_function``, ``score``), so it serves :class:`fastkernels.nn.MLP` and any
scikit-learn-style estimator; what ``fit`` returns is ignored (the fitted object is the model).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Mapping

import numpy as np

from .._random import seed_kept
from .._validate import check_choice
from ._cluster import check_chunk, check_client, check_flag, require_distributed
from ._sweep import ERRORS, SweepError, check_seed, grid_point, make_grid, require_pandas, sweep

METHODS = ("predict", "predict_proba", "decision_function")


def _apply(block, model, method):
    return getattr(model, method)(block)


def predict_blocks(model, X, *, method="predict"):
    """``model.<method>`` applied to a Dask array block by block (lazily: ``.compute()`` runs it).

    The model travels once per worker (one node of the graph), the blocks as NumPy arrays.

    Parameters
    ----------
    model : object
        A fitted model with ``method`` (e.g. :class:`fastkernels.nn.MLP`).
    X : dask.array.Array or ndarray, shape (N, n_features)
        Rows to score; column chunks are joined (each block holds whole rows). A NumPy array is
        wrapped with Dask's automatic row chunks.
    method : {"predict", "predict_proba", "decision_function"}

    Returns
    -------
    dask.array.Array
        ``(N,)`` or ``(N, k)``, chunked like ``X``'s rows; dtype and shape from ``method`` on zero rows.

    Raises
    ------
    TypeError
        ``model`` a class or without ``method``; ``X`` not an array.
    ValueError
        An unknown ``method``, ``X`` not 2-D; what ``method`` refuses on zero rows of ``X``'s dtype.
    """
    require_distributed()
    import dask
    import dask.array as da

    check_choice(method, "method", METHODS)
    if isinstance(model, type):
        raise TypeError(f"model must be a fitted model, got the class {model.__name__}")
    if not callable(getattr(model, method, None)):
        raise TypeError(f"model ({type(model).__name__}) has no {method}() method")
    if not isinstance(X, (np.ndarray, da.Array)):
        raise TypeError(f"X must be a dask array (or a numpy array), got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows, features), got shape {X.shape}")
    if not math.isfinite(X.shape[1]):
        raise ValueError(f"X must have a known number of columns, got shape {X.shape} (compute_chunk_sizes() first)")
    # the model's own checks of X's dtype and width, on zero rows, before any graph is built
    probe = np.asarray(getattr(model, method)(np.zeros((0, X.shape[1]), dtype=X.dtype)))
    if isinstance(X, np.ndarray):  # Dask sizes "auto" chunks by bytes, which objects do not have
        X = da.from_array(X, chunks=("auto" if X.dtype.kind != "O" else max(1, X.shape[0]), -1))
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    held = dask.delayed(model, pure=True)
    if probe.ndim == 1:
        return X.map_blocks(_apply, held, method, drop_axis=1, chunks=(X.chunks[0],), dtype=probe.dtype,
                            meta=probe[:0])
    return X.map_blocks(_apply, held, method, chunks=(X.chunks[0],) + tuple((s,) for s in probe.shape[1:]),
                        dtype=probe.dtype, meta=probe[:0])


def predict(model, X):
    """:func:`predict_blocks` with ``method="predict"``."""
    return predict_blocks(model, X, method="predict")


def predict_proba(model, X):
    """:func:`predict_blocks` with ``method="predict_proba"``."""
    return predict_blocks(model, X, method="predict_proba")


def _score(model, X, y):
    if callable(getattr(model, "score", None)):
        return float(model.score(X, y))
    return float(np.mean(np.asarray(model.predict(X)) == np.asarray(y)))


class FitScore:
    """One grid point of :func:`grid_search`: build, fit, score (a picklable sweep function)."""

    def __init__(self, factory, build_keys, fit_keys, X, y, X_val, y_val, fit_params, keep, seed_to):
        self.factory, self.build_keys, self.fit_keys = factory, set(build_keys), set(fit_keys)
        self.X, self.y, self.X_val, self.y_val = X, y, X_val, y_val
        self.fit_params, self.keep, self.seed_to = dict(fit_params), keep, seed_to
        self.__name__ = getattr(factory, "__name__", type(factory).__name__)

    def __call__(self, seed=None, **point):
        build = {k: v for k, v in point.items() if k in self.build_keys}
        fit = {**self.fit_params, **{k: v for k, v in point.items() if k in self.fit_keys}}
        if seed is not None:
            (build if self.seed_to == "build" else fit)["seed"] = seed
        model = self.factory(**build)
        model.fit(self.X, self.y, **fit)
        score = _score(model, self.X if self.X_val is None else self.X_val, self.y if self.y_val is None else self.y_val)
        return {"score": score, "model": model} if self.keep else {"score": score}


@dataclasses.dataclass
class SearchResult:
    """What :func:`grid_search` returns.

    Attributes
    ----------
    params : list of dict
        The grid points, in grid order.
    scores : ndarray
        Their scores (NaN where the fit failed).
    best_index : int
    best_params : dict
    best_score : float
    models : list or None
        The fitted models (``return_models=True``), None at failed points.
    failures : list of PointFailure
    """

    params: list
    scores: np.ndarray
    best_index: int
    best_params: dict
    best_score: float
    models: list = None
    failures: list = dataclasses.field(default_factory=list)

    def to_frame(self):
        """A pandas DataFrame: one row per grid point, its parameters and ``score``.

        Raises
        ------
        TypeError, ValueError
            ``params`` not a list of dicts, or not as long as ``scores`` (a record edited by hand).
        ImportError
            pandas is not installed.
        """
        if not isinstance(self.params, (list, tuple)):
            raise TypeError(f"params must be a list of dicts, got {type(self.params).__name__}")
        for i, p in enumerate(self.params):
            if not isinstance(p, Mapping):
                raise TypeError(f"params[{i}] must be a dict of parameter name -> value, got {type(p).__name__}")
        if np.ndim(self.scores) != 1 or len(self.scores) != len(self.params):
            raise ValueError(f"scores must hold one score per grid point ({len(self.params)}), got shape "
                             f"{np.shape(self.scores)}")
        pd = require_pandas("SearchResult.to_frame()")
        return pd.DataFrame([{**p, "score": s} for p, s in zip(self.params, self.scores)])


def _keys(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: it may take any keyword
        return set(), True
    var = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    return {k for k, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}, var


def grid_search(factory, grid, X, y, *, validation=None, fit_params=None, product=True, seed=None, client=None,
                chunk=1, errors="raise", return_models=False, progress=False):
    """Fit one model per grid point on the workers and gather the scores.

    Parameters
    ----------
    factory : callable
        ``factory(**build_params)`` returns an unfitted model (a class such as
        :class:`fastkernels.nn.MLP`, or a function). Grid names it takes are passed to it; the other
        names must be keywords of the model's ``fit`` and are passed there.
    grid : dict of str -> sequence
        As in :func:`~fastkernels.distributed.sweep` (cartesian product, or zipped with ``product=False``).
    X, y : array_like
        Training data; sent once per worker.
    validation : (X_val, y_val), optional
        Scored with ``model.score`` (or the accuracy of ``predict``); default the training data.
    fit_params : dict, optional
        Fixed keywords of every ``fit`` (``epochs``, ``verbose=False``, ...).
    seed : None, int or numpy.random.Generator
        Point ``i`` gets ``seed=point_seed(seed, i)``, passed to ``factory`` when it takes ``seed``,
        else to ``fit`` (a Generator is drawn from once, as in :func:`~fastkernels.distributed.sweep`,
        and put back as it was when the call raises).
    client, chunk, errors, progress
        As in :func:`~fastkernels.distributed.sweep` (default one fit per task).
    return_models : bool
        Gather the fitted models too.

    Returns
    -------
    SearchResult

    Raises
    ------
    TypeError, ValueError
        Bad arguments or grid, a name neither ``factory`` nor ``fit`` takes (a model is built on the
        client from the first point to check, before anything is submitted; ``client``, ``chunk``,
        ``errors``, ``progress``, ``seed`` are checked before that model is built). ``X``, ``y`` and
        ``validation``'s arrays are the model's to check: its ``fit``/``score`` errors come back as
        failed grid points.
    SweepError
        A fit or score raised (``errors="raise"``), naming the grid point.
    """
    require_distributed()
    if not callable(factory):
        raise TypeError(f"factory must be callable (a model class or function), got {type(factory).__name__}")
    cols = make_grid(grid, product)
    return_models = check_flag(return_models, "return_models")
    check_choice(errors, "errors", ERRORS)
    check_client(client)
    check_chunk(chunk)
    check_flag(progress, "progress")
    check_seed(seed)  # without drawing: sweep draws once everything is valid
    fit_params = {} if fit_params is None else fit_params
    if not isinstance(fit_params, dict):
        raise TypeError(f"fit_params must be a dict, got {type(fit_params).__name__}")
    if validation is not None and (not isinstance(validation, (tuple, list)) or len(validation) != 2):
        raise TypeError("validation must be a pair (X_val, y_val)")
    build_keys, build_var = _keys(factory)
    build = [k for k in cols if k in build_keys or build_var]
    first = {k: v for k, v in grid_point(cols, 0).items() if k in build}
    if seed is not None and "seed" in build_keys:
        first["seed"] = 0
    model = factory(**first)
    if not callable(getattr(model, "fit", None)):
        raise TypeError(f"factory returned a {type(model).__name__}, which has no fit() method")
    fit_keys, fit_var = _keys(model.fit)
    fit_keys -= {"X", "y"}
    rest = [k for k in cols if k not in build]
    unknown = [k for k in rest if k not in fit_keys] if not fit_var else []
    if unknown:
        raise ValueError(f"unknown parameter name(s) {unknown}: neither the factory ({sorted(build_keys)}) nor "
                         f"fit ({sorted(fit_keys)}) takes them")
    bad = [k for k in fit_params if not fit_var and k not in fit_keys]
    if bad:
        raise ValueError(f"fit_params: fit() takes no {bad}")
    seed_to = "build" if "seed" in build_keys else "fit"
    if seed is not None and seed_to == "fit" and "seed" not in fit_keys and not fit_var:
        raise ValueError("seed is given but neither the factory nor fit() takes a 'seed' parameter")
    X_val, y_val = (None, None) if validation is None else validation
    fn = FitScore(factory, build, rest, X, y, X_val, y_val, fit_params, return_models, seed_to)
    with seed_kept(seed):  # a SweepError leaves a Generator seed as it was
        out = sweep(fn, cols, product=False, vectorized=False, client=client, chunk=chunk, seed=seed,
                    errors="collect", progress=progress)
        values, failures = out
        if failures and errors == "raise":
            raise SweepError(f"fit/score raised on {len(failures)} of {len(values)} grid points; first: "
                             f"{failures[0]}", failures, values) from failures[0].error
    scores = np.array([np.nan if v is None else v["score"] for v in values], dtype=np.float64)
    params = [grid_point(cols, i) for i in range(scores.size)]
    best = int(np.nanargmax(scores)) if np.isfinite(scores).any() else -1
    return SearchResult(params, scores, best, params[best] if best >= 0 else {},
                        float(scores[best]) if best >= 0 else float("nan"),
                        [None if v is None else v.get("model") for v in values] if return_models else None, failures)
