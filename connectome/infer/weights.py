"""The weight scale: what ``weight_mv`` is, and the rested (undepressed) PSP beside it.

A spike-triggered average over all presynaptic spikes measures the **mean
PSP per presynaptic spike** (``weight_mv``). At a depressing synapse this is
smaller than the PSP of a rested synapse: each spike releases a fraction of
the available resources, which recover over hundreds of ms to seconds
(Tsodyks & Markram 1997, PNAS 94:719; τ_rec ≈ 0.5–1.5 s at neocortical
pyramidal synapses, Markram, Wang & Tsodyks 1998, PNAS 95:5323). A neuron
that fires in network bursts spends most of its spikes depressed.

:func:`swept_factors` measures, per presynaptic neuron, how much larger its
synapses' responses are after a silence of at least ``weight_rested_isi_s``
than on average: one extra sweep over the binned traces (after the pairwise
test, so only over the reported chemical pairs) accumulates each edge's
spike-triggered average over the presynaptic spikes that follow such a
silence, exactly as pass 2 does for all spikes (same somatic scaling, own
after-potential subtracted, own APs masked, per-spike baseline). Each edge's
response in both averages is read as the least-squares amplitude of its own
fitted PSP template; the neuron's factor is Σ sign·A_rested / Σ |A_all| over
its chemical synapses (the synapses of one axon share its spike train, so
their depression is pooled against the noise of a few rested spikes).
``weight_rested_mv = weight_mv × factor`` (NaN where the neuron has fewer than
``weight_rested_min_spikes`` such spikes, or no measurable response).

Where the user gives a depression model (``weight_stp_u`` > 0 for the
neuron's type), :func:`mean_resources` replaces that measurement: the
factor is 1 / (mean Tsodyks–Markram resources at the neuron's spikes).

Assumptions of the scale (each a parameter; docs/inference.md §7):
``ap_amplitude_mv`` (electrode → soma), ``response_ms`` (the PSP window:
a PSP peaking later is read at the window's end), ``weight_rested_isi_s``
(the silence after which a synapse counts as rested).
"""

from __future__ import annotations

import numba
import numpy as np

from ..graph.kinds import EdgeKind
from ..spikes.neurons import Neurons
from ._kernels import add_baselined_window, subtract_own
from .params import InferParams
from .sta import channel_gain_and_validity, mask_own_spikes, own_spike_mask, own_template, somatic_traces, spikes_in


@numba.njit(parallel=True, cache=True, nogil=True)
def accumulate_edges(v, spk_row, spk_ptr, e_ptr, e_post, lag0, bl0, bl1, need, acc, cnt):
    """Per edge: Σ over its presynaptic spikes of the postsynaptic trace minus the spike's baseline.

    ``spk_row[spk_ptr[i]:spk_ptr[i+1]]`` are presynaptic neuron i's selected
    spikes (rows of ``v``), ``e_post[e_ptr[i]:e_ptr[i+1]]`` its edges' posts;
    acc[e, l] += v[r + lag0 + l, post] − mean(v[r + bl0 .. r + bl1, post]).
    """
    n_pre = spk_ptr.shape[0] - 1
    for i in numba.prange(n_pre):
        for s in range(spk_ptr[i], spk_ptr[i + 1]):
            for e in range(e_ptr[i], e_ptr[i + 1]):
                add_baselined_window(v, spk_row[s], e_post[e], bl0, bl1, lag0, need, acc, cnt, e)


@numba.njit(cache=True)
def mean_resources(t_ms, u, tau_ms):
    """Mean available resources R at the spikes ``t_ms`` (sorted, ms) of a Tsodyks–Markram synapse.

    R = 1 at the first spike; each spike releases u·R, and R recovers towards 1
    with ``tau_ms`` (Tsodyks & Markram 1997, PNAS 94:719). 1.0 for no spikes.

    >>> round(float(mean_resources(np.array([0.0, 10.0]), 0.5, 1000.0)), 3)  # 1 and ≈ 0.505
    0.752
    """
    n = t_ms.shape[0]
    if n == 0:
        return 1.0
    r, total = 1.0, 1.0
    for k in range(1, n):
        r = 1.0 - (1.0 - r * (1.0 - u)) * np.exp(-(t_ms[k] - t_ms[k - 1]) / tau_ms)
        total += r
    return total / n


