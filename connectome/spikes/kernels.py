"""Compiled inner loops for spike detection (numba).

Measured on one 1-s block of 4,096 channels at 10 kHz:
scipy's ``uniform_filter1d`` + ``maximum_filter1d`` along time take ≈ 1.7 s;
these fused running-sum / peak-scan loops take a small fraction of that.
"""

from __future__ import annotations

import numba
import numpy as np

# channels per parallel task in the streaming kernels: rows are far apart in
# memory (4,096 channels × 4 bytes), so each row visit should do a long run of
# work — 64-wide blocks spent most of their time on TLB misses (measured:
# highpass 0.30 → 0.13 s, prepare 0.56 → 0.27 s per 4,096 ch × 1 s block)
_WIDE = 512
_TILE = 1024  # rows per parallel task where whole rows are processed


def highpass_boxcar(x, half, out=None):
    """``x − centred moving mean`` over 2·half+1 samples, per column (edges clamped).

    See :func:`_highpass_boxcar`. Large outputs are allocated by numpy, not in
    compiled code: numpy asks the kernel for huge pages, and first-touch page
    faults on numba's allocations cost as much as the filter itself (measured
    in this VM: 164 MB touched in 0.073 s vs 0.030 s); ``out`` may be given.
    """
    out = np.empty_like(x) if out is None else out
    _highpass_boxcar(x, half, out)
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def _highpass_boxcar(x, half, out):
    """``out = x − centred moving mean`` over 2·half+1 samples, per column (edges clamped).

    A float32 running sum along time, restarted exactly at each tile of
    ``_TILE`` rows (tiles run in parallel; each row is processed whole, so the
    loop over channels is contiguous and vectorises). Its rounding error over
    a tile is ≈ 10^-4 mV, far below electrode noise (≈ 0.03 mV).
    """
    n, c = x.shape
    inv = np.float32(1.0 / (2 * half + 1))
    for ti in numba.prange((n + _TILE - 1) // _TILE):
        t0 = ti * _TILE
        acc = np.zeros(c, np.float32)
        for k in range(t0 - half, t0 + half + 1):
            xr = x[min(max(k, 0), n - 1)]
            for j in range(c):
                acc[j] += xr[j]
        for t in range(t0, min(n, t0 + _TILE)):
            xa = x[min(t + half + 1, n - 1)]
            xs = x[max(t - half, 0)]
            xr = x[t]
            o = out[t]
            for j in range(c):
                o[j] = xr[j] - acc[j] * inv
                acc[j] += xa[j] - xs[j]


@numba.njit(parallel=True, cache=True, nogil=True)
def scan_peaks(hp, thr, refractory, lo, hi):
    """Peaks of ``hp`` above ``thr`` (per column), separated by more than ``refractory``.

    Greedy scan: a candidate opens at the first sample above threshold, moves
    to any larger sample within ``refractory`` of it, and is emitted once no
    larger sample follows within ``refractory`` — if it is a local maximum
    (a candidate left on the falling flank of a wide AP is not a spike). Only peaks with row in
    [lo, hi) are kept. Returns a (n_peaks, 2) int64 array of (row, column),
    sorted by column then row. Rows of a channel block where no candidate is
    open and nothing crosses the threshold (almost all of them) are skipped
    after one vectorised test.
    """
    n, c = hp.shape
    nblocks = (c + _WIDE - 1) // _WIDE
    counts = np.zeros(nblocks, np.int64)
    cap = (n // (refractory + 1) + 1) * _WIDE  # peaks are > refractory apart: never full
    buf = np.empty((nblocks, cap, 2), np.int64)
    for bi in numba.prange(nblocks):
        c0 = bi * _WIDE
        c1 = min(c, c0 + _WIDE)
        cand_t = np.full(c1 - c0, -1, np.int64)
        cand_v = np.zeros(c1 - c0, np.float32)
        n_open = 0
        k = 0
        for t in range(n):
            row = hp[t]
            if n_open == 0:
                hit = False
                for j in range(c0, c1):
                    hit = hit | (row[j] > thr[j])
                if not hit:
                    continue
            for j in range(c0, c1):
                jj = j - c0
                v = row[j]
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
                    n_open -= 1
                    ct = -1
                if v > thr[j]:
                    if ct < 0:
                        n_open += 1
                        cand_t[jj] = t
                        cand_v[jj] = v
                    elif v > cand_v[jj]:
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
    return out[np.argsort(out[:, 1] * (n + 1) + out[:, 0])]


def prepare_block(
    raw, scale, offset, lo, hi, check_limits, bin_len, bin_start, bin_stop, before=0, after=0, x=None
):
    """See :func:`_prepare_block`; ``lo``/``hi`` are cast to ``raw``'s dtype (comparing
    in the samples' own type keeps the conversion loop vectorised); ``x`` may be
    given (float32, ``raw``'s shape) to receive the samples in mV."""
    kind = raw.dtype.type
    if check_limits:
        lo, hi = kind(lo), kind(hi)
    else:
        lo = hi = kind(0)
    n, c = raw.shape
    nb = (bin_stop - bin_start + bin_len - 1) // bin_len
    if x is None or x.shape != (n, c):
        x = np.empty((n, c), np.float32)  # numpy's allocation: see highpass_boxcar
    xb = np.zeros((nb, c), np.float32)
    badb = np.zeros((nb, c), np.bool_)
    nbad = np.zeros(c, np.int64)
    _prepare_block(
        raw,
        scale,
        offset,
        lo,
        hi,
        check_limits,
        bin_len,
        bin_start,
        bin_stop,
        before,
        after,
        x,
        xb,
        badb,
        nbad,
    )
    return x, xb, badb, nbad


@numba.njit(parallel=True, cache=True, nogil=True)
def _prepare_block(
    raw, scale, offset, lo, hi, check_limits, bin_len, bin_start, bin_stop, before, after, x, xb, badb, nbad
):
    """Raw samples → float32 mV, masking bad samples, and their bin means.

    A sample is bad if it is not finite or (``check_limits``) at the integer
    limits ``lo``/``hi`` (saturation). Bad samples are replaced by the last
    good value on that channel (sample-and-hold) so that filters see no jump.
    Rows [bin_start, bin_stop) are also averaged in bins of ``bin_len``.

    Fills ``x`` (time × channels), ``xb`` (bins × channels, bin means, zeroed on entry),
    ``badb`` (bins × channels: a bad sample anywhere in the block, margins
    included, spoils the bins from ``before`` samples ahead of it to ``after``
    samples behind it — an artefact's recovery tail) and the number of bad
    samples per channel within [bin_start, bin_stop) (zeroed on entry).

    Three steps: whole rows converted in parallel tiles (a branch-free loop
    that vectorises) flagging rows with a bad sample; flagged rows fixed in
    time order (the hold needs the previous row); bin means in parallel.
    """
    n, c = raw.shape
    nb = xb.shape[0]
    rowbad = np.zeros(n, np.bool_)
    inf = np.float32(np.inf)
    for ti in numba.prange((n + _TILE - 1) // _TILE):
        for t in range(ti * _TILE, min(n, (ti + 1) * _TILE)):
            rr = raw[t]
            xr = x[t]
            bad = False
            for j in range(c):
                r = rr[j]
                v = np.float32(r) * scale[j] + offset[j]
                xr[j] = v
                b = (v != v) | (v == inf) | (v == -inf)
                if check_limits:
                    b = b | (r <= lo) | (r >= hi)
                bad = bad | b
            rowbad[t] = bad
    for t in np.flatnonzero(rowbad):  # in time order: a held value may come from a fixed row
        in_core = t >= bin_start and t < bin_stop
        for j in range(c):
            r = raw[t, j]
            v = x[t, j]
            if not ((v != v) or v == inf or v == -inf or (check_limits and (r <= lo or r >= hi))):
                continue
            # hold: the previous row already holds the last good value (or 0)
            x[t, j] = x[t - 1, j] if t > 0 else np.float32(0.0)
            if in_core:
                nbad[j] += 1
            k0 = max(0, (t - before - bin_start) // bin_len)
            k1 = min(nb - 1, (t + after - bin_start) // bin_len)
            for kk in range(k0, k1 + 1):
                badb[kk, j] = True
    for k in numba.prange(nb):  # bin means (the last bin may be partial)
        a = bin_start + k * bin_len
        b = min(bin_stop, a + bin_len)
        o = xb[k]
        for t in range(a, b):
            xr = x[t]
            for j in range(c):
                o[j] += xr[j]
        inv = np.float32(1.0 / (b - a))
        for j in range(c):
            o[j] *= inv


@numba.njit(parallel=True, cache=True, nogil=True)
def nan_median_mad_rows(x):
    """Per column of ``x`` (rows × columns): median and median absolute deviation
    of the finite values (NaN if none) — ``np.nanmedian(axis=0)`` in one pass,
    without numpy's per-column Python loop (30 s → about 1 s for the
    2,000-neuron null over N² × kernels statistics). Every robust SD of the
    package (noise, activity, empirical nulls) goes through it."""
    n, m = x.shape
    med = np.full(m, np.nan, np.float32)
    mad = np.full(m, np.nan, np.float32)
    B = 64  # columns gathered together: rows are read in contiguous runs
    for bi in numba.prange((m + B - 1) // B):
        c0 = bi * B
        c1 = min(m, c0 + B)
        buf = np.empty((c1 - c0, n), np.float64)
        cnt = np.zeros(c1 - c0, np.int64)
        for i in range(n):
            for j in range(c0, c1):
                v = x[i, j]
                if v == v:
                    buf[j - c0, cnt[j - c0]] = v
                    cnt[j - c0] += 1
        for jj in range(c1 - c0):
            k = cnt[jj]
            if k == 0:
                continue
            vals = buf[jj, :k]
            mm = np.median(vals)
            med[c0 + jj] = mm
            mad[c0 + jj] = np.median(np.abs(vals - mm))
    return med, mad


def moving_residual_sd(rel, size, step):
    """Robust SD per column of ``rel`` minus its moving mean over ``size`` rows
    (scipy's ``uniform_filter1d`` window and 'nearest' edges), at every
    ``step``-th row: the sub-threshold activity of a binned trace."""
    _, mad = nan_median_mad_rows(_moving_residuals(rel, size, step))
    return (1.4826 * mad).astype(np.float32)


@numba.njit(parallel=True, cache=True, nogil=True)
def _moving_residuals(rel, size, step):
    """``rel`` minus its moving mean, at rows 0, step, 2·step … (see :func:`moving_residual_sd`)."""
    n, c = rel.shape
    left = size // 2
    right = size - 1 - left
    m = (n + step - 1) // step
    resid = np.empty((m, c), np.float64)
    for bi in numba.prange((c + _WIDE - 1) // _WIDE):
        c0 = bi * _WIDE
        c1 = min(c, c0 + _WIDE)
        acc = np.zeros(c1 - c0, np.float64)  # window sum for row t: rows t-left … t+right, clamped
        for k in range(-left, right + 1):
            kk = min(max(k, 0), n - 1)
            for j in range(c0, c1):
                acc[j - c0] += rel[kk, j]
        for t in range(n):
            if t % step == 0:
                for j in range(c0, c1):
                    resid[t // step, j] = rel[t, j] - acc[j - c0] / size
            add = min(t + right + 1, n - 1)
            sub = max(t - left, 0)
            for j in range(c0, c1):
                acc[j - c0] += rel[add, j] - rel[sub, j]
    return resid
