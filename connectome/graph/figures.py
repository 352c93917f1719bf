"""Figures of a connectome (matplotlib, no display needed).

Every ``plot_*`` function draws onto a new :class:`matplotlib.figure.Figure`
(no pyplot state, so it works from threads and never opens a window) and
returns it; :func:`save_figure` writes PNG and SVG atomically, with fixed
SVG ids and no timestamps (same input → same files); :func:`write_figures`
makes the whole set of ``connectome inspect --figures``. What each figure
shows is described in docs/inspect.md.

Examples
--------
>>> from connectome.graph import Connectome
>>> c = Connectome.from_edges([0, 1], [1, 2], weight_mv=[0.5, -0.3])
>>> fig = plot_weights(c)
>>> len(fig.axes)
2
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import atomic_path
from .analysis import adjacency, connection_probability_by_distance, degrees, kind_codes, neuron_types
from .connectome import KIND_CODES, Connectome
from .motifs import CONNECTED_MOTIFS, MOTIF_EDGES

#: Colours: excitatory red, inhibitory blue, electrical green, unknown grey.
KIND_COLOURS = {
    "excitatory": "#c0392b",
    "inhibitory": "#2e64b5",
    "electrical": "#2a9d4b",
    "unknown": "#8a8a8a",
}
_TYPE_ORDER = ("excitatory", "inhibitory", "unknown")
_TYPE_LETTER = {"excitatory": "E", "inhibitory": "I", "unknown": "?"}


def _figure(w: float = 6.4, h: float = 4.8, **kw):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained", **kw)


def save_figure(fig, out_dir, name: str, formats=("png", "svg"), dpi: int = 150) -> list[Path]:
    """Write ``out_dir/name.png`` and ``.svg`` (each via a temporary name, then renamed)."""
    import matplotlib

    out_dir = Path(out_dir)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        meta = {"Date": None} if fmt == "svg" else {}
        with matplotlib.rc_context({"svg.hashsalt": f"connectome-{name}"}), atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta)
        paths.append(path)
    return paths


def neuron_order(c: Connectome) -> np.ndarray:
    """Neuron-table rows ordered by type (excitatory, inhibitory, unknown), then position (y, x), then id."""
    types = neuron_types(c)
    rank = np.array([_TYPE_ORDER.index(t) for t in types]) if c.n_neurons else np.zeros(0, int)
    y = np.asarray(c.neurons.get("y_um", np.zeros(c.n_neurons)), np.float64)
    x = np.asarray(c.neurons.get("x_um", np.zeros(c.n_neurons)), np.float64)
    return np.lexsort((c.neuron_id, np.nan_to_num(x, nan=np.inf), np.nan_to_num(y, nan=np.inf), rank))


def _weight_limit(w) -> float:
    w = np.abs(np.asarray(w, np.float64))
    w = w[np.isfinite(w) & (w > 0)]
    return float(np.quantile(w, 0.98)) if w.size else 1.0


def plot_adjacency(c: Connectome, max_dense: int = 3000):
    """Adjacency matrix (row = pre, column = post) ordered by type then position; colour = signed weight."""
    import matplotlib.colors as mcolors

    n = c.n_neurons
    order = neuron_order(c)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    types = neuron_types(c)[order]
    fig = _figure(7.2, 6.2)
    ax = fig.add_subplot()
    k = c.edges["kind"]
    chem = k != 3
    i = rank[c.index_of(c.edges["pre"])] if c.n_edges else np.zeros(0, np.int64)
    j = rank[c.index_of(c.edges["post"])] if c.n_edges else np.zeros(0, np.int64)
    w = c.edges["weight_mv"]
    lim = _weight_limit(w[chem])
    norm = mcolors.TwoSlopeNorm(vmin=-lim, vcenter=0.0, vmax=lim)
    if n <= max_dense:
        m = np.full((n, n), np.nan, np.float32)
        m[i[chem], j[chem]] = w[chem]
        im = ax.imshow(
            m,
            cmap="RdBu_r",
            norm=norm,
            interpolation="nearest",
            origin="upper",
            extent=(-0.5, n - 0.5, n - 0.5, -0.5),
        )
    else:
        im = ax.scatter(j[chem], i[chem], c=w[chem], cmap="RdBu_r", norm=norm, s=1, marker="s", linewidths=0)
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(n - 0.5, -0.5)
    ax.set_facecolor("#f4f4f4")
    if (~chem).any():
        ax.scatter(
            j[~chem],
            i[~chem],
            marker="o",
            s=max(4.0, min(40.0, 4000.0 / max(n, 1))),
            facecolors="none",
            edgecolors=KIND_COLOURS["electrical"],
            linewidths=1.0,
            label=f"electrical ({int((~chem).sum())})",
        )
        ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    cb = fig.colorbar(im, ax=ax, shrink=0.8, extend="both")
    cb.set_label("chemical synapse weight (mV, PSP peak at the soma)")
    # type blocks
    for t in _TYPE_ORDER:
        sel = np.flatnonzero(types == t)
        if sel.size and sel.size < n:
            for edge in (sel[0] - 0.5, sel[-1] + 0.5):
                if 0 < edge + 0.5 < n:
                    ax.axhline(edge, color="k", lw=0.6)
                    ax.axvline(edge, color="k", lw=0.6)
        if sel.size:
            mid = (sel[0] + sel[-1]) / 2
            ax.annotate(
                _TYPE_LETTER[t],
                (mid, -0.5),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                fontweight="bold",
                color=KIND_COLOURS[t],
                annotation_clip=False,
            )
    if n <= 30:
        ax.set_xticks(np.arange(n), [str(v) for v in c.neuron_id[order]], fontsize=7)
        ax.set_yticks(np.arange(n), [str(v) for v in c.neuron_id[order]], fontsize=7)
        ax.set_xlabel("postsynaptic neuron (id)")
        ax.set_ylabel("presynaptic neuron (id)")
    else:
        ax.set_xlabel("postsynaptic neuron (rank: type, then y, x)")
        ax.set_ylabel("presynaptic neuron (rank: type, then y, x)")
    blocks = ", ".join(
        f"{_TYPE_LETTER[t]} {int(np.sum(types == t))}" for t in _TYPE_ORDER if np.any(types == t)
    )
    ax.set_title(
        f"Adjacency: {n} neurons, {c.n_edges} synapses\n"
        f"blocks by neuron type ({blocks}; ? = unknown), by position within",
        fontsize=10,
        pad=16,
    )
    return fig


def plot_grid(c: Connectome, electrodes=None, max_arrows: int = 400):
    """Neurons and synapses drawn on the electrode grid (µm); ``electrodes``: (x_um, y_um) per channel."""
    fig = _figure(6.6, 7.4)
    ax = fig.add_subplot()
    ok_count = 0
    if "x_um" not in c.neurons or "y_um" not in c.neurons:
        ax.text(
            0.5,
            0.5,
            "neurons have no position (x_um, y_um)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    x = np.asarray(c.neurons["x_um"], np.float64)
    y = np.asarray(c.neurons["y_um"], np.float64)
    if electrodes is not None:
        ex, ey = (np.asarray(v, np.float64) for v in electrodes)
        ax.scatter(
            ex,
            ey,
            marker="s",
            s=max(2.0, min(30.0, 6000.0 / max(len(ex), 1))),
            color="#d9d9d9",
            linewidths=0,
            zorder=0,
        )
    types = neuron_types(c)
    d_in, d_out = degrees(adjacency(c))
    deg = d_in + d_out
    n = c.n_neurons
    base = max(8.0, min(60.0, 4000.0 / max(n, 1)))
    size = base * (0.5 + deg / max(1, deg.max()) * 1.5) if n else np.zeros(0)
    if c.n_edges:
        ok_count = _draw_synapses(ax, c, x, y, max_arrows)
    _draw_neurons(ax, c, x, y, types, size)
    _grid_legend(fig, c, types, electrodes is not None)
    # equal scales by widening the data limits, not by shrinking the box: a shrunk box moves
    # the title out of the space constrained layout reserved for it (it was clipped at the top)
    ax.set_aspect("equal", adjustable="datalim")
    ax.invert_yaxis()  # row 0 of the array at the top, as the chip is drawn
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    how = "arrows pre → post, width ∝ |weight|" if ok_count <= max_arrows else "lines (too many for arrows)"
    ax.set_title(
        f"{n} neurons on the array (marker size ∝ degree)\n{c.n_edges} synapses as {how}", fontsize=10
    )
    return fig


def _draw_synapses(ax, c: Connectome, x, y, max_arrows: int) -> int:
    """Synapses as arrows (up to ``max_arrows``) or as faint lines; returns how many could be drawn."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import FancyArrowPatch

    pi = c.index_of(c.edges["pre"])
    qi = c.index_of(c.edges["post"])
    kinds = c.kind_names()
    w = np.abs(c.edges["weight_mv"])
    lim = _weight_limit(w)
    alpha = np.clip(0.25 + 0.6 * w / lim, 0.25, 0.85)
    ok = np.isfinite(x[pi]) & np.isfinite(y[pi]) & np.isfinite(x[qi]) & np.isfinite(y[qi]) & (pi != qi)
    order = np.argsort(w)  # strongest on top
    ok_count = int(ok.sum())
    if ok_count <= max_arrows:
        for e in order[ok[order]]:
            ax.add_patch(
                FancyArrowPatch(
                    (x[pi[e]], y[pi[e]]),
                    (x[qi[e]], y[qi[e]]),
                    arrowstyle="-|>",
                    mutation_scale=8,
                    lw=0.6 + 1.4 * min(1.0, w[e] / lim),
                    color=KIND_COLOURS[kinds[e]],
                    alpha=float(alpha[e]),
                    shrinkA=3,
                    shrinkB=4,
                    connectionstyle="arc3,rad=0.12",
                    zorder=1,
                )
            )
    else:
        sel = order[ok[order]]
        segs = np.stack([np.c_[x[pi[sel]], y[pi[sel]]], np.c_[x[qi[sel]], y[qi[sel]]]], axis=1)
        cols = [KIND_COLOURS[k] for k in kinds[sel]]
        # fainter the more lines there are, so that density (not overdraw) shows
        ax.add_collection(
            LineCollection(
                segs,  # type: ignore[arg-type]  # an (n, 2, 2) array is a sequence of segments
                colors=cols, linewidths=0.4, alpha=min(0.35, 8 / np.sqrt(len(sel))), zorder=1,
            )
        )
    return ok_count


