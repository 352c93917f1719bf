"""Connectome files at the level of columns: ``neurons.csv``/``edges.csv``, GraphML, truth HDF5.

The readers return :class:`Parts` (the neuron and edge columns, provenance and
the file they came from) and the writers take any object with a
:class:`~connectome.graph.connectome.Connectome`'s attributes, so that this
module needs no import of the class: :mod:`.connectome` builds on it and
:mod:`.formats` offers the user-facing functions that return connectomes.

CSV layout (docs/formats.md, "Inference output directory"):

- ``neurons.csv``: ``neuron_id, channels`` (``;``-separated channel indices),
  then ``row, col, x_um, y_um, n_spikes, rate_hz`` and any further columns.
- ``edges.csv``: ``pre, post, kind, weight_mv, delay_ms, score, p_value,
  q_value`` and any further columns; ``kind`` is a word.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConnectomeFormatError
from ..io.atomic import atomic_path
from .kinds import KIND_CODES

EDGE_ORDER = ["pre", "post", "kind", "weight_mv", "delay_ms", "score", "p_value", "q_value"]
NEURON_ORDER = ["neuron_id", "channels", "row", "col", "x_um", "y_um", "n_spikes", "rate_hz"]
#: Every column ``infer`` writes to ``edges.csv``, in file order, with its dtype (``object``: text).
#: An empty table is written with all of them, so the header does not depend on the number of rows.
EDGE_SCHEMA = {
    "pre": np.int64,
    "post": np.int64,
    "kind": object,
    "weight_mv": np.float64,
    "delay_ms": np.float64,
    "score": np.float64,
    "p_value": np.float64,
    "q_value": np.float64,
    "subclass": object,
    "n_spikes_used": np.int64,
    "rise_ms": np.float64,
    "decay_ms": np.float64,
    "single_trial_snr": np.float64,
    "bidirectional": np.int8,
    "weight_electrode_mv": np.float64,
    "spikelet_z": np.float64,
    "joint_z": np.float64,
    "weight_rested_mv": np.float64,
    "junction_z": np.float64,
    "weight_quiet_mv": np.float64,
}
#: Every column ``infer`` writes to ``neurons.csv``, in file order, with its dtype.
NEURON_SCHEMA = {
    "neuron_id": np.int64,
    "channels": object,
    "row": np.int64,
    "col": np.int64,
    "x_um": np.float64,
    "y_um": np.float64,
    "n_spikes": np.int64,
    "rate_hz": np.float64,
    "ap_amplitude_mv": np.float64,
    "snr": np.float64,
    "n_excitatory_out": np.int64,
    "n_inhibitory_out": np.int64,
    "dale_consistency": np.float64,
    "type": object,
}
_STRING_EDGE_COLS = {"kind", "subclass"}
_STRING_NEURON_COLS = {"channels", "type"}


@dataclass
class Parts:
    """What a reader found: neuron and edge columns (or a networkx graph, for GraphML) and provenance."""

    path: Path
    neurons: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    graph: object = None  # a networkx graph read from GraphML, turned into columns by the caller


# ----------------------------------------------------------------------- read
def read_parts(path) -> Parts:
    """The columns of a connectome in an inference directory, ``edges.csv``, GraphML or a truth file."""
    p = Path(path)
    if not p.exists():
        if p.is_symlink():
            raise ConnectomeFormatError("a symbolic link to nothing (broken, or a loop)", p)
        raise ConnectomeFormatError("no such file or directory", p)
    if p.is_dir():
        if (p / "edges.csv").exists():
            return read_csv_dir(p)
        if (p / "connectome.graphml").exists():
            return read_graphml(p / "connectome.graphml")
        raise ConnectomeFormatError("directory has neither edges.csv nor connectome.graphml", p)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return read_csv_dir(p.parent, edges_path=p)
    if suffix in (".graphml", ".xml"):
        return read_graphml(p)
    if suffix in (".h5", ".hdf5"):
        return read_truth(p)
    raise ConnectomeFormatError(
        "unknown connectome file type (expected a directory, .csv, .graphml or .truth.h5)", p
    )


def _empty_dtype(dt):
    """The dtype of an empty column: text as numpy str (pandas then gives it the text dtype it
    gives a column of words), everything else as it is."""
    return np.dtype(str) if dt is object else dt


def _read_table(path: Path, string_cols: set, kind_col: bool) -> dict:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except IsADirectoryError:
        raise ConnectomeFormatError("is a directory, expected a CSV file", path) from None
    except OSError as exc:
        raise ConnectomeFormatError(f"cannot read ({exc.strerror or exc})", path) from None
    text = raw.decode("utf-8", "replace")
    first, _, body = text.partition("\n")
    header = [h.strip() for h in first.strip().split(",")]
    if not header or header == [""]:
        raise ConnectomeFormatError("empty CSV (no header)", path)
    body = body.strip("\n")
    if not body:  # no rows: each known column gets its dtype (as it would with rows)
        schema = {**NEURON_SCHEMA, **EDGE_SCHEMA}
        return {h: np.zeros(0, dtype=_empty_dtype(schema.get(h, np.float64))) for h in header}
    out = {}
    text_cols = [i for i, h in enumerate(header) if h in string_cols and not (kind_col and h == "kind")]
    if text_cols:  # slow path, only for free-text columns
        try:
            rows = list(csv.reader(io.StringIO(body)))
        except csv.Error as exc:
            raise ConnectomeFormatError(f"malformed CSV ({exc})", path) from None
        for i in text_cols:
            try:
                out[header[i]] = np.array([r[i] for r in rows], dtype=object)
            except IndexError:
                raise ConnectomeFormatError(f"a row has fewer than {len(header)} fields", path) from None
    if kind_col and "kind" in header:
        # encode kind words as codes so that the fast numeric parser reads every other column
        body = "\n" + body + "\n"
        for name, code in KIND_CODES.items():
            body = body.replace(f",{name},", f",{code},").replace(f",{name}\n", f",{code}\n")
            body = body.replace(f"\n{name},", f"\n{code},")
    body = body.replace(",,", ",nan,").replace(",,", ",nan,").replace(",\n", ",nan\n")
    num_cols = [i for i in range(len(header)) if i not in text_cols]
    try:
        arr = np.loadtxt(io.StringIO(body), delimiter=",", usecols=num_cols, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise ConnectomeFormatError(f"cannot parse numbers ({exc})", path) from None
    for j, i in enumerate(num_cols):
        out[header[i]] = arr[:, j]
    return {h: out[h] for h in header}


def read_csv_dir(directory: Path, edges_path: Path | None = None) -> Parts:
    directory = Path(directory)
    edges_path = Path(edges_path or directory / "edges.csv")
    e = _read_table(edges_path, _STRING_EDGE_COLS, kind_col=True)
    for col in ("pre", "post", "weight_mv"):
        if col not in e:
            raise ConnectomeFormatError(f"missing column {col!r}", edges_path)
    for col in ("pre", "post"):
        v = e[col]
        if len(v) and (
            not np.all(np.isfinite(v)) or np.any(v != np.round(v)) or np.any(np.abs(v) >= 2.0**63)
        ):
            raise ConnectomeFormatError(f"column {col!r} must hold integer neuron ids", edges_path)
        e[col] = v.astype(np.int64)
    neurons_path = directory / "neurons.csv"
    if edges_path.name == "edges.csv" and neurons_path.exists():
        n = _read_table(neurons_path, _STRING_NEURON_COLS, kind_col=False)
        if "neuron_id" not in n:
            raise ConnectomeFormatError("missing column 'neuron_id'", neurons_path)
        if (
            len(n["neuron_id"])
            and n["neuron_id"].dtype.kind == "f"
            and not np.all(
                np.isfinite(n["neuron_id"])
                & (n["neuron_id"] == np.round(n["neuron_id"]))
                & (np.abs(n["neuron_id"]) < 2.0**63)
            )
        ):
            raise ConnectomeFormatError("column 'neuron_id' must hold integer neuron ids", neurons_path)
        n["neuron_id"] = n["neuron_id"].astype(np.int64)
        if "channels" in n:
            n["channels"] = np.array([str(c) for c in n["channels"]], dtype=object)
    else:
        n = {"neuron_id": np.unique(np.concatenate([e["pre"], e["post"]]))}
    meta = {}
    summary = directory / "summary.json"
    if summary.exists():
        import json

        try:
            meta = {"summary": json.loads(summary.read_text())}
        except (ValueError, OSError):  # summary.json is provenance only: unreadable means absent
            meta = {}
    return Parts(edges_path, n, e, {"source": os.fspath(edges_path), **meta})


def read_graphml(path) -> Parts:
    import networkx as nx

    try:
        g = nx.read_graphml(path)
    except Exception as exc:
        raise ConnectomeFormatError(f"cannot read GraphML ({exc})", path) from None
    for *_, d in g.edges(data=True):  # ``weight`` = |weight_mv| is for graph tools (write_graphml)
        w, wm = d.get("weight"), d.get("weight_mv")
        if isinstance(w, float) and isinstance(wm, float) and (w == abs(wm) or w != w and wm != wm):
            del d["weight"]
    return Parts(Path(path), meta={"source": os.fspath(path)}, graph=g)


def read_truth(path) -> Parts:
    """The ground-truth connectome of a simulated recording (``<name>.truth.h5``).

    ``/neurons/id`` and ``/edges/pre``, ``post``, ``weight_mv`` are required;
    ``/neurons/x_um``, ``y_um``, ``is_excitatory`` and ``/edges/delay_ms``,
    ``kind`` are read when present. Each must be a one-dimensional numeric
    dataset; anything else, or a damaged file, is a
    :class:`~connectome.errors.ConnectomeFormatError` naming the file.
    """
    import h5py

    def column(fh, key, required):
        node = fh.get(key)
        if node is None:
            if required:
                raise ConnectomeFormatError(f"not a truth file (no /{key})", path)
            return None
        if not isinstance(node, h5py.Dataset):
            raise ConnectomeFormatError(f"/{key} is a group, expected a dataset", path)
        if node.ndim != 1:
            raise ConnectomeFormatError(f"/{key} has shape {node.shape}, expected one dimension", path)
        if node.dtype.kind not in "iufb":
            raise ConnectomeFormatError(f"/{key} has dtype {node.dtype}, expected numbers", path)
        return node[()]

    try:
        with h5py.File(path, "r") as fh:
            if "edges" not in fh or "neurons" not in fh:
                raise ConnectomeFormatError("not a truth file (no /neurons and /edges)", path)
            neurons = {"neuron_id": column(fh, "neurons/id", True)}
            for k in ("x_um", "y_um", "is_excitatory"):
                v = column(fh, f"neurons/{k}", False)
                if v is not None:
                    neurons[k] = v
            edges = {}
            for k in ("pre", "post", "weight_mv", "delay_ms", "kind"):
                v = column(fh, f"edges/{k}", k in ("pre", "post", "weight_mv"))
                if v is not None:
                    edges[k] = v
    except ConnectomeFormatError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:  # h5py on a damaged file
        raise ConnectomeFormatError(f"cannot read as HDF5 ({type(exc).__name__}: {exc})", path) from None
    return Parts(Path(path), neurons, edges, {"source": os.fspath(path), "truth": True})


# ---------------------------------------------------------------------- write
def order_columns(cols: dict, order: list) -> list:
    """Column names of ``cols`` in file order: those of ``order`` first, then the others as they come."""
    return [c for c in order if c in cols] + [c for c in cols if c not in order]


def _write_table(path: Path, cols: dict, order: list) -> None:
    names = order_columns(cols, order)
    n = len(next(iter(cols.values()))) if cols else 0
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        fh.write(",".join(names) + "\n")
        block = 200_000
        for s in range(0, n, block):
            parts = []
            for c in names:
                v = cols[c][s : s + block]
                if v.dtype.kind in "iub":
                    parts.append(v.astype(np.int64).astype(str))
                elif v.dtype.kind == "f":
                    parts.append(np.char.mod("%.7g", v))
                else:
                    parts.append(np.array([str(x) for x in v], dtype=object).astype(str))
            rows = parts[0].astype(object)
            for p in parts[1:]:
                rows = rows + "," + p.astype(object)
            fh.write("\n".join(rows.tolist()))
            fh.write("\n")


def write_csv(c, out_dir) -> None:
    """Write ``neurons.csv`` and ``edges.csv`` of the connectome ``c`` into ``out_dir`` (docs/formats.md)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    edges = dict(c.edges)
    edges["kind"] = c.kind_names()
    neurons = dict(c.neurons)
    if not c.n_edges:  # the same header as a table with rows
        edges = {**{k: np.zeros(0, _empty_dtype(dt)) for k, dt in EDGE_SCHEMA.items()}, **edges}
    if not c.n_neurons:
        neurons = {**{k: np.zeros(0, _empty_dtype(dt)) for k, dt in NEURON_SCHEMA.items()}, **neurons}
    _write_table(out_dir / "edges.csv", edges, list(EDGE_SCHEMA) if not c.n_edges else EDGE_ORDER)
    _write_table(out_dir / "neurons.csv", neurons, list(NEURON_SCHEMA) if not c.n_neurons else NEURON_ORDER)


