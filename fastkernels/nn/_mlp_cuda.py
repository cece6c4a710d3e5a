"""MLP training on the GPU with data, parameters and optimizer state kept on the device.

Imported only for ``MLP(backend="cuda")``. The training set is copied to the device once
per :meth:`~fastkernels.nn.MLP.fit`; per epoch the host sends one array (the shuffled
order); per batch every step is a kernel launched on the default stream with no host
round-trip: gather the batch rows; per layer the tiled matmul with the bias and activation
fused into its epilogue (:mod:`fastkernels.nn._dense_cuda`), or with batch norm the matmul,
the column statistics (running statistics updated on the device), the normalisation and
the activation (:mod:`fastkernels.nn._batchnorm_cuda`); the dropout mask
(:mod:`fastkernels.nn._dropout_cuda`, the same counter-based mask as the CPU); the loss
(softmax-cross-entropy rows, :mod:`fastkernels.nn._cross_entropy_cuda`, or per-block sums of
the sigmoid BCE / squared error, :mod:`fastkernels.nn._losses_cuda`, into epoch-long device buffers) and a per-row accuracy count; each
layer's backward (dW and db in one kernel, dX, dropout, the activation and batch-norm
derivatives); the optimizer update (:mod:`fastkernels.nn._optim_cuda`). The host reads the
epoch's losses and counts back once per epoch.

The model's own buffers stay the truth on the host: parameters and running statistics go to
the device at the start of ``fit`` and come back after every epoch (validation, early
stopping and ``predict`` read them there). The arithmetic is the kernel-by-kernel CPU path's,
step for step, so both give the same parameters.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from .._launch import grid_1d
from .._random import resolve_seed
from . import _activations_cuda as act_cuda
from . import _batchnorm_cuda as bn_cuda
from . import _cross_entropy_cuda as ce_cuda
from . import _dense_cuda as dense_cuda
from . import _dropout_cuda as dropout_cuda
from . import _losses_cuda as loss_cuda
from .activations import CODES, IDENTITY, NEEDS_Z
from .batchnorm import BN_EPS, BN_MOMENTUM
from .dropout import step_key as dropout_step_key



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


@cuda.jit
def _correct_labels(z, y, out):
    """``out[r]`` = the fraction of row ``r``'s labels predicted right (``z > 0`` vs ``y > 0.5``)."""
    c = z.shape[1]
    for r in range(cuda.grid(1), z.shape[0], cuda.gridsize(1)):
        hits = 0
        for j in range(c):
            hits += (z[r, j] > 0) == (y[r, j] > 0.5)
        out[r] = hits / c


