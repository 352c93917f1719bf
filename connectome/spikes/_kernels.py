"""Compiled inner loops for spike detection (numba).

Measured on one 1-s block of 4,096 channels at 10 kHz (benchmarks/bench_kernels.py):
scipy's ``uniform_filter1d`` + ``maximum_filter1d`` along time take ≈ 1.7 s;
these fused running-sum / peak-scan loops take a small fraction of that.
"""

from __future__ import annotations

import numba
import numpy as np

_BLOCK = 64  # channels per parallel task in the peak scan
# channels per parallel task in the streaming kernels: rows are far apart in
# memory (4,096 channels × 4 bytes), so each row visit should do a long run of
# work — 64-wide blocks spent most of their time on TLB misses (measured:
# highpass 0.30 → 0.13 s, prepare 0.56 → 0.27 s per 4,096 ch × 1 s block)
_WIDE = 512


@numba.njit(parallel=True, cache=True, nogil=True)
def highpass_boxcar(x, half):
    """``x − centred moving mean`` over 2·half+1 samples, per column (edges clamped).

    A float32 running sum: its rounding error over a 10^4-sample block is
    ≈ 10^-4 mV, far below electrode noise (≈ 0.03 mV).
    """
    n, c = x.shape
    out = np.empty_like(x)
    inv = np.float32(1.0 / (2 * half + 1))
    nblocks = (c + _WIDE - 1) // _WIDE
    for bi in numba.prange(nblocks):
        c0 = bi * _WIDE
        w = min(c, c0 + _WIDE) - c0
        acc = np.zeros(w, np.float32)
        for k in range(-half, half + 1):
            kk = min(max(k, 0), n - 1)
            for j in range(w):
                acc[j] += x[kk, c0 + j]
        for t in range(n):
            add = min(t + half + 1, n - 1)
            sub = max(t - half, 0)
            for j in range(w):
                out[t, c0 + j] = x[t, c0 + j] - acc[j] * inv
                acc[j] += x[add, c0 + j] - x[sub, c0 + j]
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def scan_peaks(hp, thr, refractory, lo, hi):
    """Peaks of ``hp`` above ``thr`` (per column), separated by more than ``refractory``.

    Greedy scan: a candidate opens at the first sample above threshold, moves
    to any larger sample within ``refractory`` of it, and is emitted once no
    larger sample follows within ``refractory`` — if it is a local maximum
    (a candidate left on the falling flank of a wide AP is not a spike). Only peaks with row in
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
                    # emit only a true peak: a candidate opened on the falling
                    # flank of the previous AP (still above threshold after
                    # the refractory period) is not a new spike
                    if ct >= lo and ct < hi and k < cap and (ct == 0 or hp[ct - 1, j] <= cand_v[jj]):
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
            if ct >= lo and ct < hi and k < cap and (ct == 0 or hp[ct - 1, j] <= cand_v[j - c0]):
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


def prepare_block(raw, scale, offset, lo, hi, check_limits, bin_len, bin_start, bin_stop, before=0, after=0):
    """See :func:`_prepare_block`; ``lo``/``hi`` are cast to ``raw``'s dtype (comparing
    in the samples' own type keeps the conversion loop vectorised)."""
    kind = raw.dtype.type
    if check_limits:
        lo, hi = kind(lo), kind(hi)
    else:
        lo = hi = kind(0)
    return _prepare_block(raw, scale, offset, lo, hi, check_limits, bin_len, bin_start, bin_stop, before, after)


@numba.njit(parallel=True, cache=True, nogil=True)
def _prepare_block(raw, scale, offset, lo, hi, check_limits, bin_len, bin_start, bin_stop, before, after):
    """Raw samples → float32 mV, masking bad samples, and their bin means, in one pass.

    A sample is bad if it is not finite or (``check_limits``) at the integer
    limits ``lo``/``hi`` (saturation). Bad samples
    are replaced by the last good value on that channel (sample-and-hold) so
    that filters see no jump.
    Rows [bin_start, bin_stop) are also averaged in bins of ``bin_len``.

    Returns ``x`` (time × channels), ``xb`` (bins × channels, bin means),
    ``badb`` (bins × channels: a bad sample anywhere in the block, margins
    included, spoils the bins from ``before`` samples ahead of it to ``after``
    samples behind it — an artefact's recovery tail) and the number of bad
    samples per channel within [bin_start, bin_stop).

    Each row of a block of channels is converted in a branch-free loop that
    vectorises; only rows holding a bad sample take the slow path.
    """
    n, c = raw.shape
    nb = (bin_stop - bin_start + bin_len - 1) // bin_len
    x = np.empty((n, c), np.float32)
    xb = np.zeros((nb, c), np.float32)
    badb = np.zeros((nb, c), np.bool_)
    nbad = np.zeros(c, np.int64)
    inf = np.float32(np.inf)
    nblocks = (c + _WIDE - 1) // _WIDE
    for bi in numba.prange(nblocks):
        c0 = bi * _WIDE
        c1 = min(c, c0 + _WIDE)
        for t in range(n):
            rowbad = False
            for j in range(c0, c1):
                r = raw[t, j]
                v = np.float32(r) * scale[j] + offset[j]
                x[t, j] = v
                bad = (v != v) | (v == inf) | (v == -inf)
                if check_limits:
                    bad = bad | (r <= lo) | (r >= hi)
                rowbad = rowbad | bad
            if rowbad:
                in_core = t >= bin_start and t < bin_stop
                for j in range(c0, c1):
                    r = raw[t, j]
                    v = x[t, j]
                    bad = (v != v) or v == inf or v == -inf or (check_limits and (r <= lo or r >= hi))
                    if not bad:
                        continue
                    # hold: the previous row already holds the last good value (or 0)
                    x[t, j] = x[t - 1, j] if t > 0 else np.float32(0.0)
                    if in_core:
                        nbad[j] += 1
                    k0 = max(0, (t - before - bin_start) // bin_len)
                    k1 = min(nb - 1, (t + after - bin_start) // bin_len)
                    for kk in range(k0, k1 + 1):
                        badb[kk, j] = True
            if t >= bin_start and t < bin_stop:
                k = (t - bin_start) // bin_len
                for j in range(c0, c1):
                    xb[k, j] += x[t, j]
    # bin means (the last bin may be partial)
    for k in numba.prange(nb):
        a = bin_start + k * bin_len
        b = min(bin_stop, a + bin_len)
        inv = np.float32(1.0 / (b - a))
        for j in range(c):
            xb[k, j] *= inv
    return x, xb, badb, nbad
