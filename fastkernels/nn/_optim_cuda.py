"""CUDA twins of the optimizer updates in :mod:`fastkernels.nn.optim`.

One grid-stride kernel per rule; consecutive threads touch consecutive
elements (coalesced), and each element's update is the same ``device`` maths
as on the CPU. Keep parameters, gradients and state as device arrays across
steps: host arrays are copied in and out on every step.
"""

import numpy as np
from numba import cuda

from .._launch import DeviceIO, grid_1d
from .._scalar import adam_element, rmsprop_element, sgd_element


@cuda.jit
def _sgd(p, g, v, lr, mu, nesterov, wd, l1):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):  # consecutive threads, consecutive elements
        p[i], v[i] = sgd_element(p[i], g[i], v[i], lr, mu, nesterov, wd, l1)


@cuda.jit
def _rmsprop(p, g, r, lr, rho, eps, wd, l1):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        p[i], r[i] = rmsprop_element(p[i], g[i], r[i], lr, rho, eps, wd, l1)


@cuda.jit
def _adam(p, g, m, v, lr, b1, b2, eps, c1, c2, wd, l1, decay_mult):
    for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
        p[i], m[i], v[i] = adam_element(p[i], g[i], m[i], v[i], lr, b1, b2, eps, c1, c2, wd, l1, decay_mult)


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
