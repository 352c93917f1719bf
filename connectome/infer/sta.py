"""Pass 2: baseline-subtracted spike-triggered averages for every ordered pair.

Reads only the binned traces written in pass 1. For each chunk of bins:

1. each neuron's trace is taken from its best *currently coupled* channel
   and scaled to somatic mV: ``V = V_electrode × ap_amplitude_mv / AP
   amplitude on that channel`` (the electrode sees an attenuated copy of the
   membrane potential; the AP, of nominal amplitude, calibrates the gain);
2. samples near the neuron's own spikes (AP and after-hyperpolarisation),
   saturated/NaN samples and chunks where the channel lost coupling are
   masked — so a postsynaptic spike never enters a response window;
3. for every presynaptic spike, each postsynaptic trace minus its mean over
   the baseline lags (per spike, so slow drift and burst depolarisation
   levels cancel) is accumulated at every lag (:mod:`._kernels`).

Memory: two float32 accumulators of neurons² × lags, plus one chunk of
traces — independent of recording length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spikes.neurons import Neurons
from ._kernels import (
    F16_TO_F32,
    accumulate_pairs,
    assemble_traces,
    mask_intervals,
    own_spike_accumulate,
    spike_baselines,
    subtract_own,
)
from .params import InferParams
from .preprocess import Pass1

#: A neuron's trace moves to another of its channels only if that one is this much better.
SWITCH_MARGIN = 1.5


@dataclass
class PairSums:
    acc: np.ndarray  # (N, L, N) float32: Σ baseline-subtracted trace, row = pre, last = post
    cnt: np.ndarray  # (N, L, N) float32: usable samples
    lags_ms: np.ndarray  # (L,)
    n_pre_spikes: np.ndarray  # (N,)
    #: (N, T + 1) float32: each neuron's own after-potential, subtracted at its spikes (None: not used)
    own_template: np.ndarray | None = None


def channel_gain_and_validity(p1: Pass1, neurons: Neurons, p: InferParams):
    """Per chunk and neuron: the channel to read and its electrode→soma scale (NaN = unusable)."""
    n_chunks = p1.activity_mv.shape[0]
    centers = (np.arange(n_chunks) + 0.5) * p1.chunk_samples
    ptr = np.searchsorted(p1.spike_channel, np.arange(p1.activity_mv.shape[1] + 1))
    col = np.zeros((n_chunks, neurons.n), np.int64)
    scale = np.full((n_chunks, neurons.n), np.nan, np.float32)
    for k, chans in enumerate(neurons.channels):
        scores, gains, cands = [], [], []
        for c in chans:
            a, b = ptr[c], ptr[c + 1]
            if b <= a:
                continue
            t = p1.spike_sample[a:b]
            amp = p1.spike_amp_mv[a:b]
            from scipy.ndimage import median_filter

            amp_s = median_filter(amp, size=min(21, b - a) | 1, mode="nearest")
            gain = np.interp(centers, t, amp_s)
            act = p1.activity_mv[:, c]
            ref = np.percentile(act, 90)
            valid = (act >= p.coupling_min_fraction * ref) & (gain > 0)
            scores.append(np.where(valid, gain / np.maximum(p1.noise_mv[:, c], 1e-9), -np.inf))
            gains.append(gain)
            cands.append(c)
        if not cands:
            continue
        S = np.array(scores)
        # the best channel per chunk, with hysteresis: switching channels costs
        # a level change under every response window that spans the switch
        cur = int(np.argmax(S[:, 0]))
        for t in range(n_chunks):
            best = int(np.argmax(S[:, t]))
            if not np.isfinite(S[cur, t]) or S[best, t] > SWITCH_MARGIN * S[cur, t]:
                cur = best
            if np.isfinite(S[cur, t]):
                col[t, k] = cands[cur]
                scale[t, k] = p.ap_amplitude_mv / gains[cur][t]
    return col, scale


def own_spike_mask(neurons: Neurons, n_bins: int, bin_samples: int, before_bins: int, after_bins: int):
    """Bin intervals to mask around each neuron's own spikes: (starts, stops, ptr), CSR by neuron, sorted."""
    starts, stops, ptr = [], [], [0]
    for k in range(neurons.n):
        b = neurons.spikes(k) // bin_samples
        starts.append(np.clip(b - before_bins, 0, n_bins))
        stops.append(np.clip(b + after_bins + 1, 0, n_bins))
        ptr.append(ptr[-1] + b.size)
    cat = (lambda xs: np.concatenate(xs).astype(np.int64)) if starts else (lambda xs: np.zeros(0, np.int64))
    return cat(starts), cat(stops), np.asarray(ptr, np.int64)


