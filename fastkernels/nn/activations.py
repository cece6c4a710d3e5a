"""Activation functions and their derivatives, as scalar helpers shared by the
CPU and CUDA kernels, plus elementwise public functions.

Derivatives reuse what the forward pass stored (seed 002 line 1295): the output
``a`` for relu, leaky_relu, sigmoid (``a (1 - a)``), tanh (``1 - a**2``) and
identity; the pre-activation ``z`` only for softplus and gelu, whose
derivatives are not functions of ``a`` alone. The derivative of relu at 0 is 0
(torch's convention).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._erf import erfc_f64
from .._jit import cpu_kernels, device, specialise
from .._outputs import as_output, check_disjoint
from .._scalar import sigmoid, softplus
from .._validate import FLOAT_DTYPES, as_array, check_choice, check_scalar
from ._rows import as_rows

ACTIVATIONS = ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu")
CODES = {name: i for i, name in enumerate(ACTIVATIONS)}
IDENTITY, RELU, LEAKY_RELU, SIGMOID, TANH, SOFTPLUS, GELU = range(len(ACTIVATIONS))
#: Activations whose derivative needs the pre-activation z (not just the output a).
NEEDS_Z = ("softplus", "gelu")

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
# erfc of the exact GELU: the vectorisable polynomial on the CPU (libm's erfc is a scalar call
# per element); the CUDA clones below bind libdevice's math.erfc instead.
_erfc = erfc_f64
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@device
def act_forward(code, z, alpha):
    """a = f(z) for activation ``code`` (float64 in and out); ``alpha`` is leaky_relu's slope."""
    # ``0 if z <= 0 else z``, not ``z if z > 0 else 0``: NaN fails every comparison, so this
    # form passes NaN through (as torch) and still compiles to a vectorised compare + blend.
    if code == RELU:
        return 0.0 if z <= 0 else z
    if code == LEAKY_RELU:
        return alpha * z if z <= 0 else z
    if code == SIGMOID:
        return sigmoid(z)
    if code == TANH:
        return math.tanh(z)
    if code == SOFTPLUS:
        return softplus(z)
    if code == GELU:  # exact form, torch's default; erfc keeps precision for z << 0
        return 0.5 * z * _erfc(-z * _INV_SQRT2)
    return z


@device
def act_grad(code, z, a, alpha):
    """f'(z), from the stored output ``a`` where possible, else from ``z``."""
    if code == RELU:  # torch's threshold_backward: NaN passes the gradient through
        return 0.0 if a <= 0 else 1.0
    if code == LEAKY_RELU:
        return 1.0 if a > 0 else alpha
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == TANH:
        return 1.0 - a * a
    if code == SOFTPLUS:
        return sigmoid(z)
    if code == GELU:  # Phi(z) + z phi(z)
        return 0.5 * _erfc(-z * _INV_SQRT2) + z * _INV_SQRT2PI * math.exp(-0.5 * z * z)
    return 1.0


#: The CUDA kernels' clones of :func:`act_forward` / :func:`act_grad`: ``_erfc`` is
#: ``math.erfc`` there (the polynomial's bit casts do not compile for CUDA).
act_forward_cuda = device(specialise(act_forward.py_func, "act_forward_cuda", _erfc=math.erfc))
act_grad_cuda = device(specialise(act_grad.py_func, "act_grad_cuda", _erfc=math.erfc))


def per_activation(template, compile=cpu_kernels):
    """One kernel per activation from ``template``, whose global ``_CODE`` is the activation code.

    ``template`` calls :func:`act_forward` / :func:`act_grad` with ``_CODE``. Bound as a
    compile-time constant (:func:`fastkernels._jit.specialise`) the code folds away: the
    loop has no branch on it and LLVM vectorises relu, leaky_relu and identity; a run-time
    code would leave a 7-way branch in every iteration (~10x slower for relu).

    Returns
    -------
    dict
        ``{name: compile(variant)}``; with the default, ``{name: {"cpu": serial, "parallel": parallel}}``.
        Nothing compiles until called.
    """
    out = {}
    for name, code in CODES.items():
        built = compile(specialise(template, f"{template.__name__}_{name}", _CODE=code))
        out[name] = dict(zip(("cpu", "parallel"), built)) if compile is cpu_kernels else built
    return out


def _forward_body(z, a, alpha):
    for i in prange(z.shape[0]):
        for j in range(z.shape[1]):
            a[i, j] = act_forward(_CODE, z[i, j], alpha)  # noqa: F821 (bound by per_activation)


def _backward_body(da, z, a, alpha, dz):
    for i in prange(da.shape[0]):
        for j in range(da.shape[1]):
            dz[i, j] = da[i, j] * act_grad(_CODE, z[i, j], a[i, j], alpha)  # noqa: F821


forward_kernels = per_activation(_forward_body)
backward_kernels = per_activation(_backward_body)


def check_activation(activation, alpha, name="activation"):
    """Validate an activation name (the argument ``name``) and slope; return ``(code, alpha)``."""
    check_choice(activation, name, ACTIVATIONS)
    alpha = check_scalar(alpha, "alpha", lo=0.0)
    return CODES[activation], alpha


