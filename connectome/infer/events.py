"""Network events: the times the whole culture fires together, from the detected spikes alone.

Cultured networks fire in synchronous bursts (network events) separated by
sparse activity (Wagenaar, Pine & Potter 2006, BMC Neurosci. 7:11). Inside
an event every neuron's spikes are time-locked to every other's, so a
spike-triggered average there mixes a synapse's response with the shared
drive; outside events it sees the synapse almost alone. :func:`find_events`
marks the events; ``weight_quiet_mv`` (:mod:`connectome.infer.weights`) is
each synapse's response to presynaptic spikes outside them.

The population count of all detected neurons in ``EVENT_BIN_MS`` bins,
smoothed over ``EVENT_SMOOTH_MS``, is an event where it exceeds its median by
``network_event_z`` spreads — the larger of the robust SD (1.4826 × MAD) and
the Poisson SD of a smoothed count at the mean rate, so sparse or quiet
recordings do not turn every spike into an event — widened by
``network_event_pad_ms`` on both sides (the burst's build-up and tail).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..graph.kinds import EdgeKind
from ..spikes.neurons import Neurons
from .params import InferParams

#: Population-count bin and smoothing window (ms): the time scale of a network burst's rise.
EVENT_BIN_MS, EVENT_SMOOTH_MS = 5.0, 50.0


@dataclass(frozen=True)
class Events:
    """Network events as a boolean mask over ``bin_ms`` bins from the recording's start."""

    mask: np.ndarray
    bin_ms: float

    @property
    def count(self) -> int:
        """Number of separate events."""
        m = self.mask.astype(np.int8)
        return int(np.sum(np.diff(np.concatenate([[0], m])) == 1))

    @property
    def time_fraction(self) -> float:
        """Fraction of the recording inside events."""
        return float(self.mask.mean()) if self.mask.size else 0.0

    def outside_masks(self, neurons: Neurons, fs: float) -> list:
        """Per neuron: True for each of its spikes that falls outside every event."""
        return [self.outside(neurons.spikes(k), fs) for k in range(neurons.n)]

    def outside(self, samples: np.ndarray, fs: float) -> np.ndarray:
        """Boolean per spike (sample index): True where it falls outside every event."""
        b = np.minimum((np.asarray(samples) * (1000.0 / fs) // self.bin_ms).astype(np.int64), self.mask.size - 1)
        return ~self.mask[b] if self.mask.size else np.ones(len(samples), bool)


def find_events(neurons: Neurons, fs: float, n_samples: int, z: float, pad_ms: float) -> Events:
    """Network events of the detected neurons' spikes (module docstring).

    >>> from connectome.spikes.neurons import Neurons
    >>> fs = 1000.0; rng = np.random.default_rng(0)
    >>> sparse = [np.sort(rng.choice(60_000, 60, replace=False)) for _ in range(20)]
    >>> burst = [np.concatenate([s, [30_000 + k]]) for k, s in enumerate(sparse)]  # all fire at 30 s
    >>> trains = [np.sort(t) for t in burst]
    >>> nrn = Neurons(channels=[np.array([k]) for k in range(20)], best_channel=np.arange(20),
    ...               spike_ptr=np.cumsum([0] + [len(t) for t in trains]), spike_sample=np.concatenate(trains),
    ...               x_um=np.zeros(20), y_um=np.zeros(20), ap_amp_mv=np.ones(20))
    >>> ev = find_events(nrn, fs, 60_000, z=5.0, pad_ms=100.0)
    >>> ev.count, bool(ev.outside(np.array([30_010]), fs)[0]), bool(ev.outside(np.array([10_000]), fs)[0])
    (1, False, True)
    """
    n_bins = max(1, int(np.ceil(n_samples * 1000.0 / fs / EVENT_BIN_MS)))
    if neurons.n == 0 or neurons.spike_sample.size == 0:
        return Events(np.zeros(n_bins, bool), EVENT_BIN_MS)
    b = np.minimum((neurons.spike_sample * (1000.0 / fs) // EVENT_BIN_MS).astype(np.int64), n_bins - 1)
    counts = np.bincount(b, minlength=n_bins).astype(np.float64)
    w = max(1, int(round(EVENT_SMOOTH_MS / EVENT_BIN_MS)))
    smooth = np.convolve(counts, np.ones(w) / w, mode="same")
    med = float(np.median(smooth))
    robust = 1.4826 * float(np.median(np.abs(smooth - med)))
    poisson = float(np.sqrt(counts.mean() / w))
    mask = smooth > med + z * max(robust, poisson, 1e-12)
    pad = int(round(pad_ms / EVENT_BIN_MS))
    if pad > 0 and mask.any():
        mask = np.convolve(mask.astype(np.float64), np.ones(2 * pad + 1), mode="same") > 0.5
    return Events(mask, EVENT_BIN_MS)


def event_locked(edges: dict, n_quiet: np.ndarray, p: InferParams) -> np.ndarray:
    """Chemical edges whose response does not persist outside network events (True = drop).

    A monosynaptic response follows every presynaptic spike, in a burst or
    not; a response locked to the burst (the presynaptic neuron fires as the
    whole network depolarises, or a disynaptic chain inside the burst)
    vanishes outside it. An edge is dropped when both hold:

    - its response outside events is below ``quiet_min_fraction`` of its
      full response (``weight_quiet_mv / weight_mv``), and
    - that quiet response is not itself significant: its z, the quiet
      amplitude over its standard error, is below ``quiet_min_z``. The
      standard error is the full response's (|``weight_mv``| / z of the
      edge's ``p_value``) × √(``n_spikes_used`` / spikes outside events).

    Edges without a quiet response (electrical, or fewer than
    ``weight_rested_min_spikes`` presynaptic spikes outside events) are kept.

    >>> e = {"kind": np.array([1, 1, 2, 3]), "weight_mv": np.array([1.0, 1.0, -1.0, 0.5]),
    ...      "weight_quiet_mv": np.array([0.05, 0.9, -0.1, np.nan]), "p_value": np.full(4, 1e-6),
    ...      "n_spikes_used": np.full(4, 400), "pre": np.array([0, 1, 2, 3])}
    >>> event_locked(e, np.array([20, 20, 20, 20]), InferParams()).tolist()  # defaults 0.3 and 2
    [True, False, True, False]
    """
    from scipy.stats import norm

    n = len(edges["kind"])
    out = np.zeros(n, bool)
    if n == 0 or p.quiet_min_fraction <= 0:
        return out
    a = np.asarray(edges["weight_mv"], np.float64)
    wq = np.asarray(edges["weight_quiet_mv"], np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.sign(a) * wq / np.abs(a)
        z_all = norm.isf(np.clip(np.asarray(edges["p_value"], np.float64), 1e-300, 1.0) / 2.0)
        nq = np.asarray(n_quiet, np.float64)[np.asarray(edges["pre"], np.int64)]
        se_q = np.abs(a) / np.maximum(z_all, 1e-9) * np.sqrt(np.asarray(edges["n_spikes_used"], np.float64)
                                                             / np.maximum(nq, 1.0))
        z_q = np.sign(a) * wq / se_q
    judged = (np.asarray(edges["kind"]) != EdgeKind.ELECTRICAL) & np.isfinite(frac) & np.isfinite(z_q)
    out[judged] = (frac[judged] < p.quiet_min_fraction) & (z_q[judged] < p.quiet_min_z)
    return out
