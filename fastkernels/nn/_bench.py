"""Benchmark cases of :mod:`fastkernels.nn` (see :mod:`fastkernels.bench.registry`).

One table, :data:`CASES`, registered by one loop. Each row pairs a fastkernels call
with its honest NumPy baseline (from :mod:`fastkernels.nn._reference`, which the
tests import too), its inputs (built with fixed seeds), sizes per profile and the
check; torch peers come from one factory helper, :func:`_torch_peer`.
"""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
from . import _reference as ref
from .activations import activation
from .batchnorm import BN_EPS, BN_MOMENTUM, batchnorm_backward, batchnorm_forward
from .dense import dense_backward, dense_forward
from .dropout import dropout
from .losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from .mlp import MLP
from .optim import SGD, Adam, clip_grad_norm
from .rowwise import log_softmax, logsumexp, softmax

# -- torch peers ---------------------------------------------------------------------------


def _torch():
    """torch with as many threads as Numba (peers compare at the same thread count); an
    ImportError where torch is absent makes the runner skip the peer."""
    import torch

    import numba

    torch.set_num_threads(numba.get_num_threads())
    return torch


def _torch_peer(build):
    """The peer factory of ``build(torch) -> peer``: torch is imported (and its threads set)
    only when the runner asks for the peer."""
    return lambda: build(_torch())


def _t(torch, *arrays):
    return [torch.from_numpy(a) for a in arrays]


def _torch_sce(torch):
    def run(x, y):
        xt = torch.from_numpy(x).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(xt, torch.from_numpy(y))
        loss.backward()
        return loss.item(), xt.grad.numpy()

    return run


def _torch_batchnorm(torch):
    def run(x, gamma, beta, dy, running):
        if "torch" not in running:
            running["torch"] = (torch.zeros(x.shape[1], dtype=torch.from_numpy(x).dtype),
                                torch.ones(x.shape[1], dtype=torch.from_numpy(x).dtype))
        rm, rv = running["torch"]
        xt, gt, bt = (a.requires_grad_(True) for a in _t(torch, x, gamma, beta))
        y = torch.nn.functional.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=BN_MOMENTUM, eps=BN_EPS)
        dx, dgamma, dbeta = torch.autograd.grad(y, (xt, gt, bt), torch.from_numpy(dy))
        return y.detach().numpy(), dx.numpy(), dgamma.numpy(), dbeta.numpy()

    return run


def _torch_epoch(torch):
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


TORCH = {
    "softmax": lambda torch: lambda x: torch.softmax(torch.from_numpy(x), dim=1).numpy(),
    "logsumexp": lambda torch: lambda x: torch.logsumexp(torch.from_numpy(x), dim=1).numpy(),
    "log_softmax": lambda torch: lambda x: torch.log_softmax(torch.from_numpy(x), dim=1).numpy(),
    "softmax_cross_entropy": _torch_sce,
    "dropout": lambda torch: lambda x, p, rng: (
        torch.nn.functional.dropout(torch.from_numpy(x), p, training=True).numpy(), x, p),
    "activation": lambda torch: lambda z: torch.nn.functional.gelu(torch.from_numpy(z)).numpy(),
    "dense_forward": lambda torch: lambda X, W, b: torch.relu(torch.nn.functional.linear(*_t(torch, X, W, b))).numpy(),
    "batchnorm": _torch_batchnorm,
    "mlp_epoch": _torch_epoch,
}


# -- inputs, labels and sizes -------------------------------------------------------------


def _dt(dtype):
    return "f32" if dtype == "float32" else "f64"


def _logits(rows, cols, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, cols), dtype=np.float64) * 3.0).astype(dtype)


def _label(rows, cols, dtype="float32"):
    return f"{rows}x{cols} {_dt(dtype)}"


def _classes(rows, cols, dtype="float32"):
    y = np.random.default_rng(1).integers(0, cols, rows)
    return _logits(rows, cols, dtype), y


def _pair(rows, cols, dtype="float32", kind="bce"):
    z = _logits(rows, cols, dtype)
    rng = np.random.default_rng(2)
    t = (rng.random((rows, cols)) < 0.3).astype(dtype) if kind == "bce" else rng.standard_normal((rows, cols)).astype(dtype)
    return z, t


def _nbytes(arrays):
    """``work`` of a (rows, cols) case that moves ``arrays`` arrays of its size."""
    return lambda rows, cols, dtype="float32": {"bytes": arrays * rows * cols * np.dtype(dtype).itemsize}


