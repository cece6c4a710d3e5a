"""The checks of the data an :class:`~fastkernels.nn.MLP` trains on and predicts from, and the
encoding of class labels (any sortable labels: ints, strings, ...) to output units."""

from __future__ import annotations

import numpy as np

from .._backend import is_device_array
from .._validate import FLOAT_DTYPES, INDEX_DTYPES, array_dtype, as_array, as_index_array, cast_float, host_values


def check_finite_data(x, name):
    """Raise ``ValueError`` (saying NaN or inf) if ``x`` holds a non-finite value."""
    values = host_values(x)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        pos = tuple(int(p) for p in np.unravel_index(i, values.shape))
        raise ValueError(f"{name} must be finite (no NaN or inf), but {int(bad.sum())} entries are not "
                         f"(first at index {pos[0] if len(pos) == 1 else pos}: {values.ravel()[i]!r})")


def check_X(X, name, n_in, dtype, backend):
    """Validated ``X`` in ``dtype``: 2-D floats, ``n_in`` columns (any number >= 1 when None),
    finite and, for float32, within range *before* the cast (1e308 would become inf)."""
    if type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{name} is a scipy sparse {type(X).__name__}: sparse input is not supported, pass a dense "
                        f"array ({name}.toarray())")
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind in ("b", "i", "u"):  # not cast silently (int64 beyond 2**24 would round in float32)
        raise TypeError(f"{name} must have dtype float32 or float64, got {np.dtype(X.dtype).name}; convert it "
                        f"with {name}.astype(np.float32)")
    X = as_array(X, name, dtypes=FLOAT_DTYPES)
    if X.ndim != 2:
        hint = (f". Reshape your data: {name}.reshape(-1, 1) for a single feature, {name}.reshape(1, -1) for a "
                f"single sample") if X.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-dimensional (samples, features), got shape {tuple(X.shape)}{hint}")
    if n_in is None and X.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={tuple(X.shape)}) while a minimum of 1 is required "
                         f"(layer_sizes[0] is taken from {name})")
    if n_in is not None and X.shape[1] != n_in:
        # scikit-learn's wording: its n_features_in_ checks look for it
        raise ValueError(f"{name} has {X.shape[1]} features, but MLP is expecting {n_in} features as input "
                         f"(layer_sizes[0])")
    check_finite_data(X, name)  # before the cast: 1e308 is refused as out of range, NaN as NaN
    if is_device_array(X):  # used as is by the CUDA trainer: it cannot be cast on the way
        if backend != "cuda":
            raise TypeError(f"{name} is a device array; pass a host array or use backend='cuda'")
        if array_dtype(X) != dtype:
            raise TypeError(f"{name} on the device must have the model's dtype {dtype.name}, "
                            f"got {array_dtype(X).name}")
        return X
    return cast_float(X, name, dtype)


def _missing(y, name):
    if y is None:  # scikit-learn's wording (its check_requires_y_none looks for it)
        raise ValueError(f"MLP requires {name} to be passed, but the target {name} is None")


def _host_array(y, name, what):
    """``y`` (required) as a host NumPy array; a TypeError naming ``name`` when NumPy cannot read it."""
    _missing(y, name)
    if is_device_array(y):
        return host_values(y)
    if isinstance(y, np.ndarray):
        return y
    try:
        return np.asarray(y)
    except Exception as exc:
        raise TypeError(f"{name} must be {what}, got {type(y).__name__} that NumPy cannot read as one "
                        f"({exc})") from None


def check_targets(y, name, output, n_out, dtype, n_rows):
    """Sigmoid or linear targets as a ``(n_rows, n_out)`` array of ``dtype`` and whether they
    came 1-D. ``n_out`` None: taken from ``y`` (1 for a 1-D ``y``). Floats are checked finite
    (and within a float32 model's range) before the cast; ints and bools are 0/1 labels."""
    y = _host_array(y, name, "array-like")
    if y.dtype.kind == "f":
        check_finite_data(y, name)
        y = cast_float(y, name, dtype)
    elif y.dtype.kind in "biu":  # 0/1 labels
        y = y.astype(dtype)
    else:
        raise TypeError(f"{name} must hold numbers (float, int or bool), got dtype {y.dtype.name}")
    one_d = y.ndim == 1 and n_out in (None, 1)
    if one_d:
        y = y.reshape(-1, 1)
    elif n_out is None:
        if y.ndim != 2 or y.shape[1] < 1:
            raise ValueError(f"{name} must have shape ({n_rows},) or ({n_rows}, n_outputs >= 1), "
                             f"got {tuple(y.shape)}")
        n_out = y.shape[1]
    y = as_array(y, name, dtypes=(dtype,), shape=(n_rows, n_out if n_out is not None else 1))
    if output == "sigmoid" and y.size:
        bad = (y < 0) | (y > 1)
        if bad.any():
            at = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), y.shape))
            raise ValueError(f"{name} must lie in [0, 1] for a sigmoid output, got {float(y[at])!r} at index {at}")
    return y, one_d


