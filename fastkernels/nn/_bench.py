"""Benchmark cases of :mod:`fastkernels.nn` (see :mod:`fastkernels.bench.registry`)."""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
from .dense import dense_backward, dense_forward
from .losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from .mlp import MLP
from .optim import Adam
from .rowwise import softmax


def _logits(rows, cols, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, cols), dtype=np.float64) * 3.0).astype(dtype)


def numpy_softmax(x):
    """The honest NumPy row softmax: shift by the row max, exp in place, normalise in place."""
    e = x - x.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


def _torch_softmax():
    import torch  # noqa: F401  (ImportError -> peer skipped)

    import numba

    torch.set_num_threads(numba.get_num_threads())
    return lambda x: torch.softmax(torch.from_numpy(x), dim=1).numpy()


# The shapes: a classifier batch (8192 x 1000) and vocabulary-sized rows (x 50 000).
ROW_SIZES = {
    "test": [dict(rows=9, cols=31), dict(rows=3, cols=5, dtype="float64")],
    "quick": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000)],
    "full": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000),
             dict(rows=8192, cols=1000, dtype="float64"), dict(rows=4096, cols=50_000)],
}


def _label(rows, cols, dtype="float32"):
    return f"{rows}x{cols} {'f32' if dtype == 'float32' else 'f64'}"


register(Case(
    name="softmax",
    area="nn",
    description="row softmax over the last axis (forward)",
    make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype),),
    kernel=lambda x, backend: softmax(x, backend=backend),
    baseline=numpy_softmax,
    sizes=ROW_SIZES,
    label=_label,
    peers={"torch": _torch_softmax},
    rtol=1e-4,
    atol=1e-7,
    # one read of the logits and one write of the probabilities
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))


def numpy_softmax_cross_entropy(x, y):
    """The honest NumPy fused loss + gradient: one exp pass, in-place updates."""
    n = x.shape[0]
    rows = np.arange(n)
    m = x.max(axis=1, keepdims=True)
    e = x - m
    np.exp(e, out=e)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - (x[rows, y] - m[:, 0]))
    e /= s
    e[rows, y] -= 1
    e /= n
    return loss, e


def _torch_softmax_cross_entropy():
    import torch

    import numba

    torch.set_num_threads(numba.get_num_threads())

    def run(x, y):
        xt = torch.from_numpy(x).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(xt, torch.from_numpy(y))
        loss.backward()
        return loss.item(), xt.grad.numpy()

    return run


def _classes(rows, cols, dtype="float32"):
    y = np.random.default_rng(1).integers(0, cols, rows)
    return _logits(rows, cols, dtype), y


register(Case(
    name="softmax_cross_entropy",
    area="nn",
    description="fused softmax-cross-entropy, loss + gradient (forward+backward), mean over class ids",
    make_inputs=_classes,
    kernel=lambda x, y, backend: softmax_cross_entropy(x, y, backend=backend),
    baseline=numpy_softmax_cross_entropy,
    sizes=ROW_SIZES,
    label=_label,
    peers={"torch": _torch_softmax_cross_entropy},
    rtol=1e-4,
    atol=1e-8,
    # memory roofline: read the logits once, write the gradient once
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))


def numpy_sigmoid_bce(z, t):
    """Stable NumPy BCE from logits: softplus(z) - z t, gradient (sigmoid(z) - t) / n."""
    from scipy.special import expit

    n = z.size
    loss = np.mean(np.logaddexp(0, z) - z * t)
    return loss, (expit(z) - t) / n


def numpy_mse(a, b):
    d = a - b
    n = d.size
    loss = np.vdot(d, d) / n
    d *= 2.0 / n
    return loss, d


def _pair(rows, cols, dtype="float32", kind="bce"):
    z = _logits(rows, cols, dtype)
    rng = np.random.default_rng(2)
    t = (rng.random((rows, cols)) < 0.3).astype(dtype) if kind == "bce" else rng.standard_normal((rows, cols)).astype(dtype)
    return z, t


ELEMENTWISE_SIZES = {
    "test": [dict(rows=5, cols=7), dict(rows=2, cols=3, dtype="float64")],
    "quick": [dict(rows=8192, cols=1000)],
    "full": [dict(rows=8192, cols=1000), dict(rows=8192, cols=1000, dtype="float64")],
}

register(Case(
    name="sigmoid_binary_cross_entropy",
    area="nn",
    description="sigmoid BCE from logits, loss + gradient, mean",
    make_inputs=lambda rows, cols, dtype="float32": _pair(rows, cols, dtype, "bce"),
    kernel=lambda z, t, backend: sigmoid_binary_cross_entropy(z, t, backend=backend),
    baseline=numpy_sigmoid_bce,
    sizes=ELEMENTWISE_SIZES,
    label=_label,
    rtol=1e-4,
    atol=1e-9,
    work=lambda rows, cols, dtype="float32": {"bytes": 3 * rows * cols * np.dtype(dtype).itemsize},
))

