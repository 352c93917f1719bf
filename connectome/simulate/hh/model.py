"""Single-compartment Hodgkin–Huxley neurons and their network, in numba.

Excitatory cells: the regular-spiking model of Pospischil et al. (2008,
Biol. Cybern. 99:427) — Traub & Miles (1991) Na⁺/K⁺ kinetics with threshold
shift V_T and a slow M-type K⁺ current (spike-frequency adaptation).
Inhibitory cells: Wang & Buzsáki (1996, J. Neurosci. 16:6402) fast-spiking
interneurons (instantaneous m, φ = 5).

Integration: exponential Euler at a fixed step (MacGregor 1987; as in
NEURON's ``cnexp``): every gate relaxes towards x∞(V) with exp(−dt/τx(V))
read from precomputed tables, then V relaxes towards the conductance-weighted
reversal potential with exp(−dt·G/C_m). Gap-junction currents and noise are
taken from the previous step. C_m = 1 µF/cm², conductances in mS/cm²,
currents in µA/cm², V in mV, t in ms.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .._kernels import _normal2

#: Voltage grid of the rate tables (mV).
V_MIN, V_MAX, V_STEP = -130.0, 70.0, 0.01
#: Cell types.
RS, FS = 0, 1
#: (gNa, gK, gM, E_Na, E_K) per type; RS from Pospischil et al. 2008 (Table 1, "RS"), FS from Wang & Buzsáki 1996.
CHANNELS = {RS: (56.0, 6.0, 0.075, 50.0, -90.0), FS: (35.0, 9.0, 0.0, 55.0, -90.0)}
#: Leak reversal per type (mV): Pospischil RS −70.3, Wang–Buzsáki −65.
E_LEAK = {RS: -70.3, FS: -65.0}
#: RS threshold shift V_T (mV) and M-current τ_max (ms), Pospischil et al. 2008.
RS_VT, RS_TAU_MAX = -56.2, 608.0


def _vtrap(x, y):
    """x / (exp(x/y) − 1), with its limit y at x = 0."""
    x = np.asarray(x, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = x / np.expm1(x / y)
    return np.where(np.abs(x / y) < 1e-7, y * (1 - x / y / 2), r)


def gate_tables(dt: float) -> np.ndarray:
    """(2 types, 4 gates m/h/n/p, 2, NV): x∞(V) and exp(−dt/τx(V))."""
    v = np.arange(V_MIN, V_MAX + V_STEP / 2, V_STEP)
    tab = np.zeros((2, 4, 2, len(v)))
    # RS: Traub & Miles kinetics with V_T (Pospischil 2008 eqs. 3–6)
    u = v - RS_VT
    am, bm = 0.32 * _vtrap(-(u - 13), 4), 0.28 * _vtrap(u - 40, 5)
    ah, bh = 0.128 * np.exp(-(u - 17) / 18), 4 / (1 + np.exp(-(u - 40) / 5))
    an, bn = 0.032 * _vtrap(-(u - 15), 5), 0.5 * np.exp(-(u - 10) / 40)
    pinf = 1 / (1 + np.exp(-(v + 35) / 10))
    taup = RS_TAU_MAX / (3.3 * np.exp((v + 35) / 20) + np.exp(-(v + 35) / 20))
    for g, (a, b) in enumerate(((am, bm), (ah, bh), (an, bn))):
        tab[RS, g, 0] = a / (a + b)
        tab[RS, g, 1] = np.exp(-dt * (a + b))
    tab[RS, 3, 0], tab[RS, 3, 1] = pinf, np.exp(-dt / taup)
    # FS: Wang & Buzsáki 1996 (φ = 5; m instantaneous)
    am, bm = 0.1 * _vtrap(-(v + 35), 10), 4 * np.exp(-(v + 60) / 18)
    ah, bh = 0.07 * np.exp(-(v + 58) / 20), 1 / (np.exp(-(v + 28) / 10) + 1)
    an, bn = 0.01 * _vtrap(-(v + 34), 10), 0.125 * np.exp(-(v + 44) / 80)
    tab[FS, 0, 0], tab[FS, 0, 1] = am / (am + bm), 0.0
    tab[FS, 1, 0], tab[FS, 1, 1] = ah / (ah + bh), np.exp(-dt * 5 * (ah + bh))
    tab[FS, 2, 0], tab[FS, 2, 1] = an / (an + bn), np.exp(-dt * 5 * (an + bn))
    tab[FS, 3, 0], tab[FS, 3, 1] = 0.0, 1.0
    return tab


@nb.njit(inline="always", cache=True)
def _relax(tab, ty, g, j, f, x):
    inf = tab[ty, g, 0, j] * (1.0 - f) + tab[ty, g, 0, j + 1] * f
    dec = tab[ty, g, 1, j] * (1.0 - f) + tab[ty, g, 1, j + 1] * f
    return inf + (x - inf) * dec


@nb.njit(inline="always", cache=True)
def _advance(tab, ty, V, m, h, n, p, gna, gk, gm, gl, el, ena, ek, iext, ge, gi, ee, ei, dt):
    """One exponential-Euler step of one neuron; returns (V, m, h, n, p)."""
    x = (V - V_MIN) / V_STEP
    if x < 0.0:
        x = 0.0
    nv = tab.shape[3]
    if x > nv - 2.0:
        x = nv - 2.0
    j = int(x)
    f = x - j
    m = _relax(tab, ty, 0, j, f, m)
    h = _relax(tab, ty, 1, j, f, h)
    n = _relax(tab, ty, 2, j, f, n)
    p = _relax(tab, ty, 3, j, f, p)
    n2 = n * n
    a = gna * m * m * m * h
    b = gk * n2 * n2 + gm * p
    G = a + b + gl + ge + gi
    vinf = (a * ena + b * ek + gl * el + ge * ee + gi * ei + iext) / G
    V = vinf + (V - vinf) * np.exp(-dt * G)
    return V, m, h, n, p


@nb.njit(cache=True, nogil=True)
def network_block(n_out, sub, dt, k0, tab, cell, gcoef, st, ring_e, ring_i,
                  out_ptr, out_post, out_g, out_d, stp, syn, gap_a, gap_b, gap_ga, gap_gb,
                  noise, grp, drive, drive_coef, key_n, key_d, table, thr, vref, stat_gap,
                  vm_out, sp_n, sp_t, vstat):
    """Integrate the network over ``n_out`` output samples of ``sub`` steps.

    cell: (N, 7) type, gNa, gK, gM, gL, E_L, bias.  gcoef: (2, 2) E_Na, E_K per type.
    st: (N, 13) V, m, h, n, p, ge_rise, ge_decay, gi_rise, gi_decay, OU, R, t_last, armed.
    ring_e/ring_i: (D, N) conductance arriving at step k (slot k mod D).
    out_*: CSR of chemical out-edges by presynaptic neuron (post, peak g in the
    post cell's mS/cm², delay in steps). stp: (N, 2) U, τ_rec of each
    presynaptic neuron's terminals. syn: [dEr, dEd, AE, dIr, dId, AI, E_AMPA, E_GABA].
    gap_*: junctions (a, b, g seen by a, g seen by b).
    noise: (N, 3) OU decay, OU innovation SD, shared-drive loading.
    drive: (G,) shared OU drives; drive_coef: (decay, innovation SD).
    Normals are a pure function of (key, step, neuron). Spikes (upward
    crossings of ``thr``, re-armed below −30 mV) go to sp_n/sp_t (t in ms,
    interpolated); returns their count. vm_out: (n_out, N) float32, V − vref
    averaged over each sample's steps. vstat: (N, 3) count, sum, sum² of V at
    output samples more than ``stat_gap`` ms after the neuron's last spike.
    """
    N = cell.shape[0]
    D = ring_e.shape[0]
    G = drive.shape[0]
    dEr, dEd, AE, dIr, dId, AI, EE, EI = syn[0], syn[1], syn[2], syn[3], syn[4], syn[5], syn[6], syn[7]
    half = np.uint64((N + 1) // 2)
    ghalf = np.uint64((G + 1) // 2 + 1)
    igap = np.zeros(N)
    acc = np.zeros(N)
    ns = 0
    k = k0
    for s in range(n_out):
        for i in range(N):
            acc[i] = 0.0
        for _ in range(sub):
            slot = k % D
            # shared slow drives
            for g in range(0, G, 2):
                z0, z1 = _normal2(key_d + np.uint64(k) * ghalf + np.uint64(g // 2), table)
                drive[g] = drive_coef[0] * drive[g] + drive_coef[1] * z0
                if g + 1 < G:
                    drive[g + 1] = drive_coef[0] * drive[g + 1] + drive_coef[1] * z1
            # gap junctions (previous V)
            for i in range(N):
                igap[i] = 0.0
            for e in range(gap_a.shape[0]):
                a = gap_a[e]
                b = gap_b[e]
                dv = st[b, 0] - st[a, 0]
                igap[a] += gap_ga[e] * dv
                igap[b] -= gap_gb[e] * dv
            t_ms = k * dt
            z1 = 0.0
            for i in range(N):
                if i % 2 == 0:
                    z0, z1 = _normal2(key_n + np.uint64(k) * half + np.uint64(i // 2), table)
                    z = z0
                else:
                    z = z1
                # arriving conductance
                ae = ring_e[slot, i]
                ai = ring_i[slot, i]
                if ae != 0.0:
                    st[i, 5] += ae
                    st[i, 6] += ae
                    ring_e[slot, i] = 0.0
                if ai != 0.0:
                    st[i, 7] += ai
                    st[i, 8] += ai
                    ring_i[slot, i] = 0.0
                ge = AE * (st[i, 6] - st[i, 5])
                gi = AI * (st[i, 8] - st[i, 7])
                st[i, 5] *= dEr
                st[i, 6] *= dEd
                st[i, 7] *= dIr
                st[i, 8] *= dId
                ou = noise[i, 0] * st[i, 9] + noise[i, 1] * z
                st[i, 9] = ou
                iext = cell[i, 6] + ou + igap[i]
                gi_ = grp[i]
                if gi_ >= 0:
                    iext += noise[i, 2] * drive[gi_]
                ty = int(cell[i, 0])
                v_old = st[i, 0]
                V, m, h, n_, p = _advance(tab, ty, v_old, st[i, 1], st[i, 2], st[i, 3], st[i, 4],
                                          cell[i, 1], cell[i, 2], cell[i, 3], cell[i, 4], cell[i, 5],
                                          gcoef[ty, 0], gcoef[ty, 1], iext, ge, gi, EE, EI, dt)
                st[i, 0] = V
                st[i, 1] = m
                st[i, 2] = h
                st[i, 3] = n_
                st[i, 4] = p
                acc[i] += V
                if st[i, 12] > 0.5:
                    if V >= thr and v_old < thr:
                        tc = t_ms + dt * (thr - v_old) / (V - v_old)
                        sp_n[ns] = i
                        sp_t[ns] = tc
                        ns += 1
                        st[i, 12] = 0.0
                        # depression: resources recover since the last spike, then U·R is released
                        R = 1.0 - (1.0 - st[i, 10]) * np.exp(-(tc - st[i, 11]) / stp[i, 1])
                        eff = stp[i, 0] * R
                        st[i, 10] = R - eff
                        st[i, 11] = tc
                        for e in range(out_ptr[i], out_ptr[i + 1]):
                            sl = (k + out_d[e]) % D
                            w = out_g[e] * eff
                            if w > 0:
                                ring_e[sl, out_post[e]] += w
                            else:
                                ring_i[sl, out_post[e]] -= w
                elif V < -30.0:
                    st[i, 12] = 1.0
            k += 1
        t_ms = k * dt
        for i in range(N):
            v = acc[i] / sub
            vm_out[s, i] = v - vref
            if t_ms - st[i, 11] > stat_gap:
                vstat[i, 0] += 1.0
                vstat[i, 1] += v
                vstat[i, 2] += v * v
    return ns


@nb.njit(cache=True)
def probe_cells(tab, cell, gcoef, syn, dt, settle_steps, st):
    """Bring every cell (no noise, no input) to its resting state ``st``
    (N, 5: V, m, h, n, p), integrating ``settle_steps`` steps."""
    for i in range(cell.shape[0]):
        ty = int(cell[i, 0])
        V, m, h, n, p = st[i, 0], st[i, 1], st[i, 2], st[i, 3], st[i, 4]
        for _ in range(settle_steps):
            V, m, h, n, p = _advance(tab, ty, V, m, h, n, p, cell[i, 1], cell[i, 2], cell[i, 3], cell[i, 4],
                                     cell[i, 5], gcoef[ty, 0], gcoef[ty, 1], cell[i, 6], 0.0, 0.0,
                                     syn[6], syn[7], dt)
        st[i, 0], st[i, 1], st[i, 2], st[i, 3], st[i, 4] = V, m, h, n, p


@nb.njit(cache=True)
def _psp_trace(tab, cell, gcoef, syn, dt, rest, i, g, n_steps, na_on, out):
    """V of cell i at rest after one conductance event of peak g (g = 0: control)."""
    dEr, dEd, AE, dIr, dId, AI = syn[0], syn[1], syn[2], syn[3], syn[4], syn[5]
    ty = int(cell[i, 0])
    gna = cell[i, 1] if na_on else 0.0
    V, m, h, n, p = rest[i, 0], rest[i, 1], rest[i, 2], rest[i, 3], rest[i, 4]
    r = abs(g)
    d = r
    for k in range(n_steps):
        ge = 0.0
        gi = 0.0
        if g > 0:
            ge = AE * (d - r)
            r *= dEr
            d *= dEd
        elif g < 0:
            gi = AI * (d - r)
            r *= dIr
            d *= dId
        V, m, h, n, p = _advance(tab, ty, V, m, h, n, p, gna, cell[i, 2], cell[i, 3], cell[i, 4],
                                 cell[i, 5], gcoef[ty, 0], gcoef[ty, 1], cell[i, 6], ge, gi,
                                 syn[6], syn[7], dt)
        out[k] = V


@nb.njit(cache=True)
def probe_psp(tab, cell, gcoef, syn, dt, rest, post, g, n_steps, thr, out):
    """PSP of one conductance event per edge on an isolated post cell at rest.

    g: peak conductance (mS/cm² of the post cell, > 0 AMPA, < 0 GABA_A).
    The PSP is the trace minus a control run without the event. If the event
    fires the cell (V crosses ``thr``), the PSP is measured with its Na⁺
    conductance blocked (the subthreshold PSP, as under TTX).
    out: (E, 3) signed peak deviation (mV), its time (ms), 1 if Na⁺ was blocked.
    """
    a = np.empty(n_steps)
    c = np.empty(n_steps)
    for e in range(post.shape[0]):
        i = post[e]
        blocked = 0.0
        _psp_trace(tab, cell, gcoef, syn, dt, rest, i, g[e], n_steps, True, a)
        if a.max() >= thr:
            blocked = 1.0
            _psp_trace(tab, cell, gcoef, syn, dt, rest, i, g[e], n_steps, False, a)
            _psp_trace(tab, cell, gcoef, syn, dt, rest, i, 0.0, n_steps, False, c)
        else:
            _psp_trace(tab, cell, gcoef, syn, dt, rest, i, 0.0, n_steps, True, c)
        best, tbest = 0.0, 0.0
        for k in range(n_steps):
            dv = a[k] - c[k]
            if (g[e] > 0 and dv > best) or (g[e] < 0 and dv < best):
                best = dv
                tbest = (k + 1) * dt
        out[e, 0] = best
        out[e, 1] = tbest
        out[e, 2] = blocked


@nb.njit(cache=True)
def _gap_trace(tab, cell, gcoef, syn, dt, rest, ia, ib, ga, gb, settle_steps, n_steps, pulse, na_b, va_out, vb_out):
    """Pair a–b coupled by a junction; ``pulse`` (µA/cm², 1 ms) into a after settling."""
    ta, tb = int(cell[ia, 0]), int(cell[ib, 0])
    gnb = cell[ib, 1] if na_b else 0.0
    Va, ma, ha, na, pa = rest[ia, 0], rest[ia, 1], rest[ia, 2], rest[ia, 3], rest[ia, 4]
    Vb, mb, hb, nb_, pb = rest[ib, 0], rest[ib, 1], rest[ib, 2], rest[ib, 3], rest[ib, 4]
    on_steps = int(1.0 / dt)
    for k in range(settle_steps + n_steps):
        on = k >= settle_steps and k < settle_steps + on_steps
        dv = Vb - Va
        Va, ma, ha, na, pa = _advance(tab, ta, Va, ma, ha, na, pa, cell[ia, 1], cell[ia, 2], cell[ia, 3],
                                      cell[ia, 4], cell[ia, 5], gcoef[ta, 0], gcoef[ta, 1],
                                      cell[ia, 6] + ga * dv + (pulse if on else 0.0), 0.0, 0.0,
                                      syn[6], syn[7], dt)
        Vb, mb, hb, nb_, pb = _advance(tab, tb, Vb, mb, hb, nb_, pb, gnb, cell[ib, 2], cell[ib, 3],
                                       cell[ib, 4], cell[ib, 5], gcoef[tb, 0], gcoef[tb, 1],
                                       cell[ib, 6] - gb * dv, 0.0, 0.0, syn[6], syn[7], dt)
        if k >= settle_steps:
            va_out[k - settle_steps] = Va
            vb_out[k - settle_steps] = Vb


@nb.njit(cache=True)
def probe_gap(tab, cell, gcoef, syn, dt, rest, a_idx, b_idx, ga, gb, settle_steps, n_steps, pulse, thr, out):
    """Spikelet one AP of ``a`` makes in ``b`` through a junction (ga seen by
    a, gb seen by b), both cells otherwise isolated and at rest.

    A 1-ms current step of ``pulse`` µA/cm² fires ``a`` once; b's response is
    the trace minus a control run without the pulse (b's Na⁺ blocked if the
    spikelet fires it). out: (E, 5) spikelet peak (mV, within 10 ms of a's
    threshold crossing), its time after the crossing (ms), the following
    after-hyperpolarisation trough (mV, 10–60 ms), a's AP count, 1 if b's
    Na⁺ was blocked.
    """
    va = np.empty(n_steps)
    vb = np.empty(n_steps)
    vc = np.empty(n_steps)
    vx = np.empty(n_steps)
    for e in range(a_idx.shape[0]):
        ia, ib = a_idx[e], b_idx[e]
        blocked = False
        _gap_trace(tab, cell, gcoef, syn, dt, rest, ia, ib, ga[e], gb[e], settle_steps, n_steps, pulse, True, va, vb)
        if vb.max() >= thr:
            blocked = True
            _gap_trace(tab, cell, gcoef, syn, dt, rest, ia, ib, ga[e], gb[e], settle_steps, n_steps, pulse,
                       False, va, vb)
        _gap_trace(tab, cell, gcoef, syn, dt, rest, ia, ib, ga[e], gb[e], settle_steps, n_steps, 0.0,
                   not blocked, vx, vc)
        tcross = -1.0
        naps = 0
        armed = True
        peak, tpeak, trough = 0.0, 0.0, 0.0
        for k in range(1, n_steps):
            t = (k + 1) * dt
            if armed and va[k] >= thr and va[k - 1] < thr:
                naps += 1
                armed = False
                if tcross < 0:
                    tcross = t
            elif va[k] < -30.0:
                armed = True
            if tcross >= 0:
                x = vb[k] - vc[k]
                if t - tcross <= 10.0:
                    if x > peak:
                        peak = x
                        tpeak = t - tcross
                elif t - tcross <= 60.0 and x < trough:
                    trough = x
        out[e, 0] = peak
        out[e, 1] = tpeak
        out[e, 2] = trough
        out[e, 3] = naps
        out[e, 4] = 1.0 if blocked else 0.0
