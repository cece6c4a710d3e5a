"""The MLP's saved-file format: what :meth:`MLP.save <fastkernels.nn.MLP.save>` writes and
:meth:`MLP.load <fastkernels.nn.MLP.load>` checks, entry by entry, before building a model."""

from __future__ import annotations

import os

import numpy as np

from .._io import load_npz, npz_entry, save_npz
from ._mlp_layout import BACKENDS, OUTPUTS, check_model_memory
from .activations import ACTIVATIONS

#: Saved-file format (:mod:`fastkernels._io`) and the versions :meth:`MLP.load` reads.
FILE_FORMAT, FILE_VERSION = "fastkernels.MLP", 1


def _path_name(path, name="path"):
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__} {path!r}") from None


def save_model(model, path):
    """:meth:`MLP.save` of ``model``."""
    where = _path_name(path)
    if not np.isfinite(model._flat).all():
        raise ValueError(f"flat_params hold {int((~np.isfinite(model._flat)).sum())} NaN or inf values "
                         f"(did training diverge?); not saving {where!r}")
    arrays = {"layer_sizes": np.array(model.layer_sizes, np.int64), "activation": np.array(model.activation),
              "output": np.array(model.output), "dropout": np.array(model.dropout, np.float64),
              "batch_norm": np.array(model.batch_norm), "dtype": np.array(model.dtype.name), "flat": model._flat}
    for i, (rm, rv) in model.running.items():
        if not (np.isfinite(rm).all() and np.isfinite(rv).all()):
            raise ValueError(f"the running statistics of layer {i} hold NaN or inf; not saving {where!r}")
        arrays[f"running_mean_{i}"], arrays[f"running_var_{i}"] = rm, rv
    save_npz(where, FILE_FORMAT, FILE_VERSION, arrays)


def load_model(cls, path, backend):
    """:meth:`MLP.load`: the model of class ``cls`` saved at ``path``."""
    where = _path_name(path)
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be 'auto', 'cpu', 'parallel' or 'cuda' for MLP, got {backend!r}")
    arrays = load_npz(where, FILE_FORMAT, {FILE_VERSION})

    def scalar(key, kind, dtype=None):
        return npz_entry(arrays, key, where, kind=kind, shape=(), dtype=dtype)[()]

    sizes = npz_entry(arrays, "layer_sizes", where, kind="iu", shape=(None,))
    sizes = [int(v) for v in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"{where}: entry 'layer_sizes' must hold at least two sizes >= 1, got {sizes}")
    activation, output = str(scalar("activation", "U")), str(scalar("output", "U"))
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}: entry 'activation' is {activation!r}, not one of {ACTIVATIONS}")
    if output not in OUTPUTS:
        raise ValueError(f"{where}: entry 'output' is {output!r}, not one of {OUTPUTS}")
    dropout = float(scalar("dropout", "f", np.float64))
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{where}: entry 'dropout' must lie in [0, 1), got {dropout!r}")
    batch_norm = bool(scalar("batch_norm", "b"))
    dtype = str(scalar("dtype", "U"))
    if dtype not in ("float32", "float64"):
        raise ValueError(f"{where}: entry 'dtype' must be 'float32' or 'float64', got {dtype!r}")
    total = check_model_memory(sizes, batch_norm, np.dtype(dtype).itemsize, f"{where}: layer_sizes")
    expected = {"layer_sizes", "activation", "output", "dropout", "batch_norm", "dtype", "flat"}
    hidden = sizes[1:-1] if batch_norm else []
    expected |= {f"running_{kind}_{i}" for i in range(len(hidden)) for kind in ("mean", "var")}
    extra = sorted(set(arrays) - expected)
    if extra:
        raise ValueError(f"{where}: unexpected entries {extra} for this architecture")

    def finite(key, shape):
        a = npz_entry(arrays, key, where, kind="f", shape=shape, dtype=dtype)
        if not np.isfinite(a).all():
            raise ValueError(f"{where}: entry {key!r} holds NaN or inf")
        return a

    flat = finite("flat", (total,))
    running = {}
    for i, n in enumerate(hidden):
        rm, rv = finite(f"running_mean_{i}", (n,)), finite(f"running_var_{i}", (n,))
        if (rv < 0).any():
            raise ValueError(f"{where}: entry 'running_var_{i}' holds a negative variance "
                             f"{float(rv[rv < 0][0])!r}")
        running[i] = (rm, rv)
    model = cls(sizes, activation, output, dropout=dropout, batch_norm=batch_norm, dtype=dtype, backend=backend)
    model._flat[...] = flat
    for i, (rm, rv) in running.items():
        model.running[i][0][...] = rm
        model.running[i][1][...] = rv
    return model
