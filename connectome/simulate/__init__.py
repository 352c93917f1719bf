"""Ground-truth simulator: synthetic CNEA recordings of a cultured network."""

from .params import SimParams
from .run import SimResult, simulate, truth_path_for

__all__ = ["SimParams", "SimResult", "simulate", "truth_path_for"]
