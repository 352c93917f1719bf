"""Score an inferred connectome against a simulator's ground truth.

The truth file (``<stem>.truth.h5``) is read here and only here — never by
the inference pipeline. Inferred neurons are matched to true neurons through
the electrodes they were recorded on (an inferred neuron is the true neuron
that owns most of its channels).

Detectability of a true synapse (issue 3's definition):

    SNR = |PSP on the electrode| × √(presynaptic spikes) ÷ per-spike noise
        = |w| · ā_post · √n_pre ÷ √((ā_post·σ_Vm,post)² + σ_e,post²)

where ā_post is the post neuron's best electrode gain averaged over the
recording (resealing and abrupt loss included), σ_Vm the SD of its
background membrane fluctuation and σ_e that electrode's noise. A synapse
is *detectable* when SNR ≥ 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .graph.formats import read_csv_dir
from .graph.kinds import EdgeKind

KIND_NAMES = {1: "excitatory", 2: "inhibitory", 3: "electrical"}
PSP_BINS_MV = ((0.1, 0.3), (0.3, 1.0), (1.0, 3.0), (3.0, np.inf))


@dataclass
class Truth:
    n: int
    channel_neuron: np.ndarray
    attenuation: np.ndarray
    coupling_tau_s: np.ndarray
    loss_time_s: np.ndarray
    noise_uv: np.ndarray
    status: np.ndarray
    channel_ptr: np.ndarray
    channel_idx: np.ndarray
    n_spikes: np.ndarray
    vm_noise_mv: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    kind: np.ndarray
    weight_mv: np.ndarray
    delay_ms: np.ndarray
    duration_s: float
    spike_ptr: np.ndarray | None = None
    spike_times_s: np.ndarray | None = None
    psp_peak_ms: np.ndarray | None = None
    recording: str | None = None
    release_u: np.ndarray | None = None
    tau_rec_ms: np.ndarray | None = None


def read_truth_arrays(path) -> Truth:
    import json

    import h5py

    with h5py.File(path, "r") as fh:
        g = lambda k: fh[k][()]  # noqa: E731
        params = json.loads(fh.attrs["params"])
        return Truth(n=len(g("neurons/id")), channel_neuron=g("channels/neuron"),
                     attenuation=g("channels/attenuation"), coupling_tau_s=g("channels/coupling_tau_s"),
                     loss_time_s=g("channels/loss_time_s"), noise_uv=g("channels/noise_uv"),
                     status=g("channels/status"), channel_ptr=g("neurons/channel_ptr"),
                     channel_idx=g("neurons/channel_idx"), n_spikes=np.diff(g("neurons/spike_ptr")),
                     vm_noise_mv=g("neurons/vm_noise_mv"), pre=g("edges/pre"), post=g("edges/post"),
                     kind=g("edges/kind"), weight_mv=g("edges/weight_mv"), delay_ms=g("edges/delay_ms"),
                     duration_s=float(params["duration_s"]), spike_ptr=g("neurons/spike_ptr"),
                     spike_times_s=g("neurons/spike_times_s"),
                     psp_peak_ms=_psp_peak_ms(fh, params, g("edges/kind")),
                     recording=str(fh.attrs.get("recording", "")) or None,
                     release_u=g("edges/release_u") if "edges/release_u" in fh else None,
                     tau_rec_ms=_tau_rec_ms(fh, params))


def _tau_rec_ms(fh, params: dict):
    """Per true neuron: recovery time constant of its synapses' depression (ms), or None."""
    if "stp_tau_rec_ms" not in params or "neurons/is_excitatory" not in fh:
        return None
    e, i = params["stp_tau_rec_ms"]
    return np.where(fh["neurons/is_excitatory"][()], float(e), float(i))


