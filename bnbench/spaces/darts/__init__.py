"""The DARTS cell search space (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019), the space of
NAS-Bench-301 (Siems et al., 2020): genotypes, stand-alone networks, weight-sharing supernet, sampling, exact cost.

Representations, and how to walk them:

* **string**: the DARTS ``Genotype(normal=[('sep_conv_3x3', 0), ...8 pairs], normal_concat=[2, 3, 4, 5],
  reduce=[...8 pairs], reduce_concat=[2, 3, 4, 5])`` (``range(2, 6)`` accepted), read by a safe parser, never
  evaluated (:mod:`~bnbench.spaces.darts.arch`: ``parse``, ``make_genotype``, ``to_str``, ``canonical``).
* **encoding**: 32 int64 per genotype, ``(op index, input)`` for the normal cell's 8 pairs then the reduction
  cell's, in the genotype's own order (:mod:`~bnbench.spaces.darts.encoding`: ``encode``, ``decode``,
  ``check_rows``); ``parse(to_str(row)) == row`` exactly.
* **decisions / choices**: per cell type the 14 edges ``node i <- input j`` (j <= i + 1), each one of the 7 ops or
  -1 when unused (8 of 14 used per cell type): 28 decisions. The choice matrix determines the canonical form.
* **canonical form** and **truth key**: the string of the genotype with each node's two pairs ordered by input
  (a node sums its two ops, so the order is moot); DARTS truth tables are keyed by it, and repeated genotypes of a
  table (canonically equal) are repeated runs, averaged (:mod:`bnbench.truth.darts_csv`).
* **population**: about 1.1e18 genotypes (``(180 * 7^8)^2``), too many to enumerate (``all_archs`` raises);
  ``sample(n, seed)`` draws distinct genotypes uniformly, ``random_paths`` with replacement
  (:mod:`~bnbench.spaces.darts.sampling`).

Networks: :mod:`~bnbench.spaces.darts.model` (``NetworkCIFAR`` as the DARTS code builds it; DARTS-V2 at C=36, 20
layers has 3,349,342 parameters without the auxiliary head, DARTS's reported 3.3 M), :mod:`~bnbench.spaces.darts.
supernet` (the one-shot supernet over both cell types and its op slots), :mod:`~bnbench.spaces.darts.cost`
(vectorised exact params / MACs / FLOPs). The interface adapter is ``SPACE`` (:mod:`~bnbench.spaces.darts.space`).

**Zero-cost proxies.** NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks;
``naslib/data/zc_nasbench301.json``, written at automl/NASLib commit 22280f71 "Add ZC Benchmarks") scored NB301
cells on NASLib's ``NasBench301SearchSpace`` graph (``naslib/search_spaces/nasbench301/graph.py``) as it stood at
that commit: C = 32 (stage widths 32 / 64 / 128; NASLib's later HEAD uses 16 / 32 / 64), 8 cells (normal, normal,
reduction, normal, normal, reduction, normal, normal: DARTS's ``layers // 3``, ``2 layers // 3`` rule at 8), stem
Conv3x3 to 96 channels + BN, the DARTS preprocessing (affine), cell ops of DARTS's *search* network (non-affine
BNs, each pooling followed by a non-affine BN, a reduction cell's strided skip a non-affine FactorizedReduce),
concatenation of the 4 nodes, global average pool and a linear layer on 512 channels; no auxiliary head (its op is
set only by ``prepare_evaluation``, which the zc runner does not call), no drop-path, PyTorch's default
initialisation; one batch of 32 CIFAR-10 training images (``batch_size`` 32 of
``scripts/zc/create_configs_benchmarks.py``; ``DARTSSpace.zc_batch_size``). bnbench's ``zc`` network variant is
that network (C and layers default to 32 and 8 in it): its parameter count equals the published ``params`` of all
500 cells of that file exactly (three of them in ``tests/test_darts_model.py``). Their ``flops`` are 3-10 % (4.9-11.7 M) above the
MACs counted here (their counter also counts other operations; Spearman 0.998 between the two). The truth's own network (NAS-Bench-301
trained DARTS networks for 100 epochs) is the ``official`` variant.
"""

from __future__ import annotations

from bnbench.spaces.darts.space import SPACE, DARTSOptions, DARTSSpace

__all__ = ["DARTSOptions", "DARTSSpace", "SPACE"]
