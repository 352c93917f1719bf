"""From pairwise sums to scores, p-values and q-values.

For each ordered pair the spike-triggered average (STA) of the
post-synaptic trace, baseline-subtracted per spike, is

1. **detrended**: a straight line fitted over the baseline lags is removed.
   Network bursts put a slow, burst-locked depolarisation under every STA
   (docs/background.md §2.5); over a few ms it is a ramp, and the ramp is what the
   line removes. A synapse is a sharp deflection at a fixed short latency,
   which survives;
2. **matched-filtered**: PSP-shaped kernels (spikelets at onsets around 0,
   fast and slow difference-of-exponentials PSPs at onsets 0.5–10 ms) are
   fitted to the residual by generalised least squares under the null
   noise covariance across lags (:func:`null_covariance`,
   :func:`matched_weights`); the fitted amplitude times √(usable spikes)
   gives one statistic per kernel. Background membrane fluctuation is slow
   against the 0.5-ms lags, so neighbouring lags share most of their noise;
   the whitened filter weighs a sharp onset against that shared level,
   which a boxcar window mean cannot (with ``matched_filter`` off: the mean
   residual in an electrical window around lag 0 and in overlapping
   chemical windows, docs/background.md §7). Boxcar window means are still computed
   for the response size and the single-trial SNR;
3. **calibrated by an empirical null**: almost all pairs are not connected
   (≈ 2 % of ordered pairs in cultures, docs/background.md §1.1), so for each
   post-synaptic neuron and window the bulk of the statistics over all
   presynaptic neurons *is* the null. Its robust centre (median) and scale
   (1.4826 × MAD) absorb what jitter surrogates would otherwise estimate:
   burst-locked drive, common input and the post-synaptic noise level;
4. **tested**: two-sided normal p-values, Bonferroni over the effective
   number of kernels (or windows), then (distance-weighted)
   Benjamini–Hochberg over every tested ordered pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ._kernels import (
    best_test,
    null_center_scale,
    pooled_center_scale,
    post_center_scale,
    pre_center,
    subtract_pre_center,
)
from .params import InferParams
from .sta import PairSums


@dataclass
class PairStats:
    tested: np.ndarray  # (N, N) bool
    z_best: np.ndarray  # (N, N) calibrated z of the best test (NaN untested)
    p: np.ndarray  # (N, N) Bonferroni-over-windows p-value (NaN untested)
    q: np.ndarray  # (N, N) BH q-value
    best: np.ndarray  # (N, N) index of the best window
    n_used: np.ndarray  # (N, N) usable presynaptic spikes
    scale: np.ndarray  # (N, Kw) per post, null SD of (boxcar window mean × √n): per-spike noise
    windows_ms: np.ndarray  # (K, 2) span of each test (ms)
    k_eff: float  # effective number of independent windows (multiple-testing factor)
    window_mean: np.ndarray  # (N, N) float32 mean response (somatic mV) in the best boxcar window
    lags_ms: np.ndarray  # (L,)
    best_window: np.ndarray  # (N, N) index of the best boxcar window (indexes ``scale``)
    amplitude: np.ndarray  # (N, N) float32 response size (somatic mV) of the best test
    # for the joint refit (:mod:`.joint`); None without the matched filter
    filters: np.ndarray | None = None  # (L, K) least-squares amplitude filter of each kernel
    kernel_meta: np.ndarray | None = None  # (K, 3) onset, rise, decay (ms) of each kernel
    test_center: np.ndarray | None = None  # (N, K) per post, empirical-null centre of each test statistic
    test_scale: np.ndarray | None = None  # (N, K) per post, empirical-null scale of each test statistic
    bh_weight: np.ndarray | None = None  # (N, N) weight of each p-value in the weighted BH step (1: plain)
    pre_shift: np.ndarray | None = None  # (N, K) presynaptic shift removed, null-z units (presynaptic_shift)


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

    Connection probability falls with distance in cultures (docs/background.md §3,
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
    """NaN-ignoring median and 1.4826 × MAD along ``axis`` (kept as length 1); NaN where all are NaN."""
    from ._kernels import nan_median_mad_rows

    x = np.asarray(x, np.float32)
    moved = np.moveaxis(x, axis, 0)
    rest = moved.shape[1:]
    two = np.ascontiguousarray(moved.reshape(moved.shape[0], -1))
    med, mad = nan_median_mad_rows(two)
    shape = list(x.shape)
    shape[axis] = 1
    return med.reshape(rest).reshape(shape), (1.4826 * mad).reshape(rest).reshape(shape)


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


def _block_residuals(sums: PairSums, i0, i1, base, P, lags, resp):
    """Residual STA (b, post, L) of presynaptic rows [i0, i1) (or index array i0) and usable spike counts."""
    rows = i0 if i1 is None else slice(i0, i1)
    cnt = sums.cnt[rows].transpose(0, 2, 1)  # (b, post, L)
    with np.errstate(invalid="ignore", divide="ignore"):
        sta = np.where(cnt > 0, sums.acc[rows].transpose(0, 2, 1) / cnt, np.nan)
    n_used = cnt[:, :, resp].min(axis=2) if resp.any() else np.zeros(cnt.shape[:2], np.float32)
    coef = np.nan_to_num(sta[:, :, base]) @ P.T
    return sta - (coef[..., :1] + coef[..., 1:] * lags), n_used


def kernel_bank(lags: np.ndarray, p: InferParams):
    """PSP-shaped test kernels (K, L) over the lags and their (onset, rise, decay) in ms.

    Difference-of-exponentials PSPs (peak 1; :func:`classify.psp_kernel`)
    averaged over each lag's bin: spikelet-like ones at onsets around 0 for
    electrical coupling, then chemical ones at onsets every
    ``kernel_onset_step_ms`` from 0.5 ms to ``response_ms`` − window, with a
    fast and a slow kinetics (docs/background.md §3, "PSP kinetics").
    """
    from .classify import psp_kernel

    bin_ms = float(np.median(np.diff(lags))) if lags.size > 1 else 0.5
    sub = (np.arange(10) + 0.5) / 10.0 * bin_ms - bin_ms / 2.0
    meta = [(on, 0.3, 2.0) for on in (-0.5, 0.0)]
    onsets = np.arange(0.5, p.response_ms - p.window_ms + 1e-9, p.kernel_onset_step_ms)
    for rise, decay in p.kernel_kinetics_ms:
        meta += [(on, rise, decay) for on in onsets]
    H = np.array([psp_kernel(lags[:, None] + sub[None, :] - on, r, d).mean(axis=1) for on, r, d in meta])
    return H, np.array(meta)


def null_covariance(sums: PairSums, p: InferParams, n_pre_max: int = 600, block: int = 64) -> np.ndarray | None:
    """Lag-by-lag covariance (L, L) of the residual STA under the null, pooled over pairs.

    Almost every ordered pair is unconnected, so the residual STAs of all
    tested pairs (each × √n and divided by its post-synaptic neuron's robust
    scale) sample the null: membrane fluctuation that is slow against the
    lag grid (OU-like background, burst-locked depolarisation, the summed
    input of the other cells) makes neighbouring lags strongly correlated.
    Curves with any |value| > 6 robust SD (strong true responses) are left
    out. Presynaptic neurons are subsampled evenly to bound the cost.
    Returns None when fewer than 5 × lags curves are usable (≲ 15 neurons).
    """
    lags = sums.lags_ms
    N, L = sums.acc.shape[0], sums.acc.shape[1]
    base, P = _detrend_projector(lags, p)
    resp = lags > p.baseline_ms[1]
    pre = np.unique(np.linspace(0, N - 1, min(N, n_pre_max)).astype(np.int64))
    xs = []
    for b0 in range(0, len(pre), block):
        idx = pre[b0:b0 + block]
        resid, n_used = _block_residuals(sums, idx, None, base, P, lags, resp)
        x = resid * np.sqrt(np.maximum(n_used, 1))[..., None]
        bad = (n_used < p.min_pre_spikes) | (idx[:, None] == np.arange(N)[None, :])
        x[bad] = np.nan
        xs.append(x.astype(np.float32))
    X = np.concatenate(xs, axis=0)  # (pre, post, L)
    med, sd = _robust(X, axis=0)
    s_post, _ = _robust(sd[0][:, resp], axis=1)  # (post, 1): NaN for untested neurons, no warning
    s_post = s_post[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        Y = (X - med) / np.where(s_post > 0, s_post, np.nan)[None, :, None]
    Y = Y.reshape(-1, L)
    Y = Y[np.all(np.isfinite(Y), axis=1)]
    Y = Y[np.max(np.abs(Y), axis=1) < 6.0]
    if Y.shape[0] < 5 * L:
        return None  # too few pairs to estimate it: the caller falls back to boxcar windows
    return (Y.T @ Y / Y.shape[0]).astype(np.float64)


def matched_weights(C: np.ndarray, H: np.ndarray, ridge: float = 1e-3):
    """Whitened matched filters (generalised least squares) for kernels H under noise covariance C.

    Returns W (L, K) with ``x @ W`` = h'C⁻¹x / √(h'C⁻¹h) (unit variance under the null
    when C is the null covariance) and G (L, K) with ``r @ G`` = h'C⁻¹r / h'C⁻¹h, the
    least-squares amplitude of kernel h in curve r (Kay 1998, *Fundamentals of
    statistical signal processing II*, §4.6 "generalized matched filter").
    """
    L = C.shape[0]
    Cr = C + ridge * np.trace(C) / L * np.eye(L)
    CiH = np.linalg.solve(Cr, H.T)  # (L, K)
    hch = np.einsum("lk,kl->k", CiH, H)
    return CiH / np.sqrt(hch), CiH / hch


def pair_statistics(sums: PairSums, p: InferParams, block: int = 64,
                    distance_um: np.ndarray | None = None) -> PairStats:
    lags = sums.lags_ms
    N = sums.acc.shape[0]
    base, P = _detrend_projector(lags, p)
    resp = lags > p.baseline_ms[1]
    win = windows(p)
    Kw = len(win)
    sel = [(lags >= a - 1e-9) & (lags <= b + 1e-9) for a, b in win]
    # too few pairs (≲ 15 neurons) to estimate the null covariance: boxcar windows
    C = null_covariance(sums, p) if p.matched_filter else None
    matched = C is not None
    if matched:
        H, meta = kernel_bank(lags, p)
        W, G = matched_weights(C, H, p.whiten_ridge)
        tests = np.stack([meta[:, 0], meta[:, 0] + p.window_ms], axis=1)
    else:
        tests = win
    K = len(tests)
    # float32 throughout: N² × windows arrays dominate memory at N = 2,000
    stat = np.full((N, N, Kw), np.nan, np.float32)
    tstat = np.full((N, N, K), np.nan, np.float32) if matched else stat
    n_used = np.zeros((N, N), np.float32)
    M = np.stack([s_ / s_.sum() for s_ in sel], axis=1)  # (L, Kw): window means
    MG = np.concatenate([M, G], axis=1) if matched else M
    for i0 in range(0, N, block):  # blocks of presynaptic neurons bound the memory
        i1 = min(N, i0 + block)
        resid, n_used[i0:i1] = _block_residuals(sums, i0, i1, base, P, lags, resp)
        # window means and kernel amplitudes in one product (NaN anywhere in a
        # curve → NaN: the pair is untested)
        out = resid @ MG
        stat[i0:i1] = out[..., :Kw]
        if matched:
            tstat[i0:i1] = out[..., Kw:]
    tested = (n_used >= p.min_pre_spikes) & ~np.eye(N, dtype=bool) & np.all(np.isfinite(stat), axis=2)
    if matched:
        tested &= np.all(np.isfinite(tstat), axis=2)
    # statistics × √n in place (N² × tests arrays dominate memory: no copies)
    sq = np.sqrt(np.maximum(n_used, 1))[..., None]
    stat *= sq
    if matched:
        tstat *= sq
    center_w, scale_w = _calibrate(stat, tested)
    best_w, _ = best_test(stat, center_w, scale_w)
    if matched:
        center, scale = _calibrate(tstat, tested, factor_scale=p.factor_scale)
        pre_shift = None
        if p.pre_center:
            pre_shift = presynaptic_shift(tstat, tested, center, scale, p.pre_center_shrink)
            subtract_pre_center(tstat, tested, pre_shift, scale)
            center, scale = _calibrate(tstat, tested, factor_scale=p.factor_scale)
        best, zbest = best_test(tstat, center, scale)
    else:
        best, zbest = best_test(stat, center_w, scale_w)
    zbest = np.where(tested, zbest, np.float32(np.nan))
    zmax = np.abs(zbest).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        window_mean = np.take_along_axis(stat, best_w[..., None], axis=2)[..., 0] / sq[..., 0]
        amplitude = (np.take_along_axis(tstat, best[..., None], axis=2)[..., 0] / sq[..., 0]
                     if matched else window_mean)
    del stat, tstat
    pmin = np.where(np.isfinite(zmax), 2.0 * ndtr(-np.nan_to_num(zmax)), np.inf)
    # the tests overlap, so their z are correlated and Bonferroni over K is
    # conservative: use the effective number of independent tests, measured
    # on the (mostly null) tested pairs as P(max |z| > 2) / P(|z| > 2)
    k_eff = float(K)
    zt = zmax[tested]
    if zt.size >= 1000:
        k_eff = float(np.clip(np.mean(zt > 2.0) / (2.0 * ndtr(-2.0)), 1.0, K))
    pval = np.where(tested, np.minimum(1.0, pmin * k_eff), np.nan)
    w = np.ones((N, N))
    if p.distance_weighted and distance_um is not None:
        w = distance_weights(pval, distance_um)
        with np.errstate(invalid="ignore", divide="ignore"):
            q = bh((pval / w).ravel()).reshape(N, N)
    else:
        q = bh(pval.ravel()).reshape(N, N)
    return PairStats(tested=tested, z_best=zbest, p=pval, q=q, best=best, n_used=n_used,
                     scale=scale_w, windows_ms=tests, k_eff=k_eff, window_mean=window_mean, lags_ms=lags,
                     best_window=best_w, amplitude=amplitude,
                     filters=G if matched else None, kernel_meta=meta if matched else None,
                     test_center=center if matched else None, test_scale=scale if matched else None,
                     bh_weight=w.astype(np.float32), pre_shift=pre_shift if matched else None)


def presynaptic_shift(t: np.ndarray, tested: np.ndarray, center: np.ndarray, scale: np.ndarray,
                      shrink: float, min_partners: int = 10) -> np.ndarray:
    """Each presynaptic neuron's shared response (pre, test) in null-z units: what its spikes do to all cells.

    A neuron that fires mostly inside network events (bursts) sees every
    post-synaptic cell depolarised after its spikes, connected or not; a
    neuron that tends to fire just after others sees the tail of their input.
    Either way the response is common to the neuron's whole row of pairs, and
    the per-post empirical null (one centre per post over its presynaptic
    partners) cannot remove it: it shifts that neuron's unconnected pairs
    towards significance and, by mixing rows of different centres, widens
    every post's null scale, which costs the other pairs' z. The shift of
    row ``i`` under test ``k`` is the median over its tested partners ``j``
    of ``(t[i, j, k] − center[j, k]) / scale[j, k]`` (the additive two-way
    model of Tukey's median polish, Tukey 1977, *Exploratory Data
    Analysis*, ch. 11), soft-thresholded by ``shrink`` standard errors of a
    median (1.2533 × robust SD / √partners): a row whose median is within
    noise of zero is left alone, so a network without shared responses is
    unchanged. Rows with fewer than ``min_partners`` partners get 0. A
    presynaptic neuron with many true outputs of one sign shifts its own
    median by at most ≈ 0.67 SD (outputs to a third of the network).
    """
    d, dmad, dn = pre_center(t, tested, center, scale)
    se = 1.2533 * 1.4826 * dmad / np.sqrt(np.maximum(dn, 1))[:, None]
    with np.errstate(invalid="ignore"):
        d = np.sign(d) * np.maximum(np.abs(d) - shrink * se, 0.0)
    d = np.nan_to_num(d, nan=0.0).astype(np.float32)
    d[dn < min_partners] = 0.0
    return d


def _calibrate(t: np.ndarray, tested: np.ndarray, factor_scale: bool = False):
    """Empirical null (centre, scale), each (post, test), of statistics t (pre, post, test).

    The null of each post-synaptic neuron and test is the median and 1.4826 ×
    MAD of its tested presynaptic partners' statistics.
    """
    center, mad = null_center_scale(t, tested)
    scale = (1.4826 * mad).astype(np.float32)
    few = tested.sum(axis=0) < 30
    if few.any() and tested.any():
        # too few presynaptic partners for a per-neuron null: pool over neurons,
        # after normalising each post-synaptic neuron by its own scale over all
        # tests (the pool: up to 256 neurons evenly spread, plus those with few partners)
        N = t.shape[1]
        posts = np.union1d(np.unique(np.linspace(0, N - 1, min(N, 256)).astype(np.int64)), np.flatnonzero(few))
        _, s_all = post_center_scale(t, tested, posts)
        s_all = (1.4826 * s_all).astype(np.float32)
        gc, gs = pooled_center_scale(t, tested, s_all, 1 << 20)
        center[few] = (gc[None, :] * s_all[:, None])[few]
        scale[few] = (1.4826 * gs[None, :] * s_all[:, None])[few]
    if factor_scale and tested.any():
        # scale = (post neuron's level) × (kernel's factor): 2 numbers per post
        # neuron instead of one per (post, test), estimated on N × K values
        # instead of N, so that the maximum over many tests does not pick
        # the tests whose scale happened to be underestimated
        import warnings

        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: untested neurons
            s_post = np.nanmedian(scale, axis=1, keepdims=True)  # (N, 1)
            tau = np.nanmedian(scale / s_post, axis=0, keepdims=True)  # (1, K)
        scale = (s_post * tau).astype(np.float32)
    return center, scale
