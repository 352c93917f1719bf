"""Channels → neurons.

Several electrodes can sit on one neuron (≈ 1.8 per neuron on the microhole
array, docs/background.md §1.2); they carry the same AP train at near-zero lag and
must be merged, or they would look like zero-latency "electrical synapses".

Rule (docs/background.md §7): channels within ``radius`` electrode pitches whose
spikes coincide within ± ``window`` on at least ``fraction`` of the shorter
train are one neuron (union–find over such pairs). The shorter train is the
denominator so that a channel that loses coupling part-way (its train stops)
still merges with its partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
from scipy.ndimage import median_filter


@dataclass
class Neurons:
    """Neurons found in a recording.

    ``channels[k]`` lists neuron k's channels, best first; ``spike_ptr`` /
    ``spike_sample`` are CSR spike trains (sample indices, sorted).
    """

    channels: list
    best_channel: np.ndarray
    spike_ptr: np.ndarray
    spike_sample: np.ndarray
    x_um: np.ndarray
    y_um: np.ndarray
    ap_amp_mv: np.ndarray  # median AP amplitude on the best channel

    @property
    def n(self) -> int:
        return len(self.channels)

    def spikes(self, k: int) -> np.ndarray:
        return self.spike_sample[self.spike_ptr[k] : self.spike_ptr[k + 1]]

    def counts(self) -> np.ndarray:
        return np.diff(self.spike_ptr)


def clean_spikes(channel, sample, amp, min_fraction: float, n_channels: int):
    """Drop candidates smaller than ``min_fraction`` × the channel's running median amplitude.

    APs are stereotyped; summed PSPs and noise peaks that crossed the
    threshold are much smaller. The running median (21 spikes) follows slow
    coupling decay.
    """
    keep = np.ones(channel.size, bool)
    ptr = np.searchsorted(channel, np.arange(n_channels + 1))
    for c in np.flatnonzero(np.diff(ptr) > 0):
        a, b = ptr[c], ptr[c + 1]
        ref = median_filter(amp[a:b], size=min(21, b - a) | 1, mode="nearest")
        keep[a:b] = amp[a:b] >= min_fraction * ref
    return channel[keep], sample[keep], amp[keep]


def coincidence(a: np.ndarray, b: np.ndarray, tol: int) -> int:
    """Number of spikes of ``a`` with a spike of ``b`` within ± ``tol`` samples."""
    if a.size == 0 or b.size == 0:
        return 0
    i = np.searchsorted(b, a)
    left = np.abs(a - b[np.clip(i - 1, 0, b.size - 1)]) <= tol
    right = np.abs(b[np.clip(i, 0, b.size - 1)] - a) <= tol
    return int(np.count_nonzero(left | right))


def drop_copies(t: np.ndarray, tol: int) -> np.ndarray:
    """Sorted spike samples of one neuron seen on several channels: one spike per AP.

    A spike within ``tol`` samples of the last kept one is a copy.

    >>> drop_copies(np.array([10, 11, 30, 32, 33, 60]), 2).tolist()
    [10, 30, 33, 60]
    """
    if t.size < 2:
        return t
    keep = np.ones(t.size, bool)
    last = t[0]
    for i in range(1, t.size):
        if t[i] - last <= tol:
            keep[i] = False
        else:
            last = t[i]
    return t[keep]


def merge_channels(
    channel,
    sample,
    amp,
    noise_mv,
    rows,
    cols,
    x_um,
    y_um,
    *,
    fs: float,
    min_spikes: int = 10,
    min_snr: float = 8.0,
    radius: float = 3.0,
    window_ms: float = 0.2,
    fraction: float = 0.7,
) -> Neurons:
    """Group channels into neurons (see module docstring).

    Parameters
    ----------
    channel, sample, amp : ndarray
        Spikes sorted by (channel, sample), with amplitudes (mV).
    noise_mv : ndarray
        Per-channel noise SD; a coupled channel's median AP amplitude is at
        least ``min_snr`` × noise (docs/background.md §7: ≥ 8×).
    rows, cols, x_um, y_um : ndarray
        Channel geometry: grid indices at the recording's electrode pitch
        (:attr:`connectome.io.Recording.pitch_um`, inferred from the positions
        when the file has them) and positions in µm. ``radius`` is in grid
        steps, so it is ``radius × pitch_um`` µm whatever the array's pitch.
        Every channel must have its own grid site (``open_recording``
        refuses files where two share one).
    """
    n_ch = len(rows)
    ptr = np.searchsorted(channel, np.arange(n_ch + 1))
    count = np.diff(ptr)
    med_amp = np.zeros(n_ch)
    for c in np.flatnonzero(count):
        med_amp[c] = np.median(amp[ptr[c] : ptr[c + 1]])
    snr = med_amp / np.maximum(noise_mv, 1e-9)
    coupled = np.flatnonzero((count >= min_spikes) & (snr >= min_snr))
    tol = max(1, int(round(window_ms * 1e-3 * fs)))
    members = _channel_groups(coupled, sample, ptr, rows, cols, snr, tol, radius, fraction)
    trains, best, xs, ys, amps = [], [], [], [], []
    for m in members:
        t = np.sort(np.concatenate([sample[ptr[c] : ptr[c + 1]] for c in m]))
        if len(m) > 1:
            t = drop_copies(t, tol)
        trains.append(t)
        best.append(m[0])
        w = med_amp[m]
        xs.append(float(np.average(x_um[m], weights=w)))
        ys.append(float(np.average(y_um[m], weights=w)))
        amps.append(med_amp[m[0]])
    sptr = np.concatenate([[0], np.cumsum([t.size for t in trains])]).astype(np.int64)
    return Neurons(
        channels=members,
        best_channel=np.array(best, dtype=np.int64),
        spike_ptr=sptr,
        spike_sample=np.concatenate(trains).astype(np.int64) if trains else np.zeros(0, np.int64),
        x_um=np.array(xs),
        y_um=np.array(ys),
        ap_amp_mv=np.array(amps),
    )


def _channel_groups(coupled, sample, ptr, rows, cols, snr, tol: int, radius: float, fraction: float) -> list:
    """Coupled channels merged by the coincidence rule (union–find): one int64 array per neuron.

    Each group lists its channels best SNR first; groups are ordered by their
    best channel.
    """
    parent = {int(c): int(c) for c in coupled}

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    pos = {(int(rows[c]), int(cols[c])): int(c) for c in coupled}
    if len(pos) < coupled.size:  # two channels at one site: neighbours would be lost silently
        raise ValueError("channels share a grid site; geometry must be validated (open_recording) first")
    rad = int(np.floor(radius))
    for c in coupled:
        tc = sample[ptr[c] : ptr[c + 1]]
        for dr in range(-rad, rad + 1):
            for dc in range(-rad, rad + 1):
                if (dr, dc) <= (0, 0) or dr * dr + dc * dc > radius * radius:
                    continue
                d = pos.get((int(rows[c]) + dr, int(cols[c]) + dc))
                if d is None:
                    continue
                td = sample[ptr[d] : ptr[d + 1]]
                k = coincidence(tc, td, tol) if tc.size <= td.size else coincidence(td, tc, tol)
                if k >= fraction * min(tc.size, td.size):
                    ra, rb = find(int(c)), find(d)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for c in coupled:
        groups.setdefault(find(int(c)), []).append(int(c))
    members = []
    for g in groups.values():
        g = sorted(g, key=lambda c: (-snr[c], c))
        members.append(np.array(g, dtype=np.int64))
    members.sort(key=lambda m: int(m[0]))
    return members


class SpikeCandidates(Protocol):
    """What :func:`find_neurons` reads from a first pass over a recording (e.g. ``Pass1`` of the inference)."""

    spike_channel: np.ndarray  # candidates sorted by (channel, sample)
    spike_sample: np.ndarray
    spike_amp_mv: np.ndarray
    noise_mv: np.ndarray  # (chunks, channels): robust SD of the high-passed trace per chunk


class NeuronParams(Protocol):
    """The parameters :func:`find_neurons` reads (``connectome.infer.InferParams`` has them all)."""

    @property
    def min_ap_fraction(self) -> float: ...
    @property
    def min_spikes(self) -> int: ...
    @property
    def merge_radius_pitches(self) -> float: ...
    @property
    def merge_window_ms(self) -> float: ...
    @property
    def merge_fraction(self) -> float: ...


class FoundNeurons(NamedTuple):
    """What :func:`find_neurons` returns: the cleaned spikes, the per-channel noise and the neurons."""

    channel: np.ndarray
    sample: np.ndarray
    amplitude_mv: np.ndarray
    noise_mv: np.ndarray  # (channels,): median over chunks
    neurons: Neurons


def find_neurons(candidates: SpikeCandidates, recording, params: NeuronParams) -> FoundNeurons:
    """Spike candidates of a first pass → neurons: the one rule used by infer, imprint and the API.

    Drops small candidates (:func:`clean_spikes`, ``min_ap_fraction``), takes
    each channel's noise as the median of its per-chunk robust SDs, and merges
    channels into neurons (:func:`merge_channels`, ``min_spikes``,
    ``merge_radius_pitches``, ``merge_window_ms``, ``merge_fraction``) on the
    recording's grid geometry.

    Parameters
    ----------
    candidates : SpikeCandidates
        ``spike_channel``, ``spike_sample``, ``spike_amp_mv`` sorted by
        (channel, sample), and ``noise_mv`` (chunks × channels).
    recording : Recording
        Only its geometry and sampling rate are read (``n_channels``,
        ``rows``, ``cols``, ``x_um``, ``y_um``, ``sampling_rate_hz``).
    params : NeuronParams
        e.g. :class:`connectome.infer.InferParams`.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> t = np.arange(20) * 1000
    >>> cand = NS(spike_channel=np.repeat([0, 1], 20), spike_sample=np.concatenate([t, t + 1]),
    ...           spike_amp_mv=np.full(40, 5.0, np.float32), noise_mv=np.full((3, 2), 0.1))
    >>> rec = NS(n_channels=2, rows=np.array([0, 0]), cols=np.array([0, 1]), x_um=np.array([0.0, 10.0]),
    ...          y_um=np.zeros(2), sampling_rate_hz=10_000.0)
    >>> par = NS(min_ap_fraction=0.5, min_spikes=10, merge_radius_pitches=3.0, merge_window_ms=0.2,
    ...          merge_fraction=0.7)
    >>> found = find_neurons(cand, rec, par)
    >>> found.neurons.n, found.neurons.channels[0].tolist(), int(found.neurons.counts()[0])
    (1, [0, 1], 20)
    """
    ch, smp, amp = clean_spikes(
        candidates.spike_channel,
        candidates.spike_sample,
        candidates.spike_amp_mv,
        params.min_ap_fraction,
        recording.n_channels,
    )
    noise = np.median(candidates.noise_mv, axis=0)
    neurons = merge_channels(
        ch,
        smp,
        amp,
        noise,
        recording.rows,
        recording.cols,
        recording.x_um,
        recording.y_um,
        fs=recording.sampling_rate_hz,
        min_spikes=params.min_spikes,
        radius=params.merge_radius_pitches,
        window_ms=params.merge_window_ms,
        fraction=params.merge_fraction,
    )
    return FoundNeurons(ch, smp, amp, noise, neurons)
