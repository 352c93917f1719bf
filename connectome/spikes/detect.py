"""Intracellular action-potential detection on one block of samples.

APs on a coupled electrode are large, fast, positive deflections: an
attenuated copy of an ≈ 80 mV somatic spike (docs/background.md §6), far above the
sub-threshold fluctuations that carry PSPs. Detection:

1. high-pass by subtracting a centred moving average (``hp_window_ms``),
   which removes drift and slow membrane fluctuations cheaply (a running
   sum, not an IIR filter: see :mod:`connectome.spikes.kernels`);
2. threshold at ``k`` robust SDs of that trace (MAD on a strided subsample);
3. keep the largest sample within the refractory period after each
   crossing: refractoriness and peak alignment in one scan;
4. measure the amplitude as peak minus the mean of a pre-spike baseline.

Samples that are saturated or not finite are reported and never detected
(they are held at the last good value before filtering, see
:func:`connectome.spikes.kernels.prepare_block`).
"""

from __future__ import annotations

import numpy as np

_MAD = 1.4826


def robust_sd(x: np.ndarray, stride: int = 7) -> np.ndarray:
    """Per-column robust SD (1.4826 × MAD) of a 2-D array from every ``stride``-th row (all rows if few)."""
    from .kernels import nan_median_mad_rows

    _, mad = nan_median_mad_rows(x[::stride] if x.shape[0] > 20 * stride else x)
    return (_MAD * mad).astype(np.float32)


def detect_block(
    x: np.ndarray,
    fs: float,
    *,
    threshold: float = 6.0,
    refractory_ms: float = 2.0,
    hp_window_ms: float = 10.0,
    valid: slice = slice(None),
    bad_bins=None,
    scratch=None,
):
    """Detect AP peaks in ``x`` (time × channels, mV, already cleaned).

    Parameters
    ----------
    x : ndarray, float32
    fs : float
        Sampling rate (Hz).
    threshold : float
        Multiple of the robust SD of the high-passed trace.
    refractory_ms : float
        Minimum distance between two peaks on a channel.
    valid : slice
        Only peaks with row index in this slice are returned (the block may
        carry margins shared with its neighbours).
    bad_bins : (ndarray of bool, int, int), optional
        ``(badb, first_row, bin_len)``: bins (of ``bin_len`` rows from
        ``first_row``) holding saturated or NaN samples; peaks within 2 ms of
        one are dropped.
    scratch : ndarray, optional
        A float32 array of ``x``'s shape to hold the high-passed trace
        (reused across calls, it saves allocating and faulting in a large array).

    Returns
    -------
    rows, cols : ndarray of int64
        Peak sample (row in ``x``) and channel.
    amplitude_mv : ndarray of float32
        Peak minus the mean over 3.0–1.5 ms before the peak.
    noise_sd_mv : ndarray of float32
        Robust SD of the high-passed trace per channel.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(0, 0.03, (5000, 3)).astype(np.float32)
    >>> x[2000:2011, 1] += np.hanning(11).astype(np.float32) * 5
    >>> r, c, a, _ = detect_block(x, 10_000.0)
    >>> list(zip(r.tolist(), c.tolist()))
    [(2005, 1)]
    """
    from .kernels import highpass_boxcar, scan_peaks

    n = x.shape[0]
    x = np.ascontiguousarray(x, dtype=np.float32)
    half = max(1, int(round(hp_window_ms * fs / 2000.0)))
    hp = highpass_boxcar(x, half, out=scratch if scratch is not None and scratch.shape == x.shape else None)
    sd = robust_sd(hp, stride=32)
    thr = (threshold * np.maximum(sd, 1e-6)).astype(np.float32)
    r = max(1, int(round(refractory_ms * fs / 1000.0)))
    lo, hi, _ = valid.indices(n)
    peaks = scan_peaks(hp, thr, r, lo, hi)
    del hp
    rows, cols = peaks[:, 0], peaks[:, 1]
    if bad_bins is not None and rows.size:
        badb, first, blen = bad_bins
        badcols = np.flatnonzero(badb.any(axis=0))
        if badcols.size:
            m = int(np.ceil(2e-3 * fs / blen))
            keep = np.ones(rows.size, bool)
            for c in badcols:
                sel = np.flatnonzero(cols == c)
                if sel.size:
                    bc = np.concatenate([[0], np.cumsum(badb[:, c])])
                    k = (rows[sel] - first) // blen
                    a = np.clip(k - m, 0, badb.shape[0])
                    b = np.clip(k + m + 1, 0, badb.shape[0])
                    keep[sel] = (bc[b] - bc[a]) == 0
            rows, cols = rows[keep], cols[keep]
    b0 = int(round(3.0e-3 * fs))
    b1 = max(1, int(round(1.5e-3 * fs)))
    idx = np.clip(rows[:, None] - np.arange(b1, b0 + 1)[None, :], 0, n - 1)
    base = x[idx, cols[:, None]].mean(axis=1)
    amp = (x[rows, cols] - base).astype(np.float32)
    return rows.astype(np.int64), cols.astype(np.int64), amp, sd
