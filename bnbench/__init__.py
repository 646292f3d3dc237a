"""bnbench: how well does a cheap NAS indicator rank architectures compared with the truth?"""

__version__ = "0.1.0"