def release_factor(t: Truth) -> np.ndarray:
    """Per true edge: mean PSP per presynaptic spike over the truth's PSP (≤ 1).

    ``weight_mv`` of a depressing synapse is its first, undepressed event. The
    Tsodyks–Markram model (Tsodyks & Markram 1997, PNAS 94:719) the HH
    simulator uses releases U·R at each spike, R recovering with τ_rec towards
    1 in between; the mean of R over the presynaptic neuron's true spike train
    (R = 1 at its first spike) is the factor by which the average response per
    spike — what any spike-triggered average measures — is smaller. 1 for
    gap junctions and where the truth has no depression.
    """
    out = np.ones(len(t.pre))
    if t.release_u is None or t.tau_rec_ms is None or t.spike_ptr is None:
        return out
    mean_r = np.ones(t.n)
    for i in np.unique(t.pre[(t.kind != EdgeKind.ELECTRICAL) & (t.release_u > 0)]):
        u = float(t.release_u[(t.pre == i) & (t.kind != EdgeKind.ELECTRICAL)][0])
        ts = t.spike_times_s[t.spike_ptr[i]:t.spike_ptr[i + 1]] * 1000.0
        if len(ts) == 0 or u <= 0:
            continue
        mean_r[i] = _mean_resources(ts, u, float(t.tau_rec_ms[i]))
    chem = t.kind != EdgeKind.ELECTRICAL
    out[chem] = mean_r[t.pre[chem]]
    return out


def _mean_resources(ts_ms: np.ndarray, u: float, tau_ms: float) -> float:
    """Mean available resources R at the spikes ``ts_ms`` (Tsodyks–Markram, R = 1 at the first)."""
    r = 1.0
    decay = np.exp(-np.diff(ts_ms) / tau_ms)
    acc = 1.0
    for k in range(len(decay)):
        r = 1.0 - (1.0 - r * (1.0 - u)) * decay[k]
        acc += r
    return acc / len(ts_ms)


def _psp_peak_ms(fh, params: dict, kind: np.ndarray) -> np.ndarray:
    """Per true edge: time from the PSP's onset to its peak (ms).

    Measured by the simulator where it stores it (``edges/psp_time_to_peak_ms``,
    the HH model); otherwise the peak of the difference-of-exponentials PSP of
    the point-process simulator's ``epsp_tau_ms``/``ipsp_tau_ms``, and 1 ms for
    a spikelet.
    """
    if "edges/psp_time_to_peak_ms" in fh:
        return np.asarray(fh["edges/psp_time_to_peak_ms"][()], float)

    def peak(taus):
        r, d = float(taus[0]), float(taus[1])
        return r * d / (d - r) * np.log(d / r) if d > r > 0 else max(r, d)

    e = peak(params.get("epsp_tau_ms", (1.0, 15.0)))
    i = peak(params.get("ipsp_tau_ms", (2.0, 35.0)))
    return np.where(kind == EdgeKind.EXCITATORY, e, np.where(kind == EdgeKind.INHIBITORY, i, 1.0)).astype(float)


def _mean_gain(t: Truth) -> np.ndarray:
    """Per channel: electrode gain averaged over the recording."""
    T = t.duration_s
    tau = t.coupling_tau_s
    stop = np.minimum(t.loss_time_s, T)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(np.isfinite(tau), tau * (1 - np.exp(-stop / tau)) / T, stop / T)
    return t.attenuation * np.nan_to_num(mean)


def detectability(t: Truth) -> np.ndarray:
    """Expected spike-triggered SNR of every true edge (see module docstring)."""
    gain = _mean_gain(t)
    best_gain = np.zeros(t.n)
    best_noise = np.ones(t.n)
    for i in range(t.n):
        ch = t.channel_idx[t.channel_ptr[i]:t.channel_ptr[i + 1]]
        if len(ch):
            j = ch[np.argmax(gain[ch])]
            best_gain[i], best_noise[i] = gain[j], t.noise_uv[j] / 1000.0
    a = best_gain[t.post]
    noise = np.sqrt((a * t.vm_noise_mv[t.post]) ** 2 + best_noise[t.post] ** 2)
    return np.abs(t.weight_mv) * a * np.sqrt(t.n_spikes[t.pre]) / noise


