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

The test used here is a **symmetric spikelet test** on every unordered pair
of neurons, independent of the chemical test (a junction whose transmitted AHP
outweighs its spikelet is often not significant as a PSP at all):

1. **Spikelet amplitude per direction** (:func:`spikelet_amplitudes`): the
   least-squares amplitude of a spikelet kernel — a low-passed AP, rise
   0.3 ms, decay 2 ms, beginning with the presynaptic upstroke at
   ``electrical_onset_ms`` (−0.25 ms) — in the baseline-subtracted
   spike-triggered average, by generalised least squares under the null
   noise covariance across lags (the same covariance the pairwise test
   whitens with, :func:`connectome.infer.stats.null_covariance`, with a light
   ridge ``electrical_whiten_ridge``): the membrane's slow fluctuation is the
   noise, and a *sharp* rise at zero lag is what no slow drive, and no
   chemical synapse, produces: a fast and a slow chemical PSP beginning at
   the earliest chemical latency (``electrical_chemical_onset_ms``, 0.8 ms)
   are fitted alongside, so that what they explain is not credited to the
   spikelet. The amplitude times √(usable
   spikes) is calibrated per postsynaptic neuron by the empirical null of all
   its tested partners (median, 1.4826 × MAD; pooled below 30 partners).
   Every direction with at least ``electrical_min_spikes`` usable spikes gets
   an amplitude ``b`` (mV) and its standard error ``se``.
2. **Both directions combined**: a junction is one symmetric element, so
   both directions estimate one spikelet amplitude; their inverse-variance
   weighted mean over its standard error is the pair's ``junction_z``
   (a weighted Stouffer combination: a direction whose presynaptic cell
   fires little counts little). One-sided p = Φ(−z), Benjamini–Hochberg over
   every unordered pair with both directions measured (and one tested),
   accepted at ``electrical_q`` (:func:`junction_test`).
3. **Symmetry**: the weaker direction must not be significantly smaller than
   ``electrical_symmetry`` × the stronger (z of the difference ≥
   −``electrical_symmetry_z``): a fast chemical EPSP in one direction, or a
   response artefact of one neuron, is one-sided; a junction's two
   spikelets differ only by the two cells' input resistances.

Every direction of an accepted junction that the pairwise test could test
(≥ ``min_pre_spikes``) is reported as an electrical edge, whether or not the
chemical test accepted it (:func:`junction_directions`).

