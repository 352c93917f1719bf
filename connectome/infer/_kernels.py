"""Compiled pairwise accumulation (numba).

For every presynaptic spike (row ``r`` of a block of binned, somatic-mV
traces) and every postsynaptic neuron ``j`` it adds the baseline-subtracted
trace ``V[r + lag, j] − base[s, j]`` at each lag; NaN (masked) samples and
spikes without a usable baseline are skipped. The innermost loop runs over
postsynaptic neurons, contiguous in memory, so it vectorises; presynaptic
neurons are spread over threads, so no two threads write one accumulator row,
and each neuron's spikes in a block are visited together so its accumulator
rows stay in cache (measured: 1,500 neurons, 5-s blocks, ≈ 0.04 s per second
of recording; 1-s blocks were several times slower).
"""

from __future__ import annotations

import numba
import numpy as np

from ..spikes._kernels import nan_median_mad_rows  # noqa: F401  (re-exported for stats)


@numba.njit(parallel=True, cache=True, nogil=True)
def accumulate_pairs(v, base, spk_row, pre_ptr, lag0, acc, cnt):
    """acc[i, l, j] += Σ_s (v[r_s+lag0+l, j] − base[s, j]); cnt[i, l, j] += number of finite terms."""
    n_pre = pre_ptr.shape[0] - 1
    n_lag = acc.shape[1]
    n_post = v.shape[1]
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for i in numba.prange(n_pre):
        for s in range(pre_ptr[i], pre_ptr[i + 1]):
            r = spk_row[s]
            for lag in range(n_lag):
                rr = r + lag0 + lag
                for j in range(n_post):
                    d = v[rr, j] - base[s, j]
                    ok = d == d
                    acc[i, lag, j] += d if ok else zero
                    cnt[i, lag, j] += one if ok else zero


@numba.njit(parallel=True, cache=True, nogil=True)
def spike_baselines(v, spk_row, bl0, bl1, need):
    """Per spike and neuron: mean of finite v[r+bl0 .. r+bl1] (NaN if fewer than ``need``)."""
    n_spk = spk_row.shape[0]
    n = v.shape[1]
    out = np.empty((n_spk, n), np.float32)
    for s in numba.prange(n_spk):
        r = spk_row[s]
        acc = np.zeros(n, np.float64)
        cnt = np.zeros(n, np.int64)
        for rr in range(r + bl0, r + bl1 + 1):
            for j in range(n):
                x = v[rr, j]
                if x == x:
                    acc[j] += x
                    cnt[j] += 1
        for j in range(n):
            out[s, j] = acc[j] / cnt[j] if cnt[j] >= need else np.nan
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def own_spike_accumulate(v, spk_row, ptr, lag0, b0, b1, need, acc, cnt):
    """Own-spike-triggered sums: for neuron k (column k of ``v``) and each of its
    spikes (rows ``spk_row[ptr[k]:ptr[k+1]]``), add v[r+lag0+l, k] minus the
    mean of v[r+b0 .. r+b1, k] to acc[k, l] (finite samples only)."""
    n = ptr.shape[0] - 1
    for k in numba.prange(n):
        for s in range(ptr[k], ptr[k + 1]):
            add_baselined_window(v, spk_row[s], k, b0, b1, lag0, need, acc, cnt, k)


@numba.njit(cache=True, nogil=True)
def add_baselined_window(v, r, j, b0, b1, lag0, need, acc, cnt, row):
    """Add column ``j`` of ``v`` at rows r+lag0 … minus its mean over rows r+b0 … r+b1 to ``acc[row]``.

    Finite samples only, counted in ``cnt[row]``; nothing when fewer than
    ``need`` baseline samples are finite. The inner step of the own-spike
    template and of the per-edge rested-PSP sweep (:mod:`.weights`).
    """
    tot = 0.0
    m = 0
    for rr in range(r + b0, r + b1 + 1):
        x = v[rr, j]
        if x == x:
            tot += x
            m += 1
    if m < need:
        return
    base = tot / m
    for lag in range(acc.shape[1]):
        x = v[r + lag0 + lag, j]
        if x == x:
            acc[row, lag] += x - base
            cnt[row, lag] += 1.0


