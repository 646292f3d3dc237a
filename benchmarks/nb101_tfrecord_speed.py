"""Read speed of the NB101 tfrecord reader on a synthetic file in the official format (issue 11).

Usage: python benchmarks/nb101_tfrecord_speed.py [RECORDS]   (default 50,000 records = 16,667 cells x 3 runs)
Prints records/s with the CRC-32C in use (google-crc32c when installed: ``pip install bnbench[nb101]``) and
with the pure-Python fallback, the conversion to the compact cached table, and the cached read.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bnbench.truth import tfrecord  # noqa: E402
from bnbench.truth.load import read_source  # noqa: E402
from bnbench.truth.nb101_tfrecord import read_nb101_tfrecord  # noqa: E402
from tests.fixtures.nb101_tfrecord import synthetic_api_dict, synthetic_cells, write_nb101_tfrecord  # noqa: E402


def main(records: int = 50_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BNBENCH_CACHE"] = str(Path(tmp) / "cache")
        start = time.perf_counter()
        data = synthetic_api_dict(synthetic_cells(-(-records // 3), seed=1))
        path = write_nb101_tfrecord(Path(tmp) / "nasbench_synthetic.tfrecord", data)
        print(f"wrote {3 * len(data)} records ({path.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - start:.1f} s")
        fast = tfrecord.crc32c
        for name, crc in (("in use: " + tfrecord.crc_implementation(), fast),
                          ("pure-Python CRC", tfrecord.crc32c_python)):
            tfrecord.crc32c = crc
            start = time.perf_counter()
            table = read_nb101_tfrecord(path)
            seconds = time.perf_counter() - start
            print(f"read ({name}): {table.meta['records'] / seconds:,.0f} records/s "
                  f"({seconds:.2f} s, {len(table.archs)} cells)")
        tfrecord.crc32c = fast
        for label in ("first read_source (convert + cache)", "cached read_source"):
            start = time.perf_counter()
            read_source(path)
            print(f"{label}: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
