"""Compiled cross-correlogram kernels over sorted spike times (numba).

One pass over the merged, time-sorted spike table per presynaptic unit: for
each of its spikes the neighbouring spikes of every unit within ±W are binned
(a sorted merge, no pair loop), then every post unit's correlogram is reduced
to its central bins and their slow-rate predictor (the correlogram convolved
with a partially hollow Gaussian; Stark & Abeles 2009, J Neurosci Methods
179:90). Memory: one ``units × bins`` buffer per thread plus the central bins
of every ordered pair.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, nogil=True)
def central_ccg(times, units, unit_ptr, unit_idx, tested, n_units, bin_s, n_full, n_center, kernel):
    """Central correlogram bins and their predictor for every ordered pair of tested units.

    Parameters
    ----------
    times : float64 (S,)
        Every spike time (s), sorted ascending.
    units : int32 (S,)
        Unit index 0..n_units-1 of each spike.
    unit_ptr, unit_idx : int64
        CSR: ``unit_idx[unit_ptr[i]:unit_ptr[i+1]]`` are the positions in
        ``times`` of unit ``i``'s spikes.
    tested : bool (n_units,)
        Units to correlate (others give zero rows and columns).
    bin_s : float
        Bin width; bin ``k`` holds lags in ``[(k - 1/2) bin, (k + 1/2) bin)``.
    n_full : int
        Bins counted on each side (``≥ n_center + len(kernel) // 2``).
    n_center : int
        Central bins kept on each side.
    kernel : float64 (2h+1,)
        Predictor kernel, normalised to sum 1.

    Returns
    -------
    counts : int32 (n_units, n_units, 2 n_center + 1)
        ``counts[i, j, n_center + k]``: spikes of ``j`` at lag ``k`` bins after a spike of ``i``.
    pred : float32, same shape
        The predictor of each count.
    """
    N = n_units
    nb = 2 * n_full + 1
    nc = 2 * n_center + 1
    kh = kernel.size // 2
    S = times.size
    W = (n_full + 0.5) * bin_s
    inv = 1.0 / bin_s
    counts = np.zeros((N, N, nc), np.int32)
    pred = np.zeros((N, N, nc), np.float32)
    for i in numba.prange(N):
        if not tested[i]:
            continue
        buf = np.zeros((N, nb), np.int32)
        for s in range(unit_ptr[i], unit_ptr[i + 1]):
            g = unit_idx[s]
            t0 = times[g]
            m = g + 1
            while m < S:
                d = times[m] - t0
                if d >= W:
                    break
                b = int(np.floor(d * inv + 0.5)) + n_full
                if b < nb:
                    buf[units[m], b] += 1
                m += 1
            m = g - 1
            while m >= 0:
                d = times[m] - t0
                if d <= -W:
                    break
                b = int(np.floor(d * inv + 0.5)) + n_full
                if b >= 0:
                    buf[units[m], b] += 1
                m -= 1
        for j in range(N):
            if j == i or not tested[j]:
                continue
            for c in range(nc):
                b = n_full - n_center + c
                counts[i, j, c] = buf[j, b]
                acc = 0.0
                for k in range(kernel.size):
                    acc += kernel[k] * buf[j, b + k - kh]
                pred[i, j, c] = acc
    return counts, pred


@numba.njit(cache=True, nogil=True)
def isi_violations(times, unit_ptr, unit_idx, refractory_s):
    """Per unit: the number of inter-spike intervals shorter than ``refractory_s``."""
    N = unit_ptr.size - 1
    out = np.zeros(N, np.int64)
    for i in range(N):
        for s in range(unit_ptr[i] + 1, unit_ptr[i + 1]):
            if times[unit_idx[s]] - times[unit_idx[s - 1]] < refractory_s:
                out[i] += 1
    return out
