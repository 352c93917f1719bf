"""Joint refit per post-synaptic neuron: explain away polysynaptic and burst-locked responses.

A pairwise spike-triggered average cannot tell a monosynaptic response from
one that another input, or the network event, produces at a fixed latency:
in a chain pre → x → post, x's spikes follow pre's, so post's average after
pre's spikes contains x's PSP; a presynaptic neuron that fires almost only
inside network bursts sees everything else that fires in the burst
time-locked to it. This module refits, for each post-synaptic neuron, the
responses of all its candidate inputs **jointly**, as one multiple regression
of the post's membrane potential on

- each candidate's spike train convolved with its PSP kernel (the kernel the
  pairwise matched filter chose), and
- the **population** spike train (every other neuron's spikes, the post's
  excluded) with a free response at each lag of the response window: the
  post's average response to "any spike in the network", which is what a
  network burst puts under every average,

so that a response explained by another input or by the network event is not
credited to this pair (the normal equations of a multiple regression;
cf. the generalised-linear-model connectivity fits of Pillow et al. 2008,
*Nature* 454:995, and Stevenson et al. 2008, *IEEE Trans. Neural Syst.
Rehabil. Eng.* 16:203, here on the membrane potential instead of spikes).

**No extra pass over the traces.** The regression's right-hand side
``X'y`` is, for every regressor, a weighted sum of pairwise spike-triggered
sums that pass 2 already has; its Gram matrix ``X'X`` is a sum of
spike-train cross-correlograms (how often a spike of one train falls ``d``
bins after a spike of the other) weighted by the cross-correlation of the
two regressors' lag profiles. Each candidate's instrument is the pairwise
whitened matched filter of its best kernel (so with no other regressor the
joint estimate is exactly the pairwise amplitude), minus its mean over the
baseline lags (the per-spike baseline subtraction). Masked samples are
treated as imputed by the spike-triggered mean (as the averages do).

**Test.** Under noise that is white across bins the covariance of the joint
estimates is ``A⁻¹ M A⁻ᵀ`` (``A`` the instrument-by-regressor Gram matrix,
``M`` the instrument Gram matrix); the ratio of a candidate's joint variance
to its variance when fitted alone is its *variance inflation* ``f``. The
joint z is the joint amplitude over the pairwise empirical-null scale times
√f: the pairwise stage's calibration, widened by exactly what sharing the
explanation with the other regressors costs. An accepted edge is kept only
if its joint z has the pairwise sign and passes the same (weighted)
Benjamini–Hochberg p-value cut that accepted it: the method does not move
the level, it asks whether the evidence survives being explained away.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.special import ndtr


@numba.njit(cache=True, nogil=True)
def _ccg_into(a, b, D, out):
    j0 = 0
    nb = b.shape[0]
    for i in range(a.shape[0]):
        t = a[i]
        while j0 < nb and b[j0] < t - D:
            j0 += 1
        j = j0
        while j < nb and b[j] <= t + D:
            out[b[j] - t + D] += 1.0
            j += 1


@numba.njit(cache=True, nogil=True)
def ccg(a, b, D):
    """Cross-correlogram of sorted integer trains: out[d + D] = #{(s, s'): b[s'] − a[s] = d}, |d| ≤ D."""
    out = np.zeros(2 * D + 1, np.float64)
    _ccg_into(a, b, D, out)
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def ccg_block(spk, ptr, rows, cols, D):
    """out[a, b, d + D] = cross-correlogram of neuron ``rows[a]``'s train with ``cols[b]``'s (CSR trains)."""
    out = np.zeros((rows.shape[0], cols.shape[0], 2 * D + 1), np.float64)
    for a in numba.prange(rows.shape[0]):
        i = rows[a]
        for b in range(cols.shape[0]):
            k = cols[b]
            _ccg_into(spk[ptr[i]:ptr[i + 1]], spk[ptr[k]:ptr[k + 1]], D, out[a, b])
    return out


