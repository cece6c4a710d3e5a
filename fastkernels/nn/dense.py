"""Dense (fully connected) layers: forward with a fused bias + activation
epilogue, and the matrix backward pass.

Weights are stored ``(out, in)`` like ``torch.nn.Linear``; the forward pass is
``Z = X @ W.T + b``, ``A = f(Z)`` (seed 002 lines 971-1350: batch forward and
matrix backprop). On the CPU the GEMMs go to BLAS (NumPy's matmul, called
from Python, never from inside a ``prange`` loop, so BLAS threads and Numba
threads never oversubscribe the cores); the bias add and the activation are
one fused Numba pass over the GEMM output, written in place, so no ``Z + b``
or ``f(Z)`` temporaries are allocated. The backward pass fuses ``dA * f'``
into one pass and hands ``dZ.T @ X`` and ``dZ @ W`` to BLAS. On CUDA
(:mod:`fastkernels.nn._dense_cuda`) a shared-memory tiled matmul does the
epilogue in registers.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._outputs import as_output, check_disjoint
from .._validate import FLOAT_DTYPES, as_array, check_allocation, check_flag
from .activations import CODES, NEEDS_Z, act_forward, backward_kernels, check_activation, per_activation


def _epilogue_body(z, b, alpha, a):
    """z += b (in place, z becomes Z); a = f(Z). ``a`` may be ``z`` itself."""
    for i in prange(z.shape[0]):
        for j in range(z.shape[1]):
            v = z[i, j] + b[j]
            z[i, j] = v
            a[i, j] = act_forward(_CODE, v, alpha)  # noqa: F821 (bound by per_activation)


_epilogue = per_activation(_epilogue_body)


# NaN and inf propagate through the GEMMs as documented (inf * 0 is NaN in its row), without
# NumPy's RuntimeWarning. The decorator form of errstate costs ~1 us a call, half the ``with``
# form's.
@np.errstate(all="ignore")
def _matmul_nt(X, W, z):
    np.matmul(X, W.T, out=z)


@np.errstate(all="ignore")
def _backward_products(dz, X, W, need_dx):
    return (dz @ W if need_dx else None), dz.T @ X, dz.sum(axis=0)


def _check_layer(X, W, b):
    X = as_array(X, "X", dtypes=FLOAT_DTYPES, ndim=2)
    W = as_array(W, "W", dtypes=(X.dtype,), ndim=2)
    n, k = X.shape
    m, kw = W.shape
    if kw != k:
        raise ValueError(f"W must have shape (out, {k}) to match X's {k} input features, got {tuple(W.shape)}")
    if b is None:
        b = np.zeros(m, X.dtype)
    else:
        b = as_array(b, "b", dtypes=(X.dtype,), shape=(m,))
    return X, W, b, n, k, m


def dense_forward(X, W, b=None, activation="identity", *, alpha=0.01, out=None, backend="auto"):
    """One dense layer forward: ``A = f(X @ W.T + b)``.

    Parameters
    ----------
    X : array_like of float32 or float64, shape (N, in)
        Inputs, one row per sample.
    W : array_like, shape (out, in), X's dtype
        Weights (torch.nn.Linear layout).
    b : array_like of shape (out,), optional
        Bias (zero when omitted).
    activation : {"identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu"}
    alpha : float
        ``leaky_relu`` slope.
    out : ndarray, optional
        (N, out) buffer for ``A``, C-contiguous; it must not overlap ``X``, ``W`` or ``b``.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    A : ndarray of shape (N, out)
        The layer output. NaN or inf in a row of ``X`` gives a NaN/inf row of ``A``
        (every activation propagates NaN, relu included, as torch); NaN in ``W`` or ``b``
        reaches every row.
    cache : ndarray of shape (N, out)
        What :func:`dense_backward` needs: ``Z`` for softplus and gelu, else ``A``
        itself (no extra memory).

    Raises
    ------
    TypeError
        ``X`` not a float32/float64 array, ``W``/``b``/``out`` of another dtype, ``alpha``
        not a number.
    ValueError
        Wrong dimensions or mismatched shapes (named), unknown activation, bad ``alpha``;
        ``out`` of the wrong shape, read-only, strided or overlapping an input; an output
        (N x out elements) larger than the machine's memory.

    Examples
    --------
    >>> import numpy as np, fastkernels as fk
    >>> A, cache = fk.nn.dense_forward(np.ones((2, 3)), np.ones((4, 3)), np.full(4, -3.5), "relu")
    >>> A.tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    X, W, b, n, k, m = _check_layer(X, W, b)
    _, alpha = check_activation(activation, alpha)
    keep_z = activation in NEEDS_Z
    if out is not None:
        out = as_output(out, "out", dtype=X.dtype, shape=(n, m))
        check_disjoint(out, "out", X=X, W=W, b=b)  # the epilogue reads b while it writes out
    # the output (N, out) is not bounded by any input's size: refuse what cannot fit
    check_allocation(n * m * ((out is None) + keep_z), X.dtype.itemsize, "X.shape[0] * W.shape[0]")
    # "auto" sizes the Numba epilogue by the elements it touches; the GEMM is BLAS's.
    # Small epilogues stay serial: right after a GEMM, OpenBLAS's threads still spin,
    # and a parallel region then fights them (10x slower for MLP-sized batches).
    be = resolve_backend(backend, work=n * m, arrays=(X, W, b, out))
    return dense_forward_validated(X, W, b, activation, alpha, out, be)


