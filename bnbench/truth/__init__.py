"""Ground truth: what each architecture of a search space scores on a benchmark, from any supported source.

Sources (recognised by content, see :func:`detect_kind`): the official NB201 ``.pth``, a NATS-Bench
topology directory, the official NB101 tfrecords (converted once and cached), the NB101 API's pickle,
bnbench's compact tables, NB201 / NATS-Bench / NB101 accuracy CSVs. Every table records its search space.
Split meanings per dataset are documented in :mod:`bnbench.truth.api_reader`.
"""

from bnbench.truth.detect import KINDS, detect_kind
from bnbench.truth.ground import GroundTruth
from bnbench.truth.load import convert, load_truth, read_source
from bnbench.truth.spec import TruthSpec, column_name
from bnbench.truth.table import TruthTable, read_table, write_table

__all__ = ["KINDS", "GroundTruth", "TruthSpec", "TruthTable", "column_name", "convert", "detect_kind", "load_truth",
           "read_source", "read_table", "write_table"]
