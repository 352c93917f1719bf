"""Numba kernels of the simulator's block synthesis (the measured hot loops:
per-neuron IIR filtering of synaptic input and per-sample electrode mixing).

Both are parallel over independent rows and draw no random numbers, so the
output does not depend on the thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@nb.njit(inline="always")
def _mix(x):
    """SplitMix64 finaliser: a counter → 64 well-mixed bits."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _half_normal_table() -> np.ndarray:
    """2^16 quantiles of N(0, ½): the sum of two independent draws is N(0, 1)
    to within the table's resolution (tails reach ±6.2 σ)."""
    from scipy.special import ndtri

    q = ndtri((np.arange(65536) + 0.5) / 65536)
    return (q / np.sqrt(2 * np.mean(q * q))).astype(np.float32)


NORMAL_TABLE = _half_normal_table()
_MASK16 = np.uint64(0xFFFF)


@nb.njit(inline="always")
def _normal2(key, table):
    """Two independent standard normals from one counter: four 16-bit
    inverse-CDF lookups (libm's log/cos are ~20× slower here)."""
    z = _mix(key)
    a = table[z & _MASK16] + table[(z >> np.uint64(16)) & _MASK16]
    b = table[(z >> np.uint64(32)) & _MASK16] + table[z >> np.uint64(48)]
    return a, b


def stream_key(seed: int, stream: int) -> np.uint64:
    """Base counter of one random stream of one seed (noise is a pure
    function of (seed, stream, sample, row): independent of block size and
    thread count)."""
    x = (int(seed) * 0x9E3779B97F4A7C15 + int(stream) * 0xD1B54A32D192ED03) % (1 << 64)
    return np.uint64(int(_mix(np.uint64(x))))


@nb.njit(parallel=True, cache=True, nogil=True)
def membrane_block(ev_ptr, ev_t, ev_w, ev_type, ou_scale, key, t0, table, state, coef, out):
    """Membrane-potential deviation of each neuron over one block.

    ev_ptr/ev_t/ev_w/ev_type: impulses per neuron (CSR, time-sorted), type
    0 excitatory PSP, 1 inhibitory PSP, 2 after-hyperpolarisation.
    ou_scale: per-neuron innovation SD of the background OU process, whose
    normals come from the counter ``key`` + (neuron, global sample t0 + t).
    state: (N, 7) float64 carried between blocks: E slow, E fast, I slow,
    I fast, AHP slow, AHP fast, OU.
    coef: [dE1, dE2, AE, dI1, dI2, AI, dH1, dH2, AH, dOU].
    out: (N, T) float32.
    Difference-of-exponentials kernels are two first-order filters each:
    y = A·(s_slow − s_fast), s ← d·s + x.
    """
    n, T = out.shape
    dE1, dE2, AE, dI1, dI2, AI, dH1, dH2, AH, dOU = (coef[0], coef[1], coef[2], coef[3], coef[4],
                                                     coef[5], coef[6], coef[7], coef[8], coef[9])
    for i in nb.prange(n):
        e1, e2, i1, i2, h1, h2, o = (state[i, 0], state[i, 1], state[i, 2], state[i, 3],
                                     state[i, 4], state[i, 5], state[i, 6])
        k = ev_ptr[i]
        kend = ev_ptr[i + 1]
        sc = ou_scale[i]
        base = key + np.uint64(i) * np.uint64(1 << 40) + np.uint64(t0 // 2)
        g1 = 0.0
        for t in range(T):
            tg = t0 + t
            if t == 0 or tg % 2 == 0:
                g0, g1 = _normal2(base + np.uint64(tg // 2 - t0 // 2), table)
                g = g0 if tg % 2 == 0 else g1
            else:
                g = g1
            e1 *= dE1
            e2 *= dE2
            i1 *= dI1
            i2 *= dI2
            h1 *= dH1
            h2 *= dH2
            while k < kend and ev_t[k] == t:
                w = ev_w[k]
                ty = ev_type[k]
                if ty == 0:
                    e1 += w
                    e2 += w
                elif ty == 1:
                    i1 += w
                    i2 += w
                else:
                    h1 += w
                    h2 += w
                k += 1
            o = dOU * o + sc * g
            out[i, t] = AE * (e1 - e2) + AI * (i1 - i2) + AH * (h1 - h2) + o
        state[i, 0] = e1
        state[i, 1] = e2
        state[i, 2] = i1
        state[i, 3] = i2
        state[i, 4] = h1
        state[i, 5] = h2
        state[i, 6] = o


@nb.njit(parallel=True, cache=True, nogil=True)
def electrode_block(vmT, neuron, gain, loss_at, offset, noise_sd, key, t0, table, common, slow, dec, phase, out):
    """Electrode signals (mV), time-major, over one block.

    out[t, c] = noise_sd[c]·N(0,1) + common[t] + offset[c]
                + gain[c]·vmT[t, neuron[c]]  (if neuron[c] ≥ 0 and t < loss_at[c])
                + slow drift/1-over-f noise, linearly interpolated from ``slow``
                  (rows every ``dec`` samples; ``phase`` = block start mod dec).
    """
    T, C = out.shape
    half = (C + 1) // 2
    for t in nb.prange(T):
        pos = (t + phase) / dec
        j = int(pos)
        f = pos - j
        row = key + np.uint64(t0 + t) * np.uint64(half)
        g1 = 0.0
        for c in range(C):
            if c % 2 == 0:
                g0, g1 = _normal2(row + np.uint64(c // 2), table)
                g = g0
            else:
                g = g1
            v = noise_sd[c] * g + common[t] + offset[c]
            v += slow[j, c] * (1.0 - f) + slow[j + 1, c] * f
            m = neuron[c]
            if m >= 0 and t < loss_at[c]:
                v += gain[c] * vmT[t, m]
            out[t, c] = v


@nb.njit(parallel=True, cache=True, nogil=True)
def quantise(x, inv_scale, status, dead_value, out):
    """mV → int16 counts with saturation; dead channels flat, saturated pinned."""
    T, C = x.shape
    for t in nb.prange(T):
        for c in range(C):
            s = status[c]
            if s == 1:
                out[t, c] = dead_value[c]
            elif s == 2:
                out[t, c] = 32767
            else:
                v = x[t, c] * inv_scale[c]
                if v > 32767.0:
                    v = 32767.0
                elif v < -32768.0:
                    v = -32768.0
                out[t, c] = np.int16(np.rint(v))