# The shapes: a classifier batch (8192 x 1000) and vocabulary-sized rows (x 50 000).
ROW_SIZES = {
    "test": [dict(rows=9, cols=31), dict(rows=3, cols=5, dtype="float64")],
    "quick": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000)],
    "full": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000),
             dict(rows=8192, cols=1000, dtype="float64"), dict(rows=4096, cols=50_000)],
}
# logsumexp and log_softmax: the classifier batch (the quick shape); full adds the rest
LSE_SIZES = {"test": ROW_SIZES["test"], "quick": [dict(rows=8192, cols=1000)], "full": ROW_SIZES["full"]}
ELEMENTWISE_SIZES = {
    "test": [dict(rows=5, cols=7), dict(rows=2, cols=3, dtype="float64")],
    "quick": [dict(rows=8192, cols=1000)],
    "full": [dict(rows=8192, cols=1000), dict(rows=8192, cols=1000, dtype="float64")],
}
# 4M elements (an activation batch of 4096 x 1024)
FLAT_SIZES = {
    "test": [dict(rows=6, cols=11), dict(rows=3, cols=4, dtype="float64")],
    "quick": [dict(rows=4096, cols=1024)],
    "full": [dict(rows=4096, cols=1024), dict(rows=4096, cols=1024, dtype="float64"), dict(rows=16384, cols=1024)],
}
DENSE_SIZES = {
    "test": [dict(n=7, k=5, m=3), dict(n=4, k=9, m=2, dtype="float64")],
    "quick": [dict(n=2048, k=784, m=256)],
    "full": [dict(n=2048, k=784, m=256), dict(n=8192, k=784, m=256), dict(n=128, k=256, m=256)],
}
STEP_SIZES = {"test": [dict(n=37), dict(n=5, dtype="float64")], "quick": [dict(n=1_000_000)],
              "full": [dict(n=1_000_000), dict(n=10_000_000)]}

# -- dropout: masks differ by RNG, so the output is checked structurally --------------------

DROPOUT_P = 0.5


def _dropout_inputs(rows, cols, dtype="float32", p=DROPOUT_P):
    x = np.random.default_rng(6).standard_normal((rows, cols)).astype(dtype)
    # the baseline's generator, made once: each call draws a fresh mask, as training does
    return x, p, np.random.default_rng(7)


def _check_dropout(out, ref):
    """Every element 0 or x / (1 - p), and the kept fraction within 5 sigma of 1 - p."""
    y, x, p = out
    y = np.asarray(y)
    assert y.shape == x.shape and y.dtype == x.dtype, f"{y.shape} {y.dtype}, expected {x.shape} {x.dtype}"
    scaled = x.astype(np.float64) / (1 - p)
    kept = y != 0
    # one float32 rounding each side (x / (1 - p) vs x * (1 / (1 - p)))
    tol = 4 * np.finfo(x.dtype).eps * np.abs(scaled)
    bad = kept & ~(np.abs(y - scaled) <= tol)
    assert not bad.any(), f"{bad.sum()} kept elements differ from x / (1 - p), e.g. {y[bad][:3]} vs {scaled[bad][:3]}"
    n = np.count_nonzero(x)  # an element with x == 0 gives 0 either way
    frac = np.count_nonzero(kept) / max(n, 1)
    sigma = np.sqrt(p * (1 - p) / max(n, 1))
    assert abs(frac - (1 - p)) <= 5 * sigma + 1e-12, f"kept fraction {frac:.4f}, expected {1 - p} +- {5 * sigma:.4f}"


# -- dense layers ---------------------------------------------------------------------------


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
    return f"{n}x{k} -> {m} {_dt(dtype)}"


# -- batch normalisation: each contender updates its own running statistics ----------------


def _batchnorm_inputs(n, c, dtype="float32"):
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((n, c)) * 2.0 + rng.standard_normal(c)).astype(dtype)
    gamma = (1.0 + 0.1 * rng.standard_normal(c)).astype(dtype)
    beta = (0.1 * rng.standard_normal(c)).astype(dtype)
    dy = rng.standard_normal((n, c)).astype(dtype)
    # each contender updates its own running statistics in place (keyed by contender)
    running = {}
    return x, gamma, beta, dy, running


def _running(running, who, c, dtype):
    if who not in running:
        running[who] = (np.zeros(c, dtype), np.ones(c, dtype))
    return running[who]


def _numpy_batchnorm(x, gamma, beta, dy, running):
    return ref.numpy_batchnorm(x, gamma, beta, dy, *_running(running, "numpy", x.shape[1], x.dtype),
                               BN_MOMENTUM, BN_EPS)


