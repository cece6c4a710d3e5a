"""CUDA kernels of the elementwise activations of :mod:`fastkernels.nn.activations`
(imported only for ``backend="cuda"``).

Grid-stride loops over flat arrays (consecutive threads, consecutive elements:
coalesced), evaluating the shared scalar helpers
:func:`~fastkernels.nn.activations.act_forward` / :func:`~fastkernels.nn.activations.act_grad`
in float64 (their CUDA clones, with libdevice's ``erfc``). The dense layer's backward pass
and the GPU MLP trainer launch these kernels too.
"""

import numpy as np
from numba import cuda, float64

from .._launch import DeviceIO, grid_1d
from .activations import act_forward_cuda as act_forward
from .activations import act_grad_cuda as act_grad


@cuda.jit
def act_forward_flat(z, code, alpha, a):
    """``a = f(z)`` elementwise over flat (contiguous) arrays, grid-stride."""
    for i in range(cuda.grid(1), z.size, cuda.gridsize(1)):  # consecutive threads, consecutive elements
        a[i] = act_forward(code, float64(z[i]), alpha)


@cuda.jit
def act_grad_flat(da, z, a, code, alpha, dz):
    """``dz = da * f'(z, a)`` elementwise over flat arrays, grid-stride."""
    for i in range(cuda.grid(1), da.size, cuda.gridsize(1)):
        dz[i] = float64(da[i]) * act_grad(code, float64(z[i]), float64(a[i]), alpha)


def flat(d):
    """1-D view of a C-contiguous device array (elementwise kernels need no row index)."""
    return d.reshape(int(np.prod(tuple(d.shape), dtype=np.int64)))


def activation(z, code, alpha, out):
    """``f(z)`` elementwise on the GPU.

    Parameters
    ----------
    z : ndarray or device array, float32 or float64, C-contiguous (any shape; 2-D rows in practice)
        Pre-activations.
    code : int
        Activation code; ``alpha`` the ``leaky_relu`` slope.
    out : ndarray or device array of z's shape and dtype, or None
        Receives the result (may be ``z``: each element is read before it is written).

    Returns
    -------
    ndarray or device array of z's shape and dtype
    """
    io = DeviceIO(z, out)
    shape = tuple(z.shape)
    d_z = io.input(z)
    d_a = io.output(out, shape, z.dtype)
    if d_z.size:
        blocks, threads = grid_1d(d_z.size)
        act_forward_flat[blocks, threads](flat(d_z), int(code), float(alpha), flat(d_a))
    return io.result(d_a, out)


def activation_grad(da, z, a, code, alpha, out):
    """``dz = da * f'(z)`` elementwise on the GPU.

    Parameters
    ----------
    da : ndarray or device array, float32 or float64, C-contiguous
        Gradient with respect to the activation output.
    z, a : ndarray or device array of da's shape and dtype, or None
        Pre-activations and outputs; :func:`act_grad` reads ``z`` for softplus
        and gelu and ``a`` for the others, so the caller may pass one array as
        both. None falls back to the other one (or to ``da`` for identity).
    code : int
        Activation code; ``alpha`` the ``leaky_relu`` slope.
    out : ndarray or device array of da's shape and dtype, or None
        Receives ``dz`` (may be ``da``).

    Returns
    -------
    ndarray or device array of da's shape and dtype
    """
    z = a if z is None else z
    a = z if a is None else a
    if z is None:
        z = a = da
    io = DeviceIO(da, z, a, out)
    shape = tuple(da.shape)
    d_da = io.input(da)
    d_z = io.input(z)
    d_a = d_z if a is z else io.input(a)
    d_out = io.output(out, shape, da.dtype)
    if d_da.size:
        blocks, threads = grid_1d(d_da.size)
        act_grad_flat[blocks, threads](flat(d_da), flat(d_z), flat(d_a), int(code), float(alpha),
                                        flat(d_out))
    return io.result(d_out, out)


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    sigs = []
    for dt in (types.float32, types.float64):
        vec = types.Array(dt, 1, "C")
        sigs += [(act_forward_flat, (vec, types.int64, types.float64, vec)),
                 (act_grad_flat, (vec, vec, vec, types.int64, types.float64, vec))]
    return sigs
