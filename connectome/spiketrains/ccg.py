"""Pairwise connectivity from cross-correlograms: the slow-rate predictor test.

For an ordered pair pre → post, the correlogram counts post spikes at each lag
after a pre spike. Its *predictor* is the same correlogram convolved with a
partially hollow Gaussian (σ = 10 ms, 60 % of the central bin removed): it
follows everything slower than a few ms — rate co-modulation, network bursts,
shared slow drive — but not a sharp monosynaptic peak or trough (Stark &
Abeles 2009, J Neurosci Methods 179:90). A synapse is an excess (excitatory)
or deficit (inhibitory) of counts over the predictor in the monosynaptic
window (1–5 ms; 1–8 ms for a deficit), Poisson mid-p values, that is also larger than the mirror
(anticausal) side of the correlogram, which rejects zero-centred peaks of
shared input (English et al. 2017, Neuron 96:505: "p_fast" and "p_causal";
the pair's p is the larger of the two, an intersection–union test).
Benjamini–Hochberg over every tested pair gives q.

Spike-sorting artefacts show at zero lag (Hill et al. 2011, J Neurosci
31:8699): one neuron split in two units (or the same spikes in two units)
makes a sharp peak within ± half a bin; two units of one electrode whose
overlapping spikes the sorter missed make a symmetric trough within ± 1.5
bins. Such pairs are flagged and never called synapses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

LN10 = np.log(10.0)
FLAG_NONE, FLAG_DUPLICATE, FLAG_TROUGH = 0, 1, 2
FLAG_NAMES = {FLAG_NONE: "", FLAG_DUPLICATE: "zero_lag_peak", FLAG_TROUGH: "zero_lag_trough"}


def hollow_gaussian(bin_ms: float, sigma_ms: float, hollow_fraction: float, n_sigmas: float) -> np.ndarray:
    """The partially hollow Gaussian kernel (sum 1), one value per bin, centred."""
    h = int(np.ceil(n_sigmas * sigma_ms / bin_ms))
    x = np.arange(-h, h + 1) * bin_ms
    k = np.exp(-0.5 * (x / sigma_ms) ** 2)
    k[h] *= 1.0 - hollow_fraction
    return k / k.sum()


def _poisson_logpmf(n, lam):
    lam = np.maximum(lam, 1e-300)
    return n * np.log(lam) - lam - special.gammaln(n + 1.0)


def _dev_z(n, lam):
    """Signed root of the Poisson deviance (a z for tails too far out for float64)."""
    lam = np.maximum(lam, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(n > 0, n * np.log(np.maximum(n, 1e-300) / lam), 0.0) - (n - lam)
    return np.sign(n - lam) * np.sqrt(np.maximum(2.0 * t, 0.0))


def log_poisson_up(n, lam):
    """log of the mid-p ``P(N > n) + P(N = n) / 2``, N ~ Poisson(lam) (Stark & Abeles 2009)."""
    n = np.asarray(n, np.float64)
    lam = np.asarray(lam, np.float64)
    p = special.pdtrc(n, lam) + 0.5 * np.exp(_poisson_logpmf(n, lam))
    with np.errstate(divide="ignore"):
        lp = np.log(np.minimum(p, 1.0))
    far = p < 1e-280
    if far.any():
        lp = np.where(far, special.log_ndtr(-_dev_z(n, lam)), lp)
    return lp


def log_poisson_low(n, lam):
    """log of the mid-p ``P(N < n) + P(N = n) / 2``."""
    n = np.asarray(n, np.float64)
    lam = np.asarray(lam, np.float64)
    below = np.where(n > 0, special.pdtr(np.maximum(n - 1.0, 0.0), lam), 0.0)
    p = below + 0.5 * np.exp(_poisson_logpmf(n, lam))
    with np.errstate(divide="ignore"):
        lp = np.log(np.minimum(p, 1.0))
    far = p < 1e-280
    if far.any():
        lp = np.where(far, special.log_ndtr(_dev_z(n, lam)), lp)
    return lp


def log_binom_up(x, other):
    """log mid-p that ``x`` exceeds ``other`` if both are Poisson of one rate: X | X+Y ~ Bin(X+Y, 1/2)."""
    x = np.asarray(x, np.float64)
    tot = x + np.asarray(other, np.float64)
    gt = np.where(
        x < tot,
        special.bdtrc(np.minimum(x, tot - 1).astype(np.int64), np.maximum(tot, 1).astype(np.int64), 0.5),
        0.0,
    )
    eq = np.exp(
        special.gammaln(tot + 1) - special.gammaln(x + 1) - special.gammaln(tot - x + 1) - tot * np.log(2.0)
    )
    p = np.where(tot > 0, gt + 0.5 * eq, 1.0)
    with np.errstate(divide="ignore"):
        lp = np.log(np.minimum(p, 1.0))
    far = p < 1e-280
    if far.any():
        z = (x - tot / 2) / np.sqrt(np.maximum(tot, 1) / 4)
        lp = np.where(far, special.log_ndtr(-z), lp)
    return lp


def log_binom_low(x, other):
    """log mid-p that ``x`` falls short of ``other`` (see :func:`log_binom_up`)."""
    return log_binom_up(other, x)


@dataclass
class PairStats:
    """Every tested ordered pair's statistics (flat arrays over the pairs ``pre[k] → post[k]``)."""

    pre: np.ndarray
    post: np.ndarray
    log_p: np.ndarray  # natural log of the pair's p (both signs, both tests)
    q: np.ndarray
    sign: np.ndarray  # +1 excess (excitatory), −1 deficit (inhibitory)
    latency_ms: np.ndarray  # centre of the most significant bin in the window
    efficacy: np.ndarray  # Σ (count − predictor) over the window / pre spikes
    excess: np.ndarray  # Σ (count − predictor) over the window (spikes)
    flag: np.ndarray  # FLAG_* (zero-lag artefacts)
    onset_log_p: np.ndarray  # log p of a same-sign deviation already at lags ≤ 0 (bins −2 … 0)


