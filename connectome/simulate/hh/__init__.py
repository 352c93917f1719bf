"""Second, independent ground-truth generator: a conductance-based (Hodgkin–Huxley)
spiking network with short-term depression, shared drive and gap junctions,
seen through the project's electrode model (docs/simulator.md)."""

from .params import HHParams
from .run import simulate_hh

__all__ = ["HHParams", "simulate_hh"]
