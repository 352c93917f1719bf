"""Compile a :class:`~connectome.graph.Connectome` into a programming map.

Stages (each in its own module): tile groups and delays (here) →
weights to levels (:mod:`.mapping`) → tiling (:mod:`.tiling`) → write-pulse
simulation and schedule (:mod:`.schedule`) → 3D placement
(:mod:`.placement`) → tables and summary (:mod:`.report`), written by
:mod:`connectome.io.progmap`.

**Tile groups.** Synapses of different groups never share a tile. A group is
(class, polarity, delay bucket): electrical synapses (kind 3) are kept apart
from chemical ones; the ``split`` scheme puts excitatory (w ≥ 0) and
inhibitory (w < 0) weights in separate groups of polarity +1 and −1 (the
other schemes use polarity 0: the sign is in the columns).

**Delays.** A crossbar applies one input timing to a whole row, so delays
cannot live in the cells. They are carried two ways: every synapse's exact
delay is kept in ``/synapses/delay_ms``, and with ``delay_buckets = K > 1``
the synapses are also split by delay into K tile groups at the quantiles of
the delay distribution, each group recording its delay range
(``/groups/delay_lo_ms``, ``delay_hi_ms``) so that a chip can delay the input
lines of a group's tiles as a whole. K = 1 (default) adds no tiles.

**Parallel edges** of the same group (same pre, post) are merged into one
synapse: weights summed, delays averaged; the count is reported.

**Which weight.** ``weight = "mean"`` (default) programs ``weight_mv``, the
mean PSP per presynaptic spike (what a spike-triggered average measures, and
the average effect of a spike, which a static conductance reproduces).
``weight = "rested"`` programs ``weight_rested_mv``, the PSP of a rested,
undepressed synapse (the intrinsic strength, for a chip with its own
short-term depression; Tsodyks & Markram 1997, PNAS 94:719), where it is
finite, and ``weight_mv`` for the other edges (electrical ones, and those
whose rested PSP could not be measured): :func:`programmed_weights`.

Examples
--------
>>> from connectome.graph import Connectome
>>> c = Connectome.from_edges([0, 1, 2], [1, 2, 0], weight_mv=[0.5, -0.25, 1.0])
>>> pm = compile_connectome(c, CompileOptions(technology="rram", rows=4, cols=4, layers=2))
>>> pm.summary["synapses"], pm.summary["tiles"], pm.summary["clipped"]
(3, 2, 0)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..devices import canonical_technology, load_technology
from ..errors import ConfigError, ConnectomeFormatError, TechnologyError
from ..graph.kinds import EdgeKind
from ..io.progmap import FORMAT, FORMAT_VERSION, ProgrammingMap
from . import mapping, placement, report, schedule, tiling

DEFAULT_POWER_BUDGET_MW = 100.0


#: Default full-scale policy (chosen by measurement: docs/compile.md, "Full scale").
DEFAULT_FULL_SCALE = "p99"
#: Absolute bounds on the crossbar and stack (the technology's own limits are checked against its preset).
MAX_CROSSBAR = 1 << 16
MAX_LAYERS = 4096
MAX_DELAY_BUCKETS = 1024
#: Warn when more than this fraction of the synapses quantise to zero.
ZERO_WARN_FRACTION = 0.05
#: ``CompileOptions.weight`` → the edge column programmed (``"rested"`` falls back to ``weight_mv``).
WEIGHT_COLUMNS = {"mean": "weight_mv", "rested": "weight_rested_mv"}


@dataclass(frozen=True)
class CompileOptions:
    """Parameters of ``connectome compile`` (None: the technology's default), validated on construction.

    ``full_scale``: the |weight| mapped onto the top code — ``"max"`` (the
    largest |weight|: nothing clipped), ``"pNN"`` (the NN-th percentile of
    |weight|, e.g. ``"p99"``, ``"p99.9"``) or a number of mV. Weights beyond
    it saturate and are reported as clipped; weights below half a step
    quantise to zero and are reported as such. ``clip`` is the older name
    of the same option (``"none"`` = ``"max"``); when given it wins and is
    folded into ``full_scale``.

    ``weight``: ``"mean"`` programs each edge's ``weight_mv`` (the mean PSP
    per presynaptic spike); ``"rested"`` its ``weight_rested_mv`` (the PSP of
    a rested synapse) where that is finite, else its ``weight_mv``
    (:func:`programmed_weights`).

    Raises
    ------
    ConfigError
        A parameter out of its range, naming the parameter: unknown
        technology (without ``technology_file``), scheme or partitioner,
        ``rows``/``cols`` outside 1…65536, ``layers`` outside 1…4096,
        ``levels`` < 2, ``bits``/``slices`` outside 1…52, ``delay_buckets``
        outside 1…1024, ``power_budget_mw`` not a positive number,
        ``seed`` not an integer ≥ 0, an invalid ``full_scale``, or
        ``weight`` not ``"mean"`` or ``"rested"``.
    """

    technology: str | None = "rram"
    technology_file: str | None = None
    rows: int | None = None
    cols: int | None = None
    layers: int | None = None
    scheme: str | None = None
    levels: int | None = None
    bits: int | None = None
    slices: int | None = None
    full_scale: str | float = DEFAULT_FULL_SCALE
    clip: str | float | None = None
    partitioner: str = "spectral"
    delay_buckets: int = 1
    power_budget_mw: float = DEFAULT_POWER_BUDGET_MW
    seed: int = 0
    baselines: bool = True
    weight: str = "mean"

    def __post_init__(self):
        def bad(name, msg):
            raise ConfigError(f"compile option {name}: {msg}, got {getattr(self, name)!r}")

        def integer(name, lo, hi, optional=True):
            v = getattr(self, name)
            if v is None and optional:
                return
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                bad(name, f"must be an integer in {lo}…{hi}")
            object.__setattr__(self, name, int(v))

        if self.technology is None:
            if self.technology_file is None:
                raise ConfigError("compile option technology: no technology and no technology_file given")
        elif not isinstance(self.technology, str):
            bad("technology", "must be a technology name")
        else:
            try:
                canon = canonical_technology(self.technology)
            except TechnologyError as exc:
                if self.technology_file is None:
                    raise ConfigError(f"compile option technology: {exc.reason}") from None
            else:
                object.__setattr__(self, "technology", canon)
        if self.technology_file is not None and not isinstance(self.technology_file, (str, Path)):
            bad("technology_file", "must be a path")
        integer("rows", 1, MAX_CROSSBAR)
        integer("cols", 1, MAX_CROSSBAR)
        integer("layers", 1, MAX_LAYERS)
        integer("levels", 2, 2 ** 52)
        integer("bits", 1, 52)
        integer("slices", 1, 52)
        integer("delay_buckets", 1, MAX_DELAY_BUCKETS, optional=False)
        integer("seed", 0, 2 ** 63 - 1, optional=False)
        if self.scheme is not None and (not isinstance(self.scheme, str)
                                        or self.scheme.lower() not in mapping.SCHEMES):
            bad("scheme", f"must be one of {', '.join(mapping.SCHEMES)}")
        if self.partitioner not in tiling.PARTITIONERS:
            bad("partitioner", f"must be one of {', '.join(tiling.PARTITIONERS)}")
        pw = self.power_budget_mw
        if isinstance(pw, bool) or not isinstance(pw, (int, float, np.integer, np.floating)) or \
                not (math.isfinite(pw) and pw > 0):
            bad("power_budget_mw", "must be a positive number of mW")
        object.__setattr__(self, "power_budget_mw", float(pw))
        if not isinstance(self.baselines, bool):
            bad("baselines", "must be true or false")
        if not isinstance(self.weight, str) or self.weight not in WEIGHT_COLUMNS:
            bad("weight", f"must be one of {', '.join(WEIGHT_COLUMNS)}")
        if self.clip is not None:
            object.__setattr__(self, "full_scale",
                               mapping.normalise_full_scale(self.clip, "compile option clip"))
            object.__setattr__(self, "clip", None)
        else:
            fs = mapping.normalise_full_scale(self.full_scale, "compile option full_scale")
            object.__setattr__(self, "full_scale", fs)


def check_geometry(tech, rows: int, cols: int, layers: int, enc: mapping.Encoding) -> None:
    """Raise :class:`TechnologyError` for a crossbar or stack the technology cannot build."""
    a = tech.array
    if rows < 1 or cols < 1 or layers < 1:
        raise TechnologyError(f"crossbar {rows}x{cols} with {layers} layer(s): sizes must be ≥ 1")
    if rows > a.max_rows or cols > a.max_cols:
        raise TechnologyError(f"crossbar {rows}x{cols} exceeds the {tech.name} limit of "
                              f"{a.max_rows}x{a.max_cols} "
                              "(rows x cols; set by IR drop, sneak paths or block size — see the preset)")
    if layers > a.max_layers:
        why = f": {a.layers_note}" if a.layers_note else ""
        raise TechnologyError(f"{layers} layers exceed the {tech.name} limit of {a.max_layers}{why}")
    if cols < enc.cols_per_neuron:
        raise TechnologyError(f"{cols} columns cannot hold one postsynaptic neuron: the {enc.scheme} scheme "
                              "with "
                              f"{enc.slices} slice(s) needs {enc.cols_per_neuron} columns per neuron")


def _nonfinite_error(pre, post, bad: np.ndarray, what: str, path) -> ConnectomeFormatError:
    idx = np.flatnonzero(bad)
    shown = ", ".join(f"{int(pre[i])}→{int(post[i])}" for i in idx[:8])
    more = f" and {len(idx) - 8} more" if len(idx) > 8 else ""
    return ConnectomeFormatError(f"{len(idx)} edge(s) have a non-finite {what} (NaN or inf): {shown}{more}",
                                 path)


def edges_sha256(con, columns=("pre", "post", "kind", "weight_mv", "delay_ms")) -> str:
    """sha256 of edge columns (by default pre, post, kind, weight_mv, delay_ms) as stored, whatever the format."""
    h = hashlib.sha256()
    for k in columns:
        a = np.ascontiguousarray(con.edges[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.data.cast("B") if a.size else b"")
    return h.hexdigest()


def _edges_file(path):
    """The file a connectome's edges come from, for messages: edges.csv (or the GraphML) of a directory."""
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        for name in ("edges.csv", "connectome.graphml"):
            if (p / name).exists():
                return p / name
    return p


