"""datasets.npz.read_npz: members checked against the bytes they hold before numpy allocates."""

import io
import zipfile

import numpy as np
import pytest

from datasets.npz import read_npz


def lying_member(shape, held):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": shape})
    return header.getvalue() + bytes(held)


def test_reads_every_member_or_the_ones_named(tmp_path):
    np.savez(tmp_path / "a.npz", W=np.arange(6.0).reshape(2, 3), meta=np.array("{}"))
    arrays = read_npz(tmp_path / "a.npz")
    assert sorted(arrays) == ["W", "meta"]
    np.testing.assert_array_equal(arrays["W"], np.arange(6.0).reshape(2, 3))
    assert list(read_npz(tmp_path / "a.npz", ["meta"])) == ["meta"]


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_header_claiming_more_than_the_member_holds_is_refused(tmp_path, compression):
    with zipfile.ZipFile(tmp_path / "b.npz", "w") as archive:
        archive.writestr("W.npy", lying_member((2**20, 2**20), 64), compress_type=compression)
    with pytest.raises(ValueError, match=r"member 'W.npy' claims shape \(1048576, 1048576\) of "
                                         r"float32 \(4398046511104 bytes\) but holds 64 bytes"):
        read_npz(tmp_path / "b.npz")
    with zipfile.ZipFile(tmp_path / "c.npz", "w") as archive:
        archive.writestr("W.npy", lying_member((4, 4), 64), compress_type=compression)
    assert read_npz(tmp_path / "c.npz")["W"].shape == (4, 4)     # the same header, told true


def test_objects_and_other_files_are_refused(tmp_path):
    np.savez(tmp_path / "o.npz", W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"member 'W.npy' holds Python objects"):
        read_npz(tmp_path / "o.npz")
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"not an \.npz archive"):
        read_npz(tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "absent.npz")
