"""The parameters of one :class:`~fastkernels.nn.MLP` architecture and the checks that lead to it.

:class:`~fastkernels.nn.MLP` is a scikit-learn style estimator: its constructor only stores the
hyper-parameters. :func:`check_architecture` validates those that fix the network, and
:class:`Network` holds what they build: the flat parameter and gradient buffers (every W, b,
gamma, beta a view into them), the batch-norm running statistics, the random generator of the
initialisation and shuffling, and the kernel-by-kernel forward, loss and backward passes
(:mod:`fastkernels.nn._mlp_passes`). ``fit`` builds a fresh one (or keeps training the last one
with ``warm_start=True``); the passes, the CUDA trainer and the file format all read a Network.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from .._random import check_seed
from .._validate import INT64_MAX, check_allocation, check_choice, check_dtype, check_flag, check_scalar
from . import _mlp_passes as _passes
from ._checks import check_sequence
from ._mlp_layout import OUTPUTS, check_backend, check_model_memory, layout, n_params
from .activations import ACTIVATIONS, NEEDS_Z


class NotFittedError(ValueError, AttributeError):
    """An :class:`~fastkernels.nn.MLP` used before it has parameters (as scikit-learn's
    ``NotFittedError``, a ``ValueError`` and an ``AttributeError``)."""


_WITH_SKLEARN = []


def not_fitted_error(message):
    """A :class:`NotFittedError`; once scikit-learn has been imported (by the caller: nothing here
    imports it) also an instance of ``sklearn.exceptions.NotFittedError``, so scikit-learn's
    ``except NotFittedError`` and its estimator checks recognise it."""
    skl = sys.modules.get("sklearn.exceptions")
    if skl is None:
        return NotFittedError(message)
    if not _WITH_SKLEARN:
        _WITH_SKLEARN.append(type("NotFittedError", (NotFittedError, skl.NotFittedError),
                                  {"__module__": __name__, "__doc__": NotFittedError.__doc__}))
    return _WITH_SKLEARN[0](message)


def check_layer_sizes(layer_sizes, n_in=None, n_out=None):
    """``layer_sizes`` as a list of ints; a ``None`` first (last) entry becomes ``n_in``
    (``n_out``) when given and stays ``None`` otherwise. Hidden sizes must be ints >= 1."""
    sizes = check_sequence(layer_sizes, "layer_sizes")
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
    out = []
    last = len(sizes) - 1
    for i, s in enumerate(sizes):
        if s is None and i in (0, last):
            out.append({0: n_in, last: n_out}[i])
        else:
            if s is None:
                raise TypeError(f"layer_sizes[{i}] must be an integer (only the first and the last size may be "
                                f"None, taken from the data), got None")
            out.append(check_scalar(s, f"layer_sizes[{i}]", integer=True, lo=1, hi=INT64_MAX))
    return out


def check_architecture(est, n_in=None, n_out=None):
    """The validated hyper-parameters of ``est`` that fix its network, as a dict of
    :class:`Network`'s keyword arguments (``sizes`` may hold None where the data decide)."""
    sizes = check_layer_sizes(est.layer_sizes, n_in, n_out)
    arch = dict(sizes=sizes, activation=check_choice(est.activation, "activation", ACTIVATIONS),
                output=check_choice(est.output, "output", OUTPUTS),
                dropout=check_scalar(est.dropout, "dropout", lo=0.0, hi=1.0, hi_open=True),
                batch_norm=check_flag(est.batch_norm, "batch_norm"), dtype=check_dtype(est.dtype, "dtype"),
                backend=check_backend(est.backend), seed=check_seed(est.seed))
    if None not in sizes:
        check_model_memory(sizes, arch["batch_norm"], arch["dtype"].itemsize, "layer_sizes")
    return arch


def check_rows_memory(sizes, dtype, rows, name, per_unit=2):
    """Refuse up front a pass whose activations (``rows`` x every layer's width, ``per_unit``
    arrays each) cannot fit in memory."""
    check_allocation(rows * sum(sizes[1:]) * per_unit, np.dtype(dtype).itemsize, name)


