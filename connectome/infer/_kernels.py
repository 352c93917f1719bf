"""Compiled pairwise accumulation (numba).

For every presynaptic spike (row ``r`` of a chunk of binned, somatic-mV
traces) and every postsynaptic neuron ``j`` it adds the baseline-subtracted
trace ``V[r + lag, j] − base[r, j]`` at each lag, skipping masked samples.
The innermost loop runs over postsynaptic neurons, which are contiguous in
memory, so it vectorises; presynaptic neurons are spread over threads, so no
two threads write the same accumulator row.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, fastmath=True)
def accumulate_pairs(v0, m, base0, bvalid, spk_row, pre_ptr, lag0, acc, cnt):
    """acc[i, l, j] += Σ m·(v0[r+lag0+l, j] − base0[r, j]); cnt[i, l, j] += Σ m.

    ``m`` is 1 for usable samples, 0 for masked ones (``v0`` holds 0 there);
    ``bvalid[r, j]`` is 0 where spike r has no usable baseline on neuron j.
    """
    n_pre = pre_ptr.shape[0] - 1
    n_lag = acc.shape[1]
    n_post = v0.shape[1]
    for i in numba.prange(n_pre):
        for s in range(pre_ptr[i], pre_ptr[i + 1]):
            r = spk_row[s]
            for l in range(n_lag):
                rr = r + lag0 + l
                for j in range(n_post):
                    w = m[rr, j] * bvalid[r, j]
                    acc[i, l, j] += w * (v0[rr, j] - base0[r, j])
                    cnt[i, l, j] += w
