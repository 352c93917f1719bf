"""Compare two connectomes, or a connectome against ground truth.

``A`` is the connectome under test (e.g. inferred), ``B`` the reference
(a truth file, or another inference). Neurons of A are first matched to
neurons of B (:func:`match_neurons`), then synapses are compared as
*connected pairs*: an A edge pre→post maps to the B pair
(match(pre), match(post)); several edges on one pair (a chemical and an
electrical synapse) count once, represented by the one with the largest
|weight|.

- precision = |A ∩ B| / |A|, recall = |A ∩ B| / |B|, F1 their harmonic
  mean, Jaccard = |A ∩ B| / |A ∪ B|, over pairs; an A edge with an
  unmatched neuron is a pair of A that B cannot contain;
- ``recall_matched_neurons``: recall over the B pairs whose two neurons
  were both matched (what A could have found at all);
- on matched pairs: Pearson and Spearman correlation of ``weight_mv``,
  sign agreement, kind agreement (and the kind confusion matrix), median
  absolute weight and latency differences.

Examples
--------
>>> from connectome.graph import Connectome
>>> b = Connectome.from_edges([0, 1, 2, 3], [1, 2, 3, 0], weight_mv=[1.0, -0.5, 0.8, 0.3])
>>> a = b.subset_edges([True, True, True, False])
>>> r = compare_connectomes(a, b)
>>> r["matching"]["method"], r["edges"]["precision"], r["edges"]["recall"]
('ids', 1.0, 0.75)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConnectomeFormatError
from .connectome import Connectome, parse_channels
from .kinds import KIND_NAMES

MATCH_METHODS = ("auto", "ids", "channels", "position")


# -------------------------------------------------------------------- reading
def read_with_channels(path) -> Connectome:
    """:meth:`Connectome.read`, plus, for a truth file, each neuron's channels as a ``channels`` column.

    A truth file lists each neuron's electrodes as a CSR
    (``/neurons/channel_ptr``, ``/neurons/channel_idx``); they become
    ``"3;4"`` strings like an inference directory's ``neurons.csv``.
    """
    c = Connectome.read(path)
    if c.meta.get("truth") and "channels" not in c.neurons:
        import h5py

        try:
            with h5py.File(path, "r") as fh:
                if "neurons/channel_ptr" in fh and "neurons/channel_idx" in fh:
                    ptr = fh["neurons/channel_ptr"][()]
                    idx = fh["neurons/channel_idx"][()]
                    if len(ptr) != c.n_neurons + 1:
                        raise ConnectomeFormatError(
                            f"/neurons/channel_ptr has {len(ptr)} entries for {c.n_neurons} neurons", path
                        )
                    c.neurons["channels"] = np.array(
                        [";".join(str(int(v)) for v in idx[ptr[i] : ptr[i + 1]]) for i in range(c.n_neurons)],
                        dtype=object,
                    )
        except OSError as exc:
            raise ConnectomeFormatError(f"cannot open as HDF5 ({exc})", path) from None
    return c


def channel_lists(c: Connectome) -> list | None:
    """Each neuron's channels (list of int) from the ``channels`` column; None if there is none."""
    if "channels" not in c.neurons:
        return None
    out = [parse_channels(s) for s in c.neurons["channels"]]
    return out if any(out) else None


# ------------------------------------------------------------------- matching
@dataclass
class NeuronMatch:
    """Which B neuron each A neuron is (``b_id[i]`` for A's i-th neuron, −1 if none)."""

    method: str
    reason: str
    b_id: np.ndarray
    detail: dict = field(default_factory=dict)

    def summary(self, a: Connectome, b: Connectome) -> dict:
        m = self.b_id[self.b_id >= 0]
        uniq = np.unique(m)
        return {
            "method": self.method,
            "reason": self.reason,
            "a_neurons_matched": int(m.size),
            "a_neurons_unmatched": int(np.sum(self.b_id < 0)),
            "b_neurons_matched": int(uniq.size),
            "b_neurons_unmatched": int(b.n_neurons - uniq.size),
            "a_neurons_sharing_a_b_neuron": int(m.size - uniq.size),
            **self.detail,
        }


