"""LLVM-level helpers that let Numba kernels vectorise: bit casts, fused
multiply-add, a vector-width hint and an inlining hint. Each is a tiny
``numba.extending.intrinsic``. Shared within the package (public names).
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import device as _device

# Widest SIMD the exp-heavy leaves ask for. LLVM prefers 256-bit vectors on
# AVX-512 Intel CPUs (to avoid the clock drop of heavy 512-bit code); measured
# here, 512-bit exp loops are 25-40% faster, so our leaves ask for 512.
# Harmless on CPUs without AVX-512 (the legal width wins).
PREFER_VECTOR_WIDTH = 512


def _make_bitcast(src, dst):
    """Intrinsic reinterpreting the bits of a ``src`` scalar as ``dst``."""

    def impl(typingctx, x):
        if x != src:
            return None

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], context.get_value_type(dst))

        return dst(src), codegen

    impl.__name__ = impl.__qualname__ = f"bitcast_{src}_to_{dst}"
    return intrinsic(impl)


bitcast_i32_to_f32 = _make_bitcast(types.int32, types.float32)
bitcast_i64_to_f64 = _make_bitcast(types.int64, types.float64)
bitcast_f32_to_i32 = _make_bitcast(types.float32, types.int32)
bitcast_f64_to_i64 = _make_bitcast(types.float64, types.int64)


@intrinsic
def fmuladd(typingctx, a, b, c):
    """``a*b + c`` as ``llvm.fmuladd``: one FMA where the CPU has it, else
    mul + add.  Plain Numba code never emits FMA without fastmath."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, sig, args):
        ty = args[0].type
        name = f"llvm.fmuladd.f{a.bitwidth}"
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ty, [ty, ty, ty]), name)
        return builder.call(fn, args)

    return a(a, a, a), codegen



@intrinsic
def prefer_wide_vectors(typingctx):
    """Mark the calling function ``"prefer-vector-width"="512"`` (see PREFER_VECTOR_WIDTH).

    Call it first thing in a non-inlined ``@njit`` leaf whose loops should use
    the full vector width; it emits no code. llvmlite's attribute set knows
    only keyword attributes, so the string attribute is added to it directly.
    """

    def codegen(context, builder, sig, args):
        try:
            set.add(builder.function.attributes, f'"prefer-vector-width"="{PREFER_VECTOR_WIDTH}"')
        except Exception:  # a future llvmlite may refuse: fall back to LLVM's default
            pass
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def trailing_zeros(typingctx, x):
    """Index of the lowest set bit of a non-zero uint64 (``llvm.cttz``: one ``tzcnt``)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64, ir.IntType(1)]), "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])

    return types.uint64(types.uint64), codegen


@intrinsic
def inline_hint(typingctx):
    """Mark the calling jitted function ``alwaysinline`` for LLVM (emits no code).

    The HH and Izhikevich helpers are plain (not ``inline="always"``) jitted functions: Numba's
    own inlining deep-copies the callee's IR at every call site, which took ~15 s per HH kernel
    here. LLVM inlines them instead, so the block loop still vectorises; the hint makes sure
    it does whatever their size. Their CUDA clones (see :func:`fastkernels._jit.retarget`) call :func:`no_hint`.
    """

    def codegen(context, builder, sig, args):
        attrs = builder.function.attributes
        if "noinline" not in attrs:  # NUMBA_DEBUGINFO=1 marks every function noinline
            attrs.add("alwaysinline")
        return context.get_dummy_value()

    return types.void(), codegen


@_device
def no_hint():
    """What the CUDA clones call instead of :func:`inline_hint` (inlined away)."""
    return


@intrinsic
def prefetch(typingctx, arr, i, j):
    """Hint the CPU to fetch the cache line of ``arr[i, j]`` (2-D array) into L1 (``llvm.prefetch``,
    read, high locality): emits one ``prefetcht0``, never faults, computes nothing."""
    if not (isinstance(arr, types.Array) and arr.ndim == 2 and isinstance(i, types.Integer)
            and isinstance(j, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        a = context.make_array(sig.args[0])(context, builder, args[0])
        idx = [context.cast(builder, args[1], sig.args[1], types.intp),
               context.cast(builder, args[2], sig.args[2], types.intp)]
        ptr = cgutils.get_item_pointer2(context, builder, a.data, cgutils.unpack_tuple(builder, a.shape),
                                        cgutils.unpack_tuple(builder, a.strides), sig.args[0].layout, idx,
                                        wraparound=False, boundscheck=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, i, j), codegen


@intrinsic
def nonzero_bits64(typingctx, arr, start):
    """A uint64 whose bit ``j`` says ``arr[start + j] != 0``, for ``j < 64`` (``arr``: a C-contiguous
    1-D uint8, int32 or int64 array holding at least ``start + 64`` entries; no bounds check).

    One vector compare of the 64 entries and a bit cast of the ``<64 x i1>`` result: LLVM lowers
    it to packs and ``vpmovmskb`` (AVX2) or mask registers (AVX-512), ~3x faster than a loop of
    shifts and ors, which it does not vectorise. Bit order is LLVM's: element 0 at bit 0 on
    little-endian targets (the callers check the byte order).
    """
    if not (isinstance(arr, types.Array) and arr.dtype in (types.uint8, types.int32, types.int64) and arr.ndim == 1
            and arr.layout == "C" and isinstance(start, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        first = context.cast(builder, args[1], sig.args[1], types.int64)
        width = arr.dtype.bitwidth
        vty = ir.VectorType(ir.IntType(width), 64)
        ptr = builder.bitcast(builder.gep(ary.data, [first]), vty.as_pointer())
        vec = builder.load(ptr, align=width // 8)
        bits = builder.icmp_unsigned("!=", vec, ir.Constant(vty, None))
        return builder.bitcast(bits, i64)

    return types.uint64(arr, start), codegen
