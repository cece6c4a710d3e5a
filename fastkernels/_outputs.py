"""Checks on the arrays a kernel writes: ``out=`` buffers, weights and state updated in place.

The read-only side (inputs, scalars, flags, dtypes, sizes) is :mod:`fastkernels._validate`. Two
rules hold here:

* a written array (:func:`as_output`) is never copied or cast: a wrong dtype, shape or layout is an
  error, because a silent copy would make the in-place update vanish;
* it shares no memory with what the kernel reads (:func:`check_disjoint`), and arrays updated
  together share none with each other (:func:`check_no_overlap`): a kernel writing one would
  read garbage, or update an element twice.
"""

from __future__ import annotations

import numpy as np

from ._backend import is_device_array
from ._validate import array_dtype, is_c_contiguous, numba_view


def as_output(x, name: str, *, dtype, shape):
    """Validate an array that a kernel writes in place; never copies.

    Parameters
    ----------
    x : ndarray or device array
        The buffer (``out=``, weights, state).
    name : str
        Its name, used in error messages.
    dtype : dtype
        The exact dtype the kernel writes.
    shape : tuple of int
        The exact shape the kernel writes.

    Returns
    -------
    ndarray or device array
        ``x`` itself.

    Raises
    ------
    TypeError
        Not an array, or wrong dtype.
    ValueError
        Wrong shape, not C-contiguous, or read-only.
    """
    if not (isinstance(x, np.ndarray) or is_device_array(x)):
        raise TypeError(f"{name} must be a numpy or device array, got {type(x).__name__}")
    x = numba_view(x)
    if array_dtype(x) != np.dtype(dtype):
        raise TypeError(
            f"{name} must have dtype {np.dtype(dtype).name} to be written in place, "
            f"got {array_dtype(x).name} (it is never cast: a copy would drop the update)"
        )
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(x.shape)}")
    if not is_c_contiguous(x):
        raise ValueError(f"{name} must be C-contiguous to be written in place (use np.ascontiguousarray first)")
    if isinstance(x, np.ndarray) and not x.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return x


_byte_bounds = getattr(getattr(np.lib, "array_utils", None), "byte_bounds", None) or np.byte_bounds


def _host_view(x):
    """The host ndarray behind a CUDA-simulator device array (it has no
    ``__cuda_array_interface__``), else ``x`` itself."""
    if x is None or isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__"):
        return x
    inner = getattr(x, "_ary", None)
    return inner if isinstance(inner, np.ndarray) else x


def _span(x):
    """(first byte, one past the last byte) of a host or device array's data."""
    if isinstance(x, np.ndarray):
        return _byte_bounds(x)
    iface = x.__cuda_array_interface__
    ptr = iface["data"][0]
    nbytes = int(np.prod(iface["shape"], dtype=np.int64)) * np.dtype(iface["typestr"]).itemsize
    return ptr, ptr + nbytes


def check_disjoint(out, out_name: str, *, allow_same=(), **inputs):
    """Refuse an ``out=`` buffer that overlaps an input (a kernel writing it would read garbage).

    Parameters
    ----------
    out : ndarray or device array
        The buffer the kernel writes.
    out_name : str
        Its name, for the error.
    allow_same : sequence of str
        Inputs that ``out`` may be exactly (same start, shape and dtype): the kernels that read
        each element before writing it document that in-place use. Any other overlap is refused.
    **inputs : ndarray or device array or None
        The arrays the kernel reads, by argument name.

    Raises
    ------
    ValueError
        ``out`` shares memory with an input (named) other than an allowed exact alias.

    Notes
    -----
    Host arrays whose byte ranges do not meet (``np.may_share_memory``, a C bounds test) return
    at once, so a small call pays well under a microsecond per input; CUDA-simulator arrays are
    compared through the host arrays they wrap.
    """
    if out is None:
        return
    out = _host_view(out)
    host = isinstance(out, np.ndarray)
    if host and out.size == 0:
        return
    for name, x in inputs.items():
        x = _host_view(x)
        if x is None or not (isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__")):
            continue
        if isinstance(x, np.ndarray) != host:
            continue  # host and device memory never overlap
        if host and (not np.may_share_memory(out, x) or (x is out and name in allow_same)):
            continue
        o_lo, o_hi = _span(out)
        lo, hi = _span(x)
        if lo >= o_hi or o_lo >= hi:
            continue
        if host and not np.shares_memory(out, x, max_work=10_000):
            continue  # interleaved strided views that never touch the same element
        if (name in allow_same and lo == o_lo and tuple(x.shape) == tuple(out.shape)
                and array_dtype(x) == array_dtype(out)):
            continue
        how = "is" if (lo, hi) == (o_lo, o_hi) else "overlaps"
        allowed = f" (only {', '.join(allow_same)} may be passed as {out_name} itself)" if allow_same else ""
        raise ValueError(f"{out_name} {how} the memory of {name}; pass a separate buffer{allowed}")


def host_span(a):
    """(first byte, one past the last) of a host array's data, or None for a device array."""
    if not isinstance(a, np.ndarray):
        return None
    if a.flags.c_contiguous:
        lo = a.__array_interface__["data"][0]
        return lo, lo + a.nbytes
    return _byte_bounds(a)


def check_no_overlap(arrays, names):
    """Refuse any two of ``arrays`` that share memory (arrays updated in place, where a shared
    element would be updated twice), naming both. Sort-and-sweep over byte spans, so a list of
    many parameters costs O(k log k); candidates go to :func:`check_disjoint` for the exact
    verdict (interleaved views that never touch the same element pass)."""
    host, dev = [], []
    for a, name in zip(arrays, names):
        if a.size == 0:
            continue
        span = host_span(a)
        (dev if span is None else host).append((span, name, a))
    host.sort(key=lambda t: t[0][0])
    for i, ((lo, hi), name, a) in enumerate(host):
        for (lo2, _), name2, b in host[i + 1:]:
            if lo2 >= hi:
                break
            check_disjoint(b, name2, **{name: a})
    for i, (_, name, a) in enumerate(dev):
        for _, name2, b in dev[i + 1:]:
            check_disjoint(b, name2, **{name: a})