@numba.njit(cache=True, nogil=True)
def ccg_set(spk, ptr, ids, D):
    """All cross-correlograms among neurons ``ids``: out[a, b, d + D] = #{b's spikes d bins after a's}.

    One sweep over the merged, sorted spikes of the set (each spike looks
    forward ≤ D bins): cost ∝ spikes × neighbours within D, not pairs × spikes.
    """
    Q = ids.shape[0]
    n = 0
    for a in range(Q):
        n += ptr[ids[a] + 1] - ptr[ids[a]]
    t = np.empty(n, np.int64)
    lab = np.empty(n, np.int64)
    m = 0
    for a in range(Q):
        for s in range(ptr[ids[a]], ptr[ids[a] + 1]):
            t[m] = spk[s]
            lab[m] = a
            m += 1
    order = np.argsort(t, kind="mergesort")
    t = t[order]
    lab = lab[order]
    out = np.zeros((Q, Q, 2 * D + 1), np.float64)
    for i in range(n):
        la = lab[i]
        out[la, la, D] += 1.0
        j = i + 1
        while j < n and t[j] - t[i] <= D:
            d = t[j] - t[i]
            lb = lab[j]
            out[la, lb, D + d] += 1.0
            out[lb, la, D - d] += 1.0
            j += 1
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def ccg_pairs(spk, ptr, rows, cols, D):
    """out[e, d + D] = cross-correlogram of ``rows[e]``'s train with ``cols[e]``'s."""
    out = np.zeros((rows.shape[0], 2 * D + 1), np.float64)
    for e in numba.prange(rows.shape[0]):
        i, k = rows[e], cols[e]
        _ccg_into(spk[ptr[i]:ptr[i + 1]], spk[ptr[k]:ptr[k + 1]], D, out[e])
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def ccg_hist(spk, ptr, hist, D):
    """Per neuron k: out[k, d + D] = Σ over its spikes t of hist[t + d] (population counts)."""
    n = ptr.shape[0] - 1
    T = hist.shape[0]
    out = np.zeros((n, 2 * D + 1), np.float64)
    for k in numba.prange(n):
        for s in range(ptr[k], ptr[k + 1]):
            t = spk[s]
            for d in range(-D, D + 1):
                u = t + d
                if u >= 0 and u < T:
                    out[k, d + D] += hist[u]
    return out


@numba.njit(cache=True, nogil=True)
def acg_hist(hist, D):
    """Autocorrelogram of a count histogram: out[d + D] = Σ_t hist[t] hist[t + d]."""
    T = hist.shape[0]
    out = np.zeros(2 * D + 1, np.float64)
    for t in range(T):
        h = hist[t]
        if h == 0:
            continue
        for d in range(-D, D + 1):
            u = t + d
            if u >= 0 and u < T:
                out[d + D] += h * hist[u]
    return out


def _shifted(h_ext: np.ndarray, lag_off: np.ndarray, off0: int, D: int) -> np.ndarray:
    """S[d + D, l] = h(lag_off[l] − d) for a kernel tabulated at offsets off0, off0 + 1, …"""
    d = np.arange(-D, D + 1)
    idx = lag_off[None, :] - d[:, None] - off0
    ok = (idx >= 0) & (idx < h_ext.shape[-1])
    return np.where(ok, h_ext[..., np.clip(idx, 0, h_ext.shape[-1] - 1)], 0.0)


