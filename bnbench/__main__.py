"""``python -m bnbench ...`` (and ``torchrun --nproc_per_node N -m bnbench train-supernet ...``): the CLI."""

import sys

from bnbench.cli import main

sys.exit(main())
