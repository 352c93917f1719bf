"""Functional fidelity: simulate the copied and the pasted network under the same drive and compare activity.

Model (parameters on :class:`LIFParams`, reasons in docs/fidelity.md)
---------------------------------------------------------------------
Current-based leaky integrate-and-fire neurons with exponential synapses and
spike-frequency adaptation::

    dV/dt = −(V + A)/τ_m + x_e + x_i          (V relative to rest, mV)
    dx/dt = −x/τ_s                             (τ_e or τ_i; a spike adds J)
    dA/dt = −A/τ_a                             (a spike adds b)

with V ≥ θ → spike, V ← V_reset, refractory period; forward Euler at
``dt_ms``. Each synapse's jump J is set so that a single presynaptic spike
gives a PSP whose peak is the synapse's weight in mV (weights in the
connectome are PSP peaks at the soma, DESIGN.md): J = w / K(τ_s), K the
peak of the discrete kernel. Positive weights drive x_e, negative ones x_i;
electrical synapses (spikelets) are treated as excitatory PSPs of their
weight (no sub-threshold coupling). Each synapse delivers after its copied
delay (``delay_ms``, rounded to steps, at least one step; a missing delay
becomes ``default_delay_ms``) through a ring buffer of delay slots.

External drive: independent Poisson events per neuron, each a PSP of
``drive_psp_mv``; the event rate is calibrated (bisection on an unconnected
population, cached per parameter set) so that a neuron *without* recurrent
input fires at ``intrinsic_rate_hz``. Recurrent connectivity and adaptation
then shape rates, correlations and network bursts. Both networks get the
same drive realisation (same seed); a third run of the copied network with
another drive seed gives the reference score (trial-to-trial variability of
one network).

Comparison
----------
- firing rates: Pearson correlation of per-neuron rates, and the relative L1
  difference Σ|r_b − r_a| / Σ r_a (``rate_abs_rel_diff``); the per-neuron
  mean |r_b − r_a| / r_a over neurons with ≥ 5 spikes in the copied network
  is reported too;
- pairwise spike-count correlations in ``bin_ms`` bins among the (up to)
  ``max_corr_neurons`` most active neurons of the copied network:
  Pearson correlation of the two correlation matrices' upper triangles;
- network bursts: runs of ≥ 2 bins in which the number of neurons that
  spike reaches a threshold set on the copied network (:func:`burst_threshold`:
  at least ``burst_fraction`` of the neurons, at least 3, and beyond what
  independent firing at its mean level reaches in any bin of the run with
  5 % probability), merged across gaps < ``burst_merge_ms``; rate (per s)
  and mean duration.

Score in [0, 1]: the geometric mean of four components, each 1 for identical
activity — max(0, rate correlation), max(0, 1 − rate_abs_rel_diff),
max(0, correlation of correlations), and the burst similarity
1 − |n_a − n_b|/(n_a + n_b + 2) over burst counts (one pseudo-burst added to
each side, so that one burst more or less in a short run does not zero the
score; 1 when neither network bursts), times 1 − |d_a − d_b|/max(d_a, d_b)
over mean burst durations when both burst. A correlation that is undefined (constant rates) counts 1
if both sides are identical, else 0.

Examples
--------
>>> import numpy as np
>>> p = LIFParams(duration_s=2.0)
>>> pre, post = np.array([0, 1, 2]), np.array([1, 2, 0])
>>> w = np.array([2.0, 2.0, -1.0]); d = np.array([1.0, 2.0, 1.5])
>>> r = compare_networks(np.arange(3), pre, post, d, w, w.copy(), p, seed=1)
>>> r["score"]
1.0
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class LIFParams:
    """Spiking-network model and comparison parameters (units in the names).

    Defaults: τ_m 20 ms, threshold 20 mV above rest and reset 10 mV (Brunel
    2000 J. Comput. Neurosci.'s standard LIF network); AMPA-like τ_e 3 ms and
    GABA_A-like τ_i 10 ms; 2-ms refractory period; adaptation b = 2 mV with
    τ_a = 1 s (slow afterhyperpolarisation that ends network bursts, as in
    models of cultured networks); external PSPs of 0.5 mV; intrinsic rate
    1 Hz (cultured cortical neurons fire spontaneously at ≈ 0.1–1 Hz outside
    bursts, reference neuro-recordings.md). These are modelling choices, not
    device facts; every one is recorded in the report.
    """

    duration_s: float = 30.0
    dt_ms: float = 0.1
    tau_m_ms: float = 20.0
    tau_exc_ms: float = 3.0
    tau_inh_ms: float = 10.0
    threshold_mv: float = 20.0
    reset_mv: float = 10.0
    refractory_ms: float = 2.0
    adaptation_mv: float = 2.0
    tau_adaptation_ms: float = 1000.0
    drive_psp_mv: float = 0.5
    intrinsic_rate_hz: float = 1.0
    default_delay_ms: float = 1.0
    bin_ms: float = 10.0
    max_corr_neurons: int = 200
    burst_fraction: float = 0.05
    burst_merge_ms: float = 50.0
    max_rate_hz: float = 200.0
    reference: bool = True

    def __post_init__(self):
        checks = [("duration_s", self.duration_s > 0), ("dt_ms", 0 < self.dt_ms <= 1.0),
                  ("tau_m_ms", self.tau_m_ms > self.dt_ms), ("tau_exc_ms", self.tau_exc_ms > 0),
                  ("tau_inh_ms", self.tau_inh_ms > 0), ("threshold_mv", self.threshold_mv > self.reset_mv),
                  ("refractory_ms", self.refractory_ms >= 0), ("adaptation_mv", self.adaptation_mv >= 0),
                  ("tau_adaptation_ms", self.tau_adaptation_ms > 0), ("drive_psp_mv", self.drive_psp_mv > 0),
                  ("intrinsic_rate_hz", 0 < self.intrinsic_rate_hz < 100),
                  ("bin_ms", self.bin_ms >= self.dt_ms), ("max_corr_neurons", self.max_corr_neurons >= 2),
                  ("burst_fraction", 0 < self.burst_fraction <= 1)]
        for name, ok in checks:
            if not ok:
                raise ConfigError(f"invalid functional-simulation parameter {name}={getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def psp_peak_per_jump(tau_m_ms: float, tau_s_ms: float, dt_ms: float) -> float:
    """Peak (mV) of the discrete PSP that a unit jump of the synaptic variable produces."""
    n = int(10 * (tau_m_ms + tau_s_ms) / dt_ms) + 10
    x = np.exp(-dt_ms / tau_s_ms) ** np.arange(n)
    v = 0.0
    peak = 0.0
    k = dt_ms / tau_m_ms
    for xi in x:  # ≈ 10⁴ steps, once per parameter set
        v += -k * v + dt_ms * xi
        peak = max(peak, v)
    return peak


def _steps(p: LIFParams) -> int:
    return int(round(p.duration_s * 1000.0 / p.dt_ms))


def simulate(n: int, pre_ix, post_ix, weight_mv, delay_ms, p: LIFParams, ext_rate_hz: float, seed: int):
    """Spike steps and neurons of one network run (see module docstring)."""
    from ._lif import run_lif

    pre_ix = np.asarray(pre_ix, np.int64)
    w = np.asarray(weight_mv, np.float64)
    d = np.asarray(delay_ms, np.float64)
    d = np.where(np.isfinite(d), d, p.default_delay_ms)
    keep = (w != 0) & np.isfinite(w)
    pre_ix, post_ix, w, d = pre_ix[keep], np.asarray(post_ix, np.int64)[keep], w[keep], d[keep]
    o = np.argsort(pre_ix, kind="stable")
    pre_ix, post_ix, w, d = pre_ix[o], post_ix[o], w[o], d[o]
    ptr = np.searchsorted(pre_ix, np.arange(n + 1)).astype(np.int64)
    exc = w > 0
    k_e = psp_peak_per_jump(p.tau_m_ms, p.tau_exc_ms, p.dt_ms)
    k_i = psp_peak_per_jump(p.tau_m_ms, p.tau_inh_ms, p.dt_ms)
    jump = np.where(exc, w / k_e, w / k_i)
    steps = np.maximum(1, np.rint(np.maximum(d, 0.0) / p.dt_ms)).astype(np.int64)
    max_spikes = int(n * p.duration_s * p.max_rate_hz) + 16
    t, nn, total = run_lif(n, ptr, post_ix.astype(np.int64), steps, jump, exc.astype(np.uint8), _steps(p),
                           p.dt_ms,
                           p.tau_m_ms, p.tau_exc_ms, p.tau_inh_ms, p.threshold_mv, p.reset_mv,
                           int(round(p.refractory_ms / p.dt_ms)), p.tau_adaptation_ms, p.adaptation_mv,
                           ext_rate_hz * p.dt_ms * 1e-3, p.drive_psp_mv / k_e, np.int64(seed) % (2 ** 32),
                           max_spikes)
    return t, nn, int(total), max_spikes


@functools.lru_cache(maxsize=16)
def calibrate_drive(p: LIFParams, n_cal: int = 200, duration_s: float = 10.0) -> float:
    """External event rate (Hz per neuron) that makes an unconnected neuron fire at ``intrinsic_rate_hz``."""
    q = LIFParams(**{**p.to_dict(), "duration_s": duration_s})
    empty = np.zeros(0, np.int64)

    def rate(r_ext):
        _, _, total, _ = simulate(n_cal, empty, empty, np.zeros(0), np.zeros(0), q, r_ext, seed=12345)
        return total / (n_cal * duration_s)

    k_e = psp_peak_per_jump(p.tau_m_ms, p.tau_exc_ms, p.dt_ms)
    area_ms = p.tau_m_ms * p.tau_exc_ms / k_e  # mean depolarisation per (event/ms) per mV of PSP peak
    lo, hi = 0.0, 2.0 * p.threshold_mv / (p.drive_psp_mv * area_ms) * 1000.0
    while rate(hi) < p.intrinsic_rate_hz:
        hi *= 2.0
        if hi > 1e7:
            raise ConfigError("cannot calibrate the external drive: neurons do not fire "
                              "(check the LIF parameters)")
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if rate(mid) < p.intrinsic_rate_hz:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-3 * hi:
            break
    return 0.5 * (lo + hi)


# ------------------------------------------------------------------- statistics
def _corr(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2:
        return 1.0 if np.array_equal(a, b) else float("nan")
    sa, sb = a.std(), b.std()
    if sa == 0 or sb == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(np.corrcoef(a, b)[0, 1])


def bursts(active: np.ndarray, threshold: float, bin_ms: float, merge_ms: float, duration_s: float) -> dict:
    """Network bursts in a per-bin count of active neurons (see module docstring)."""
    above = active >= threshold
    idx = np.flatnonzero(above)
    runs = []
    if idx.size:
        gap = int(math.ceil(merge_ms / bin_ms))
        start = idx[0]
        last = idx[0]
        for i in idx[1:]:
            if i - last > gap:
                runs.append((start, last))
                start = i
            last = i
        runs.append((start, last))
    runs = [(a, b) for a, b in runs if b - a + 1 >= 2]
    dur = np.array([(b - a + 1) * bin_ms for a, b in runs])
    return {"count": len(runs), "rate_hz": len(runs) / duration_s,
            "mean_duration_ms": float(dur.mean()) if len(dur) else 0.0}


def burst_threshold(active_a: np.ndarray, n: int, p: LIFParams) -> float:
    """Active neurons per bin that make a bin part of a burst (from the copied network's activity).

    At least ``burst_fraction`` of the neurons, at least 3, and more than
    independent firing at the copied network's mean level would reach in any
    bin of the run with probability 5 % (Poisson tail).
    """
    from scipy.stats import poisson

    lam = float(active_a.mean()) if len(active_a) else 0.0
    c = 3
    if lam > 0:
        c = max(c, int(poisson.isf(0.05 / max(len(active_a), 1), lam)) + 1)
    return float(max(c, math.ceil(p.burst_fraction * n)))


def burst_similarity(a: dict, b: dict) -> float:
    """Count similarity with one pseudo-burst added to each side, times the duration similarity."""
    na, nb = a["count"], b["count"]
    s = 1.0 - abs(na - nb) / (na + nb + 2.0)
    if na and nb:
        s *= _similar(a["mean_duration_ms"], b["mean_duration_ms"])
    return s


def _same(run_a, run_b) -> bool:
    return bool(np.array_equal(run_a[0], run_b[0]) and np.array_equal(run_a[1], run_b[1]))


def _similar(a: float, b: float) -> float:
    m = max(abs(a), abs(b))
    return 1.0 if m == 0 else 1.0 - abs(a - b) / m


def _bins(t, p: LIFParams):
    steps_per_bin = max(1, int(round(p.bin_ms / p.dt_ms)))
    n_bins = max(1, _steps(p) // steps_per_bin)
    return np.minimum(np.asarray(t, np.int64) // steps_per_bin, n_bins - 1), n_bins


def active_count(t, nn, n: int, p: LIFParams) -> np.ndarray:
    """Per bin: the number of neurons that spike in it."""
    b, n_bins = _bins(t, p)
    key = np.unique(b * n + np.asarray(nn, np.int64))
    return np.bincount(key // n, minlength=n_bins)


def binned_counts(t, nn, neurons: np.ndarray, n: int, p: LIFParams) -> np.ndarray:
    """Spike counts per bin of the listed neurons (bins × len(neurons))."""
    b, n_bins = _bins(t, p)
    col = np.full(n, -1, np.int64)
    col[neurons] = np.arange(len(neurons))
    c = col[np.asarray(nn, np.int64)]
    out = np.zeros((n_bins, len(neurons)), np.int32)
    np.add.at(out, (b[c >= 0], c[c >= 0]), 1)
    return out


def compare_activity(run_a, run_b, n: int, p: LIFParams) -> dict:
    """Rates, spike-count correlations and bursts of two runs (a: copied, b: pasted) and the score."""
    ca = np.bincount(run_a[1], minlength=n).astype(np.int64)
    cb = np.bincount(run_b[1], minlength=n).astype(np.int64)
    T = p.duration_s
    ra, rb = ca / T, cb / T
    rate_corr = _corr(ra, rb)
    denom = ra.sum()
    l1 = float(np.abs(rb - ra).sum() / denom) if denom > 0 else (0.0 if rb.sum() == 0 else 1.0)
    sel = ca >= 5
    per_neuron = float(np.mean(np.abs(rb[sel] - ra[sel]) / ra[sel])) if sel.any() else None
    # spike-count correlations among the most active neurons of the copied network
    order = np.argsort(-ca, kind="stable")
    sub = order[: p.max_corr_neurons]
    sub = sub[(ca[sub] >= 2) & (cb[sub] >= 2)]
    cc = None
    if len(sub) >= 3:
        xa = binned_counts(run_a[0], run_a[1], sub, n, p).astype(np.float64)
        xb = binned_counts(run_b[0], run_b[1], sub, n, p).astype(np.float64)
        ok = (xa.std(axis=0) > 0) & (xb.std(axis=0) > 0)
        if ok.sum() >= 3:
            iu = np.triu_indices(int(ok.sum()), k=1)
            cc = _corr(np.asarray(np.corrcoef(xa[:, ok].T))[iu], np.asarray(np.corrcoef(xb[:, ok].T))[iu])
    act_a = active_count(run_a[0], run_a[1], n, p)
    act_b = active_count(run_b[0], run_b[1], n, p)
    thr = burst_threshold(act_a, n, p)
    bur_a = bursts(act_a, thr, p.bin_ms, p.burst_merge_ms, T)
    bur_b = bursts(act_b, thr, p.bin_ms, p.burst_merge_ms, T)
    s_burst = burst_similarity(bur_a, bur_b)
    comps = {"rates": max(0.0, rate_corr if math.isfinite(rate_corr) else 0.0),
             "rate_level": max(0.0, 1.0 - l1),
             "correlations": max(0.0, cc) if cc is not None and math.isfinite(cc)
             else (1.0 if _same(run_a, run_b) else 0.0),
             "bursts": s_burst}
    score = float(np.prod(list(comps.values())) ** 0.25)
    r6 = lambda v: None if v is None or not math.isfinite(v) else round(float(v), 6)  # noqa: E731
    return {"score": r6(score), "components": {k: r6(v) for k, v in comps.items()},
            "rate_correlation": r6(rate_corr), "rate_abs_rel_diff": r6(l1),
            "rate_per_neuron_abs_rel_diff": r6(per_neuron),
            "correlation_of_correlations": r6(cc), "correlation_neurons": int(len(sub)),
            "mean_rate_copied_hz": r6(ra.mean()), "mean_rate_pasted_hz": r6(rb.mean()),
            "burst_threshold_neurons": int(thr),
            "bursts_copied": {k: r6(v) if isinstance(v, float) else v for k, v in bur_a.items()},
            "bursts_pasted": {k: r6(v) if isinstance(v, float) else v for k, v in bur_b.items()}}


def compare_networks(neuron_id, pre, post, delay_ms, w_copied, w_pasted, p: LIFParams | None = None,
                     seed: int = 0) -> dict:
    """Simulate the copied (``w_copied``) and pasted (``w_pasted``) networks and compare their activity.

    ``pre``/``post`` are neuron ids (of ``neuron_id``), one row per synapse,
    with the copied delays; both weight vectors are in mV (PSP peaks).
    """
    p = p or LIFParams()
    nid = np.asarray(neuron_id, np.int64)
    n = len(nid)
    order = np.argsort(nid, kind="stable")
    def to_ix(ids):
        if not len(ids):
            return np.zeros(0, np.int64)
        return order[np.searchsorted(nid[order], np.asarray(ids, np.int64))]

    pre_ix, post_ix = to_ix(pre), to_ix(post)
    rate = calibrate_drive(p)
    seed = int(seed)
    run_a = simulate(n, pre_ix, post_ix, w_copied, delay_ms, p, rate, seed)
    run_b = simulate(n, pre_ix, post_ix, w_pasted, delay_ms, p, rate, seed)
    out = compare_activity(run_a, run_b, n, p)
    out["reference_score"] = None
    if p.reference:
        run_c = simulate(n, pre_ix, post_ix, w_copied, delay_ms, p, rate, seed + 1_000_003)
        out["reference_score"] = compare_activity(run_a, run_c, n, p)["score"]
    ref = out["reference_score"]
    # 1.0 = the pasted network is as close to the copied one as the copied one is to itself under another
    # drive seed (its own variability); above 1: closer than that
    out["score_normalised"] = round(out["score"] / ref, 6) if ref and out["score"] is not None else None
    saturated = [name for name, r in (("copied", run_a), ("pasted", run_b)) if r[2] > r[3]]
    out.update({"neurons": int(n), "synapses": int(len(pre_ix)), "duration_s": p.duration_s,
                "drive_rate_hz": round(rate, 3), "spikes_copied": run_a[2], "spikes_pasted": run_b[2],
                "runaway": saturated, "model": "current-based LIF, exponential synapses, adaptation",
                "parameters": p.to_dict()})
    return out
