"""Graph statistics of a :class:`~connectome.graph.Connectome`, on its arrays.

Every function takes a connectome (or its binary adjacency) and returns
plain numbers or dicts, JSON-serialisable. Topology (degrees, reciprocity,
clustering, motifs, connection probability) is measured on the *binary
directed graph of connected pairs*: a pair with several edges (an
electrical and a chemical synapse) counts once, self-loops are ignored,
and ``kinds`` selects which synapse kinds make a pair connected. Weights and
E/I balance use the edges themselves. Definitions are in docs/inspect.md.

Examples
--------
>>> from connectome.graph import Connectome
>>> c = Connectome.from_edges([0, 1, 2, 0], [1, 0, 0, 2], weight_mv=[0.5, 0.4, -1.0, 0.2])
>>> s = graph_statistics(c, null_samples=0)
>>> s["pairs_connected"], s["reciprocity"], s["degree"]["out"]["max"]
(4, 1.0, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .connectome import KIND_CODES, Connectome
from .motifs import binary_csr, motif_significance

#: Quantiles reported for degree and weight distributions.
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def _f(x):
    """A JSON-friendly float: None for NaN/inf."""
    x = float(x)
    return x if np.isfinite(x) else None


def kind_codes(kinds) -> list | None:
    """``["excitatory", "chemical"]`` → kind codes; ``None``/``"all"`` → None (every kind).

    ``chemical`` stands for excitatory and inhibitory.

    >>> kind_codes("chemical"), kind_codes(None)
    ([1, 2], None)
    """
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = [k for k in kinds.replace(" ", "").split(",") if k]
    codes = set()
    for k in kinds:
        k = str(k).lower()
        if k == "all":
            return None
        if k == "chemical":
            codes |= {1, 2}
        elif k in KIND_CODES:
            codes.add(KIND_CODES[k])
        else:
            raise ValueError(
                f"unknown synapse kind {k!r}; expected all, chemical, {', '.join(sorted(KIND_CODES))}"
            )
    return sorted(codes)


def adjacency(c: Connectome, kinds=None) -> sp.csr_matrix:
    """Binary N×N adjacency (int8 CSR, row = pre) of the connected pairs, in neuron-table order.

    >>> c = Connectome.from_edges([0, 0, 1], [1, 1, 1], weight_mv=[1.0, 0.3, 2.0], kind=[1, 3, 1])
    >>> adjacency(c).toarray().tolist()          # parallel edges once, no self-loop
    [[0, 1], [0, 0]]
    """
    codes = kind_codes(kinds)
    mask = np.ones(c.n_edges, bool) if codes is None else np.isin(c.edges["kind"], codes)
    n = c.n_neurons
    if not mask.any():
        return binary_csr(sp.coo_matrix((n, n), dtype=np.int8))
    i = c.index_of(c.edges["pre"][mask])
    j = c.index_of(c.edges["post"][mask])
    return binary_csr(sp.coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n)))


def distribution(values) -> dict:
    """n, mean, SD, min, quantiles (:data:`QUANTILES`) and max of a 1-D sample."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"n": 0}
    q = np.quantile(v, QUANTILES)
    out = {
        "n": int(v.size),
        "mean": _f(v.mean()),
        "sd": _f(v.std(ddof=1)) if v.size > 1 else 0.0,
        "min": _f(v.min()),
    }
    out.update({"median" if p == 0.5 else f"q{int(round(100 * p)):02d}": _f(x) for p, x in zip(QUANTILES, q)})
    out["max"] = _f(v.max())
    return out


def degrees(adj) -> tuple[np.ndarray, np.ndarray]:
    """In- and out-degree of every neuron (connected pairs)."""
    a = sp.csr_matrix(adj)
    return np.asarray(a.sum(axis=0)).ravel().astype(np.int64), np.asarray(a.sum(axis=1)).ravel().astype(
        np.int64
    )


def degree_statistics(adj) -> dict:
    """Distributions of in- and out-degree, and the neurons without inputs, outputs or both."""
    d_in, d_out = degrees(adj)
    out: dict[str, Any] = {
        "in": distribution(d_in),
        "out": distribution(d_out),
        "no_inputs": int(np.sum(d_in == 0)),
        "no_outputs": int(np.sum(d_out == 0)),
        "isolated": int(np.sum((d_in == 0) & (d_out == 0))),
    }
    for k in ("in", "out"):
        if out[k].get("n"):
            out[k]["min"], out[k]["max"] = int(out[k]["min"]), int(out[k]["max"])
    return out


