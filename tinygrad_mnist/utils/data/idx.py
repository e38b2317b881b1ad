"""Reading and writing IDX files, the simple array format MNIST is distributed in.

An IDX file is a 4-byte magic number, then one big-endian uint32 per dimension, then the
array's elements in C order (big-endian):

    byte 0, 1   always 0
    byte 2      element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte 3      number of dimensions
    4 * ndim    the dimensions
    ...         prod(dims) elements

MNIST ships these files gzip-compressed. `load_idx` recognises gzip by its first two bytes
(1f 8b), not by the file name, so a `.gz` name holding raw bytes (or the reverse) still loads.

The reader trusts nothing in the file: every way a file can be wrong (bad magic, a header that
disagrees with the data, a broken gzip stream, a header claiming an absurd size) becomes one
`IDXError` naming the file and saying what was expected and what was found.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ...atomic_file import write_bytes_atomic

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> element dtype as stored in the file (big-endian).
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
TYPE_CODES: dict[str, int] = {dtype.name: code for code, dtype in DTYPES.items()}

MAX_NDIM = 4
# A header can claim any size; refuse one needing more than this before reading the data, so a
# corrupt or hostile file cannot make us allocate or decompress gigabytes. MNIST needs 47 MB.
MAX_DATA_BYTES = 2**31

# Data is read in pieces of this size, so memory grows with what the file really holds,
# not with what its header claims.
_CHUNK_BYTES = 1 << 20


class IDXError(ValueError):
    """A file is not a valid IDX file; the message names the file and what is wrong."""


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into an array.

    Returns an array of the header's shape, e.g. uint8 [N, 28, 28] for MNIST images or
    uint8 [N] for labels, in native byte order. Raises `IDXError` if the file is not valid
    IDX, and `FileNotFoundError` if it does not exist.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        if raw.read(2) != GZIP_MAGIC:
            raw.seek(0)
            return _read_idx(raw, path, what="file")
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                return _read_idx(unzipped, path, what="decompressed data")
        # gzip reports a broken stream in several ways: EOFError (cut short), zlib.error
        # (garbled deflate data), gzip.BadGzipFile, an OSError (bad header, CRC mismatch).
        except (EOFError, zlib.error, OSError) as e:
            raise IDXError(f"{path}: corrupt or truncated gzip data ({e})") from None


def _read_idx(f: BinaryIO, path: Path, what: str) -> np.ndarray:
    """Parse one IDX stream `f`; `what` says what it is ("file"/"decompressed data")."""
    magic = _read_up_to(f, 4)
    if not magic:
        raise IDXError(f"{path}: {what} is empty (0 bytes); expected an IDX header")
    if len(magic) < 4:
        raise IDXError(
            f"{path}: {what} too short: expected a 4-byte magic number, got {len(magic)}"
        )
    zero0, zero1, type_code, ndim = magic
    if zero0 != 0 or zero1 != 0:
        raise IDXError(
            f"{path}: not an IDX file: the magic number must start with two zero bytes, "
            f"got 0x{magic.hex()}"
        )
    if type_code not in DTYPES:
        supported = ", ".join(f"0x{c:02X} ({d.name})" for c, d in DTYPES.items())
        raise IDXError(
            f"{path}: unsupported IDX element type code 0x{type_code:02X}; supported: {supported}"
        )
    if not 1 <= ndim <= MAX_NDIM:
        raise IDXError(f"{path}: expected 1 to {MAX_NDIM} dimensions, header says {ndim}")

    dims_bytes = _read_up_to(f, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise IDXError(
            f"{path}: truncated header: expected {4 * ndim} bytes for {ndim} dimensions, "
            f"got {len(dims_bytes)}"
        )
    dims = struct.unpack(f">{ndim}I", dims_bytes)
    dtype = DTYPES[type_code]
    shape_text = " x ".join(map(str, dims))
    # Python ints do not overflow, so this is the true size even for absurd headers.
    expected = math.prod(dims) * dtype.itemsize
    if expected > MAX_DATA_BYTES:
        raise IDXError(
            f"{path}: header says {shape_text} {dtype.name}, which needs {expected} bytes; "
            f"refusing more than {MAX_DATA_BYTES} bytes (corrupt header?)"
        )

    # Ask for one byte more than needed: getting it means there is trailing data.
    data = _read_up_to(f, expected + 1)
    if len(data) < expected:
        raise IDXError(
            f"{path}: truncated: header says {shape_text} {dtype.name} = {expected} bytes "
            f"of data, got {len(data)}"
        )
    if len(data) > expected:
        raise IDXError(
            f"{path}: trailing data: header says {shape_text} {dtype.name} = {expected} bytes "
            f"of data, but the {what} holds more"
        )
    array = np.frombuffer(data, dtype=dtype, count=math.prod(dims)).reshape(dims)
    # Native byte order, so later arithmetic does not pay for byte swapping (no-op for uint8).
    return array.astype(dtype.newbyteorder("="), copy=False)


def _read_up_to(f: BinaryIO, n: int) -> bytearray:
    """Read `n` bytes from `f`, fewer only if the stream ends first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK_BYTES, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def save_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write `array` (1 to 4 dimensions; uint8, int8, int16, int32, float32 or float64) as IDX.

    A path ending in `.gz` gets gzip-compressed bytes, any other path raw bytes. The file is
    replaced atomically, so a reader never sees it half-written.
    """
    path = Path(path)
    array = np.asarray(array)
    if array.dtype.name not in TYPE_CODES:
        raise ValueError(
            f"cannot write {array.dtype} to IDX ({path}); use one of {', '.join(TYPE_CODES)}"
        )
    if not 1 <= array.ndim <= MAX_NDIM:
        raise ValueError(f"IDX holds 1 to {MAX_NDIM} dimensions, got shape {array.shape} ({path})")
    if max(array.shape) >= 2**32:
        raise ValueError(f"IDX dimensions must fit in uint32, got shape {array.shape} ({path})")
    header = bytes([0, 0, TYPE_CODES[array.dtype.name], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    big_endian = array.astype(array.dtype.newbyteorder(">"), copy=False)
    data = header + big_endian.tobytes(order="C")
    if path.suffix == ".gz":
        # mtime=0 makes the output depend only on the array, so checksums are reproducible.
        data = gzip.compress(data, mtime=0)
    write_bytes_atomic(path, data)
