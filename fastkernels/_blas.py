"""GEMM from compiled code through NumPy's own BLAS.

Numba's ``np.dot`` calls SciPy's BLAS (``scipy.linalg.cython_blas``), which on pip installs
is a second OpenBLAS with its own thread pool. A compiled training loop that alternates with
NumPy code (the user's own, or a benchmark's baseline) then runs two pools whose idle
threads spin against each other: on the 2-core development machine the compiled MLP epoch
took 250-270 ms when alternated with NumPy, against ~175 ms alone. Calling the CBLAS
``sgemm``/``dgemm`` of NumPy's bundled OpenBLAS keeps one pool for everything, and gives
what ``np.dot`` hides: transposed operands without copies and ``beta`` (accumulate into C).

The library is looked up once per process (NumPy's wheels bundle it in ``numpy.libs`` on
Linux and Windows, ``numpy/.dylibs`` on macOS). Compiled code receives the function
addresses as a run-time argument (:func:`blas_functions`), never as a frozen global, so the
on-disk cache stays valid across processes (addresses move with ASLR). Where no CBLAS is
found (a NumPy built against MKL or Accelerate, say) :func:`blas_functions` is None and
:func:`gemm` falls back to ``np.dot``: correct, only not sharing NumPy's pool. The choice is
made by the argument's type when a caller compiles (Numba prunes the branch not taken), so the
fallback (~1 s of compile per dtype) is never compiled where NumPy's CBLAS is found.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ._jit import jit

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
#: Symbol names tried in NumPy's BLAS, with their integer width: NumPy's own ILP64
#: scipy-openblas first, then plain OpenBLAS builds.
_SYMBOLS = (("scipy_cblas_{}gemm64_", 64), ("cblas_{}gemm64_", 64), ("scipy_cblas_{}gemm", 32), ("cblas_{}gemm", 32))
_FUNCTIONS = None
_SEARCHED = False


def _numpy_blas_paths():
    base = os.path.dirname(np.__file__)
    found = []
    for pattern in (os.path.join(base, os.pardir, "numpy.libs", "*openblas*"),
                    os.path.join(base, ".dylibs", "*openblas*")):
        found += sorted(glob.glob(pattern))
    return found


def blas_functions() -> np.ndarray | None:
    """``[sgemm address, dgemm address, integer bits]`` of NumPy's CBLAS (int64), None if not found.

    Loading a library the process already holds returns the same instance: these are the very
    functions (and threads) ``numpy.matmul`` uses.
    """
    global _FUNCTIONS, _SEARCHED
    if not _SEARCHED:
        _SEARCHED = True
        for path in _numpy_blas_paths():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for pattern, bits in _SYMBOLS:
                try:
                    s, d = getattr(lib, pattern.format("s")), getattr(lib, pattern.format("d"))
                except AttributeError:
                    continue
                _FUNCTIONS = np.array([ctypes.cast(s, ctypes.c_void_p).value, ctypes.cast(d, ctypes.c_void_p).value,
                                       bits], dtype=np.int64)
                return _FUNCTIONS
    return _FUNCTIONS


def _make_cblas_call(bits):
    @intrinsic
    def call(typingctx, addr, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        """``cblas_?gemm(RowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)`` at ``addr``."""
        # Leading dimensions are taken from the shapes: only C-contiguous operands are accepted.
        if not all(isinstance(x, types.Array) and x.ndim == 2 and x.layout == "C" for x in (a, b, c)):
            return None
        sig = types.void(addr, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

        def codegen(context, builder, signature, args):
            i32, it = ir.IntType(32), ir.IntType(bits)
            ft = context.get_value_type(c.dtype)
            ptr = ir.IntType(8).as_pointer()
            fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, it, it, it, ft, ptr, it, ptr, it, ft, ptr, it])
            fn = builder.inttoptr(args[0], fnty.as_pointer())

            def integer(i, width):
                v = context.cast(builder, args[i], signature.args[i], types.int64)
                return v if width.width == 64 else builder.trunc(v, width)

            def scalar(i):
                return context.cast(builder, args[i], signature.args[i], c.dtype)

            def data(i):
                arr = context.make_array(signature.args[i])(context, builder, args[i])
                return builder.bitcast(arr.data, ptr)

            builder.call(fn, [ir.Constant(i32, ROW_MAJOR), integer(1, i32), integer(2, i32), integer(3, it),
                              integer(4, it), integer(5, it), scalar(6), data(7), integer(8, it), data(9),
                              integer(10, it), scalar(11), data(12), integer(13, it)])
            return context.get_dummy_value()

        return sig, codegen

    return call


_cblas64, _cblas32 = _make_cblas_call(64), _make_cblas_call(32)


@jit
def _contiguous(x, trans):
    """``x.T`` (when ``trans``) or ``x`` as a fresh C-contiguous array."""
    if not trans:
        return x.copy()
    out = np.empty((x.shape[1], x.shape[0]), x.dtype)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[j, i] = x[i, j]
    return out


@jit
def _dot_fallback(transa, transb, alpha, a, b, beta, c):
    # one np.dot of C-contiguous operands: four layouts would compile four BLAS paths
    r = np.dot(_contiguous(a, transa), _contiguous(b, transb))
    if beta == 0.0:  # c may hold garbage (np.empty): never read it
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                c[i, j] = alpha * r[i, j]
    else:
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                c[i, j] = alpha * r[i, j] + beta * c[i, j]


@jit(inline="always")
def gemm(fns, transa, transb, alpha, a, b, beta, c):
    """``c = alpha op(a) @ op(b) + beta c`` for C-contiguous 2-D arrays of one float dtype.

    ``op(x)`` is ``x.T`` when its flag is set. ``fns`` is :func:`blas_functions`. No checks:
    callers pass consistent shapes (``c`` is (m, n), ``op(a)`` (m, k), ``op(b)`` (k, n)).
    With ``beta = 0`` the old contents of ``c`` are never read.

    A two-line shim inlined where it is called: ``!= 0`` makes the callers' constant flags (literal
    types, one compile of the whole GEMM per combination: three in a first MLP fit, ~0.8 s) plain
    bools, so :func:`_gemm` compiles once per dtype.
    """
    _gemm(fns, transa != 0, transb != 0, alpha, a, b, beta, c)


def _product(fns, transa, transb, alpha, a, b, beta, c, m, n, k):
    """``c = alpha op(a) @ op(b) + beta c`` for a non-empty product (compiled code only: see its overload)."""
    raise NotImplementedError("_product runs inside compiled code only")


@overload(_product)
def _product_overload(fns, transa, transb, alpha, a, b, beta, c, m, n, k):
    """The CBLAS call, or ``np.dot`` where ``fns`` is None (no CBLAS found), chosen by ``fns``' type
    as the caller compiles: the path not taken is never compiled (the fallback costs ~1 s a dtype)."""
    if isinstance(fns, types.NoneType):
        def fallback(fns, transa, transb, alpha, a, b, beta, c, m, n, k):
            _dot_fallback(transa, transb, alpha, a, b, beta, c)
        return fallback

    def cblas(fns, transa, transb, alpha, a, b, beta, c, m, n, k):
        addr = fns[0] if c.itemsize == 4 else fns[1]
        ta = TRANS if transa else NO_TRANS
        tb = TRANS if transb else NO_TRANS
        if fns[2] == 64:
            _cblas64(addr, ta, tb, m, n, k, alpha, a, a.shape[1], b, b.shape[1], beta, c, n)
        else:
            _cblas32(addr, ta, tb, m, n, k, alpha, a, a.shape[1], b, b.shape[1], beta, c, n)
    return cblas


@jit
def _gemm(fns, transa, transb, alpha, a, b, beta, c):
    """:func:`gemm` with ``transa``/``transb`` plain bools."""
    m, n = c.shape
    k = a.shape[0] if transa else a.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:  # an empty product: BLAS may skip scaling c
        for i in range(m):
            for j in range(n):
                c[i, j] = beta * c[i, j] if beta != 0.0 else 0.0
        return
    _product(fns, transa, transb, alpha, a, b, beta, c, m, n, k)