@numba.njit(parallel=True, cache=True, nogil=True)
def subtract_own(v, spk_row, ptr, lag0, tmpl):
    """v[r+lag0+l, k] −= tmpl[k, l] for every spike row r of neuron k (rows
    outside ``v`` skipped): removes each cell's own spike after-potential."""
    n = ptr.shape[0] - 1
    L = tmpl.shape[1]
    R = v.shape[0]
    for k in numba.prange(n):
        for s in range(ptr[k], ptr[k + 1]):
            r = spk_row[s]
            for lag in range(L):
                rr = r + lag0 + lag
                if rr >= 0 and rr < R:
                    v[rr, k] -= tmpl[k, lag]



#: float16 bit pattern → float32 value (NaN patterns stay NaN): converting
#: through a 256 KB table is one load per sample and needs no float16 support.
F16_TO_F32 = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


@numba.njit(parallel=True, cache=True, nogil=True)
def assemble_traces(raw, lut, R0, r_first, bins_per_chunk, chan, offsets, ref, scale, out):
    """Somatic-mV traces from stored float16 bins (as uint16 bit patterns).

    ``raw`` holds file rows ``r_first …`` (all channels); ``out[t, k]`` (file
    row ``R0 + t``) = (value of channel ``chan[cc, k]`` + ``offsets[cc, that
    channel]`` − ``ref[cc, k]``) × ``scale[cc, k]``, with ``cc`` the row's
    pass-1 chunk; rows outside ``raw`` and NaN scales give NaN.
    """
    T, N = out.shape
    n_raw = raw.shape[0]
    nan = np.float32(np.nan)
    for t in numba.prange(T):
        rr = R0 + t - r_first
        if rr < 0 or rr >= n_raw:
            for k in range(N):
                out[t, k] = nan
            continue
        cc = (R0 + t) // bins_per_chunk
        row = raw[rr]
        for k in range(N):
            c = chan[cc, k]
            out[t, k] = (lut[row[c]] + offsets[cc, c] - ref[cc, k]) * scale[cc, k]


@numba.njit(parallel=True, cache=True, nogil=True)
def mask_intervals(V, R0, starts, stops, ptr):
    """NaN over rows [start, stop) − R0 of column k for every interval of neuron k
    (``starts/stops[ptr[k]:ptr[k+1]]``, sorted), clipped to ``V``."""
    T = V.shape[0]
    nan = np.float32(np.nan)
    for k in numba.prange(ptr.shape[0] - 1):
        lo, hi = ptr[k], ptr[k + 1]
        i = lo + np.searchsorted(stops[lo:hi], R0, side="right")
        while i < hi and starts[i] < R0 + T:
            for r in range(max(starts[i], R0) - R0, min(stops[i], R0 + T) - R0):
                V[r, k] = nan
            i += 1


@numba.njit(cache=True, nogil=True)
def _median_mad(vals):
    m = np.median(vals)
    return m, np.median(np.abs(vals - m))


@numba.njit(parallel=True, cache=True, nogil=True)
def null_center_scale(t, tested):
    """Empirical null per post-synaptic neuron and test: median and MAD over
    presynaptic neurons of ``t[i, j, k]`` (pre, post, test) for tested pairs
    with a finite value; NaN where there are none. Returns two (post, test) arrays."""
    N, M, K = t.shape
    med = np.full((M, K), np.nan, np.float32)
    mad = np.full((M, K), np.nan, np.float32)
    for j in numba.prange(M):
        buf = np.empty((K, N), np.float64)
        cnt = np.zeros(K, np.int64)
        for i in range(N):
            if not tested[i, j]:
                continue
            for k in range(K):
                v = t[i, j, k]
                if v == v:
                    buf[k, cnt[k]] = v
                    cnt[k] += 1
        for k in range(K):
            if cnt[k] > 0:
                a, b = _median_mad(buf[k, :cnt[k]])
                med[j, k] = a
                mad[j, k] = b
    return med, mad


