"""Amplitude, latency and class of accepted connections.

**PSP fit.** Each accepted pair's detrended STA is fitted by least squares
with a difference-of-exponentials PSP, ``A · k(t − onset)`` normalised to a
peak of 1, over a grid of onsets (0.1 ms steps) and kinetics (rise 0.3–3
ms, decay 2–50 ms, covering spikelets, EPSPs and slow GABA-A IPSPs; reference
§3 "PSP kinetics"; cf. the 0–6 ms PSP-fit search of aisynphys). Templates
are averaged over the same bins as the data, so the onset is resolved below
one bin. ``A`` is the somatic PSP peak (the traces are already in somatic mV,
see :mod:`connectome.infer.sta`) and ``onset`` the latency.

**Classes.** A fit with onset below ``electrical_max_latency_ms`` is an
electrical synapse (a spikelet: near-zero latency; docs/background.md §2.3); else the
sign of ``A`` gives excitatory or inhibitory. Excitatory synapses are
*eventful* when the single-trial response is detectable — its window mean is
≥ 1.16 per-spike noise SDs, i.e. it would cross 2 SD on ≥ 20 % of trials
(docs/background.md §7) — or when the post-synaptic firing probability within 10 ms
after the presynaptic spike rises significantly (binomial test, p < 0.001);
otherwise *uneventful* (weak).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from ..graph.kinds import EdgeKind

KINETICS_MS = [(0.3, 2.0), (0.5, 5.0), (1.0, 10.0), (1.0, 15.0), (1.0, 25.0), (2.0, 35.0), (3.0, 50.0)]


def psp_kernel(t_ms: np.ndarray, rise_ms: float, decay_ms: float) -> np.ndarray:
    """Difference of exponentials with peak 1, zero for t < 0."""
    t = np.maximum(t_ms, 0.0)
    k = np.exp(-t / decay_ms) - np.exp(-t / rise_ms)
    tp = rise_ms * decay_ms / (decay_ms - rise_ms) * np.log(decay_ms / rise_ms)
    peak = np.exp(-tp / decay_ms) - np.exp(-tp / rise_ms)
    return np.where(t_ms > 0, k / peak, 0.0)


def template_bank(lags_ms: np.ndarray, bin_ms: float, onset_max_ms: float, step_ms: float = 0.1):
    """Templates (n, lags) averaged over each lag's bin, with their (onset, rise, decay)."""
    # lag l averages samples whose offset from the spike is spread over ± half a bin around l·bin
    sub = (np.arange(10) + 0.5) / 10.0 * bin_ms - bin_ms / 2.0
    onsets = np.arange(-1.0, onset_max_ms + 1e-9, step_ms)
    T, meta = [], []
    for rise, decay in KINETICS_MS:
        for on in onsets:
            tt = lags_ms[:, None] + sub[None, :] - on
            T.append(psp_kernel(tt, rise, decay).mean(axis=1))
            meta.append((on, rise, decay))
    return np.array(T), np.array(meta)


def fit_psp(resid: np.ndarray, lags_ms: np.ndarray, bin_ms: float, fit_from_ms: float, onset_max_ms: float):
    """Best template per row of ``resid``: (amplitude_mv, onset_ms, rise_ms, decay_ms)."""
    sel = lags_ms >= fit_from_ms
    T, meta = template_bank(lags_ms, bin_ms, onset_max_ms)
    T = T[:, sel]
    R = np.nan_to_num(resid[:, sel])
    tt = np.einsum("kl,kl->k", T, T)
    ok = tt > 1e-9
    T, meta, tt = T[ok], meta[ok], tt[ok]
    k = np.zeros(len(R), np.int64)
    amp = np.zeros(len(R), np.float64)
    for a in range(0, len(R), 1024):  # blocks of pairs: memory independent of the number of edges
        proj = R[a:a + 1024] @ T.T  # (pairs, templates)
        kb = np.argmax(proj ** 2 / tt, axis=1)  # largest SSE reduction
        k[a:a + 1024] = kb
        amp[a:a + 1024] = proj[np.arange(len(kb)), kb] / tt[kb]
    return amp, meta[k, 0], meta[k, 1], meta[k, 2]


def firing_rise_p(pre_spikes, post_spikes, latency_s, duration_s, window_s: float = 0.010) -> np.ndarray:
    """P-values that post fires within ``window_s`` after pre more often than its rate predicts.

    ``pre_spikes`` and ``post_spikes`` are sequences of sorted spike-time
    arrays (s), one pair per entry, ``latency_s`` an array: the counting is a
    loop of two ``searchsorted`` per pair, the binomial tail one vectorised call.
    """
    n_pairs = len(latency_s)
    k = np.zeros(n_pairs, np.int64)
    n = np.zeros(n_pairs, np.int64)
    p_chance = np.zeros(n_pairs)
    for e in range(n_pairs):
        pre, post = pre_spikes[e], post_spikes[e]
        if pre.size == 0 or post.size == 0:
            continue
        t0 = pre + max(float(latency_s[e]), 0.0)
        k[e] = np.count_nonzero(np.searchsorted(post, t0 + window_s) > np.searchsorted(post, t0))
        n[e] = pre.size
        p_chance[e] = 1.0 - np.exp(-post.size / max(duration_s, 1e-9) * window_s)
    out = np.ones(n_pairs)
    ok = n > 0
    out[ok] = binom.sf(k[ok] - 1, n[ok], p_chance[ok])
    return out


def dale_consistency(pre: np.ndarray, kind: np.ndarray, n: int):
    """Per presynaptic neuron: (excitatory out, inhibitory out, consistency in [0.5, 1] or NaN)."""
    e = np.bincount(pre[kind == EdgeKind.EXCITATORY], minlength=n)
    i = np.bincount(pre[kind == EdgeKind.INHIBITORY], minlength=n)
    tot = e + i
    with np.errstate(invalid="ignore", divide="ignore"):
        cons = np.where(tot > 0, np.maximum(e, i) / tot, np.nan)
    return e, i, cons
