"""Numba kernels of the simulator's block synthesis (the measured hot loops:
per-neuron IIR filtering of synaptic input and per-sample electrode mixing).

Both are parallel over independent rows and draw no random numbers, so the
output does not depend on the thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True, nogil=True)
def membrane_block(ev_ptr, ev_t, ev_w, ev_type, xi, state, coef, out):
    """Membrane-potential deviation of each neuron over one block.

    ev_ptr/ev_t/ev_w/ev_type: impulses per neuron (CSR, time-sorted), type
    0 excitatory PSP, 1 inhibitory PSP, 2 after-hyperpolarisation.
    xi: (N, T) scaled innovations of the background OU process.
    state: (N, 7) float64 carried between blocks: E slow, E fast, I slow,
    I fast, AHP slow, AHP fast, OU.
    coef: [dE1, dE2, AE, dI1, dI2, AI, dH1, dH2, AH, dOU].
    out: (N, T) float32.
    Difference-of-exponentials kernels are two first-order filters each:
    y = A·(s_slow − s_fast), s ← d·s + x.
    """
    n, T = xi.shape
    dE1, dE2, AE, dI1, dI2, AI, dH1, dH2, AH, dOU = (coef[0], coef[1], coef[2], coef[3], coef[4],
                                                     coef[5], coef[6], coef[7], coef[8], coef[9])
    for i in nb.prange(n):
        e1, e2, i1, i2, h1, h2, o = (state[i, 0], state[i, 1], state[i, 2], state[i, 3],
                                     state[i, 4], state[i, 5], state[i, 6])
        k = ev_ptr[i]
        kend = ev_ptr[i + 1]
        for t in range(T):
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
            o = dOU * o + xi[i, t]
            out[i, t] = AE * (e1 - e2) + AI * (i1 - i2) + AH * (h1 - h2) + o
        state[i, 0] = e1
        state[i, 1] = e2
        state[i, 2] = i1
        state[i, 3] = i2
        state[i, 4] = h1
        state[i, 5] = h2
        state[i, 6] = o


@nb.njit(parallel=True, cache=True, nogil=True)
def electrode_block(vmT, neuron, gain, loss_at, offset, noise_sd, white, common, slow, dec, phase, out):
    """Electrode signals (mV), time-major, over one block.

    out[t, c] = noise_sd[c]·white[t, c] + common[t] + offset[c]
                + gain[c]·vmT[t, neuron[c]]  (if neuron[c] ≥ 0 and t < loss_at[c])
                + slow drift/1-over-f noise, linearly interpolated from ``slow``
                  (rows every ``dec`` samples; ``phase`` = block start mod dec).
    """
    T, C = white.shape
    for t in nb.prange(T):
        pos = (t + phase) / dec
        j = int(pos)
        f = pos - j
        for c in range(C):
            v = noise_sd[c] * white[t, c] + common[t] + offset[c]
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
