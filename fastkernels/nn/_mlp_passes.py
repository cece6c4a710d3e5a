"""The kernel-by-kernel training path of :class:`~fastkernels.nn.MLP`: forward pass, loss and
backward pass of one batch, a kernel call per layer (the compiled epoch of
:mod:`fastkernels.nn._mlp_epoch` covers the common case in one call).

The layers' private entry points (``dense_forward_validated``...) take validated arrays and a
resolved backend: every array here is the model's own or was checked once by the public
method (``fit``, ``decision_function``...), so nothing is validated again per batch and layer.
"""

from __future__ import annotations

import numpy as np

from .._backend import resolve_backend
from .._random import resolve_seed
from .activations import NEEDS_Z, activation_validated, activation_grad_validated
from .batchnorm import BN_EPS, BN_MOMENTUM, batchnorm_backward_validated, batchnorm_forward_validated
from .cross_entropy import softmax_cross_entropy_validated
from .dense import dense_backward_validated, dense_forward_validated
from .dropout import dropout_validated, step_key
from .losses import mse_validated, sigmoid_binary_cross_entropy_validated


def backend_for(model, work):
    """The backend of one kernel call touching ``work`` elements: what the public functions
    would resolve for ``model.backend`` (only "auto" depends on the work)."""
    be = model.backend
    return be if be in ("cpu", "parallel") else resolve_backend(be, work=work)


def forward(model, X, training, step=0):
    """Output-layer logits and the per-layer caches the backward pass needs."""
    h, caches = X, []
    n = X.shape[0]
    alpha = 0.01
    drop = training and model.dropout > 0
    base = resolve_seed(model._dropout_seed) if drop else None
    for i in range(model.n_layers):
        W, b = model.params[("W", i)], model.params[("b", i)]
        work = n * W.shape[0]
        last = i == model.n_layers - 1
        if last:
            z, _ = dense_forward_validated(h, W, b, "identity", alpha, None, backend_for(model, work))
            caches.append((h, None, None, None))
            return z, caches
        if model.batch_norm:
            z, _ = dense_forward_validated(h, W, b, "identity", alpha, None, backend_for(model, work))
            rm, rv = model.running[i]
            zn, bn_cache = batchnorm_forward_validated(z, model.params[("gamma", i)], model.params[("beta", i)], rm, rv,
                                              training, BN_MOMENTUM, BN_EPS, backend_for(model, work))
            a = activation_validated(zn, model.activation, alpha, None, backend_for(model, work))
            act_cache = (zn, a)
        else:
            a, c = dense_forward_validated(h, W, b, model.activation, alpha, None, backend_for(model, work))
            bn_cache, act_cache = None, c
        if drop:
            a = dropout_validated(a, dropout_key(model, base, step, i), model.dropout, None, backend_for(model, work))
        caches.append((h, act_cache, bn_cache, a))
        h = a
    raise AssertionError("unreachable")


def dropout_key(model, base, step, i):
    """The mask key :func:`fastkernels.nn.dropout` derives from ``seed=model._dropout_seed`` (whose
    resolved key is ``base``) and ``step=model._dropout_step(step, i)``."""
    return step_key(base, model._dropout_step(step, i))


def loss(model, z, y, return_grad=True):
    """Mean loss of validated logits ``z`` (N, n_outputs) and targets ``y`` (and its gradient)."""
    be = backend_for(model, z.size)
    if model.output == "softmax":
        return softmax_cross_entropy_validated(z, z, y, "mean", 0.0, None, None, return_grad, None, False, be)
    if model.output == "sigmoid":
        c = z.shape[1]
        return sigmoid_binary_cross_entropy_validated(z, y, np.ones((1, c), z.dtype), False, np.ones(c, z.dtype), "mean",
                                             return_grad, None, be)
    return mse_validated(z, y, "mean", return_grad, None, be)


def backward(model, dz, caches, step=0):
    """Fill the flat gradient buffer from dL/dz of the output layer."""
    alpha = 0.01
    base = resolve_seed(model._dropout_seed) if model.dropout > 0 else None
    for i in reversed(range(model.n_layers)):
        h, act_cache, bn_cache, _ = caches[i]
        W = model.params[("W", i)]
        be = backend_for(model, dz.size)
        if i < model.n_layers - 1:
            if model.dropout > 0:
                dz = dropout_validated(dz, dropout_key(model, base, step, i), model.dropout, None, be)
            if model.batch_norm:
                zn, a = act_cache
                read = zn if model.activation in NEEDS_Z else a  # what the derivative reads
                dzn = activation_grad_validated(dz, model.activation, read, read, alpha, None, be)
                dz, dgamma, dbeta = batchnorm_backward_validated(dzn, *bn_cache, model.params[("gamma", i)], be)
                model._grads[("gamma", i)][...] = dgamma
                model._grads[("beta", i)][...] = dbeta
                act = "identity"
                cache = dz
            else:
                act, cache = model.activation, act_cache
        else:
            act, cache = "identity", dz
        dX, dW, db = dense_backward_validated(dz, h, W, cache, act, alpha, i > 0, be)
        model._grads[("W", i)][...] = dW
        model._grads[("b", i)][...] = db
        dz = dX
