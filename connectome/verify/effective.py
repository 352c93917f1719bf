"""The pasted network as the chip would read it: every physical cell of every synapse, with non-idealities.

A map lists the cells that were programmed (``/cells``). On a differential
map each of them has a partner on the other polarity column of the same
postsynaptic neuron and significance, left in the reset state ``g_min`` and
not listed (docs/formats-progmap.md). That partner is a real device: it has
its own programming spread (of the reset state), drift, read noise and may be
stuck, and the chip reads the difference of the two. :func:`physical_cells`
adds these partners; :func:`effective_weights` applies
:mod:`.nonideal` to every physical cell and decodes, per synapse,

    w_eff = ADC( α_tile · Σ_cells polarity · significance · (G_read − g_min) · f_line · mv_per_us )

(α = 1 without global drift compensation; f_line, the share of the input
voltage a cell sees after the wires' IR drop, and ADC, the column
converter's rounding, from :mod:`.readout`; both 1/identity with
``readout=False``), next to the ideal decode
``w_ideal`` (the programmed targets: quantisation and clipping only).

Random draws come from one stream per non-ideality, seeded by
``(seed, stream)``: changing one scale (say the programming noise) leaves the
draws of the others unchanged, and the same seed gives the same result.

Examples
--------
>>> from connectome.graph import Connectome
>>> from connectome.compile import CompileOptions, compile_connectome
>>> c = Connectome.from_edges([0, 1, 2], [1, 2, 0], weight_mv=[0.5, -0.25, 1.0])
>>> pm = compile_connectome(c, CompileOptions(technology="rram", rows=4, cols=4, layers=1))
>>> cells = physical_cells(pm)
>>> int(cells.n_listed), int(cells.n_partners)
(3, 3)
>>> quiet = NonIdealities(programming_noise_scale=0, read_noise_scale=0, readout=False)
>>> ew = effective_weights(pm, cells, quiet, seed=0)   # no noise, ideal read-out: the quantised weights
>>> [round(float(w), 3) for w in ew.w_eff], bool((ew.w_eff == ew.w_ideal).all())
([0.511, -0.255, 0.99], True)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from ..devices import Technology, load_technology
from ..devices.models import technology_from_dict
from ..errors import ConfigError, MapError
from . import nonideal as ni

#: Seed-stream tags (one independent stream per non-ideality)
STREAMS = {"programming": 1, "programming_flip": 2, "drift": 3, "read_now": 4, "read_reference": 5,
           "stuck": 6, "stuck_kind": 7}


@dataclass(frozen=True)
class NonIdealities:
    """What :func:`effective_weights` applies.

    Attributes
    ----------
    after_s : float
        Time since programming ended (s): drift and accumulated 1/f read noise.
    drift_compensation : bool
        Global drift compensation per tile (Joshi et al. 2020).
    programming_noise_scale, read_noise_scale, drift_scale : float
        Multiply the technology's programming spread, read noise and drift
        exponents (1 = the model; 0 switches one off).
    stuck_fraction : float
        Fraction of physical cells stuck (default 0: no published rate is used).
    stuck_on_share : float
        Share of stuck cells stuck at g_max (the rest at g_min); 0.5 by assumption.
    readout : bool
        Apply the read-out non-idealities of the technology's ``[readout]``
        table (:mod:`.readout`: wire IR drop, sneak paths, ADC precision).
    input_activity : float
        Share of a tile's rows driven at once during a read, in (0, 1]; 1
        (every row, as a dense matrix-vector product) is the worst case for
        the IR drop along the columns.
    """

    after_s: float = 0.0
    drift_compensation: bool = True
    programming_noise_scale: float = 1.0
    read_noise_scale: float = 1.0
    drift_scale: float = 1.0
    stuck_fraction: float = 0.0
    stuck_on_share: float = 0.5
    readout: bool = True
    input_activity: float = 1.0

    def __post_init__(self):
        checks = [("after_s", np.isfinite(self.after_s) and self.after_s >= 0),
                  ("programming_noise_scale", self.programming_noise_scale >= 0),
                  ("read_noise_scale", self.read_noise_scale >= 0), ("drift_scale", self.drift_scale >= 0),
                  ("stuck_fraction", 0 <= self.stuck_fraction <= 1),
                  ("stuck_on_share", 0 <= self.stuck_on_share <= 1),
                  ("readout", isinstance(self.readout, bool)),
                  ("input_activity", np.isfinite(self.input_activity) and 0 < self.input_activity <= 1)]
        for name, ok in checks:
            if not ok:
                raise ConfigError(f"invalid verify parameter {name}={getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PhysicalCells:
    """Every physical cell that carries a synapse: the listed ones, then their reset partners."""

    tile: np.ndarray
    g_target_us: np.ndarray
    polarity: np.ndarray
    significance: np.ndarray
    synapse: np.ndarray     # index into /synapses
    n_listed: int
    n_partners: int
    row: np.ndarray | None = None
    col: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.tile)


def map_technology(pm, path=None):
    """The technology a map was compiled for, from the description the map records."""
    try:
        params = json.loads(pm.attrs.get("parameters") or "{}")
    except ValueError:
        raise MapError("root attribute parameters is not JSON", path) from None
    d = params.get("technology")
    if isinstance(d, dict) and d:
        return technology_from_dict(d, f"map:{d.get('name', pm.attrs.get('technology'))}", path)
    return load_technology(str(pm.attrs["technology"]))


def _dense(*arrays):
    """Dense indices of ids over the union of several id arrays."""
    from ..compile.tiling import unique_sorted  # sort based: numpy 2's hashing np.unique is slow on 10⁷ keys

    u = unique_sorted(np.concatenate([np.asarray(a, np.int64) for a in arrays]))
    return [np.searchsorted(u, a) for a in arrays], len(u)


def _member(sorted_keys: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.isin(q, sorted_keys)`` for sorted keys, by binary search."""
    if len(sorted_keys) == 0:
        return np.zeros(len(q), bool)
    pos = np.minimum(np.searchsorted(sorted_keys, q), len(sorted_keys) - 1)
    return sorted_keys[pos] == q