def spikes_in(spike_bins, lo: int, hi: int, origin: int):
    """Rows (relative to ``origin``) of every neuron's spikes in bins [lo, hi), CSR by neuron."""
    rows_l, ptr = [], [0]
    for sb in spike_bins:
        i0, i1 = np.searchsorted(sb, lo), np.searchsorted(sb, hi)
        rows_l.append(sb[i0:i1] - origin)
        ptr.append(ptr[-1] + (i1 - i0))
    rows = np.concatenate(rows_l).astype(np.int64) if rows_l else np.zeros(0, np.int64)
    return rows, np.asarray(ptr, np.int64)


def somatic_traces(store, used: np.ndarray, col_pos: np.ndarray, ref: np.ndarray, scale: np.ndarray,
                   R0: int, R1: int) -> np.ndarray:
    """Somatic-mV traces (bins × neurons) over bin rows [R0, R1) of the binned store.

    Each neuron reads, per pass-1 chunk, its channel ``used[col_pos[chunk, k]]``
    minus that channel's typical level ``ref``, times the chunk's electrode→soma
    ``scale`` (NaN where unusable); rows outside the file are NaN. One compiled
    pass over the stored bits (:func:`._kernels.assemble_traces`).
    """
    first, bits = store.read_bits(R0, R1)
    chan = used[col_pos]  # (chunks, neurons): file channel
    V = np.empty((R1 - R0, col_pos.shape[1]), np.float32)
    assemble_traces(bits, F16_TO_F32, R0, first, store.bins_per_chunk, chan, store.offsets,
                    ref[col_pos], scale.astype(np.float32), V)
    return V


def mask_own_spikes(V: np.ndarray, masks, R0: int, R1: int) -> None:
    """Set each neuron's own action-potential cores (``masks`` from :func:`own_spike_mask`) to NaN in place."""
    starts, stops, ptr = masks
    mask_intervals(V, R0, starts, stops, ptr)


