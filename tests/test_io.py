"""The saved-file container: format name, version and checksum checked before anything is used."""

import numpy as np
import pytest

from fastkernels._io import load_npz, npz_entry, save_npz

pytestmark = pytest.mark.bad_input


def _saved(tmp_path):
    path = tmp_path / "m.npz"
    save_npz(path, "fastkernels.Test", 2, {"w": np.arange(6.0).reshape(2, 3), "name": "relu", "n": np.int64(3)})
    return path


def test_round_trip_keeps_dtypes_and_the_exact_path(tmp_path):
    path = tmp_path / "model"  # no .npz suffix: written and read at the same path
    save_npz(path, "fastkernels.Test", 1, {"w": np.ones(3, np.float32)})
    got = load_npz(path, "fastkernels.Test", {1})
    assert set(got) == {"w"} and got["w"].dtype == np.float32
    assert npz_entry(got, "w", path, kind="f", shape=(3,), dtype=np.float32) is got["w"]


def test_damaged_files_give_one_value_error_naming_the_file(tmp_path):
    data = _saved(tmp_path).read_bytes()
    bad = tmp_path / "bad.npz"
    for i, blob in enumerate([b"", data[: len(data) // 2], data[:30], b"PK\x03\x04" + b"\0" * 64, b"text\n"]):
        bad.write_bytes(blob)
        with pytest.raises(ValueError, match="bad.npz"):
            load_npz(bad, "fastkernels.Test", {2})


def test_every_flipped_byte_is_caught(tmp_path):
    data = bytearray(_saved(tmp_path).read_bytes())
    bad = tmp_path / "flip.npz"
    rng = np.random.default_rng(0)
    for i in rng.choice(len(data), 40, replace=False):
        blob = bytearray(data)
        blob[i] ^= 0x5A
        bad.write_bytes(bytes(blob))
        try:
            got = load_npz(bad, "fastkernels.Test", {2})
        except ValueError as exc:
            assert "flip.npz" in str(exc)
        else:  # a flip in zip padding or an unused header field leaves the content intact
            np.testing.assert_array_equal(got["w"], np.arange(6.0).reshape(2, 3))


def test_foreign_format_version_and_edited_contents(tmp_path):
    path = _saved(tmp_path)
    with pytest.raises(ValueError, match="holds a fastkernels.Test file, expected fastkernels.MLP"):
        load_npz(path, "fastkernels.MLP", {1})
    with pytest.raises(ValueError, match="version 2 is not one this fastkernels reads"):
        load_npz(path, "fastkernels.Test", {1})
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.zeros(3))
    with pytest.raises(ValueError, match="not a fastkernels.Test file"):
        load_npz(plain, "fastkernels.Test", {2})
    with np.load(path) as f:
        arrays = dict(f)
    arrays["w"] = arrays["w"] + 1  # edited, checksum kept
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_npz(tmp_path / "edited.npz", "fastkernels.Test", {2})


def test_missing_file_is_pythons_own_error():
    with pytest.raises(FileNotFoundError):
        load_npz("/nonexistent/x.npz", "fastkernels.Test", {1})


def test_entries_are_checked_for_kind_shape_and_dtype(tmp_path):
    got = load_npz(_saved(tmp_path), "fastkernels.Test", {2})
    assert npz_entry(got, "name", "f", kind="U", shape=()) == "relu"
    with pytest.raises(ValueError, match="missing entry 'x'"):
        npz_entry(got, "x", "f", kind="f")
    with pytest.raises(ValueError, match="entry 'w' has dtype float64, expected float32"):
        npz_entry(got, "w", "f", kind="f", dtype=np.float32)
    with pytest.raises(ValueError, match=r"entry 'w' has shape \(2, 3\), expected \(3,\)"):
        npz_entry(got, "w", "f", kind="f", shape=(3,))
    with pytest.raises(ValueError, match="entry 'n' has dtype int64, expected kind 'f'"):
        npz_entry(got, "n", "f", kind="f")


def test_object_arrays_are_not_saved(tmp_path):
    with pytest.raises(TypeError, match="object arrays"):
        save_npz(tmp_path / "o.npz", "x", 1, {"o": np.array([{}], dtype=object)})