The junction's size is the spikelet peak (``weight_mv``, somatic mV, as the
simulators' truth defines it), from a least-squares fit of a spikelet kernel
together with a slow component of free sign (the transmitted AHP, or a
chemical PSP of the same pair) so that the slow part does not bias it
(:func:`spikelet_fit`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ..spikes.kernels import nan_median_mad_rows
from .params import InferParams
from .sta import PairSums

#: Spikelet kinetics (rise, decay) in ms: a low-passed AP (AP half-width ≈ 1–2 ms,
#: junction and membrane filtering; Galarreta & Hestrin 1999).
SPIKELET_KINETICS_MS = (0.3, 2.0)
#: Slow component fitted alongside: the transmitted AHP / a PSP (rise, decay, ms).
SLOW_KINETICS_MS = (1.5, 20.0)
#: The chemical PSPs (fast, slow) the junction test fits beside the spikelet (rise, decay, ms).
CHEMICAL_KINETICS_MS = ((0.5, 5.0), (1.5, 20.0))


@dataclass
class Junctions:
    """Evidence of electrical coupling, every array (N, N)."""

    amplitude: np.ndarray  # spikelet amplitude per direction (somatic mV, null-centred); NaN unmeasured
    se: np.ndarray  # its standard error (mV)
    z: np.ndarray  # per direction: amplitude / se
    junction_z: np.ndarray  # per unordered pair (symmetric): the combined z; NaN where not tested
    q: np.ndarray  # Benjamini–Hochberg q of junction_z (symmetric)
    electrical: np.ndarray  # bool, symmetric: accepted junctions
    pairs_tested: int


def bin_averaged(lags_ms: np.ndarray, onset_ms: float, rise_ms: float, decay_ms: float) -> np.ndarray:
    """A difference-of-exponentials kernel (peak 1) averaged over each lag's bin, like the PSP templates."""
    from .classify import psp_kernel

    bin_ms = float(np.median(np.diff(lags_ms))) if lags_ms.size > 1 else 0.5
    sub = (np.arange(10) + 0.5) / 10.0 * bin_ms - bin_ms / 2.0
    return psp_kernel(lags_ms[:, None] + sub[None, :] - onset_ms, rise_ms, decay_ms).mean(axis=1)


def slow_noise_covariance(lags_ms: np.ndarray, tau_ms: float = 5.0, white: float = 0.1) -> np.ndarray:
    """A generic null covariance across lags where too few pairs estimate one (≲ 15 neurons).

    The membrane's background fluctuation is slow against the 0.5-ms lags
    (synaptic bombardment, τ of several ms): exp(−|Δlag|/``tau_ms``) plus
    ``white`` (electrode noise). Any such slow model makes the spikelet filter
    a *sharp-rise* detector, which white noise (ordinary least squares) would not.
    """
    d = np.abs(lags_ms[:, None] - lags_ms[None, :])
    return np.exp(-d / tau_ms) + white * np.eye(lags_ms.size)


def spikelet_filter(C: np.ndarray | None, lags_ms: np.ndarray, p: InferParams) -> np.ndarray:
    """(L,) generalised-least-squares filter of the spikelet amplitude, beside a chemical PSP.

    The design has three kernels: the spikelet (onset ``electrical_onset_ms``)
    and a fast and a slow chemical PSP (rise/decay 0.5/5 and 1.5/20 ms) at
    the earliest chemical onset ``electrical_chemical_onset_ms``, so that a
    chemical PSP of either sign is credited to them and only a rise *before*
    transmitter release (zero latency) to the spikelet. ``r @ g`` is the spikelet's
    coefficient of (X'C⁻¹X)⁻¹X'C⁻¹r (Kay 1998, *Fundamentals of statistical
    signal processing*, §4.6). ``C`` None (too few neurons to estimate it):
    :func:`slow_noise_covariance`.
    """
    chem = [bin_averaged(lags_ms, p.electrical_chemical_onset_ms, *k) for k in CHEMICAL_KINETICS_MS]
    X = np.stack([bin_averaged(lags_ms, p.electrical_onset_ms, *SPIKELET_KINETICS_MS)] + chem, axis=1)
    L = X.shape[0]
    if C is None:
        C = slow_noise_covariance(lags_ms)
    Cr = C + p.electrical_whiten_ridge * np.trace(C) / L * np.eye(L)
    CiX = np.linalg.solve(Cr, X)  # (L, 2)
    return np.linalg.solve(X.T @ CiX, CiX.T)[0]


def residual_filter(lags_ms: np.ndarray, p: InferParams) -> np.ndarray:
    """(L, L) matrix M: ``sta @ M`` is the residual curve of :func:`connectome.infer.stats.residual_curves`.

    The residual (the spike-triggered average minus its baseline level, or a
    line with ``detrend``) is linear in the average, so any filter of the
    residual is one filter of the raw average: the product with the pairwise
    sums then runs over contiguous blocks, without gathering pairs.
    """
    from .stats import residual_curves

    L = lags_ms.size
    eye = np.eye(L, dtype=np.float32)[:, :, None]  # L unit curves, one "pre" each, one "post"
    unit = PairSums(acc=eye, cnt=np.ones_like(eye), lags_ms=lags_ms, n_pre_spikes=np.ones(L, np.int64))
    return residual_curves(unit, np.arange(L), np.zeros(L, np.int64), p)  # row k: residual of unit curve k


def spikelet_amplitudes(sums: PairSums, tested: np.ndarray, n_used: np.ndarray, p: InferParams,
                        C: np.ndarray | None = None, block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Per ordered pair, the spikelet amplitude (mV, null-centred) and its standard error (NaN: unmeasured).

    The amplitude × √n of every pair is calibrated per postsynaptic neuron
    (column) by the median and 1.4826 × MAD over its tested presynaptic
    partners (pooled over neurons below 30 partners): amplitude = (s −
    median)/√n, se = MAD/√n. Pairs with fewer than ``electrical_min_spikes``
    usable spikes, or a missing lag, are NaN. Blocks of presynaptic neurons
    bound the memory (block × N × lags).
    """
    N = sums.acc.shape[0]
    amp = np.full((N, N), np.nan, np.float64)
    se = np.full((N, N), np.nan, np.float64)
    if N < 2:
        return amp, se
    g = residual_filter(sums.lags_ms, p) @ spikelet_filter(C, sums.lags_ms, p)  # (L,) on the raw STA
    s = np.full((N, N), np.nan, np.float64)
    for i0 in range(0, N, block):
        i1 = min(N, i0 + block)
        c = sums.cnt[i0:i1]
        with np.errstate(invalid="ignore", divide="ignore"):
            sta = np.where(c > 0, sums.acc[i0:i1] / c, np.nan)  # (b, L, N); a lag without samples → NaN
        s[i0:i1] = np.einsum("blj,l->bj", sta, g)
    n = np.asarray(n_used, np.float64)
    usable = (n >= p.electrical_min_spikes) & ~np.eye(N, dtype=bool) & np.isfinite(s)
    s = s * np.sqrt(np.maximum(n, 1.0))
    sT = np.where(tested, s, np.nan).astype(np.float32)
    med, mad = nan_median_mad_rows(sT)  # per column (postsynaptic neuron), compiled; NaN where untested
    med, mad = med.astype(np.float64), 1.4826 * mad.astype(np.float64)
    n_col = np.sum(np.isfinite(sT), axis=0)
    enough = (n_col >= 30) & (mad > 0)
    with warnings.catch_warnings():  # no column with a positive scale: all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        pooled = np.nanmedian(mad[enough]) if enough.any() else np.nanmedian(np.where(mad > 0, mad, np.nan))
    if not np.isfinite(pooled):
        return amp, se
    mad = np.where(enough, mad, pooled)
    med = np.where(np.isfinite(med), med, np.nanmedian(med) if np.isfinite(med).any() else 0.0)
    rn = np.sqrt(np.maximum(n, 1.0))
    amp = np.where(usable, (s - med[None, :]) / rn, np.nan)
    se = np.where(usable, mad[None, :] / rn, np.nan)
    return amp, se


def junction_test(amp: np.ndarray, se: np.ndarray, tested: np.ndarray, p: InferParams) -> Junctions:
    """The symmetric test on every unordered pair (see the module docstring)."""
    from .stats import bh

    N = amp.shape[0]
    z_dir = amp / se
    iu = np.triu_indices(N, 1)
    b1, b2, s1, s2 = amp[iu], amp.T[iu], se[iu], se.T[iu]
    both = np.isfinite(b1) & np.isfinite(b2) & (tested[iu] | tested.T[iu])
    with np.errstate(invalid="ignore", divide="ignore"):
        w1, w2 = 1.0 / s1 ** 2, 1.0 / s2 ** 2
        W = w1 + w2
        mean = (b1 * w1 + b2 * w2) / W  # inverse-variance weighted: one junction, one amplitude
        Z = np.where(both, mean * np.sqrt(W), np.nan)
        strong = b1 >= b2
        bs, bw = np.where(strong, b1, b2), np.where(strong, b2, b1)
        ss, sw = np.where(strong, s1, s2), np.where(strong, s2, s1)
        rho = p.electrical_symmetry
        d = (bw - rho * bs) / np.sqrt(sw ** 2 + rho ** 2 * ss ** 2)
    pv = np.where(both, ndtr(-np.nan_to_num(Z)), np.nan)
    qv = bh(pv)
    acc = both & (qv <= p.electrical_q) & (d >= -p.electrical_symmetry_z)
    JZ = np.full((N, N), np.nan, np.float32)
    Q = np.full((N, N), np.nan, np.float64)
    E = np.zeros((N, N), bool)
    for M, v in ((JZ, Z), (Q, qv), (E, acc)):
        M[iu] = v
        M[iu[1], iu[0]] = v
    return Junctions(amplitude=amp, se=se, z=z_dir, junction_z=JZ, q=Q, electrical=E,
                     pairs_tested=int(both.sum()))


def find_junctions(sums: PairSums, st, p: InferParams) -> Junctions:
    """Spikelet amplitudes of every pair, then the symmetric junction test."""
    from .stats import null_covariance

    C = null_covariance(sums, p, n_pre_max=64)  # it only weighs the lags: 64 × N curves suffice
    amp, se = spikelet_amplitudes(sums, st.tested, st.n_used, p, C)
    return junction_test(amp, se, st.tested, p)


def junction_directions(j: Junctions, tested: np.ndarray, accepted: np.ndarray):
    """(pre, post) of the tested directions of accepted junctions that the pairwise test did not accept.

    A junction passes current both ways: each direction whose presynaptic
    neuron fires enough to be tested is the same junction seen from the other
    side, so it is reported too.
    """
    a, b = np.nonzero(j.electrical & tested & ~accepted)
    return a.astype(np.int64), b.astype(np.int64)


def spikelet_fit(resid: np.ndarray, lags_ms: np.ndarray, bin_ms: float,
                 onsets_ms=(-0.5, -0.25, 0.0, 0.25, 0.5), peak_within_ms: float = 5.0):
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
    # (2, T): both kernels on a fine grid after the onset
    k_fine = np.stack([psp_kernel(fine, *SPIKELET_KINETICS_MS), psp_kernel(fine, *SLOW_KINETICS_MS)])
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
