"""The checks of the data an :class:`~fastkernels.nn.MLP` trains on and predicts from."""

from __future__ import annotations

import numpy as np

from .._backend import is_device_array
from .._validate import FLOAT_DTYPES, array_dtype, as_array, as_index_array, cast_float, check_finite


def check_data(model, X, y=None, names=("X", "y")):
    """Validated (X, y) in ``model``'s dtype; ``names`` are the arguments' names for errors.

    X must be finite and, for a float32 model, within float32 range *before* the cast
    (1e308 would become inf). Targets: class ids for softmax; for sigmoid and linear,
    floats (checked the same way) or integers/bools (0/1 labels), cast to the model's dtype.
    """
    nx, ny = names
    X = as_array(X, nx, dtypes=FLOAT_DTYPES, ndim=2)
    if X.shape[1] != model.layer_sizes[0]:
        raise ValueError(f"{nx} must have {model.layer_sizes[0]} columns (layer_sizes[0]), got {X.shape[1]}")
    check_finite(X, nx)  # before the cast: 1e308 is refused as out of range, NaN as NaN
    if is_device_array(X):  # used as is by the CUDA trainer: it cannot be cast on the way
        if model.backend != "cuda":
            raise TypeError(f"{nx} is a device array; pass a host array or use backend='cuda'")
        if array_dtype(X) != model.dtype:
            raise TypeError(f"{nx} on the device must have the model's dtype {model.dtype.name}, "
                            f"got {array_dtype(X).name}")
    else:
        X = cast_float(X, nx, model.dtype)
    if y is None:
        return X
    n_out = model.layer_sizes[-1]
    if model.output == "softmax":
        return X, as_index_array(y, ny, n=n_out, shape=(X.shape[0],))
    if not isinstance(y, np.ndarray):
        try:
            y = np.asarray(y)
        except Exception as exc:
            raise TypeError(f"{ny} must be array-like, got {type(y).__name__}") from exc
    if y.dtype.kind == "f":
        check_finite(y, ny)
        y = cast_float(y, ny, model.dtype)
    elif y.dtype.kind in "biu":  # 0/1 labels
        y = y.astype(model.dtype)
    else:
        raise TypeError(f"{ny} must hold numbers (float, int or bool), got dtype {y.dtype.name}")
    if y.ndim == 1 and n_out == 1:
        y = y.reshape(-1, 1)
    y = as_array(y, ny, dtypes=(model.dtype,), shape=(X.shape[0], n_out))
    if model.output == "sigmoid" and y.size:
        bad = (y < 0) | (y > 1)
        if bad.any():
            at = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), y.shape))
            raise ValueError(f"{ny} must lie in [0, 1] for a sigmoid output, got {float(y[at])!r} at index {at}")
    return X, y
