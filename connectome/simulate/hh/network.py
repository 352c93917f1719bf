"""Anatomy of the HH network: cells, chemical synapses, gap junctions, shared drives.

Neurons sit over electrodes exactly as in the point-process simulator
(:func:`connectome.simulate.network.place_neurons`: the electrode model is
shared); everything else here is drawn independently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...graph.kinds import EdgeKind
from ..network import place_neurons
from .model import CHANNELS, E_LEAK, FS, RS
from .params import HHParams

KIND_EXC, KIND_INH, KIND_GAP = (int(k) for k in EdgeKind)  # plain ints: numba kernels use them


def ns_to_density(g_ns, area_um2):
    """nS on a compartment of ``area_um2`` → mS/cm²."""
    return np.asarray(g_ns, float) * 100.0 / np.asarray(area_um2, float)


@dataclass
class HHNetwork:
    x_um: np.ndarray
    y_um: np.ndarray
    row: np.ndarray
    col: np.ndarray
    is_excitatory: np.ndarray
    channel_ptr: np.ndarray
    channel_idx: np.ndarray
    channel_neuron: np.ndarray
    attenuation: np.ndarray
    cell: np.ndarray            # (N, 7) type, gNa, gK, gM, gL, E_L, bias (mS/cm², mV, µA/cm²)
    area_um2: np.ndarray
    noise_sd: np.ndarray        # background current SD (µA/cm²)
    group: np.ndarray           # shared drive of each neuron (−1 none)
    loading: np.ndarray         # its loading (× drive)
    pre: np.ndarray             # chemical synapses
    post: np.ndarray
    g_ns: np.ndarray            # peak conductance (nS), > 0
    delay_ms: np.ndarray
    distance_um: np.ndarray
    gap_a: np.ndarray           # junctions, one row per unordered pair
    gap_b: np.ndarray
    gap_ns: np.ndarray
    p_max: float

    @property
    def n_neurons(self) -> int:
        return len(self.x_um)


def _wire(p: HHParams, x, y, is_exc, rng):
    n = len(x)
    d2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
    g = np.exp(-d2 / (2.0 * p.wiring_sigma_um ** 2))
    np.fill_diagonal(g, 0.0)
    mean_g = g.sum() / n
    r = max(p.reciprocity, 1.0)
    p_max = min(1.0 / r, p.in_degree / mean_g) if mean_g > 0 else 0.0
    pr = p_max * g
    u = rng.random((n, n))
    upper = np.triu(np.ones((n, n), bool), k=1)
    both = r * pr * pr
    one = pr - both
    m_both = upper & (u < both)
    m_ij = upper & (u >= both) & (u < both + one)
    m_ji = upper & (u >= both + one) & (u < both + 2 * one)
    conn = m_both | m_both.T | m_ij | m_ji.T
    pre, post = np.nonzero(conn)
    med = np.where(is_exc[pre], np.where(is_exc[post], p.g_ee_ns * p.burstiness, p.g_ei_ns),
                   np.where(is_exc[post], p.g_ie_ns, p.g_ii_ns))
    w = np.minimum(med * np.exp(p.g_sigma_ln * rng.standard_normal(len(pre))), p.g_max_ns)
    dist = np.hypot(x[pre] - x[post], y[pre] - y[post])
    delay = p.latency_base_ms + dist / (p.conduction_m_per_s * 1000.0)
    return pre.astype(np.int64), post.astype(np.int64), w, delay, dist, float(p_max)


def _gaps(p: HHParams, x, y, is_exc, rng):
    inh = np.flatnonzero(~is_exc)
    d2 = (x[inh, None] - x[None, inh]) ** 2 + (y[inh, None] - y[None, inh]) ** 2
    pr = np.minimum(1.0, p.gap_p_max * p.gap_density * np.exp(-d2 / (2 * p.gap_sigma_um ** 2)))
    u = rng.random(pr.shape)
    a, b = np.nonzero(np.triu(u < pr, k=1))
    g = rng.uniform(*p.gap_ns, size=len(a))
    return inh[a].astype(np.int64), inh[b].astype(np.int64), g


def build_hh_network(p: HHParams, rng: np.random.Generator) -> HHNetwork:
    """Place, type and wire the neurons (all draws from ``rng``)."""
    sp = p.electrode_params()
    x, y, row, col, ptr, idx, owner, att = place_neurons(sp, rng)
    n = p.n_neurons
    is_exc = np.zeros(n, bool)                         # exactly round(fraction·N) excitatory
    is_exc[rng.permutation(n)[: int(round(p.excitatory_fraction * n))]] = True
    ty = np.where(is_exc, RS, FS)
    gl = np.where(is_exc, rng.uniform(*p.e_gl_ms_cm2, size=n), rng.uniform(*p.i_gl_ms_cm2, size=n))
    b = p.bias_ua_cm2
    bias = np.where(is_exc, rng.uniform(b[0], b[1], size=n), rng.uniform(b[2], b[3], size=n))
    s = p.noise_ua_cm2
    noise = np.where(is_exc, rng.uniform(s[0], s[1], size=n), rng.uniform(s[2], s[3], size=n))
    cell = np.zeros((n, 7))
    cell[:, 0] = ty
    for t in (RS, FS):
        m = ty == t
        gna, gk, gm, _, _ = CHANNELS[t]
        cell[m, 1], cell[m, 2], cell[m, 3], cell[m, 5] = gna, gk, gm, E_LEAK[t]
    cell[:, 4] = gl
    cell[:, 6] = bias
    area = np.where(is_exc, p.e_area_um2, p.i_area_um2).astype(float)
    G = min(p.drive_groups, n)
    if G > 0:
        centres = rng.choice(n, size=G, replace=False)
        d2 = (x[:, None] - x[centres][None, :]) ** 2 + (y[:, None] - y[centres][None, :]) ** 2
        group = np.argmin(d2, axis=1).astype(np.int64)
        loading = rng.uniform(0.5, 1.0, size=n)
    else:
        group, loading = np.full(n, -1, np.int64), np.zeros(n)
    pre, post, w, delay, dist, p_max = _wire(p, x, y, is_exc, rng)
    ga, gb, gg = _gaps(p, x, y, is_exc, rng)
    return HHNetwork(x_um=x, y_um=y, row=row, col=col, is_excitatory=is_exc, channel_ptr=ptr,
                     channel_idx=idx, channel_neuron=owner, attenuation=att, cell=cell, area_um2=area,
                     noise_sd=noise, group=group, loading=loading, pre=pre, post=post, g_ns=w,
                     delay_ms=delay, distance_um=dist, gap_a=ga, gap_b=gb, gap_ns=gg, p_max=p_max)