def programmed_weights(con, weight: str = "mean", path=None) -> tuple[np.ndarray, dict]:
    """The weight compile programs for every edge of ``con`` (float64, in edge order), and where it came from.

    ``weight = "mean"``: the ``weight_mv`` column. ``weight = "rested"``:
    ``weight_rested_mv`` where it is finite, ``weight_mv`` elsewhere (the
    fallbacks: electrical edges, which have no rested value, and chemical
    edges whose rested PSP was not measured). The returned dict counts
    them: ``weight``, ``column``, and for ``"rested"`` also
    ``edges_rested``, ``edges_fallback``, ``fallback_electrical``,
    ``fallback_unmeasured``.

    Raises
    ------
    ConfigError
        ``weight`` is neither ``"mean"`` nor ``"rested"``.
    ConnectomeFormatError
        ``"rested"`` and the connectome has no ``weight_rested_mv`` column (a
        connectome written before it existed, by spike-train mode, or a file
        without it), or that column holds something other than numbers;
        naming the edges file (``path``).

    Examples
    --------
    >>> from connectome.graph import Connectome
    >>> c = Connectome.from_edges([0, 1, 2], [1, 2, 0], weight_mv=[0.5, -0.25, 1.0],
    ...                           kind=[1, 2, 3], weight_rested_mv=[1.5, float("nan"), float("nan")])
    >>> w, info = programmed_weights(c, "rested")
    >>> w.tolist(), info["edges_fallback"], info["fallback_electrical"]
    ([1.5, -0.25, 1.0], 2, 1)
    """
    if weight not in WEIGHT_COLUMNS:
        raise ConfigError(f"compile option weight: must be one of {', '.join(WEIGHT_COLUMNS)}, got {weight!r}")
    e = con.edges
    mean = np.asarray(e["weight_mv"]).astype(np.float64)
    col = WEIGHT_COLUMNS[weight]
    info: dict = {"weight": weight, "column": col}
    if weight == "mean":
        return mean, info
    if col not in e:
        raise ConnectomeFormatError(f"no {col} column: weight = \"rested\" programs the PSP of a rested synapse, "
                                    "which this connectome does not hold (connectome infer writes it; older "
                                    "outputs, spike-train connectomes and truth files do not); use weight = "
                                    "\"mean\" (weight_mv)", _edges_file(path))
    try:
        rested = np.asarray(e[col]).astype(np.float64)
    except (TypeError, ValueError):
        raise ConnectomeFormatError(f"edge column {col} must hold numbers (NaN where not measured)",
                                    _edges_file(path)) from None
    use = np.isfinite(rested)
    electrical = np.asarray(e["kind"]) == EdgeKind.ELECTRICAL
    n_fb = int((~use).sum())
    n_el = int((~use & electrical).sum())
    info.update({"fallback_column": "weight_mv", "edges_rested": int(use.sum()), "edges_fallback": n_fb,
                 "fallback_electrical": n_el, "fallback_unmeasured": n_fb - n_el})
    return np.where(use, rested, mean), info


