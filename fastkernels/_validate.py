"""Argument checks shared by every public function: the arrays it reads, scalars, flags, choices,
dtypes and sizes (the arrays a kernel writes are checked by :mod:`fastkernels._outputs`).

Numba does no bounds checking, so public wrappers validate everything a kernel
would otherwise read or write out of bounds, and raise ``TypeError`` (wrong
type or dtype) or ``ValueError`` (wrong shape, range or value) naming the
argument and the bad value. Kernels then assume valid input.

Read-only inputs (:func:`as_array`, :func:`as_index_array`) are converted to a
C-contiguous ndarray when they are lists or strided views (one copy, never of
the caller's data in place), but an array of the wrong *kind* of dtype is
rejected rather than cast, so integer data never silently becomes float.
Arrays a kernel writes are never copied (:func:`fastkernels._outputs.as_output`).

Device arrays (anything with ``__cuda_array_interface__``) pass the dtype and
shape checks from their metadata; value checks (finiteness, index ranges) copy
them to the host once.
"""

from __future__ import annotations

import functools
import math
import numbers
import os

import numpy as np

from ._backend import is_device_array

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))


def _dtype_names(dtypes) -> str:
    return " or ".join(np.dtype(d).name for d in dtypes)


def array_dtype(x) -> np.dtype:
    """The NumPy dtype of a host or device array. CuPy arrays and PyTorch CUDA tensors are read
    through ``__cuda_array_interface__`` (``np.dtype(torch.float32)`` raises)."""
    if hasattr(x, "__cuda_array_interface__") and not hasattr(x, "copy_to_host"):
        return np.dtype(x.__cuda_array_interface__["typestr"])
    return np.dtype(x.dtype)


def numba_view(x):
    """Foreign device arrays (CuPy, PyTorch CUDA tensors) as zero-copy numba device arrays, so
    kernels and checks see NumPy dtypes and numba's methods; anything else passes through."""
    if hasattr(x, "copy_to_host") or not hasattr(x, "__cuda_array_interface__"):
        return x
    from numba import cuda

    return cuda.as_cuda_array(x)


def host_values(x):
    """Host ndarray of a validated array's values for value checks (copies device arrays once;
    foreign ones are numba views by then, see :func:`numba_view`)."""
    return x.copy_to_host() if hasattr(x, "copy_to_host") else np.asarray(x)


def _check_shape(x, name, ndim, shape):
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {tuple(x.shape)}")
    if shape is not None:
        if len(shape) != x.ndim or any(
            want is not None and want != got for want, got in zip(shape, x.shape)
        ):
            want = ", ".join("*" if s is None else str(s) for s in shape)
            raise ValueError(f"{name} must have shape ({want}{',' if len(shape) == 1 else ''}), got {tuple(x.shape)}")


def is_c_contiguous(x) -> bool:
    """Whether a host or device array is C-contiguous (device arrays by their interface)."""
    if isinstance(x, np.ndarray):
        return x.flags.c_contiguous
    if hasattr(x, "is_c_contiguous"):
        return x.is_c_contiguous()
    return x.__cuda_array_interface__.get("strides") is None