def _by_ids(a: Connectome, b: Connectome) -> np.ndarray:
    return np.where(np.isin(a.neuron_id, b.neuron_id), a.neuron_id, -1).astype(np.int64)


def majority_owner(channel_lists: list, channel_neuron: np.ndarray) -> np.ndarray:
    """For each neuron's channel list, the neuron that owns most of those channels (−1 if none).

    ``channel_neuron[c]`` is the owner of channel ``c`` (−1: nobody); ties go to
    the smallest owner id.

    Examples
    --------
    >>> majority_owner([[0, 1, 2], [3], []], np.array([7, 7, 8, -1]))
    array([ 7, -1, -1])
    """
    out = np.full(len(channel_lists), -1, np.int64)
    for i, chs in enumerate(channel_lists):
        owners = channel_neuron[np.asarray(chs, np.int64)] if len(chs) else np.zeros(0, np.int64)
        owners = owners[owners >= 0]
        if len(owners):
            vals, cnt = np.unique(owners, return_counts=True)
            out[i] = vals[np.argmax(cnt)]
    return out


def _by_channels(a_ch: list, b_ch: list, b: Connectome) -> np.ndarray:
    top = max([max(c) for c in a_ch + b_ch if c] + [0])
    owner = np.full(top + 1, -1, np.int64)
    for i in range(len(b_ch) - 1, -1, -1):  # a channel listed twice goes to the earlier neuron
        owner[np.asarray(b_ch[i], np.int64)] = b.neuron_id[i]
    return majority_owner(a_ch, owner)


def _by_position(a: Connectome, b: Connectome, max_distance_um: float) -> np.ndarray:
    from scipy.spatial import cKDTree

    pa = np.c_[np.asarray(a.neurons["x_um"], float), np.asarray(a.neurons["y_um"], float)]
    pb = np.c_[np.asarray(b.neurons["x_um"], float), np.asarray(b.neurons["y_um"], float)]
    oka, okb = np.isfinite(pa).all(1), np.isfinite(pb).all(1)
    out = np.full(a.n_neurons, -1, np.int64)
    if not oka.any() or not okb.any():
        return out
    ia, ib = np.flatnonzero(oka), np.flatnonzero(okb)
    near = cKDTree(pb[ib]).query_ball_point(pa[ia], max_distance_um)
    rows = np.repeat(np.arange(len(ia)), [len(v) for v in near])
    cols = np.array([j for v in near for j in v], np.int64)
    dist = np.hypot(*(pa[ia][rows] - pb[ib][cols]).T) if rows.size else np.zeros(0)
    # one-to-one, closest pairs first (ties by A then B order): a deterministic greedy assignment
    used_a, used_b = set(), set()
    for k in np.lexsort((cols, rows, dist)):
        r, col = int(rows[k]), int(cols[k])
        if r in used_a or col in used_b:
            continue
        used_a.add(r)
        used_b.add(col)
        out[ia[r]] = b.neuron_id[ib[col]]
    return out