def _warn_fallback(info: dict) -> None:
    """``warnings.warn`` how many edges ``weight = "rested"`` programmed with ``weight_mv`` instead."""
    fb = info.get("edges_fallback", 0)
    if not fb:
        return
    total = fb + info["edges_rested"]
    warnings.warn(
        f"weight = \"rested\": {fb} of {total} edges have no finite weight_rested_mv and are programmed with "
        f"weight_mv, the mean PSP per spike ({info['fallback_electrical']} electrical, "
        f"{info['fallback_unmeasured']} chemical with no rested PSP measured); at depressing synapses that is "
        "smaller than the rested PSP the other edges get", stacklevel=3)


def _groups(kind, weight, delay, scheme: str, buckets: int, pre, post, path):
    """Group code per edge and the groups table (class, polarity, delay bucket, delay range)."""
    m = len(kind)
    cls = (kind == EdgeKind.ELECTRICAL).astype(np.int64)
    pol = np.where(weight < 0, -1, 1) if scheme == "split" else np.zeros(m, dtype=np.int64)
    if buckets > 1:
        bad = ~np.isfinite(delay)
        if bad.any():
            raise _nonfinite_error(pre, post, bad, "delay_ms (needed by --delay-buckets)", path)
        cuts = np.unique(np.quantile(delay, np.linspace(0, 1, buckets + 1)[1:-1])) if m else np.zeros(0)
        bucket = np.searchsorted(cuts, delay, side="right").astype(np.int64)
    else:
        bucket = np.zeros(m, dtype=np.int64)
    code = (cls * 3 + (pol + 1)) * (buckets + 1) + bucket  # small non-negative integers
    present = np.bincount(code, minlength=1) > 0 if m else np.zeros(1, dtype=bool)
    ucode = np.flatnonzero(present)
    lookup = np.cumsum(present) - 1
    gid = lookup[code].astype(np.int64)
    lo = np.full(len(ucode), np.nan)
    hi = np.full(len(ucode), np.nan)
    fin = np.isfinite(delay)
    if len(ucode) <= 16:  # usually a handful of groups: one masked pass each
        for g in range(len(ucode)):
            d = delay[(gid == g) & fin]
            if d.size:
                lo[g], hi[g] = d.min(), d.max()
    else:
        lo[:], hi[:] = np.inf, -np.inf
        np.minimum.at(lo, gid[fin], delay[fin])
        np.maximum.at(hi, gid[fin], delay[fin])
        lo[~np.isfinite(lo)] = np.nan
        hi[~np.isfinite(hi)] = np.nan
    table = {"group": np.arange(len(ucode)), "cls": ucode // (buckets + 1) // 3,
             "polarity": ucode // (buckets + 1) % 3 - 1, "delay_bucket": ucode % (buckets + 1),
             "delay_lo_ms": lo, "delay_hi_ms": hi}
    return gid, table


