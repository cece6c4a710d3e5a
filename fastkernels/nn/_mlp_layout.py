"""The MLP's architecture constants and its flat parameter layout (shared by the model,
its file format and its CUDA trainer)."""

from __future__ import annotations

import math

from .._validate import check_allocation

OUTPUTS = ("softmax", "sigmoid", "linear")
BACKENDS = ("auto", "cpu", "parallel", "cuda")


def check_backend(backend):
    """``backend`` if it is one of :data:`BACKENDS`, else a ``ValueError`` naming it."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be 'auto', 'cpu', 'parallel' or 'cuda' for MLP, got {backend!r}")
    return backend


def layout(layer_sizes, batch_norm):
    """(name, layer, shape) of every parameter, in the flat buffer's order."""
    n_layers = len(layer_sizes) - 1
    shapes = []
    for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        shapes += [("W", i, (n_out, n_in)), ("b", i, (n_out,))]
        if batch_norm and i < n_layers - 1:
            shapes += [("gamma", i, (n_out,)), ("beta", i, (n_out,))]
    return shapes


def n_params(layer_sizes, batch_norm):
    """Number of parameters (Python ints: no overflow for absurd sizes)."""
    return sum(math.prod(shape) for _, _, shape in layout(layer_sizes, batch_norm))


def check_model_memory(layer_sizes, batch_norm, itemsize, name):
    """Refuse up front a model whose buffers cannot fit: the flat parameters and gradients, the
    running statistics and the float64 draw of the widest weight matrix at initialisation."""
    total = n_params(layer_sizes, batch_norm)
    widest = max(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    hidden = sum(layer_sizes[1:-1]) if batch_norm else 0
    check_allocation((2 * total + 2 * hidden) * itemsize + 8 * widest, 1, name, what="bytes")
    return total
