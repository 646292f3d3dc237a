"""Recognise a ground-truth source by its content (magic bytes, directory layout, CSV header), never its name."""

from __future__ import annotations

import csv
import os
import re
import zipfile
from pathlib import Path

from bnbench.truth.columns import EXPECTED_COLUMNS, arch_column, index_column, metric_columns
from bnbench.truth.fail import fail, short
from bnbench.truth.nb101_csv import EXPECTED_COLUMNS as NB101_COLUMNS
from bnbench.truth.nb101_csv import is_nb101_header
from bnbench.truth.darts_csv import EXPECTED_COLUMNS as DARTS_COLUMNS
from bnbench.truth.darts_csv import is_darts_header
from bnbench.truth.table import MAGIC
from bnbench.truth.tfrecord import is_tfrecord

KINDS = ("nb201-pth", "nats-dir", "table", "nb201-csv", "nats-csv", "nb101-tfrecord", "nb101-pkl", "nb101-csv",
         "darts-csv")
NATS_META = "meta.pickle.pbz2"
NATS_CSV_ARCH = "ArchitectureString"
NATS_CSV_VALUE = re.compile(r"^(CIFAR10|CIFAR100|ImageNet)(Train|Valid|Test)Accuracy(\d+)Epochs$")
EXPECTED_ANY = ("expected an NB201 .pth, a NATS-Bench topology directory, a bnbench truth table, "
                "a NATS-Bench accuracy CSV, an NB101 .tfrecord or API pickle, or an accuracy CSV with "
                + EXPECTED_COLUMNS)
_LINE_LIMIT = 1 << 20
_PREFIX = 4096  # bytes read to tell binary kinds apart
# torch.save's legacy (pre-zip) format starts with its magic number pickled at protocol 2
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"
_HASH = re.compile(r"^[0-9a-f]{32}$")


def detect_kind(path: str | os.PathLike) -> str:
    """One of :data:`KINDS`; BenchmarkError (naming ``path``) for anything else."""
    path = Path(path)
    if not path.exists():
        raise fail(path, f"no such file or directory; {EXPECTED_ANY}")
    if path.is_dir():
        if (path / NATS_META).is_file():
            return "nats-dir"
        raise fail(path, f"directory without {NATS_META}; expected a NATS-Bench topology archive directory "
                         "(NATS-tss-v1_0-3ffb9-simple/) or a file")
    try:
        with open(path, "rb") as fh:
            head = fh.readline(_LINE_LIMIT)
            fh.seek(0)
            prefix = fh.read(_PREFIX)
    except OSError as err:
        raise fail(path, f"cannot open ({short(err)}); {EXPECTED_ANY}") from None
    if not head:
        raise fail(path, f"empty file; {EXPECTED_ANY}")
    return _binary_kind(path, head, prefix) or _text_kind(path, head)


def _binary_kind(path: Path, head: bytes, prefix: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        if prefix.startswith(TORCH_LEGACY_MAGIC):
            return "nb201-pth"  # a legacy (pre-zip) torch file is a pickle stream
        return "nb101-pkl" if _nb101_pickle(prefix) else "nb201-pth"
    if is_tfrecord(prefix[:12]):
        if not prefix[12:14] == b'["':
            raise fail(path, f"a TFRecord file whose records are not NAS-Bench-101's (first bytes "
                             f"{prefix[12:40]!r}); expected the official nasbench_only108.tfrecord or "
                             "nasbench_full.tfrecord")
        return "nb101-tfrecord"
    if head.startswith(b"BZh"):
        raise fail(path, "a bzip2 file (a NATS-Bench single-file pickle?); expected the NATS-Bench topology archive "
                         f"directory holding {NATS_META} (NATS-tss-v1_0-3ffb9-simple/)")
    return None


def _nb101_pickle(prefix: bytes) -> bool:
    """True when a pickle stream opens a dict whose first key is a 32-digit module hash (the NB101 API's dict)."""
    import pickletools

    try:
        for number, (op, arg, _) in enumerate(pickletools.genops(prefix)):
            if isinstance(arg, str):
                return bool(_HASH.match(arg))
            if number > 8 or op.name not in ("PROTO", "FRAME", "EMPTY_DICT", "MEMOIZE", "MARK", "BINPUT", "PUT"):
                return False
    except Exception:  # the prefix ends mid-stream or is no pickle: not recognised here
        return False
    return False


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as err:
        raise fail(path, f"truncated or corrupt zip/torch file ({short(err)}); expected an NB201 .pth") from None
    if not any(n.endswith("data.pkl") for n in names):
        raise fail(path, "a zip archive that is not a torch-saved file; expected an NB201 .pth")
    return "nb201-pth"


def _text_kind(path: Path, head: bytes) -> str:
    try:
        line = head.decode("utf-8-sig").strip("\r\n")
    except UnicodeDecodeError:
        raise fail(path, f"unrecognised binary content; {EXPECTED_ANY}") from None
    if line.startswith(MAGIC):
        return "table"
    fields = [f.strip() for f in next(csv.reader([line]), [])]
    if is_nb101_header(fields):
        if not metric_columns(fields):
            raise fail(path, f"NB101 CSV without a metric column (columns: {', '.join(fields)[:120]}); expected "
                             f"{NB101_COLUMNS}")
        return "nb101-csv"
    if is_darts_header(fields):
        if not metric_columns(fields):
            raise fail(path, f"DARTS genotype CSV without a metric column (columns: {', '.join(fields)[:120]}); "
                             f"expected {DARTS_COLUMNS}")
        return "darts-csv"
    if NATS_CSV_ARCH in fields:
        if not any(NATS_CSV_VALUE.match(f) for f in fields):
            raise fail(path, "NATS-Bench CSV without an accuracy column; expected columns like "
                             "CIFAR10TestAccuracy200Epochs next to ArchitectureString")
        return "nats-csv"
    if arch_column(fields) is not None:
        if not metric_columns(fields):
            raise fail(path, f"CSV has an architecture column but no metric column (columns: "
                             f"{', '.join(fields)[:120]}); expected {EXPECTED_COLUMNS}")
        return "nb201-csv"
    if index_column(fields) is not None or metric_columns(fields):
        raise fail(path, f"CSV has no architecture column (columns: {', '.join(fields)[:120]}); "
                         f"expected {EXPECTED_COLUMNS}")
    raise fail(path, f"unrecognised content (first line {line[:60]!r}); {EXPECTED_ANY}")