def joint_refit(st, sums, spike_bins, n_spikes, p, bin_ms: float, accepted: np.ndarray, diag: dict | None = None):
    """Joint z (N, N; NaN where not refitted) of every accepted pair, and the number of regressions.

    ``st`` are the pairwise statistics (:func:`.stats.pair_statistics`, with
    the matched filter), ``sums`` the pairwise sums, ``spike_bins`` each
    neuron's spike bins (sorted), ``n_spikes`` their counts, ``accepted`` the
    (N, N) pairs accepted by the pairwise test. Candidates of a post-synaptic
    neuron: its tested inputs with q ≤ ``p.joint_screen_q`` (at most
    ``p.joint_max_candidates``, by |z|; accepted ones always included).
    """
    from .classify import psp_kernel

    N = st.tested.shape[0]
    zj = np.full((N, N), np.nan, np.float32)
    if st.filters is None or not accepted.any():
        return zj, 0
    lags = sums.lags_ms
    L = lags.size
    lag_off = np.round(lags / bin_ms).astype(np.int64)
    lag0 = int(lag_off[0])
    base = (lags >= p.baseline_ms[0] - 1e-9) & (lags <= p.baseline_ms[1] + 1e-9)
    resp = np.flatnonzero(lags > p.baseline_ms[1])
    D = L + int(np.ceil(5.0 / bin_ms))
    # instruments: each kernel's whitened filter minus its baseline mean (the per-spike
    # baseline subtraction), tabulated PSP kernels over the offsets that can reach a window
    Gf = st.filters.T.astype(np.float64)  # (K, L)
    Gt = Gf.copy()
    Gt[:, base] -= Gf.sum(axis=1, keepdims=True) / base.sum()
    off0 = lag0 - D
    offs = np.arange(off0, int(lag_off[-1]) + D + 1)
    sub = (np.arange(10) + 0.5) / 10.0 * bin_ms - bin_ms / 2.0
    Hx = np.array([psp_kernel(offs[:, None] * bin_ms + sub[None, :] - on, r, d).mean(axis=1)
                   for on, r, d in st.kernel_meta])  # (K, offsets)
    HS = _shifted(Hx, lag_off, off0, D)  # (K, 2D+1, L)
    GS = np.zeros((Gt.shape[0], 2 * D + 1, L))  # GS[k, d, l] = g̃_k(l − d) (lag index)
    for di, d in enumerate(range(-D, D + 1)):
        lo, hi = max(0, d), min(L, L + d)
        if lo < hi:
            GS[:, di, lo:hi] = Gt[:, lo - d:hi - d]
    # population regressors: a free response at each response lag
    P = resp.size if p.joint_population else 0
    Pt = np.zeros((P, L))
    Pt[np.arange(P), resp[:P]] = 1.0
    Pt[:, base] -= 1.0 / base.sum()
    Pd = np.zeros((P, offs.size))
    Pd[np.arange(P), lag_off[resp[:P]] - off0] = 1.0
    PHS = _shifted(Pd, lag_off, off0, D)
    PGS = np.zeros((P, 2 * D + 1, L))
    for di, d in enumerate(range(-D, D + 1)):
        lo, hi = max(0, d), min(L, L + d)
        if lo < hi:
            PGS[:, di, lo:hi] = Pt[:, lo - d:hi - d]
    spk = np.concatenate(spike_bins).astype(np.int64) if N else np.zeros(0, np.int64)
    ptr = np.concatenate([[0], np.cumsum([s.size for s in spike_bins])]).astype(np.int64)
    if P:
        T = int(spk.max()) + D + 2 if spk.size else 1
        hist = np.bincount(spk, minlength=T).astype(np.float64)
        c_all = ccg_hist(spk, ptr, hist, D)  # (N, 2D+1): neuron k's spikes → population
        acg_all = acg_hist(hist, D)
        # Σ_j n_j × STA_j(l) per post: the population's spike-triggered sums
        popsum = np.zeros((L, N))
        for i0 in range(0, N, 64):
            a = sums.acc[i0:i0 + 64].astype(np.float64)
            c = sums.cnt[i0:i0 + 64]
            with np.errstate(invalid="ignore", divide="ignore"):
                sta = np.where(c > 0, a / np.maximum(c, 1), 0.0)
            popsum += np.einsum("i,ilj->lj", n_spikes[i0:i0 + 64].astype(np.float64), sta)
    # lag cross-correlations that do not depend on the post: X[r, s, d] = Σ_l g̃_r(l) h_s(o_l − d)
    XGH = np.tensordot(Gt, HS, axes=([1], [2]))  # (kernels, kernels, 2D+1)
    XGG = np.tensordot(Gt, GS, axes=([1], [2]))
    Xd = XGH[np.arange(Gt.shape[0]), np.arange(Gt.shape[0])]  # each kernel's instrument with its own kernel
    if P:
        Xp1 = np.tensordot(Gt, PHS, axes=([1], [2]))  # (kernels, P, 2D+1)
        Xp2 = np.tensordot(Pt, HS, axes=([1], [2]))  # (P, kernels, 2D+1)
        XPP = np.tensordot(Pt, PHS, axes=([1], [2]))  # (P, P, 2D+1)
        XGPG = np.tensordot(Gt, PGS, axes=([1], [2]))
        XPPG = np.tensordot(Pt, PGS, axes=([1], [2]))
    else:
        Xp1 = Xp2 = None
    acg_each = ccg_pairs(spk, ptr, np.arange(N, dtype=np.int64), np.arange(N, dtype=np.int64), D)
    n_fit = 0
    zscreen = st.q
    for j in range(N):
        acc_j = np.flatnonzero(accepted[:, j])
        if acc_j.size == 0:
            continue
        cand = np.flatnonzero(st.tested[:, j] & (zscreen[:, j] <= p.joint_screen_q))
        if cand.size > p.joint_max_candidates:
            order = np.argsort(-np.abs(st.z_best[cand, j]), kind="stable")
            cand = cand[order[:p.joint_max_candidates]]
        cand = np.union1d(cand, acc_j)
        K = cand.size
        kb = st.best[cand, j]
        # spike-train cross-correlograms between candidates and the post (last row/column):
        # C[a, b, d] = how often b spikes d bins after a
        S = np.append(cand, j).astype(np.int64)
        U = _probes(st, j, S, p.joint_null_probes)
        CQ = ccg_set(spk, ptr, np.concatenate([S, U]), D)  # candidates, post, then probes
        C = CQ[:K + 1, :K + 1]
        Ccc = C[:K, :K]
        # A[r, s] = Σ_d C[r, s, d] Σ_l g̃_r(l) h_s(o_l − d); M with instruments in place of kernels
        A_cc = (Ccc * XGH[kb][:, kb]).sum(axis=2)
        M_cc = (Ccc * XGG[kb][:, kb]).sum(axis=2)
        b_c = n_spikes[cand] * st.amplitude[cand, j].astype(np.float64)
        if P:
            # the population: every neuron that is neither a candidate nor the post
            c_kpop = c_all[cand] - C[:K].sum(axis=1)
            c_pp = acg_all - (c_all[S] + c_all[S][:, ::-1]).sum(axis=0) + C.sum(axis=(0, 1))
            A_cp = np.einsum("rd,rsd->rs", c_kpop, Xp1[kb])
            A_pc = np.einsum("sd,rsd->rs", c_kpop[:, ::-1], Xp2[:, kb])
            A_pp = XPP @ c_pp
            M_cp = np.einsum("rd,rsd->rs", c_kpop, XGPG[kb])
            M_pp = XPPG @ c_pp
            A = np.block([[A_cc, A_cp], [A_pc, A_pp]])
            M = np.block([[M_cc, M_cp], [M_cp.T, M_pp]])
            pop_b = popsum[:, j] - sum(n_spikes[k] * _sta_row(sums, k, j) for k in S)
            b = np.concatenate([b_c, Pt @ pop_b])
        else:
            A, M, b = A_cc, M_cc, b_c
        R = A.shape[0]
        A = A + 1e-9 * np.trace(np.abs(A)) / R * np.eye(R)
        try:
            beta = np.linalg.solve(A, b)
            Ai = np.linalg.inv(A)
        except np.linalg.LinAlgError:
            continue
        V = np.einsum("kr,rs,ks->k", Ai[:K], M, Ai[:K])
        d_cc = np.diag(A_cc)
        v_alone = np.diag(M_cc) / np.where(d_cc != 0, d_cc ** 2, np.nan)
        shift = 0.0
        if U.size:
            shift = _probe_shift(st, sums, j, U, CQ[K + 1:, :K + 1], Ai, b, kb, XGH, Xd, Xp1, Xp2, acg_each,
                                 c_all if P else None, P, n_spikes, base)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.maximum(V / v_alone, 1.0)
            n_used = np.sqrt(np.maximum(st.n_used[cand, j], 1.0))
            s_a = st.test_scale[j, kb] / n_used
            c_a = st.test_center[j, kb] / n_used
            z = (beta[:K] - c_a) / (s_a * np.sqrt(f)) - shift
        zj[cand, j] = np.where(np.isfinite(z), z, np.nan)
        if diag is not None:  # per refitted pair: variance inflation and joint / pairwise amplitude
            diag.setdefault("f", {}).update({(int(i), j): float(v) for i, v in zip(cand, f)})
            diag.setdefault("ratio", {}).update(
                {(int(i), j): float(v) for i, v in zip(cand, beta[:K] / st.amplitude[cand, j])})
        n_fit += 1
    return zj, n_fit


