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
from ._kernels import accumulate_pairs, spike_baselines
from .params import InferParams
from .preprocess import Pass1


@dataclass
class PairSums:
    acc: np.ndarray  # (N, L, N) float32: Σ baseline-subtracted trace, row = pre, last = post
    cnt: np.ndarray  # (N, L, N) float32: usable samples
    lags_ms: np.ndarray  # (L,)
    n_pre_spikes: np.ndarray  # (N,)


def channel_gain_and_validity(p1: Pass1, neurons: Neurons, p: InferParams):
    """Per chunk and neuron: the channel to read and its electrode→soma scale (NaN = unusable)."""
    n_chunks = p1.activity_mv.shape[0]
    centers = (np.arange(n_chunks) + 0.5) * p1.chunk_samples
    ptr = np.searchsorted(p1.spike_channel, np.arange(p1.activity_mv.shape[1] + 1))
    col = np.zeros((n_chunks, neurons.n), np.int64)
    scale = np.full((n_chunks, neurons.n), np.nan, np.float32)
    for k, chans in enumerate(neurons.channels):
        best_score = np.full(n_chunks, -np.inf)
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
            score = np.where(valid, gain / np.maximum(p1.noise_mv[:, c], 1e-9), -np.inf)
            better = score > best_score
            col[better, k] = c
            scale[better, k] = p.ap_amplitude_mv / gain[better]
            best_score = np.maximum(best_score, score)
    return col, scale


def own_spike_mask(neurons: Neurons, n_bins: int, bin_samples: int, before_bins: int, after_bins: int):
    """Per neuron, sorted (start, stop) bin intervals to mask around its own spikes."""
    out = []
    for k in range(neurons.n):
        b = neurons.spikes(k) // bin_samples
        out.append((np.clip(b - before_bins, 0, n_bins), np.clip(b + after_bins + 1, 0, n_bins)))
    return out


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
    bpc = store.bins_per_chunk
    n_bins = store.n_bins
    before = int(np.ceil(p.mask_before_ms / bin_ms))
    after = int(np.ceil(p.mask_after_ms / bin_ms))
    masks = own_spike_mask(neurons, n_bins, bs, before, after)
    spike_bins = [neurons.spikes(k) // bs for k in range(N)]
    # blocks of several pass-1 chunks: each presynaptic neuron then has several
    # spikes per block and its accumulator rows are reused from cache
    cpb = max(1, int(np.ceil(p.pass2_block_s * p1.fs / (bpc * bs))))
    starts = list(range(0, n_bins, bpc * cpb))
    if progress is not None:
        progress.reset(total=len(starts))
        progress.set_description("pass 2: pairwise evidence")
    for B0 in starts:
        B1 = min(n_bins, B0 + bpc * cpb)
        R0, R1 = B0 + lag0, B1 + lag1 + 1  # rows of traces needed
        raw = store.read(R0, R1, used)  # clipped at the file's ends; only channels in use
        r_lo = max(0, R0)
        rows = np.arange(r_lo, r_lo + raw.shape[0])
        V = np.full((R1 - R0, N), np.nan, np.float32)
        ck = rows // bpc
        for cc in np.unique(ck):
            sel = ck == cc
            V[rows[sel] - R0] = raw[sel][:, col_pos[cc]] * scale[cc]
        del raw
        for k in range(N):  # own spikes: AP and after-hyperpolarisation
            st, sp = masks[k]
            lo = np.searchsorted(sp, R0, side="right")
            hi = np.searchsorted(st, R1, side="left")
            for a, b in zip(st[lo:hi], sp[lo:hi]):
                V[max(a, R0) - R0:min(b, R1) - R0, k] = np.nan
        # presynaptic spikes in this block, grouped by neuron
        rows_l, ptr = [], [0]
        for k in range(N):
            sb = spike_bins[k]
            i0, i1 = np.searchsorted(sb, B0), np.searchsorted(sb, B1)
            rows_l.append(sb[i0:i1] - R0)
            ptr.append(ptr[-1] + (i1 - i0))
            n_pre[k] += i1 - i0
        spk_row = np.concatenate(rows_l).astype(np.int64)
        pre_ptr = np.asarray(ptr, np.int64)
        base = spike_baselines(V, spk_row, bl0, bl1, max(1, (bl1 - bl0 + 1) // 2))
        accumulate_pairs(V, base, spk_row, pre_ptr, lag0, acc, cnt)
        if progress is not None:
            progress.update(1)
    return PairSums(acc, cnt, (lag0 + np.arange(L)) * bin_ms, n_pre)