def match_neurons(
    a: Connectome, b: Connectome, method: str = "auto", max_distance_um: float = 15.0
) -> NeuronMatch:
    """Match A's neurons to B's.

    Parameters
    ----------
    method : {"auto", "ids", "channels", "position"}
        ``ids``: the same neuron id. ``channels``: an A neuron is the B neuron
        that owns most of its channels (the ``channels`` columns; a truth
        file's channel CSR, see :func:`read_with_channels`) — the rule of
        :func:`connectome.evaluate.match_neurons`. ``position``: closest
        ``x_um, y_um`` within ``max_distance_um``, one-to-one, closest pairs
        first. ``auto``: channels when both sides list them (ids of two
        inferences, or of an inference and its truth, need not refer to the
        same cells), else ids when one id set contains the other, else
        position when both have positions.

    Examples
    --------
    >>> a = Connectome(neurons={"neuron_id": [0, 1], "channels": ["5", "7;8"]})
    >>> b = Connectome(neurons={"neuron_id": [10, 11], "channels": ["8;9", "5"]})
    >>> m = match_neurons(a, b)
    >>> m.method, m.b_id.tolist()
    ('channels', [11, 10])
    """
    if method not in MATCH_METHODS:
        raise ValueError(f"unknown matching {method!r}; expected one of {', '.join(MATCH_METHODS)}")
    a_ch, b_ch = channel_lists(a), channel_lists(b)
    has_pos = all(k in c.neurons for c in (a, b) for k in ("x_um", "y_um"))
    sa, sb = set(a.neuron_id.tolist()), set(b.neuron_id.tolist())
    if method == "auto":
        if a_ch is not None and b_ch is not None:
            method, reason = "channels", "both list each neuron's channels"
        elif sa <= sb or sb <= sa:
            method, reason = "ids", ("identical neuron ids" if sa == sb else "one id set contains the other")
        elif has_pos:
            method, reason = "position", "different neuron ids; both have positions"
        elif sa & sb:
            method, reason = (
                "ids",
                f"different neuron ids, no channels or positions: {len(sa & sb)} shared ids",
            )
        else:
            raise ValueError(
                "the two connectomes share no neuron id and lack channels and positions to match on"
            )
    else:
        reason = "requested"
    if method == "channels":
        if a_ch is None or b_ch is None:
            raise ValueError(
                "matching by channels needs a 'channels' column on both sides "
                "(an inference directory or a truth file)"
            )
        return NeuronMatch("channels", reason, _by_channels(a_ch, b_ch, b))
    if method == "position":
        if not has_pos:
            raise ValueError("matching by position needs x_um and y_um on both sides")
        return NeuronMatch(
            "position",
            reason,
            _by_position(a, b, max_distance_um),
            {"max_distance_um": float(max_distance_um)},
        )
    return NeuronMatch("ids", reason, _by_ids(a, b))


# ------------------------------------------------------------------- compare
def _pairs(c: Connectome, pre, post, n_key: int):
    """Representative edge (largest |w|) per unique key; returns keys (sorted) and edge rows."""
    key = pre * n_key + post
    key = np.where((pre >= 0) & (post >= 0), key, -1 - np.arange(len(key)))  # unmatched: each its own pair
    order = np.lexsort((-np.abs(c.edges["weight_mv"]), key))
    k = key[order]
    first = np.r_[True, k[1:] != k[:-1]] if k.size else np.zeros(0, bool)
    return k[first], order[first]


def _f(x):
    return float(x) if x is not None and np.isfinite(x) else None