register(Case(
    name="mse",
    area="nn",
    description="mean squared error, loss + gradient",
    make_inputs=lambda rows, cols, dtype="float32": _pair(rows, cols, dtype, "mse"),
    kernel=lambda a, b, backend: mse(a, b, backend=backend),
    baseline=numpy_mse,
    sizes=ELEMENTWISE_SIZES,
    label=_label,
    rtol=1e-4,
    atol=1e-9,
    work=lambda rows, cols, dtype="float32": {"bytes": 3 * rows * cols * np.dtype(dtype).itemsize},
))


# -- dense layers -------------------------------------------------------------------


def _dense_inputs(n, k, m, dtype="float32", backward=False):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, k), dtype=np.float64).astype(dtype)
    W = (rng.standard_normal((m, k)) / np.sqrt(k)).astype(dtype)
    b = (rng.standard_normal(m) * 0.1).astype(dtype)
    if not backward:
        return X, W, b
    A = np.maximum(X @ W.T + b, 0)
    dA = rng.standard_normal((n, m)).astype(dtype)
    return dA, X, W, A


def numpy_dense_relu(X, W, b):
    """The honest NumPy layer: one GEMM, in-place bias add and ReLU."""
    Z = X @ W.T
    Z += b
    np.maximum(Z, 0, out=Z)
    return Z


def numpy_dense_relu_backward(dA, X, W, A):
    dZ = dA * (A > 0)
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


def _torch_dense():
    import torch

    import numba

    torch.set_num_threads(numba.get_num_threads())
    return lambda X, W, b: torch.relu(torch.nn.functional.linear(
        torch.from_numpy(X), torch.from_numpy(W), torch.from_numpy(b))).numpy()


def _gemm_alone_forward():
    """the bare BLAS GEMM(s) at the layer's shapes (NumPy's @); 0.85x or more: GEMMs within 85% of it

    Not checked against the baseline: it skips the bias and activation on purpose.
    """
    return lambda X, W, b: X @ W.T


def _gemm_alone_backward():
    """the bare BLAS GEMM(s) at the layer's shapes (NumPy's @); 0.85x or more: GEMMs within 85% of it

    Not checked against the baseline: it skips the bias and activation on purpose.
    """
    return lambda dA, X, W, A: (dA @ W, dA.T @ X)


def _dense_label(n, k, m, dtype="float32", backward=False):
    return f"{n}x{k} -> {m} {'f32' if dtype == 'float32' else 'f64'}"


DENSE_SIZES = {
    "test": [dict(n=7, k=5, m=3), dict(n=4, k=9, m=2, dtype="float64")],
    "quick": [dict(n=2048, k=784, m=256)],
    "full": [dict(n=2048, k=784, m=256), dict(n=8192, k=784, m=256), dict(n=128, k=256, m=256)],
}

register(Case(
    name="dense_forward",
    area="nn",
    description="dense layer forward, X @ W.T + b then ReLU (BLAS GEMM + fused epilogue)",
    make_inputs=_dense_inputs,
    kernel=lambda X, W, b, backend: dense_forward(X, W, b, "relu", backend=backend)[0],
    baseline=numpy_dense_relu,
    sizes=DENSE_SIZES,
    label=_dense_label,
    peers={"torch": _torch_dense},
    bounds={"GEMM alone": _gemm_alone_forward},
    rtol=1e-4,
    atol=1e-4,
    work=lambda n, k, m, dtype="float32", backward=False: {"flops": 2 * n * k * m},
))

register(Case(
    name="dense_backward",
    area="nn",
    description="dense layer backward through ReLU: dX, dW, db",
    make_inputs=lambda n, k, m, dtype="float32": _dense_inputs(n, k, m, dtype, backward=True),
    kernel=lambda dA, X, W, A, backend: dense_backward(dA, X, W, A, "relu", backend=backend),
    baseline=numpy_dense_relu_backward,
    sizes=DENSE_SIZES,
    label=_dense_label,
    bounds={"GEMM alone": _gemm_alone_backward},
    rtol=1e-4,
    atol=1e-3,
    work=lambda n, k, m, dtype="float32": {"flops": 4 * n * k * m},
))


# -- optimizers -------------------------------------------------------------------------


