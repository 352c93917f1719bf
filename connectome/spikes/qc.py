"""Per-channel quality glance: noise, flat, saturated, coupled.

These are cheap statistics on a bounded sample of a recording, used by
``connectome info`` and as the first pass of channel QC before inference.

An intracellularly coupled channel carries an attenuated copy of the membrane
potential: positive action potentials of several mV riding on sub-threshold
fluctuations, far above the electrode's own white noise (docs/background.md §6: 30 µV
rms electrode noise, APs ≈ 80 mV at the soma × attenuation 0.02–0.6). A
channel is called *coupled* when its sample holds AP-like upward excursions
larger than both ``ap_snr`` × its high-frequency noise and ``min_ap_mv``
(docs/background.md §7: APs ≥ 8× noise MAD and a positive, intracellular-like shape).
"""

from __future__ import annotations

import numpy as np

_MAD_TO_SIGMA = 1.4826


def hf_noise_mv(x: np.ndarray) -> np.ndarray:
    """Robust high-frequency noise per channel: MAD of first differences / √2 (mV).

    Insensitive to slow drift and to the sub-threshold membrane potential.
    """
    if x.shape[0] < 3:
        return np.zeros(x.shape[1], np.float32)
    step = max(1, x.shape[0] // 2500)  # medians of ≥ 2,500 differences suffice
    d = (x[1::step] - x[:-1:step]) if step > 1 else np.diff(x, axis=0)
    med = np.median(d, axis=0)
    return (_MAD_TO_SIGMA * np.median(np.abs(d - med), axis=0) / np.sqrt(2.0)).astype(np.float32)


def channel_glance(
    x: np.ndarray,
    *,
    raw: np.ndarray | None = None,
    raw_limits=None,
    ap_snr: float = 8.0,
    min_ap_mv: float = 0.5,
    artefact_samples: int = 500,
) -> dict:
    """Per-channel statistics of a block ``x`` (time × channels, mV).

    Parameters
    ----------
    x : ndarray
        Samples in mV.
    raw, raw_limits : ndarray, (lo, hi), optional
        Raw integer samples and the dtype's limits, to count saturated samples.
    ap_snr, min_ap_mv : float
        Thresholds for an AP-like excursion (see module docstring).
    artefact_samples : int
        Rows after a saturated or non-finite sample on a channel that are not
        searched for APs: the recovery tail of an artefact is not an AP
        (500 = 50 ms at 10 kHz).

    Returns
    -------
    dict of ndarray
        ``noise_mv``, ``std_mv``, ``peak_mv`` (largest excursion above the
        median), ``flat``, ``saturated_frac``, ``nonfinite_frac``, ``coupled``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(0, 0.03, (10000, 2)).astype(np.float32)
    >>> x[5000:5020, 1] += 10.0
    >>> channel_glance(x)["coupled"].tolist()
    [False, True]
    """
    finite = np.isfinite(x)
    nonfinite_frac = 1.0 - finite.mean(axis=0) if x.size else np.zeros(x.shape[1])
    if not finite.all():
        x = np.where(finite, x, np.nanmedian(np.where(finite, x, np.nan), axis=0))
        x = np.nan_to_num(x)
    noise = hf_noise_mv(x)
    med = np.median(x[:: max(1, x.shape[0] // 2500)], axis=0)
    bad = ~finite
    if raw is not None and raw_limits is not None:
        bad = bad | (raw <= raw_limits[0]) | (raw >= raw_limits[1])
    xp = x
    cols = np.flatnonzero(bad.any(axis=0)) if artefact_samples > 0 else np.zeros(0, np.int64)
    if cols.size:
        # an artefact's unsaturated recovery tail is not an action potential:
        # on each affected channel, rows up to ``artefact_samples`` after a bad one are not searched
        c = np.cumsum(bad[:, cols], axis=0, dtype=np.int32)
        lagged = np.zeros_like(c)
        lagged[artefact_samples:] = c[:-artefact_samples] if artefact_samples < len(c) else 0
        spoiled = (c - lagged) > 0
        xp = x.copy()
        sub = xp[:, cols]
        sub[spoiled] = np.broadcast_to(med[cols], sub.shape)[spoiled]
        xp[:, cols] = sub
    peak = (xp.max(axis=0) - med) if x.size else np.zeros(x.shape[1])
    std = x.std(axis=0)
    flat = (np.ptp(x, axis=0) == 0) if x.size else np.ones(x.shape[1], bool)
    if raw is not None and raw_limits is not None:
        lo, hi = raw_limits
        saturated = ((raw <= lo) | (raw >= hi)).mean(axis=0)
    else:
        saturated = np.zeros(x.shape[1])
    coupled = (~flat) & (peak > np.maximum(ap_snr * np.maximum(noise, 1e-6), min_ap_mv)) & (saturated < 0.01)
    return {
        "noise_mv": noise,
        "std_mv": std.astype(np.float32),
        "peak_mv": peak.astype(np.float32),
        "flat": flat,
        "saturated_frac": np.asarray(saturated, np.float32),
        "nonfinite_frac": np.asarray(nonfinite_frac, np.float32),
        "coupled": coupled,
    }