def activation(z, name, *, alpha=0.01, out=None, backend="auto"):
    """Apply an activation elementwise.

    Parameters
    ----------
    z : array_like of float32 or float64, any shape
        Pre-activations.
    name : {"identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu"}
        ``gelu`` is the exact erf form; ``sigmoid`` and ``softplus`` never overflow.
    alpha : float
        Negative slope of ``leaky_relu`` (>= 0, finite).
    out : ndarray, optional
        Buffer of ``z``'s shape and dtype. It may be ``z`` itself (in place); any other
        overlap with ``z`` is refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray of z's shape and dtype
        NaN entries stay NaN for every activation (as torch; ``relu(nan)`` is NaN, not 0).
        Infinities map to the limits (``sigmoid(-inf) = 0``, ``relu(inf) = inf``), except
        ``gelu(-inf)``, which is NaN as in torch (``-inf * 0``).

    Raises
    ------
    TypeError
        ``z`` not a float32/float64 array; ``alpha`` not a real number; ``out`` of another dtype.
    ValueError
        Unknown ``name``; ``alpha`` negative, NaN or infinite; ``out`` of the wrong shape,
        read-only, strided or overlapping ``z`` other than exactly.
    """
    z = as_array(z, "z", dtypes=FLOAT_DTYPES)
    _, alpha = check_activation(name, alpha, "name")
    if out is not None:
        out = as_output(out, "out", dtype=z.dtype, shape=tuple(z.shape))
        check_disjoint(out, "out", allow_same=("z",), z=z)
    be = resolve_backend(backend, work=z.size, arrays=(z, out))
    return activation_validated(z, name, alpha, out, be)


def activation_validated(z, name, alpha, out, be):
    """:func:`activation` on validated arguments and a resolved backend ``be`` (internal callers)."""
    if be == "cuda":
        res = load_cuda("fastkernels.nn._activations_cuda").activation(
            as_rows(z), CODES[name], alpha, None if out is None else as_rows(out))
        return out if out is not None else res.reshape(tuple(z.shape))
    if out is None:
        out = np.empty_like(z)
    if z.size:
        forward_kernels[name][be](as_rows(z), as_rows(out), alpha)
    return out


def activation_grad(da, name, *, z=None, a=None, alpha=0.01, out=None, backend="auto"):
    """Backpropagate through an activation: ``dz = da * f'(z)``.

    Parameters
    ----------
    da : array_like of float32 or float64
        Gradient with respect to the activation's output.
    name : str
        One of :data:`ACTIVATIONS`.
    z : array_like, optional
        Pre-activations, required for ``softplus`` and ``gelu``.
    a : array_like, optional
        Outputs ``f(z)``, required for the others (identity needs neither).
    alpha : float
        ``leaky_relu`` slope.
    out : ndarray, optional
        Buffer for ``dz``. It may be exactly ``da``, ``z`` or ``a`` (each element is read
        before it is written); any other overlap is refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray of da's shape and dtype
        NaN in ``da`` propagates. The relu derivative at a NaN output passes the gradient
        (torch's ``threshold_backward``); the others are NaN there.

    Raises
    ------
    TypeError
        Non-float ``da``; ``z``/``a`` of another dtype; ``out`` of another dtype.
    ValueError
        Unknown ``name``, a missing ``z`` (softplus, gelu) or ``a`` (the others), shape
        mismatch, bad ``alpha``; ``out`` of the wrong shape, read-only, strided or
        overlapping an input other than exactly.
    """
    da = as_array(da, "da", dtypes=FLOAT_DTYPES)
    _, alpha = check_activation(name, alpha, "name")
    shape = tuple(da.shape)
    # whatever is given is checked, even where this activation does not read it
    if z is not None:
        z = as_array(z, "z", dtypes=(da.dtype,), shape=shape)
    if a is not None:
        a = as_array(a, "a", dtypes=(da.dtype,), shape=shape)
    if name in NEEDS_Z:
        if z is None:
            raise ValueError(f"activation_grad({name!r}) needs z, the pre-activations")
        a = z
    elif name != "identity":
        if a is None:
            raise ValueError(f"activation_grad({name!r}) needs a, the activation outputs")
        z = a
    else:
        z = a = da
    if out is not None:
        out = as_output(out, "out", dtype=da.dtype, shape=shape)
        # elementwise, each position read before it is written: out may be any input exactly
        check_disjoint(out, "out", allow_same=("da", "z", "a"), da=da, z=z, a=a)
    be = resolve_backend(backend, work=da.size, arrays=(da, z, a, out))
    return activation_grad_validated(da, name, z, a, alpha, out, be)


def activation_grad_validated(da, name, z, a, alpha, out, be):
    """:func:`activation_grad` on validated arguments (``z`` and ``a`` both arrays: the one the
    derivative reads, possibly as both) and a resolved backend ``be`` (internal callers)."""
    if be == "cuda":
        res = load_cuda("fastkernels.nn._activations_cuda").activation_grad(
            as_rows(da), as_rows(z), as_rows(a), CODES[name], alpha, None if out is None else as_rows(out))
        return out if out is not None else res.reshape(tuple(da.shape))
    if out is None:
        out = np.empty_like(da)
    if da.size:
        backward_kernels[name][be](as_rows(da), as_rows(z), as_rows(a), alpha, as_rows(out))
    return out