def _best_channels(t: Truth) -> np.ndarray:
    """Per true neuron: its working channel with the largest recording-averaged gain (−1 if none)."""
    gain = np.where((t.status == 0) & (t.attenuation > 0), _mean_gain(t), -1.0)
    best = np.full(t.n, -1, np.int64)
    for i in range(t.n):
        ch = t.channel_idx[t.channel_ptr[i]:t.channel_ptr[i + 1]]
        if len(ch) and gain[ch].max() > 0:
            best[i] = ch[np.argmax(gain[ch])]
    return best


def _gain_at(t: Truth, ch: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Electrode gain of channels ``ch`` at ``time_s`` (coupling decay, zero after abrupt loss)."""
    tau = t.coupling_tau_s[ch]
    with np.errstate(invalid="ignore", divide="ignore"):
        decay = np.where(np.isfinite(tau) & (tau > 0), np.exp(-time_s / tau), 1.0)
    return np.where(time_s < t.loss_time_s[ch], t.attenuation[ch] * decay, 0.0)


def ideal_sta_z(t: Truth, recording, *, baseline_ms=(-5.0, -0.5), ap_mask_ms=(-2.0, 6.0),
                block_s: float = 10.0, min_gain_fraction: float = 0.2, outlier_sd: float = 8.0,
                details: bool = False):
    """The z an ideal spike-triggered average would reach for every true edge.

    For true edge pre → post with latency d and PSP time to peak t_p (both from
    the truth), each presynaptic spike at time s gives one trial

        y_s = (V_e(s + d + t_p) − mean V_e(s − 5 … s − 0.5 ms)) / g(s)

    on the post neuron's best working electrode (largest recording-averaged
    gain), ``g(s)`` its true gain at that time: the post trace at the PSP's
    peak against a baseline just before the spike, in somatic mV. Trials are
    left out where the electrode is lost (gain below ``min_gain_fraction`` of
    its initial value), a sample is saturated, or the post neuron's own AP
    core (−2…+6 ms around each of its true spikes) touches the baseline or the
    peak sample — what any spike-triggered method masks. Everything else the
    average has to beat stays in the trials' spread: the post cell's
    after-hyperpolarisations and membrane noise, burst depolarisations, every
    other synaptic input, electrode noise. Then

        z = |w| · √n / SD(y),

    with ``w`` the true somatic PSP peak times :func:`release_factor` (the
    mean PSP per presynaptic spike of a depressing synapse), ``n`` the kept trials and the SD
    taken over the trials within ``outlier_sd`` robust SDs of their median
    (stimulation-artefact samples the saturation mask misses). The truth and
    the recording are read here; inference never is. NaN where fewer than 10
    trials remain. Memory: one block of ``block_s`` seconds of the post
    neurons' best channels. With ``details``, returns a dict of per-edge
    arrays: ``z``, ``trials`` (n), ``sd_mv`` (SD(y)) and ``mean_mv`` (mean y,
    the measured response at the peak lag).
    """
    from .io.recording import open_recording

    rec = open_recording(recording)
    fs = float(rec.sampling_rate_hz)
    ms = fs / 1000.0
    m = len(t.pre)
    out = np.full(m, np.nan)
    n_tr, sd_mv, mean_mv = np.zeros(m, np.int64), np.full(m, np.nan), np.full(m, np.nan)
    if t.spike_ptr is None or m == 0:
        return dict(z=out, trials=n_tr, sd_mv=sd_mv, mean_mv=mean_mv) if details else out
    rf = release_factor(t)
    best = _best_channels(t)
    used = np.unique(best[best >= 0])
    col = np.full(max(len(t.channel_neuron), 1), -1, np.int64)
    col[used] = np.arange(len(used))
    lag = np.round((t.delay_ms + t.psp_peak_ms) * ms).astype(np.int64)
    lag = np.maximum(lag, 1)
    b0, b1 = int(round(baseline_ms[0] * ms)), int(round(baseline_ms[1] * ms))
    m0, m1 = int(round(ap_mask_ms[0] * ms)), int(round(ap_mask_ms[1] * ms))
    ok_edge = best[t.post] >= 0
    order = np.argsort(t.pre, kind="stable")
    order = order[ok_edge[order]]
    e_ptr = np.concatenate([[0], np.cumsum(np.bincount(t.pre[order], minlength=t.n))])
    spk = np.round(t.spike_times_s * fs).astype(np.int64)
    spk_n = np.repeat(np.arange(t.n), np.diff(t.spike_ptr))
    big = int(rec.n_samples) + 10 ** 6
    keys = np.sort(spk_n * big + spk)
    lmax = int(lag.max())
    vals: list[list[np.ndarray]] = [[] for _ in range(m)]
    step = max(1, int(round(block_s * fs)))
    for start in range(0, rec.n_samples, step):
        stop = min(start + step, rec.n_samples)
        sel = (spk >= start) & (spk < stop) & (spk + b0 >= 0) & (spk + lmax < rec.n_samples)
        if not sel.any() or not len(used):
            continue
        r0, r1 = max(0, start + b0), min(rec.n_samples, stop + lmax + 1)
        raw = rec.store.read(r0, r1, 0, rec.n_channels)
        bad = rec.saturated(raw)[:, used]
        x = rec._to_mv(raw, 0, rec.n_channels)[:, used].astype(np.float64)
        x[bad | ~np.isfinite(x)] = np.nan
        nan = np.isnan(x)
        cs = np.vstack([np.zeros((1, len(used))), np.cumsum(np.where(nan, 0.0, x), axis=0)])
        cn = np.vstack([np.zeros((1, len(used)), np.int64), np.cumsum(nan, axis=0)])
        ps, pn = spk[sel], spk_n[sel]
        cnt = e_ptr[pn + 1] - e_ptr[pn]
        tot = int(cnt.sum())
        if not tot:
            continue
        rep = np.repeat(np.arange(len(ps)), cnt)
        first = np.repeat(np.cumsum(cnt) - cnt, cnt)
        e = order[e_ptr[pn[rep]] + (np.arange(tot) - first)]
        s = ps[rep]
        post = t.post[e]
        c = col[best[post]]
        lo, hi = s + b0 - r0, s + b1 - r0
        base = (cs[hi, c] - cs[lo, c]) / (hi - lo)
        base_nan = cn[hi, c] - cn[lo, c]
        peak = x[s + lag[e] - r0, c]
        # the post neuron's own AP core touching the baseline or the peak sample
        k_lo = np.searchsorted(keys, post * big + (s + b0 - m1))
        k_hi = np.searchsorted(keys, post * big + (s + lag[e] - m0), side="right")
        own = k_hi > k_lo
        g = _gain_at(t, best[post], s / fs)
        good = (base_nan == 0) & np.isfinite(peak) & ~own & (g >= min_gain_fraction * t.attenuation[best[post]])
        y = (peak[good] - base[good]) / g[good]
        eg = e[good]
        srt = np.argsort(eg, kind="stable")
        eg, y = eg[srt], y[srt]
        cut = np.flatnonzero(np.diff(eg)) + 1
        for idx, chunk in zip(eg[np.concatenate([[0], cut])] if len(eg) else [], np.split(y, cut)):
            vals[int(idx)].append(chunk)
    for j in range(m):
        if not vals[j]:
            continue
        y = np.concatenate(vals[j])
        if len(y) < 10:
            continue
        med = np.median(y)
        rsd = 1.4826 * np.median(np.abs(y - med))
        if rsd > 0:
            y = y[np.abs(y - med) <= outlier_sd * rsd]
        sd = y.std(ddof=1) if len(y) >= 10 else 0.0
        if sd > 0:
            out[j] = abs(t.weight_mv[j]) * rf[j] * np.sqrt(len(y)) / sd
            n_tr[j], sd_mv[j], mean_mv[j] = len(y), sd, y.mean()
    return dict(z=out, trials=n_tr, sd_mv=sd_mv, mean_mv=mean_mv) if details else out


def match_neurons(inferred_channels: list, t: Truth):
    """Inferred neuron index → true neuron id (−1 if none) by majority of channels."""
    out = np.full(len(inferred_channels), -1, np.int64)
    for i, chs in enumerate(inferred_channels):
        owners = t.channel_neuron[np.asarray(chs, np.int64)] if len(chs) else np.zeros(0, np.int64)
        owners = owners[owners >= 0]
        if len(owners):
            vals, cnt = np.unique(owners, return_counts=True)
            out[i] = vals[np.argmax(cnt)]
    return out


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos = labels.sum()
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    r = rankdata(scores)
    return float((r[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


_IDEAL_CACHE: dict = {}


def recording_of(truth_path) -> Path | None:
    """The recording a truth file describes, if it sits beside it: ``<stem>.h5``/``.zarr``/``.nwb``
    for ``<stem>.truth.h5``, or the name the truth file records."""
    import h5py

    truth_path = Path(truth_path)
    stem = truth_path.name[:-len(".truth.h5")] if truth_path.name.endswith(".truth.h5") else truth_path.stem
    names = [stem + ext for ext in (".h5", ".zarr", ".nwb")]
    with h5py.File(truth_path, "r") as fh:
        names.append(str(fh.attrs.get("recording", "")))
    for name in names:
        if name and truth_path.with_name(name).exists():
            return truth_path.with_name(name)
    return None


def cached_ideal_sta_z(t: Truth, truth_path, recording) -> np.ndarray:
    """:func:`ideal_sta_z`, memoised per (truth, recording, modification times) in this process."""
    key = tuple((str(Path(p).resolve()), Path(p).stat().st_mtime_ns) for p in (truth_path, recording))
    if key not in _IDEAL_CACHE:
        _IDEAL_CACHE[key] = ideal_sta_z(t, recording)
    return _IDEAL_CACHE[key]


def evaluate(infer_dir, truth_path, snr_threshold: float = 5.0, recording=None,
             detectability_rule: str = "auto") -> dict:
    """Accuracy of one inference output directory against its truth file.

    ``detectability_rule``: ``"ideal"`` — a true synapse is detectable when its
    :func:`ideal_sta_z` (empirical per-spike variance of the post trace at the
    PSP's peak, mean PSP per spike) is ≥ ``snr_threshold``; this needs the
    recording (``recording``, or the one beside the truth file under its
    recorded name); ``"analytic"`` — :func:`detectability` (background
    σ_Vm and electrode noise only); ``"auto"`` (default) — ideal where the
    recording is found. Both are reported when the recording is available
    (``*_analytic`` keys).
    """
    import h5py

    infer_dir = Path(infer_dir)
    t = read_truth_arrays(truth_path)
    if recording is None and detectability_rule != "analytic":
        recording = recording_of(truth_path)
    if detectability_rule == "ideal" and recording is None:
        from .errors import ConnectomeFormatError

        raise ConnectomeFormatError("the ideal-STA detectability needs the recording beside its truth file",
                                    truth_path)
    con = read_csv_dir(infer_dir)
    ids = con.neuron_id
    chans = [[int(c) for c in str(ch).split(";") if c != ""] for ch in con.neurons.get("channels", [])]
    top = max((max(c) for c in chans if c), default=-1)
    if top >= len(t.channel_neuron):
        from .errors import ConnectomeFormatError

        raise ConnectomeFormatError(f"the inferred neurons use channel {top}, but this truth file describes "
                                    f"{len(t.channel_neuron)} channels: not the truth of that recording", truth_path)
    m = match_neurons(chans, t)
    id2truth = dict(zip(ids.tolist(), m.tolist()))
    # which true neurons were recordable: at least one working channel and some spikes
    usable_ch = (t.status == 0) & (t.attenuation > 0)
    recordable = np.zeros(t.n, bool)
    for i in range(t.n):
        ch = t.channel_idx[t.channel_ptr[i]:t.channel_ptr[i + 1]]
        recordable[i] = usable_ch[ch].any() and t.n_spikes[i] >= 10
    found = np.zeros(t.n, bool)
    found[m[m >= 0]] = True
    dup = int(len(m[m >= 0]) - len(np.unique(m[m >= 0])))
    # edges
    e_pre, e_post = con.edges["pre"], con.edges["post"]
    e_kind = con.edges["kind"].astype(np.int64)
    e_w, e_d = con.edges["weight_mv"], con.edges["delay_ms"]
    tp_pre = np.array([id2truth.get(int(a), -1) for a in e_pre], np.int64)
    tp_post = np.array([id2truth.get(int(b), -1) for b in e_post], np.int64)
    key = t.pre * t.n + t.post
    order = np.argsort(key)
    skey = key[order]
    q = np.where((tp_pre >= 0) & (tp_post >= 0), tp_pre * t.n + tp_post, -1)
    pos = np.searchsorted(skey, q)
    pos = np.minimum(pos, len(skey) - 1) if len(skey) else pos
    hit = (q >= 0) & (len(skey) > 0) & (skey[pos] == q if len(skey) else False)
    hit = np.asarray(hit, bool)
    edge_of = np.where(hit, order[pos] if len(skey) else -1, -1)
    n_rep = len(e_pre)
    tp = int(hit.sum())
    snr_analytic = detectability(t)
    ideal = recording is not None and detectability_rule != "analytic"
    snr = cached_ideal_sta_z(t, truth_path, recording) if ideal else snr_analytic
    snr = np.nan_to_num(snr, nan=0.0)
    # a true edge is "recovered" if some reported edge maps onto it
    recovered = np.zeros(len(t.pre), bool)
    recovered[edge_of[hit]] = True
    both_rec = found[t.pre] & found[t.post]
    det = (snr >= snr_threshold) & both_rec
    res = {
        "truth_neurons": int(t.n), "recordable_neurons": int(recordable.sum()),
        "neurons_found": int((found & recordable).sum()),
        "neurons_recovered_fraction": float((found & recordable).sum() / max(1, recordable.sum())),
        "inferred_neurons": int(len(ids)), "unmatched_inferred_neurons": int((m < 0).sum()),
        "duplicate_neurons": dup,
        "true_synapses": int(len(t.pre)), "reported_synapses": n_rep, "true_positives": tp,
        "false_positives": n_rep - tp,
        "precision": float(tp / n_rep) if n_rep else float("nan"),
        "detectable_synapses": int(det.sum()),
        "recall_detectable": float(recovered[det].mean()) if det.any() else float("nan"),
        "recall_all": float(recovered.mean()) if len(recovered) else float("nan"),
        "detectability": "ideal_sta" if ideal else "analytic",
    }
    if ideal:
        det_a = (snr_analytic >= snr_threshold) & both_rec
        res["detectable_synapses_analytic"] = int(det_a.sum())
        res["recall_detectable_analytic"] = float(recovered[det_a].mean()) if det_a.any() else float("nan")
    bins = {}
    for lo, hi in PSP_BINS_MV:
        sel = (np.abs(t.weight_mv) >= lo) & (np.abs(t.weight_mv) < hi) & both_rec & (t.kind != EdgeKind.ELECTRICAL)
        bins[f"{lo:g}-{hi:g}"] = {"true": int(sel.sum()), "recall": float(recovered[sel].mean()) if sel.any() else None,
                                  "detectable": int((sel & det).sum())}
    res["recall_by_psp_mv"] = bins
    for k, name in KIND_NAMES.items():
        sel = det & (t.kind == k)
        res[f"recall_detectable_{name}"] = float(recovered[sel].mean()) if sel.any() else None
    if tp:
        ti = edge_of[hit]
        res["kind_correct"] = float((e_kind[hit] == t.kind[ti]).mean())
        chem = t.kind[ti] != EdgeKind.ELECTRICAL
        res["median_latency_error_ms"] = (float(np.median(np.abs(e_d[hit][chem] - t.delay_ms[ti][chem])))
                                          if chem.any() else None)
        if tp >= 3:
            res["weight_pearson_r"] = float(np.corrcoef(e_w[hit], t.weight_mv[ti])[0, 1])
    res.update(_issue13_scores(t, tp_pre, tp_post, e_kind, e_w, e_d, hit, edge_of, found))
    if tp:
        # against the mean PSP per presynaptic spike (depression included), the quantity an average measures
        ti = edge_of[hit]
        rf = release_factor(t)[ti]
        good = (t.kind[ti] != EdgeKind.ELECTRICAL) & (e_kind[hit] == t.kind[ti]) & (np.abs(t.weight_mv[ti]) > 0)
        if good.any():
            res["weight_ratio_median_mean_psp"] = float(np.median(np.abs(e_w[hit][good])
                                                                  / (np.abs(t.weight_mv[ti][good]) * rf[good])))
            res["release_factor_median"] = float(np.median(rf[good]))
            if good.sum() >= 3:
                res["weight_pearson_r_mean_psp"] = float(np.corrcoef(e_w[hit][good],
                                                                     t.weight_mv[ti][good] * rf[good])[0, 1])
    # ranking of every tested pair
    cpath = infer_dir / "connectivity.h5"
    if cpath.exists():
        with h5py.File(cpath, "r") as fh:
            nid = fh["neuron_id"][()]
            score = fh["score"][()]
        tm = np.array([id2truth.get(int(i), -1) for i in nid])
        a, b = np.nonzero(np.isfinite(score))
        ok = (tm[a] >= 0) & (tm[b] >= 0) & (a != b)
        a, b = a[ok], b[ok]
        qk = tm[a] * t.n + tm[b]
        lab = np.isin(qk, key)
        res["pairs_scored"] = int(len(a))
        res["roc_auc"] = roc_auc(np.abs(score[a, b]).astype(float), lab)
        rep = np.isin(qk, tp_pre * t.n + tp_post)
        res["mcc"] = mcc(rep, lab)
    return res


def mcc(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Matthews correlation coefficient of two boolean vectors (Matthews 1975,
    Biochim. Biophys. Acta 405:442); NaN if a margin is empty."""
    p, a = np.asarray(predicted, bool), np.asarray(actual, bool)
    tp, tn = float((p & a).sum()), float((~p & ~a).sum())
    fp, fn = float((p & ~a).sum()), float((~p & a).sum())
    den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / den) if den > 0 else float("nan")


