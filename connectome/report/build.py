"""Gather what a report shows from a recording's or a run's output folder.

Everything read here is already on disk: ``infer/`` (summary.json,
neurons.csv, edges.csv), programming maps (``*.map.h5`` / ``*.map.zarr`` and
their ``*.summary.json``), verify reports (``*.verify.json``) and, for the
per-edge drill-down, the recording named in summary.json (read one file chunk
at a time by :func:`connectome.spikes.triggered.spike_triggered_windows`).
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from ..errors import ConnectomeError, ConnectomeFormatError

#: accepted edges whose spike-triggered average is precomputed (the strongest by score)
DEFAULT_MAX_TRACES = 200
#: samples kept per trace (the mean is averaged down to this many points)
TRACE_POINTS = 120
#: degree-preserving null graphs behind the motif z-scores (``connectome inspect`` uses 100 by default)
MOTIF_NULL_SAMPLES = 50
#: synapses drawn in the intended-vs-programmed weight scatter (evenly spaced over the map's synapse table)
SCATTER_POINTS = 2000


def _num(v):
    """A CSV cell as a JSON number (None for NaN/empty), or the string itself."""
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except ValueError:
        return v
    if not math.isfinite(f):
        return None
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else round(f, 6)


def _read_csv(path: Path) -> tuple[list, list]:
    try:
        with open(path, newline="") as fh:
            r = csv.reader(fh)
            header = next(r, None)
            if header is None:
                raise ConnectomeFormatError("empty CSV (no header)", path)
            rows = [[_num(v) for v in row] for row in r]
    except OSError as exc:
        raise ConnectomeFormatError(f"cannot read: {exc.strerror or exc}", path) from None
    bad = next((i for i, row in enumerate(rows) if len(row) != len(header)), None)
    if bad is not None:
        raise ConnectomeFormatError(f"row {bad + 2} has {len(rows[bad])} fields, the header {len(header)}", path)
    return header, rows


def read_json(path: Path) -> dict:
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise ConnectomeFormatError(f"cannot read: {exc.strerror or exc}", path) from None
    except ValueError as exc:
        raise ConnectomeFormatError(f"not valid JSON ({exc})", path) from None
    if not isinstance(doc, dict):
        raise ConnectomeFormatError("not a JSON object", path)
    return doc


def infer_dir_of(outdir) -> Path:
    """The inference folder of ``outdir``: ``outdir`` itself or its ``infer/`` sub-folder."""
    p = Path(outdir)
    if (p / "summary.json").is_file() and (p / "edges.csv").is_file():
        return p
    if (p / "infer" / "summary.json").is_file():
        return p / "infer"
    raise ConnectomeFormatError("not a connectome output folder (no summary.json/edges.csv, nor infer/ with them)",
                                p)


def _maps(folder: Path) -> list:
    """Programming maps beside (or in) the inference folder, with their summaries and tile occupancy."""
    out = []
    for m in sorted(list(folder.glob("*.map.h5")) + list(folder.glob("*.map.zarr"))):
        sp = m.with_name(m.name[: -len(m.suffix)] + ".summary.json")
        summary = read_json(sp) if sp.is_file() else {}
        entry = {"name": m.name, "summary": summary, "tiles": []}
        try:
            from ..io.progmap import read_map

            pm = read_map(m, check_checksums=False)
            entry["tiles"] = _tile_heatmaps(pm)
            entry["layers"] = tile_utilisation_by_layer(pm)
            entry["weights"] = _programmed_weights(pm)
            if not summary:
                entry["summary"] = dict(pm.summary)
        except ConnectomeError as exc:
            entry["error"] = str(exc)
        out.append(entry)
    return out


def _tile_heatmaps(pm, max_tiles: int = 24, bins: int = 32) -> list:
    """Per tile (the first ``max_tiles``): programmed cells per (row, col) bin, its layer and position."""
    cells, tiles = pm.tables["cells"], pm.tables["tiles"]
    rows, cols = int(pm.attrs["rows"]), int(pm.attrs["cols"])
    out = []
    tile_ids = np.asarray(tiles["tile"])
    for k in range(min(max_tiles, tile_ids.size)):
        t = int(tile_ids[k])
        sel = np.asarray(cells["tile"]) == t
        r = np.asarray(cells["row"])[sel]
        c = np.asarray(cells["col"])[sel]
        br, bc = min(bins, rows), min(bins, cols)
        h = np.zeros((br, bc), np.int64)
        np.add.at(h, (r * br // rows, c * bc // cols), 1)
        out.append({"tile": t, "layer": int(np.asarray(tiles["layer"])[k]), "x": int(np.asarray(tiles["x"])[k]),
                    "y": int(np.asarray(tiles["y"])[k]), "cells": int(sel.sum()),
                    "utilisation": round(float(sel.sum()) / (rows * cols), 6), "bins": h.tolist(),
                    "cells_per_bin": (rows // br) * (cols // bc)})
    return out


def tile_utilisation_by_layer(pm) -> list:
    """Every tile's cell utilisation (programmed cells ÷ rows·cols), laid out per layer on its (y, x) position.

    Returns one entry per layer: ``{"layer", "ny", "nx", "utilisation": ny×nx
    list (None where no tile sits), "tiles": ny×nx list of tile ids or None}``.
    """
    cells, tiles = pm.tables["cells"], pm.tables["tiles"]
    rc = int(pm.attrs["rows"]) * int(pm.attrs["cols"])
    tid = np.asarray(tiles["tile"], dtype=np.int64)
    if tid.size == 0:
        return []
    count = np.bincount(np.searchsorted(np.sort(tid), np.asarray(cells["tile"], dtype=np.int64)), minlength=tid.size)
    count = count[np.argsort(np.argsort(tid))]  # back to table order
    layer, ty, tx = (np.asarray(tiles[k], dtype=np.int64) for k in ("layer", "y", "x"))
    out = []
    for lay in np.unique(layer):
        sel = np.flatnonzero(layer == lay)
        ny, nx = int(ty[sel].max()) + 1, int(tx[sel].max()) + 1
        util = [[None] * nx for _ in range(ny)]
        ids = [[None] * nx for _ in range(ny)]
        for k in sel:
            util[ty[k]][tx[k]] = round(float(count[k]) / rc, 6)
            ids[ty[k]][tx[k]] = int(tid[k])
        out.append({"layer": int(lay), "ny": ny, "nx": nx, "utilisation": util, "tiles": ids})
    return out


def _programmed_weights(pm, max_points: int = SCATTER_POINTS) -> dict:
    """Intended vs programmed weight per synapse (at most ``max_points``, evenly spaced; deterministic).

    ``programmed_mv`` is the map's ideal decode (the programmed conductance
    targets: quantisation and clipping, no device noise) and ``read_mv`` what
    the chip reads right after programming (programming spread and read noise
    of the technology, seed 0): :func:`connectome.verify.effective.effective_weights`.
    """
    from ..verify.effective import NonIdealities, effective_weights, physical_cells

    syn = pm.tables["synapses"]
    intended = np.asarray(syn["weight_mv"], dtype=np.float64)
    n = intended.size
    if n == 0:
        return {"n": 0, "shown": 0, "intended_mv": [], "programmed_mv": [], "read_mv": []}
    ew = effective_weights(pm, physical_cells(pm), NonIdealities(), seed=0)
    pick = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(np.int64))

    def r(a):
        return [round(float(v), 6) for v in np.asarray(a)[pick]]

    def pearson(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.size < 2 or a.std() == 0 or b.std() == 0:
            return None
        return round(float(np.corrcoef(a, b)[0, 1]), 6)

    return {"n": int(n), "shown": int(pick.size), "intended_mv": r(intended), "programmed_mv": r(ew.w_ideal),
            "read_mv": r(ew.w_eff), "pearson_programmed": pearson(intended, ew.w_ideal),
            "pearson_read": pearson(intended, ew.w_eff)}


def motif_data(edges_header: list, edges: list, n_neurons: int, null_samples: int = MOTIF_NULL_SAMPLES,
               seed: int = 0) -> dict:
    """Triad census of the accepted edges (any kind joins a pair) with z-scores against a degree-preserving null.

    The 13 connected three-neuron motifs (Milo et al. 2002, Science; Song et
    al. 2005, PLoS Biol), via :func:`connectome.graph.motifs.motif_significance`.
    """
    import scipy.sparse as sp

    from ..graph.motifs import CONNECTED_MOTIFS, motif_significance

    ip, jq = edges_header.index("pre"), edges_header.index("post")
    pre = np.array([int(e[ip]) for e in edges], dtype=np.int64)
    post = np.array([int(e[jq]) for e in edges], dtype=np.int64)
    ids = np.unique(np.concatenate([pre, post]))
    n = max(int(n_neurons), int(ids.size))
    index = {int(v): k for k, v in enumerate(ids)}
    keep = pre != post
    rows = np.array([index[int(v)] for v in pre[keep]], dtype=np.int64)
    cols = np.array([index[int(v)] for v in post[keep]], dtype=np.int64)
    adj = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    adj.data[:] = 1.0
    k = null_samples if adj.nnz >= 2 else 0
    m = motif_significance(adj, null_samples=k, seed=seed)
    names = list(CONNECTED_MOTIFS)

    def f(v):
        return None if v is None or not math.isfinite(v) else round(float(v), 4)

    return {"motifs": names, "counts": [int(m["counts"][t]) for t in names],
            "null_mean": [f(m["null_mean"][t]) for t in names], "z": [f(m["z"][t]) for t in names],
            "null_samples": int(k), "seed": seed}


def _verifies(folder: Path) -> list:
    out = []
    for v in sorted(folder.glob("*.verify.json")):
        doc = read_json(v)
        scalars = {k: x for k, x in doc.items() if isinstance(x, (int, float, str, bool)) or x is None}
        if isinstance(doc.get("weights"), dict):
            scalars.update({f"weights.{k}": x for k, x in doc["weights"].items()
                            if isinstance(x, (int, float)) or x is None})
        deciles = [x for x in doc.get("deciles") or [] if isinstance(x, dict)]
        out.append({"name": v.name, "scalars": scalars, "deciles": deciles})
    return out


def _edge_traces(infer: Path, summary: dict, edges_header: list, edges: list, max_traces: int, log=None) -> dict:
    """Spike-triggered averages of the strongest ``max_traces`` accepted edges, by row index of edges.csv.

    Presynaptic spikes are detected once per presynaptic neuron with the
    inference's own detector; each postsynaptic window is read back from the
    recording (Sakmann & Neher 1984, Annu Rev Physiol 46:455 for the
    spike-triggered average as a measure of a single connection). Returns
    ``{"status": text, "traces": {row: {...}}}``; a missing or unreadable
    recording gives no traces and a status saying why.
    """
    if max_traces <= 0 or not edges:
        return {"status": "not computed (--max-traces 0)" if max_traces <= 0 else "no accepted edges", "traces": {}}
    from ..graph.connectome import Connectome
    from ..io import open_recording
    from ..traces import (
        inference_params,
        neuron_spike_train,
        recording_keywords,
        resolve_recording,
        spike_triggered_windows,
    )

    try:
        con = Connectome.read(infer)
        rec_path = resolve_recording(infer, con)
        rec = open_recording(rec_path, **recording_keywords(con))
    except ConnectomeError as exc:
        return {"status": f"recording not available: {exc}", "traces": {}}
    p = inference_params(con)
    col = {h: i for i, h in enumerate(edges_header)}
    order = sorted(range(len(edges)), key=lambda i: (-(edges[i][col["score"]] or 0.0), i))[:max_traces]
    nid = list(con.neuron_id)
    chans = {}
    neurons = con.neurons
    for i, n in enumerate(nid):
        chans[int(n)] = [int(c) for c in str(neurons["channels"][i]).split(";") if c != ""]
    ap = {int(n): float(neurons["ap_amplitude_mv"][i]) if "ap_amplitude_mv" in neurons else float("nan")
          for i, n in enumerate(nid)}
    spikes = {}
    traces = {}
    window = (-10.0, p.response_ms + 10.0)
    for k, i in enumerate(order):
        pre, post = int(edges[i][col["pre"]]), int(edges[i][col["post"]])
        if pre not in spikes:
            spikes[pre] = neuron_spike_train(rec, chans[pre], p)
        a = ap[post]
        somatic = math.isfinite(a) and a > 0
        w = spike_triggered_windows(rec, spikes[pre], chans[post][0], window_ms=window, baseline_ms=p.baseline_ms,
                                    scale=p.ap_amplitude_mv / a if somatic else 1.0,
                                    reject_above_mv=0.5 * a if somatic else None, n_examples=0)
        lags, mean = np.asarray(w["lags_ms"], float), np.asarray(w["mean"], float)
        step = max(1, int(math.ceil(lags.size / TRACE_POINTS)))
        m = lags.size // step * step
        if m == 0:
            continue
        lg = lags[:m].reshape(-1, step).mean(1)
        mn = np.nanmean(mean[:m].reshape(-1, step), 1) if np.isfinite(mean).any() else np.full(lg.size, np.nan)
        traces[i] = {"lags_ms": [round(float(x), 3) for x in lg],
                     "mean_mv": [None if not math.isfinite(x) else round(float(x), 4) for x in mn],
                     "n": int(w["n"]), "units": "somatic mV" if somatic else "electrode mV"}
        if log is not None and (k + 1) % 50 == 0:
            log(f"traces: {k + 1} of {len(order)}")
    shown = f"{len(traces)} of {len(edges)} accepted edges (strongest by score)"
    return {"status": f"{shown}, read back from {os.path.basename(str(rec_path))}", "traces": traces}


def recording_data(outdir, *, max_traces: int = DEFAULT_MAX_TRACES, log=None) -> dict:
    """Everything the page of one recording shows, as JSON-serialisable data.

    Parameters
    ----------
    outdir : path
        An inference folder (``connectome infer --out``) or a run's recording
        folder holding ``infer/`` and its maps / verify reports.
    max_traces : int
        Accepted edges (strongest by score) whose spike-triggered average is
        read back from the recording for the drill-down; 0 for none.
    """
    outdir = Path(outdir)
    infer = infer_dir_of(outdir)
    summary = read_json(infer / "summary.json")
    nh, neurons = _read_csv(infer / "neurons.csv")
    eh, edges = _read_csv(infer / "edges.csv")
    for need, header, path in ((("neuron_id", "row", "col", "x_um", "y_um"), nh, infer / "neurons.csv"),
                               (("pre", "post", "kind", "weight_mv", "delay_ms", "score"), eh, infer / "edges.csv")):
        missing = [c for c in need if c not in header]
        if missing:
            raise ConnectomeFormatError(f"missing column(s) {', '.join(missing)}", path)
    folder = infer.parent if infer.name == "infer" else infer
    tr = _edge_traces(infer, summary, eh, edges, max_traces, log)
    motifs = motif_data(eh, edges, len(neurons))
    return {"kind": "recording", "title": outdir.resolve().name, "summary": summary, "motifs": motifs,
            "neurons": {"columns": nh, "rows": neurons}, "edges": {"columns": eh, "rows": edges},
            "traces_status": tr["status"], "traces": {str(k): v for k, v in tr["traces"].items()},
            "maps": _maps(folder), "verify": _verifies(folder)}


def batch_data(root) -> dict:
    """The batch page's data: the run manifest and, per recording, the link to its page."""
    root = Path(root)
    man = read_json(root / "run-manifest.json")
    if man.get("format") != "connectome-run-manifest":
        raise ConnectomeFormatError("not a connectome run manifest", root / "run-manifest.json")
    rows = []
    for f in man.get("files", []):
        out = Path(f.get("output") or "")
        name = out.name
        stages = f.get("stages") or {}
        inf = (stages.get("infer") or {}).get("result") or {}
        timings = {k: v.get("seconds") for k, v in stages.items()}
        link = f"{name}/report.html" if (root / name / "report.html").is_file() else None
        rows.append({"name": name, "input": f.get("input"), "status": f.get("status"),
                     "seconds": f.get("seconds"), "stage_seconds": timings,
                     "neurons": inf.get("neurons"), "synapses": inf.get("synapses"),
                     "failed_stage": f.get("failed_stage"), "error": f.get("error"), "link": link,
                     "results": {k: v.get("result") for k, v in stages.items()}})
    return {"kind": "batch", "title": root.resolve().name,
            "manifest": {k: man.get(k) for k in ("connectome_version", "started", "finished", "seconds", "counts",
                                                  "scheduler")},
            "files": rows}