def compare_connectomes(
    a: Connectome, b: Connectome, match: str = "auto", max_distance_um: float = 15.0
) -> dict:
    """Compare connectome ``a`` (under test) with ``b`` (reference); see the module docstring.

    Returns
    -------
    dict
        ``a``/``b`` (sizes), ``matching`` (method used and counts), ``edges``
        (tp, fp, fn, precision, recall, f1, jaccard, recall_matched_neurons),
        ``by_kind`` (precision by A's kind, recall by B's kind), ``matched``
        (weight correlations, sign/kind agreement, ``kind_confusion[B kind][A kind]``
        counts, median absolute weight and latency differences).
    """
    from scipy import stats

    m = match_neurons(a, b, match, max_distance_um)
    a_to_b = dict(zip(a.neuron_id.tolist(), m.b_id.tolist()))
    n_key = int(max(b.neuron_id.max(initial=0), 0)) + 1
    a_pre = np.array([a_to_b[int(v)] for v in a.edges["pre"]], np.int64)
    a_post = np.array([a_to_b[int(v)] for v in a.edges["post"]], np.int64)
    ka, ea = _pairs(a, a_pre, a_post, n_key)
    kb, eb = _pairs(b, b.edges["pre"].astype(np.int64), b.edges["post"].astype(np.int64), n_key)
    in_b = np.isin(ka, kb)
    tp = int(in_b.sum())
    n_a, n_b = len(ka), len(kb)
    prec = tp / n_a if n_a else None
    rec = tp / n_b if n_b else None
    f1 = 2 * prec * rec / (prec + rec) if prec is not None and rec is not None and prec + rec > 0 else None
    matched_b = np.unique(m.b_id[m.b_id >= 0])
    b_ok = np.isin(b.edges["pre"][eb], matched_b) & np.isin(b.edges["post"][eb], matched_b)
    found_b = np.isin(kb, ka)
    out = {
        "a": {"source": a.meta.get("source"), "neurons": a.n_neurons, "synapses": a.n_edges, "pairs": n_a},
        "b": {
            "source": b.meta.get("source"),
            "neurons": b.n_neurons,
            "synapses": b.n_edges,
            "pairs": n_b,
            "truth": bool(b.meta.get("truth", False)),
        },
        "matching": m.summary(a, b),
        "edges": {
            "true_positives": tp,
            "false_positives": n_a - tp,
            "false_negatives": n_b - tp,
            "precision": _f(prec),
            "recall": _f(rec),
            "f1": _f(f1),
            "jaccard": _f(tp / (n_a + n_b - tp)) if n_a + n_b - tp else None,
            "b_pairs_between_matched_neurons": int(b_ok.sum()),
            "recall_matched_neurons": _f(found_b[b_ok].mean()) if b_ok.any() else None,
        },
    }
    kind_a, kind_b = a.edges["kind"][ea], b.edges["kind"][eb]
    out["by_kind"] = {
        name: {
            "a_pairs": int(np.sum(kind_a == code)),
            "precision": _f(in_b[kind_a == code].mean()) if np.any(kind_a == code) else None,
            "b_pairs": int(np.sum(kind_b == code)),
            "recall": _f(found_b[kind_b == code].mean()) if np.any(kind_b == code) else None,
        }
        for code, name in KIND_NAMES.items()
    }
    # matched pairs, side by side
    ia = ea[in_b]
    ib = eb[np.searchsorted(kb, ka[in_b])]
    wa, wb = a.edges["weight_mv"][ia], b.edges["weight_mv"][ib]
    ka_, kb_ = a.edges["kind"][ia], b.edges["kind"][ib]
    da, db = a.edges["delay_ms"][ia], b.edges["delay_ms"][ib]
    fin = np.isfinite(wa) & np.isfinite(wb)
    mt: dict[str, Any] = {"pairs": tp}
    if fin.sum() >= 3 and np.ptp(wa[fin]) > 0 and np.ptp(wb[fin]) > 0:
        mt["weight_pearson_r"] = _f(stats.pearsonr(wa[fin], wb[fin])[0])
        mt["weight_spearman_r"] = _f(stats.spearmanr(wa[fin], wb[fin])[0])
    else:
        mt["weight_pearson_r"] = mt["weight_spearman_r"] = None
    nz = fin & (wa != 0) & (wb != 0)
    mt["sign_agreement"] = _f(np.mean(np.sign(wa[nz]) == np.sign(wb[nz]))) if nz.any() else None
    mt["kind_agreement"] = _f(np.mean(ka_ == kb_)) if tp else None
    # rows: B's kind, columns: A's kind, over matched pairs
    mt["kind_confusion"] = {
        KIND_NAMES[x]: {KIND_NAMES[y]: int(np.sum((kb_ == x) & (ka_ == y))) for y in KIND_NAMES}
        for x in KIND_NAMES
    }
    mt["median_abs_weight_diff_mv"] = _f(np.median(np.abs(wa[fin] - wb[fin]))) if fin.any() else None
    dfin = np.isfinite(da) & np.isfinite(db)
    mt["median_abs_delay_diff_ms"] = _f(np.median(np.abs(da[dfin] - db[dfin]))) if dfin.any() else None
    out["matched"] = mt
    return out


def compare_paths(path_a, path_b, match: str = "auto", max_distance_um: float = 15.0) -> dict:
    """:func:`compare_connectomes` on two files (inference dirs, edges.csv, GraphML, truth .h5).

    A matching that cannot be made is a :class:`ConnectomeFormatError` naming B.
    """
    a, b = read_with_channels(path_a), read_with_channels(path_b)
    try:
        r = compare_connectomes(a, b, match, max_distance_um)
    except ValueError as exc:
        raise ConnectomeFormatError(str(exc), path_b) from None
    r["a"]["source"], r["b"]["source"] = os.fspath(path_a), os.fspath(path_b)
    return r
