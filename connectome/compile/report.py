"""The ``/tiles`` table, tile-count baselines and the compile summary.

Estimates in the summary, and what they assume:

- **area** — cell array only, periphery (drivers, ADCs, decoders) excluded:
  a tile is ``rows × cols × cell_area_f2 × feature_nm²``; the footprint is
  ``stacks`` tiles (layers share it), the total silicon is ``tiles`` tiles.
- **programming time and energy** — from the schedule (write pulses and
  verify reads only; flash block erase time included, its energy not
  modelled).
- **weight source** — which edge column was programmed
  (``CompileOptions.weight``): absent for the default ``weight_mv``; for
  ``"rested"`` the column and how many edges fell back to ``weight_mv``
  (:func:`weight_source_summary`).
- **expected weight error** — RMS over unclipped synapses of the
  quantisation error (decoded − source, exact) combined with the
  programming spread of each cell after write-verify
  (:mod:`connectome.devices.noise`), in mV and relative to the full scale;
  drift and read noise are time-dependent and left to ``verify``.

Examples
--------
>>> lower_bound(1000, 16, 16)
4
"""

from __future__ import annotations

import numpy as np

from ..devices.noise import programming_sigma_us
from . import mapping, tiling


def lower_bound(synapses: int, rows: int, cols: int) -> int:
    """⌈synapses / (rows · cols)⌉: tiles needed if every cell held a synapse."""
    return -(-int(synapses) // (int(rows) * int(cols))) if synapses else 0


def tile_baselines(n, pre_ix, post_ix, gid, rows, col_slots, til, seed, orderings: bool = True,
                   adj=None) -> dict:
    """Tile counts for comparison: the naive identity-order grid, and (``orderings``) RCM and identity."""
    out = {"naive_identity_grid": tiling.grid_tile_count(pre_ix, post_ix, gid, rows, col_slots)}
    for name in ("identity", "rcm", "metis") if orderings else ():
        if til.partitioner == name:
            continue
        rank, _ = tiling.order_neurons(n, pre_ix, post_ix, col_slots, name, seed, adj)
        out[name] = tiling.compact_tile_count(n, pre_ix, post_ix, gid, rank, rows, col_slots)
    out[til.partitioner] = til.n_tiles
    return out


def tile_table(til, place, groups: dict, enc, cols: int, neuron_id: np.ndarray) -> dict:
    """``/tiles`` columns: position, group, column block, what each row and column carries (neuron ids)."""
    nt = til.n_tiles
    slot, pol, sig = mapping.column_pattern(enc, cols)
    if nt:
        blk = til.block_neuron[til.tile_col_block][:, np.maximum(slot, 0)]
        blk[:, slot < 0] = -1
        col_neuron = np.where(blk >= 0, neuron_id[np.maximum(blk, 0)], -1)
        row_neuron = np.where(til.row_neuron >= 0, neuron_id[np.maximum(til.row_neuron, 0)], -1)
        if enc.differential:
            col_pol = np.broadcast_to(pol, (nt, cols)).copy()
        else:
            gpol = np.asarray(groups["polarity"], dtype=np.int8)[til.tile_group]
            col_pol = np.where(slot[None, :] >= 0, gpol[:, None], 0).astype(np.int8)
        col_sig = np.broadcast_to(sig, (nt, cols)).copy()
        empty = col_neuron < 0
        col_pol[empty] = 0
        col_sig[empty] = 0
    else:
        col_neuron = np.zeros((0, cols), np.int64)
        row_neuron = np.zeros((0, til.rows), np.int64)
        col_pol = np.zeros((0, cols), np.int8)
        col_sig = np.zeros((0, cols), np.int64)
    return {"tile": np.arange(nt), "layer": place.layer, "y": place.y, "x": place.x, "group": til.tile_group,
            "col_block": til.tile_col_block, "part": til.tile_part, "row_neuron": row_neuron,
            "col_neuron": col_neuron, "col_polarity": col_pol, "col_significance": col_sig}


def _r(v, nd=6):
    return round(float(v), nd)


def tile_utilisation(cells: dict, n_tiles: int, rows: int, cols: int) -> np.ndarray:
    """Per tile: programmed cells (level > 0) ÷ (rows · cols)."""
    prog = cells["level"] > 0
    return np.bincount(np.asarray(cells["tile"])[prog], minlength=n_tiles)[:n_tiles] / float(rows * cols)


def _distribution(u: np.ndarray) -> dict:
    """min, 10th percentile, median, mean, 90th percentile and max of per-tile values."""
    if len(u) == 0:
        return {"min": 0.0, "p10": 0.0, "median": 0.0, "mean": 0.0, "p90": 0.0, "max": 0.0}
    q = np.percentile(u, [0, 10, 50, 90, 100])
    return {"min": _r(q[0]), "p10": _r(q[1]), "median": _r(q[2]), "mean": _r(u.mean()), "p90": _r(q[3]),
            "max": _r(q[4])}


def _pulse_train_summary(tech, pulses, sched, prog) -> dict:
    """The technology's pulse train and the distribution of pulses per programmed cell."""
    from .schedule import train_parameters

    p = train_parameters(tech)
    counts = pulses.pulses[prog].astype(np.int64)
    hist = np.bincount(counts) if counts.size else np.zeros(0, np.int64)
    return {**p, "last_amplitude_v": _r(p["amplitude_v"] + max(int(sched.pulses.max(initial=0)) - 1, 0)
                                        * p["step_v"], 9),
            "pulses_per_cell_histogram": {str(k): int(v) for k, v in enumerate(hist.tolist()) if v},
            "verify_reads": int(np.sum(sched.pulses[sched.row >= 0] + 1)),
            "reset_pulses": int(prog.size if p["reset_first"] else 0)}


def weight_source_summary(info: dict | None) -> dict | None:
    """The summary's ``weight_source`` entry, or None for the default (``weight_mv``: the key is left out).

    >>> weight_source_summary({"weight": "mean", "column": "weight_mv"}) is None
    True
    >>> weight_source_summary({"weight": "rested", "column": "weight_rested_mv", "fallback_column": "weight_mv",
    ...                        "edges_rested": 7, "edges_fallback": 3, "fallback_electrical": 1,
    ...                        "fallback_unmeasured": 2})["edges_fallback"]
    3
    """
    if not info or info.get("weight", "mean") == "mean":
        return None
    keys = ("weight", "column", "fallback_column", "edges_rested", "edges_fallback", "fallback_electrical",
            "fallback_unmeasured")
    return {k: info[k] for k in keys if k in info}


def summarise(*, tech, enc, rows, cols, layers, con, quant, cells, cell_syn, pulses, sched, til, place,
              groups,
              merged, baselines, synapses, delay_buckets, full_scale_policy="max", weight_source=None) -> dict:
    """The numbers a device engineer asks first (the map's ``summary`` and ``summary.json``).

    ``weight_source``: what :func:`connectome.compile.compiler.programmed_weights`
    reported; recorded as ``weight_source`` unless it is the default.
    """
    from .placement import placement_report

    m = len(quant.q)
    nt = til.n_tiles
    n_cells = len(cells["tile"])
    c = tech.conductance
    dg = (c.g_max_us - c.g_min_us) / (enc.levels - 1)
    mv_per_us = quant.step_mv / dg
    # weight error: exact quantisation error + programming spread (unclipped synapses)
    decoded = quant.decoded_mv()
    w = synapses["weight_mv"]
    ok = ~quant.clipped
    qerr = (decoded - w)[ok]
    sig_us = programming_sigma_us(tech, cells["g_target_us"], enc.levels)
    var = np.bincount(cell_syn, weights=(cells["significance"] * sig_us * mv_per_us) ** 2, minlength=m)[ok]
    mean_abs = float(np.mean(np.abs(w))) if m else 0.0
    exp_err = float(np.sqrt(np.mean(qerr ** 2 + var))) if ok.any() else 0.0
    clipped_idx = np.flatnonzero(quant.clipped)
    zero_idx = np.flatnonzero(quant.zeroed)
    tile_um2 = rows * cols * tech.array.cell_area_um2
    stacks = place.n_stacks
    prog = cells["level"] > 0
    lb = lower_bound(m, rows, cols)
    tile_util = tile_utilisation(cells, nt, rows, cols)
    col_slots = til.col_slots
    kinds = con.counts_by_kind()
    ws = weight_source_summary(weight_source)
    return {
        **({"weight_source": ws} if ws else {}),
        "technology": tech.name,
        "technology_source": tech.source,
        "scheme": enc.scheme,
        "levels": enc.levels,
        "slices": enc.slices,
        "crossbar": f"{rows}x{cols}",
        "layers": layers,
        "neurons": int(con.n_neurons),
        "edges": int(con.n_edges),
        "edges_by_kind": kinds,
        "synapses": int(m),
        "parallel_edges_merged": int(merged),
        "groups": int(len(groups["group"])),
        "delays": {"mode": "table" if delay_buckets == 1 else "buckets+table", "buckets": int(delay_buckets),
                   "group_delay_ms": [[_r(lo, 4), _r(hi, 4)] for lo, hi in
                                      zip(groups["delay_lo_ms"], groups["delay_hi_ms"])]},
        "tiles": int(nt),
        "tiles_lower_bound": lb,
        "tiles_lower_bound_scheme": lower_bound(m, rows, col_slots),
        "tiles_lower_bound_groups": int(sum(lower_bound(k, rows, col_slots) for k in
                                            np.bincount(synapses["group"], minlength=1) if k)),
        "tiles_over_lower_bound": _r(nt / lb, 4) if lb else 1.0,
        "tiles_by_ordering": dict(sorted(baselines.items())),
        "partitioner": til.partitioner,
        "partition": {k: v for k, v in til.info.items() if not k.endswith("_s")},
        "cells": int(n_cells),
        "cells_programmed": int(prog.sum()),
        "cell_utilisation": _r(n_cells / (nt * rows * cols)) if nt else 0.0,
        "cell_utilisation_programmed": _r(int(prog.sum()) / (nt * rows * cols)) if nt else 0.0,
        "tile_utilisation": _distribution(tile_util),
        "synapse_slot_utilisation": _r(m / (nt * rows * col_slots)) if nt else 0.0,
        "full_scale_mv": _r(quant.full_scale_mv, 9),
        "full_scale_policy": full_scale_policy if isinstance(full_scale_policy,
                                                             str) else f"{full_scale_policy:g} mV",
        "step_mv": _r(quant.step_mv, 9),
        "mv_per_us": _r(mv_per_us, 9),
        "clipped": int(len(clipped_idx)),
        "clipped_fraction": _r(len(clipped_idx) / m) if m else 0.0,
        "clipped_examples": [{"pre": int(synapses["pre"][i]), "post": int(synapses["post"][i]),
                              "weight_mv": _r(w[i]), "mapped_mv": _r(decoded[i])} for i in clipped_idx[:10]],
        "quantised_to_zero": int(len(zero_idx)),
        "quantised_to_zero_fraction": _r(len(zero_idx) / m) if m else 0.0,
        "quantised_to_zero_examples": [{"pre": int(synapses["pre"][i]), "post": int(synapses["post"][i]),
                                        "weight_mv": _r(w[i])} for i in zero_idx[:10]],
        "quantisation_rms_mv": _r(np.sqrt(np.mean(qerr ** 2)), 9) if ok.any() else 0.0,
        "programming_sigma_rms_mv": _r(np.sqrt(np.mean(var)), 9) if ok.any() else 0.0,
        "expected_weight_error_mv": _r(exp_err, 9),
        "expected_weight_error_rel_full_scale": _r(exp_err / quant.full_scale_mv) if m else 0.0,
        "expected_weight_error_rel_mean_abs": _r(exp_err / mean_abs) if mean_abs > 0 else 0.0,
        "programming_time_s": _r(sched.total_time_us * 1e-6, 9),
        "programming_energy_uj": _r(sched.total_energy_pj * 1e-6, 9),
        "write_pulses": int(pulses.pulses.sum(dtype=np.int64)),
        "pulses_per_programmed_cell": _r(pulses.pulses[prog].mean(), 4) if prog.any() else 0.0,
        "unverified_cells": int(pulses.unverified.sum()),
        "pulse_train": _pulse_train_summary(tech, pulses, sched, prog),
        "rows_programmed": int(np.sum(sched.row >= 0)),
        "tile_erases": int(np.sum(sched.row < 0)),
        "parallel_lanes": int(sched.lanes),
        "power_budget_mw": _r(sched.power_budget_mw),
        "peak_power_mw": _r(sched.peak_power_mw),
        "area_footprint_mm2": _r(stacks * tile_um2 * 1e-6, 9),
        "area_cells_total_mm2": _r(nt * tile_um2 * 1e-6, 9),
        "placement": placement_report(place, til.tile_col_block, sched.tile_time_us, layers),
        "endurance_cycles": float(tech.reliability.endurance_cycles),
        "retention_years": float(tech.reliability.retention_years),
    }