def dense_forward_validated(X, W, b, activation, alpha, out, be):
    """:func:`dense_forward` on validated arguments (``b`` an array, ``out`` None or checked)
    and a resolved backend ``be``: the entry point of internal callers (the MLP)."""
    keep_z = activation in NEEDS_Z
    if be == "cuda":
        a, z = load_cuda("fastkernels.nn._dense_cuda").dense_forward(X, W, b, CODES[activation], alpha, keep_z,
                                                                     out)
        return a, (z if keep_z else a)
    n, m = X.shape[0], W.shape[0]
    a = np.empty((n, m), X.dtype) if out is None else out
    z = np.empty((n, m), X.dtype) if keep_z else a
    _matmul_nt(X, W, z)  # BLAS, outside any prange
    if z.size:
        _epilogue[activation][be](z, b, alpha, a)
    return a, (z if keep_z else a)


def dense_backward(dA, X, W, cache, activation="identity", *, alpha=0.01, need_dx=True, backend="auto"):
    """Gradients of one dense layer: ``dZ = dA * f'``, ``dW = dZ.T @ X``, ``db = sum dZ``, ``dX = dZ @ W``.

    Parameters
    ----------
    dA : array_like, shape (N, out)
        Gradient of the loss with respect to the layer output.
    X : array_like, shape (N, in)
        The layer's input in the forward pass.
    W : array_like, shape (out, in)
        The weights.
    cache : array_like, shape (N, out)
        The second value :func:`dense_forward` returned (Z or A).
    activation : str
        The forward pass's activation; ``alpha`` its slope.
    need_dx : bool
        Compute ``dX`` (skip it for the first layer).
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    dX : ndarray (N, in) or None
    dW : ndarray (out, in)
    db : ndarray (out,)
        New arrays (nothing given is written). NaN in a row of ``dA`` or the cache reaches
        that row of ``dX`` and every entry of ``dW`` and ``db`` it touches.

    Raises
    ------
    TypeError
        Non-float ``X``, other inputs of another dtype, ``need_dx`` not a bool.
    ValueError
        Mismatched shapes (named), unknown activation, bad ``alpha``.
    """
    X, W, _, n, k, m = _check_layer(X, W, None)
    _, alpha = check_activation(activation, alpha)
    need_dx = check_flag(need_dx, "need_dx")
    dA = as_array(dA, "dA", dtypes=(X.dtype,), shape=(n, m))
    cache = as_array(cache, "cache", dtypes=(X.dtype,), shape=(n, m))
    be = resolve_backend(backend, work=n * m, arrays=(dA, X, W, cache))
    return dense_backward_validated(dA, X, W, cache, activation, alpha, need_dx, be)


def dense_backward_validated(dA, X, W, cache, activation, alpha, need_dx, be):
    """:func:`dense_backward` on validated arguments and a resolved backend ``be`` (internal callers)."""
    if be == "cuda":
        return load_cuda("fastkernels.nn._dense_cuda").dense_backward(dA, X, W, cache, CODES[activation], alpha,
                                                                      need_dx)
    if activation == "identity":
        dz = dA
    else:
        dz = np.empty_like(dA)
        if dz.size:
            backward_kernels[activation][be](dA, cache, cache, alpha, dz)  # f' reads the cache it needs
    return _backward_products(dz, X, W, need_dx)