class Network:
    """Parameters, gradients and running statistics of one architecture (all arguments validated).

    ``pickle`` and ``copy.deepcopy`` give an independent network whose per-layer views alias its
    own flat buffer, so a copy trains exactly like the original.
    """

    def __init__(self, sizes, activation, output, dropout, batch_norm, dtype, backend, seed):
        self.layer_sizes = list(sizes)
        self.activation, self.output, self.dropout, self.batch_norm = activation, output, dropout, batch_norm
        self.dtype = np.dtype(dtype)
        self.backend = backend
        self._rng = np.random.default_rng(seed)
        self._dropout_seed = int(self._rng.integers(2**62))
        total = n_params(self.layer_sizes, self.batch_norm)
        self._flat = np.zeros(total, self.dtype)
        self._grad = np.zeros(total, self.dtype)
        self._make_views()
        self.running = {i: (np.zeros(n, self.dtype), np.ones(n, self.dtype))
                        for i, n in enumerate(self.layer_sizes[1:-1])} if self.batch_norm else {}
        self._init_weights()

    def same_architecture(self, arch):
        """The name of the first hyper-parameter in ``arch`` that differs from this network, or None."""
        mine = dict(sizes=self.layer_sizes, activation=self.activation, output=self.output, dropout=self.dropout,
                    batch_norm=self.batch_norm, dtype=self.dtype)
        for key, value in mine.items():
            if arch[key] != value:
                return "layer_sizes" if key == "sizes" else key
        return None

    def _make_views(self):
        """``params`` and ``_grads``: per-layer views into the flat buffers (never copies)."""
        self.params, self._grads = {}, {}
        offset = 0
        for name, i, shape in layout(self.layer_sizes, self.batch_norm):
            size = math.prod(shape)
            self.params[(name, i)] = self._flat[offset:offset + size].reshape(shape)
            self._grads[(name, i)] = self._grad[offset:offset + size].reshape(shape)
            offset += size

    # pickle and copy.deepcopy copy each array on its own, so the per-layer views would become
    # independent arrays and training (which updates the flat buffer) would no longer reach them:
    # they are left out of the state and rebuilt as views of the copied flat buffers.
    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("params", None)
        state.pop("_grads", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._make_views()

    @property
    def n_layers(self):
        return len(self.layer_sizes) - 1

    @property
    def flat_params(self):
        return self._flat

    def _init_weights(self):
        # He for the relu family, Glorot otherwise (uniform); small positive relu biases (seed 002 l. 2064)
        relu_like = self.activation in ("relu", "leaky_relu", "gelu", "softplus")
        for i in range(self.n_layers):
            W = self.params[("W", i)]
            n_out, n_in = W.shape
            hidden = i < self.n_layers - 1
            limit = math.sqrt(6.0 / n_in) if (relu_like and hidden) else math.sqrt(6.0 / (n_in + n_out))
            W[...] = self._rng.uniform(-limit, limit, W.shape)
            self.params[("b", i)][...] = 0.01 if (relu_like and hidden) else 0.0
            if ("gamma", i) in self.params:
                self.params[("gamma", i)][...] = 1.0

    # -- forward / backward (the kernel-by-kernel path: fastkernels.nn._mlp_passes) ----------

    def _forward(self, X, training, step=0):
        """Output-layer logits and the per-layer caches the backward pass needs."""
        return _passes.forward(self, X, training, step)

    def _dropout_step(self, step, i):
        """The dropout ``step`` number of hidden layer ``i`` in update ``step`` (one mask per pair)."""
        return step * self.n_layers + i

    def _loss(self, z, y, return_grad=True):
        return _passes.loss(self, z, y, return_grad)

    def _backward(self, dz, caches, step=0):
        """Fill the flat gradient buffer from dL/dz of the output layer."""
        _passes.backward(self, dz, caches, step)

    def logits(self, X):
        """Output-layer pre-activations of validated ``X``, evaluation mode."""
        self._check_rows_memory(X.shape[0], "X.shape[0]")
        return self._forward(X, training=False)[0]

    def _check_rows_memory(self, rows, name, per_unit=2):
        check_rows_memory(self.layer_sizes, self.dtype, rows, name, per_unit)

    def _accuracy(self, z, y):
        """Training accuracy of logits ``z`` on encoded targets ``y`` (per label for sigmoid)."""
        if self.output == "softmax":
            return float(np.mean(z.argmax(axis=1) == y)) if len(y) else float("nan")
        if self.output == "sigmoid":
            return float(np.mean((z > 0) == (y > 0.5))) if len(y) else float("nan")
        return float("nan")

    def _compiled_ok(self, optimizer):
        """Whether :func:`fastkernels.nn._mlp_epoch.train_epoch` covers this model and optimizer."""
        return (self.output == "softmax" and not self.batch_norm and self.dropout == 0
                and self.activation not in NEEDS_Z and optimizer in ("sgd", "adam", "adamw"))
