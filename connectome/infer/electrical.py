"""Electrical coupling: what tells a gap junction from a chemical synapse.

A gap junction passes current in proportion to ``V_pre − V_post`` at once, so
the partner sees a low-passed copy of the presynaptic action potential — a
*spikelet*, beginning with the presynaptic upstroke and peaking within a
fraction of a millisecond of the presynaptic AP peak — followed by the
presynaptic after-hyperpolarisation, also transmitted (and passed better,
being slow: the junction and the partner's membrane form a low-pass filter;
Bennett & Zukin 2004, Neuron 41:495; Galarreta & Hestrin 1999, Nature
402:72; Gibson, Beierlein & Connors 1999, Nature 402:75). In a
conductance-based neuron the transmitted AHP is often larger in area than the
spikelet, so a spike-triggered average read over a late window is negative:
a junction looks inhibitory to a PSP fit. A chemical synapse cannot respond
before the transmitter is released, ≳ 0.8 ms after the presynaptic spike
(Sabatini & Regehr 1999, Annu. Rev. Physiol. 61:521; English et al. 2017,
Neuron 96:505), and the junction is symmetric: both directions show the
spikelet.

The test used here (:func:`spikelet_z`) is therefore the *sharp zero-lag
rise*: the spike-triggered average over the window where the spikelet peaks
(``electrical_window_ms``, 0…1 ms; docs/background.md §7: |lag| ≤ 0.5 ms for the
onset) minus its level just before the presynaptic upstroke
(``electrical_pre_ms``, −1.5…−1 ms), so that a ramp of drive shared by both
cells (which rises before, at and after the spike alike) does not count, times
√(usable spikes), calibrated per postsynaptic neuron by the empirical null of
all its presynaptic partners (median and 1.4826 × MAD; almost every pair is
unconnected). A pair accepted by the pairwise test is electrical when the
larger of its two directions' z is ≥ ``electrical_z`` **and** the smaller
≥ ``electrical_reverse_z`` (the junction is symmetric), or — when the reverse
pair cannot be tested (too few spikes of the partner) — when its own z is at
least twice ``electrical_z``. The reverse direction of such a pair is then
reported too (:func:`reverse_junctions`). Where the reverse direction lacks
the power to confirm (its presynaptic cell fires little), a pair whose own z
≥ ``electrical_z`` is electrical if the PSP fitted to its whole response
(:func:`connectome.infer.classify.fit_psp`) also starts within
±``electrical_max_latency_ms`` of the spike.

The junction's size is the spikelet peak (``weight_mv``, somatic mV, as the
simulators' truth defines it), from a least-squares fit of a spikelet kernel
together with a slow component of free sign (the transmitted AHP, or a
chemical PSP of the same pair) so that the slow part does not bias it
(:func:`spikelet_fit`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .params import InferParams
from .sta import PairSums

#: Spikelet kinetics (rise, decay) in ms: a low-passed AP (AP half-width ≈ 1–2 ms,
#: junction and membrane filtering; Galarreta & Hestrin 1999).
SPIKELET_KINETICS_MS = (0.3, 2.0)
#: Slow component fitted alongside: the transmitted AHP / a PSP (rise, decay, ms).
SLOW_KINETICS_MS = (1.5, 20.0)


def _lag_sets(lags: np.ndarray, p: InferParams):
    a, b = p.electrical_window_ms
    c, d = p.electrical_pre_ms
    early = (lags >= a - 1e-9) & (lags <= b + 1e-9)
    before = (lags >= c - 1e-9) & (lags <= d + 1e-9)
    return np.flatnonzero(early), np.flatnonzero(before)


def spikelet_z(sums: PairSums, tested: np.ndarray, p: InferParams, block: int = 256) -> np.ndarray:
    """(N, N) calibrated z of the sharp zero-lag rise of every tested ordered pair (NaN untested).

    Only the few lags of the two windows are read from the pairwise sums
    (vectorised, blocks of presynaptic neurons: memory N × block × lags).
    """
    N = sums.acc.shape[0]
    early, before = _lag_sets(sums.lags_ms, p)
    z = np.full((N, N), np.nan, np.float32)
    if N < 2 or early.size == 0 or before.size == 0:
        return z
    s = np.full((N, N), np.nan, np.float32)
    for i0 in range(0, N, block):
        i1 = min(N, i0 + block)
        a_e, c_e = sums.acc[i0:i1][:, early, :], sums.cnt[i0:i1][:, early, :]
        a_b, c_b = sums.acc[i0:i1][:, before, :], sums.cnt[i0:i1][:, before, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            # a lag without samples makes the pair's value NaN (untested)
            m_e = np.mean(np.where(c_e > 0, a_e / c_e, np.nan), axis=1)
            m_b = np.mean(np.where(c_b > 0, a_b / c_b, np.nan), axis=1)
            n = np.min(c_e, axis=1)
        s[i0:i1] = (m_e - m_b) * np.sqrt(np.maximum(n, 0.0))
    s = np.where(tested, s, np.nan)
    # per postsynaptic neuron (column): the bulk of its presynaptic partners is the null
    with warnings.catch_warnings():  # all-NaN columns (neurons never tested as post) stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(s, axis=0)
        mad = 1.4826 * np.nanmedian(np.abs(s - med[None, :]), axis=0)
        n_col = np.sum(np.isfinite(s), axis=0)
        # few partners: pool the scale over neurons (as the pairwise null does)
        enough = (n_col >= 30) & (mad > 0)
        pooled = np.nanmedian(mad[enough]) if enough.any() else np.nanmedian(np.where(mad > 0, mad, np.nan))
    mad = np.where(enough, mad, pooled)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = ((s - med[None, :]) / np.maximum(mad, 1e-12)[None, :]).astype(np.float32)
    return z


def is_electrical(zs: np.ndarray, tested: np.ndarray, pre: np.ndarray, post: np.ndarray, p: InferParams,
                  zero_onset: np.ndarray | None = None) -> np.ndarray:
    """Per pair: a junction between ``pre`` and ``post`` (see module docstring).

    The junction is one symmetric element, so the main rule is on the
    unordered pair: the larger of the two directions' z ≥ ``electrical_z``
    and the smaller ≥ ``electrical_reverse_z``; with the reverse untestable,
    the pair's own z ≥ 2 × ``electrical_z``. Where the reverse direction
    cannot confirm it (the partner fires too little for the test to have
    power), a pair whose own z ≥ ``electrical_z`` is electrical if the PSP
    fitted to its whole response also starts at zero lag (``zero_onset``,
    one bool per pair; omitted: the symmetric rule only).
    """
    if pre.size == 0:
        return np.zeros(0, bool)
    own = np.nan_to_num(zs[pre, post], nan=-np.inf)
    rev_tested = tested[post, pre]
    rev = np.nan_to_num(zs[post, pre], nan=-np.inf)
    both = (np.maximum(own, rev) >= p.electrical_z) & (np.minimum(own, rev) >= p.electrical_reverse_z)
    out = np.where(rev_tested, both, own >= 2.0 * p.electrical_z)
    if zero_onset is not None:
        out |= (own >= p.electrical_z) & np.asarray(zero_onset, bool)
    return out


def reverse_junctions(zs: np.ndarray, tested: np.ndarray, accepted: np.ndarray, pre: np.ndarray, post: np.ndarray,
                      electrical: np.ndarray):
    """(pre, post) of the reverse directions of electrical pairs that the pairwise test did not accept.

    A junction found from one direction is the same junction seen from the
    other (it passes current both ways); the reverse direction has passed
    :func:`is_electrical` with it, so it is reported too.
    """
    a, b = post[electrical], pre[electrical]
    keep = tested[a, b] & ~accepted[a, b]
    a, b = a[keep], b[keep]
    if a.size:
        u = np.unique(a.astype(np.int64) * zs.shape[0] + b)
        a, b = u // zs.shape[0], u % zs.shape[0]
    return a.astype(np.int64), b.astype(np.int64)


def spikelet_fit(resid: np.ndarray, lags_ms: np.ndarray, bin_ms: float, onsets_ms=(-0.5, -0.25, 0.0, 0.25, 0.5),
                 peak_within_ms: float = 5.0):
    """Spikelet peak (mV) and onset (ms) per row of ``resid``, fitted with a slow component of free sign.

    For each onset the model ``s · spikelet(t − onset) + a · slow(t − onset)``
    (kernels of peak 1, averaged over each lag's bin like the PSP templates)
    is fitted by least squares over lags ≥ −1 ms; the onset with the smallest
    residual wins. The spikelet's size is the model's largest depolarisation
    within ``peak_within_ms`` of the onset: a low-passed AP rides on the
    transmitted slow potential (the presynaptic AHP pulls it down; a
    junction filtered by a slow membrane lets the AP's charge add to it).
    """
    from .classify import psp_kernel

    sel = lags_ms >= -1.0
    R = np.nan_to_num(resid[:, sel])
    lg = lags_ms[sel]
    sub = (np.arange(10) + 0.5) / 10.0 * bin_ms - bin_ms / 2.0
    fine = np.arange(0.0, peak_within_ms + 1e-9, 0.05)
    k_fine = np.stack([psp_kernel(fine, *SPIKELET_KINETICS_MS), psp_kernel(fine, *SLOW_KINETICS_MS)])  # (2, T)
    best_sse = np.full(len(R), np.inf)
    amp = np.zeros(len(R))
    onset = np.zeros(len(R))
    for on in onsets_ms:
        tt = lg[:, None] + sub[None, :] - on
        X = np.stack([psp_kernel(tt, *SPIKELET_KINETICS_MS).mean(axis=1),
                      psp_kernel(tt, *SLOW_KINETICS_MS).mean(axis=1)], axis=1)  # (lags, 2)
        coef, *_ = np.linalg.lstsq(X, R.T, rcond=None)  # (2, pairs)
        sse = np.sum((R - (X @ coef).T) ** 2, axis=1)
        model = coef.T @ k_fine  # (pairs, T): fitted time course after the onset
        peak = model.max(axis=1)
        peak = np.where(peak > 0, peak, model[np.arange(len(R)), np.argmax(np.abs(model), axis=1)])
        better = sse < best_sse
        best_sse[better] = sse[better]
        amp[better] = peak[better]
        onset[better] = on
    return amp, onset
