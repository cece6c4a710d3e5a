"""Word vectors in two dimensions: PCA (NumPy SVD) or t-SNE (scikit-learn), and a labelled
scatter plot (matplotlib, imported on first use).

Every function validates its arguments before computing or drawing (a refused call draws
nothing).
"""

from __future__ import annotations

import os

import numpy as np

from .._random import check_seed
from .._validate import as_array, check_choice

METHODS = ("pca", "tsne")


def _rows(kv_or_vectors, words, name="kv_or_vectors"):
    """(m, d) float64 rows and their labels (None for a bare array); ``name``: the argument, for errors."""
    if hasattr(kv_or_vectors, "key_to_index") and hasattr(kv_or_vectors, "vectors"):
        kv = kv_or_vectors
        if words is None:
            words = list(kv.index_to_key)
        elif isinstance(words, str) or not hasattr(words, "__iter__"):
            raise TypeError(f"words must be a list of words, got {type(words).__name__} {words!r}")
        words = list(words)
        if not words:
            raise ValueError("words must name at least one word to project, got an empty list")
        rows = []
        for w in words:
            if not isinstance(w, str):
                raise TypeError(f"words must be str, got {type(w).__name__} {w!r}")
            if w not in kv.key_to_index:
                raise KeyError(f"word {w!r} is not in the vocabulary")
            rows.append(kv.key_to_index[w])
        # a KeyedVectors holds finite vectors already; another object (gensim's) is checked
        x = as_array(np.asarray(kv.vectors)[rows], f"{name}.vectors", dtypes=(np.float32, np.float64),
                     finite=True).astype(np.float64).reshape(len(rows), -1)
    else:
        if words is not None:
            raise TypeError("words selects rows of a KeyedVectors; with an array pass the rows you want")
        x = as_array(kv_or_vectors, name, dtypes=(np.float32, np.float64), ndim=2, finite=True).astype(np.float64)
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one vector of length >= 1 to project, got shape {x.shape}")
    return x, words


def _pca(x):
    """Projection on the two leading principal axes; each axis' sign makes its largest-magnitude
    loading positive (deterministic). Axes beyond the data's rank are zero.

    Computed on ``x`` scaled by a power of two that brings its largest entry near 1 (exact), so
    that the mean of huge values (1e308) does not overflow and subnormal ones keep their digits;
    the coordinates are scaled back (inf only where a coordinate exceeds the float64 range)."""
    e = int(np.frexp(np.abs(x).max())[1])
    x = np.ldexp(x, -e)  # x * 2**-e, exact (a factor 2**-e itself would overflow for subnormal x)
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    out = np.zeros((x.shape[0], 2))
    for k in range(min(2, vt.shape[0])):
        axis = vt[k] * np.sign(vt[k][np.argmax(np.abs(vt[k]))])
        if s[k] > 0:
            out[:, k] = xc @ axis
    with np.errstate(over="ignore"):
        return np.ldexp(out, e)


def _tsne(x, seed):
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise ImportError("method='tsne' needs scikit-learn (pip install scikit-learn); method='pca' needs "
                          "nothing more") from None
    if x.shape[0] < 3:
        raise ValueError(f"method='tsne' needs at least 3 vectors, got {x.shape[0]}")
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**31 - 1))
    elif seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    elif seed >= 2**32:  # scikit-learn takes 32-bit seeds: a larger one is hashed to one
        seed = int(np.random.SeedSequence(int(seed)).generate_state(1)[0])
    perplexity = min(30.0, (x.shape[0] - 1) / 3.0)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=int(seed))
    return np.asarray(tsne.fit_transform(x), np.float64)


