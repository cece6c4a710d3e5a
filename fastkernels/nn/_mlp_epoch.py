"""One whole training epoch of a plain MLP as a single compiled function.

For small networks the Python driver in :mod:`fastkernels.nn.mlp` spends more
time dispatching (and validating) a dozen kernel calls per batch than
computing; here the batch loop, the GEMMs (NumPy's own BLAS through
:func:`fastkernels._blas.gemm`, transposes without copies), the fused bias + activation epilogues, the softmax-cross-entropy
rows, the backward pass and the optimizer update all run inside one ``@njit``
call per epoch. It covers the common case (softmax output, hidden activations
whose derivative needs only the output, no dropout or batch norm, SGD with
momentum or Adam/AdamW); :class:`~fastkernels.nn.MLP` falls back to the kernel-by-kernel
path otherwise. The parameter layout is the MLP's flat buffer: for each layer
``W`` (out, in) then ``b`` (out,).
"""

import math

import numpy as np

from .._blas import gemm
from .._jit import jit
from .._scalar import adam_element, sgd_element
from ._rows import exp_shift_sum, row_max
from .activations import act_forward, act_grad, per_activation

SGD_KIND, ADAM_KIND = 0, 1


@jit
def _offsets(sizes):
    n_layers = sizes.size - 1
    offs = np.empty(n_layers, np.int64)
    o = 0
    for k in range(n_layers):
        offs[k] = o
        o += sizes[k + 1] * sizes[k] + sizes[k + 1]
    return offs


@jit
def _sgd_update(p, g, v, lr, mu, nesterov, wd, l1):
    """:func:`fastkernels._scalar.sgd_element` over every parameter; the branches sit outside
    the loops (constant arguments fold the rule's own), so each loop vectorises."""
    if mu == 0:  # plain SGD: no velocity
        for i in range(p.size):
            p[i], _ = sgd_element(p[i], g[i], 0.0, lr, 0.0, False, wd, l1)
    elif nesterov:
        for i in range(p.size):
            p[i], v[i] = sgd_element(p[i], g[i], v[i], lr, mu, True, wd, l1)
    else:
        for i in range(p.size):
            p[i], v[i] = sgd_element(p[i], g[i], v[i], lr, mu, False, wd, l1)


@jit
def _adam_update(p, g, m, v, lr, b1, b2, eps, c1, c2, wd, l1, decay_mult):
    """:func:`fastkernels._scalar.adam_element` over every parameter."""
    for i in range(p.size):
        p[i], m[i], v[i] = adam_element(p[i], g[i], m[i], v[i], lr, b1, b2, eps, c1, c2, wd, l1, decay_mult)


def train_epoch(X, y, order, sequential, batch, sizes, flat, grad, alpha, kind, lr, mu, nesterov, wd, l1,
                decoupled_wd, b1, b2, eps, s1, s2, step, fns):
    """Run one epoch in place on ``flat`` (and the optimizer state ``s1``, ``s2``).

    A template: the hidden activation is the compile-time constant ``_CODE`` (branch-free
    epilogues), bound by :func:`~fastkernels.nn.activations.per_activation`.

    ``wd`` is the L2 coefficient (added to the gradient), ``l1`` the L1 one and
    ``decoupled_wd`` AdamW's decoupled decay (``p *= 1 - lr decoupled_wd`` before the Adam
    step; 0 otherwise): the update rules of :mod:`fastkernels._scalar`, as the optimizers'.

    ``fns``: :func:`fastkernels._blas.blas_functions` (a run-time argument: addresses
    differ per process, the cached machine code must not freeze them).

    Returns ``(sum of per-sample losses, number correct, updated step count)``.
    No validation: the caller (MLP.fit) has checked every array.
    """
    n_layers = sizes.size - 1
    offs = _offsets(sizes)
    n = order.size
    total = 0.0
    correct = 0
    # workspaces allocated once per epoch (a fresh large array per batch costs page faults)
    xbuf = np.empty((batch, sizes[0]), X.dtype)
    zbuf = [np.empty((batch, sizes[k + 1]), X.dtype) for k in range(n_layers)]
    gbuf = [np.empty((batch, sizes[k + 1]), X.dtype) for k in range(n_layers)]
    for start in range(0, n, batch):
        bn = min(start + batch, n) - start
        if sequential:  # no shuffling: the batch is a view, nothing to gather
            xb = X[start:start + bn]
        else:
            xb = xbuf[:bn]
            for r in range(bn):  # element loops: a row assignment compiles Numba's shape-error path (~2 s)
                src = order[start + r]
                for c in range(X.shape[1]):
                    xb[r, c] = X[src, c]
        acts = [xb]
        for k in range(n_layers):
            m, d, o = sizes[k + 1], sizes[k], offs[k]
            W = flat[o:o + m * d].reshape(m, d)
            b = flat[o + m * d:o + m * d + m]
            z = zbuf[k][:bn]
            gemm(fns, False, True, 1.0, acts[k], W, 0.0, z)
            hidden = k < n_layers - 1
            for i in range(bn):
                for j in range(m):
                    v = z[i, j] + b[j]
                    z[i, j] = act_forward(_CODE, v, alpha) if hidden else v  # noqa: F821 (bound by per_activation)
            acts.append(z)
        # softmax cross-entropy (mean over the batch) and its gradient
        logits = acts[n_layers]
        dz = gbuf[n_layers - 1][:bn]
        inv_n = 1.0 / bn
        for i in range(bn):
            row = logits[i]
            mx = row_max(row)
            s = exp_shift_sum(row, mx, dz[i])
            t = y[order[start + i]]
            total += math.log(s) - (row[t] - mx)
            best = 0
            for j in range(1, row.size):
                if row[j] > row[best]:
                    best = j
            correct += best == t
            c = inv_n / s
            for j in range(row.size):
                dz[i, j] *= c
            dz[i, t] -= inv_n
        # backward
        for k in range(n_layers - 1, -1, -1):
            m, d, o = sizes[k + 1], sizes[k], offs[k]
            gemm(fns, True, False, 1.0, dz, acts[k], 0.0, grad[o:o + m * d].reshape(m, d))
            gb = grad[o + m * d:o + m * d + m]
            gb[:] = 0
            for i in range(bn):
                for j in range(m):
                    gb[j] += dz[i, j]
            if k > 0:
                W = flat[o:o + m * d].reshape(m, d)
                dh = gbuf[k - 1][:bn]
                gemm(fns, False, False, 1.0, dz, W, 0.0, dh)
                a = acts[k]
                for i in range(bn):
                    for j in range(d):
                        dh[i, j] *= act_grad(_CODE, a[i, j], a[i, j], alpha)  # noqa: F821
                dz = dh
        # optimizer update over every parameter at once (separate loops so each vectorises)
        step += 1
        if kind == SGD_KIND:
            _sgd_update(flat, grad, s1, lr, mu, nesterov, wd, l1)
        else:
            _adam_update(flat, grad, s1, s2, lr, b1, b2, eps, 1 - b1**step, 1 - b2**step, wd, l1,
                         1 - lr * decoupled_wd)
    return total, correct, step


#: Compiled epoch loops, one per hidden activation, built and compiled on first use.
TRAIN_EPOCH = per_activation(train_epoch, compile=jit)
