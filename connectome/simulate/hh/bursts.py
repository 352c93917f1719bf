"""Network bursts detected from the population spike train (truth annotation)."""

from __future__ import annotations

import numpy as np

#: Population-rate bin and smoothing (s), and the rules that make a burst.
BIN_S, SMOOTH_BINS = 0.005, 5
#: A burst: smoothed population rate above max(RATE_FACTOR × mean, MIN_RATE_HZ per neuron),
#: gaps shorter than MERGE_S merged, lasting ≥ MIN_DURATION_S with ≥ MIN_PARTICIPATION of the neurons firing.
RATE_FACTOR, MIN_RATE_HZ, MERGE_S, MIN_DURATION_S, MIN_PARTICIPATION = 4.0, 5.0, 0.1, 0.03, 0.2


def detect_bursts(spike_neuron: np.ndarray, spike_t_s: np.ndarray, n_neurons: int, duration_s: float):
    """Network bursts (start_s, stop_s) of a population.

    A burst is a period in which the population rate (5-ms bins, 25-ms
    boxcar) exceeds both 4× its mean and 5 Hz per neuron, after merging
    periods less than 100 ms apart, lasting at least 30 ms, in which at
    least 20 % of the neurons fire (after the network-burst criteria of
    Wagenaar, Pine & Potter 2006, BMC Neurosci. 7:11, on a rate threshold).
    """
    nb = max(1, int(np.ceil(duration_s / BIN_S)))
    counts = np.bincount(np.minimum((spike_t_s / BIN_S).astype(np.int64), nb - 1), minlength=nb).astype(float)
    rate = np.convolve(counts, np.ones(SMOOTH_BINS) / SMOOTH_BINS, mode="same") / BIN_S / max(n_neurons, 1)
    mean = len(spike_t_s) / max(duration_s, 1e-9) / max(n_neurons, 1)
    above = rate > max(RATE_FACTOR * mean, MIN_RATE_HZ)
    if not above.any():
        return np.zeros(0), np.zeros(0)
    d = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    s0, s1 = np.flatnonzero(d == 1) * BIN_S, np.flatnonzero(d == -1) * BIN_S
    starts, stops = [s0[0]], [s1[0]]
    for a, b in zip(s0[1:], s1[1:]):
        if a - stops[-1] < MERGE_S:
            stops[-1] = b
        else:
            starts.append(a)
            stops.append(b)
    starts, stops = np.asarray(starts), np.asarray(stops)
    keep = []
    order = np.argsort(spike_t_s, kind="stable")
    ts, ns = spike_t_s[order], spike_neuron[order]
    for a, b in zip(starts, stops):
        i0, i1 = np.searchsorted(ts, [a, b])
        keep.append(b - a >= MIN_DURATION_S and len(np.unique(ns[i0:i1])) >= MIN_PARTICIPATION * n_neurons)
    keep = np.asarray(keep, bool)
    return starts[keep], np.minimum(stops[keep], duration_s)


def in_burst_fraction(spike_neuron, spike_t_s, n_neurons: int, start_s, stop_s) -> np.ndarray:
    """Per neuron: fraction of its spikes inside a burst (NaN without spikes)."""
    inside = np.zeros(len(spike_t_s), bool)
    if len(start_s):
        j = np.searchsorted(start_s, spike_t_s, side="right") - 1
        ok = j >= 0
        inside[ok] = spike_t_s[ok] < stop_s[j[ok]]
    tot = np.bincount(spike_neuron, minlength=n_neurons).astype(float)
    ins = np.bincount(spike_neuron, weights=inside.astype(float), minlength=n_neurons)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, ins / tot, np.nan)