def _window(lags, w):
    return np.flatnonzero((lags >= w[0] - 1e-9) & (lags <= w[1] + 1e-9))


def pair_tests(
    counts: np.ndarray,
    pred: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    n_pre: np.ndarray,
    n_post: np.ndarray,
    bin_ms: float,
    window_ms: tuple,
    window_inh_ms: tuple,
    n_center: int,
    duplicate_alpha: float,
    n_pairs_family: int,
) -> PairStats:
    """Tests of the central bins ``counts``/``pred`` (``(P, 2 n_center + 1)``) of ``P`` ordered pairs."""
    n = counts.astype(np.float64)
    lam = pred.astype(np.float64)
    lags = (np.arange(2 * n_center + 1) - n_center) * bin_ms
    P = len(pre)
    rows = np.arange(P)
    # excitatory: best single bin (Bonferroni over the window's bins) or the window sum, then the causal test
    win = _window(lags, window_ms)
    anti = 2 * n_center - win  # the mirror bins
    nW, lW, nA = n[:, win], lam[:, win], n[:, anti]
    S, L, SA = nW.sum(1), lW.sum(1), nA.sum(1)
    lup = log_poisson_up(nW, lW)
    kb_e = np.argmin(lup, axis=1)
    lbin_e = lup[rows, kb_e] + np.log(len(win))
    lsum_e = log_poisson_up(S, L)
    lfast_e = np.minimum(np.minimum(lbin_e, lsum_e) + np.log(2.0), 0.0)
    use_bin = lbin_e <= lsum_e
    lcaus_e = np.where(use_bin, log_binom_up(nW[rows, kb_e], nA.max(1)), log_binom_up(S, SA))
    lp_e = np.maximum(lfast_e, lcaus_e)
    # inhibitory: deficits; single bins of the inhibitory window, its sum, and the sum over its part that
    # overlaps the excitatory window (a short trough), Bonferroni over the three
    wi = _window(lags, window_inh_ms)
    ws = wi[lags[wi] <= window_ms[1] + 1e-9]
    nI, lI = n[:, wi], lam[:, wi]
    llo = log_poisson_low(nI, lI)
    kb_i = np.argmin(llo, axis=1)
    lbin_i = llo[rows, kb_i] + np.log(len(wi))
    sums = []
    for w_ in (wi, ws):
        a_ = 2 * n_center - w_
        sw, lw, sa = n[:, w_].sum(1), lam[:, w_].sum(1), n[:, a_].sum(1)
        sums.append((log_poisson_low(sw, lw), log_binom_low(sw, sa), sw - lw))
    lsum_i = np.minimum(sums[0][0], sums[1][0])
    short = sums[1][0] < sums[0][0]
    lfast_i = np.minimum(np.minimum(lbin_i, lsum_i) + np.log(3.0), 0.0)
    lcaus_i = np.where(short & (lsum_i <= lbin_i), sums[1][1], sums[0][1])
    lp_i = np.maximum(lfast_i, lcaus_i)
    SI_LI = np.where(short, sums[1][2], sums[0][2])
    exc = lp_e <= lp_i
    log_p = np.minimum(np.minimum(lp_e, lp_i) + np.log(2.0), 0.0)
    sign = np.where(exc, 1, -1).astype(np.int8)
    latency = np.where(exc, lags[win][kb_e], lags[wi][kb_i])
    excess = np.where(exc, S - L, SI_LI)
    efficacy = excess / np.maximum(n_pre, 1)
    flag = zero_lag_flags(n, lam, n_center, n_pre, n_post, duplicate_alpha / max(1, n_pairs_family))
    s0, l0 = n[:, n_center - 2 : n_center + 1].sum(1), lam[:, n_center - 2 : n_center + 1].sum(1)
    onset = np.where(exc, log_poisson_up(s0, l0), log_poisson_low(s0, l0))
    return PairStats(pre, post, log_p, bh_q(log_p), sign, latency, efficacy, excess, flag, onset)