#: Causes of a false positive, in the order they are tested (the first that applies).
FP_CAUSES = ("disynaptic", "common_input", "reverse", "other")


def _issue13_scores(t: Truth, tp_pre, tp_post, e_kind, e_w, e_d, hit, edge_of, found) -> dict:
    """Kind (electrical included), electrical recall and kind-precision, weight
    scale (median |estimated| / |true| PSP), and the causes of false positives.

    A reported pair counts as the right kind if the true pair has a synapse of
    that kind (a pair can have a chemical synapse and a gap junction). A false
    positive between two matched neurons pre → post is explained, in this
    order, by a disynaptic chain pre → x → post, a common input x → pre and
    x → post (chemical synapses of the truth), the reverse of a true synapse
    post → pre (any kind), or nothing ("other"); false positives with an
    unmatched neuron are "unmatched".
    """
    n = t.n
    chem = t.kind != EdgeKind.ELECTRICAL
    kinds = {}
    for a, b, k in zip(t.pre.tolist(), t.post.tolist(), t.kind.tolist()):
        kinds.setdefault(a * n + b, set()).add(k)
    out = {}
    q = tp_pre * n + tp_post
    if hit.any():
        ok = np.array([int(e_kind[j]) in kinds.get(int(q[j]), ()) for j in np.flatnonzero(hit)])
        out["kind_correct_incl_electrical"] = float(ok.mean())
        ti = edge_of[hit]
        chem_hit = chem[ti] & (e_kind[hit] != 3)
        if chem_hit.any():
            ok_chem = e_kind[hit][chem_hit] == t.kind[ti][chem_hit]
            out["kind_correct_chemical"] = float(ok_chem.mean())
        # weight scale on chemical hits of the right sign
        w_true, w_est = t.weight_mv[ti], e_w[hit]
        good = chem[ti] & (e_kind[hit] == t.kind[ti]) & (np.abs(w_true) > 0)
        for name, sel in (("all", good), ("excitatory", good & (t.kind[ti] == EdgeKind.EXCITATORY)),
                          ("inhibitory", good & (t.kind[ti] == EdgeKind.INHIBITORY))):
            r = np.abs(w_est[sel]) / np.abs(w_true[sel])
            out[f"weight_ratio_median_{name}"] = float(np.median(r)) if len(r) else None
        lat = e_d[hit][chem[ti]]
        out["true_positive_latency_median_ms"] = float(np.median(lat)) if len(lat) else None
    # electrical synapses as unordered pairs
    gap_pairs = {(min(a, b), max(a, b)) for a, b, k in zip(t.pre.tolist(), t.post.tolist(), t.kind.tolist()) if k == 3}
    gap_found = {g for g in gap_pairs if found[g[0]] and found[g[1]]}
    rep_el = {(min(a, b), max(a, b)) for a, b, k in zip(tp_pre.tolist(), tp_post.tolist(), e_kind.tolist())
              if k == 3 and a >= 0 and b >= 0}
    out["true_electrical_pairs"] = len(gap_found)
    out["reported_electrical_pairs"] = len(rep_el)
    out["electrical_recall"] = float(len(gap_found & rep_el) / len(gap_found)) if gap_found else None
    out["electrical_kind_precision"] = float(len(rep_el & gap_pairs) / len(rep_el)) if rep_el else None
    # false positives by cause
    A = np.zeros((n, n), bool)
    A[t.pre[chem], t.post[chem]] = True
    anykey = set((t.pre * n + t.post).tolist())
    causes = {c: [] for c in FP_CAUSES + ("unmatched",)}
    for j in np.flatnonzero(~hit):
        a, b = int(tp_pre[j]), int(tp_post[j])
        if a < 0 or b < 0:
            c = "unmatched"
        elif (A[a] & A[:, b]).any():
            c = "disynaptic"
        elif (A[:, a] & A[:, b]).any():
            c = "common_input"
        elif b * n + a in anykey:
            c = "reverse"
        else:
            c = "other"
        causes[c].append(float(e_d[j]))
    out["false_positive_causes"] = {c: {"count": len(v), "median_latency_ms": float(np.median(v)) if v else None}
                                    for c, v in causes.items()}
    out["false_positive_cause_base_rate"] = _cause_base_rates(A, anykey, found)
    return out


