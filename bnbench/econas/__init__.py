"""EcoNAS (Zhou et al., CVPR 2020): reduced-training proxies, their hierarchical combination and the study of
which reductions keep the ranking (``bnbench study econas``). See :mod:`bnbench.econas.setting` for the names."""

from bnbench.econas.setting import ReducedSetting, Schedule

__all__ = ["ReducedSetting", "Schedule"]
