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

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

_MAD = 1.4826


@dataclass(frozen=True)
class DetectParams:
    """The AP detector's parameters, validated when built (:class:`~connectome.errors.ConfigError` naming one).

    Attributes
    ----------
    threshold : float
        Multiple of the robust SD of the high-passed trace a peak must exceed.
        6: intracellular APs stand 10–100× above the noise on a coupled
        microhole electrode (Abbott et al. 2017, *Nature Nanotechnology* 12:460;
        Abbott et al. 2020, *Nature Biomedical Engineering* 4:232), and
        thresholds of 4–6 robust SDs are the usual compromise for
        extracellular detection (Quiroga, Nadasdy & Ben-Shaul 2004, *Neural
        Computation* 16:1661).
    refractory_ms : float
        Minimum distance between two peaks on a channel; 2 ms, about a
        cortical neuron's absolute refractory period.
    hp_window_ms : float
        Width of the centred moving average subtracted to high-pass the trace.
        10 ms: several times an AP's width (≈ 1–2 ms), so the AP keeps its
        peak, and short against drift and PSPs (decay 5–20 ms), which it removes.
    mad_stride : int
        The robust SD is taken on every ``mad_stride``-th row (all rows when the
        block has fewer than 20 × ``mad_stride``): a MAD needs a few thousand
        samples, not all of a chunk (choice made here, for speed).
    baseline_ms : (float, float)
        The pre-spike baseline of the amplitude: the mean from
        ``baseline_ms[0]`` to ``baseline_ms[1]`` ms before the peak, before an
        AP's rising phase (≈ 1 ms).
    bad_guard_ms : float
        Peaks within this many ms of a saturated or non-finite sample are dropped.

    Examples
    --------
    >>> DetectParams().hp_window_ms, DetectParams(threshold=5).threshold
    (10.0, 5)
    >>> DetectParams(mad_stride=0)
    Traceback (most recent call last):
    ...
    connectome.errors.ConfigError: detection parameter mad_stride: must be an integer ≥ 1, got 0
    """

    threshold: float = 6.0
    refractory_ms: float = 2.0
    hp_window_ms: float = 10.0
    mad_stride: int = 32
    baseline_ms: tuple = (3.0, 1.5)
    bad_guard_ms: float = 2.0

    def __post_init__(self):
        def bad(name, why):
            raise ConfigError(f"detection parameter {name}: {why}, got {getattr(self, name)!r}")

        for name in ("threshold", "hp_window_ms"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                bad(name, "must be a number > 0")
        for name in ("refractory_ms", "bad_guard_ms"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                bad(name, "must be a number ≥ 0")
        if isinstance(self.mad_stride, bool) or not isinstance(self.mad_stride, int) or self.mad_stride < 1:
            bad("mad_stride", "must be an integer ≥ 1")
        b = self.baseline_ms
        if not (isinstance(b, (tuple, list)) and len(b) == 2 and all(isinstance(v, (int, float)) for v in b)
                and b[0] > b[1] > 0):
            bad("baseline_ms", "must be two numbers, start > end > 0 ms before the peak")
        object.__setattr__(self, "baseline_ms", (float(b[0]), float(b[1])))


def robust_sd(x: np.ndarray, stride: int = 7) -> np.ndarray:
    """Per-column robust SD (1.4826 × MAD) of a 2-D array from every ``stride``-th row (all rows if few)."""
    from .kernels import nan_median_mad_rows

    _, mad = nan_median_mad_rows(x[::stride] if x.shape[0] > 20 * stride else x)
    return (_MAD * mad).astype(np.float32)


def detect_block(
    x: np.ndarray,
    fs: float,
    params: DetectParams | None = None,
    *,
    threshold: float | None = None,
    refractory_ms: float | None = None,
    hp_window_ms: float | None = None,
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
    params : DetectParams, optional
        The detector's parameters (defaults: :class:`DetectParams`).
    threshold, refractory_ms, hp_window_ms : float, optional
        Override single fields of ``params``.
    valid : slice
        Only peaks with row index in this slice are returned (the block may
        carry margins shared with its neighbours).
    bad_bins : (ndarray of bool, int, int), optional
        ``(badb, first_row, bin_len)``: bins (of ``bin_len`` rows from
        ``first_row``) holding saturated or NaN samples; peaks within
        ``bad_guard_ms`` of one are dropped.
    scratch : ndarray, optional
        A float32 array of ``x``'s shape to hold the high-passed trace
        (reused across calls, it saves allocating and faulting in a large array).

    Returns
    -------
    rows, cols : ndarray of int64
        Peak sample (row in ``x``) and channel.
    amplitude_mv : ndarray of float32
        Peak minus the mean over ``baseline_ms`` (3.0–1.5 ms) before the peak.
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

    p = params or DetectParams()
    overrides: dict[str, Any] = {k: v for k, v in (("threshold", threshold), ("refractory_ms", refractory_ms),
                                   ("hp_window_ms", hp_window_ms)) if v is not None}
    if overrides:
        p = dataclasses.replace(p, **overrides)
    n = x.shape[0]
    x = np.ascontiguousarray(x, dtype=np.float32)
    half = max(1, int(round(p.hp_window_ms * fs / 2000.0)))
    hp = highpass_boxcar(x, half, out=scratch if scratch is not None and scratch.shape == x.shape else None)
    sd = robust_sd(hp, stride=p.mad_stride)
    thr = (p.threshold * np.maximum(sd, 1e-6)).astype(np.float32)
    r = max(1, int(round(p.refractory_ms * fs / 1000.0)))
    lo, hi, _ = valid.indices(n)
    peaks = scan_peaks(hp, thr, r, lo, hi)
    del hp
    rows, cols = peaks[:, 0], peaks[:, 1]
    if bad_bins is not None and rows.size:
        badb, first, blen = bad_bins
        badcols = np.flatnonzero(badb.any(axis=0))
        if badcols.size:
            m = int(np.ceil(p.bad_guard_ms * 1e-3 * fs / blen))
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
    b0 = int(round(p.baseline_ms[0] * 1e-3 * fs))
    b1 = max(1, int(round(p.baseline_ms[1] * 1e-3 * fs)))
    idx = np.clip(rows[:, None] - np.arange(b1, b0 + 1)[None, :], 0, n - 1)
    base = x[idx, cols[:, None]].mean(axis=1)
    amp = (x[rows, cols] - base).astype(np.float32)
    return rows.astype(np.int64), cols.astype(np.int64), amp, sd