@numba.njit(parallel=True, cache=True, nogil=True)
def post_center_scale(t, tested, posts):
    """Median and MAD per post-synaptic neuron in ``posts`` over all its tested
    (pre, test) values (NaN for the other neurons)."""
    N, M, K = t.shape
    med = np.full(M, np.nan, np.float32)
    mad = np.full(M, np.nan, np.float32)
    for q in numba.prange(posts.shape[0]):
        j = posts[q]
        buf = np.empty(N * K, np.float64)
        n = 0
        for i in range(N):
            if tested[i, j]:
                for k in range(K):
                    v = t[i, j, k]
                    if v == v:
                        buf[n] = v
                        n += 1
        if n > 0:
            a, b = _median_mad(buf[:n])
            med[j] = a
            mad[j] = b
    return med, mad


@numba.njit(parallel=True, cache=True, nogil=True)
def pooled_center_scale(t, tested, s_post, max_values):
    """Per test: median and MAD of ``t[i, j, k] / s_post[j]`` over tested pairs,
    from at most about ``max_values`` pairs (every m-th presynaptic neuron)."""
    N, M, K = t.shape
    n_pairs = 0
    for i in range(N):
        for j in range(M):
            if tested[i, j]:
                n_pairs += 1
    step = max(1, (n_pairs + max_values - 1) // max_values)
    med = np.full(K, np.nan, np.float32)
    mad = np.full(K, np.nan, np.float32)
    for k in numba.prange(K):
        buf = np.empty(((N + step - 1) // step) * M, np.float64)
        n = 0
        for i in range(0, N, step):
            for j in range(M):
                if tested[i, j] and s_post[j] > 0:
                    v = t[i, j, k] / s_post[j]
                    if v == v:
                        buf[n] = v
                        n += 1
        if n > 0:
            a, b = _median_mad(buf[:n])
            med[k] = a
            mad[k] = b
    return med, mad


@numba.njit(parallel=True, cache=True, nogil=True)
def pre_center(t, tested, center, scale):
    """Per presynaptic neuron and test: median and MAD over its tested
    post-synaptic partners of z = (t[i, j, k] − center[j, k]) / scale[j, k],
    and the number of partners. Returns (pre, test), (pre, test) and (pre,)
    arrays (NaN and 0 where there are none)."""
    N, M, K = t.shape
    med = np.full((N, K), np.nan, np.float32)
    mad = np.full((N, K), np.nan, np.float32)
    n = np.zeros(N, np.int64)
    for i in numba.prange(N):
        buf = np.empty((K, M), np.float64)
        cnt = np.zeros(K, np.int64)
        for j in range(M):
            if not tested[i, j]:
                continue
            n[i] += 1
            for k in range(K):
                s = scale[j, k]
                v = t[i, j, k]
                if s > 0 and v == v:
                    buf[k, cnt[k]] = (v - center[j, k]) / s
                    cnt[k] += 1
        for k in range(K):
            if cnt[k] > 0:
                a, b = _median_mad(buf[k, :cnt[k]])
                med[i, k] = a
                mad[i, k] = b
    return med, mad, n


@numba.njit(parallel=True, cache=True, nogil=True)
def subtract_pre_center(t, tested, d, scale):
    """In place: t[i, j, k] −= d[i, k] × scale[j, k] for tested pairs (finite d and scale)."""
    N, M, K = t.shape
    for i in numba.prange(N):
        for j in range(M):
            if not tested[i, j]:
                continue
            for k in range(K):
                a = d[i, k] * scale[j, k]
                if a == a:
                    t[i, j, k] -= a


@numba.njit(parallel=True, cache=True, nogil=True)
def best_test(t, center, scale):
    """Per pair: the test with the largest |z|, z = (t − center[post]) / scale[post]
    (scales that are not positive give no z), and that signed z (NaN if none)."""
    N, M, K = t.shape
    best = np.zeros((N, M), np.int64)
    zbest = np.full((N, M), np.nan, np.float32)
    for i in numba.prange(N):
        for j in range(M):
            bz = -1.0
            for k in range(K):
                s = scale[j, k]
                if not s > 0:
                    continue
                z = (t[i, j, k] - center[j, k]) / s
                if z == z and abs(z) > bz:
                    bz = abs(z)
                    best[i, j] = k
                    zbest[i, j] = z
    return best, zbest
