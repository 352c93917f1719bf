"""Score an imprinted crossbar against a reference connectome (the computed one, or simulator truth).

Imprinted neurons are matched to reference neurons through their electrodes
(a neuron is the reference neuron that owns most of its channels), as
:mod:`connectome.evaluate` matches inferred neurons to the truth. Every
ordered pair (i, j), i ≠ j, of matched neurons whose presynaptic neuron has
enough spikes to be imprinted is scored; a pair is a *synapse* when the
reference has an edge between the matched neurons.

Metrics
-------
- ``auc``: ROC AUC of |z| for synapses against non-synapses;
  ``auc_excitatory`` / ``auc_inhibitory``: of z (resp. −z) for excitatory
  (inhibitory) synapses against non-synapses; ``auc_detectable`` (truth
  only): synapses detectable at SNR ≥ 5 (:func:`connectome.evaluate.detectability`)
  against non-synapses.
- ``recall_at_matched_count``: the K pairs of largest |z|, K = number of
  reference synapses among the scored pairs: the fraction of them that are
  synapses (recall = precision at that count).
- ``spearman_synapses``: rank correlation of the imprinted weight with the
  reference weight over the reference synapses (signed).
- ``spearman_all_pairs``: the same over every scored pair, the reference
  weight of a non-synapse being 0 — or, for an infer directory with
  ``connectivity.h5``, the window-mean response it measured for every
  tested pair (the computed evidence, synapse or not).
- ``selected``: the imprinted synapses (|z| ≥ threshold) — count, precision
  and recall against the reference synapses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConnectomeFormatError
from ..graph.kinds import EdgeKind


def _is_truth(path: Path) -> bool:
    if not (path.is_file() and path.suffix.lower() in (".h5", ".hdf5")):
        return False
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            return "edges" in fh and "neurons/channel_ptr" in fh and "channels/neuron" in fh
    except OSError:
        return False


def _majority(channels_of: list, owner: np.ndarray) -> np.ndarray:
    out = np.full(len(channels_of), -1, np.int64)
    for i, chs in enumerate(channels_of):
        chs = np.asarray([c for c in chs if 0 <= c < len(owner)], np.int64)
        o = owner[chs] if len(chs) else np.zeros(0, np.int64)
        o = o[o >= 0]
        if len(o):
            v, c = np.unique(o, return_counts=True)
            out[i] = v[np.argmax(c)]
    return out


class Reference:
    """A reference connectome with channel ownership for matching neurons."""

    def __init__(self, path):
        from ..graph.formats import read_connectome

        self.path = Path(path)
        self.detectable = None
        self.all_pairs = None  # (neuron ids, N×N weight) of an infer directory's connectivity.h5
        if _is_truth(self.path):
            from ..evaluate import detectability, read_truth_arrays

            t = read_truth_arrays(self.path)
            self.kind = "truth"
            self.owner = np.asarray(t.channel_neuron, np.int64)
            self.pre, self.post = t.pre.astype(np.int64), t.post.astype(np.int64)
            self.weight, self.edge_kind = t.weight_mv.astype(np.float64), t.kind.astype(np.int64)
            self.detectable = detectability(t) >= 5.0
            return
        con = read_connectome(self.path)
        if "channels" not in con.neurons:
            raise ConnectomeFormatError("reference has no per-neuron channel list (neurons.csv 'channels'); "
                                        "cannot match its neurons to the recording's", self.path)
        self.kind = "connectome"
        chans = [[int(c) for c in str(s).split(";") if c.strip() != ""] for s in con.neurons["channels"]]
        top = max((max(c) for c in chans if c), default=-1)
        self.owner = np.full(top + 1, -1, np.int64)
        for nid, chs in zip(con.neuron_id.tolist(), chans):
            self.owner[chs] = nid
        e = con.edges
        self.pre, self.post = e["pre"].astype(np.int64), e["post"].astype(np.int64)
        self.weight, self.edge_kind = e["weight_mv"].astype(np.float64), e["kind"].astype(np.int64)
        cpath = self.path / "connectivity.h5" if self.path.is_dir() else None
        if cpath is not None and cpath.exists():
            import h5py

            with h5py.File(cpath, "r") as fh:
                self.all_pairs = (fh["neuron_id"][()].astype(np.int64),
                                  fh["weight_mv"][()].astype(np.float64))

    def match(self, neuron_channels: list) -> np.ndarray:
        """Reference neuron id of each imprinted neuron (−1 if none)."""
        return _majority(neuron_channels, self.owner)


def _auc(scores, labels) -> float | None:
    from ..evaluate import roc_auc as auc

    v = auc(np.asarray(scores, np.float64), np.asarray(labels, bool))
    return None if not np.isfinite(v) else round(float(v), 6)


def _spearman(a, b) -> float | None:
    from scipy.stats import rankdata

    if len(a) < 3:
        return None
    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return round(float(np.corrcoef(ra, rb)[0, 1]), 6)


def score_imprint(result, reference: Reference) -> dict:
    """Metrics of the module docstring for one :class:`~connectome.verify.imprint.ImprintResult`."""
    m = reference.match(result.neuron_channels)
    N = result.n
    ii, jj = np.nonzero(~np.eye(N, dtype=bool))
    ok = (m[ii] >= 0) & (m[jj] >= 0) & result.tested_rows[ii] & (m[ii] != m[jj])
    ii, jj = ii[ok], jj[ok]
    a, b = m[ii], m[jj]
    ids = np.unique(np.concatenate([reference.pre, reference.post, a, b]))
    k = len(ids)
    rkey = np.searchsorted(ids, reference.pre) * k + np.searchsorted(ids, reference.post)
    o = np.argsort(rkey, kind="stable")
    q = np.searchsorted(ids, a) * k + np.searchsorted(ids, b)
    pos = np.minimum(np.searchsorted(rkey[o], q), max(len(o) - 1, 0))
    is_syn = (rkey[o][pos] == q) if len(o) else np.zeros(len(q), bool)
    edge = np.where(is_syn, o[pos], -1)
    z = result.z[ii, jj]
    w_imp = result.weight_mv[ii, jj]
    kind = np.where(is_syn, reference.edge_kind[np.maximum(edge, 0)], 0)
    w_ref = np.where(is_syn, reference.weight[np.maximum(edge, 0)], 0.0)
    neg = ~is_syn
    exc, inh = kind == EdgeKind.EXCITATORY, kind == EdgeKind.INHIBITORY
    out = {"reference": str(reference.path), "reference_kind": reference.kind,
           "neurons_matched": int((m >= 0).sum()), "neurons": int(N), "pairs_scored": int(len(ii)),
           "reference_synapses_scored": int(is_syn.sum()),
           "auc": _auc(np.abs(z), is_syn),
           "auc_excitatory": _auc(z[exc | neg], exc[exc | neg]),
           "auc_inhibitory": _auc(-z[inh | neg], inh[inh | neg])}
    if reference.detectable is not None:
        det = is_syn & reference.detectable[np.maximum(edge, 0)]
        out["detectable_synapses_scored"] = int(det.sum())
        out["auc_detectable"] = _auc(np.abs(z[det | neg]), det[det | neg])
    K = int(is_syn.sum())
    if K and len(z):
        top = np.argsort(-np.abs(z), kind="stable")[:K]
        out["recall_at_matched_count"] = round(float(is_syn[top].mean()), 6)
    else:
        out["recall_at_matched_count"] = None
    out["spearman_synapses"] = _spearman(w_imp[is_syn], w_ref[is_syn])
    if reference.all_pairs is not None:
        nid, W = reference.all_pairs
        row = np.searchsorted(nid, a)
        col = np.searchsorted(nid, b)
        inside = (row < len(nid)) & (col < len(nid))
        inside &= nid[np.minimum(row, len(nid) - 1)] == a
        inside &= nid[np.minimum(col, len(nid) - 1)] == b
        wa = np.full(len(a), np.nan)
        wa[inside] = W[row[inside], col[inside]]
        fin = np.isfinite(wa)
        out["spearman_all_pairs"] = _spearman(w_imp[fin], wa[fin])
        out["spearman_all_pairs_basis"] = "connectivity.h5 weight_mv of every tested pair"
    else:
        out["spearman_all_pairs"] = _spearman(w_imp, w_ref)
        out["spearman_all_pairs_basis"] = "reference weight, 0 for non-synapses"
    sel = np.abs(z) >= result.params.z_threshold
    out["selected"] = {"count": int(sel.sum()),
                       "precision": round(float(is_syn[sel].mean()), 6) if sel.any() else None,
                       "recall": round(float(is_syn[sel].sum() / K), 6) if K else None}
    return out