def _draw_neurons(ax, c: Connectome, x, y, types, size) -> None:
    """Neurons as markers coloured by type (sized by degree), labelled with their ids when few."""
    n = c.n_neurons
    for t in _TYPE_ORDER:
        sel = types == t
        if sel.any():
            ax.scatter(
                x[sel], y[sel], s=size[sel], color=KIND_COLOURS[t], edgecolors="k", linewidths=0.5, zorder=2
            )
    if n <= 40:
        for k in range(n):
            if np.isfinite(x[k]) and np.isfinite(y[k]):
                ax.annotate(
                    str(c.neuron_id[k]),
                    (x[k], y[k]),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize=7,
                    zorder=3,
                )


def _grid_legend(fig, c: Connectome, types, electrodes: bool) -> None:
    """The legend of :func:`plot_grid`: neuron types, synapse kinds, electrodes."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=KIND_COLOURS[t],
            markeredgecolor="k",
            label=f"{t} neuron ({int(np.sum(types == t))})",
        )
        for t in _TYPE_ORDER
        if np.any(types == t)
    ]
    counts = c.counts_by_kind()
    handles += [
        Line2D([], [], color=KIND_COLOURS[k], lw=1.5, label=f"{k} synapse ({v})")
        for k, v in counts.items()
        if v
    ]
    if electrodes:
        handles.append(Line2D([], [], marker="s", ls="", color="#d9d9d9", label="electrode"))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)


def plot_degrees(c: Connectome, kinds=None):
    """Histograms of in- and out-degree (connected pairs), with mean and median marked."""
    d_in, d_out = degrees(adjacency(c, kinds))
    fig = _figure(8.0, 3.6)
    axes = fig.subplots(1, 2, sharey=True)
    top = int(max(d_in.max(initial=0), d_out.max(initial=0)))
    bins = np.arange(-0.5, top + 1.5, max(1, int(np.ceil((top + 1) / 40))))
    for ax, d, name in (
        (axes[0], d_in, "in-degree (presynaptic partners)"),
        (axes[1], d_out, "out-degree (postsynaptic partners)"),
    ):
        ax.hist(d, bins=bins, color="#6c7a89", edgecolor="white", linewidth=0.5)
        if d.size:
            ax.axvline(d.mean(), color="k", lw=1.2, label=f"mean {d.mean():.2f}")
            ax.axvline(np.median(d), color="k", lw=1.2, ls="--", label=f"median {np.median(d):g}")
            ax.legend(fontsize=8)
        ax.set_xlabel(name)
    axes[0].set_ylabel("neurons")
    kn = "all kinds" if kind_codes(kinds) is None else str(kinds)
    fig.suptitle(f"Degree distributions ({c.n_neurons} neurons, synapses of {kn})", fontsize=10)
    return fig


def plot_weights(c: Connectome):
    """Histograms of synapse weight (signed mV) and latency (ms) per kind."""
    fig = _figure(8.0, 3.6)
    axes = fig.subplots(1, 2)
    k = c.kind_names()
    w = c.edges["weight_mv"]
    d = c.edges["delay_ms"]
    for ax, v, label in ((axes[0], w, "weight (mV, PSP peak at the soma)"), (axes[1], d, "latency (ms)")):
        fin = np.isfinite(v)
        if fin.any():
            bins = np.histogram_bin_edges(v[fin], bins=min(40, max(5, int(np.sqrt(fin.sum())) + 1)))
            for name in KIND_CODES:
                sel = fin & (k == name)
                if sel.any():
                    ax.hist(
                        v[sel],
                        bins=bins,
                        histtype="stepfilled",
                        alpha=0.45,
                        color=KIND_COLOURS[name],
                        edgecolor=KIND_COLOURS[name],
                        label=f"{name} ({int(sel.sum())})",
                    )
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(label)
        ax.set_ylabel("synapses")
    axes[0].axvline(0, color="k", lw=0.6)
    fig.suptitle(f"Weights and latencies of {c.n_edges} synapses", fontsize=10)
    return fig


def plot_distance(c: Connectome, bin_um: float | None = None, kinds=None):
    """Connection probability against inter-neuron distance (95 % Wilson intervals), and pairs per bin."""
    fig = _figure(7.0, 5.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    curves = [("all" if kind_codes(kinds) is None else str(kinds), kinds, "k")]
    if kind_codes(kinds) is None:
        curves += [
            (k, k, KIND_COLOURS[k]) for k in ("excitatory", "inhibitory") if np.any(c.kind_names() == k)
        ]
    ref: dict[str, Any] = {}
    for t, (label, kd, colour) in enumerate(curves):
        r = connection_probability_by_distance(c, bin_um, kd)
        if r is None:
            top.text(
                0.5,
                0.5,
                "neurons have no position (x_um, y_um)",
                ha="center",
                va="center",
                transform=top.transAxes,
            )
            top.set_axis_off()
            bottom.set_axis_off()
            return fig
        ref = ref or r
        e = np.asarray(r["bin_edges_um"])
        mid = (e[:-1] + e[1:]) / 2 + (t - (len(curves) - 1) / 2) * 0.06 * r["bin_um"]
        p = np.array([np.nan if v is None else v for v in r["probability"]])
        lo = np.array([np.nan if v is None else v for v in r["ci_low"]])
        hi = np.array([np.nan if v is None else v for v in r["ci_high"]])
        top.errorbar(
            mid,
            p,
            yerr=[np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)],
            fmt="o-",
            ms=4,
            lw=1.2,
            capsize=2,
            color=colour,
            label=f"{label} ({int(np.sum(r['connected']))} connected pairs)",
        )
    top.set_ylabel("P(pre → post connected)")
    # scale to bins with enough pairs: a bin of 4 pairs has an interval of ±0.5
    big = np.asarray(ref["pairs"]) >= 30
    his = [v for v, b in zip(ref["ci_high"], big) if b and v is not None] + [
        v for v in ref["probability"] if v is not None
    ]
    top.set_ylim(0, min(1.0, 1.15 * max(his + [1e-3])))
    top.legend(fontsize=8)
    top.set_title(
        "Connection probability vs distance (ordered pairs; bars: 95 % Wilson interval)", fontsize=10
    )
    e = np.asarray(ref["bin_edges_um"])
    bottom.bar((e[:-1] + e[1:]) / 2, ref["pairs"], width=0.9 * ref["bin_um"], color="#b0b8c0")
    bottom.set_ylabel("pairs")
    bottom.set_xlabel("distance between neurons (µm)")
    return fig


def plot_motifs(motifs: dict):
    """z-scores of the 13 connected triad motifs against the degree-preserving null, counts above the bars."""
    fig = _figure(8.4, 5.0)
    names = list(CONNECTED_MOTIFS)
    gs = fig.add_gridspec(2, len(names), height_ratios=(5, 1))
    ax = fig.add_subplot(gs[0, :])
    for k, m in enumerate(names):
        _draw_triad(fig.add_subplot(gs[1, k]), m)
    z = np.array([np.nan if motifs["z"].get(m) is None else motifs["z"][m] for m in names], np.float64)
    counts = [motifs["counts"][m] for m in names]
    x = np.arange(len(names))
    colours = np.where(z > 2, "#c0392b", np.where(z < -2, "#2e64b5", "#9aa5b1"))
    ax.bar(x, np.nan_to_num(z), color=colours)
    for xi, zi, ni in zip(x, z, counts):
        txt = f"{ni}" if np.isfinite(zi) else f"{ni}\n(no z)"
        yv = np.nan_to_num(zi)
        ax.annotate(
            txt,
            (xi, yv),
            xytext=(0, 3 if yv >= 0 else -3),
            textcoords="offset points",
            ha="center",
            va="bottom" if yv >= 0 else "top",
            fontsize=7,
        )
    for h in (-2, 2):
        ax.axhline(h, color="k", lw=0.6, ls=":")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_xlabel(
        "triad type (Holland–Leinhardt: counts of mutual, asymmetric, null pairs + variant)", fontsize=9
    )
    ax.set_ylabel("z-score vs null")
    lo, hi = np.nanmin(np.r_[z, -3]), np.nanmax(np.r_[z, 3])
    ax.set_ylim(lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo))
    ax.set_title(
        f"3-neuron motifs against {motifs['null_samples']} degree-preserving random graphs "
        f"(seed {motifs['seed']}); numbers: counts",
        fontsize=10,
    )
    return fig


def _draw_triad(ax, name: str) -> None:
    """A small drawing of one triad type (arrows pre → post; double-headed = reciprocal pair)."""
    from matplotlib.patches import FancyArrowPatch

    pos = np.array([(0.5, 0.92), (0.08, 0.12), (0.92, 0.12)])
    edges = set(MOTIF_EDGES[name])
    done = set()
    for a, b in sorted(edges):
        if (a, b) in done:
            continue
        mutual = (b, a) in edges
        done |= {(a, b), (b, a)}
        ax.add_patch(
            FancyArrowPatch(
                pos[a],
                pos[b],
                arrowstyle="<|-|>" if mutual else "-|>",
                mutation_scale=7,
                lw=0.9,
                color="k",
                shrinkA=4,
                shrinkB=4,
            )
        )
    ax.scatter(pos[:, 0], pos[:, 1], s=14, color="#6c7a89", zorder=3)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_aspect("equal")
    ax.set_axis_off()


def plot_pair(tr):
    """Spike-triggered membrane potential of POST around PRE's spikes: mean ± SEM, trials, the estimate."""
    fig = _figure(7.0, 5.0)
    ax = fig.add_subplot()
    t = tr.lags_ms
    for k, row in enumerate(tr.trials_mv):
        ax.plot(t, row, color="#9aa5b1", lw=0.6, alpha=0.8, label="single trials" if k == 0 else None)
    ax.fill_between(
        t, tr.mean_mv - tr.sem_mv, tr.mean_mv + tr.sem_mv, color="#c0392b", alpha=0.25, lw=0, label="± SEM"
    )
    ax.plot(t, tr.mean_mv, color="#c0392b", lw=1.8, label=f"mean of {tr.n_trials} trials")
    ax.axvspan(*tr.baseline_ms, color="#eeeeee", zorder=0, label="baseline")
    ax.axvline(0, color="k", lw=0.8)
    ax.axhline(0, color="k", lw=0.5)
    e = tr.edge or {}
    if e.get("delay_ms") is not None and np.isfinite(e["delay_ms"]):
        what = f"{e['kind']} synapse" if e.get("accepted") else "not a synapse (best window)"
        ax.axvline(
            e["delay_ms"], color="#2a6f4b", lw=1.2, ls="--", label=f"inferred latency {e['delay_ms']:.2f} ms"
        )
        ax.axhline(
            e["weight_mv"],
            color="#2a6f4b",
            lw=1.2,
            ls=":",
            label=f"inferred weight {e['weight_mv']:+.2f} mV ({what})",
        )
    ax.set_xlim(t[0], t[-1])
    mm = np.r_[tr.mean_mv - tr.sem_mv, tr.mean_mv + tr.sem_mv]
    mm = mm[np.isfinite(mm)]
    if mm.size:
        span = max(mm.max() - mm.min(), 0.1)
        lo, hi = mm.min() - 0.8 * span, mm.max() + 0.8 * span
        ax.set_ylim(lo, hi)  # single trials may leave the frame: the mean is the point
    ax.set_xlabel("time from presynaptic action potential (ms)")
    ax.set_ylabel(f"postsynaptic potential ({tr.units})\nbaseline subtracted")
    ex = tr.excluded
    ax.set_title(
        f"Neuron {tr.pre} → {tr.post} (pre channels {', '.join(map(str, tr.pre_channels))}; "
        f"post channel {tr.post_channel})\n{tr.n_trials} of {tr.n_pre_spikes} presynaptic spikes used; "
        f"left out: {ex.get('post_spike', 0)} with a post AP, {ex.get('bad_samples', 0)} with bad samples, "
        f"{ex.get('recording_edge', 0)} at the ends",
        fontsize=9,
    )
    fig.legend(loc="outside lower center", ncol=3, fontsize=7, frameon=False)
    return fig