def _probes(st, j, S, n_probes):
    """Up to ``n_probes`` tested inputs of post ``j`` outside ``S``, evenly spaced (none if fewer than 8)."""
    pool = np.setdiff1d(np.flatnonzero(st.tested[:, j]), S)
    if n_probes <= 0 or pool.size < 8:
        return np.zeros(0, np.int64)
    return pool[np.unique(np.linspace(0, pool.size - 1, min(n_probes, pool.size)).astype(np.int64))].astype(np.int64)


def _probe_shift(st, sums, j, U, Cu, Ai, b, kb, XGH, Xd, Xp1, Xp2, acg_each, c_all, P, n_spikes, base):
    """Centre of the joint z under the null, for post ``j``: median over probes and kernels.

    Probes are tested presynaptic neurons that are not candidates (evenly
    spaced, at most ``n_probes``): almost all are unconnected. Each is added,
    one at a time and with every test kernel, to the post's fitted joint
    model (a Schur-complement update of the solved system) and its joint
    amplitude turned into a z like the candidates'. Their median is what
    the joint model leaves of the shared drive in an unconnected pair (its
    centre can differ from the pairwise null's: the population regressor
    explains part of the drive), and is subtracted from the candidates' z.
    """
    K = kb.size
    if U.size == 0:
        return 0.0
    X1 = XGH[:, kb]  # (kernels, K, 2D+1): probe instrument × candidate kernel
    X2 = XGH[kb]  # (K, kernels, 2D+1): candidate instrument × probe kernel
    row_c = np.einsum("usd,qsd->uqs", Cu[:, :K], X1)  # A[u(q), cand]
    col_c = np.einsum("usd,sqd->usq", Cu[:, :K, ::-1], X2)  # A[cand, u(q)]
    Cuu = acg_each[U]
    A_uu = Cuu @ Xd.T  # (U, kernels)
    if P:
        c_upop = c_all[U] - Cu.sum(axis=1) - Cuu  # the probe's spikes → population (neither S nor itself)
        row_p = np.einsum("ud,qmd->uqm", c_upop, Xp1)
        col_p = np.einsum("ud,mqd->umq", c_upop[:, ::-1], Xp2)
        row = np.concatenate([row_c, row_p], axis=2)  # (U, kernels, R)
        col = np.concatenate([col_c, col_p], axis=1)  # (U, R, kernels)
    else:
        row, col = row_c, col_c
    sta = np.stack([_sta_row(sums, u, j) for u in U])  # (U, L)
    resid = sta - sta[:, base].mean(axis=1, keepdims=True)
    amp = resid @ st.filters  # (U, kernels)
    b_u = n_spikes[U, None] * amp
    Aib = Ai @ b  # (R,)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = b_u - row @ Aib
        den = A_uu - np.einsum("uqr,rs,usq->uq", row, Ai, col)
        beta_u = num / den
        n_used = np.sqrt(np.maximum(st.n_used[U, j], 1.0))[:, None]
        z_u = (beta_u - st.test_center[j][None, :] / n_used) / (st.test_scale[j][None, :] / n_used)
    if st.pre_shift is not None:  # as the candidates' statistics: presynaptic shift removed
        z_u = z_u - st.pre_shift[U]
    z_u = z_u[np.isfinite(z_u)]
    return float(np.median(z_u)) if z_u.size >= 8 * Xd.shape[0] else 0.0