def _fk_batchnorm(x, gamma, beta, dy, running, backend):
    rm, rv = _running(running, "fastkernels", x.shape[1], x.dtype)
    y, cache = batchnorm_forward(x, gamma, beta, rm, rv, training=True, momentum=BN_MOMENTUM, eps=BN_EPS,
                                 backend=backend)
    return (y, *batchnorm_backward(dy, cache, gamma, backend=backend))


def _check_batchnorm(out, ref):
    """y and dx to rtol 1e-4; dgamma and dbeta (column sums over N rows) to ``2 N eps`` absolute.

    NumPy's axis-0 sums add rows one by one in float32, so the baseline's dgamma and
    dbeta drift from the exact sums by up to ~N eps / 3 (3e-4 at N = 8192; fastkernels
    sums in float64 and is within 1e-5 of them); a wrong formula is off by O(1).
    """
    if len(out) != 4:
        raise AssertionError(f"{len(out)} outputs, expected (y, dx, dgamma, dbeta)")
    n = np.asarray(out[0]).shape[0]
    sum_atol = 2 * n * np.finfo(np.asarray(ref[0]).dtype).eps
    for name, o, r, rtol, atol in zip(("y", "dx", "dgamma", "dbeta"), out, ref,
                                      (1e-4, 1e-4, 1e-4, 1e-4), (1e-5, 1e-5, sum_atol, sum_atol)):
        np.testing.assert_allclose(np.asarray(o), np.asarray(r), rtol=rtol, atol=atol, err_msg=name)


# -- optimizers: each contender steps its own copy from the same start ---------------------


def _step_inputs(seed, numpy_opt, fk_opt):
    def make(n, dtype="float32"):
        rng = np.random.default_rng(seed)
        p = rng.standard_normal(n).astype(dtype)
        g = rng.standard_normal(n).astype(dtype)
        # each contender steps its own copy from the same start: one step each is validated
        return (numpy_opt(p.copy()), fk_opt(p.copy())), g

    return make


def _fk_step(opts, g, backend):
    opt = opts[1]
    opt.backend = backend
    opt.step([g])
    return opt.params[0]


def _step_label(n, dtype="float32"):
    return f"{n:,} params {_dt(dtype)}"


CLIP_MAX_NORM = 1.0


def _n_grads(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def _clip_inputs(sizes, dtype="float32"):
    """The weight and bias gradients of an MLP with layer ``sizes``; global norm ~10, so they are clipped."""
    rng = np.random.default_rng(11)
    grads = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        grads += [(rng.standard_normal((b, a)) * 0.01).astype(dtype), (rng.standard_normal(b) * 0.01).astype(dtype)]
    # clipping is in place and a clipped set is not clipped again: every call first restores
    # its own working copy from `grads` (the same copy in both contenders), so each does the full clip
    return grads, [g.copy() for g in grads], [g.copy() for g in grads], CLIP_MAX_NORM


def _restore(work, grads):
    for w, g in zip(work, grads):
        np.copyto(w, g)


def _numpy_clip(grads, fk_work, np_work, max_norm):
    _restore(np_work, grads)
    return ref.numpy_clip_grad_norm(np_work, max_norm)


def _fk_clip(grads, fk_work, np_work, max_norm, backend):
    # clip_grad_norm takes no backend: its norm and scale loops are serial
    _restore(fk_work, grads)
    return (clip_grad_norm(fk_work, max_norm), *fk_work)


def _clip_label(sizes, dtype="float32"):
    return f"{_n_grads(sizes):,} grads in {2 * (len(sizes) - 1)} arrays {_dt(dtype)}"


# -- MLP training epoch ---------------------------------------------------------------------


def _mlp_inputs(n, sizes, batch=128):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n)
    # one epoch per fit, continuing from the last (warm_start), like the NumPy loop it is compared with
    model = MLP(list(sizes), "relu", epochs=1, batch_size=batch, optimizer="sgd", lr=0.01, momentum=0.9,
                shuffle=False, warm_start=True, seed=0)
    params = []
    for k in range(len(sizes) - 1):
        params += [model.params[("W", k)].T.copy(), model.params[("b", k)].copy()]
    contenders = {"fastkernels": model, "numpy": ref.NumpyMLP(params), "params": params}
    return contenders, X, y, batch


def _fk_epoch(state, X, y, batch, backend):
    model = state["fastkernels"]
    # the model's "auto": batch-sized elementwise kernels serial, GEMMs on BLAS threads
    model.set_params(backend="auto" if backend == "parallel" else backend)
    model.fit(X, y)
    return model.params[("W", 0)].T


def _mlp_label(n, sizes, batch=128):
    return f"{'-'.join(map(str, sizes))} B={batch}, {n:,} samples"


