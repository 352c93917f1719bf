"""Export a connectome for graph tools: GraphML, GEXF (Gephi) or JSON node-link (d3, Cytoscape.js).

The format follows the file's suffix. Nodes carry the neuron columns and
edges the edge columns (``kind`` as a word) plus ``weight`` = |``weight_mv``|
(the attribute graph tools use for strengths; the sign is in ``weight_mv``
and ``kind``); missing values (NaN) are left out of GraphML/GEXF attributes
and written as ``null`` in JSON, so every file is valid for strict readers.
JSON holds the edges under ``"edges"`` (networkx ≥ 3.4) and again under
``"links"`` (older networkx, d3). GEXF places each node at its electrode
position (``viz:position``, µm) and carries no date, so the same connectome
gives the same bytes. A pair with both a chemical and an
electrical synapse becomes a multigraph (two edges). Files are written to a
temporary name and renamed.

Examples
--------
>>> import tempfile, pathlib, json
>>> from connectome.graph import Connectome
>>> c = Connectome.from_edges([0, 1], [1, 2], weight_mv=[0.5, -0.3])
>>> p = pathlib.Path(tempfile.mkdtemp()) / "c.json"
>>> export_graph(c, p)
PosixPath('...c.json')
>>> len(json.loads(p.read_text())["edges"])
2
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import ConnectomeFormatError
from ..io.atomic import atomic_path
from .connectome import Connectome

#: Suffix → format name.
EXPORT_FORMATS = {".graphml": "graphml", ".gexf": "gexf", ".json": "node-link JSON"}


def _clean(g, drop_nan: bool):
    for _, d in g.nodes(data=True):
        _clean_attrs(d, drop_nan)
    for *_, d in g.edges(data=True):
        _clean_attrs(d, drop_nan)
    for k, v in list(g.graph.items()):
        if isinstance(v, float) and not math.isfinite(v):
            del g.graph[k]
    return g


def _clean_attrs(d: dict, drop_nan: bool) -> None:
    for k, v in list(d.items()):
        if isinstance(v, float) and not math.isfinite(v):
            if drop_nan:
                del d[k]
            else:
                d[k] = None


#: Columns that are counts or indices: written as integers when every value is whole
#: (CSV reads them as floats).
INTEGER_COLUMNS = {
    "row",
    "col",
    "n_spikes",
    "n_excitatory_out",
    "n_inhibitory_out",
    "n_spikes_used",
    "bidirectional",
}


def _integral_columns(cols: dict) -> dict:
    out = {}
    for k, v in cols.items():
        v = np.asarray(v)
        if (
            k in INTEGER_COLUMNS
            and v.dtype.kind == "f"
            and v.size
            and np.all(np.isfinite(v))
            and np.all(v == np.round(v))
        ):
            v = v.astype(np.int64)
        out[k] = v
    return out


def export_graph(c: Connectome, path) -> Path:
    """Write ``c`` to ``path`` as GraphML, GEXF or node-link JSON, chosen by the suffix.

    Raises
    ------
    ConnectomeFormatError
        For any other suffix.
    """
    import networkx as nx

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise ConnectomeFormatError(
            f"cannot export to {suffix or 'a file without suffix'!r}: use {', '.join(EXPORT_FORMATS)}", path
        )
    edges = _integral_columns(c.edges)
    if "weight_mv" in edges and "weight" not in edges:
        # the magnitude; the sign stays in weight_mv and kind
        edges["weight"] = np.abs(np.asarray(edges["weight_mv"], np.float64))
    whole = Connectome(neurons=_integral_columns(c.neurons), edges=edges, meta=dict(c.meta))
    g = _clean(whole.to_networkx(), drop_nan=suffix != ".json")
    with atomic_path(path) as tmp:
        if suffix == ".graphml":
            nx.write_graphml(g, tmp)
        elif suffix == ".gexf":
            _write_gexf(g, tmp)
        else:
            data = nx.node_link_data(g, edges="edges")
            data["links"] = data["edges"]  # networkx < 3.4 and d3 read "links"
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def _write_gexf(g, path) -> None:
    """GEXF 1.2 with ``viz:position`` (x_um, y_um; z 0) and no run-dependent ``lastmodifieddate``."""
    import re

    import networkx as nx

    for _, d in g.nodes(data=True):
        x, y = d.get("x_um"), d.get("y_um")
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            d["viz"] = {"position": {"x": float(x), "y": float(y), "z": 0.0}}
    text = "\n".join(nx.generate_gexf(g, version="1.2draft"))
    text = re.sub(r'<meta lastmodifieddate="[^"]*"', "<meta", text, count=1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='utf-8'?>\n" + text + "\n")