def reciprocity(adj) -> float:
    """Fraction of edges whose reverse edge exists (networkx's ``overall_reciprocity``).

    >>> import numpy as np
    >>> reciprocity(np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]]))
    0.6666666666666666
    """
    a = binary_csr(adj)
    return float(a.multiply(a.T).sum() / a.nnz) if a.nnz else float("nan")


def clustering_coefficients(adj) -> np.ndarray:
    """Per neuron: Fagiolo's (2007) directed clustering coefficient.

    ``c_i = T_i / (d_i (d_i − 1) − 2 d↔_i)`` with ``T_i = ½ [(A + Aᵀ)³]_ii``
    the directed triangles through i, ``d_i`` its total (in + out) degree and
    ``d↔_i`` its reciprocated pairs; 0 where the denominator is 0 — the
    definition of :func:`networkx.clustering` on a directed graph.
    """
    a = binary_csr(adj).astype(np.float64)
    s = (a + a.T).tocsr()
    t = np.asarray((s @ s).multiply(s).sum(axis=1)).ravel() / 2.0  # S symmetric: diag(S³) = Σ_j (S²)_ij S_ji
    d_in, d_out = degrees(a)
    d_tot = d_in + d_out
    d_bi = np.asarray(a.multiply(a.T).sum(axis=1)).ravel()
    den = d_tot * (d_tot - 1) - 2 * d_bi
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, t / np.where(den > 0, den, 1), 0.0)


def average_clustering(adj) -> float:
    """Mean of :func:`clustering_coefficients` over all neurons (zeros included)."""
    c = clustering_coefficients(adj)
    return float(c.mean()) if c.size else float("nan")


def transitivity(adj) -> float:
    """Global clustering of the undirected skeleton: 3 × triangles / connected triples."""
    a = binary_csr(adj)
    u = ((a + a.T) > 0).astype(np.float64).tocsr()
    tri3 = float((u @ u).multiply(u).sum())  # = trace(U³) = 6 × triangles
    d = np.asarray(u.sum(axis=1)).ravel()
    triples = float(np.sum(d * (d - 1)))  # = 2 × connected triples
    return tri3 / triples if triples else float("nan")


def neuron_types(c: Connectome) -> np.ndarray:
    """``excitatory`` / ``inhibitory`` / ``unknown`` per neuron.

    From the ``type`` column (inference output), else ``is_excitatory``
    (truth files), else the sign of the majority of the neuron's outgoing
    chemical synapses.
    """
    n = c.n_neurons
    if "type" in c.neurons:
        t = np.array([str(x) for x in c.neurons["type"]], dtype=object)
        return np.where(np.isin(t, ["excitatory", "inhibitory"]), t, "unknown").astype(object)
    if "is_excitatory" in c.neurons:
        v = np.asarray(c.neurons["is_excitatory"])
        ok = np.isfinite(v.astype(np.float64))
        return np.where(ok, np.where(v.astype(np.float64) > 0, "excitatory", "inhibitory"), "unknown").astype(
            object
        )
    exc = np.zeros(n, np.int64)
    inh = np.zeros(n, np.int64)
    if c.n_edges:
        i = c.index_of(c.edges["pre"])
        np.add.at(exc, i, c.edges["kind"] == 1)
        np.add.at(inh, i, c.edges["kind"] == 2)
    return np.where(exc > inh, "excitatory", np.where(inh > exc, "inhibitory", "unknown")).astype(object)


