"""Compiled kernel of the spiking-network simulation (numba); see :mod:`.functional`."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def run_lif(n, out_ptr, out_post, out_delay, out_jump, out_exc, n_steps, dt, tau_m, tau_e, tau_i, v_th,
            v_reset,
            ref_steps, tau_a, a_jump, ext_rate_per_step, ext_jump, seed, max_spikes):
    """Simulate ``n`` current-based LIF neurons for ``n_steps`` steps of ``dt`` ms.

    Synapses are CSR by presynaptic neuron: ``out_post``, ``out_delay``
    (steps ≥ 1), ``out_jump`` (mV/ms added to the synaptic variable) and
    ``out_exc`` (1: excitatory variable, 0: inhibitory). External drive:
    Poisson events at ``ext_rate_per_step`` per neuron and step, each adding
    ``ext_jump`` to the excitatory variable. Returns spike steps, spike
    neurons (the first ``max_spikes``) and the total spike count.
    """
    np.random.seed(seed)
    max_d = 1
    for k in range(out_delay.shape[0]):
        if out_delay[k] > max_d:
            max_d = out_delay[k]
    d_len = max_d + 1
    ring_e = np.zeros((d_len, n))
    ring_i = np.zeros((d_len, n))
    v = np.zeros(n)
    xe = np.zeros(n)
    xi = np.zeros(n)
    ad = np.zeros(n)
    ref = np.zeros(n, np.int64)
    de = np.exp(-dt / tau_e)
    di = np.exp(-dt / tau_i)
    da = np.exp(-dt / tau_a) if tau_a > 0 else 0.0
    k_m = dt / tau_m
    spk_t = np.empty(max_spikes, np.int32)
    spk_n = np.empty(max_spikes, np.int32)
    total = 0
    lam = ext_rate_per_step * n
    for t in range(n_steps):
        slot = t % d_len
        for j in range(n):
            xe[j] = xe[j] * de + ring_e[slot, j]
            xi[j] = xi[j] * di + ring_i[slot, j]
            ring_e[slot, j] = 0.0
            ring_i[slot, j] = 0.0
        if lam > 0:
            k_ext = np.random.poisson(lam)
            for _ in range(k_ext):
                xe[np.random.randint(0, n)] += ext_jump
        for j in range(n):
            ad[j] *= da
            if ref[j] > 0:
                ref[j] -= 1
                continue
            v[j] += -k_m * (v[j] + ad[j]) + dt * (xe[j] + xi[j])
            if v[j] >= v_th:
                v[j] = v_reset
                ref[j] = ref_steps
                ad[j] += a_jump
                if total < max_spikes:
                    spk_t[total] = t
                    spk_n[total] = j
                total += 1
                for k in range(out_ptr[j], out_ptr[j + 1]):
                    s = (t + out_delay[k]) % d_len
                    if out_exc[k]:
                        ring_e[s, out_post[k]] += out_jump[k]
                    else:
                        ring_i[s, out_post[k]] += out_jump[k]
    m = min(total, max_spikes)
    return spk_t[:m].copy(), spk_n[:m].copy(), total