# -- the table --------------------------------------------------------------------------------

_ROWS = dict(label=_label, make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype),))

CASES = [
    dict(_ROWS, name="softmax", description="row softmax over the last axis (forward)",
         kernel=lambda x, backend: softmax(x, backend=backend), baseline=ref.numpy_softmax, sizes=ROW_SIZES,
         rtol=1e-4, atol=1e-7,
         work=_nbytes(2)),  # one read of the logits and one write of the probabilities
    dict(_ROWS, name="logsumexp", description="row logsumexp over the last axis",
         kernel=lambda x, backend: logsumexp(x, backend=backend), baseline=ref.numpy_logsumexp, sizes=LSE_SIZES,
         rtol=1e-5, atol=1e-6,
         # one read of the logits (the per-row output is negligible)
         work=lambda rows, cols, dtype="float32": {"bytes": rows * (cols + 1) * np.dtype(dtype).itemsize}),
    dict(_ROWS, name="log_softmax", description="row log-softmax over the last axis (forward)",
         kernel=lambda x, backend: log_softmax(x, backend=backend), baseline=ref.numpy_log_softmax, sizes=LSE_SIZES,
         # entries near 0 (a row's dominant logit) carry the float32 rounding of max and log-sum (|x| <~ 15)
         rtol=1e-5, atol=1e-5, work=_nbytes(2)),
    dict(name="softmax_cross_entropy",
         description="fused softmax-cross-entropy, loss + gradient (forward+backward), mean over class ids",
         make_inputs=_classes, kernel=lambda x, y, backend: softmax_cross_entropy(x, y, backend=backend),
         baseline=ref.numpy_softmax_cross_entropy, sizes=ROW_SIZES, label=_label, rtol=1e-4, atol=1e-8,
         work=_nbytes(2)),  # memory roofline: read the logits once, write the gradient once
    dict(name="sigmoid_binary_cross_entropy", description="sigmoid BCE from logits, loss + gradient, mean",
         make_inputs=lambda rows, cols, dtype="float32": _pair(rows, cols, dtype, "bce"),
         kernel=lambda z, t, backend: sigmoid_binary_cross_entropy(z, t, backend=backend),
         baseline=ref.numpy_sigmoid_bce, sizes=ELEMENTWISE_SIZES, label=_label, rtol=1e-4, atol=1e-9,
         work=_nbytes(3)),
    dict(name="mse", description="mean squared error, loss + gradient",
         make_inputs=lambda rows, cols, dtype="float32": _pair(rows, cols, dtype, "mse"),
         kernel=lambda a, b, backend: mse(a, b, backend=backend), baseline=ref.numpy_mse, sizes=ELEMENTWISE_SIZES,
         label=_label, rtol=1e-4, atol=1e-9, work=_nbytes(3)),
    dict(name="dropout",
         description=f"inverted dropout forward, p = {DROPOUT_P} (masks differ by RNG: output checked structurally)",
         make_inputs=_dropout_inputs,
         kernel=lambda x, p, rng, backend: (dropout(x, p, seed=0, step=0, backend=backend), x, p),
         baseline=ref.numpy_dropout, sizes=FLAT_SIZES, label=_label, check=_check_dropout,
         work=_nbytes(2)),  # read x, write y (NumPy also writes and reads a mask and its uniforms)
    dict(name="activation", description='activation(z, "gelu") forward, the exact erf form',
         make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype, seed=8),),
         kernel=lambda z, backend: activation(z, "gelu", backend=backend), baseline=ref.numpy_gelu,
         sizes=FLAT_SIZES, label=_label, rtol=1e-5,
         # for z < 0, 1 + erf cancels: against float64, scipy's float32 erf leaves 4.5e-7 absolute error,
         # torch's vectorised erf 1.3e-6 (near z = -3.5), fastkernels (float64 erfc) 2.4e-7; the tanh
         # approximation is off by ~1e-4
         atol=2e-6, work=_nbytes(2)),
    dict(name="dense_forward",
         description="dense layer forward, X @ W.T + b then ReLU (BLAS GEMM + fused epilogue)",
         make_inputs=_dense_inputs, kernel=lambda X, W, b, backend: dense_forward(X, W, b, "relu", backend=backend)[0],
         baseline=ref.numpy_dense_relu, sizes=DENSE_SIZES, label=_dense_label,
         bounds={"GEMM alone": _gemm_alone_forward}, rtol=1e-4, atol=1e-4,
         work=lambda n, k, m, dtype="float32", backward=False: {"flops": 2 * n * k * m}),
    dict(name="dense_backward", description="dense layer backward through ReLU: dX, dW, db",
         make_inputs=lambda n, k, m, dtype="float32": _dense_inputs(n, k, m, dtype, backward=True),
         kernel=lambda dA, X, W, A, backend: dense_backward(dA, X, W, A, "relu", backend=backend),
         baseline=ref.numpy_dense_relu_backward, sizes=DENSE_SIZES, label=_dense_label,
         bounds={"GEMM alone": _gemm_alone_backward}, rtol=1e-4, atol=1e-3,
         work=lambda n, k, m, dtype="float32": {"flops": 4 * n * k * m}),
    dict(name="batchnorm",
         description="batch norm over the batch axis, training mode: forward (running stats updated) + backward",
         make_inputs=_batchnorm_inputs, kernel=_fk_batchnorm, baseline=_numpy_batchnorm,
         sizes={"test": [dict(n=9, c=5), dict(n=4, c=3, dtype="float64")], "quick": [dict(n=2048, c=256)],
                "full": [dict(n=2048, c=256), dict(n=8192, c=1024), dict(n=2048, c=256, dtype="float64")]},
         label=lambda n, c, dtype="float32": f"{n}x{c} {_dt(dtype)}", check=_check_batchnorm,
         # read x; write y and the xhat cache; read dy and xhat; write dx
         work=lambda n, c, dtype="float32": {"bytes": 6 * n * c * np.dtype(dtype).itemsize}),
    dict(name="adam_step", description="one Adam update of a flat parameter buffer, in place",
         make_inputs=_step_inputs(4, ref.NumpyAdam, lambda p: Adam([p], lr=1e-3)), kernel=_fk_step,
         baseline=lambda opts, g: opts[0].step(g), sizes=STEP_SIZES, label=_step_label, rtol=1e-5, atol=1e-7,
         # read p, g, m, v; write p, m, v
         work=lambda n, dtype="float32": {"bytes": 7 * n * np.dtype(dtype).itemsize}),
    dict(name="sgd_momentum_step",
         description="one SGD update, momentum 0.9 and L2 weight decay 5e-4, of a flat parameter buffer, in place",
         make_inputs=_step_inputs(10, ref.NumpySGD, lambda p: SGD([p], lr=0.01, momentum=0.9, weight_decay=5e-4)),
         kernel=_fk_step, baseline=lambda opts, g: opts[0].step(g), sizes=STEP_SIZES, label=_step_label,
         rtol=1e-5, atol=1e-7,
         work=lambda n, dtype="float32": {"bytes": 5 * n * np.dtype(dtype).itemsize}),  # read p, g, v; write p, v
    dict(name="clip_grad_norm",
         description="global L2-norm gradient clipping of an MLP's gradient arrays, in place (after a restoring copy)",
         make_inputs=_clip_inputs, kernel=_fk_clip, baseline=_numpy_clip,
         sizes={"test": [dict(sizes=(5, 4, 3)), dict(sizes=(3, 2), dtype="float64")],
                "quick": [dict(sizes=(784, 1024, 192, 10))],
                "full": [dict(sizes=(784, 1024, 192, 10)), dict(sizes=(784, 4096, 1024, 10))]},
         label=_clip_label, rtol=1e-5, atol=1e-8,
         # restore (read + write), norm (read), scale (read + write)
         work=lambda sizes, dtype="float32": {"bytes": 5 * np.dtype(dtype).itemsize * _n_grads(sizes)}),
    dict(name="mlp_epoch",
         description="one training epoch of a ReLU MLP, SGD + momentum 0.9, lr 0.01 (first-layer weights compared)",
         make_inputs=_mlp_inputs, kernel=_fk_epoch,
         baseline=lambda state, X, y, batch: state["numpy"].epoch(X, y, batch)[0],
         sizes={"test": [dict(n=300, sizes=(20, 16, 16, 5), batch=32)],
                "quick": [dict(n=12_800, sizes=(784, 256, 256, 10)), dict(n=12_800, sizes=(784, 64, 10), batch=32)],
                "full": [dict(n=60_000, sizes=(784, 256, 256, 10)), dict(n=60_000, sizes=(784, 64, 10), batch=32)]},
         label=_mlp_label,
         # float32 training trajectories drift apart by ~1e-4 over 100 steps (torch vs NumPy too);
         # a wrong update rule is off by far more than this
         rtol=2e-3, atol=1e-3,
         work=lambda n, sizes, batch=128: {"flops": 6 * n * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))}),
]

for _spec in CASES:
    _peers = {"torch": _torch_peer(TORCH[_spec["name"]])} if _spec["name"] in TORCH else {}
    register(Case(area="nn", peers=_peers, **_spec))
