"""Searching a space with the indicators: evolution (SPOS / BN-NAS) and its random-search baseline."""

from bnbench.search.evolution import EvolutionConfig, SearchResult, evolve, random_search

__all__ = ["EvolutionConfig", "SearchResult", "evolve", "random_search"]
