"""Saved files: one ``.npz`` container with a format name, a version and a checksum.

Every file fastkernels writes for itself (a trained MLP today; word2vec models next) goes
through :func:`save_npz`, and every load through :func:`load_npz`, so a damaged, truncated,
foreign or newer file gives one :class:`ValueError` naming the file and what is wrong, never a
``BadZipFile``, ``EOFError``, ``KeyError`` or a silently cast array. Interchange formats that
other programs write (word2vec.c's vocabulary text) are validated structurally by their
readers instead.

The checksum is SHA-256 over each array's name, dtype, shape and bytes in name order: it
catches bit rot and hand edits that keep the zip valid; it is not a signature.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

_META = ("__format__", "__version__", "__checksum__")


def _digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_npz(path, fmt: str, version: int, arrays: dict) -> None:
    """Write ``arrays`` (name -> array or scalar) with the format name, version and checksum.

    ``path`` is used as given (NumPy's ``savez`` would append ``.npz`` to a name without it,
    and the matching load would then miss the file).
    """
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    for a in arrays.values():
        if a.dtype.kind == "O":
            raise TypeError("object arrays cannot be saved (they would need pickle to load)")
    meta = {"__format__": np.array(fmt), "__version__": np.array(version, np.int64),
            "__checksum__": np.array(_digest(arrays))}
    with open(os.fspath(path), "wb") as f:
        np.savez(f, **arrays, **meta)


def load_npz(path, fmt: str, versions) -> dict:
    """Read a file written by :func:`save_npz` and check it whole before anything uses it.

    Parameters
    ----------
    path : str or os.PathLike
    fmt : str
        The expected format name (e.g. ``"fastkernels.MLP"``).
    versions : container of int
        The versions this reader understands.

    Returns
    -------
    dict
        name -> ndarray, the metadata removed.

    Raises
    ------
    ValueError
        Not a readable ``.npz``, another format, an unknown version, a checksum mismatch, or
        damaged members; the message names the file.
    FileNotFoundError
        No such file (Python's own error, which names it).
    """
    where = os.fspath(path)
    try:
        with np.load(where, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # BadZipFile, EOFError, zlib.error, ValueError (pickled/corrupt members)
        raise ValueError(f"{where}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    missing = [k for k in _META if k not in arrays]
    if missing:
        raise ValueError(f"{where}: not a {fmt} file (no {', '.join(missing)} entries)")
    got = arrays.pop("__format__")
    if got.dtype.kind != "U" or got.shape != () or str(got) != fmt:
        raise ValueError(f"{where}: holds a {got!s} file, expected {fmt}")
    version = arrays.pop("__version__")
    if version.dtype.kind not in "iu" or version.shape != () or int(version) not in versions:
        raise ValueError(f"{where}: {fmt} format version {version!s} is not one this fastkernels reads "
                         f"({', '.join(map(str, sorted(versions)))}); it may come from a newer release")
    checksum = arrays.pop("__checksum__")
    if checksum.dtype.kind != "U" or str(checksum) != _digest(arrays):
        raise ValueError(f"{where}: checksum mismatch: the file is damaged or was edited")
    return arrays


def npz_entry(arrays: dict, key: str, where, *, kind: str, shape=None, dtype=None):
    """One checked entry of a loaded file: present, of dtype kind ``kind`` (e.g. ``"f"``,
    ``"iu"``, ``"U"``, ``"b"``), of ``shape`` (None entries free) and, if given, exactly ``dtype``."""
    where = os.fspath(where)
    if key not in arrays:
        raise ValueError(f"{where}: missing entry {key!r}")
    a = arrays[key]
    if a.dtype.kind not in kind or (dtype is not None and a.dtype != np.dtype(dtype)):
        want = np.dtype(dtype).name if dtype is not None else f"kind {kind!r}"
        raise ValueError(f"{where}: entry {key!r} has dtype {a.dtype}, expected {want}")
    if shape is not None and (a.ndim != len(shape) or any(s is not None and s != g for s, g in zip(shape, a.shape))):
        raise ValueError(f"{where}: entry {key!r} has shape {a.shape}, expected {tuple(shape)}")
    return a


__all__ = ["load_npz", "npz_entry", "save_npz"]