def _sort_order(gid, pre_id, post_id) -> np.ndarray:
    """Stable order by (group, pre, post): one int64 key when it fits (3× faster than lexsort)."""
    if len(gid) == 0:
        return np.zeros(0, dtype=np.int64)
    lo = min(int(pre_id.min()), int(post_id.min()))
    span = max(int(pre_id.max()), int(post_id.max())) - lo + 1
    if lo >= 0 and (int(gid.max()) + 1) * span * span < 2 ** 62:
        key = (gid * span + (pre_id - lo)) * span + (post_id - lo)
        return np.argsort(key, kind="stable")
    return np.lexsort((post_id, pre_id, gid))


def _merge_parallel(gid, pre_id, post_id, weight, delay):
    """Sort synapses by (group, pre, post) and merge duplicates (weights summed, delays averaged)."""
    o = _sort_order(gid, pre_id, post_id)
    gid, pre_id, post_id, weight, delay = gid[o], pre_id[o], post_id[o], weight[o], delay[o]
    m = len(gid)
    if m == 0:
        return gid, pre_id, post_id, weight, delay, 0
    new = np.concatenate([[True], (np.diff(gid) != 0) | (np.diff(pre_id) != 0) | (np.diff(post_id) != 0)])
    if new.all():
        return gid, pre_id, post_id, weight, delay, 0
    start = np.flatnonzero(new)
    with np.errstate(all="ignore"):
        d = np.add.reduceat(np.nan_to_num(delay, nan=0.0), start) / np.add.reduceat(
            np.isfinite(delay).astype(np.float64), start)
        w = np.add.reduceat(weight, start)  # an overflow to inf is reported by the caller
    return (gid[start], pre_id[start], post_id[start], w, d,
            int(m - len(start)))