def own_template(traces, masks, spike_bins, starts, block_bins: int, n_bins: int, bl0: int, bl1: int, T: int,
                 progress=None):
    """(N, T + 1) float32: each neuron's average own after-potential over lags 0 … T bins, or None for T = 0.

    Relative to each spike's pre-spike baseline (bins ``bl0 … bl1``), its own
    APs masked, averaged where at least 5 spikes contribute (else 0) and
    tapered to zero over its last third, so that subtracting it leaves no
    step. ``traces(R0, R1)`` gives the somatic traces of bins ``R0 … R1``;
    blocks start at ``starts`` and span ``block_bins``.
    """
    if T <= 0:
        return None
    N = len(spike_bins)
    tacc = np.zeros((N, T + 1), np.float64)
    tcnt = np.zeros((N, T + 1), np.float64)
    for B0 in starts:
        B1 = min(n_bins, B0 + block_bins)
        R0, R1 = B0 + bl0, B1 + T + 1
        V = traces(R0, R1)
        mask_own_spikes(V, masks, R0, R1)
        rows, ptr = spikes_in(spike_bins, B0, B1, R0)
        own_spike_accumulate(V, rows, ptr, 0, bl0, bl1, max(1, (bl1 - bl0 + 1) // 2), tacc, tcnt)
        if progress is not None:
            progress.update(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tmpl = np.where(tcnt >= 5, tacc / tcnt, 0.0)
    taper = np.clip((T - np.arange(T + 1)) / max(1, T // 3), 0.0, 1.0)
    return (tmpl * taper).astype(np.float32)


def accumulate(p1: Pass1, neurons: Neurons, p: InferParams, progress=None) -> PairSums:
    """Run pass 2 (see module docstring)."""
    bs = p1.bin_samples
    bin_ms = bs / p1.fs * 1000.0
    lag0 = int(np.floor(p.baseline_ms[0] / bin_ms))
    lag1 = int(np.ceil(p.response_ms / bin_ms))
    L = lag1 - lag0 + 1
    bl0 = int(np.floor(p.baseline_ms[0] / bin_ms))
    bl1 = int(np.ceil(p.baseline_ms[1] / bin_ms))
    N = neurons.n
    acc = np.zeros((N, L, N), np.float32)
    cnt = np.zeros((N, L, N), np.float32)
    n_pre = np.zeros(N, np.int64)
    if N == 0:
        return PairSums(acc, cnt, (lag0 + np.arange(L)) * bin_ms, n_pre)
    col, scale = channel_gain_and_validity(p1, neurons, p)
    used = np.unique(col)
    col_pos = np.searchsorted(used, col)
    store = p1.binned
    # each channel's typical level, removed before scaling to somatic mV: the
    # electrode→soma scale varies from chunk to chunk (coupling changes) and
    # must not turn a channel's DC offset into steps
    ref = np.median(store.offsets, axis=0)[used].astype(np.float32)
    bpc = store.bins_per_chunk
    n_bins = store.n_bins
    before = int(np.ceil(p.mask_before_ms / bin_ms))
    after = int(np.ceil(p.mask_after_ms / bin_ms))
    masks = own_spike_mask(neurons, n_bins, bs, before, after)
    spike_bins = [neurons.spikes(k) // bs for k in range(N)]
    T = int(np.ceil(p.own_template_ms / bin_ms))  # own after-potential template: lags 0 … T
    # blocks of several pass-1 chunks: each presynaptic neuron then has several
    # spikes per block and its accumulator rows are reused from cache
    cpb = max(1, int(np.ceil(p.pass2_block_s * p1.fs / (bpc * bs))))
    starts = list(range(0, n_bins, bpc * cpb))
    if progress is not None:
        progress.reset(total=len(starts) * (2 if T > 0 else 1))
        progress.set_description("pass 2: pairwise evidence")

    def traces(R0, R1):
        return somatic_traces(store, used, col_pos, ref, scale, R0, R1)

    def mask_own(V, R0, R1):
        mask_own_spikes(V, masks, R0, R1)

    # sweep A: each neuron's own spike-triggered after-potential (AHP, burst co-activation)
    tmpl = own_template(traces, masks, spike_bins, starts, bpc * cpb, n_bins, bl0, bl1, T, progress)
    for B0 in starts:
        B1 = min(n_bins, B0 + bpc * cpb)
        R0, R1 = B0 + lag0, B1 + lag1 + 1  # rows of traces needed
        V = traces(R0, R1)
        if tmpl is not None:
            rows, ptr = spikes_in(spike_bins, R0 - T, R1, R0)
            subtract_own(V, rows, ptr, 0, tmpl)
        mask_own(V, R0, R1)
        # presynaptic spikes in this block, grouped by neuron
        spk_row, pre_ptr = spikes_in(spike_bins, B0, B1, R0)
        n_pre += np.diff(pre_ptr)
        base = spike_baselines(V, spk_row, bl0, bl1, max(1, (bl1 - bl0 + 1) // 2))
        accumulate_pairs(V, base, spk_row, pre_ptr, lag0, acc, cnt)
        if progress is not None:
            progress.update(1)
    return PairSums(acc, cnt, (lag0 + np.arange(L)) * bin_ms, n_pre, own_template=tmpl)
