"""CUDA twins of the optimizer updates in :mod:`fastkernels.nn.optim`.

One grid-stride kernel per rule; consecutive threads touch consecutive
elements (coalesced), and each element's update is the same ``device`` maths
as on the CPU. Keep parameters, gradients and state as device arrays across
steps: host arrays are copied in and out on every step.
"""

import math

import numpy as np
from numba import cuda

from .._launch import DeviceIO, grid_1d
from .optim import decayed_grad


@cuda.jit
def _sgd(p, g, v, lr, mu, nesterov, wd, l1):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        gi = decayed_grad(p[i], g[i], wd, l1)
        if mu != 0:
            vi = mu * v[i] + gi
            v[i] = vi
            gi = gi + mu * vi if nesterov else vi
        p[i] -= lr * gi


@cuda.jit
def _rmsprop(p, g, r, lr, rho, eps, wd, l1):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        gi = decayed_grad(p[i], g[i], wd, l1)
        ri = rho * r[i] + (1 - rho) * gi * gi
        r[i] = ri
        p[i] -= lr * gi / (math.sqrt(ri) + eps)


@cuda.jit
def _adam(p, g, m, v, lr, b1, b2, eps, c1, c2, wd, l1, decay_mult):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        pi = p[i] * decay_mult
        gi = decayed_grad(p[i], g[i], wd, l1)
        mi = b1 * m[i] + (1 - b1) * gi
        vi = b2 * v[i] + (1 - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] = pi - lr * (mi / c1) / (math.sqrt(vi / c2) + eps)


_KERNELS = {"sgd": _sgd, "rmsprop": _rmsprop, "adam": _adam}


def step(kind, p, g, state, scalars):
    """One in-place update of parameter ``p`` (host or device) and its state arrays."""
    io = DeviceIO(p, g)
    n = int(np.prod(tuple(p.shape)))
    flat = [io.input(a).reshape(n) for a in (p, g, *state)]
    blocks, threads = grid_1d(n)
    _KERNELS[kind][blocks, threads](*flat, *scalars)
    if not io.is_device(p):  # host arrays: write the updates back
        flat[0].copy_to_host(p.reshape(n))
        for s, d in zip(state, flat[2:]):
            d.copy_to_host(s.reshape(n))


def ptx_signatures():
    """Every (kernel, argument types) the optimizers launch; CI compiles each to PTX."""
    from numba import types

    f, b = types.float64, types.boolean
    sigs = []
    for dt in (types.float32, types.float64):
        a = types.Array(dt, 1, "C")
        sigs += [(_sgd, (a, a, a, f, f, b, f, f)), (_rmsprop, (a, a, a, f, f, f, f, f)),
                 (_adam, (a, a, a, a, f, f, f, f, f, f, f, f, f))]
    return sigs