def parse_crossbar(value, what: str = "--crossbar", path=None):
    """``"256x256"`` → ``(256, 256)``; None → ``(None, None)`` (the technology's default).

    >>> parse_crossbar("128×64")
    (128, 64)
    """
    if value is None:
        return None, None
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(value))
    if not m:
        raise ConfigError(f"{what} expects ROWSxCOLS such as 256x256, got {value!r}", path)
    return int(m.group(1)), int(m.group(2))


def source_files(path) -> dict:
    """sha256 of the files a connectome input was read from (for the map's manifest).

    An inference directory contributes edges.csv and neurons.csv (or its
    GraphML when those are absent); a single file contributes itself.
    """
    from ..io.checksum import sha256_file

    path = Path(path)
    if path.is_dir():
        names = [n for n in ("edges.csv", "neurons.csv") if (path / n).exists()] or \
            [n for n in ("connectome.graphml",) if (path / n).exists()]
        return {n: sha256_file(path / n) for n in names}
    return {path.name: sha256_file(path)}


#: The weight unit of connectomes that do not state one (PSP peak in mV, as infer writes).
DEFAULT_WEIGHT_UNIT = "mV"


def weight_unit(con) -> str:
    """The unit of ``con``'s ``weight_mv`` column as its metadata states it (``"mV"`` when it states none).

    Spike-train inference writes efficacies (excess postsynaptic spikes per
    presynaptic spike) in the same column and says so in ``weight_unit``
    (in memory ``meta["weight_unit"]``; read from an inference directory,
    its ``summary.json``; from GraphML, a graph attribute). Compile maps any
    unit the same way — the full scale is a percentile of |weight| in that
    unit — and records it; ``mv_per_us`` then means "weight units per µS".
    """
    meta = getattr(con, "meta", None) or {}
    unit = meta.get("weight_unit")
    summary = meta.get("summary")
    if unit is None and isinstance(summary, dict):
        unit = summary.get("weight_unit")
    return str(unit) if isinstance(unit, str) and unit.strip() else DEFAULT_WEIGHT_UNIT


def _warn_dynamic_range(quant, tech, enc, policy) -> None:
    """``warnings.warn`` when more than :data:`ZERO_WARN_FRACTION` of the synapses quantise to zero."""
    m = len(quant.q)
    z = int(quant.zeroed.sum())
    if not m or z <= ZERO_WARN_FRACTION * m:
        return
    c = int(quant.clipped.sum())
    how = "the largest |weight|" if policy == "max" else \
        f"the {policy[1:]}th percentile of |weight|" if isinstance(policy, str) else "the given value"
    hint = "a lower full_scale (--full-scale p99 or a value in mV)" if policy == "max" or \
        isinstance(policy, float) else "a lower full_scale percentile or value"
    warnings.warn(
        f"{z} of {m} synapses ({100 * z / m:.1f} %) quantise to zero on {tech.name} and are programmed as "
        f"0 mV: full scale {quant.full_scale_mv:.4g} mV ({how}), step {quant.step_mv:.4g} mV with "
        f"{enc.q_max + 1} magnitudes; {c} clipped. The weights span more than this encoding holds: use "
        f"{hint}, or more levels or slices", stacklevel=3)