def as_labels(y, name, n_rows):
    """``y`` as a 1-D host array of ``n_rows`` class labels: ints, bools, integral floats,
    strings or other sortable objects."""
    y = _host_array(y, name, "an array of class labels")
    if y.size == 0 and y.dtype.kind == "f":
        y = y.astype(np.int64)  # np.asarray([]) is float64
    if y.dtype.kind not in "biufUSO":
        raise TypeError(f"{name} must hold class labels (ints, bools, strings...), got dtype {y.dtype.name}")
    if y.shape != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},) (one class label per row of X), got {tuple(y.shape)}")
    if y.dtype.kind == "f":
        check_finite_data(y, name)
        frac = y != np.round(y)
        if frac.any():  # scikit-learn's wording for continuous targets given to a classifier
            raise ValueError(f"Unknown label type: continuous. {name} holds non-integer floats (first "
                             f"{float(y[np.argmax(frac)])!r}) where a softmax output needs class labels; "
                             f"output='linear' fits continuous targets")
    return y


def encode(y, classes, name=None):
    """Output-unit ids of labels ``y`` in sorted ``classes``: int64, -1 for a label that is not
    a class (or, with ``name``, a ``ValueError`` naming it)."""
    if y.size == 0:
        return np.zeros(0, np.int64)
    if (classes.dtype.kind in "biuf" and y.dtype.kind in "biuf") or \
            (classes.dtype.kind in "US" and y.dtype.kind == classes.dtype.kind):
        at = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        codes = np.where(classes[at] == y, at, -1).astype(np.int64)
    else:
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        try:
            codes = np.fromiter((lookup.get(v, -1) for v in y.tolist()), np.int64, y.size)
        except TypeError:  # an unhashable label
            codes = np.full(y.size, -1, np.int64)
    if name is not None and (codes < 0).any():
        unknown = y[codes < 0]
        raise ValueError(f"{name} holds {unknown.size} labels that are not among the model's classes_ "
                         f"{classes.tolist()[:10]} (first {unknown[0]!r})")
    return codes


def fit_labels(y, name, n_out, n_rows, classes=None):
    """(output-unit ids, classes_) of training labels ``y``.

    ``classes`` given (a warm start): every label must be one of them. Otherwise, with a known
    number of outputs ``n_out``, numeric labels all in ``[0, n_out)`` are the unit ids themselves
    (``classes_ = 0..n_out-1``); any other labels map in sorted order to the units and must number
    exactly ``n_out``. ``n_out`` None: one unit per distinct label.
    """
    y = as_labels(y, name, n_rows)
    if classes is not None:
        return encode(y, classes, name), classes
    if n_out is not None and y.dtype.kind in "iuf" and (y.size == 0 or (y.min() >= 0 and y.max() < n_out)):
        codes = y if y.dtype in INDEX_DTYPES else y.astype(np.int64)
        return np.ascontiguousarray(codes), np.arange(n_out).astype(y.dtype)
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"{name} holds labels that cannot be sorted (mixed types?): {exc}") from None
    if n_out is not None and len(classes) != n_out:
        shown = classes.tolist()[:10]
        raise ValueError(f"{name} holds {len(classes)} distinct labels {shown}{'...' if len(classes) > 10 else ''} "
                         f"but the model has {n_out} outputs (layer_sizes[-1]): class ids must lie in "
                         f"[0, {n_out}) or the labels must number exactly {n_out}")
    return codes.reshape(-1).astype(np.int64), classes


def class_ids(y, name, n_out, n_rows):
    """Class ids in ``[0, n_out)`` of a model without ``classes_`` (never fit)."""
    _missing(y, name)
    return as_index_array(y, name, n=n_out, shape=(n_rows,))
