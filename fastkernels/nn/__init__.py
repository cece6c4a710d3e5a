"""Neural-network kernels: dense layers and activations, batch norm and dropout, the softmax
family and fused losses, optimizers (with gradient clipping and learning-rate schedules) and
the MLP model."""

import numpy as np

from .activations import ACTIVATIONS, activation, activation_grad
from .batchnorm import batchnorm_backward, batchnorm_forward
from .dense import dense_backward, dense_forward
from .clipping import clip_grad_norm
from .cross_entropy import cross_entropy, softmax_cross_entropy
from .dropout import dropout, dropout_backward
from .gradcheck import gradcheck, numerical_gradient
from .losses import binary_cross_entropy_with_logits, mse, mse_loss, sigmoid_binary_cross_entropy
from .mlp import MLP
from .optim import SGD, Adam, AdamW, RMSprop
from .rowwise import log_softmax, logsumexp, softmax
from .schedules import lr_schedule

__all__ = ["MLP", "ACTIVATIONS", "activation", "activation_grad", "batchnorm_backward", "batchnorm_forward", "dropout", "dropout_backward", "dense_backward", "dense_forward", "gradcheck", "numerical_gradient", "log_softmax", "logsumexp", "mse", "mse_loss", "sigmoid_binary_cross_entropy", "binary_cross_entropy_with_logits", "softmax", "softmax_cross_entropy", "cross_entropy", "SGD", "Adam", "AdamW", "RMSprop", "clip_grad_norm", "lr_schedule"]


def _warmup(backend, dtype):
    """Compile this area's kernels for one backend and dtype (see ``fk.warmup``)."""
    x = np.zeros((2, 3), dtype=dtype)
    softmax(x, backend=backend)
    log_softmax(x, backend=backend)
    logsumexp(x, backend=backend)
    softmax_cross_entropy(x, np.array([0, 2]), backend=backend)
    softmax_cross_entropy(x, np.array([0, 2], np.int32), label_smoothing=0.1, backend=backend)
    softmax_cross_entropy(x, np.full_like(x, 1 / 3), backend=backend)
    for act in ("relu", "gelu"):
        a, cache = dense_forward(x, x, x[:, 0].copy(), act, backend=backend)
        dense_backward(a, x, x, cache, act, backend=backend)
    if backend != "cuda":  # the MLP's compiled epoch (relu + softmax: the defaults) with SGD and Adam
        X = np.linspace(0, 1, 24, dtype=dtype).reshape(8, 3)
        y = np.arange(8) % 2
        for optimizer in ("sgd", "adam"):
            model = MLP([3, 4, 2], dtype=dtype, backend=backend, seed=0, epochs=1, batch_size=4,
                        optimizer=optimizer).fit(X, y)
        model.predict(X)
        model.predict_proba(X)