class _Run:
    """State passed between the stages of :func:`compile_connectome` (one attribute per product)."""

    # Products, each set by the stage named (declared for the type checker only: no class attributes).
    enc: mapping.Encoding  # geometry
    rows: int
    cols: int
    layers: int
    col_slots: int
    groups: dict  # groups
    weight_source: dict
    merged: int
    gid: np.ndarray
    pre_id: np.ndarray
    post_id: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    pre_ix: np.ndarray
    post_ix: np.ndarray
    full_scale: float  # quantise
    quant: mapping.Quantised
    cellsyn: dict | None  # quantise; dropped by cells
    adj: Any  # partition (a scipy.sparse matrix or None); dropped by baselines
    til: tiling.Tiling
    baselines: dict  # baselines
    dg: float  # cells
    cells: dict
    cell_syn: np.ndarray
    pulses: schedule.Pulses  # pulses
    jobs: schedule.RowJobs
    place: placement.Placement  # placement
    sched: schedule.Schedule  # schedule
    map: ProgrammingMap  # tables

    def __init__(self, con, options, tech, source_path, source_files) -> None:
        self.con, self.options, self.tech = con, options, tech
        self.source_path, self.source_files = source_path, source_files
        self.times: dict = {}


def _stage_geometry(r: _Run) -> None:
    """Encoding and crossbar geometry, checked against the technology's limits."""
    o, tech = r.options, r.tech
    r.enc = mapping.resolve_encoding(tech, o.scheme, o.levels, o.bits, o.slices)
    a = tech.array
    r.rows = int(a.default_rows if o.rows is None else o.rows)
    r.cols = int(a.default_cols if o.cols is None else o.cols)
    r.layers = int(a.default_layers if o.layers is None else o.layers)
    check_geometry(tech, r.rows, r.cols, r.layers, r.enc)
    r.col_slots = r.cols // r.enc.cols_per_neuron


def _stage_groups(r: _Run) -> None:
    """Edges → synapses: tile groups, parallel edges merged, neuron indices."""
    con, path = r.con, r.source_path
    e = con.edges
    pre_id, post_id = e["pre"].astype(np.int64), e["post"].astype(np.int64)
    weight, r.weight_source = programmed_weights(con, r.options.weight, path)
    _warn_fallback(r.weight_source)
    delay = e["delay_ms"].astype(np.float64)
    bad = ~np.isfinite(weight)
    if bad.any():
        raise _nonfinite_error(pre_id, post_id, bad, "weight_mv", path)
    if con.n_neurons and int(con.neuron_id.min()) < 0:
        neg = con.neuron_id[con.neuron_id < 0]
        raise ConnectomeFormatError(f"{len(neg)} neuron id(s) are negative (e.g. {int(neg[0])}); a "
                                    "programming map needs ids ≥ 0 (−1 marks unused rows and columns)", path)
    gid, r.groups = _groups(e["kind"], weight, delay, r.enc.scheme, int(r.options.delay_buckets), pre_id,
                            post_id,
                            path)
    gid, pre_id, post_id, weight, delay, r.merged = _merge_parallel(gid, pre_id, post_id, weight, delay)
    bad = ~np.isfinite(weight)
    if bad.any():  # finite edges whose sum overflows
        raise _nonfinite_error(pre_id, post_id, bad, "weight_mv once parallel edges are summed", path)
    r.gid, r.pre_id, r.post_id, r.weight, r.delay = gid, pre_id, post_id, weight, delay
    r.pre_ix = con.index_of(pre_id) if len(pre_id) else np.zeros(0, np.int64)
    r.post_ix = con.index_of(post_id) if len(post_id) else np.zeros(0, np.int64)


def _stage_quantise(r: _Run) -> None:
    """Weights → levels: full scale, quantisation, cells per synapse."""
    r.full_scale = mapping.full_scale_mv(r.weight, r.options.full_scale)
    r.quant = mapping.quantise(r.weight, r.full_scale, r.enc.levels, r.enc.slices)
    _warn_dynamic_range(r.quant, r.tech, r.enc, r.options.full_scale)
    r.cellsyn = mapping.encode_cells(r.quant, r.enc)


