"""Structural fidelity of a pasted network: copied vs effective weights, and the verify report.

Synapses are compared by (class, pre, post), class = electrical or chemical,
as ``compile`` groups them: parallel edges of one class are summed on both
sides. A copied synapse the map does not hold counts as effective weight 0
(``missing_from_map``); a map synapse the connectome lacks is counted
(``extra_in_map``) but not compared.

Definitions (all in docs/fidelity.md):

- **lost**: a synapse whose copied |w| is at least the threshold and whose
  effective |w| is below it, or whose cell of highest significance is stuck
  away from its target (the weight is then set by the defect, not by
  programming), or that the map does not hold. The threshold defaults to half
  a quantisation step (``0.5 · mv_per_us · Δg``): the rule by which
  ``compile`` rounds a weight to code 0, so an effective weight below it
  reads as "no synapse".
- **sign flip**: copied and effective weights of opposite sign, counted over
  the synapses whose copied |w| reaches the threshold (a weight that
  quantises to code 0 has no sign on the chip; the sign its noise takes is
  not a flip).
- **relative error by decile**: synapses sorted by copied |w| and cut into
  ten groups of (nearly) equal size; per group the mean of
  |w_eff − w| / |w| and the RMS of w_eff − w.

Examples
--------
>>> import numpy as np
>>> w = np.array([1.0, -2.0, 0.5, 3.0])
>>> m = weight_metrics(w, w * 1.1, threshold_mv=0.1)
>>> m["pearson"], m["sign_flips"], m["lost"], round(m["mean_abs_rel_error"], 3)
(1.0, 0, 0, 0.1)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path

FORMAT = "connectome-verify"
FORMAT_VERSION = 1


@dataclass
class Joined:
    """Copied synapses (by class, pre, post) with their effective and ideal pasted weights."""

    pre: np.ndarray
    post: np.ndarray
    electrical: np.ndarray
    w_copy: np.ndarray
    delay_ms: np.ndarray
    w_eff: np.ndarray
    w_ideal: np.ndarray
    in_map: np.ndarray
    stuck_top: np.ndarray
    stuck_any: np.ndarray
    extra_pre: np.ndarray        # map synapses absent from the connectome
    extra_post: np.ndarray
    extra_electrical: np.ndarray
    extra_w_eff: np.ndarray
    extra_delay_ms: np.ndarray


def _aggregate(key, values: dict):
    """Sum (or, for 'delay_ms', average the finite values) per distinct key; keys sorted."""
    o = np.argsort(key, kind="stable")
    k = key[o]
    if len(k) == 0:
        return k, {n: v[:0] for n, v in values.items()}
    start = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
    out = {}
    for name, v in values.items():
        v = np.asarray(v)[o]
        if name == "delay_ms":
            fin = np.isfinite(v)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[name] = np.add.reduceat(np.where(fin, v, 0.0),
                                            start) / np.add.reduceat(fin.astype(float), start)
        elif v.dtype == bool:
            out[name] = np.logical_or.reduceat(v, start)
        else:
            out[name] = np.add.reduceat(v.astype(np.float64), start)
    return k[start], out


def join(con, pm, eff, weight=None) -> Joined:
    """Match the connectome's synapses with the map's (see module docstring).

    ``weight``: the copied weight of every edge (default its ``weight_mv``):
    the weights the map was compiled from
    (:func:`connectome.compile.compiler.programmed_weights`).
    """
    e = con.edges
    syn, groups = pm.tables["synapses"], pm.tables["groups"]
    c_cls = (np.asarray(e["kind"]) == 3).astype(np.int64)
    m_cls = np.asarray(groups["cls"], np.int64)[syn["group"]] if len(syn["group"]) else np.zeros(0, np.int64)
    from ..compile.tiling import unique_sorted  # sort based: numpy 2's hashing np.unique is slow on 10⁷ keys
    from .effective import _member

    ids = unique_sorted(np.concatenate([np.asarray(e["pre"], np.int64), np.asarray(e["post"], np.int64),
                                        syn["pre"], syn["post"]]))
    k = max(len(ids), 1)
    ck = (c_cls * k + np.searchsorted(ids, e["pre"])) * k + np.searchsorted(ids, e["post"])
    mk = (m_cls * k + np.searchsorted(ids, syn["pre"])) * k + np.searchsorted(ids, syn["post"])
    ck, cv = _aggregate(ck, {"w": np.asarray(e["weight_mv"] if weight is None else weight, np.float64),
                             "delay_ms": np.asarray(e["delay_ms"], np.float64)})
    mk, mv = _aggregate(mk, {"w_eff": eff.w_eff, "w_ideal": eff.w_ideal, "stuck_top": eff.stuck_top,
                             "stuck_any": eff.stuck_any, "delay_ms": np.asarray(syn["delay_ms"], np.float64)})
    pos = np.minimum(np.searchsorted(mk, ck), max(len(mk) - 1, 0))
    hit = (mk[pos] == ck) if len(mk) else np.zeros(len(ck), bool)
    def take(name, fill):
        return np.where(hit, mv[name][pos], fill) if len(mk) else np.full(len(ck), fill)
    extra = ~_member(ck, mk)  # both sorted and distinct after aggregation
    decode = lambda key: (ids[(key // k) % k], ids[key % k], (key // (k * k)).astype(bool))  # noqa: E731
    pre, post, el = decode(ck)
    xpre, xpost, xel = decode(mk[extra])
    return Joined(pre=pre, post=post, electrical=el, w_copy=cv["w"], delay_ms=cv["delay_ms"],
                  w_eff=take("w_eff", 0.0), w_ideal=take("w_ideal", 0.0), in_map=hit,
                  stuck_top=take("stuck_top", False).astype(bool), stuck_any=take("stuck_any",
                                                                                  False).astype(bool),
                  extra_pre=xpre, extra_post=xpost, extra_electrical=xel, extra_w_eff=mv["w_eff"][extra],
                  extra_delay_ms=mv["delay_ms"][extra])


def _num(x, nd=6):
    """A JSON-safe rounded float (None for NaN/inf)."""
    x = float(x)
    return round(x, nd) if math.isfinite(x) else None


def _pearson(a, b) -> float:
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _spearman(a, b) -> float:
    from scipy.stats import rankdata

    if len(a) < 2:
        return float("nan")
    return _pearson(rankdata(a), rankdata(b))


def decile_table(w_copy, w_est, n_groups: int = 10) -> list:
    """Relative error per group of synapses sorted by copied |w| (see module docstring)."""
    a = np.abs(w_copy)
    o = np.argsort(a, kind="stable")
    rows = []
    for i, idx in enumerate(np.array_split(o, n_groups)):
        if idx.size == 0:
            continue
        w, e = w_copy[idx], w_est[idx]
        nz = np.abs(w) > 0
        rel = np.abs(e[nz] - w[nz]) / np.abs(w[nz])
        rows.append({"decile": i + 1, "n": int(idx.size), "abs_w_min_mv": _num(a[idx].min()),
                     "abs_w_max_mv": _num(a[idx].max()),
                     "mean_abs_rel_error": _num(rel.mean()) if rel.size else None,
                     "rms_error_mv": _num(np.sqrt(np.mean((e - w) ** 2)))})
    return rows


def weight_metrics(w_copy, w_est, threshold_mv: float, stuck_top=None, in_map=None) -> dict:
    """Correlations, sign flips, lost synapses and errors of ``w_est`` against ``w_copy``."""
    w_copy = np.asarray(w_copy, np.float64)
    w_est = np.asarray(w_est, np.float64)
    n = len(w_copy)
    stuck_top = np.zeros(n, bool) if stuck_top is None else np.asarray(stuck_top, bool)
    in_map = np.ones(n, bool) if in_map is None else np.asarray(in_map, bool)
    representable = np.abs(w_copy) >= threshold_mv
    below = representable & (np.abs(w_est) < threshold_mv)
    lost = below | stuck_top | ~in_map
    flips = representable & ((w_copy * w_est) < 0)
    err = w_est - w_copy
    rel = np.abs(err[representable]) / np.abs(w_copy[representable])
    return {
        "synapses": int(n),
        "pearson": _num(_pearson(w_copy, w_est)),
        "spearman": _num(_spearman(w_copy, w_est)),
        "sign_flips": int(flips.sum()),
        "sign_flip_fraction": _num(flips.sum() / representable.sum()) if representable.any() else None,
        "lost": int(lost.sum()),
        "lost_fraction": _num(lost.mean()) if n else None,
        "lost_below_threshold": int(below.sum()),
        "lost_stuck": int((stuck_top & in_map).sum()),
        "missing_from_map": int((~in_map).sum()),
        "below_threshold_copied": int((~representable).sum()),
        "rms_error_mv": _num(np.sqrt(np.mean(err ** 2))) if n else None,
        "mean_abs_rel_error": _num(rel.mean()) if rel.size else None,
        "median_abs_rel_error": _num(np.median(rel)) if rel.size else None,
    }


# ----------------------------------------------------------------- the report
def default_report_path(map_path) -> Path:
    """``MAP.verify.json`` next to the map.

    ``x.map.h5`` → ``x.map.verify.json``, ``x.zarr`` → ``x.verify.json``.
    """
    p = Path(map_path)
    return p.with_name((p.name[: -len(p.suffix)] if p.suffix else p.name) + ".verify.json")


def write_report(report: dict, path) -> Path:
    """Write the report as JSON, atomically (sorted keys: same report, same bytes)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(report, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def _f(v, fmt="{:.4f}"):
    return "–" if v is None else fmt.format(v)


def _readout_line(ro) -> str:
    if not ro or not ro.get("applied"):
        return "read-out        ideal (not applied)"
    return (f"read-out        wires {ro['wire_ohm_per_cell']:g} Ω/cell, "
            f"{'selector' if ro['selector'] else 'no selector (sneak paths)'}, "
            f"{ro['input_activity']:g} of rows driven: IR-drop factor min "
            f"{_f(ro.get('line_factor_min'), '{:.3f}')}, median "
            f"{_f(ro.get('line_factor_median'), '{:.3f}')}; ADC {ro['adc_bits']} bits over "
            f"±{ro['adc_range_inputs']:g} full scales, DAC {ro['dac_bits']} bit(s)")


def format_report(r: dict) -> str:
    """The report as aligned lines and a decile table."""
    p, w, q, d = r["parameters"], r["weights"], r["quantisation_only"], r["device"]
    u = r["map"].get("weight_unit") or "mV"  # spike-train maps: excess spikes per presynaptic spike
    comp = d["compensation"]
    lines = [
        f"map             {r['map']['path']}  ({r['map']['technology']}, {r['map']['scheme']}, "
        f"{r['map']['levels']} levels × {r['map']['slices']} slice(s))",
        f"connectome      {r['connectome']['path']}  ({r['connectome']['edges']} edges"
        + ("" if r["connectome"]["matches_map_source"] else "; not the connectome the map was compiled from")
        + ")",
        f"device          {d['physical_cells']} physical cells ({d['partner_cells']} reset partners), "
        f"{d['stuck_cells']} stuck; drift {'yes' if d['drift_model'] else 'no model'}; after {p['after']} "
        f"({p['after_s']:g} s); compensation "
        + (f"on (α median {_f(comp['alpha_median'], '{:.3f}')})" if p["drift_compensation"] else "off"),
        _readout_line(d.get("readout")),
        f"synapses        {w['synapses']} copied, {r['map']['synapses']} in the map "
        f"({w['missing_from_map']} copied ones missing, {r['extra_in_map']} extra)",
        f"correlation     Pearson {_f(w['pearson'])}, Spearman {_f(w['spearman'])}  "
        f"(quantisation only: {_f(q['pearson'])}, {_f(q['spearman'])})",
        f"sign flips      {w['sign_flips']} ({100 * (w['sign_flip_fraction'] or 0):.2f} %)",
        f"lost            {w['lost']} ({100 * (w['lost_fraction'] or 0):.2f} %): "
        f"{w['lost_below_threshold']} below "
        f"{p['lost_threshold_mv']:.4g} {u}, {w['lost_stuck']} stuck, {w['missing_from_map']} missing",
        f"error           {_f(w['rms_error_mv'])} {u} rms, mean |Δw|/|w| {_f(w['mean_abs_rel_error'])} "
        f"(quantisation only: {_f(q['rms_error_mv'])} {u}, {_f(q['mean_abs_rel_error'])})",
        "",
        f"decile  |w| range ({u})".ljust(30) + "n      mean |Δw|/|w|  rms Δw" + f" ({u})",
    ]
    for row in r["deciles"]:
        lo, hi = _f(row['abs_w_min_mv'], '{:.4g}'), _f(row['abs_w_max_mv'], '{:.4g}')
        lines.append(f"{row['decile']:>6}  {lo:>8} – {hi:<9}"
                     f"{row['n']:>7}  {_f(row['mean_abs_rel_error']):>13}  {_f(row['rms_error_mv']):>11}")
    fn = r.get("functional")
    if fn:
        lines += ["", f"functional      fidelity {_f(fn['score'], '{:.3f}')} "
                      "(same network, other input seed: "
                      f"{_f(fn.get('reference_score'), '{:.3f}')}; "
                      f"normalised {_f(fn.get('score_normalised'), '{:.3f}')}); "
                      f"{fn['neurons']} neurons, {fn['duration_s']:g} s"]
        for k in ("rate_correlation", "rate_abs_rel_diff", "correlation_of_correlations"):
            lines.append(f"  {k:<28}{_f(fn[k])}")
        ba, bb = fn["bursts_copied"], fn["bursts_pasted"]
        lines.append(f"  {'network bursts /s':<28}{_f(ba['rate_hz'], '{:.3f}')} copied, "
                     f"{_f(bb['rate_hz'], '{:.3f}')} pasted; mean duration "
                     f"{_f(ba['mean_duration_ms'], '{:.0f}')} vs {_f(bb['mean_duration_ms'], '{:.0f}')} ms")
        lines.append(f"  {'mean rate (Hz)':<28}{_f(fn['mean_rate_copied_hz'], '{:.3f}')} copied, "
                     f"{_f(fn['mean_rate_pasted_hz'], '{:.3f}')} pasted")
    return "\n".join(lines)