def ei_balance(c: Connectome) -> dict:
    """Excitation against inhibition: neurons by type, synapses and summed |weight| by sign.

    ``input_ei_ratio`` is, per neuron receiving both, its summed excitatory
    input weight over its summed |inhibitory| input weight (median and
    quartiles over those neurons). ``dale_consistent_fraction``: of neurons
    with outgoing chemical synapses, the fraction whose synapses all share
    one sign.
    """
    types = neuron_types(c)
    k = c.edges["kind"]
    w = c.edges["weight_mv"]
    n_e, n_i = int(np.sum(k == 1)), int(np.sum(k == 2))
    we, wi = float(np.abs(w[k == 1]).sum()), float(np.abs(w[k == 2]).sum())
    out = {
        "neurons": {t: int(np.sum(types == t)) for t in ("excitatory", "inhibitory", "unknown")},
        "excitatory_synapses": n_e,
        "inhibitory_synapses": n_i,
        "excitatory_fraction": _f(n_e / (n_e + n_i)) if n_e + n_i else None,
        "ei_count_ratio": _f(n_e / n_i) if n_i else None,
        "excitatory_weight_sum_mv": we,
        "inhibitory_weight_sum_mv": wi,
        "ei_weight_ratio": _f(we / wi) if wi else None,
    }
    n = c.n_neurons
    if c.n_edges and n:
        post = c.index_of(c.edges["post"])
        pre = c.index_of(c.edges["pre"])
        e_in = np.bincount(post, weights=np.where(k == 1, np.abs(w), 0.0), minlength=n)
        i_in = np.bincount(post, weights=np.where(k == 2, np.abs(w), 0.0), minlength=n)
        both = (e_in > 0) & (i_in > 0)
        r = e_in[both] / i_in[both]
        out["input_ei_ratio"] = {
            "neurons": int(both.sum()),
            "median": _f(np.median(r)) if r.size else None,
            "q25": _f(np.quantile(r, 0.25)) if r.size else None,
            "q75": _f(np.quantile(r, 0.75)) if r.size else None,
            "only_excitatory_input": int(np.sum((e_in > 0) & (i_in == 0))),
            "only_inhibitory_input": int(np.sum((i_in > 0) & (e_in == 0))),
        }
        e_out = np.bincount(pre, weights=(k == 1), minlength=n)
        i_out = np.bincount(pre, weights=(k == 2), minlength=n)
        has = (e_out + i_out) > 0
        out["dale_consistent_fraction"] = (
            _f(np.mean((e_out[has] == 0) | (i_out[has] == 0))) if has.any() else None
        )
    return out


def weight_statistics(c: Connectome) -> dict:
    """Distribution of ``weight_mv`` (signed) and ``delay_ms`` per kind, and of |weight| overall."""
    k = c.edges["kind"]
    w = c.edges["weight_mv"]
    out = {"all_abs_mv": distribution(np.abs(w))}
    for name, code in KIND_CODES.items():
        sel = k == code
        if sel.any():
            out[name] = {
                "weight_mv": distribution(w[sel]),
                "delay_ms": distribution(c.edges["delay_ms"][sel]),
            }
    return out


