"""Reading and writing IDX files, the format of the MNIST and Fashion-MNIST distributions.

An IDX file is a 4-byte magic number -- two zero bytes, a type code and the number of
dimensions -- followed by each dimension as a big-endian unsigned 32-bit integer and then the
values in row-major order, big-endian. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np

# Type code -> big-endian dtype of the stored values.
_CODE_TO_DTYPE: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file, plain or gzip-compressed (detected from its content, not its name).

    Args:
      path: the file to read.

    Returns:
      A native-endian array with the stored shape and dtype (uint8, int8, int16, int32, float32
      or float64).

    Raises:
      FileNotFoundError: if `path` does not exist.
      ValueError: if the magic number, type code or size does not describe a valid IDX file.
    """
    with open(path, "rb") as handle:
        content = handle.read()
    if content[:2] == _GZIP_MAGIC:
        content = gzip.decompress(content)
    if len(content) < 4:
        raise ValueError(f"path {os.fspath(path)!r} is too short to be an IDX file")
    zero, code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0:
        raise ValueError(
            f"path {os.fspath(path)!r} is not an IDX file: magic number must start with two zero "
            f"bytes, got {content[:2]!r}"
        )
    if code not in _CODE_TO_DTYPE:
        raise ValueError(f"path {os.fspath(path)!r} has an unknown IDX type code 0x{code:02X}")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(f"path {os.fspath(path)!r} ends inside its IDX header")
    shape = struct.unpack(f">{ndim}I", content[4:header_size])
    dtype = _CODE_TO_DTYPE[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(content) - header_size != expected:
        raise ValueError(
            f"path {os.fspath(path)!r}: header shape {shape} needs {expected} bytes of data, "
            f"found {len(content) - header_size}"
        )
    values = np.frombuffer(content, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(_native(dtype))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Writes `array` as an IDX file, gzip-compressed when `path` ends with ".gz".

    Args:
      path: the file to write.
      array: an array with 1 to 255 axes and dtype uint8, int8, int16, int32, float32 or float64.

    Raises:
      TypeError: if the dtype of `array` has no IDX type code.
      ValueError: if `array` has no axes, more than 255, or an axis longer than 2**32 - 1.
    """
    array = np.asarray(array)
    codes = {_native(dtype): code for code, dtype in _CODE_TO_DTYPE.items()}
    native = _native(array.dtype)
    if native not in codes:
        raise TypeError(
            f"array dtype {array.dtype} has no IDX type code; use uint8, int8, int16, int32, "
            "float32 or float64"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have between 1 and 255 axes, got {array.ndim}")
    if any(size >= 2**32 for size in array.shape):
        raise ValueError(f"array axes must be shorter than 2**32, got shape {array.shape}")
    code = codes[native]
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    body = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()
    if os.fspath(path).endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(header + body)
    else:
        with open(path, "wb") as handle:
            handle.write(header + body)