def zero_lag_flags(n, lam, c, n_pre, n_post, alpha):
    """FLAG_DUPLICATE for a sharp zero-lag peak, FLAG_TROUGH for a narrow trough within ±1.5 bins.

    Both must be narrow: the peak's zero-lag excess above the predictor exceeds
    that of the two neighbouring bins together, and is at least 1 % of the
    smaller train (a split unit shares a sizeable part of its spikes); the
    trough's three central bins fall short of three times the lower of the
    mean counts at 2–4 bins on either side (a sorter's blind spot for
    overlapping spikes; a refractory shadow or the gap between two peaks is
    wider).
    """
    la = np.log(alpha)
    ex0 = n[:, c] - lam[:, c]
    side = (n[:, c - 1] - lam[:, c - 1]) + (n[:, c + 1] - lam[:, c + 1])
    small = np.minimum(n_pre, n_post)
    peak = (log_poisson_up(n[:, c], lam[:, c]) < la) & (ex0 > side) & (ex0 >= 0.01 * small)
    s3 = n[:, c - 1 : c + 2].sum(1)
    nb = 3.0 * np.minimum(n[:, c - 4 : c - 1].mean(1), n[:, c + 2 : c + 5].mean(1))
    trough = (log_poisson_low(s3, nb) < la) & (log_poisson_low(s3, lam[:, c - 1 : c + 2].sum(1)) < la)
    return np.where(peak, FLAG_DUPLICATE, np.where(trough, FLAG_TROUGH, FLAG_NONE)).astype(np.int8)


def reverse_shadow(
    log_p: np.ndarray, sign: np.ndarray, significant: np.ndarray, N: int, pre, post
) -> np.ndarray:
    """Pairs whose effect is the shadow of a stronger opposite-sign effect in the reverse direction.

    A strong synapse b → a puts a peak at negative lags of the a → b
    correlogram; b, having just fired, is refractory when a fires, so the
    positive lags show a deficit that a correlogram test calls inhibition
    (and a reverse inhibitory trough, leaking into the predictor, an
    excitation). Of two significant opposite-sign directions of one pair, only
    the stronger (smaller p) is kept; same-sign reciprocal pairs are both kept.
    """
    lp = np.full((N, N), np.inf)
    sg = np.zeros((N, N), np.int8)
    sel = significant
    lp[pre[sel], post[sel]] = log_p[sel]
    sg[pre[sel], post[sel]] = sign[sel]
    rev_lp, rev_sg = lp[post, pre], sg[post, pre]
    return significant & (rev_sg == -sign) & (rev_lp < log_p)


def bh_q(log_p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg (1995, J R Stat Soc B 57:289) adjusted p-values of ``exp(log_p)``."""
    m = log_p.size
    if m == 0:
        return np.zeros(0)
    order = np.argsort(log_p, kind="stable")
    lq = log_p[order] + np.log(m) - np.log(np.arange(1, m + 1))
    lq = np.minimum.accumulate(lq[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.exp(np.minimum(lq, 0.0))
    return q
