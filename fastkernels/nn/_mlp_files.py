"""The MLP's saved-file format: what :meth:`MLP.save <fastkernels.nn.MLP.save>` writes and
:meth:`MLP.load <fastkernels.nn.MLP.load>` checks, entry by entry, before building a model."""

from __future__ import annotations

import os

import numpy as np

from .._io import load_npz, npz_entry, save_npz
from ._mlp_layout import OUTPUTS, check_backend, check_model_memory
from .activations import ACTIVATIONS

#: Saved-file format (:mod:`fastkernels._io`) and the versions :meth:`MLP.load` reads.
FILE_FORMAT, FILE_VERSION = "fastkernels.MLP", 1


def _path_name(path, name="path"):
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__} {path!r}") from None


def savable_classes(classes):
    """``classes_`` as an array ``numpy.savez`` writes without pickle (object arrays of strings
    become str arrays), or a ``ValueError`` naming ``classes_``."""
    classes = np.asarray(classes)
    if classes.dtype.kind == "O":
        if not all(isinstance(c, str) for c in classes.tolist()):
            kinds = sorted({type(c).__name__ for c in classes.tolist()})
            raise ValueError(f"classes_ holds labels of type {', '.join(kinds)}, which the file format cannot store "
                             f"without pickle; fit on ints, floats, bools or strings to save the model")
        classes = classes.astype(str)
    if classes.dtype.kind not in "biufU":
        raise ValueError(f"classes_ of dtype {classes.dtype} cannot be saved; fit on ints, floats, bools or strings")
    return classes


def save_model(net, path, classes=None, target_1d=False):
    """:meth:`MLP.save` of the network ``net`` (and the fitted ``classes`` of a softmax output,
    ``target_1d`` for a model fit on a 1-D target)."""
    where = _path_name(path)
    if not np.isfinite(net._flat).all():
        raise ValueError(f"flat_params hold {int((~np.isfinite(net._flat)).sum())} NaN or inf values "
                         f"(did training diverge?); not saving {where!r}")
    arrays = {"layer_sizes": np.array(net.layer_sizes, np.int64), "activation": np.array(net.activation),
              "output": np.array(net.output), "dropout": np.array(net.dropout, np.float64),
              "batch_norm": np.array(net.batch_norm), "dtype": np.array(net.dtype.name), "flat": net._flat}
    for i, (rm, rv) in net.running.items():
        if not (np.isfinite(rm).all() and np.isfinite(rv).all()):
            raise ValueError(f"the running statistics of layer {i} hold NaN or inf; not saving {where!r}")
        arrays[f"running_mean_{i}"], arrays[f"running_var_{i}"] = rm, rv
    if classes is not None and net.output == "softmax":
        arrays["classes"] = savable_classes(classes)
    if target_1d:
        arrays["target_1d"] = np.array(True)
    save_npz(where, FILE_FORMAT, FILE_VERSION, arrays)


def read_model(path, backend):
    """:meth:`MLP.load`: the checked contents of the file at ``path`` as a dict (``arch``: the
    :class:`~fastkernels.nn._mlp_network.Network` arguments but the seed; ``flat``; ``running``;
    ``classes`` (None when not stored); ``target_1d``)."""
    where = _path_name(path)
    check_backend(backend)
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
    if output == "softmax":
        expected.add("classes")  # optional: written for a fitted model
    elif sizes[-1] == 1:
        expected.add("target_1d")  # optional: written for a model fit on a 1-D target
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
    classes = None
    if "classes" in arrays:
        classes = npz_entry(arrays, "classes", where, kind="biufU", shape=(sizes[-1],))
        if classes.dtype.kind == "f" and not np.isfinite(classes).all():
            raise ValueError(f"{where}: entry 'classes' holds NaN or inf")
        if classes.size > 1 and not (classes[1:] > classes[:-1]).all():
            raise ValueError(f"{where}: entry 'classes' must hold distinct labels in sorted order")
    target_1d = bool(scalar("target_1d", "b")) if "target_1d" in arrays else False
    arch = dict(sizes=sizes, activation=activation, output=output, dropout=dropout, batch_norm=batch_norm,
                dtype=np.dtype(dtype), backend=backend)
    return dict(arch=arch, flat=flat, running=running, classes=classes, target_1d=target_1d)