def synapse_of_cells(pm) -> np.ndarray:
    """Index into ``/synapses`` of every listed cell (:class:`MapError` if a cell has no synapse)."""
    cells, syn, tiles = pm.tables["cells"], pm.tables["synapses"], pm.tables["tiles"]
    n = len(cells["tile"])
    if n == 0:
        return np.zeros(0, np.int64)
    cg = tiles["group"][cells["tile"]].astype(np.int64)
    (cp, cq, sp, sq), k = _dense(cells["pre"], cells["post"], syn["pre"], syn["post"])
    ck = (cg * k + cp) * k + cq
    sk = (syn["group"].astype(np.int64) * k + sp) * k + sq
    order = np.argsort(sk, kind="stable")
    pos = np.searchsorted(sk[order], ck)
    pos = np.minimum(pos, len(sk) - 1)
    if len(sk) == 0 or not np.array_equal(sk[order][pos], ck):
        raise MapError("a cell belongs to no synapse of /synapses")
    return order[pos]


def physical_cells(pm) -> PhysicalCells:
    """Listed cells plus the unlisted reset partner of each on a differential map."""
    a, cells, tiles = pm.attrs, pm.tables["cells"], pm.tables["tiles"]
    g_min = float(a["g_min_us"])
    syn = synapse_of_cells(pm)
    t = cells["tile"].astype(np.int64)
    r = cells["row"].astype(np.int64)
    pol = cells["polarity"].astype(np.int64)
    sig = cells["significance"].astype(np.int64)
    n = len(t)
    parts = {"tile": [t], "g": [cells["g_target_us"].astype(np.float64)], "pol": [pol], "sig": [sig],
             "syn": [syn],
             "row": [r], "col": [cells["col"].astype(np.int64)]}
    n_part = 0
    cp = tiles["col_polarity"]
    if n and cp.size and (cp > 0).any() and (cp < 0).any():
        # every used column of every tile, keyed by (tile, neuron, polarity, significance)
        cn, cs = tiles["col_neuron"], tiles["col_significance"]
        tt, cc = np.nonzero(cn >= 0)
        (n_col, n_cell), k = _dense(cn[tt, cc], cells["post"])
        s_col = cs[tt, cc].astype(np.int64)
        (sd_col, sd_cell), ks = _dense(s_col, sig)
        key_col = ((tt * k + n_col) * ks + sd_col) * 2 + (cp[tt, cc] > 0)
        want = ((t * k + n_cell) * ks + sd_cell) * 2 + (pol < 0)  # the opposite polarity
        o = np.argsort(key_col, kind="stable")
        pos = np.minimum(np.searchsorted(key_col[o], want), max(len(o) - 1, 0))
        has = key_col[o][pos] == want if len(o) else np.zeros(n, bool)
        pcol = cc[o][pos]
        # a partner position that is itself listed is not a reset partner
        rows, cols = int(a["rows"]), int(a["cols"])
        listed = (t * rows + r) * cols + cells["col"].astype(np.int64)  # increasing: cells are sorted
        pkey = (t * rows + r) * cols + pcol
        free = has & ~_member(listed, pkey)
        idx = np.flatnonzero(free)
        n_part = len(idx)
        parts["tile"].append(t[idx])
        parts["g"].append(np.full(n_part, g_min))
        parts["pol"].append(-pol[idx])
        parts["sig"].append(sig[idx])
        parts["syn"].append(syn[idx])
        parts["row"].append(r[idx])
        parts["col"].append(pcol[idx].astype(np.int64))
    return PhysicalCells(tile=np.concatenate(parts["tile"]), g_target_us=np.concatenate(parts["g"]),
                         polarity=np.concatenate(parts["pol"]), significance=np.concatenate(parts["sig"]),
                         synapse=np.concatenate(parts["syn"]), n_listed=n, n_partners=n_part,
                         row=np.concatenate(parts["row"]), col=np.concatenate(parts["col"]))