class DeviceTrainer:
    """Device buffers of one ``fit`` call and the epoch loop over them.

    Parameters
    ----------
    model : fastkernels.nn._mlp_network.Network
        The MLP's network (layer sizes, activation, output, dropout, batch norm; its flat parameter
        buffer and running statistics are copied to the device, and back by :meth:`download`).
    X : ndarray (N, sizes[0]); y : ndarray
        Validated training data: class ids (N,) for a softmax output, else targets (N, C).
    batch : int
        Rows per update.
    """

    def __init__(self, model, X, y, batch):
        self.model = model
        self.sizes, self.batch = list(model.layer_sizes), int(batch)
        self.code, self.alpha = CODES[model.activation], 0.01
        self.output, self.p, self.bn = model.output, float(model.dropout), bool(model.batch_norm)
        self.keep_z = model.activation in NEEDS_Z
        self.dropout_base = resolve_seed(model._dropout_seed)
        self.n = int(X.shape[0])
        flat = model.flat_params
        dtype = flat.dtype
        self.d_flat = cuda.to_device(flat)
        self.d_grad = cuda.device_array(flat.size, dtype)

        def views(key):
            p = model.params[key]
            o = (p.ctypes.data - flat.ctypes.data) // flat.itemsize
            return self.d_flat[o:o + p.size].reshape(p.shape), self.d_grad[o:o + p.size].reshape(p.shape)

        n_layers = len(self.sizes) - 1
        self.W, self.dW = zip(*(views(("W", i)) for i in range(n_layers)))
        self.b, self.db = zip(*(views(("b", i)) for i in range(n_layers)))
        if self.bn:
            self.gamma, self.dgamma = zip(*(views(("gamma", i)) for i in range(n_layers - 1)))
            self.beta, self.dbeta = zip(*(views(("beta", i)) for i in range(n_layers - 1)))
            self.rm = [cuda.to_device(model.running[i][0]) for i in range(n_layers - 1)]
            self.rv = [cuda.to_device(model.running[i][1]) for i in range(n_layers - 1)]
        self.d_X = cuda.to_device(X)
        if self.output == "softmax":
            self.d_y = cuda.to_device(np.ascontiguousarray(y, dtype=np.int64))
        else:
            self.d_y = cuda.to_device(np.ascontiguousarray(y, dtype=dtype))
        B = min(self.batch, max(self.n, 1))
        hidden = self.sizes[1:-1]

        def bufs(flag, dt=dtype, rows=B):
            return [cuda.device_array((rows, m) if flag else (1, 1), dt) for m in hidden]

        dropping = self.p > 0
        self.xb = cuda.device_array((B, self.sizes[0]), dtype)
        self.yb = cuda.device_array(B if self.output == "softmax" else (B, self.sizes[-1]), self.d_y.dtype)
        self.lin = bufs(self.bn)  # dense output before batch norm
        self.xhat = bufs(self.bn)  # normalised, before gamma and beta
        self.zn = bufs(self.bn or self.keep_z)  # the activation's input (when its derivative needs it)
        self.act = bufs(True)  # activation output (before dropout)
        self.h = bufs(dropping) if dropping else self.act  # what the next layer reads
        self.dh = bufs(True)  # dL/dh
        self.dzn = bufs(self.bn)  # dL/d(activation input) with batch norm
        self.g = bufs(True)  # dL/d(dense output): the dz of each hidden layer's backward
        self.mean = [cuda.device_array(m if self.bn else 1, np.float64) for m in hidden]
        self.inv = [cuda.device_array(m if self.bn else 1, np.float64) for m in hidden]
        self.sdy = [cuda.device_array(m if self.bn else 1, np.float64) for m in hidden]
        self.sdyx = [cuda.device_array(m if self.bn else 1, np.float64) for m in hidden]
        C = self.sizes[-1]
        self.logits = cuda.device_array((B, C), dtype)
        self.dlogits = cuda.device_array((B, C), dtype)
        self.ones_c = cuda.to_device(np.ones(C, dtype))
        self.ones_1c = cuda.to_device(np.ones((1, C), dtype))
        self.dummy = cuda.device_array((1, 1), dtype)
        self.loss = cuda.device_array(max(self.loss_slots(), 1), np.float64)  # per-row (softmax) or per-block sums
        self.correct = cuda.device_array(max(self.n, 1), np.float64)

    def download(self):
        """Copy the device parameters and running statistics into the model's host buffers."""
        self.d_flat.copy_to_host(self.model.flat_params)
        if self.bn:
            for i, (rm, rv) in self.model.running.items():
                self.rm[i].copy_to_host(rm)
                self.rv[i].copy_to_host(rv)

    def _dropout(self, src, dst, step, i):
        """Inverted dropout of hidden layer ``i`` at ``step`` (the CPU path's key), ``dst = src * mask``."""
        # the CPU path's key, with the SeedSequence hash of the seed made once per fit
        key = dropout_step_key(self.dropout_base, self.model._dropout_step(step, i))
        flat = act_cuda.flat
        dropout_cuda._dropout[grid_1d(src.size)](flat(src), key, self.p, flat(dst))

    def _forward(self, xb, bn, step):
        """Logits of the batch ``xb`` (``bn`` rows), training mode."""
        fwd, tiles, flat = dense_cuda._dense_fwd, dense_cuda._matmul_launch, act_cuda.flat
        h = xb
        for i in range(len(self.sizes) - 2):
            m = self.sizes[i + 1]
            act = self.act[i][:bn]
            if self.bn:
                lin, zn, xhat = self.lin[i][:bn], self.zn[i][:bn], self.xhat[i][:bn]
                fwd[tiles(bn, m)](h, self.W[i], self.b[i], IDENTITY, self.alpha, False, lin, lin)
                bn_cuda._stats[bn_cuda.column_launch(m)](lin, self.rm[i], self.rv[i], BN_MOMENTUM, BN_EPS, True,
                                                         self.mean[i], self.inv[i])
                bn_cuda._normalise[grid_1d(bn * m)](lin, self.mean[i], self.inv[i], self.gamma[i], self.beta[i], True,
                                                    xhat, zn)
                act_cuda.act_forward_flat[grid_1d(bn * m)](flat(zn), self.code, self.alpha, flat(act))
            else:
                z = self.zn[i][:bn] if self.keep_z else act
                fwd[tiles(bn, m)](h, self.W[i], self.b[i], self.code, self.alpha, self.keep_z, z, act)
            h = act
            if self.p > 0:
                h = self.h[i][:bn]
                self._dropout(act, h, step, i)
        logits = self.logits[:bn]
        fwd[tiles(bn, self.sizes[-1])](h, self.W[-1], self.b[-1], IDENTITY, self.alpha, False, logits, logits)
        return logits

    def _loss(self, logits, yb, start, bn, pos):
        """The output loss's gradient into ``dlogits``, its per-row or per-block sums into
        :attr:`loss` from ``pos``, the accuracy counts into :attr:`correct`; returns the next ``pos``."""
        dz = self.dlogits[:bn]
        C = self.sizes[-1]
        if self.output == "softmax":
            ce_cuda.softmax_cross_entropy(logits, yb, self.ones_c, -1, 0.0, 1.0 / bn, dz, True, False,
                                            rows_out=self.loss[start:start + bn])
            _correct_rows[grid_1d(bn)](logits, yb, self.correct[start:start + bn])
            return pos
        blocks, threads = loss_cuda.elementwise_launch(bn * C)
        partial = self.loss[pos:pos + blocks]
        scale = 1.0 / (bn * C)  # reduction="mean" over every element
        if self.output == "sigmoid":
            loss_cuda._bce_elems[blocks, threads](logits, yb, self.ones_1c, False, self.ones_c, scale, True, False,
                                                  self.dummy, dz, partial)
            _correct_labels[grid_1d(bn)](logits, yb, self.correct[start:start + bn])
        else:
            loss_cuda._mse_elems[blocks, threads](logits, yb, scale, True, False, self.dummy, dz, partial)
        return pos + blocks

    def _backward(self, xb, bn, step):
        """Fill :attr:`d_grad` from ``dlogits`` (the CPU ``MLP._backward``, layer by layer)."""
        dw, dx, tiles = dense_cuda._dense_dw, dense_cuda._dense_dx, dense_cuda._matmul_launch
        act_grad, flat = act_cuda.act_grad_flat, act_cuda.flat
        dz = self.dlogits[:bn]
        for k in range(len(self.sizes) - 2, -1, -1):
            m, d = self.sizes[k + 1], self.sizes[k]
            h_in = self.h[k - 1][:bn] if k else xb
            dw[tiles(m, d + 1)](dz, h_in, self.dW[k], self.db[k])
            if not k:
                break
            i = k - 1  # the hidden layer below
            dh, act, g = self.dh[i][:bn], self.act[i][:bn], self.g[i][:bn]
            dx[tiles(bn, d)](dz, self.W[k], dh)
            if self.p > 0:
                self._dropout(dh, dh, step, i)
            if self.bn:
                zn, dzn, xhat = self.zn[i][:bn], self.dzn[i][:bn], self.xhat[i][:bn]
                act_grad[grid_1d(bn * d)](flat(dh), flat(zn), flat(act), self.code, self.alpha, flat(dzn))
                bn_cuda._grad_sums[bn_cuda.column_launch(d)](dzn, xhat, self.sdy[i], self.sdyx[i])
                bn_cuda._dx[grid_1d(bn * d)](dzn, xhat, self.inv[i], self.gamma[i], self.sdy[i], self.sdyx[i], g)
                bn_cuda.cast[grid_1d(d)](self.sdyx[i], self.dgamma[i])
                bn_cuda.cast[grid_1d(d)](self.sdy[i], self.dbeta[i])
            else:
                cache = self.zn[i][:bn] if self.keep_z else act
                act_grad[grid_1d(bn * d)](flat(dh), flat(cache), flat(act), self.code, self.alpha, flat(g))
            dz = g

    def epoch(self, order, opt, step):
        """One pass over the data in ``order``; ``opt`` is an optimizer over :attr:`d_flat`;
        ``step`` counts the updates before this epoch (it keys the dropout masks).

        Returns ``(sum over batches of loss x rows, number of correct predictions, step)``;
        the accuracy is NaN for a linear output. One device-to-host copy of each sum.
        """
        d_order = cuda.to_device(np.ascontiguousarray(order, dtype=np.int64))
        pos = 0
        for start in range(0, self.n, self.batch):
            bn = min(start + self.batch, self.n) - start
            xb, yb = self.xb[:bn], self.yb[:bn]
            _gather_rows[grid_1d(xb.size)](self.d_X, d_order, start, xb)
            if self.output == "softmax":
                _gather[grid_1d(bn)](self.d_y, d_order, start, yb)
            else:
                _gather_rows[grid_1d(yb.size)](self.d_y, d_order, start, yb)
            logits = self._forward(xb, bn, step)
            pos = self._loss(logits, yb, start, bn, pos)
            self._backward(xb, bn, step)
            opt.step(self.d_grad)
            step += 1
        if self.n == 0:
            return 0.0, 0.0, step
        if self.output == "softmax":
            total = float(self.loss[:self.n].copy_to_host().sum())
        else:  # per-block sums of the elementwise losses: sum_b mean_b x rows_b = sum / C
            total = float(self.loss[:pos].copy_to_host().sum()) / self.sizes[-1]
        correct = float(self.correct[:self.n].copy_to_host().sum()) if self.output != "linear" else float("nan")
        return total, correct, step

    def loss_slots(self):
        """Loss sums one epoch writes: one per row (softmax) or one per block of each batch's launch."""
        if self.output == "softmax":
            return self.n
        C = self.sizes[-1]
        return sum(loss_cuda.elementwise_launch(min(self.batch, self.n - s) * C)[0]
                   for s in range(0, self.n, self.batch))


def ptx_signatures():
    """The trainer's own kernels with their argument types (the layers' are in their modules)."""
    from numba import types

    i64 = types.int64
    sigs = []
    for f in (types.float32, types.float64):
        m2 = types.Array(f, 2, "C")
        sigs += [(_gather_rows, (m2, i64[::1], i64, m2)),
                 (_correct_rows, (m2, i64[::1], types.float64[::1])),
                 (_correct_labels, (m2, m2, types.float64[::1]))]
    sigs.append((_gather, (i64[::1], i64[::1], i64, i64[::1])))
    return sigs
