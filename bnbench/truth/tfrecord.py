"""TFRecord framing, read and written without TensorFlow, every checksum verified.

A TFRecord file is a sequence of records, each (TensorFlow's ``tf_record`` format, little-endian)::

    uint64 length
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

with ``masked_crc(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2**32)`` and CRC-32C the Castagnoli CRC
(polynomial 0x1EDC6F41, reflected 0x82F63B78; ``crc32c(b"123456789") == 0xE3069283``, RFC 3720).

CRC-32C is computed by the ``google-crc32c`` package (Google's C library; ``pip install bnbench[nb101]``) when
it is installed, else by the table-driven pure-Python fallback below (the same values, about 200x slower:
~100 µs per 400-byte record, i.e. minutes for NAS-Bench-101's 500 MB file instead of about a second). The
``tfrecord`` package is not used: its reader skips the checksums, and the framing is twenty lines.

Records are streamed: :func:`iter_records` holds one record in memory at a time.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from bnbench.truth.fail import fail, short

MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
MAX_RECORD = 1 << 30  # a length field above 1 GiB is damage, not a record


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _table()


def crc32c_python(data: bytes) -> int:
    """CRC-32C of ``data`` in pure Python (the fallback; ~0.25 µs per byte)."""
    crc, table = 0xFFFFFFFF, _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _fast_crc32c() -> Callable[[bytes], int] | None:
    try:
        import google_crc32c
    except ImportError:
        return None
    if getattr(google_crc32c, "implementation", "c") != "c":
        return None  # its own pure-Python fallback is no faster than ours
    return google_crc32c.value


crc32c: Callable[[bytes], int] = _fast_crc32c() or crc32c_python


def crc_implementation() -> str:
    """Which CRC-32C is in use: ``google-crc32c`` or ``pure Python``."""
    return "pure Python" if crc32c is crc32c_python else "google-crc32c"


def masked_crc(data: bytes, crc: Callable[[bytes], int] | None = None) -> int:
    """TensorFlow's masked CRC-32C of ``data``."""
    value = (crc or crc32c)(data)
    return (((value >> 15) | (value << 17)) + MASK_DELTA) & 0xFFFFFFFF


def is_tfrecord(head: bytes) -> bool:
    """True when the first 12 bytes are a record header whose length checksum holds."""
    if len(head) < _HEADER.size:
        return False
    _, stored = _HEADER.unpack_from(head)
    return masked_crc(head[:8], crc32c_python) == stored


def iter_records(path: str | os.PathLike, expected: str = "expected a TFRecord file") -> Iterator[bytes]:
    """Each record's payload in file order, checksums verified.

    Raises BenchmarkError naming ``path`` (and the record number and byte offset) for a truncated file, a
    checksum mismatch or an absurd length; ``expected`` ends the message.
    """
    path = Path(path)
    try:
        fh = open(path, "rb", buffering=1 << 20)
    except OSError as err:
        raise fail(path, f"cannot open ({short(err)}); {expected}") from None
    with fh:
        yield from _records(path, fh, expected)


def _records(path: Path, fh: BinaryIO, expected: str) -> Iterator[bytes]:
    number, offset = 0, 0
    header_size, crc_size = _HEADER.size, _CRC.size
    read, unpack_header, unpack_crc, check = fh.read, _HEADER.unpack, _CRC.unpack, masked_crc
    while True:
        head = read(header_size)
        if not head:
            return
        where = f"record {number} (byte {offset})"
        if len(head) < header_size:
            raise fail(path, f"truncated file: {where} has a {len(head)}-byte header of 12; {expected}")
        length, length_crc = unpack_header(head)
        if check(head[:8]) != length_crc:
            raise fail(path, f"corrupt file: {where}: the length checksum does not match; {expected}")
        if length > MAX_RECORD:
            raise fail(path, f"corrupt file: {where} claims {length} bytes; {expected}")
        data = read(length)
        tail = read(crc_size)
        if len(data) < length or len(tail) < crc_size:
            raise fail(path, f"truncated file: {where} ends after {len(data)} of its {length} bytes; {expected}")
        if check(data) != unpack_crc(tail)[0]:
            raise fail(path, f"corrupt file: {where}: the data checksum does not match; {expected}")
        yield data
        number += 1
        offset += header_size + length + crc_size


def encode_record(data: bytes) -> bytes:
    """One framed record (for writing test files in the official format)."""
    length = struct.pack("<Q", len(data))
    return length + _CRC.pack(masked_crc(length)) + data + _CRC.pack(masked_crc(data))


def write_records(path: str | os.PathLike, records: Iterable[bytes]) -> Path:
    """Write ``records`` as a TFRecord file (no compression), as ``tf.io.TFRecordWriter`` does."""
    path = Path(path)
    with open(path, "wb") as fh:
        for data in records:
            fh.write(encode_record(data))
    return path
