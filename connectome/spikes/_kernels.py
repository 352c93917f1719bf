"""Compiled inner loops for spike detection (numba).

Measured on one 1-s block of 4,096 channels at 10 kHz (benchmarks/bench_kernels.py):
scipy's ``uniform_filter1d`` + ``maximum_filter1d`` along time take ≈ 1.7 s;
these fused running-sum / peak-scan loops take a small fraction of that.
"""

from __future__ import annotations

import numba
import numpy as np

_BLOCK = 64  # channels per parallel task: one contiguous cache line run per row


@numba.njit(parallel=True, cache=True, fastmath=True)
def highpass_boxcar(x, half):
    """``x − centred moving mean`` over 2·half+1 samples, per column (edges clamped).

    A float32 running sum: its rounding error over a 10^4-sample block is
    ≈ 10^-4 mV, far below electrode noise (≈ 0.03 mV).
    """
    n, c = x.shape
    out = np.empty_like(x)
    inv = np.float32(1.0 / (2 * half + 1))
    nblocks = (c + _BLOCK - 1) // _BLOCK
    for bi in numba.prange(nblocks):
        c0 = bi * _BLOCK
        c1 = min(c, c0 + _BLOCK)
        acc = np.zeros(c1 - c0, np.float32)
        for k in range(-half, half + 1):
            kk = min(max(k, 0), n - 1)
            acc += x[kk, c0:c1]
        for t in range(n):
            out[t, c0:c1] = x[t, c0:c1] - acc * inv
            add = min(t + half + 1, n - 1)
            sub = max(t - half, 0)
            acc += x[add, c0:c1] - x[sub, c0:c1]
    return out


@numba.njit(parallel=True, cache=True)
def scan_peaks(hp, thr, refractory, lo, hi):
    """Peaks of ``hp`` above ``thr`` (per column), separated by more than ``refractory``.

    Greedy scan: a candidate opens at the first sample above threshold, moves
    to any larger sample within ``refractory`` of it, and is emitted once no
    larger sample follows within ``refractory``. Only peaks with row in
    [lo, hi) are kept. Returns a (n_peaks, 2) int64 array of (row, column),
    sorted by column then row.
    """
    n, c = hp.shape
    nblocks = (c + _BLOCK - 1) // _BLOCK
    counts = np.zeros(nblocks, np.int64)
    cap = max(16, n // max(1, refractory) + 1) * _BLOCK
    buf = np.empty((nblocks, cap, 2), np.int64)
    for bi in numba.prange(nblocks):
        c0 = bi * _BLOCK
        c1 = min(c, c0 + _BLOCK)
        cand_t = np.full(c1 - c0, -1, np.int64)
        cand_v = np.zeros(c1 - c0, np.float32)
        k = 0
        for t in range(n):
            for j in range(c0, c1):
                jj = j - c0
                v = hp[t, j]
                ct = cand_t[jj]
                if ct >= 0 and t - ct > refractory:
                    if ct >= lo and ct < hi and k < cap:
                        buf[bi, k, 0] = ct
                        buf[bi, k, 1] = j
                        k += 1
                    cand_t[jj] = -1
                    ct = -1
                if v > thr[j]:
                    if ct < 0 or v > cand_v[jj]:
                        cand_t[jj] = t
                        cand_v[jj] = v
        for j in range(c0, c1):
            ct = cand_t[j - c0]
            if ct >= lo and ct < hi and k < cap:
                buf[bi, k, 0] = ct
                buf[bi, k, 1] = j
                k += 1
        counts[bi] = k
    total = counts.sum()
    out = np.empty((total, 2), np.int64)
    p = 0
    for bi in range(nblocks):
        for q in range(counts[bi]):
            out[p, 0] = buf[bi, q, 0]
            out[p, 1] = buf[bi, q, 1]
            p += 1
    return out