@dataclass
class Effective:
    """Decoded weights per map synapse and what happened to the cells."""

    w_eff: np.ndarray
    w_ideal: np.ndarray
    stuck_any: np.ndarray        # per synapse: a cell stuck away from its target
    stuck_top: np.ndarray        # per synapse: a cell of its highest significance stuck away from its target
    n_stuck_cells: int
    alpha: np.ndarray            # per tile (1 without compensation)
    technology: Technology
    line_factor: np.ndarray | None = None  # per physical cell: share of the input voltage across it (IR drop)


def _stream(seed: int, name: str):
    return np.random.default_rng(np.random.SeedSequence([int(seed), STREAMS[name]]))


def effective_weights(pm, cells: PhysicalCells, nonid: NonIdealities, seed: int = 0, tech=None) -> Effective:
    """Apply the non-idealities to every physical cell and decode every synapse (see module docstring)."""
    tech = tech or map_technology(pm)
    a = pm.attrs
    g_min, g_max = float(a["g_min_us"]), float(a["g_max_us"])
    mv = float(a["mv_per_us"])
    levels = int(a["levels"])
    n = cells.n
    m = len(pm.tables["synapses"]["pre"])
    n_tiles = len(pm.tables["tiles"]["tile"])
    g_t = cells.g_target_us
    weight = cells.polarity * cells.significance.astype(np.float64) * mv
    w_ideal = np.bincount(cells.synapse, weights=weight * (g_t - g_min), minlength=m)

    g_prog = ni.program(tech, g_t, levels, _stream(seed, "programming").standard_normal(n),
                        _stream(seed, "programming_flip").random(n), nonid.programming_noise_scale)
    if ni.has_drift(tech) and nonid.after_s > 0 and nonid.drift_scale > 0:
        nu = ni.drift_exponents(tech, g_t, _stream(seed, "drift").standard_normal(n), nonid.drift_scale)
        g_now = ni.apply_drift(g_prog, nu, nonid.after_s, ni.drift_t0_s(tech))
        del nu
    else:
        g_now = g_prog
    states = ni.stuck_states(_stream(seed, "stuck").random(n), _stream(seed, "stuck_kind").random(n),
                             nonid.stuck_fraction, nonid.stuck_on_share)
    if nonid.stuck_fraction > 0:
        g_prog = ni.apply_stuck(g_prog, states, g_min, g_max)
        g_now = ni.apply_stuck(g_now, states, g_min, g_max)
    g_read = ni.read(tech, g_now, g_prog, nonid.after_s, _stream(seed, "read_now").standard_normal(n),
                     nonid.read_noise_scale)
    alpha = np.ones(n_tiles)
    if nonid.drift_compensation and n:
        ref = ni.read(tech, g_prog, g_prog, 0.0, _stream(seed, "read_reference").standard_normal(n),
                      nonid.read_noise_scale)
        alpha = ni.compensation_factors(ref, g_read, cells.tile, n_tiles)
        del ref
    f = np.ones(n)
    if nonid.readout and n:
        from .readout import line_factors

        r = tech.readout
        f = line_factors(cells.tile, cells.row, cells.col, g_read, rows=int(a["rows"]), cols=int(a["cols"]),
                         g_min_us=g_min, wire_ohm=float(r.wire_ohm_per_cell), selector=bool(r.selector),
                         activity=nonid.input_activity, n_tiles=n_tiles)
    w_eff = np.bincount(cells.synapse, weights=weight * (g_read - g_min) * f * alpha[cells.tile], minlength=m)
    if nonid.readout:
        from .readout import adc_quantise

        r = tech.readout
        w_eff = adc_quantise(w_eff, float(a["full_scale_mv"]), int(r.adc_bits), float(r.adc_range_inputs))
    off_target = ((states == ni.STUCK_OFF) & (g_t != g_min)) | ((states == ni.STUCK_ON) & (g_t != g_max))
    stuck_any = np.bincount(cells.synapse, weights=off_target, minlength=m) > 0
    top = np.zeros(m, np.int64)
    np.maximum.at(top, cells.synapse, cells.significance)
    is_top = cells.significance == top[cells.synapse]
    stuck_top = np.bincount(cells.synapse, weights=off_target & is_top, minlength=m) > 0
    return Effective(w_eff=w_eff, w_ideal=w_ideal, stuck_any=stuck_any, stuck_top=stuck_top,
                     n_stuck_cells=int(np.count_nonzero(states)), alpha=alpha, technology=tech, line_factor=f)