def model_factor(neurons: Neurons, fs: float, p: InferParams, pre, A, chemical) -> np.ndarray:
    """Per edge: 1 / mean resources of its presynaptic neuron under the user's depression model, else NaN.

    The neuron's type is the sign of most of its chemical edges' weights
    (ties: excitatory); U = ``weight_stp_u[0]`` for excitatory, ``[1]`` for
    inhibitory neurons, with the matching ``weight_stp_tau_rec_ms``. NaN for
    electrical edges and where that U is 0 (not modelled).
    """
    chem = np.asarray(chemical, bool)
    out = np.full(len(pre), np.nan)
    net = np.bincount(pre[chem], weights=np.sign(A[chem]), minlength=neurons.n)
    for i in np.unique(pre[chem]):
        k = 0 if net[i] >= 0 else 1
        u, tau = p.weight_stp_u[k], p.weight_stp_tau_rec_ms[k]
        if u > 0:
            t = neurons.spikes(int(i)).astype(np.float64) * (1000.0 / fs)
            out[chem & (pre == i)] = 1.0 / mean_resources(t, float(u), float(tau))
    return out


def rested_spikes(spike_bins: list, bin_ms: float, isi_s: float) -> list:
    """Per neuron: its spikes (bins) that follow at least ``isi_s`` of its own silence (not its first)."""
    gap = isi_s * 1000.0 / bin_ms
    return [sb[1:][np.diff(sb) >= gap] for sb in spike_bins]


