"""A multilayer perceptron built from the package's kernels, trained with
mini-batch gradient descent.

Each layer is ``dense (X @ W.T + b) -> [batch norm] -> activation -> [dropout]``;
the output layer feeds the fused loss that matches its kind: softmax
cross-entropy (class ids), sigmoid binary cross-entropy (0/1 or soft targets,
one column per label) or mean squared error (regression). All parameters live
in one flat buffer (each W, b, gamma, beta a view into it) and so do their
gradients, so an optimizer step is one fused kernel over every parameter.

For the common case (softmax output, no dropout or batch norm, sgd or adam)
:meth:`MLP.fit` runs each epoch as one compiled call
(:mod:`fastkernels.nn._mlp_epoch`), which gives the same parameters as the
kernel-by-kernel path; other configurations call the kernels from Python once
per layer per batch.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .._backend import load_cuda
from .._blas import blas_functions
from .._validate import FLOAT_DTYPES, as_array, as_index_array, check_choice, check_scalar
from ._mlp_epoch import ADAM_KIND, SGD_KIND, TRAIN_EPOCH
from .activations import ACTIVATIONS, NEEDS_Z, activation, activation_grad
from .batchnorm import batchnorm_backward, batchnorm_forward
from .dense import dense_backward, dense_forward
from .dropout import dropout, dropout_backward
from .losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from .optim import SGD, Adam, AdamW, RMSprop

OUTPUTS = ("softmax", "sigmoid", "linear")
OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


class MLP:
    """Fully connected network.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_inputs, hidden..., n_outputs]``, at least two entries, all >= 1.
    activation : str
        Hidden-layer activation (one of :data:`fastkernels.nn.ACTIVATIONS`).
    output : {"softmax", "sigmoid", "linear"}
        Output layer and loss: softmax cross-entropy on class ids, sigmoid binary
        cross-entropy on targets in [0, 1] of shape (N, n_outputs), or MSE.
    dropout : float in [0, 1)
        Inverted dropout after each hidden activation (training only).
    batch_norm : bool
        Batch normalisation before each hidden activation.
    seed : int, optional
        Seeds the initialisation, the shuffling and the dropout masks.
    dtype : {float32, float64}
    backend : {"auto", "cpu", "parallel", "cuda"}
        Backend of every kernel call. "auto" (recommended on the CPU) keeps batch-sized
        elementwise kernels serial and lets BLAS parallelise the GEMMs; "parallel"
        forces Numba threads everywhere, which on small batches competes with
        BLAS's own threads. "cuda" trains on the GPU with the data, parameters, running
        statistics and optimizer state on the device for the whole of ``fit`` (every
        output, dropout and batch norm; the same parameters as the CPU path); prediction
        runs the layers' CUDA kernels on host arrays (copied per call).
    """

    def __init__(self, layer_sizes, activation="relu", output="softmax", *, dropout=0.0, batch_norm=False,
                 seed=None, dtype=np.float32, backend="auto"):
        sizes = [check_scalar(s, f"layer_sizes[{i}]", integer=True, lo=1) for i, s in enumerate(layer_sizes)]
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes needs at least an input and an output size, got {list(layer_sizes)}")
        self.layer_sizes = sizes
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.output = check_choice(output, "output", OUTPUTS)
        self.dropout = check_scalar(dropout, "dropout", lo=0.0, hi=1.0, hi_open=True)
        self.batch_norm = bool(batch_norm)
        self.dtype = np.dtype(dtype)
        if self.dtype not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype.name}")
        if backend not in ("auto", "cpu", "parallel", "cuda"):
            raise ValueError(f"backend must be 'auto', 'cpu', 'parallel' or 'cuda' for MLP, got {backend!r}")
        self.backend = backend
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._dropout_seed = int(self._rng.integers(2**62))
        self._build()
        self._init_weights()
        self.history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}

    # -- parameters ------------------------------------------------------------------

    def _build(self):
        """Lay every parameter out in one flat buffer; W, b (gamma, beta) are views."""
        shapes = []
        for i, (n_in, n_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            shapes += [("W", i, (n_out, n_in)), ("b", i, (n_out,))]
            if self.batch_norm and i < self.n_layers - 1:
                shapes += [("gamma", i, (n_out,)), ("beta", i, (n_out,))]
        total = sum(int(np.prod(s)) for _, _, s in shapes)
        self._flat = np.zeros(total, self.dtype)
        self._grad = np.zeros(total, self.dtype)
        self.params, self._grads = {}, {}
        offset = 0
        for name, i, shape in shapes:
            size = int(np.prod(shape))
            self.params[(name, i)] = self._flat[offset:offset + size].reshape(shape)
            self._grads[(name, i)] = self._grad[offset:offset + size].reshape(shape)
            offset += size
        self.running = {i: (np.zeros(n, self.dtype), np.ones(n, self.dtype))
                        for i, n in enumerate(self.layer_sizes[1:-1])} if self.batch_norm else {}

    @property
    def n_layers(self):
        return len(self.layer_sizes) - 1

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

    # -- forward / backward --------------------------------------------------------------

    def _forward(self, X, training, step=0):
        """Output-layer logits and the per-layer caches the backward pass needs."""
        h, caches = X, []
        for i in range(self.n_layers):
            W, b = self.params[("W", i)], self.params[("b", i)]
            last = i == self.n_layers - 1
            if last:
                z, _ = dense_forward(h, W, b, "identity", backend=self.backend)
                caches.append((h, None, None, None))
                return z, caches
            if self.batch_norm:
                z, _ = dense_forward(h, W, b, "identity", backend=self.backend)
                rm, rv = self.running[i]
                zn, bn_cache = batchnorm_forward(z, self.params[("gamma", i)], self.params[("beta", i)], rm, rv,
                                                 training=training, backend=self.backend)
                a = activation(zn, self.activation, backend=self.backend)
                act_cache = (zn, a)
            else:
                a, c = dense_forward(h, W, b, self.activation, backend=self.backend)
                bn_cache, act_cache = None, c
            if training and self.dropout > 0:
                a = dropout(a, self.dropout, seed=self._dropout_seed, step=self._dropout_step(step, i),
                            backend=self.backend)
            caches.append((h, act_cache, bn_cache, a))
            h = a
        raise AssertionError("unreachable")

    def _dropout_step(self, step, i):
        """The dropout ``step`` number of hidden layer ``i`` in update ``step`` (one mask per pair)."""
        return step * self.n_layers + i

    def _loss(self, z, y, return_grad=True):
        if self.output == "softmax":
            return softmax_cross_entropy(z, y, return_grad=return_grad, backend=self.backend)
        if self.output == "sigmoid":
            return sigmoid_binary_cross_entropy(z, y, return_grad=return_grad, backend=self.backend)
        return mse(z, y, return_grad=return_grad, backend=self.backend)

    def _backward(self, dz, caches, step=0):
        """Fill the flat gradient buffer from dL/dz of the output layer."""
        for i in reversed(range(self.n_layers)):
            h, act_cache, bn_cache, _ = caches[i]
            W = self.params[("W", i)]
            if i < self.n_layers - 1:
                if self.dropout > 0:
                    dz = dropout_backward(dz, self.dropout, seed=self._dropout_seed, step=self._dropout_step(step, i),
                                          backend=self.backend)
                if self.batch_norm:
                    zn, a = act_cache
                    dzn = activation_grad(dz, self.activation, z=zn, a=a, backend=self.backend)
                    dz, dgamma, dbeta = batchnorm_backward(dzn, bn_cache, self.params[("gamma", i)],
                                                           backend=self.backend)
                    self._grads[("gamma", i)][...] = dgamma
                    self._grads[("beta", i)][...] = dbeta
                    act = "identity"
                    cache = dz
                else:
                    act, cache = self.activation, act_cache
            else:
                act, cache = "identity", dz
            dX, dW, db = dense_backward(dz, h, W, cache, act, need_dx=i > 0, backend=self.backend)
            self._grads[("W", i)][...] = dW
            self._grads[("b", i)][...] = db
            dz = dX

    def loss_and_grad(self, X, y):
        """Training-mode loss on (X, y) and the gradient of every parameter (flat copy).

        Dropout masks are those of step 0. Useful to check the backward pass
        with :func:`fastkernels.nn.gradcheck` against :attr:`flat_params`.
        """
        X, y = self._check_data(X, y)
        z, caches = self._forward(X, training=True)
        loss, dz = self._loss(z, y)
        self._backward(dz, caches)
        return float(loss), self._grad.copy()

    @property
    def flat_params(self):
        """All parameters as one flat array (a view: writing to it changes the model)."""
        return self._flat

    # -- data ------------------------------------------------------------------------------

    def _check_data(self, X, y=None):
        X = as_array(X, "X", dtypes=FLOAT_DTYPES, ndim=2, finite=True)
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have {self.layer_sizes[0]} columns (layer_sizes[0]), got {X.shape[1]}")
        if y is None:
            return X
        n_out = self.layer_sizes[-1]
        if self.output == "softmax":
            y = as_index_array(y, "y", n=n_out, shape=(X.shape[0],))
        else:
            y = np.asarray(y, self.dtype)
            if y.ndim == 1 and n_out == 1:
                y = y.reshape(-1, 1)
            y = as_array(y, "y", dtypes=(self.dtype,), shape=(X.shape[0], n_out), finite=True)
            if self.output == "sigmoid" and (y.min(initial=0) < 0 or y.max(initial=0) > 1):
                raise ValueError("y must lie in [0, 1] for a sigmoid output")
        return X, y

    def _accuracy(self, z, y):
        if self.output == "softmax":
            return float(np.mean(z.argmax(axis=1) == y)) if len(y) else float("nan")
        if self.output == "sigmoid":
            return float(np.mean((z > 0) == (y > 0.5))) if len(y) else float("nan")
        return float("nan")

    # -- training ------------------------------------------------------------------------

    def _compiled_ok(self, optimizer):
        """Whether :func:`fastkernels.nn._mlp_epoch.train_epoch` covers this model and optimizer."""
        return (self.output == "softmax" and not self.batch_norm and self.dropout == 0
                and self.activation not in NEEDS_Z and optimizer in ("sgd", "adam"))

    def fit(self, X, y, *, epochs=10, batch_size=32, optimizer="sgd", lr=0.01, momentum=0.9, nesterov=False,
            weight_decay=0.0, validation_data=None, shuffle=True, early_stopping=None, verbose=True,
            compiled=True):
        """Train with mini-batches; returns :attr:`history` (per-epoch loss and accuracy).

        Parameters
        ----------
        X : array_like, shape (N, layer_sizes[0])
            Finite inputs (cast to the model's dtype).
        y : array_like
            Class ids in [0, n_outputs) for softmax, else targets of shape (N, n_outputs).
        epochs, batch_size : int
            Passes over the data and rows per update (>= 1; the last batch may be smaller).
        optimizer : {"sgd", "adam", "adamw", "rmsprop"}
            ``sgd`` uses ``momentum`` (0 for plain SGD) and ``nesterov``.
        lr, weight_decay : float
            Learning rate and L2 (decoupled for adamw) coefficient.
        validation_data : (X_val, y_val), optional
            Evaluated after every epoch (loss and accuracy in :attr:`history`).
        shuffle : bool
            Reshuffle (without replacement) every epoch, seeded.
        early_stopping : int, optional
            Stop when the validation loss has not improved for this many epochs and
            restore the best weights (needs ``validation_data``).
        verbose : bool
            Print a progress bar line per epoch.
        compiled : bool
            Run each epoch as one compiled call when the model allows it (softmax
            output, no dropout or batch norm, an activation other than softplus or
            gelu, sgd or adam); the results are those of the kernel-by-kernel path.
        """
        X, y = self._check_data(X, y)
        epochs = check_scalar(epochs, "epochs", integer=True, lo=1)
        batch_size = check_scalar(batch_size, "batch_size", integer=True, lo=1)
        check_choice(optimizer, "optimizer", tuple(OPTIMIZERS))
        if self.batch_norm and self.n_layers > 1 and (batch_size == 1 or X.shape[0] % batch_size == 1):
            # refused before any update: the batch of one row would fail mid-epoch
            raise ValueError(f"batch normalisation needs at least 2 rows in every batch; {X.shape[0]} samples "
                             f"at batch_size {batch_size} leave a batch of 1")
        if validation_data is not None:
            Xv, yv = self._check_data(*validation_data)
        if early_stopping is not None:
            early_stopping = check_scalar(early_stopping, "early_stopping", integer=True, lo=1)
            if validation_data is None:
                raise ValueError("early_stopping needs validation_data")
        device = None  # everything is validated: only now does data go to the GPU
        if self.backend == "cuda":
            device = load_cuda("fastkernels.nn._mlp_cuda").DeviceTrainer(self, X, y, batch_size)
        params = self._flat if device is None else device.d_flat  # the optimizer updates these in place
        if optimizer == "sgd":
            opt = SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                      backend=self.backend)
        else:
            opt = OPTIMIZERS[optimizer](params, lr=lr, weight_decay=weight_decay, backend=self.backend)
        best, best_params, waited = math.inf, None, 0
        n = X.shape[0]
        step = 0
        fast = compiled and device is None and self._compiled_ok(optimizer)
        if fast:  # the compiled loop updates the optimizer's own state arrays
            sizes = np.array(self.layer_sizes, np.int64)
            states = [opt.state[name][0] for name in opt._state_names]
            s1, s2 = states[0], states[-1]
        for epoch in range(epochs):
            t0 = time.perf_counter()
            order = self._rng.permutation(n) if shuffle else np.arange(n)
            total, correct = 0.0, 0.0
            if device is not None:
                total, correct, step = device.epoch(order, opt, step)
                device.download()
            elif fast:
                total, correct, step = TRAIN_EPOCH[self.activation]["cpu"](
                    X, y, order, not shuffle, batch_size, sizes, self._flat, self._grad, 0.01,
                    SGD_KIND if optimizer == "sgd" else ADAM_KIND, opt.lr, getattr(opt, "momentum", 0.0),
                    getattr(opt, "nesterov", False), opt.weight_decay, getattr(opt, "beta1", 0.9),
                    getattr(opt, "beta2", 0.999), getattr(opt, "eps", 1e-8), s1, s2, step, blas_functions())
                opt.steps = step
            else:
                for start in range(0, n, batch_size):
                    idx = order[start:start + batch_size]
                    xb, yb = X[idx], y[idx]
                    z, caches = self._forward(xb, training=True, step=step)
                    loss, dz = self._loss(z, yb)
                    self._backward(dz, caches, step=step)
                    opt.step(self._grad)
                    step += 1
                    total += float(loss) * len(idx)
                    correct += self._accuracy(z, yb) * len(idx)
            self.history["loss"].append(total / n)
            self.history["accuracy"].append(correct / n)
            msg = f"epoch {epoch + 1}/{epochs} [{'=' * 20}] loss {total / n:.4f}"
            if self.output != "linear":
                msg += f" acc {correct / n:.3f}"
            if validation_data is not None:
                vz = self.decision_function(Xv)
                vloss = float(self._loss(vz, yv, return_grad=False))
                self.history["val_loss"].append(vloss)
                self.history["val_accuracy"].append(self._accuracy(vz, yv))
                msg += f" val_loss {vloss:.4f}"
                if self.output != "linear":
                    msg += f" val_acc {self.history['val_accuracy'][-1]:.3f}"
                if early_stopping is not None:
                    if vloss < best:
                        best, best_params, waited = vloss, self._flat.copy(), 0
                    else:
                        waited += 1
            if verbose:
                print(f"{msg} ({time.perf_counter() - t0:.2f} s)", file=sys.stdout, flush=True)
            if early_stopping is not None and waited >= early_stopping:
                if verbose:
                    print(f"early stopping: validation loss has not improved for {waited} epochs")
                break
        if best_params is not None:
            self._flat[...] = best_params
        return self.history

    # -- inference ---------------------------------------------------------------------

    def decision_function(self, X):
        """Output-layer pre-activations (logits), evaluation mode."""
        X = self._check_data(X)
        z, _ = self._forward(X, training=False)
        return z

    def predict_proba(self, X):
        """Class probabilities (softmax), label probabilities (sigmoid), or outputs (linear)."""
        z = self.decision_function(X)
        if self.output == "softmax":
            from .rowwise import softmax

            return softmax(z, backend=self.backend)
        if self.output == "sigmoid":
            return activation(z, "sigmoid", backend=self.backend)
        return z

    def predict(self, X):
        """Class ids (softmax), 0/1 labels (sigmoid) or regression outputs (linear)."""
        z = self.decision_function(X)
        if self.output == "softmax":
            return z.argmax(axis=1)
        if self.output == "sigmoid":
            return (z > 0).astype(np.int64)
        return z

    def score(self, X, y):
        """Accuracy (softmax, sigmoid) or R^2 (linear)."""
        X, y = self._check_data(X, y)
        z = self.decision_function(X)
        if self.output == "linear":
            ss_res = float(np.sum((z - y) ** 2))
            ss_tot = float(np.sum((y - y.mean(axis=0)) ** 2))
            return 1.0 - ss_res / ss_tot if ss_tot else float("nan")
        return self._accuracy(z, y)

    # -- persistence ---------------------------------------------------------------------

    def save(self, path):
        """Write the architecture, weights and running statistics to an ``.npz`` file."""
        extra = {}
        for i, (rm, rv) in self.running.items():
            extra[f"running_mean_{i}"], extra[f"running_var_{i}"] = rm, rv
        np.savez(path, layer_sizes=np.array(self.layer_sizes), activation=self.activation, output=self.output,
                 dropout=self.dropout, batch_norm=self.batch_norm, dtype=self.dtype.name, flat=self._flat, **extra)

    @classmethod
    def load(cls, path, *, backend="auto"):
        """Rebuild a model written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as f:
            model = cls([int(s) for s in f["layer_sizes"]], str(f["activation"]), str(f["output"]),
                        dropout=float(f["dropout"]), batch_norm=bool(f["batch_norm"]), dtype=str(f["dtype"]),
                        backend=backend)
            if f["flat"].shape != model._flat.shape:
                raise ValueError(f"{path}: parameter count {f['flat'].shape[0]} does not match the architecture")
            model._flat[...] = f["flat"]
            for i, (rm, rv) in model.running.items():
                rm[...] = f[f"running_mean_{i}"]
                rv[...] = f[f"running_var_{i}"]
        return model