class _NumpyAdam:
    """The honest NumPy Adam step: in-place updates and one preallocated temporary."""

    def __init__(self, p, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps = p, lr, b1, b2, eps
        self.m, self.v, self.tmp, self.t = np.zeros_like(p), np.zeros_like(p), np.empty_like(p), 0

    def step(self, g):
        self.t += 1
        m, v, tmp = self.m, self.v, self.tmp
        m *= self.b1
        np.multiply(g, 1 - self.b1, out=tmp)
        m += tmp
        v *= self.b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.b2
        v += tmp
        np.divide(v, 1 - self.b2**self.t, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1 - self.b1**self.t)
        self.p -= tmp
        return self.p


def _fk_adam_step(opt, g, backend):
    opt.backend = backend
    opt.step([g])
    return opt.params[0]


def _adam_inputs(n, dtype="float32"):
    rng = np.random.default_rng(4)
    p = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    # each contender steps its own copy from the same start: one step each is validated
    return (_NumpyAdam(p.copy()), Adam([p.copy()], lr=1e-3)), g


register(Case(
    name="adam_step",
    area="nn",
    description="one Adam update of a flat parameter buffer, in place",
    make_inputs=_adam_inputs,
    kernel=lambda opts, g, backend: _fk_adam_step(opts[1], g, backend),
    baseline=lambda opts, g: opts[0].step(g),
    sizes={"test": [dict(n=37), dict(n=5, dtype="float64")], "quick": [dict(n=1_000_000)],
           "full": [dict(n=1_000_000), dict(n=10_000_000)]},
    label=lambda n, dtype="float32": f"{n:,} params {'f32' if dtype == 'float32' else 'f64'}",
    rtol=1e-5,
    atol=1e-7,
    # read p, g, m, v; write p, m, v
    work=lambda n, dtype="float32": {"bytes": 7 * n * np.dtype(dtype).itemsize},
))


# -- MLP training epoch -----------------------------------------------------------------


class _NumpyMLP:
    """The honest NumPy training loop of ../shared/peers/torch_mlp.py (ReLU MLP, SGD + momentum)."""

    def __init__(self, params, lr=0.01, mu=0.9):
        self.P = [p.copy() for p in params]  # W1, b1, W2, b2, ... with W stored (in, out)
        self.V = [np.zeros_like(p) for p in self.P]
        self.lr, self.mu = lr, mu

    def epoch(self, X, y, batch):
        P, n_layers = self.P, len(self.P) // 2
        for i in range(0, len(X), batch):
            x, yy = X[i:i + batch], y[i:i + batch]
            n = len(x)
            acts, zs = [x], []
            for k in range(n_layers):
                z = acts[-1] @ P[2 * k] + P[2 * k + 1]
                zs.append(z)
                acts.append(np.maximum(z, 0) if k < n_layers - 1 else z)
            z = acts[-1] - acts[-1].max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            d = p
            d[np.arange(n), yy] -= 1
            d /= n
            grads = [None] * len(P)
            for k in reversed(range(n_layers)):
                grads[2 * k] = acts[k].T @ d
                grads[2 * k + 1] = d.sum(0)
                if k:
                    d = (d @ P[2 * k].T) * (zs[k - 1] > 0)
            for p_, v_, g_ in zip(P, self.V, grads):
                v_ *= self.mu
                v_ -= self.lr * g_
                p_ += v_
        return P


def _mlp_inputs(n, sizes, batch=128):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n)
    model = MLP(list(sizes), "relu", seed=0)
    params = []
    for k in range(len(sizes) - 1):
        params += [model.params[("W", k)].T.copy(), model.params[("b", k)].copy()]
    contenders = {"fastkernels": model, "numpy": _NumpyMLP(params), "params": params}
    return contenders, X, y, batch


def _fk_epoch(state, X, y, batch, backend):
    model = state["fastkernels"]
    # the model's "auto": batch-sized elementwise kernels serial, GEMMs on BLAS threads
    model.backend = "auto" if backend == "parallel" else backend
    model.fit(X, y, epochs=1, batch_size=batch, optimizer="sgd", lr=0.01, momentum=0.9, shuffle=False, verbose=False)
    return model.params[("W", 0)].T


def _torch_epoch():
    import torch

    import numba

    torch.set_num_threads(numba.get_num_threads())

    def run(state, X, y, batch):
        if "torch" not in state:
            layers = []
            params = state["params"]
            for k in range(len(params) // 2):
                lin = torch.nn.Linear(*params[2 * k].shape)
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(params[2 * k].T.copy()))
                    lin.bias.copy_(torch.from_numpy(params[2 * k + 1]))
                layers += [lin, torch.nn.ReLU()]
            model = torch.nn.Sequential(*layers[:-1])
            state["torch"] = (model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
        model, opt = state["torch"]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for i in range(0, len(X), batch):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[i:i + batch]), yt[i:i + batch]).backward()
            opt.step()
        return model[0].weight.detach().numpy().T

    return run


def _mlp_label(n, sizes, batch=128):
    return f"{'-'.join(map(str, sizes))} B={batch}, {n:,} samples"


register(Case(
    name="mlp_epoch",
    area="nn",
    description="one training epoch of a ReLU MLP, SGD + momentum 0.9, lr 0.01 (first-layer weights compared)",
    make_inputs=_mlp_inputs,
    kernel=_fk_epoch,
    baseline=lambda state, X, y, batch: state["numpy"].epoch(X, y, batch)[0],
    sizes={
        "test": [dict(n=300, sizes=(20, 16, 16, 5), batch=32)],
        "quick": [dict(n=12_800, sizes=(784, 256, 256, 10)), dict(n=12_800, sizes=(784, 64, 10), batch=32)],
        "full": [dict(n=60_000, sizes=(784, 256, 256, 10)), dict(n=60_000, sizes=(784, 64, 10), batch=32)],
    },
    label=_mlp_label,
    peers={"torch": _torch_epoch},
    # float32 training trajectories drift apart by ~1e-4 over 100 steps (torch vs NumPy too);
    # a wrong update rule is off by far more than this
    rtol=2e-3,
    atol=1e-3,
    work=lambda n, sizes, batch=128: {"flops": 6 * n * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))},
))