def _cause_base_rates(A: np.ndarray, anykey: set, found: np.ndarray) -> dict:
    """Fraction of unconnected ordered pairs of found neurons to which each cause would apply.

    The yardstick for :data:`FP_CAUSES`: in a dense network almost every
    unconnected pair has some chain pre → x → post and some common input, so
    "disynaptic" says little about a false positive unless it is rarer among
    unconnected pairs in general.
    """
    f = np.flatnonzero(found)
    if f.size < 2:
        return {}
    Af = A.astype(np.float32)
    two = (Af @ Af)[np.ix_(f, f)] > 0
    common = (Af.T @ Af)[np.ix_(f, f)] > 0
    n = A.shape[0]
    conn = np.zeros((f.size, f.size), bool)
    keys = np.array(sorted(anykey), np.int64)
    a, b = keys // n, keys % n
    pos = np.full(n, -1, np.int64)
    pos[f] = np.arange(f.size)
    ok = (pos[a] >= 0) & (pos[b] >= 0)
    conn[pos[a[ok]], pos[b[ok]]] = True
    unc = ~conn & ~np.eye(f.size, dtype=bool)
    rev = conn.T & unc
    if not unc.any():
        return {}
    return {"disynaptic": float(two[unc].mean()), "common_input": float((common & ~two)[unc].mean()),
            "reverse": float((rev & ~two & ~common)[unc].mean())}
