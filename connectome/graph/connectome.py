"""The :class:`Connectome`: neurons and synapses as columnar arrays.

Arrays at the core, networkx only at the edges: a connectome with 10^8 edges
fits in its arrays; :meth:`Connectome.to_networkx` is for export and analysis
of culture-sized graphs.

Edge kinds are small integers in memory (:class:`~connectome.graph.kinds.EdgeKind`)
and words in files (``excitatory`` | ``inhibitory`` | ``electrical``), see
docs/formats.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ConnectomeFormatError
from . import tables
from .kinds import KIND_CODES, KIND_NAMES, EdgeKind

#: Edge columns every connectome has, with their dtypes.
EDGE_COLUMNS = {
    "pre": np.int64,
    "post": np.int64,
    "kind": np.int8,
    "weight_mv": np.float64,
    "delay_ms": np.float64,
}
#: Neuron columns every connectome has.
NEURON_COLUMNS = {"neuron_id": np.int64}


def parse_channels(value) -> list[int]:
    """The channel indices of one ``channels`` entry (``"3;4"``; empty and ``nan`` parts skipped).

    The one parser of the ``channels`` column of ``neurons.csv`` (docs/formats.md).

    Examples
    --------
    >>> parse_channels("3;4"), parse_channels(""), parse_channels("7.0"), parse_channels(5)
    ([3, 4], [], [7], [5])
    """
    return [int(float(v)) for v in str(value).split(";") if v.strip() not in ("", "nan")]


def _ids(values, what: str) -> np.ndarray:
    """``values`` as int64 neuron ids; a ValueError naming ``what`` if they are not whole numbers."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} has shape {arr.shape}, expected one id per row")
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{what} holds ids beyond the int64 range")
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind != "f":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{what} must hold integer neuron ids") from None
    if arr.size and not (
        np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2.0**63)
    ):
        raise ValueError(
            f"{what} must hold integer neuron ids (found a non-integer, NaN or out-of-range value)"
        )
    return arr.astype(np.int64)