def project_2d(kv_or_vectors, words=None, method="pca", seed=0):
    """Two-dimensional coordinates of word vectors.

    Parameters
    ----------
    kv_or_vectors : KeyedVectors or array_like of float, shape (m, d)
    words : list of str, optional
        With a KeyedVectors: the words to project (default all, in row order).
    method : {"pca", "tsne"}
        PCA: the centred vectors projected on their two leading principal axes (SVD), each axis
        signed so its largest-magnitude loading is positive. t-SNE: scikit-learn's ``TSNE``
        (``init="pca"``, perplexity ``min(30, (m - 1) / 3)``).
    seed : int, numpy.random.Generator or None
        t-SNE's random state (PCA is deterministic, but a bad seed is refused there too); ints
        from 2**32 up are hashed to scikit-learn's 32-bit range, None draws fresh entropy.

    Returns
    -------
    ndarray of float64, shape (m, 2)

    Raises
    ------
    KeyError
        A word not in the KeyedVectors.
    TypeError
        ``words`` with a bare array, non-float vectors, a bad ``seed``.
    ValueError
        Not 2-D or empty, non-finite values, an unknown ``method``, fewer than 3 vectors for t-SNE.
    ImportError
        ``method="tsne"`` without scikit-learn.
    """
    return _project(kv_or_vectors, words, method, seed, "kv_or_vectors")


def _project(kv_or_vectors, words, method, seed, name):
    """:func:`project_2d`, errors about the vectors naming the argument ``name``."""
    method = check_choice(method, "method", METHODS)
    check_seed(seed)  # refused even where nothing is drawn (PCA)
    x, _ = _rows(kv_or_vectors, words, name)
    return _pca(x) if method == "pca" else _tsne(x, seed)


def _check_figure_path(path):
    """Refuse, before anything is drawn, a path ``savefig`` would refuse after: a non-path, a
    suffix no matplotlib backend writes, a folder that does not exist."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}") from None
    from matplotlib.backend_bases import FigureCanvasBase

    where = os.fsdecode(path)
    suffix = os.path.splitext(where)[1][1:].lower()
    if suffix and suffix not in FigureCanvasBase.get_supported_filetypes():
        raise ValueError(f"path {where!r}: matplotlib cannot write format {suffix!r} (supported: "
                         f"{', '.join(sorted(FigureCanvasBase.get_supported_filetypes()))})")
    folder = os.path.dirname(where)
    if folder and not os.path.isdir(folder):
        raise FileNotFoundError(f"path {where!r}: folder {folder!r} does not exist")
    return path


def plot_words(kv, words, path=None, method="pca", ax=None, *, seed=0):
    """Scatter of ``words`` projected by :func:`project_2d`, each point labelled with its word.

    Parameters
    ----------
    kv : KeyedVectors
    words : list of str
    path : str or os.PathLike, optional
        Also write the figure there (PNG, or the format its suffix names).
    method : {"pca", "tsne"}
    ax : matplotlib.axes.Axes, optional
        Drawn on (default: a new figure's).
    seed : int or numpy.random.Generator
        For t-SNE.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    As :func:`project_2d`; ``TypeError`` for an ``ax`` that is not an Axes or a ``kv`` that is
    not a KeyedVectors.
    """
    if not (hasattr(kv, "key_to_index") and hasattr(kv, "vectors")):
        raise TypeError(f"kv must be a KeyedVectors, got {type(kv).__name__}")
    if ax is not None and not (hasattr(ax, "scatter") and hasattr(ax, "annotate")):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    if words is None or isinstance(words, str) or not hasattr(words, "__iter__"):
        raise TypeError(f"words must be a list of words to plot, got {words!r}")
    words = list(words)
    if path is not None:
        path = _check_figure_path(path)
    xy = _project(kv, words, method, seed, "kv")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(xy[:, 0], xy[:, 1], s=12)
    for (x, y), w in zip(xy, words):
        ax.annotate(w, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    ax.set_xlabel(f"{method.upper()} 1" if method == "pca" else "t-SNE 1")
    ax.set_ylabel(f"{method.upper()} 2" if method == "pca" else "t-SNE 2")
    if path is not None:
        ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    return ax


__all__ = ["plot_words", "project_2d"]
