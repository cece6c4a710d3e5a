"""A multilayer perceptron built from the package's kernels, trained with
mini-batch gradient descent.

Each layer is ``dense (X @ W.T + b) -> [batch norm] -> activation -> [dropout]``;
the output layer feeds the fused loss that matches its kind: softmax
cross-entropy (class ids), sigmoid binary cross-entropy (0/1 or soft targets,
one column per label) or mean squared error (regression). All parameters live
in one flat buffer (each W, b, gamma, beta a view into it) and so do their
gradients, so an optimizer step is one fused kernel over every parameter.

For the common case (softmax output, no dropout or batch norm, sgd, adam or adamw)
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
from .._random import check_seed
from .._validate import (
    INT64_MAX,
    check_allocation,
    check_choice,
    check_dtype,
    check_flag,
    check_positive,
    check_scalar,
)
from . import _mlp_passes as _passes
from ._mlp_data import check_data
from ._checks import check_sequence
from ._mlp_epoch import ADAM_KIND, SGD_KIND, TRAIN_EPOCH
from ._mlp_files import FILE_FORMAT, FILE_VERSION, load_model, save_model  # noqa: F401 (FILE_*: re-exported)
from ._mlp_layout import BACKENDS, OUTPUTS, check_model_memory, layout, n_params
from .activations import ACTIVATIONS, NEEDS_Z, activation
from .optim import SGD, Adam, AdamW, RMSprop
from .rowwise import softmax

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

    Raises
    ------
    TypeError
        ``layer_sizes`` not a sequence of integers, ``dtype`` not float32/float64, a seed of
        the wrong type (checked up front, without drawing), ``batch_norm`` not a bool.
    ValueError
        Fewer than two sizes, a size < 1, unknown ``activation``/``output``/``backend``,
        ``dropout`` outside [0, 1), a negative seed, or a model whose parameters cannot fit
        in memory (named ``layer_sizes``; refused before anything is allocated).

    Notes
    -----
    ``pickle`` and ``copy.deepcopy`` give an independent model whose per-layer views alias its
    own flat buffer, so a copy trains exactly like the original.
    """

    def __init__(self, layer_sizes, activation="relu", output="softmax", *, dropout=0.0, batch_norm=False,
                 seed=None, dtype=np.float32, backend="auto"):
        sizes = check_sequence(layer_sizes, "layer_sizes")
        sizes = [check_scalar(s, f"layer_sizes[{i}]", integer=True, lo=1, hi=INT64_MAX)
                 for i, s in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
        activation = check_choice(activation, "activation", ACTIVATIONS)
        output = check_choice(output, "output", OUTPUTS)
        dropout = check_scalar(dropout, "dropout", lo=0.0, hi=1.0, hi_open=True)
        batch_norm = check_flag(batch_norm, "batch_norm")
        dtype = check_dtype(dtype, "dtype")
        if not isinstance(backend, str) or backend not in BACKENDS:
            raise ValueError(f"backend must be 'auto', 'cpu', 'parallel' or 'cuda' for MLP, got {backend!r}")
        seed = check_seed(seed)
        check_model_memory(sizes, batch_norm, dtype.itemsize, "layer_sizes")
        self.layer_sizes = sizes
        self.activation, self.output, self.dropout, self.batch_norm = activation, output, dropout, batch_norm
        self.dtype = dtype
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
        total = n_params(self.layer_sizes, self.batch_norm)
        self._flat = np.zeros(total, self.dtype)
        self._grad = np.zeros(total, self.dtype)
        self._make_views()
        self.running = {i: (np.zeros(n, self.dtype), np.ones(n, self.dtype))
                        for i, n in enumerate(self.layer_sizes[1:-1])} if self.batch_norm else {}

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

    def loss_and_grad(self, X, y):
        """Training-mode loss on (X, y) and the gradient of every parameter (flat copy).

        Dropout masks are those of step 0. Useful to check the backward pass
        with :func:`fastkernels.nn.gradcheck` against :attr:`flat_params`. With batch
        norm, the forward pass updates the running statistics (as a training step does).

        Raises
        ------
        TypeError, ValueError
            As :meth:`fit` for ``X`` and ``y``; nothing is changed when it raises.
        """
        X, y = self._check_data(X, y)
        self._check_rows_memory(X.shape[0], "X.shape[0]", per_unit=4)
        z, caches = self._forward(X, training=True)
        loss, dz = self._loss(z, y)
        self._backward(dz, caches)
        return float(loss), self._grad.copy()

    @property
    def flat_params(self):
        """All parameters as one flat array (a view: writing to it changes the model)."""
        return self._flat

    # -- data ------------------------------------------------------------------------------

    def _check_data(self, X, y=None, names=("X", "y")):
        """Validated (X, y) in the model's dtype; ``names`` are the arguments' names for errors.

        X must be finite and, for a float32 model, within float32 range *before* the cast
        (1e308 would become inf). Targets: class ids for softmax; for sigmoid and linear,
        floats (checked the same way) or integers/bools (0/1 labels), cast to the model's dtype.
        """
        return check_data(self, X, y, names)

    def _check_rows_memory(self, rows, name, per_unit=2):
        """Refuse up front a pass whose activations (``rows`` x every layer's width, ``per_unit``
        arrays each) cannot fit in memory."""
        check_allocation(rows * sum(self.layer_sizes[1:]) * per_unit, self.dtype.itemsize, name)

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
                and self.activation not in NEEDS_Z and optimizer in ("sgd", "adam", "adamw"))

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
            gelu, sgd, adam or adamw); the results are those of the kernel-by-kernel path.

        Returns
        -------
        dict
            :attr:`history`. A diverging fit shows as NaN or inf losses there (nothing
            raises mid-training).

        Raises
        ------
        TypeError
            ``X`` not a float array, ``y`` of the wrong kind (floats for softmax class ids;
            strings or objects), a flag that is not a bool, a number of the wrong type.
        ValueError
            No rows in ``X``; NaN/inf in ``X`` or float targets, or float64 values beyond
            a float32 model's range (checked before the cast); shape mismatches; class ids
            out of range; sigmoid targets outside [0, 1]; ``validation_data`` that is not
            an ``(X, y)`` pair or is invalid (named ``validation_data[0]``/``[1]``); any
            hyper-parameter out of range (including those the chosen optimizer ignores); a
            batch-norm batch of one row; batches whose activations cannot fit in memory.
            Every check runs before the first update: a call that raises leaves the
            model, its history and its random state unchanged.
        """
        X, y = self._check_data(X, y)
        if X.shape[0] == 0:
            raise ValueError("X has no rows: fit needs at least one training sample")
        epochs = check_scalar(epochs, "epochs", integer=True, lo=1, hi=INT64_MAX)
        batch_size = check_scalar(batch_size, "batch_size", integer=True, lo=1, hi=INT64_MAX)
        check_choice(optimizer, "optimizer", tuple(OPTIMIZERS))
        # every argument is checked, also those this optimizer ignores
        lr = check_positive(lr, "lr")
        momentum = check_scalar(momentum, "momentum", lo=0.0, hi=1.0, hi_open=True)
        nesterov = check_flag(nesterov, "nesterov")
        if optimizer == "sgd" and nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        weight_decay = check_scalar(weight_decay, "weight_decay", lo=0.0)
        shuffle = check_flag(shuffle, "shuffle")
        verbose = check_flag(verbose, "verbose")
        compiled = check_flag(compiled, "compiled")
        if self.batch_norm and self.n_layers > 1 and (batch_size == 1 or X.shape[0] % batch_size == 1):
            # refused before any update: the batch of one row would fail mid-epoch
            raise ValueError(f"batch normalisation needs at least 2 rows in every batch; {X.shape[0]} samples "
                             f"at batch_size {batch_size} leave a batch of 1")
        if validation_data is not None:
            pair = check_sequence(validation_data, "validation_data", length=2)
            Xv, yv = self._check_data(*pair, names=("validation_data[0]", "validation_data[1]"))
            self._check_rows_memory(Xv.shape[0], "validation_data[0].shape[0]")
        if early_stopping is not None:
            early_stopping = check_scalar(early_stopping, "early_stopping", integer=True, lo=1,
                                          hi=INT64_MAX)
            if validation_data is None:
                raise ValueError("early_stopping needs validation_data")
        batch_size = min(batch_size, X.shape[0])  # the same batches; buffers sized by the data
        self._check_rows_memory(batch_size, "batch_size", per_unit=4)
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
            decoupled = getattr(opt, "_decoupled", False)  # AdamW
        for epoch in range(epochs):
            t0 = time.perf_counter()
            order = self._rng.permutation(n) if shuffle else np.arange(n)
            total, correct = 0.0, 0.0
            if device is not None:
                total, correct, step = device.epoch(order, opt, step)
                device.download()
            elif fast:
                total, correct, step = TRAIN_EPOCH[self.activation](
                    X, y, order, not shuffle, batch_size, sizes, self._flat, self._grad, 0.01,
                    SGD_KIND if optimizer == "sgd" else ADAM_KIND, opt.lr, getattr(opt, "momentum", 0.0),
                    getattr(opt, "nesterov", False), 0.0 if decoupled else opt.weight_decay, opt.l1,
                    opt.weight_decay if decoupled else 0.0, getattr(opt, "beta1", 0.9),
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
        """Output-layer pre-activations (logits), evaluation mode.

        Parameters
        ----------
        X : array_like of float32 or float64, shape (N, layer_sizes[0])
            Finite inputs; float64 values beyond float32 range are refused for a float32
            model (the cast would make them inf). N may be 0.

        Returns
        -------
        ndarray of shape (N, layer_sizes[-1]), the model's dtype

        Raises
        ------
        TypeError
            ``X`` not a float array (ints, bool, object), or a device array.
        ValueError
            Wrong shape, NaN/inf, values beyond the model's dtype, or a batch whose
            activations cannot fit in memory. The model is never changed.
        """
        X = self._check_data(X)
        self._check_rows_memory(X.shape[0], "X.shape[0]")
        z, _ = self._forward(X, training=False)
        return z

    def predict_proba(self, X):
        """Class probabilities (softmax), label probabilities (sigmoid), or outputs (linear).

        ``X`` is checked as in :meth:`decision_function` (same errors)."""
        z = self.decision_function(X)
        if self.output == "softmax":
            return softmax(z, backend=self.backend)
        if self.output == "sigmoid":
            return activation(z, "sigmoid", backend=self.backend)
        return z

    def predict(self, X):
        """Class ids (softmax), 0/1 labels (sigmoid) or regression outputs (linear).

        ``X`` is checked as in :meth:`decision_function` (same errors)."""
        z = self.decision_function(X)
        if self.output == "softmax":
            return z.argmax(axis=1)
        if self.output == "sigmoid":
            return (z > 0).astype(np.int64)
        return z

    def score(self, X, y):
        """Accuracy (softmax, sigmoid) or R^2 (linear).

        NaN when it is undefined: no rows, or (R^2) targets without variance. ``X`` and
        ``y`` are checked as in :meth:`fit` (same errors)."""
        X, y = self._check_data(X, y)
        z = self.decision_function(X)
        if self.output == "linear":
            if not len(y):
                return float("nan")
            ss_res = float(np.sum((z - y) ** 2))
            ss_tot = float(np.sum((y - y.mean(axis=0)) ** 2))
            return 1.0 - ss_res / ss_tot if ss_tot else float("nan")
        return self._accuracy(z, y)

    # -- persistence ---------------------------------------------------------------------

    def save(self, path):
        """Write the architecture, weights and running statistics to ``path``.

        The file is an ``.npz`` written by :func:`fastkernels._io.save_npz` (format
        ``fastkernels.MLP``, version 1, with a checksum), at ``path`` exactly as given.

        Raises
        ------
        TypeError
            ``path`` not a str or os.PathLike.
        ValueError
            The parameters or running statistics hold NaN or inf (a diverged fit): such a
            file could not be loaded, so nothing is written.
        OSError
            The file cannot be written (Python's own error, naming it).
        """
        save_model(self, path)

    @classmethod
    def load(cls, path, *, backend="auto"):
        """Rebuild a model written by :meth:`save`.

        Every entry is checked before the model is built: integer layer sizes >= 1 (at
        least two, within memory), known activation and output names, dropout in [0, 1),
        a boolean batch_norm, dtype float32 or float64, parameters and running statistics
        of exactly that dtype and the architecture's shapes, finite, running variances
        >= 0, and no unexpected entries.

        Raises
        ------
        TypeError
            ``path`` not a str or os.PathLike.
        ValueError
            ``backend`` unknown; a damaged, truncated, foreign or edited file, a file of
            another format (e.g. written by fastkernels before 0.1.0's format) or version,
            or any entry failing the checks above: one error naming the file and the entry.
        FileNotFoundError
            No such file.
        """
        return load_model(cls, path, backend)