def _stage_partition(r: _Run) -> None:
    """Tiling (the chosen partitioner)."""
    o, n = r.options, r.con.n_neurons
    need_graph = len(r.pre_ix) and (o.partitioner != "identity" or o.baselines)
    r.adj = tiling.symmetric_graph(n, r.pre_ix, r.post_ix) if need_graph else None
    r.til = tiling.tile_synapses(n, r.pre_ix, r.post_ix, r.gid, r.rows, r.col_slots, o.partitioner, o.seed,
                                 adj=r.adj)


def _stage_baselines(r: _Run) -> None:
    """Tile counts of the baseline orderings, for the summary."""
    o = r.options
    r.baselines = report.tile_baselines(r.con.n_neurons, r.pre_ix, r.post_ix, r.gid, r.rows, r.col_slots,
                                        r.til,
                                        o.seed, orderings=o.baselines, adj=r.adj)
    r.adj = None


def _stage_cells(r: _Run) -> None:
    """The ``/cells`` table: every cell of every synapse at its tile, row and column."""
    enc, til, cs = r.enc, r.til, r.cellsyn
    assert cs is not None  # set by _stage_quantise
    s = cs["synapse"]
    c_tile = til.tile[s]
    c_row = til.row[s]
    c_col = til.syn_slot[s] * enc.cols_per_neuron + cs["col_offset"]
    # keys are unique: any sort is deterministic
    order = np.argsort((c_tile * r.rows + c_row) * r.cols + c_col)
    c = r.tech.conductance
    r.dg = (c.g_max_us - c.g_min_us) / (enc.levels - 1)
    level = cs["level"][order]
    r.cells = {"tile": c_tile[order], "row": c_row[order], "col": c_col[order], "pre": r.pre_id[s[order]],
               "post": r.post_id[s[order]], "polarity": cs["polarity"][order],
               "significance": cs["significance"][order], "level": level,
               "g_target_us": c.g_min_us + level * r.dg}
    r.cell_syn = s[order]
    r.cellsyn = None


def _stage_pulses(r: _Run) -> None:
    """Write pulses per cell (program-and-verify simulation) and per tile row."""
    r.pulses = schedule.simulate_pulses(r.cells["level"], r.enc.levels, r.tech, r.options.seed)
    r.cells["pulses"] = r.pulses.pulses.astype(np.int32)
    r.cells["unverified"] = r.pulses.unverified.astype(np.uint8)
    r.jobs = schedule.row_jobs(r.cells["tile"], r.cells["row"], r.pulses.pulses, r.tech)


def _stage_placement(r: _Run) -> None:
    """3D placement, balancing the tiles' programming time over layers."""
    r.place = placement.place_tiles(r.til.n_tiles, r.layers, schedule.tile_busy_us(r.jobs, r.til.n_tiles,
                                                                                   r.tech))


def _stage_schedule(r: _Run) -> None:
    """The programming schedule (a stack at a time, stacks on power-limited lanes)."""
    r.sched = schedule.build_schedule(r.jobs, r.til.n_tiles, r.tech, float(r.options.power_budget_mw),
                                      tile_unit=r.place.stack)


