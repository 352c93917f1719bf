"""The simulated culture's anatomy: neurons over the array, their electrodes,
chemical and electrical synapses.

Parameters and their sources are documented on :class:`SimParams`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..graph.kinds import EdgeKind
from .params import SimParams

KIND_EXC, KIND_INH, KIND_GAP = (int(k) for k in EdgeKind)  # plain ints: numba kernels use them


@dataclass
class Network:
    """Neurons, electrodes and synapses (all arrays; index = neuron id)."""

    x_um: np.ndarray
    y_um: np.ndarray
    row: np.ndarray
    col: np.ndarray
    is_excitatory: np.ndarray
    channel_ptr: np.ndarray          # CSR: channels seeing each neuron (first = best)
    channel_idx: np.ndarray
    channel_neuron: np.ndarray       # per channel: neuron id or −1
    attenuation: np.ndarray          # per channel: a_k at t = 0 (0 uncoupled)
    pre: np.ndarray                  # chemical and electrical edges
    post: np.ndarray
    weight_mv: np.ndarray
    delay_ms: np.ndarray
    kind: np.ndarray
    distance_um: np.ndarray
    gap_cc: np.ndarray               # per edge: coupling coefficient (electrical only, else 0)
    p_max: float

    @property
    def n_neurons(self) -> int:
        return len(self.x_um)


def _neighbours(r: int, c: int, rows: int, cols: int):
    """4-neighbours first, then diagonals: adjacent electrodes of (r, c)."""
    for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)):
        rr, cc = r + dr, c + dc
        if 0 <= rr < rows and 0 <= cc < cols:
            yield rr * cols + cc


def place_neurons(p: SimParams, rng: np.random.Generator):
    """Put each neuron over a home electrode and give it 0–2 adjacent ones.

    Returns positions, grid cells, the channel CSR, each channel's neuron and
    attenuation. The home electrode gets the largest attenuation (best copy of
    V_m); neighbours a smaller, different one. Most remaining electrodes are
    uncoupled (noise only).
    """
    rows, cols = p.grid
    n_ch = rows * cols
    homes = rng.permutation(n_ch)[: p.n_neurons]
    owner = np.full(n_ch, -1, np.int64)
    owner[homes] = np.arange(p.n_neurons)
    want = rng.choice([1, 2, 3], size=p.n_neurons, p=list(p.electrodes_per_neuron))
    chans = [[int(h)] for h in homes]
    for i in rng.permutation(p.n_neurons):
        for _ in range(want[i] - 1):
            r, c = divmod(chans[i][-1], cols)
            free = [k for k in _neighbours(r, c, rows, cols) if owner[k] < 0]
            if not free:
                r, c = divmod(chans[i][0], cols)
                free = [k for k in _neighbours(r, c, rows, cols) if owner[k] < 0]
            if not free:
                break
            k = free[int(rng.integers(len(free)))]
            owner[k] = i
            chans[i].append(k)
    mean, lo, hi = p.coupled_attenuation
    alpha = 2.0
    beta = alpha * (1 - mean) / mean
    att = np.zeros(n_ch)
    for i in range(p.n_neurons):
        a0 = float(np.clip(rng.beta(alpha, beta), lo, hi))
        att[chans[i][0]] = a0
        for k in chans[i][1:]:
            att[k] = max(lo, a0 * rng.uniform(0.3, 0.9))
    ptr = np.zeros(p.n_neurons + 1, np.int64)
    ptr[1:] = np.cumsum([len(c) for c in chans])
    idx = np.array([k for c in chans for k in c], np.int64)
    hr, hc = np.divmod(homes, cols)
    jitter = rng.uniform(-p.pitch_um / 3, p.pitch_um / 3, size=(2, p.n_neurons))
    x = hc * p.pitch_um + jitter[0]
    y = hr * p.pitch_um + jitter[1]
    return x, y, hr.astype(np.int32), hc.astype(np.int32), ptr, idx, owner, att


def wire(p: SimParams, x, y, is_exc, rng: np.random.Generator):
    """Chemical synapses by the Gaussian distance rule with over-represented
    reciprocal pairs; lognormal amplitudes with Dale's law; latency from
    conduction distance.

    p_max is solved so that the mean in-degree is ``p.in_degree`` (capped by
    ``p.p_max_cap``, which a small network reaches).
    """
    n = len(x)
    two_s2 = 2.0 * p.wiring_sigma_um ** 2
    block = max(1, 2_000_000 // max(n, 1))
    # expected in-degree at p_max = 1
    gsum = 0.0
    for s in range(0, n, block):
        d2 = (x[s:s + block, None] - x[None, :]) ** 2 + (y[s:s + block, None] - y[None, :]) ** 2
        g = np.exp(-d2 / two_s2)
        gsum += g.sum() - min(block, n - s)  # minus the diagonal (g = 1)
    mean_g = gsum / max(n, 1)
    p_max = min(p.p_max_cap, p.in_degree / mean_g) if mean_g > 0 else 0.0
    r = max(p.reciprocity, 1.0)
    pres, posts = [], []
    for s in range(0, n, block):
        i = np.arange(s, min(n, s + block))
        d2 = (x[i, None] - x[None, :]) ** 2 + (y[i, None] - y[None, :]) ** 2
        pr = p_max * np.exp(-d2 / two_s2)
        u = rng.random(pr.shape)
        upper = np.arange(n)[None, :] > i[:, None]        # each unordered pair once (i < j)
        both = r * pr * pr
        one = pr - both
        m_both = upper & (u < both)
        m_ij = upper & (u >= both) & (u < both + one)
        m_ji = upper & (u >= both + one) & (u < both + 2 * one)
        for m, fwd, rev in ((m_both, True, True), (m_ij, True, False), (m_ji, False, True)):
            a, b = np.nonzero(m)
            a = i[a]
            if fwd:
                pres.append(a)
                posts.append(b)
            if rev:
                pres.append(b)
                posts.append(a)
    pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
    post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
    order = np.lexsort((post, pre))
    pre, post = pre[order].astype(np.int64), post[order].astype(np.int64)
    exc = is_exc[pre]
    w = np.where(exc,
                 rng.lognormal(np.log(p.epsp_median_mv), p.epsp_sigma_ln, len(pre)),
                 -rng.lognormal(np.log(p.ipsp_median_mv), p.ipsp_sigma_ln, len(pre)))
    w = np.clip(w, -p.psp_max_mv, p.psp_max_mv)
    dist = np.hypot(x[pre] - x[post], y[pre] - y[post])
    # 0.3 m/s = 300 µm/ms
    delay = p.latency_base_ms + dist / (p.conduction_m_per_s * 1000.0)
    kind = np.where(exc, KIND_EXC, KIND_INH).astype(np.int8)
    return pre, post, w, delay, kind, dist, p_max


def gap_junctions(p: SimParams, x, y, is_exc, rng: np.random.Generator):
    """Electrical synapses between inhibitory pairs: p = p_max·exp(−d²/2σ²);
    symmetric coupling coefficient; both directions returned."""
    inh = np.flatnonzero(~is_exc)
    if len(inh) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    d2 = (x[inh, None] - x[None, inh]) ** 2 + (y[inh, None] - y[None, inh]) ** 2
    pr = p.gap_p_max * np.exp(-d2 / (2 * p.gap_sigma_um ** 2))
    u = rng.random(pr.shape)
    a, b = np.nonzero(np.triu(u < pr, k=1))
    cc = rng.uniform(*p.gap_cc_range, size=len(a))
    ia, ib = inh[a], inh[b]
    return (np.concatenate([ia, ib]).astype(np.int64), np.concatenate([ib, ia]).astype(np.int64),
            np.concatenate([cc, cc]))


def build_network(p: SimParams, rng: np.random.Generator, spikelet_peak_per_cc: float) -> Network:
    """Place neurons, couple electrodes, wire chemical and electrical synapses.

    ``spikelet_peak_per_cc`` converts a coupling coefficient into the peak of
    the spikelet one presynaptic AP makes at the soma (it depends on the AP
    shape and the junction's low-pass, see :mod:`.signal`).
    """
    x, y, row, col, ptr, idx, owner, att = place_neurons(p, rng)
    is_exc = rng.random(p.n_neurons) < p.excitatory_fraction
    pre, post, w, delay, kind, dist, p_max = wire(p, x, y, is_exc, rng)
    gpre, gpost, cc = gap_junctions(p, x, y, is_exc, rng)
    gdist = np.hypot(x[gpre] - x[gpost], y[gpre] - y[gpost])
    return Network(
        x_um=x, y_um=y, row=row, col=col, is_excitatory=is_exc,
        channel_ptr=ptr, channel_idx=idx, channel_neuron=owner, attenuation=att,
        pre=np.concatenate([pre, gpre]), post=np.concatenate([post, gpost]),
        weight_mv=np.concatenate([w, cc * spikelet_peak_per_cc]),
        delay_ms=np.concatenate([delay, np.zeros(len(gpre))]),
        kind=np.concatenate([kind, np.full(len(gpre), KIND_GAP, np.int8)]),
        distance_um=np.concatenate([dist, gdist]),
        gap_cc=np.concatenate([np.zeros(len(pre)), cc]),
        p_max=float(p_max),
    )