def check_finite(x, name: str) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or +-inf, naming the first bad position."""
    values = host_values(x)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        pos = tuple(int(p) for p in np.unravel_index(i, values.shape))
        raise ValueError(
            f"{name} must be finite, but {int(bad.sum())} entries are not "
            f"(first at index {pos[0] if len(pos) == 1 else pos}: {values.ravel()[i]!r})"
        )


def as_array(x, name: str, *, dtypes=FLOAT_DTYPES, ndim=None, shape=None, finite=False):
    """Validate a read-only array argument.

    Parameters
    ----------
    x : array_like or device array
        The argument.
    name : str
        Its name, used in error messages.
    dtypes : sequence of dtype
        Accepted dtypes. A list or scalar input is converted with ``np.asarray``;
        if that gives float64 where only float32 is accepted it is cast, but an
        existing array of another dtype is rejected.
    ndim : int, optional
        Required number of dimensions.
    shape : tuple of (int or None), optional
        Required shape; ``None`` entries match any length.
    finite : bool
        Reject NaN and infinities.

    Returns
    -------
    ndarray or device array
        ``x`` itself when it already conforms, else a C-contiguous copy.

    Raises
    ------
    TypeError
        Wrong dtype (or not array-like).
    ValueError
        Wrong ndim/shape, non-finite values when ``finite``, or a strided device array.
    """
    dtypes = tuple(np.dtype(d) for d in dtypes)
    if is_device_array(x):
        x = numba_view(x)
        if array_dtype(x) not in dtypes:
            raise TypeError(f"{name} must have dtype {_dtype_names(dtypes)}, got {array_dtype(x).name}")
        _check_shape(x, name, ndim, shape)
        if not is_c_contiguous(x):
            raise ValueError(f"{name} is a strided device array; pass a C-contiguous one")
    else:
        if not isinstance(x, np.ndarray):
            try:
                arr = np.asarray(x)
            except Exception as exc:
                raise TypeError(f"{name} must be array-like, got {type(x).__name__}") from exc
            if arr.dtype.kind == "f" and arr.dtype not in dtypes and dtypes[0].kind == "f":
                # Python floats -> the accepted float dtype; refuse values the cast would make inf
                # (1e308 as float32) instead of letting them surface later as a NaN result.
                check_cast_range(arr, dtypes[0], name)
                arr = arr.astype(dtypes[0])
            elif arr.dtype.kind in "iu" and arr.dtype not in dtypes and all(d.kind in "iu" for d in dtypes):
                arr = arr.astype(dtypes[-1])
            x = arr
        if x.dtype not in dtypes:
            # suggest a cast only within the same kind (ints to ints, floats to floats)
            same_kind = [d for d in dtypes if d.kind == x.dtype.kind or (d.kind in "iu" and x.dtype.kind in "iu")]
            hint = f"; convert with .astype(np.{same_kind[0].name})" if same_kind and x.dtype.kind in "biuf" else ""
            raise TypeError(f"{name} must have dtype {_dtype_names(dtypes)}, got {x.dtype.name}{hint}")
        _check_shape(x, name, ndim, shape)
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
    if finite:
        check_finite(x, name)
    return x


def check_cast_range(arr, dtype, name):
    """Raise ``ValueError`` if casting finite ``arr`` to the narrower float ``dtype`` overflows."""
    dtype = np.dtype(dtype)
    if arr.size and arr.dtype.itemsize > dtype.itemsize:
        with np.errstate(invalid="ignore"):
            big = np.isfinite(arr) & (np.abs(arr) > np.finfo(dtype).max)
        if big.any():
            i = int(np.argmax(big.ravel()))
            raise ValueError(f"{name} holds {float(arr.ravel()[i])!r}, beyond the {dtype.name} range "
                             f"(+-{float(np.finfo(dtype).max):.4g}); it would become inf")


def cast_float(x, name: str, dtype):
    """``x`` (a validated host float array) as ``dtype``, refusing finite values the cast would
    turn into inf. Returns ``x`` itself when it already has ``dtype``."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    check_cast_range(x, dtype, name)
    return x.astype(dtype)


#: Requests below this many bytes fit on any machine fastkernels runs on; they skip the lookup.
_SURELY_FITS = 1 << 26


@functools.lru_cache(maxsize=1)
def max_bytes() -> int:
    """The largest single allocation fastkernels starts: the machine's physical memory.

    A request above it cannot succeed and would only page the machine to a halt or raise
    NumPy's own error naming no argument, so sizes are checked against it up front.
    """
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 40


def check_allocation(count, itemsize: int, name: str, *, what: str = "elements") -> int:
    """Refuse up front a result of ``count`` items of ``itemsize`` bytes that cannot fit in memory.

    Parameters
    ----------
    count : int or float
        Number of items the call would allocate (may be a float estimate, e.g. an expected
        spike count).
    itemsize : int
        Bytes per item.
    name : str
        The argument (or combination, e.g. ``"n * steps"``) that sets the size, for the error.

    Returns
    -------
    int
        The number of bytes.

    Raises
    ------
    ValueError
        More bytes than :func:`max_bytes` (or more items than an int64 can count).
    """
    if not math.isfinite(count) or count > 2**62:
        raise ValueError(f"{name} asks for {count:.3g} {what}, more than can be addressed")
    nbytes = int(math.ceil(count)) * int(itemsize)
    if nbytes < _SURELY_FITS:  # the common, batch-sized case: no lookup at all
        return nbytes
    limit = max_bytes()
    if nbytes > limit:
        raise ValueError(f"{name} asks for {count:.4g} {what} ({nbytes / 2**30:.3g} GiB), more than this "
                         f"machine's memory ({limit / 2**30:.3g} GiB); reduce it or split the work")
    return nbytes


