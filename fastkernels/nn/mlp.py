"""A multilayer perceptron built from the package's kernels, trained with
mini-batch gradient descent, usable as a scikit-learn estimator.

Each layer is ``dense (X @ W.T + b) -> [batch norm] -> activation -> [dropout]``;
the output layer feeds the fused loss that matches its kind: softmax
cross-entropy (class labels), sigmoid binary cross-entropy (0/1 or soft targets,
one column per label) or mean squared error (regression). All parameters live
in one flat buffer (each W, b, gamma, beta a view into it) and so do their
gradients, so an optimizer step is one fused kernel over every parameter.

For the common case (softmax output, no dropout or batch norm, sgd, adam or adamw)
:meth:`MLP.fit` runs each epoch as one compiled call
(:mod:`fastkernels.nn._mlp_epoch`), which gives the same parameters as the
kernel-by-kernel path; other configurations call the kernels from Python once
per layer per batch.

:class:`MLP` follows scikit-learn's estimator conventions without importing it:
hyper-parameters in the constructor (stored as given, checked by ``fit``),
``fit`` returning the model, ``get_params``/``set_params``, fitted attributes
ending in ``_``, and estimator tags, so ``clone``, ``cross_val_score``,
``GridSearchCV`` and ``Pipeline`` work with it.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .._backend import load_cuda
from .._blas import blas_functions
from .._validate import INT64_MAX, check_choice, check_flag, check_positive, check_scalar
from ._checks import check_sequence
from ._mlp_data import as_labels, check_targets, check_X, class_ids, encode, fit_labels
from ._mlp_epoch import ADAM_KIND, SGD_KIND, TRAIN_EPOCH
from ._mlp_estimator import EstimatorMixin, sklearn_tags
from ._mlp_files import FILE_FORMAT, FILE_VERSION, read_model, save_model  # noqa: F401 (FILE_*: re-exported)
from ._mlp_layout import check_model_memory
from ._mlp_network import NotFittedError  # noqa: F401 (re-exported: fastkernels.nn.mlp.NotFittedError)
from ._mlp_network import Network, check_architecture, check_layer_sizes, check_rows_memory, not_fitted_error
from .activations import activation
from .optim import SGD, Adam, AdamW, RMSprop
from .rowwise import softmax

OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}

#: The training hyper-parameters ``fit`` also takes as keywords (overriding the constructor's for one call).
FIT_PARAMS = ("epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "shuffle",
              "early_stopping", "verbose", "compiled")


class _FromConstructor:
    """The default of :meth:`MLP.fit`'s keywords: the constructor's value of the same name."""

    def __repr__(self):
        return "<constructor value>"

    def __reduce__(self):
        return "_FROM_CONSTRUCTOR"


_FROM_CONSTRUCTOR = _FromConstructor()


def _empty_history():
    return {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}


class MLP(EstimatorMixin):
    """Fully connected network; a scikit-learn classifier (softmax or sigmoid output) or
    regressor (linear output).

    The constructor only stores its arguments (scikit-learn's rule); :meth:`fit` checks them
    all and raises ``TypeError``/``ValueError`` naming the bad one. ``set_params`` changes take
    effect at the next ``fit``.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_inputs, hidden..., n_outputs]``, at least two entries, all >= 1. The first and
        the last may be ``None``: taken from the data at ``fit`` (the number of columns of
        ``X``; the number of distinct class labels for softmax, of target columns otherwise),
        as scikit-learn's ``MLPClassifier(hidden_layer_sizes=...)`` does.
    activation : str, default "relu"
        Hidden-layer activation (one of :data:`fastkernels.nn.ACTIVATIONS`).
    output : {"softmax", "sigmoid", "linear"}, default "softmax"
        Output layer and loss: softmax cross-entropy on class labels (a multi-class
        classifier), sigmoid binary cross-entropy on targets in [0, 1] of shape (N, n_outputs)
        (a multi-label classifier; 1-D targets when n_outputs is 1), or MSE (a regressor).
    dropout : float in [0, 1), default 0
        Inverted dropout after each hidden activation (training only).
    batch_norm : bool, default False
        Batch normalisation before each hidden activation.
    epochs : int, default 10
        Passes over the data per ``fit`` (>= 1).
    batch_size : int, default 32
        Rows per update (>= 1; the last batch may be smaller; larger than the data: one batch).
    optimizer : {"sgd", "adam", "adamw", "rmsprop"}, default "sgd"
        ``sgd`` uses ``momentum`` (0 for plain SGD) and ``nesterov``.
    lr : float, default 0.01
        Learning rate (> 0).
    momentum : float in [0, 1), default 0.9
        SGD momentum (checked whatever the optimizer).
    nesterov : bool, default False
        Nesterov momentum for SGD (needs ``momentum > 0``).
    weight_decay : float, default 0
        L2 coefficient (decoupled for adamw).
    shuffle : bool, default True
        Reshuffle (without replacement) every epoch, seeded.
    early_stopping : int, optional
        Stop when the validation loss has not improved for this many epochs and restore the
        best weights (needs ``validation_data`` in :meth:`fit`).
    verbose : bool, default False
        Print a progress line per epoch.
    compiled : bool, default True
        Run each epoch as one compiled call when the model allows it (softmax output, no
        dropout or batch norm, an activation other than softplus or gelu, sgd, adam or adamw);
        the results are those of the kernel-by-kernel path.
    warm_start : bool, default False
        ``False``: every ``fit`` starts from a fresh initialisation drawn from ``seed`` (so two
        fits with an int seed give the same model, as scikit-learn expects). ``True``: ``fit``
        keeps training the current parameters (those of the last fit, of :meth:`load`, or set
        by hand through :attr:`flat_params`), appending to :attr:`history_`; the architecture
        and the classes must not change. :meth:`load` returns models with ``warm_start=True``.
    seed : int, numpy.random.Generator or None, default None
        Seeds the initialisation, the shuffling and the dropout masks (``None``: fresh
        entropy, a different model per fit).
    dtype : {float32, float64}, default float32
    backend : {"auto", "cpu", "parallel", "cuda"}, default "auto"
        Backend of every kernel call. "auto" (recommended on the CPU) keeps batch-sized
        elementwise kernels serial and lets BLAS parallelise the GEMMs; "parallel"
        forces Numba threads everywhere, which on small batches competes with
        BLAS's own threads. "cuda" trains on the GPU with the data, parameters, running
        statistics and optimizer state on the device for the whole of ``fit`` (every
        output, dropout and batch norm; the same parameters as the CPU path); prediction
        runs the layers' CUDA kernels on host arrays (copied per call).

    Attributes
    ----------
    classes_ : ndarray
        Class labels, in output-unit order (softmax: the sorted distinct labels of ``y``, or
        ``0..n_outputs-1`` when ``layer_sizes[-1]`` is given and every label is an integer id
        below it; sigmoid: ``[0, 1]`` for a 1-D target, else ``0..n_outputs-1``). Absent for a
        linear output.
    n_features_in_ : int
        Number of input columns seen by ``fit``.
    history_ : dict
        Per-epoch ``loss`` and ``accuracy`` (per label for sigmoid, NaN for linear) and, with
        ``validation_data``, ``val_loss`` and ``val_accuracy`` (lists). A diverging fit shows
        as NaN or inf losses there (nothing raises mid-training).
    loss_curve_ : list of float
        ``history_["loss"]``: the mean training loss of every epoch.
    best_loss_ : float
        The lowest of ``loss_curve_``.
    n_iter_ : int
        Epochs run (fewer than ``epochs`` after early stopping; summed over warm starts).
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape ``(n_in, n_out)`` of layer ``i``, scikit-learn's layout: it
        is ``params[("W", i)].T``, a transposed *view* of the internal ``(out, in)`` weights
        (``torch.nn.Linear``'s layout; forward is ``X @ W.T + b = X @ coefs_[i] + b``), so
        writing to it changes the model. A two-class softmax model has two output units
        where scikit-learn's ``MLPClassifier`` has one.
    intercepts_ : list of ndarray
        ``intercepts_[i] = params[("b", i)]`` (views), shape ``(n_out,)``. Batch-norm
        ``gamma``/``beta`` are in :attr:`params` only.

    Notes
    -----
    Predicting needs parameters: those of a ``fit``, of :meth:`load`, or the seeded
    initialisation that :attr:`flat_params`, :attr:`params`, :meth:`loss_and_grad` and
    :meth:`save` create on first use (when every layer size is given). Otherwise
    ``predict``... raise :class:`~fastkernels.nn.mlp.NotFittedError` (a ``ValueError`` and
    ``AttributeError``, as scikit-learn's).

    ``pickle`` and ``copy.deepcopy`` give an independent model whose per-layer views alias its
    own flat buffer, so a copy trains exactly like the original.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkernels.nn import MLP
    >>> X = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, "pos", "neg")
    >>> clf = MLP([None, 8, None], epochs=30, optimizer="adam", lr=0.05, seed=0).fit(X, y)
    >>> clf.classes_.tolist(), clf.n_features_in_, clf.coefs_[0].shape
    (['neg', 'pos'], 3, (3, 8))
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _net = None  # the Network, once fit, loaded or initialised (scikit-learn: nothing set in __init__)

    def __init__(self, layer_sizes, activation="relu", output="softmax", *, dropout=0.0, batch_norm=False,
                 epochs=10, batch_size=32, optimizer="sgd", lr=0.01, momentum=0.9, nesterov=False,
                 weight_decay=0.0, shuffle=True, early_stopping=None, verbose=False, compiled=True,
                 warm_start=False, seed=None, dtype=np.float32, backend="auto"):
        self.layer_sizes = layer_sizes
        self.activation = activation
        self.output = output
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.verbose = verbose
        self.compiled = compiled
        self.warm_start = warm_start
        self.seed = seed
        self.dtype = dtype
        self.backend = backend

    # -- scikit-learn's protocol --------------------------------------------------------------

    @property
    def _estimator_type(self):
        """"regressor" for a linear output, else "classifier" (scikit-learn < 1.6 reads this)."""
        return "regressor" if self.output == "linear" else "classifier"

    def __sklearn_tags__(self):
        return sklearn_tags(self._estimator_type, multi_output=self.output != "softmax",
                            multi_label=self.output == "sigmoid", non_deterministic=self.seed is None)

    def __sklearn_is_fitted__(self):
        return self._net is not None and "n_features_in_" in self.__dict__

    # -- parameters ------------------------------------------------------------------

    def _new_network(self, what):
        """A seeded initial network from the constructor's parameters (not yet the model's)."""
        arch = check_architecture(self)
        if None in arch["sizes"]:
            raise not_fitted_error(f"layer_sizes {self.layer_sizes!r} leave sizes to the data: fit this MLP "
                                   f"before {what}")
        return Network(**arch)

    def _initialised(self, what):
        """The model's network, initialised from the seed on first use."""
        if self._net is None:
            self._net = self._new_network(what)
        return self._net

    def _fitted_net(self, what):
        if self._net is None:
            raise not_fitted_error(f"This MLP instance is not fitted yet: call fit (or MLP.load a saved model) "
                                   f"before {what}")
        return self._net

    @property
    def flat_params(self):
        """All parameters as one flat array (a view: writing to it changes the model).

        Initialises the model from ``seed`` on first use (all layer sizes must be given)."""
        return self._initialised("reading flat_params")._flat

    @property
    def params(self):
        """``{("W", i): (out, in), ("b", i), ("gamma", i), ("beta", i): ...}``: per-layer views
        into :attr:`flat_params` (initialised on first use)."""
        return self._initialised("reading params").params

    @property
    def running(self):
        """Batch norm's ``{layer: (running_mean, running_var)}`` (empty without batch norm)."""
        return self._initialised("reading running").running

    @property
    def n_layers(self):
        """Number of dense layers (``len(layer_sizes) - 1``)."""
        return self._net.n_layers if self._net is not None else len(check_layer_sizes(self.layer_sizes)) - 1

    @property
    def history(self):
        """:attr:`history_` (empty lists before the first ``fit``)."""
        return self.__dict__.get("history_") or _empty_history()

    @property
    def coefs_(self):
        """Weights in scikit-learn's ``(n_in, n_out)`` layout: transposed views of ``params[("W", i)]``."""
        net = self._fitted_net("reading coefs_")
        return [net.params[("W", i)].T for i in range(net.n_layers)]

    @property
    def intercepts_(self):
        """Biases ``params[("b", i)]`` (views), scikit-learn's ``intercepts_``."""
        net = self._fitted_net("reading intercepts_")
        return [net.params[("b", i)] for i in range(net.n_layers)]

    def loss_and_grad(self, X, y):
        """Training-mode loss on (X, y) and the gradient of every parameter (flat copy).

        Dropout masks are those of step 0. Useful to check the backward pass
        with :func:`fastkernels.nn.gradcheck` against :attr:`flat_params`. With batch
        norm, the forward pass updates the running statistics (as a training step does).
        Softmax targets are labels of :attr:`classes_` after a fit, class ids in
        ``[0, n_outputs)`` before. Initialises the model on first use.

        Raises
        ------
        TypeError, ValueError
            As :meth:`fit` for ``X`` and ``y``; nothing is changed when it raises.
        """
        net = self._net or self._new_network("loss_and_grad")
        X = check_X(X, "X", net.layer_sizes[0], net.dtype, net.backend)
        y = self._encoded_targets(net, y, "y", X.shape[0])
        net._check_rows_memory(X.shape[0], "X.shape[0]", per_unit=4)
        self._net = net
        z, caches = net._forward(X, training=True)
        loss, dz = net._loss(z, y)
        net._backward(dz, caches)
        return float(loss), net._grad.copy()

    def _encoded_targets(self, net, y, name, rows):
        """Targets as the loss reads them: unit ids (softmax) or a (rows, n_outputs) array."""
        if net.output == "softmax":
            classes = self.__dict__.get("classes_")
            if classes is None:
                return class_ids(y, name, net.layer_sizes[-1], rows)
            return encode(as_labels(y, name, rows), classes, name)
        return check_targets(y, name, net.output, net.layer_sizes[-1], net.dtype, rows)[0]

    # -- training ------------------------------------------------------------------------

    def _training_params(self, overrides):
        """The checked training hyper-parameters: the constructor's, overridden by ``fit``'s keywords."""
        p = {k: getattr(self, k) if v is _FROM_CONSTRUCTOR else v for k, v in overrides.items()}
        p["epochs"] = check_scalar(p["epochs"], "epochs", integer=True, lo=1, hi=INT64_MAX)
        p["batch_size"] = check_scalar(p["batch_size"], "batch_size", integer=True, lo=1, hi=INT64_MAX)
        check_choice(p["optimizer"], "optimizer", tuple(OPTIMIZERS))
        # every argument is checked, also those this optimizer ignores
        p["lr"] = check_positive(p["lr"], "lr")
        p["momentum"] = check_scalar(p["momentum"], "momentum", lo=0.0, hi=1.0, hi_open=True)
        for flag in ("nesterov", "shuffle", "verbose", "compiled"):
            p[flag] = check_flag(p[flag], flag)
        if p["optimizer"] == "sgd" and p["nesterov"] and p["momentum"] == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        p["weight_decay"] = check_scalar(p["weight_decay"], "weight_decay", lo=0.0)
        if p["early_stopping"] is not None:
            p["early_stopping"] = check_scalar(p["early_stopping"], "early_stopping", integer=True, lo=1,
                                               hi=INT64_MAX)
        return p

    def fit(self, X, y, *, validation_data=None, epochs=_FROM_CONSTRUCTOR, batch_size=_FROM_CONSTRUCTOR,
            optimizer=_FROM_CONSTRUCTOR, lr=_FROM_CONSTRUCTOR, momentum=_FROM_CONSTRUCTOR,
            nesterov=_FROM_CONSTRUCTOR, weight_decay=_FROM_CONSTRUCTOR, shuffle=_FROM_CONSTRUCTOR,
            early_stopping=_FROM_CONSTRUCTOR, verbose=_FROM_CONSTRUCTOR, compiled=_FROM_CONSTRUCTOR):
        """Train with mini-batches; returns the model (``MLP(...).fit(X, y).predict(X)``).

        A fresh seeded initialisation unless ``warm_start=True``. The per-epoch losses are in
        :attr:`history_` (also :attr:`loss_curve_`, :attr:`n_iter_`, :attr:`best_loss_`).

        Parameters
        ----------
        X : array_like of float32 or float64, shape (N, n_features)
            Finite inputs (cast to the model's dtype); ``n_features`` is ``layer_sizes[0]``
            when that is given.
        y : array_like
            softmax: N class labels (ints, bools, integral floats, strings; see
            :attr:`classes_`). sigmoid: targets in [0, 1] of shape (N, n_outputs), or (N,)
            for one output. linear: targets of shape (N, n_outputs), or (N,) for one output;
            a 1-D ``y`` makes ``predict`` return 1-D outputs.
        validation_data : (X_val, y_val), optional
            Evaluated after every epoch (loss and accuracy in :attr:`history_`); labels must
            be among the training labels.
        epochs, batch_size, optimizer, lr, momentum, nesterov, weight_decay, shuffle, early_stopping, verbose, compiled
            Override the constructor's value of the same name for this call only (the
            model's parameters are not changed); see the class docstring.

        Returns
        -------
        MLP
            ``self``.

        Raises
        ------
        TypeError
            ``X`` not a float array, ``y`` of the wrong kind (complex; objects that cannot be
            sorted; strings for a sigmoid or linear output), a flag that is not a bool, a
            number of the wrong type, a bad constructor parameter (``layer_sizes`` not a
            sequence of integers, ``dtype``, ``seed``...).
        ValueError
            ``y`` None; no rows in ``X``; NaN/inf in ``X`` or float targets, or float64 values
            beyond a float32 model's range (checked before the cast); shape mismatches
            (``X has 2 features, but MLP is expecting 3``); non-integer floats as class
            labels; labels that do not fit ``layer_sizes[-1]`` outputs; sigmoid targets
            outside [0, 1]; ``validation_data`` that is not an ``(X, y)`` pair or is invalid
            (named ``validation_data[0]``/``[1]``); any hyper-parameter out of range
            (including those the chosen optimizer ignores); a warm start whose architecture
            or classes changed; a batch-norm batch of one row; a model or batches that
            cannot fit in memory. Every check runs before the first update: a call that
            raises leaves the model, its history and its random state unchanged.
        """
        p = self._training_params(dict(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
                                       momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                                       shuffle=shuffle, early_stopping=early_stopping, verbose=verbose,
                                       compiled=compiled))
        arch = check_architecture(self)
        warm = check_flag(self.warm_start, "warm_start")
        net = self._net if warm else None
        sizes = arch["sizes"]
        n_in = sizes[0] if sizes[0] is not None or net is None else net.layer_sizes[0]
        n_out = sizes[-1] if sizes[-1] is not None or net is None else net.layer_sizes[-1]
        X = check_X(X, "X", n_in, arch["dtype"], arch["backend"])
        n = X.shape[0]
        if n == 0:
            raise ValueError("X has no rows: fit needs at least one training sample")
        output, dtype = arch["output"], arch["dtype"]
        if output == "softmax":
            known = self.__dict__.get("classes_") if net is not None else None
            y, classes = fit_labels(y, "y", n_out, n, known)
            one_d = False
            n_out = len(classes) if n_out is None else n_out
        else:
            y, one_d = check_targets(y, "y", output, n_out, dtype, n)
            n_out = y.shape[1]
            classes = None if output == "linear" else (np.array([0, 1]) if one_d else np.arange(n_out))
        arch["sizes"] = sizes = [X.shape[1], *sizes[1:-1], n_out]
        check_model_memory(sizes, arch["batch_norm"], dtype.itemsize, "layer_sizes")
        if net is not None:
            changed = net.same_architecture(arch)
            if changed is not None:
                raise ValueError(f"warm_start=True keeps training the current network, but {changed} no longer "
                                 f"matches it (set warm_start=False to start afresh)")
        if arch["batch_norm"] and len(sizes) > 2 and (p["batch_size"] == 1 or n % p["batch_size"] == 1):
            # refused before any update: the batch of one row would fail mid-epoch
            raise ValueError(f"batch normalisation needs at least 2 rows in every batch; {n} samples "
                             f"at batch_size {p['batch_size']} leave a batch of 1")
        val = None
        if validation_data is not None:
            pair = check_sequence(validation_data, "validation_data", length=2)
            Xv = check_X(pair[0], "validation_data[0]", sizes[0], dtype, arch["backend"])
            if output == "softmax":
                yv = encode(as_labels(pair[1], "validation_data[1]", Xv.shape[0]), classes, "validation_data[1]")
            else:
                yv = check_targets(pair[1], "validation_data[1]", output, n_out, dtype, Xv.shape[0])[0]
            check_rows_memory(sizes, dtype, Xv.shape[0], "validation_data[0].shape[0]")
            val = (Xv, yv)
        if p["early_stopping"] is not None and val is None:
            raise ValueError("early_stopping needs validation_data")
        p["batch_size"] = min(p["batch_size"], n)  # the same batches; buffers sized by the data
        check_rows_memory(sizes, dtype, p["batch_size"], "batch_size", per_unit=4)
        # everything is validated: only now does the model change
        if net is None:
            net = Network(**arch)
        net.backend = arch["backend"]
        history = self.__dict__.get("history_") if warm and "history_" in self.__dict__ else None
        history = {k: list(v) for k, v in history.items()} if history else _empty_history()
        self._net = net
        self.n_features_in_ = sizes[0]
        if classes is None:
            self.__dict__.pop("classes_", None)
        else:
            self.classes_ = classes
        self._target_1d = one_d
        self.history_ = history
        self._train(net, X, y, val, p, history)
        self.loss_curve_ = list(history["loss"])
        self.n_iter_ = len(history["loss"])
        finite = [v for v in history["loss"] if not math.isnan(v)]
        self.best_loss_ = min(finite) if finite else float("nan")
        return self

    def _train(self, net, X, y, val, p, history):
        """The epoch loop on validated data (appends to ``history``)."""
        epochs, batch_size, optimizer, verbose = p["epochs"], p["batch_size"], p["optimizer"], p["verbose"]
        shuffle, early_stopping = p["shuffle"], p["early_stopping"]
        device = None
        if net.backend == "cuda":
            device = load_cuda("fastkernels.nn._mlp_cuda").DeviceTrainer(net, X, y, batch_size)
        params = net._flat if device is None else device.d_flat  # the optimizer updates these in place
        if optimizer == "sgd":
            opt = SGD(params, lr=p["lr"], momentum=p["momentum"], nesterov=p["nesterov"],
                      weight_decay=p["weight_decay"], backend=net.backend)
        else:
            opt = OPTIMIZERS[optimizer](params, lr=p["lr"], weight_decay=p["weight_decay"], backend=net.backend)
        best, best_params, waited = math.inf, None, 0
        n = X.shape[0]
        step = 0
        fast = p["compiled"] and device is None and net._compiled_ok(optimizer)
        if fast:  # the compiled loop updates the optimizer's own state arrays
            sizes = np.array(net.layer_sizes, np.int64)
            states = [opt.state[name][0] for name in opt._state_names]
            s1, s2 = states[0], states[-1]
            decoupled = getattr(opt, "_decoupled", False)  # AdamW
        for epoch in range(epochs):
            t0 = time.perf_counter()
            order = net._rng.permutation(n) if shuffle else np.arange(n)
            total, correct = 0.0, 0.0
            if device is not None:
                total, correct, step = device.epoch(order, opt, step)
                device.download()
            elif fast:
                total, correct, step = TRAIN_EPOCH[net.activation](
                    X, y, order, not shuffle, batch_size, sizes, net._flat, net._grad, 0.01,
                    SGD_KIND if optimizer == "sgd" else ADAM_KIND, opt.lr, getattr(opt, "momentum", 0.0),
                    getattr(opt, "nesterov", False), 0.0 if decoupled else opt.weight_decay, opt.l1,
                    opt.weight_decay if decoupled else 0.0, getattr(opt, "beta1", 0.9),
                    getattr(opt, "beta2", 0.999), getattr(opt, "eps", 1e-8), s1, s2, step, blas_functions())
                opt.steps = step
            else:
                for start in range(0, n, batch_size):
                    idx = order[start:start + batch_size]
                    xb, yb = X[idx], y[idx]
                    z, caches = net._forward(xb, training=True, step=step)
                    loss, dz = net._loss(z, yb)
                    net._backward(dz, caches, step=step)
                    opt.step(net._grad)
                    step += 1
                    total += float(loss) * len(idx)
                    correct += net._accuracy(z, yb) * len(idx)
            history["loss"].append(total / n)
            history["accuracy"].append(correct / n)
            msg = f"epoch {epoch + 1}/{epochs} [{'=' * 20}] loss {total / n:.4f}"
            if net.output != "linear":
                msg += f" acc {correct / n:.3f}"
            if val is not None:
                vz = net.logits(val[0])
                vloss = float(net._loss(vz, val[1], return_grad=False))
                history["val_loss"].append(vloss)
                history["val_accuracy"].append(net._accuracy(vz, val[1]))
                msg += f" val_loss {vloss:.4f}"
                if net.output != "linear":
                    msg += f" val_acc {history['val_accuracy'][-1]:.3f}"
                if early_stopping is not None:
                    if vloss < best:
                        best, best_params, waited = vloss, net._flat.copy(), 0
                    else:
                        waited += 1
            if verbose:
                print(f"{msg} ({time.perf_counter() - t0:.2f} s)", file=sys.stdout, flush=True)
            if early_stopping is not None and waited >= early_stopping:
                if verbose:
                    print(f"early stopping: validation loss has not improved for {waited} epochs")
                break
        if best_params is not None:
            net._flat[...] = best_params

    # -- inference ---------------------------------------------------------------------

    def _logits(self, X, what):
        net = self._fitted_net(what)
        X = check_X(X, "X", net.layer_sizes[0], net.dtype, net.backend)
        return net, net.logits(X)

    def _one_d(self):
        return self.__dict__.get("_target_1d", False)

    def decision_function(self, X):
        """Output-layer pre-activations (logits), evaluation mode.

        For a two-class softmax model, scikit-learn's binary convention: the margin
        ``z[:, 1] - z[:, 0]`` of shape (N,) (positive: ``classes_[1]``), which holds all the
        softmax reads (it is invariant to a constant added to both logits). For a model fit
        on a 1-D target (sigmoid, linear), shape (N,).

        Parameters
        ----------
        X : array_like of float32 or float64, shape (N, n_features_in_)
            Finite inputs; float64 values beyond float32 range are refused for a float32
            model (the cast would make them inf). N may be 0.

        Returns
        -------
        ndarray of shape (N, layer_sizes[-1]) or (N,), the model's dtype

        Raises
        ------
        NotFittedError
            No parameters yet (see the class Notes); a ``ValueError``.
        TypeError
            ``X`` not a float array (ints, bool, object), or a device array.
        ValueError
            Wrong shape (``X has 2 features, but MLP is expecting 3``), NaN/inf, values
            beyond the model's dtype, or a batch whose activations cannot fit in memory.
            The model is never changed.
        """
        net, z = self._logits(X, "decision_function")
        if net.output == "softmax" and z.shape[1] == 2:
            return z[:, 1] - z[:, 0]
        return z[:, 0] if self._one_d() else z

    def predict_proba(self, X):
        """Class probabilities (softmax, columns in :attr:`classes_` order), label
        probabilities (sigmoid; ``[1 - p, p]`` columns for a model fit on a 1-D target),
        or outputs (linear, as :meth:`predict`).

        ``X`` is checked as in :meth:`decision_function` (same errors)."""
        net, z = self._logits(X, "predict_proba")
        if net.output == "softmax":
            return softmax(z, backend=net.backend)
        if net.output == "sigmoid":
            p = activation(z, "sigmoid", backend=net.backend)
            return np.column_stack([1 - p[:, 0], p[:, 0]]) if self._one_d() else p
        return z[:, 0] if self._one_d() else z

    def predict(self, X):
        """Class labels (softmax: from :attr:`classes_`), 0/1 labels (sigmoid) or
        regression outputs (linear); shape (N,) for softmax and for a model fit on a 1-D target.

        ``X`` is checked as in :meth:`decision_function` (same errors)."""
        net, z = self._logits(X, "predict")
        if net.output == "softmax":
            ids = z.argmax(axis=1)
            classes = self.__dict__.get("classes_")
            return ids if classes is None else classes[ids]
        out = (z > 0).astype(np.int64) if net.output == "sigmoid" else z
        return out[:, 0] if self._one_d() else out

    def score(self, X, y):
        """scikit-learn's default score: accuracy of :meth:`predict` (softmax; labels not among
        :attr:`classes_` count as wrong), subset accuracy (sigmoid: every label of a row right),
        or the coefficient of determination R^2 averaged over outputs (linear; an output of
        constant targets scores 1 if predicted exactly, else 0).

        NaN when it is undefined: no rows (or, R^2, fewer than 2). ``X`` and ``y`` are checked
        as in :meth:`fit` (same errors)."""
        net = self._fitted_net("score")
        X = check_X(X, "X", net.layer_sizes[0], net.dtype, net.backend)
        rows = X.shape[0]
        if net.output == "softmax":
            labels = as_labels(y, "y", rows)
            z = net.logits(X)
            if not rows:
                return float("nan")
            codes = encode(labels, self.__dict__.get("classes_", np.arange(net.layer_sizes[-1])))
            return float(np.mean(z.argmax(axis=1) == codes))
        yt = check_targets(y, "y", net.output, net.layer_sizes[-1], net.dtype, rows)[0]
        z = net.logits(X)
        if net.output == "sigmoid":
            return float(np.mean(np.all((z > 0) == (yt > 0.5), axis=1))) if rows else float("nan")
        if rows < 2:
            return float("nan")
        yt, z = yt.astype(np.float64), z.astype(np.float64)
        ss_res = np.sum((yt - z) ** 2, axis=0)
        ss_tot = np.sum((yt - yt.mean(axis=0)) ** 2, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
                          np.where(ss_res == 0, 1.0, 0.0))
        return float(np.mean(r2))

    # -- persistence ---------------------------------------------------------------------

    def save(self, path):
        """Write the architecture, weights, running statistics and fitted labels to ``path``.

        The file is an ``.npz`` written by :func:`fastkernels._io.save_npz` (format
        ``fastkernels.MLP``, version 1, with a checksum), at ``path`` exactly as given; it
        holds :attr:`classes_` (softmax) so a loaded model predicts the same labels.
        Initialises the model on first use (saving the seeded initial weights).

        Raises
        ------
        TypeError
            ``path`` not a str or os.PathLike.
        ValueError
            The parameters or running statistics hold NaN or inf (a diverged fit): such a
            file could not be loaded, so nothing is written. Labels that cannot be stored
            without pickle (objects other than strings; named ``classes_``).
        OSError
            The file cannot be written (Python's own error, naming it).
        """
        net = self._initialised("save")
        save_model(net, path, self.__dict__.get("classes_"), self._one_d())

    @classmethod
    def load(cls, path, *, backend="auto"):
        """Rebuild a model written by :meth:`save`, fitted (``warm_start=True``: a further
        ``fit`` keeps training the loaded weights).

        Every entry is checked before the model is built: integer layer sizes >= 1 (at
        least two, within memory), known activation and output names, dropout in [0, 1),
        a boolean batch_norm, dtype float32 or float64, parameters and running statistics
        of exactly that dtype and the architecture's shapes, finite, running variances
        >= 0, sorted distinct labels, and no unexpected entries. A file without labels
        (saved before any fit) predicts class ids ``0..n_outputs-1``.

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
        saved = read_model(path, backend)
        arch = saved["arch"]
        dtype = {"float32": np.float32, "float64": np.float64}[arch["dtype"].name]
        model = cls(list(arch["sizes"]), arch["activation"], arch["output"], dropout=arch["dropout"],
                    batch_norm=arch["batch_norm"], warm_start=True, dtype=dtype, backend=backend)
        net = Network(**arch, seed=None)
        net._flat[...] = saved["flat"]
        for i, (rm, rv) in saved["running"].items():
            net.running[i][0][...] = rm
            net.running[i][1][...] = rv
        model._net = net
        model.n_features_in_ = arch["sizes"][0]
        n_out = arch["sizes"][-1]
        if arch["output"] == "softmax":
            model.classes_ = saved["classes"] if saved["classes"] is not None else np.arange(n_out)
        elif arch["output"] == "sigmoid":
            model.classes_ = np.array([0, 1]) if saved["target_1d"] else np.arange(n_out)
        model._target_1d = saved["target_1d"]
        return model