def _nice_step(x: float) -> float:
    e = 10 ** np.floor(np.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if x <= m * e:
            return float(m * e)
    return float(10 * e)


def wilson_interval(k, n, z: float = 1.96):
    """95 % Wilson score interval of a binomial proportion k/n (arrays; NaN where n = 0)."""
    k = np.asarray(k, np.float64)
    n = np.asarray(n, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def connection_probability_by_distance(
    c: Connectome, bin_um: float | None = None, kinds=None, block: int = 1024
) -> dict | None:
    """P(pre→post connected) for ordered neuron pairs binned by inter-neuron distance.

    Distance is Euclidean between the neurons' ``x_um``/``y_um``. Pairs are
    counted in blocks of rows, so memory stays O(block × N) for any N.

    Parameters
    ----------
    bin_um : float, optional
        Bin width in µm (default: a round number giving about 12 bins).
    kinds : see :func:`kind_codes`.

    Returns
    -------
    dict or None
        ``bin_edges_um``, ``pairs``, ``connected``, ``probability`` and its
        95 % Wilson interval ``ci_low``/``ci_high`` per bin; median distance
        of connected and of all pairs. None when the neurons have no position.

    Examples
    --------
    >>> c = Connectome(neurons={"neuron_id": [0, 1, 2], "x_um": [0.0, 10.0, 100.0], "y_um": [0.0, 0.0, 0.0]},
    ...                edges={"pre": [0], "post": [1], "weight_mv": [1.0]})
    >>> r = connection_probability_by_distance(c, bin_um=50)
    >>> r["pairs"], r["connected"]       # distances 10, 90, 100 µm, each as two ordered pairs
    ([2, 2, 2], [1, 0, 0])
    """
    if "x_um" not in c.neurons or "y_um" not in c.neurons or c.n_neurons < 2:
        return None
    x = np.asarray(c.neurons["x_um"], np.float64)
    y = np.asarray(c.neurons["y_um"], np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return None
    xo, yo = x[ok], y[ok]
    span = float(np.hypot(np.ptp(xo), np.ptp(yo)))
    if bin_um is None:
        bin_um = _nice_step(max(span, 1e-9) / 12)
    if not bin_um > 0:
        raise ValueError("the distance bin must be positive")
    nb = int(np.floor(span / bin_um)) + 1
    edges_um = np.arange(nb + 1) * bin_um
    pairs = np.zeros(nb, np.int64)
    idx = np.flatnonzero(ok)
    for s in range(0, len(idx), block):
        r = idx[s : s + block]
        d = np.hypot(x[r, None] - xo[None, :], y[r, None] - yo[None, :])
        b = np.minimum((d / bin_um).astype(np.int64), nb - 1).ravel()
        pairs += np.bincount(b, minlength=nb)
    # remove the self-pairs (distance 0, bin 0)
    pairs[0] -= len(idx)
    a = adjacency(c, kinds).tocoo()
    keep = ok[a.row] & ok[a.col]
    dc = np.hypot(x[a.row[keep]] - x[a.col[keep]], y[a.row[keep]] - y[a.col[keep]])
    conn = np.bincount(np.minimum((dc / bin_um).astype(np.int64), nb - 1), minlength=nb)
    lo, hi = wilson_interval(conn, pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = conn / pairs
    # median over all pairs from the histogram (exact to a bin), over connected pairs exactly
    cum = np.cumsum(pairs)
    k = int(np.searchsorted(cum, cum[-1] / 2)) if cum[-1] else 0
    return {
        "bin_um": float(bin_um),
        "bin_edges_um": [float(v) for v in edges_um],
        "pairs": pairs.tolist(),
        "connected": conn.tolist(),
        "probability": [_f(v) for v in p],
        "ci_low": [_f(v) for v in lo],
        "ci_high": [_f(v) for v in hi],
        "median_distance_connected_um": _f(np.median(dc)) if dc.size else None,
        "median_distance_all_pairs_bin_um": [float(edges_um[k]), float(edges_um[k + 1])],
        "neurons_without_position": int((~ok).sum()),
    }


def graph_statistics(
    c: Connectome,
    *,
    seed: int = 0,
    null_samples: int = 100,
    swaps_per_edge: float = 10.0,
    distance_bin_um: float | None = None,
    kinds=None,
) -> dict:
    """Every statistic of ``connectome inspect``, as one JSON-serialisable dict.

    Parameters
    ----------
    c : Connectome
    seed : int
        Seed of the motif null model (same seed → identical output).
    null_samples : int
        Degree-preserving random graphs for motif z-scores (0: counts only).
    swaps_per_edge : float
        Edge-swap attempts per edge for each null graph.
    distance_bin_um : float, optional
        Bin width of the connection-probability-vs-distance profile.
    kinds : str or list, optional
        Synapse kinds that make a pair connected for the topology statistics
        (``all`` by default; ``chemical``; a comma-separated list of kinds).

    Examples
    --------
    >>> c = Connectome.from_edges([0, 1, 2], [1, 2, 0], weight_mv=[1.0, 1.0, 1.0])   # a directed 3-cycle
    >>> s = graph_statistics(c, null_samples=0)
    >>> s["motifs"]["counts"]["030C"], s["clustering"]["average"], s["clustering"]["transitivity"]
    (1, 0.5, 1.0)
    """
    a = adjacency(c, kinds)
    n = c.n_neurons
    m_pairs = int(a.nnz)
    codes = kind_codes(kinds)
    out = {
        "neurons": n,
        "synapses": c.n_edges,
        "by_kind": c.counts_by_kind(),
        "topology_kinds": "all" if codes is None else [k for k, v in KIND_CODES.items() if v in codes],
        "pairs_connected": m_pairs,
        "density": _f(m_pairs / (n * (n - 1))) if n > 1 else None,
        "self_loops_ignored": int(np.sum(c.edges["pre"] == c.edges["post"])),
        "degree": degree_statistics(a),
        "reciprocity": _f(reciprocity(a)),
        "clustering": {"average": _f(average_clustering(a)), "transitivity": _f(transitivity(a))},
    }
    extra = {"reciprocity": reciprocity, "clustering_average": average_clustering} if m_pairs else {}
    mot = motif_significance(
        a,
        null_samples=null_samples if m_pairs >= 2 else 0,
        seed=seed,
        swaps_per_edge=swaps_per_edge,
        extra=extra,
    )
    for k in ("null_mean", "null_sd", "z"):
        mot[k] = {t: _f(v) if v is not None else None for t, v in mot[k].items()}
    for e in mot["extra"].values():
        for k in list(e):
            e[k] = _f(e[k]) if e[k] is not None else None
    out["null_model"] = mot.pop("extra")
    out["motifs"] = mot
    out["ei"] = ei_balance(c)
    out["weights"] = weight_statistics(c)
    out["distance"] = connection_probability_by_distance(c, distance_bin_um, kinds)
    return out
