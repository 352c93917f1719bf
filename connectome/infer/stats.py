"""From pairwise sums to scores, p-values and q-values.

For each ordered pair the spike-triggered average (STA) of the
post-synaptic trace, baseline-subtracted per spike, is

1. **detrended**: a straight line fitted over the baseline lags is removed.
   Network bursts put a slow, burst-locked depolarisation under every STA
   (reference §2.5); over a few ms it is a ramp, and the ramp is what the
   line removes. A synapse is a sharp deflection at a fixed short latency,
   which survives;
2. **windowed**: the mean residual in an electrical window around lag 0 and
   in overlapping chemical windows (onsets from 1 ms on, reference §7),
   times √(usable spikes), gives one statistic per window;
3. **calibrated by an empirical null**: almost all pairs are not connected
   (≈ 2 % of ordered pairs in cultures, reference §1.1), so for each
   post-synaptic neuron and window the bulk of the statistics over all
   presynaptic neurons *is* the null. Its robust centre (median) and scale
   (1.4826 × MAD) absorb what jitter surrogates would otherwise estimate:
   burst-locked drive, common input and the post-synaptic noise level;
4. **tested**: two-sided normal p-values, Bonferroni over the windows, then
   Benjamini–Hochberg over every tested ordered pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .params import InferParams
from .sta import PairSums


@dataclass
class PairStats:
    tested: np.ndarray  # (N, N) bool
    z: np.ndarray  # (N, N, K) calibrated z per window
    p: np.ndarray  # (N, N) Bonferroni-over-windows p-value (NaN untested)
    q: np.ndarray  # (N, N) BH q-value
    best: np.ndarray  # (N, N) index of the best window
    n_used: np.ndarray  # (N, N) usable presynaptic spikes
    scale: np.ndarray  # (N, K) per post, null SD of (window mean × √n): per-spike noise
    windows_ms: np.ndarray  # (K, 2)
    k_eff: float  # effective number of independent windows (multiple-testing factor)
    window_mean: np.ndarray  # (N, N) float32 mean response (somatic mV) in the best window
    lags_ms: np.ndarray  # (L,)


def windows(p: InferParams) -> np.ndarray:
    """Candidate windows (ms): one electrical, then chemical ones every window/2."""
    w = [(-0.5, 1.0)]
    start = 1.0
    while start + p.window_ms <= p.response_ms + 1e-9:
        w.append((start, start + p.window_ms))
        start += p.window_ms / 2.0
    return np.array(w)


def bh(pvals: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values of a 1-D array (NaN stays NaN).

    Examples
    --------
    >>> bh(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    q = np.full(pvals.shape, np.nan)
    ok = np.isfinite(pvals)
    pv = pvals[ok]
    m = pv.size
    if m == 0:
        return q
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    q[ok] = out
    return q


def distance_weights(pval: np.ndarray, dist: np.ndarray, n_bins: int = 10, lam: float = 0.01) -> np.ndarray:
    """Weights for weighted Benjamini–Hochberg from the data's own distance profile.

    Connection probability falls with distance in cultures (reference §3,
    Campagnola et al. 2022), so hypotheses are not exchangeable. Pairs are
    binned by distance (quantiles); in each bin the fraction of true effects
    is estimated from the excess of small p-values, π1 ≥ (#{p ≤ λ}/m − λ)/(1 − λ)
    with λ = 0.01 (Storey's estimator from the other side, valid for the
    conservative window-adjusted p-values); a bin's weight is
    proportional to its estimated π1 (floored so that no pair is ignored) and
    the weights average 1 over the pairs (Genovese, Roeder & Wasserman 2006,
    which keeps the FDR guarantee of BH). Weights are cross-fitted: those of
    pairs with an even presynaptic index are estimated on pairs with an odd
    one and vice versa, so no pair's weight depends on its own p-value.
    ``pval`` and ``dist`` are N×N (NaN = untested); returns N×N weights.
    """
    N = pval.shape[0]
    w = np.ones_like(pval, dtype=np.float64)
    ok = np.isfinite(pval) & np.isfinite(dist)
    if ok.sum() < 50 * n_bins:
        return w
    edges = np.quantile(dist[ok], np.linspace(0, 1, n_bins + 1)[1:-1])
    b = np.searchsorted(edges, dist)
    parity = (np.arange(N) % 2)[:, None] + np.zeros((1, N), np.int64)
    for fold in (0, 1):
        src = ok & (parity != fold)
        pi1 = np.zeros(n_bins)
        for k in range(n_bins):
            pk = pval[src & (b == k)]
            if pk.size:
                # excess of small p-values over what the null gives: a lower bound of π1
                # that holds for conservative (e.g. Bonferroni-adjusted) p-values too
                pi1[k] = max(0.0, np.mean(pk <= lam) - lam) / (1.0 - lam)
        pi1 = np.maximum(pi1, max(1e-3, 0.05 * pi1.max()))   # never weight a bin to zero
        dst = ok & (parity == fold)
        wk = pi1[b[dst]]
        w[dst] = wk / wk.mean()
    return w


def _robust(x: np.ndarray, axis: int):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: untested neurons
        med = np.nanmedian(x, axis=axis, keepdims=True)
        mad = np.nanmedian(np.abs(x - med), axis=axis, keepdims=True)
    return med, 1.4826 * mad


def _detrend_projector(lags: np.ndarray, p: InferParams):
    base = (lags >= p.baseline_ms[0] - 1e-9) & (lags <= p.baseline_ms[1] + 1e-9)
    X = np.vstack([np.ones(base.sum()), lags[base]]).T
    P = np.linalg.pinv(X)  # (2, n_base)
    if not p.detrend:
        P = np.vstack([np.full(base.sum(), 1.0 / base.sum()), np.zeros(base.sum())])
    return base, P


def residual_curves(sums: PairSums, pre: np.ndarray, post: np.ndarray, p: InferParams) -> np.ndarray:
    """Detrended STA (somatic mV) of the given pairs, shape (pairs, lags)."""
    lags = sums.lags_ms
    base, P = _detrend_projector(lags, p)
    a = sums.acc[pre, :, post].astype(np.float64)
    c = sums.cnt[pre, :, post]
    with np.errstate(invalid="ignore", divide="ignore"):
        sta = np.where(c > 0, a / c, np.nan)
    coef = np.nan_to_num(sta[:, base]) @ P.T
    return sta - (coef[:, :1] + coef[:, 1:] * lags)


def pair_statistics(sums: PairSums, p: InferParams, block: int = 64, distance_um: np.ndarray | None = None) -> PairStats:
    lags = sums.lags_ms
    N, L = sums.acc.shape[0], sums.acc.shape[1]
    base, P = _detrend_projector(lags, p)
    resp = lags > p.baseline_ms[1]
    win = windows(p)
    K = len(win)
    sel = [(lags >= a - 1e-9) & (lags <= b + 1e-9) for a, b in win]
    # float32 throughout: N² × windows arrays dominate memory at N = 2,000
    stat = np.full((N, N, K), np.nan, np.float32)
    n_used = np.zeros((N, N), np.float32)
    for i0 in range(0, N, block):  # blocks of presynaptic neurons bound the memory
        i1 = min(N, i0 + block)
        cnt = sums.cnt[i0:i1].transpose(0, 2, 1)  # (b, post, L)
        with np.errstate(invalid="ignore", divide="ignore"):
            sta = np.where(cnt > 0, sums.acc[i0:i1].transpose(0, 2, 1) / cnt, np.nan)
        n_used[i0:i1] = cnt[:, :, resp].min(axis=2) if resp.any() else 0
        coef = np.nan_to_num(sta[:, :, base]) @ P.T
        resid = sta - (coef[..., :1] + coef[..., 1:] * lags)
        for k in range(K):
            stat[i0:i1, :, k] = resid[:, :, sel[k]].mean(axis=2)
    tested = (n_used >= p.min_pre_spikes) & ~np.eye(N, dtype=bool) & np.all(np.isfinite(stat), axis=2)
    t = np.where(tested[..., None], stat * np.sqrt(np.maximum(n_used, 1))[..., None], np.float32(np.nan))
    # empirical null per post-synaptic neuron (axis 0 = pre) and window
    center, scale = _robust(t, axis=0)  # (1, N, K)
    few = tested.sum(axis=0) < 30
    if few.any() and tested.any():
        # too few presynaptic partners for a per-neuron null: pool over neurons,
        # after normalising each post-synaptic neuron by its own scale over all windows
        c_all, s_all = _robust(t.transpose(1, 0, 2).reshape(N, -1), axis=1)  # (N, 1)
        s_all = s_all.reshape(1, N, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            norm = t / np.where(s_all > 0, s_all, np.nan)
        gc, gs = _robust(norm.reshape(-1, K), axis=0)  # (1, K)
        center[:, few] = (gc.reshape(1, 1, K) * s_all)[:, few]
        scale[:, few] = (gs.reshape(1, 1, K) * s_all)[:, few]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (t - center) / np.where(scale > 0, scale, np.nan)
    del t
    az = np.where(np.isfinite(z), np.abs(z), np.float32(-1.0))
    best = np.argmax(az, axis=2)           # the smallest p is the largest |z|
    zmax = np.take_along_axis(az, best[..., None], axis=2)[..., 0].astype(np.float64)
    del az
    window_mean = np.take_along_axis(stat, best[..., None], axis=2)[..., 0]
    del stat
    pmin = np.where(zmax >= 0, 2.0 * ndtr(-zmax), np.inf)
    # the windows overlap, so their z are correlated and Bonferroni over K is
    # conservative: use the effective number of independent windows, measured
    # on the (mostly null) tested pairs as P(max |z| > 2) / P(|z| > 2)
    k_eff = float(K)
    zt = zmax[tested]
    if zt.size >= 1000:
        k_eff = float(np.clip(np.mean(zt > 2.0) / (2.0 * ndtr(-2.0)), 1.0, K))
    pval = np.where(tested, np.minimum(1.0, pmin * k_eff), np.nan)
    if p.distance_weighted and distance_um is not None:
        w = distance_weights(pval, distance_um)
        with np.errstate(invalid="ignore", divide="ignore"):
            q = bh((pval / w).ravel()).reshape(N, N)
    else:
        q = bh(pval.ravel()).reshape(N, N)
    return PairStats(tested=tested, z=z, p=pval, q=q, best=best, n_used=n_used,
                     scale=scale[0], windows_ms=win, k_eff=k_eff, window_mean=window_mean, lags_ms=lags)
