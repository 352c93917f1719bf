"""Spike-train mode: the connectome of sorted spike trains (extracellular arrays, spike sorters).

See docs/spiketrains.md. Public names: :class:`SpikeTrains`, :class:`SpikeParams`,
:func:`read_spike_trains`, :func:`infer_spike_trains`, :func:`infer_spike_trains_to`,
:func:`is_spike_input`.
"""

from .params import SpikeParams
from .readers import is_spike_input, read_spike_trains
from .run import SpikeInferResult, infer_spike_trains, infer_spike_trains_to, write_outputs
from .trains import SpikeTrains

__all__ = [
    "SpikeParams",
    "SpikeTrains",
    "SpikeInferResult",
    "read_spike_trains",
    "is_spike_input",
    "infer_spike_trains",
    "infer_spike_trains_to",
    "write_outputs",
]