def _sta_row(sums, i, j):
    a = sums.acc[i, :, j].astype(np.float64)
    c = sums.cnt[i, :, j]
    return np.where(c > 0, a / np.maximum(c, 1), 0.0)


def survives(zj: np.ndarray, z_pair: np.ndarray, pval: np.ndarray, weight: np.ndarray, accepted: np.ndarray,
             k_eff: float) -> np.ndarray:
    """Accepted pairs whose joint z has the pairwise sign and passes the pairwise BH p-value cut.

    The cut is the largest (weighted) p-value ``p / w`` among the pairs the
    pairwise Benjamini–Hochberg step accepted; the joint p-value is
    2Φ(−|z|) times the same effective number of tests.
    """
    keep = accepted.copy()
    if not accepted.any():
        return keep
    with np.errstate(invalid="ignore", divide="ignore"):
        cut = np.nanmax((pval / weight)[accepted])
        pj = np.minimum(1.0, 2.0 * ndtr(-np.abs(np.nan_to_num(zj, nan=0.0)).astype(np.float64)) * k_eff)
        ok = np.isfinite(zj) & (np.sign(zj) == np.sign(z_pair)) & (pj / weight <= cut * (1 + 1e-9))
    return accepted & (ok | ~np.isfinite(zj))


def joint_accept(zj: np.ndarray, st, q_threshold: float) -> np.ndarray:
    """Pairs accepted when each refitted pair's p-value is its joint one: weighted BH over all tested pairs.

    Refitted pairs (finite ``zj``) get p = 2Φ(−|z|) × the effective number of
    tests (1 when the joint sign differs from the pairwise one: the response
    was explained away and then some); the others keep their pairwise
    p-value; the weighted Benjamini–Hochberg step of the pairwise stage then
    runs again at the same level.
    """
    from .stats import bh

    N = zj.shape[0]
    fin = np.isfinite(zj)
    with np.errstate(invalid="ignore", divide="ignore"):
        pj = np.minimum(1.0, 2.0 * ndtr(-np.abs(np.nan_to_num(zj, nan=0.0)).astype(np.float64)) * st.k_eff)
        pj = np.where(np.sign(zj) == np.sign(st.z_best), pj, 1.0)
        pv = np.where(st.tested, np.where(fin, pj, st.p), np.nan)
        q = bh((pv / st.bh_weight).ravel()).reshape(N, N)
    return st.tested & (q <= q_threshold)