def write_graphml(c, path) -> None:
    """GraphML as ``networkx.write_graphml`` writes ``c.to_networkx()``, streamed.

    Same keys, types (int → long, float → double, bool → boolean, str →
    string) and values (Python's shortest float repr; NaN neuron attributes
    omitted) — read back by ``networkx.read_graphml`` into the same graph —
    without building the networkx graph (25,000 edges: 2.2 s → a fraction).
    Connectomes with parallel edges go through networkx.
    """
    if c._has_parallel_edges():
        import networkx as nx

        g = c.to_networkx()
        for _, d in g.nodes(data=True):
            for k, v in list(d.items()):
                if isinstance(v, float) and np.isnan(v):
                    del d[k]
        for *_, d in g.edges(data=True):
            if isinstance(d.get("weight_mv"), float) and "weight" not in d:
                d["weight"] = abs(d["weight_mv"])
        with atomic_path(path) as tmp:
            nx.write_graphml(g, tmp)
        return
    from xml.sax.saxutils import quoteattr

    def typed(arr):
        """(GraphML type, list of Python values) of a column."""
        vals = [v.item() if isinstance(v, np.generic) else v for v in np.asarray(arr, dtype=object)]
        kinds = {type(v) for v in vals}
        for t, name in ((bool, "boolean"), (int, "long"), (float, "double")):
            if kinds and kinds <= {t}:
                return name, vals
        return "string", [str(v) for v in vals]

    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    keys: list[tuple[str, str, str, str]] = []  # (id, for, name, type)
    graph_attrs = [(k, v) for k, v in c.meta.items() if isinstance(v, (str, int, float, bool))]
    gcols = []
    for k, v in graph_attrs:
        t, vals = typed([v])
        keys.append((f"d{len(keys)}", "graph", k, t))
        gcols.append((keys[-1][0], vals[0]))
    ncols = []
    for name in c.neurons:
        if name == "neuron_id":
            continue
        t, vals = typed(c.neurons[name])
        keys.append((f"d{len(keys)}", "node", name, t))
        ncols.append((keys[-1][0], t, vals))
    ecols = []
    extra = {}
    if "weight_mv" in c.edges and "weight" not in c.edges:  # the attribute graph tools use; sign in weight_mv
        extra["weight"] = np.abs(np.asarray(c.edges["weight_mv"], np.float64))
    for name in [k for k in c.edges if k not in ("pre", "post", "kind")] + ["kind"] + list(extra):
        t, vals = typed(c.kind_names() if name == "kind" else extra[name] if name in extra else c.edges[name])
        keys.append((f"d{len(keys)}", "edge", name, t))
        ecols.append((keys[-1][0], vals))
    ids = [str(int(v)) for v in c.neuron_id]
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(
            "<?xml version='1.0' encoding='utf-8'?>\n"
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
        )
        for kid, scope, name, t in reversed(keys):
            fh.write(f'  <key id="{kid}" for="{scope}" attr.name={quoteattr(name)} attr.type="{t}" />\n')
        fh.write('  <graph edgedefault="directed">\n')
        for kid, v in gcols:
            fh.write(f'    <data key="{kid}">{text(v)}</data>\n')
        for r, nid in enumerate(ids):
            data = "".join(
                f'      <data key="{kid}">{text(vals[r])}</data>\n'
                for kid, t, vals in ncols
                if not (t == "double" and vals[r] != vals[r])
            )
            fh.write(f'    <node id="{nid}">\n{data}    </node>\n' if data else f'    <node id="{nid}" />\n')
        pre = c.edges["pre"] if c.n_edges else np.zeros(0, np.int64)
        post = c.edges["post"] if c.n_edges else np.zeros(0, np.int64)
        for e in range(c.n_edges):
            data = "".join(f'      <data key="{kid}">{text(vals[e])}</data>\n' for kid, vals in ecols)
            fh.write(f'    <edge source="{int(pre[e])}" target="{int(post[e])}">\n{data}    </edge>\n')
        fh.write("  </graph>\n</graphml>\n")