def write_figures(
    c: Connectome,
    out_dir,
    stats: dict | None = None,
    *,
    electrodes=None,
    pair=None,
    kinds=None,
    distance_bin_um=None,
) -> list[Path]:
    """Write every figure of ``connectome inspect`` into ``out_dir`` as PNG and SVG.

    Parameters
    ----------
    c : Connectome
    out_dir : path
    stats : dict, optional
        :func:`~connectome.graph.analysis.graph_statistics` output (for the motif figure).
    electrodes : (x_um, y_um), optional
        Channel positions, drawn under the neurons.
    pair : PairTraces, optional
        Adds ``pair_PRE_POST``.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    figs = [
        ("adjacency", lambda: plot_adjacency(c)),
        ("grid", lambda: plot_grid(c, electrodes)),
        ("degrees", lambda: plot_degrees(c, kinds)),
        ("weights", lambda: plot_weights(c)),
        ("distance", lambda: plot_distance(c, distance_bin_um, kinds)),
    ]
    if stats is not None and stats.get("motifs", {}).get("null_samples"):
        figs.append(("motifs", lambda: plot_motifs(stats["motifs"])))
    if pair is not None:
        figs.append((f"pair_{pair.pre}_{pair.post}", lambda: plot_pair(pair)))
    for name, make in figs:
        made += save_figure(make(), out_dir, name)
    return made


__all__ = [
    "KIND_COLOURS",
    "neuron_order",
    "plot_adjacency",
    "plot_degrees",
    "plot_distance",
    "plot_grid",
    "plot_motifs",
    "plot_pair",
    "plot_weights",
    "save_figure",
    "write_figures",
]
