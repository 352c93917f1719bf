"""Compiled kernels of the imprinting crossbar (numba); see :mod:`.imprint`."""

from __future__ import annotations

import numba
import numpy as np

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def _mix(x):
    """splitmix64 finaliser: a counter-based generator, so draws do not depend on thread scheduling."""
    x = (x ^ (x >> np.uint64(30))) * _M2
    x = (x ^ (x >> np.uint64(27))) * _M3
    return x ^ (x >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _normal(seed, a, b):
    """A standard-normal draw determined by (seed, a, b) (Box–Muller on two hashed uniforms)."""
    h1 = _mix(seed + np.uint64(a) * _M1 + np.uint64(b) * _M2)
    h2 = _mix(h1 + _M1)
    u1 = (np.float64(h1 >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    u2 = np.float64(h2 >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@numba.njit(parallel=True, cache=True, nogil=True)
def column_deflections(v, base, tau_bins):
    """Per bin and column: the deflection v − baseline (NaN where v is masked).

    ``base`` (one value per column) is the running baseline carried between
    blocks: an exponential moving average with time constant ``tau_bins``
    bins, frozen over masked (NaN) bins; it is updated in place.
    """
    n_t, n = v.shape
    out = np.full((n_t, n), np.nan, np.float32)
    k = 1.0 / tau_bins
    for j in numba.prange(n):
        b = base[j]
        for t in range(n_t):
            x = v[t, j]
            if x != x:
                continue
            if b != b:
                b = x
            out[t, j] = x - b
            b += k * (x - b)
        base[j] = b
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def imprint_rows(G, signs, row_ptr, row_lo, row_hi, g_min, g_max, top_p, a_p, bot_d, a_d, step_lin_p,
                 step_lin_d,
                 sigma_c2c, seed, t_offset, n_pot, n_dep):
    """Apply the write pulses of one block to the crossbar ``G`` (rows = pre, columns = post).

    Row ``i`` is driven during the bin intervals ``[row_lo[k], row_hi[k])``
    for ``k`` in ``row_ptr[i]:row_ptr[i+1]`` (disjoint, sorted); at each
    such bin a cell (i, j) gets one potentiating pulse if ``signs[t, j] = +1``,
    one depressing pulse if −1. A potentiating pulse moves G towards
    ``top_p`` by the fraction ``a_p`` (exponential saturation; a linear step
    ``step_lin_p`` when ``a_p`` is 0), a depressing one towards ``bot_d`` by
    ``a_d``; then cycle-to-cycle noise σ = ``sigma_c2c`` and clipping to
    [g_min, g_max]. Rows are independent, so they run in parallel; the noise
    is a hash of (seed, cell, bin), so the result does not depend on threads.
    """
    n_rows, n = G.shape
    for i in numba.prange(n_rows):
        for k in range(row_ptr[i], row_ptr[i + 1]):
            for t in range(row_lo[k], row_hi[k]):
                for j in range(n):
                    s = signs[t, j]
                    if s == 0 or j == i:
                        continue
                    g = G[i, j]
                    if s > 0:
                        g = g + (top_p - g) * a_p if a_p > 0 else g + step_lin_p
                        n_pot[i, j] += 1
                    else:
                        g = g - (g - bot_d) * a_d if a_d > 0 else g - step_lin_d
                        n_dep[i, j] += 1
                    if sigma_c2c > 0:
                        g += sigma_c2c * _normal(seed, i * n + j, t + t_offset)
                    if g > g_max:
                        g = g_max
                    elif g < g_min:
                        g = g_min
                    G[i, j] = g