def _stage_tables(r: _Run) -> None:
    """Tables, root attributes, summary and manifest of the map."""
    o, tech, enc, con = r.options, r.tech, r.enc, r.con
    tiles = report.tile_table(r.til, r.place, r.groups, enc, r.cols, con.neuron_id)
    synapses = {"pre": r.pre_id, "post": r.post_id, "group": r.gid, "weight_mv": r.weight,
                "delay_ms": r.delay,
                "clipped": r.quant.clipped.astype(np.uint8)}
    tables = {"groups": r.groups, "tiles": tiles, "cells": r.cells, "schedule": r.sched.as_columns(),
              "synapses": synapses}
    c = tech.conductance
    mv_per_us = r.quant.step_mv / r.dg
    unit = weight_unit(con)
    # weight is recorded only when it is not the default, so that default maps keep the bytes they had before it
    params = {k: v for k, v in asdict(o).items() if k not in ("technology_file", "baselines")
              and not (k == "weight" and v == "mean")}
    params.update({"rows": r.rows, "cols": r.cols, "layers": r.layers, "scheme": enc.scheme,
                   "levels": enc.levels,
                   "slices": enc.slices, "weight_unit": unit})
    attrs = {"format": FORMAT, "format_version": FORMAT_VERSION, "technology": tech.name, "rows": r.rows,
             "cols": r.cols, "layers": r.layers, "levels": enc.levels, "g_min_us": float(c.g_min_us),
             "g_max_us": float(c.g_max_us), "mv_per_us": float(mv_per_us), "scheme": enc.scheme,
             "slices": enc.slices, "full_scale_mv": float(r.full_scale), "partitioner": o.partitioner,
             "seed": int(o.seed), "power_budget_mw": float(o.power_budget_mw),
             "erase_us": float(tech.write.erase_us),
             "parameters": json.dumps({"options": params, "technology": tech.to_dict()}, sort_keys=True)}
    summary = report.summarise(tech=tech, enc=enc, rows=r.rows, cols=r.cols, layers=r.layers, con=con,
                               quant=r.quant, cells=r.cells, cell_syn=r.cell_syn, pulses=r.pulses,
                               sched=r.sched, til=r.til, place=r.place, groups=r.groups, merged=r.merged,
                               baselines=r.baselines,
                               synapses=synapses, delay_buckets=int(o.delay_buckets),
                               full_scale_policy=o.full_scale, weight_source=r.weight_source)
    summary["weight_unit"] = unit
    pm = ProgrammingMap(attrs=attrs, tables=tables, summary=summary)
    pm.sidecar = {"tile_cell_utilisation": [round(float(v), 6) for v in
                                            report.tile_utilisation(r.cells, r.til.n_tiles, r.rows, r.cols)]}
    pm.manifest = {"source": {"files": dict(sorted((r.source_files or {}).items())),
                              "edges_sha256": edges_sha256(con), "neurons": int(con.n_neurons),
                              "edges": int(con.n_edges)}}
    if o.weight != "mean":  # the column programmed is not among the edges_sha256 columns
        col = r.weight_source["column"]
        pm.manifest["source"][f"{col}_sha256"] = edges_sha256(con, (col,))
    r.map = pm


#: The stages of :func:`compile_connectome`, in order: (progress name, timing key, function).
STAGES = (("groups", "groups_s", _stage_groups), ("quantise", "quantise_s", _stage_quantise),
          ("partition", "tiling_s", _stage_partition), ("baselines", "baselines_s", _stage_baselines),
          ("cells", "cells_s", _stage_cells), ("schedule", "schedule_s", _stage_pulses),
          ("placement", "placement_s", _stage_placement), ("schedule", "schedule_s", _stage_schedule),
          ("tables", "tables_s", _stage_tables))


def compile_connectome(con, options: CompileOptions = CompileOptions(), tech=None, source_path=None,
                       source_files: dict | None = None, progress=None) -> ProgrammingMap:
    """Compile ``con`` for a technology; returns the :class:`ProgrammingMap` (not yet written).

    Runs the named :data:`STAGES` in order (each a function of this module).

    Parameters
    ----------
    con : Connectome
    options : CompileOptions
    tech : Technology, optional
        Overrides ``options.technology`` / ``technology_file``.
    source_path : path, optional
        Named in error messages.
    source_files : dict, optional
        ``{file name: sha256}`` of the source files, recorded in the manifest.
    progress : callable, optional
        Called with a short stage name as each stage starts.
    """
    say = progress or (lambda stage: None)
    t_all = time.perf_counter()
    if tech is None:
        tech = load_technology(options.technology, options.technology_file)
    r = _Run(con, options, tech, source_path, source_files)
    _stage_geometry(r)
    shown = None
    for name, key, stage in STAGES:
        if name != shown:
            say(name)
            shown = name
        t = time.perf_counter()
        stage(r)
        r.times[key] = r.times.get(key, 0.0) + time.perf_counter() - t
    pm = r.map
    r.times["compile_s"] = time.perf_counter() - t_all
    pm.timings = {k: round(v, 3) for k, v in r.times.items()}
    pm.timings.update({k: v for k, v in r.til.info.items() if k.endswith("_s")})
    return pm
