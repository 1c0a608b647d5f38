"""Read .npz archives (model files, checkpoints) without trusting the sizes they claim.

An .npz is a zip of .npy members; each member's header claims a dtype and a
shape, and numpy allocates that shape before it reads the values. A 300-byte
file can claim a 1 TiB array. read_npz checks every member first: numeric
dtype, no pickles, and a claimed size that the member's bytes really hold
(counted by streaming through a compressed member, constant memory), so reading
never allocates more than the file holds.
"""

import math
import zipfile

import numpy as np

HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                  (2, 0): np.lib.format.read_array_header_2_0}


def read_npz(path, names=None):
    """Return {name: array} of the .npz at path; ValueError naming a member that lies.

    names: read only these arrays (those present), e.g. the metadata of a big
    checkpoint; None reads all. Raises ValueError for a file that is not a zip
    of .npy members, and FileNotFoundError for a missing file.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if names is None or info.filename.removesuffix(".npy") in names:
                    _check_member(archive, info)
    except zipfile.BadZipFile as err:
        raise ValueError(f"not an .npz archive: {err}") from err
    with np.load(path, allow_pickle=False) as archive:
        wanted = archive.files if names is None else [n for n in archive.files if n in names]
        return {name: archive[name] for name in wanted}


def _check_member(archive, info):
    """The member's header claims no more bytes than the member holds."""
    with archive.open(info) as f:
        try:
            read_header = HEADER_READERS.get(np.lib.format.read_magic(f))
            if read_header is None:
                raise ValueError("an .npy format version other than 1.0 and 2.0")
            shape, _, dtype = read_header(f)
        except ValueError as err:
            raise ValueError(f"member {info.filename!r} is not an .npy array: {err}") from err
        if dtype.hasobject:
            raise ValueError(f"member {info.filename!r} holds Python objects (dtype {dtype}); "
                             "only numbers and strings are read")
        claimed = math.prod(shape) * dtype.itemsize            # Python ints: no overflow
        held = _count_bytes(f, claimed)
    if held < claimed:
        raise ValueError(f"member {info.filename!r} claims shape {shape} of {dtype} "
                         f"({claimed} bytes) but holds {held} bytes")


def _count_bytes(f, limit):
    """Bytes left in f, counted in chunks of 1 MiB and no further than limit."""
    held = 0
    while held < limit:
        chunk = f.read(min(limit - held, 2**20))
        if not chunk:
            break
        held += len(chunk)
    return held