def _kind_codes(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iufb":
        if arr.dtype.kind == "f" and arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise ValueError("edge kind codes must be whole numbers 1, 2 or 3")
        if arr.size and (arr.min() < -128 or arr.max() > 127):
            raise ValueError(f"unknown edge kind code {int(arr[(arr < -128) | (arr > 127)][0])}")
        codes = arr.astype(np.int8)
    else:
        try:
            codes = np.array([KIND_CODES[str(v).strip().lower()] for v in arr], dtype=np.int8)
        except KeyError as exc:
            raise ValueError(
                f"unknown edge kind {exc.args[0]!r}; expected one of {sorted(KIND_CODES)}"
            ) from None
    bad = ~np.isin(codes, list(KIND_NAMES))
    if bad.any():
        raise ValueError(f"unknown edge kind code {int(codes[bad][0])}")
    return codes


@dataclass(frozen=True)
class Connectome:
    """Neurons and directed synapses as columns of equal length.

    Parameters
    ----------
    neurons : dict of str → ndarray
        At least ``neuron_id``; commonly ``x_um, y_um, row, col, n_spikes,
        rate_hz, is_excitatory`` and ``channels`` (strings ``"3;4"``).
    edges : dict of str → ndarray
        At least ``pre, post, kind, weight_mv, delay_ms`` (``pre``/``post``
        are neuron ids; ``kind`` codes 1 excitatory, 2 inhibitory,
        3 electrical); commonly ``score, p_value, q_value``.
    meta : dict
        Free-form provenance (parameters, input checksum, versions).

    Examples
    --------
    >>> c = Connectome.from_edges([0, 1], [1, 2], weight_mv=[0.5, -0.3],
    ...                           kind=["excitatory", "inhibitory"])
    >>> c.n_neurons, c.n_edges
    (3, 2)
    >>> float(c.to_sparse().toarray()[0, 1])
    0.5
    """

    neurons: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        nid = _ids(self.neurons.get("neuron_id", np.zeros(0)), "neuron column 'neuron_id'")
        self.neurons["neuron_id"] = nid
        n = len(nid)
        for k, v in list(self.neurons.items()):
            v = np.asarray(v)
            if v.ndim != 1:
                raise ValueError(f"neuron column {k!r} has shape {v.shape}, expected one value per neuron")
            if len(v) != n:
                raise ValueError(f"neuron column {k!r} has {len(v)} rows, expected {n}")
            self.neurons[k] = v
        if len(np.unique(nid)) != n:
            raise ValueError("neuron ids are not unique")
        m = len(np.asarray(self.edges.get("pre", [])))
        for k, dt in EDGE_COLUMNS.items():
            if k not in self.edges:
                if k in ("pre", "post", "weight_mv"):
                    if m:
                        raise ValueError(f"edge column {k!r} is missing")
                    self.edges[k] = np.zeros(0, dt)
                elif k == "kind":
                    try:
                        w = np.asarray(self.edges.get("weight_mv", np.zeros(m)), dtype=np.float64)
                    except (TypeError, ValueError):
                        raise ValueError("edge column 'weight_mv' must hold numbers") from None
                    self.edges[k] = np.where(w < 0, EdgeKind.INHIBITORY, EdgeKind.EXCITATORY).astype(np.int8)
                else:
                    self.edges[k] = np.full(m, np.nan)
        for k, v in list(self.edges.items()):
            v = np.asarray(v)
            if v.ndim != 1:
                raise ValueError(f"edge column {k!r} has shape {v.shape}, expected one value per edge")
            if k == "kind":
                v = _kind_codes(v)
            elif k in ("pre", "post"):
                v = _ids(v, f"edge column {k!r}")
            elif k in EDGE_COLUMNS:
                try:
                    v = v.astype(EDGE_COLUMNS[k], copy=False)
                except (TypeError, ValueError):
                    raise ValueError(f"edge column {k!r} must hold numbers") from None
            if len(v) != m:
                raise ValueError(f"edge column {k!r} has {len(v)} rows, expected {m}")
            self.edges[k] = v
        if m and not n:
            raise ValueError(f"{m} edge(s) but no neurons (the neuron table is empty)")
        if m and n:
            known = np.isin(self.edges["pre"], nid) & np.isin(self.edges["post"], nid)
            if not known.all():
                i = int(np.flatnonzero(~known)[0])
                raise ValueError(
                    f"edge {self.edges['pre'][i]}→{self.edges['post'][i]} names an unknown neuron"
                )

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_edges(cls, pre, post, weight_mv, kind=None, delay_ms=None, neuron_id=None, meta=None, **extra):
        """Build from edge columns; neurons default to every id that appears."""
        pre = np.asarray(pre, dtype=np.int64)
        post = np.asarray(post, dtype=np.int64)
        if neuron_id is None:
            neuron_id = np.unique(np.concatenate([pre, post]))
        edges = {"pre": pre, "post": post, "weight_mv": np.asarray(weight_mv, dtype=np.float64)}
        if kind is not None:
            edges["kind"] = kind
        if delay_ms is not None:
            edges["delay_ms"] = delay_ms
        edges.update(extra)
        return cls(neurons={"neuron_id": np.asarray(neuron_id)}, edges=edges, meta=dict(meta or {}))

    # ------------------------------------------------------------------ sizes
    @property
    def n_neurons(self) -> int:
        return len(self.neurons["neuron_id"])

    @property
    def n_edges(self) -> int:
        return len(self.edges["pre"])

    @property
    def neuron_id(self) -> np.ndarray:
        return self.neurons["neuron_id"]

    def kind_names(self) -> np.ndarray:
        """Edge kinds as words."""
        names = np.array([""] + [k.label for k in EdgeKind], dtype=object)
        return names[self.edges["kind"]]

    def counts_by_kind(self) -> dict:
        return {name: int(np.sum(self.edges["kind"] == code)) for name, code in KIND_CODES.items()}

    # ---------------------------------------------------------------- indexes
    def index_of(self, ids) -> np.ndarray:
        """Row/column index (0..N-1) of each neuron id in ``ids``."""
        nid = self.neuron_id
        order = np.argsort(nid, kind="stable")
        pos = np.searchsorted(nid[order], ids)
        pos = np.clip(pos, 0, max(len(nid) - 1, 0))
        idx = order[pos] if len(nid) else pos
        if len(nid) == 0 or not np.all(nid[idx] == ids):
            raise KeyError("unknown neuron id")
        return idx

    def to_sparse(self, column: str = "weight_mv", kinds=None) -> sp.csr_matrix:
        """N×N CSR matrix (row = pre, column = post) of one edge column.

        Parallel edges of different kinds (an electrical and a chemical synapse
        on the same pair) are summed; choose ``kinds`` to keep them apart.
        """
        mask = (
            np.ones(self.n_edges, bool)
            if kinds is None
            else np.isin(self.edges["kind"], [KIND_CODES.get(k, k) for k in kinds])
        )
        i = self.index_of(self.edges["pre"][mask])
        j = self.index_of(self.edges["post"][mask])
        v = np.asarray(self.edges[column][mask], dtype=np.float64)
        n = self.n_neurons
        return sp.csr_matrix((v, (i, j)), shape=(n, n))

    def subset_edges(self, mask) -> "Connectome":
        """A connectome with the same neurons and only the edges in ``mask``."""
        mask = np.asarray(mask)
        return Connectome(
            neurons=dict(self.neurons),
            edges={k: v[mask] for k, v in self.edges.items()},
            meta=dict(self.meta),
        )

    # --------------------------------------------------------------- networkx
    def to_networkx(self):
        """A :class:`networkx.DiGraph` with neuron and edge attributes (kind as a word)."""
        import networkx as nx

        g = nx.MultiDiGraph() if self._has_parallel_edges() else nx.DiGraph()
        g.graph.update({k: v for k, v in self.meta.items() if isinstance(v, (str, int, float, bool))})
        cols = list(self.neurons)
        for row in range(self.n_neurons):
            attrs = {c: _py(self.neurons[c][row]) for c in cols if c != "neuron_id"}
            g.add_node(int(self.neuron_id[row]), **attrs)
        ecols = [c for c in self.edges if c not in ("pre", "post")]
        kinds = self.kind_names()
        for e in range(self.n_edges):
            attrs = {c: _py(self.edges[c][e]) for c in ecols if c != "kind"}
            attrs["kind"] = kinds[e]
            g.add_edge(int(self.edges["pre"][e]), int(self.edges["post"][e]), **attrs)
        return g

    def _has_parallel_edges(self) -> bool:
        if not self.n_edges:
            return False
        key = self.edges["pre"].astype(np.int64) * (2**31) + self.edges["post"].astype(np.int64)
        return len(np.unique(key)) != self.n_edges

    @classmethod
    def from_networkx(cls, g, meta=None) -> "Connectome":
        nodes = list(g.nodes)
        try:
            ids = np.array([int(n) for n in nodes], dtype=np.int64)
        except (TypeError, ValueError, OverflowError):  # labels that are not int64 ids: number the nodes
            ids = np.arange(len(nodes), dtype=np.int64)
        remap = dict(zip(nodes, ids.tolist()))
        neurons = {"neuron_id": ids}
        node_keys = sorted({k for _, d in g.nodes(data=True) for k in d})
        for k in node_keys:
            vals = [d.get(k) for _, d in g.nodes(data=True)]
            neurons[k] = _column(vals)
        data = list(g.edges(data=True))
        edges: dict[str, Any] = {
            "pre": np.array([remap[u] for u, _, _ in data], dtype=np.int64),
            "post": np.array([remap[v] for _, v, _ in data], dtype=np.int64),
        }
        edge_keys = sorted({k for _, _, d in data for k in d})
        for k in edge_keys:
            vals = [d.get(k) for _, _, d in data]
            edges[k] = vals if k == "kind" else _column(vals)
        if "weight_mv" not in edges:
            if "weight" in edges:
                edges["weight_mv"] = edges.pop("weight")
            else:
                edges["weight_mv"] = np.ones(len(data))
        return cls(neurons=neurons, edges=edges, meta={**dict(g.graph), **dict(meta or {})})

    # ----------------------------------------------------------------- pandas
    def to_pandas(self):
        """``(neurons, edges)`` as two :class:`pandas.DataFrame` s, ``kind`` as words (needs pandas).

        Columns as in ``neurons.csv`` and ``edges.csv`` (docs/formats.md);
        :meth:`from_pandas` turns them back into the same connectome.
        """
        pd = require_pandas("Connectome.to_pandas")
        edges = dict(self.edges)
        edges["kind"] = self.kind_names().astype(str) if self.n_edges else np.zeros(0, dtype=str)
        ecols = tables.order_columns(edges, tables.EDGE_ORDER)
        ncols = tables.order_columns(self.neurons, tables.NEURON_ORDER)
        return (pd.DataFrame({c: self.neurons[c] for c in ncols}), pd.DataFrame({c: edges[c] for c in ecols}))

    @classmethod
    def from_pandas(cls, edges, neurons=None, meta=None) -> "Connectome":
        """A connectome from an edge table and, optionally, a neuron table (pandas DataFrames).

        ``edges`` needs ``pre``, ``post`` and ``weight_mv`` (``weight`` is
        accepted too); ``kind`` may hold words or codes (default: from the
        sign of the weight). ``neurons`` needs ``neuron_id``; without it the
        neurons are the ids that appear in ``edges``.

        Raises
        ------
        ValueError
            A missing or malformed column, naming it.
        """
        e = {str(c): edges[c].to_numpy() for c in edges.columns}
        if "weight_mv" not in e and "weight" in e:
            e["weight_mv"] = e.pop("weight")
        for col in ("pre", "post", "weight_mv"):
            if col not in e:
                raise ValueError(f"the edge table has no column {col!r}")
        if neurons is None:
            n = {
                "neuron_id": np.unique(
                    np.concatenate(
                        [_ids(e["pre"], "edge column 'pre'"), _ids(e["post"], "edge column 'post'")]
                    )
                )
            }
        else:
            n = {str(c): neurons[c].to_numpy() for c in neurons.columns}
            if "neuron_id" not in n:
                raise ValueError("the neuron table has no column 'neuron_id'")
        return cls(neurons=n, edges=e, meta=dict(meta or {}))

    # -------------------------------------------------------------------- I/O
    @classmethod
    def read(cls, path) -> "Connectome":
        """Read an inference directory, an ``edges.csv``, a GraphML file or a truth file.

        Raises
        ------
        ConnectomeFormatError
            A missing, unreadable or inconsistent file, naming it.
        """
        return cls.from_parts(tables.read_parts(path))

    @classmethod
    def from_parts(cls, parts: "tables.Parts") -> "Connectome":
        """The connectome of a reader's :class:`~connectome.graph.tables.Parts`.

        Raises
        ------
        ConnectomeFormatError
            Columns that do not make a connectome, naming the file.
        """
        if parts.graph is not None:
            try:
                return cls.from_networkx(parts.graph, meta=parts.meta)
            except (ValueError, TypeError, KeyError) as exc:  # GraphML attributes of any type
                raise ConnectomeFormatError(str(exc), parts.path) from None
        try:
            return cls(neurons=parts.neurons, edges=parts.edges, meta=parts.meta)
        except ValueError as exc:
            raise ConnectomeFormatError(str(exc), parts.path) from None

    def write_csv(self, out_dir) -> None:
        """Write ``neurons.csv`` and ``edges.csv`` into ``out_dir`` (see docs/formats.md)."""
        tables.write_csv(self, out_dir)

    def write_graphml(self, path) -> None:
        """Write a GraphML file (:func:`connectome.graph.tables.write_graphml`)."""
        tables.write_graphml(self, path)

    def summary(self) -> dict:
        """Counts and simple statistics, JSON-serialisable."""
        n, m = self.n_neurons, self.n_edges
        w = self.edges["weight_mv"]
        return {
            "neurons": n,
            "synapses": m,
            "by_kind": self.counts_by_kind(),
            "density": m / (n * (n - 1)) if n > 1 else 0.0,
            "weight_mv": {"min": float(w.min()), "median": float(np.median(w)), "max": float(w.max())}
            if m
            else {},
        }


def require_pandas(what: str):
    """The pandas module; ImportError naming ``what`` and how to install it when pandas is missing."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{what} needs pandas, which is not installed (pip install pandas)") from None
    return pandas


def _py(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _column(vals) -> np.ndarray:
    if all(isinstance(v, (bool, np.bool_)) for v in vals if v is not None):
        return np.array([bool(v) for v in vals])
    try:
        return np.array([np.nan if v is None else float(v) for v in vals])
    except (TypeError, ValueError):
        return np.array(["" if v is None else str(v) for v in vals], dtype=object)