def as_index_array(x, name: str, *, n: int, ndim=1, shape=None, allow=None):
    """Validate an integer index array whose entries must lie in ``[0, n)``.

    Parameters
    ----------
    x : array_like of int32 or int64
        Indices (class labels, word ids, neuron ids, ...). Lists are converted to
        int64; float or bool arrays are rejected.
    name : str
        Its name, used in error messages.
    n : int
        Size of the indexed axis.
    ndim, shape
        As in :func:`as_array`.
    allow : int, optional
        One extra value accepted outside the range (e.g. ``ignore_index=-100``).

    Returns
    -------
    ndarray or device array of int32 or int64

    Raises
    ------
    TypeError
        Non-integer dtype.
    ValueError
        Wrong shape, or an index out of range (the first one is named).
    """
    if not is_device_array(x) and not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as exc:  # ragged nesting, unconvertible objects
            raise TypeError(f"{name} must be an array of integer ids, got {type(x).__name__} "
                            f"that NumPy cannot read as one ({exc})") from None
        if x.dtype.kind in "iu" and x.dtype not in INDEX_DTYPES:
            x = x.astype(np.int64)
        elif x.size == 0 and x.dtype.kind == "f":
            x = x.astype(np.int64)  # np.asarray([]) is float64
    x = as_array(x, name, dtypes=INDEX_DTYPES, ndim=ndim, shape=shape)
    values = host_values(x)
    if values.size:
        bad = (values < 0) | (values >= n)
        if allow is not None:
            bad &= values != allow
        if bad.any():
            i = int(np.argmax(bad.ravel()))
            extra = f" or equal {allow}" if allow is not None else ""
            raise ValueError(
                f"{name} must lie in [0, {n}){extra}; found {int(values.ravel()[i])} "
                f"at flat position {i} ({int(bad.sum())} out of range)"
            )
    return x


def _as_number(value, name, *, integer: bool):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got bool {value!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if integer:
        if not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
        return int(value)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return value


def check_scalar(value, name: str, *, integer=False, lo=None, hi=None, lo_open=False, hi_open=False, finite=True):
    """Validate a scalar and return it as a Python ``int`` or ``float``.

    Parameters
    ----------
    value : number
        The argument.
    name : str
        Its name, used in error messages.
    integer : bool
        Require an integer (``bool`` is never accepted).
    lo, hi : number, optional
        Bounds; inclusive unless ``lo_open`` / ``hi_open``.
    finite : bool
        Reject +-inf (NaN is always rejected).

    Raises
    ------
    TypeError
        Not a number of the required kind.
    ValueError
        NaN, infinite, or outside the bounds.
    """
    value = _as_number(value, name, integer=integer)
    if finite and not integer and math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {value!r}")
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {value!r}")
    return value


def check_positive(value, name: str, *, integer=False):
    """Validate a strictly positive finite scalar (time steps, time constants, rates)."""
    return check_scalar(value, name, integer=integer, lo=0, lo_open=True)


#: Integer arguments (counts, steps, sizes, seeds' starts) are bounded to what an int64 holds.
INT64_MAX = 2**63 - 1


def check_flag(value, name: str) -> bool:
    """A boolean switch: ``bool``, ``numpy.bool_`` or the integers 0 and 1; anything else (a
    string, None, an array, 2) raises instead of being read by its truthiness (``"no"`` is true)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def check_choice(value, name: str, options):
    """Validate that ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def check_dtype(value, name: str = "dtype", options=FLOAT_DTYPES) -> np.dtype:
    """Validate a dtype argument (``np.float32``, ``"float32"``, ``np.dtype("f4")``) against
    ``options`` and return it as a ``numpy.dtype``. ``None`` is refused (NumPy would read it as
    float64), and so is anything NumPy cannot read as a dtype.

    Raises
    ------
    TypeError
        Not a dtype (e.g. ``None``, a list, a string NumPy does not know).
    ValueError
        A dtype outside ``options``.
    """
    options = tuple(np.dtype(o) for o in options)
    if value is None or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be one of {_dtype_names(options)}, got {value!r}")
    try:
        dt = np.dtype(value)
    except Exception:
        raise TypeError(f"{name} must be one of {_dtype_names(options)}, got {value!r}") from None
    if dt not in options:
        raise ValueError(f"{name} must be one of {_dtype_names(options)}, got {dt.name}")
    return dt


def check_same_dtype(reference, **arrays):
    """Require every array in ``arrays`` to share ``reference``'s dtype (no mixed precision)."""
    want = np.dtype(reference.dtype)
    for name, arr in arrays.items():
        if arr is not None and np.dtype(arr.dtype) != want:
            raise TypeError(f"{name} must have the same dtype as the data ({want.name}), got {np.dtype(arr.dtype).name}")
