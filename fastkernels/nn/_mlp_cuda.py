"""MLP training on the GPU with data, parameters and optimizer state kept on the device.

Imported only for ``MLP(backend="cuda")``. The training set is copied to the device once
per :meth:`~fastkernels.nn.MLP.fit`; per epoch the host sends one array (the shuffled
order); per batch every step is a kernel launched on the default stream with no host
round-trip: gather the batch rows, each layer's tiled matmul with the bias and activation
fused into its epilogue (:mod:`fastkernels.nn._dense_cuda`), the softmax-cross-entropy rows
(:mod:`fastkernels.nn._cuda`, per-row losses into an epoch-long device buffer), a
correct-prediction flag per row, each layer's backward (dW and db in one kernel, dX, the
activation derivative) and the optimizer update (:mod:`fastkernels.nn._optim_cuda`). The
host reads the epoch's per-row losses and flags back once per epoch.

The model's own buffers stay the truth on the host: parameters go to the device at the start
of ``fit`` and come back after every epoch (validation, early stopping and ``predict`` read
them there).
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from .._launch import grid_1d
from . import _cuda as loss_cuda
from . import _dense_cuda as dense_cuda
from .activations import CODES, IDENTITY, NEEDS_Z


@cuda.jit
def _gather_rows(x, order, start, out):
    """``out[r] = x[order[start + r]]``; consecutive threads copy consecutive columns (coalesced)."""
    n, k = out.shape
    for idx in range(cuda.grid(1), n * k, cuda.gridsize(1)):
        r = idx // k
        j = idx - r * k
        out[r, j] = x[order[start + r], j]


@cuda.jit
def _gather(y, order, start, out):
    for r in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[r] = y[order[start + r]]


@cuda.jit
def _correct_rows(z, y, out):
    """``out[r] = 1`` when the first maximum of row ``r`` is ``y[r]``, else 0 (a thread per row:
    the output layer of an MLP is narrow, so its row fits in one thread's loop)."""
    for r in range(cuda.grid(1), z.shape[0], cuda.gridsize(1)):
        best = 0
        for j in range(1, z.shape[1]):
            if z[r, j] > z[r, best]:
                best = j
        out[r] = 1.0 if best == y[r] else 0.0


class DeviceTrainer:
    """Device buffers of one ``fit`` call and the epoch loop over them.

    Parameters
    ----------
    sizes : list of int
        Layer sizes.
    activation : str
        Hidden activation; ``alpha`` its slope (leaky_relu).
    flat : ndarray
        The model's flat parameter buffer (W (out, in) then b (out,) per layer); copied to
        the device, and back by :meth:`download`.
    X : ndarray (N, sizes[0]); y : ndarray of int (N,)
        Validated training data.
    batch : int
        Rows per update.
    """

    def __init__(self, sizes, activation, alpha, flat, X, y, batch):
        self.sizes, self.batch = list(sizes), int(batch)
        self.code, self.alpha = CODES[activation], float(alpha)
        self.keep_z = activation in NEEDS_Z
        self.n = int(X.shape[0])
        dtype = flat.dtype
        self.d_flat = cuda.to_device(flat)
        self.d_grad = cuda.device_array(flat.size, dtype)
        self.d_X = cuda.to_device(X)
        self.d_y = cuda.to_device(np.ascontiguousarray(y, dtype=np.int64))
        self.W, self.b, self.dW, self.db = [], [], [], []
        o = 0
        for d, m in zip(self.sizes[:-1], self.sizes[1:]):
            self.W.append(self.d_flat[o:o + m * d].reshape(m, d))
            self.dW.append(self.d_grad[o:o + m * d].reshape(m, d))
            self.b.append(self.d_flat[o + m * d:o + m * d + m])
            self.db.append(self.d_grad[o + m * d:o + m * d + m])
            o += m * d + m
        B = min(self.batch, max(self.n, 1))
        self.xb = cuda.device_array((B, self.sizes[0]), dtype)
        self.yb = cuda.device_array(B, np.int64)
        self.a = [cuda.device_array((B, m), dtype) for m in self.sizes[1:]]  # activations (logits last)
        self.z = [cuda.device_array((B, m) if self.keep_z else (1, 1), dtype) for m in self.sizes[1:-1]]
        self.g = [cuda.device_array((B, m), dtype) for m in self.sizes[1:]]  # dL/dz per layer
        self.dh = [cuda.device_array((B, m), dtype) for m in self.sizes[1:-1]]  # dL/da per hidden layer
        self.weights = cuda.to_device(np.ones(self.sizes[-1], dtype))
        self.loss = cuda.device_array(max(self.n, 1), np.float64)
        self.correct = cuda.device_array(max(self.n, 1), np.float64)

    def download(self, flat):
        """Copy the device parameters into the host buffer ``flat``."""
        self.d_flat.copy_to_host(flat)

    def epoch(self, order, opt):
        """One pass over the data in ``order``; ``opt`` is an optimizer over :attr:`d_flat`.

        Returns ``(sum of per-row losses, number of correct predictions)`` (one device-to-host
        copy of each, after the last batch).
        """
        d_order = cuda.to_device(np.ascontiguousarray(order, dtype=np.int64))
        n_layers = len(self.sizes) - 1
        fwd, dw, dx = dense_cuda._dense_fwd, dense_cuda._dense_dw, dense_cuda._dense_dx
        act_grad = dense_cuda._act_grad_flat
        tiles, flat = dense_cuda._matmul_launch, dense_cuda._flat
        for start in range(0, self.n, self.batch):
            bn = min(start + self.batch, self.n) - start
            xb, yb = self.xb[:bn], self.yb[:bn]
            _gather_rows[grid_1d(bn * self.sizes[0])](self.d_X, d_order, start, xb)
            _gather[grid_1d(bn)](self.d_y, d_order, start, yb)
            h = xb
            for k in range(n_layers):
                hidden = k < n_layers - 1
                a = self.a[k][:bn]
                z = self.z[k][:bn] if hidden and self.keep_z else a
                code = self.code if hidden else IDENTITY
                fwd[tiles(bn, self.sizes[k + 1])](h, self.W[k], self.b[k], code, self.alpha,
                                                  hidden and self.keep_z, z, a)
                h = a
            logits, dz = self.a[-1][:bn], self.g[-1][:bn]
            loss_cuda.softmax_cross_entropy(logits, yb, self.weights, -1, 0.0, 1.0 / bn, dz, True, False,
                                            rows_out=self.loss[start:start + bn])
            _correct_rows[grid_1d(bn)](logits, yb, self.correct[start:start + bn])
            for k in range(n_layers - 1, -1, -1):
                m, d = self.sizes[k + 1], self.sizes[k]
                h = self.a[k - 1][:bn] if k else xb
                dw[tiles(m, d + 1)](dz, h, self.dW[k], self.db[k])
                if k:
                    dh = self.dh[k - 1][:bn]
                    dx[tiles(bn, d)](dz, self.W[k], dh)
                    cache = self.z[k - 1][:bn] if self.keep_z else self.a[k - 1][:bn]
                    g = self.g[k - 1][:bn]
                    act_grad[grid_1d(bn * d)](flat(dh), flat(cache), flat(cache), self.code, self.alpha, flat(g))
                    dz = g
            opt.step(self.d_grad)
        if self.n == 0:
            return 0.0, 0.0
        return float(self.loss[:self.n].copy_to_host().sum()), float(self.correct[:self.n].copy_to_host().sum())


def ptx_signatures():
    """The trainer's own kernels with their argument types (the layers' are in their modules)."""
    from numba import types

    i64 = types.int64
    sigs = []
    for f in (types.float32, types.float64):
        m2 = types.Array(f, 2, "C")
        sigs += [(_gather_rows, (m2, i64[::1], i64, m2)),
                 (_correct_rows, (m2, i64[::1], types.float64[::1]))]
    sigs.append((_gather, (i64[::1], i64[::1], i64, i64[::1])))
    return sigs