def edge_averages(p1, neurons: Neurons, p: InferParams, pre: np.ndarray, post: np.ndarray, spike_sets: list,
                  template: np.ndarray | None = None):
    """Spike-triggered sums (E, S, L) and counts of each edge over each set of presynaptic spikes.

    ``spike_sets``: a list of per-neuron spike-bin lists (e.g. all spikes,
    rested spikes). The traces are built as in pass 2
    (:func:`connectome.infer.sta.accumulate`): somatic mV, each neuron's own
    after-potential template subtracted, its own APs masked. ``template``:
    that template as pass 2 measured it (:attr:`PairSums.own_template`),
    which saves a sweep over the traces; measured again when None.
    """
    bs = p1.bin_samples
    bin_ms = bs / p1.fs * 1000.0
    lag0 = int(np.floor(p.baseline_ms[0] / bin_ms))
    lag1 = int(np.ceil(p.response_ms / bin_ms))
    L = lag1 - lag0 + 1
    bl0, bl1 = lag0, int(np.ceil(p.baseline_ms[1] / bin_ms))
    need = max(1, (bl1 - bl0 + 1) // 2)
    N, E, S = neurons.n, len(pre), len(spike_sets)
    acc = np.zeros((E, S, L), np.float64)
    cnt = np.zeros((E, S, L), np.float64)
    if E == 0 or N == 0:
        return acc, cnt, (lag0 + np.arange(L)) * bin_ms
    order = np.lexsort((post, pre))
    e_pre, e_post = pre[order], post[order].astype(np.int64)
    e_ptr = np.searchsorted(e_pre, np.arange(N + 1)).astype(np.int64)
    col, scale = channel_gain_and_validity(p1, neurons, p)
    used = np.unique(col)
    col_pos = np.searchsorted(used, col)
    store = p1.binned
    ref = np.median(store.offsets, axis=0)[used].astype(np.float32)
    bpc, n_bins = store.bins_per_chunk, store.n_bins
    masks = own_spike_mask(neurons, n_bins, bs, int(np.ceil(p.mask_before_ms / bin_ms)),
                           int(np.ceil(p.mask_after_ms / bin_ms)))
    spike_bins = [neurons.spikes(k) // bs for k in range(N)]
    T = int(np.ceil(p.own_template_ms / bin_ms))
    cpb = max(1, int(np.ceil(p.pass2_block_s * p1.fs / (bpc * bs))))
    starts = list(range(0, n_bins, bpc * cpb))
    tmpl = template
    if tmpl is None:  # each neuron's own after-potential, as pass 2 measures it (one more sweep)
        tmpl = own_template(lambda R0, R1: somatic_traces(store, used, col_pos, ref, scale, R0, R1), masks,
                            spike_bins, starts, bpc * cpb, n_bins, bl0, bl1, T)
    T = 0 if tmpl is None else tmpl.shape[1] - 1
    for B0 in starts:
        B1 = min(n_bins, B0 + bpc * cpb)
        R0, R1 = B0 + lag0, B1 + lag1 + 1
        V = somatic_traces(store, used, col_pos, ref, scale, R0, R1)
        if tmpl is not None:
            rows, ptr = spikes_in(spike_bins, R0 - T, R1, R0)
            subtract_own(V, rows, ptr, 0, tmpl)
        mask_own_spikes(V, masks, R0, R1)
        for k, sets in enumerate(spike_sets):
            rows, ptr = spikes_in(sets, B0, B1, R0)
            a = np.zeros((E, L), np.float64)
            c = np.zeros((E, L), np.float64)
            accumulate_edges(V, rows, ptr, e_ptr, e_post, lag0, bl0, bl1, need, a, c)
            acc[order, k] += a
            cnt[order, k] += c
    return acc, cnt, (lag0 + np.arange(L)) * bin_ms


def template_amplitudes(acc, cnt, lags_ms, bin_ms, onset, rise, decay, p: InferParams):
    """(E, S) least-squares amplitude of each edge's PSP template in each of its averages."""
    from .classify import psp_kernel

    base = (lags_ms >= p.baseline_ms[0] - 1e-9) & (lags_ms <= p.baseline_ms[1] + 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        sta = np.where(cnt > 0, acc / cnt, np.nan)
    sta = sta - np.nanmean(sta[..., base], axis=-1, keepdims=True)
    sel = lags_ms >= -1.0
    sub = (np.arange(10) + 0.5) / 10.0 * bin_ms - bin_ms / 2.0
    tt = lags_ms[sel][None, :, None] + sub[None, None, :] - np.asarray(onset)[:, None, None]
    Tm = np.stack([psp_kernel(tt[e], rise[e], decay[e]).mean(axis=1) for e in range(len(onset))])  # (E, L')
    R = sta[..., sel]  # (E, S, L')
    ok = np.all(np.isfinite(R), axis=-1)
    num = np.einsum("esl,el->es", np.nan_to_num(R), Tm)
    den = np.einsum("el,el->e", Tm, Tm)[:, None]
    return np.where(ok & (den > 1e-12), num / np.maximum(den, 1e-12), np.nan)


def swept_factors(p1, neurons: Neurons, p: InferParams, pre, post, onset, rise, decay, rest_edges, quiet_edges=None,
                  events=None, template=None):
    """One sweep over the traces for the rested and the quiet factor of each edge.

    Returns (rested factor, quiet factor), each per edge and NaN where not
    measured: the rested factor for ``rest_edges``, pooled per presynaptic
    neuron (module docstring; NaN where the neuron has fewer than
    ``weight_rested_min_spikes`` rested spikes); with ``events``, the quiet
    factor for ``quiet_edges``, A(spikes outside network events) / A(all
    spikes) per edge (NaN where the neuron has fewer than
    ``weight_rested_min_spikes`` such spikes). ``template``: pass 2's own
    after-potential template (:func:`edge_averages`).
    """
    N, E = neurons.n, len(pre)
    out, quiet_f = np.full(E, np.nan), np.full(E, np.nan)
    bs = p1.bin_samples
    bin_ms = bs / p1.fs * 1000.0
    spike_bins = [neurons.spikes(k) // bs for k in range(N)]
    rested = rested_spikes(spike_bins, bin_ms, p.weight_rested_isi_s)
    n_rested = np.array([r.size for r in rested], np.int64)
    sel = np.flatnonzero(np.asarray(rest_edges, bool) & (n_rested[pre] >= p.weight_rested_min_spikes))
    sets, swept = [spike_bins, rested], sel
    if events is not None:
        outside = events.outside_masks(neurons, p1.fs)
        quiet = [sb[o] for sb, o in zip(spike_bins, outside)]
        n_quiet = np.array([q.size for q in quiet], np.int64)
        sets.append(quiet)
        q_edges = np.ones(E, bool) if quiet_edges is None else np.asarray(quiet_edges, bool)
        q_sel = np.flatnonzero(q_edges & (n_quiet[pre] >= p.weight_rested_min_spikes))
        swept = np.union1d(sel, q_sel)
    if swept.size == 0:
        return out, quiet_f
    acc, cnt, lags = edge_averages(p1, neurons, p, pre[swept], post[swept], sets, template)
    amp = template_amplitudes(acc, cnt, lags, bin_ms, onset[swept], rise[swept], decay[swept], p)  # (E', S)
    if events is not None:
        in_q = np.isin(swept, q_sel)
        with np.errstate(invalid="ignore", divide="ignore"):
            qf = np.where(in_q & (np.abs(amp[:, 0]) > 0), amp[:, 2] / amp[:, 0], np.nan)
        quiet_f[swept] = qf
    if sel.size:
        in_r = np.isin(swept, sel)
        a_all, a_rest = amp[in_r, 0], amp[in_r, 1]
        good = np.isfinite(a_all) & np.isfinite(a_rest)
        sgn = np.sign(a_all)
        num = np.bincount(pre[sel][good], weights=(sgn * a_rest)[good], minlength=N)
        den = np.bincount(pre[sel][good], weights=np.abs(a_all)[good], minlength=N)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(den > 0, num / den, np.nan)
        f = np.where(f > 0, f, np.nan)  # no net response after silences: not measurable
        out[sel] = f[pre[sel]]
    return out, quiet_f


def weight_columns(A, pre, post, onset, rise, decay, kind, neurons: Neurons, p: InferParams, p1,
                   events=None, template=None) -> dict:
    """The weight columns of ``edges.csv`` besides ``weight_mv`` (see docs/formats.md).

    ``weight_electrode_mv``: the response as the electrode saw it (at the
    postsynaptic neuron's median AP amplitude on its best channel: no
    assumption on the AP height); ``weight_rested_mv``: the PSP of a rested
    synapse (:func:`swept_factors`; NaN for electrical synapses and where not
    measurable; all NaN with ``weight_rested_isi_s = 0``), or, for neurons
    whose type has a depression model (``weight_stp_u`` > 0),
    :func:`model_factor`; ``weight_quiet_mv``: the response to presynaptic
    spikes outside network ``events`` (:mod:`connectome.infer.events`; NaN
    without events, for electrical edges and for neurons with fewer than
    ``weight_rested_min_spikes`` such spikes).
    """
    cols = {"weight_electrode_mv": A * neurons.ap_amp_mv[post] / p.ap_amplitude_mv}
    rested = np.full(len(A), np.nan)
    chemical = np.asarray(kind) != EdgeKind.ELECTRICAL
    modelled = np.zeros(len(A), bool)
    if any(u > 0 for u in p.weight_stp_u) and len(A) and p1 is not None:
        f = model_factor(neurons, p1.fs, p, np.asarray(pre), np.asarray(A, np.float64), chemical)
        modelled = np.isfinite(f)
        rested[modelled] = A[modelled] * f[modelled]
    measure = chemical & ~modelled if p.weight_rested_isi_s > 0 else np.zeros(len(A), bool)
    quiet = np.full(len(A), np.nan)
    events = events if (events is not None and p.network_event_z > 0 and chemical.any()) else None
    if (measure.any() or events is not None) and p1 is not None and getattr(p1, "binned", None) is not None:
        pre, post = np.asarray(pre), np.asarray(post)
        f, qf = swept_factors(p1, neurons, p, pre, post, onset, rise, decay, measure, chemical, events, template)
        rested[measure] = (A * f)[measure]
        quiet[chemical] = (A * qf)[chemical]
    cols["weight_rested_mv"] = rested
    cols["weight_quiet_mv"] = quiet
    return cols
