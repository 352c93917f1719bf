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


def read_truth_arrays(path) -> Truth:
    import h5py
    import json

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
                     duration_s=float(params["duration_s"]))


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


def evaluate(infer_dir, truth_path, snr_threshold: float = 5.0) -> dict:
    """Accuracy of one inference output directory against its truth file."""
    import h5py

    infer_dir = Path(infer_dir)
    t = read_truth_arrays(truth_path)
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
    snr = detectability(t)
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
    }
    bins = {}
    for lo, hi in PSP_BINS_MV:
        sel = (np.abs(t.weight_mv) >= lo) & (np.abs(t.weight_mv) < hi) & both_rec & (t.kind != 3)
        bins[f"{lo:g}-{hi:g}"] = {"true": int(sel.sum()), "recall": float(recovered[sel].mean()) if sel.any() else None,
                                  "detectable": int((sel & det).sum())}
    res["recall_by_psp_mv"] = bins
    for k, name in KIND_NAMES.items():
        sel = det & (t.kind == k)
        res[f"recall_detectable_{name}"] = float(recovered[sel].mean()) if sel.any() else None
    if tp:
        ti = edge_of[hit]
        res["kind_correct"] = float((e_kind[hit] == t.kind[ti]).mean())
        chem = t.kind[ti] != 3
        res["median_latency_error_ms"] = float(np.median(np.abs(e_d[hit][chem] - t.delay_ms[ti][chem]))) if chem.any() else None
        if tp >= 3:
            res["weight_pearson_r"] = float(np.corrcoef(e_w[hit], t.weight_mv[ti])[0, 1])
    res.update(_issue13_scores(t, tp_pre, tp_post, e_kind, e_w, e_d, hit, edge_of, found))
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
    chem = t.kind != 3
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
        for name, sel in (("all", good), ("excitatory", good & (t.kind[ti] == 1)),
                          ("inhibitory", good & (t.kind[ti] == 2))):
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
    return out
