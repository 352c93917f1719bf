"""``verify_map``: read a programming map back, apply non-idealities, compare with the copied connectome.

Examples
--------
>>> parse_duration("1d"), parse_duration("10y"), parse_duration("90"), parse_duration("0")
(86400.0, 315576000.0, 90.0, 0.0)
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .effective import NonIdealities, effective_weights, physical_cells

_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0,
          "y": 365.25 * 86400.0}


def parse_duration(text) -> float:
    """Seconds from ``0``, ``45``, ``1s``, ``30min``, ``1h``, ``1d``, ``2w``, ``10y`` (a year: 365.25 d)."""
    if isinstance(text, (int, float)):
        v = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
        unit = m.group(2).lower() if m else None
        if not m or unit not in _UNITS:
            raise ConfigError(f"bad time {text!r}: use a number of seconds or a number with s, min, h, d, w "
                              "or y "
                              "(e.g. 0, 1s, 1h, 1d, 10y)")
        v = float(m.group(1)) * _UNITS[unit]
    if not (math.isfinite(v) and v >= 0):
        raise ConfigError(f"bad time {text!r}: must be a finite number ≥ 0")
    return v


def _format_after(seconds: float) -> str:
    for unit, size in (("y", _UNITS["y"]), ("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and abs(seconds / size - round(seconds / size)) < 1e-9:
            return f"{round(seconds / size):d}{unit}"
    return f"{seconds:g}s"


def readout_summary(tech, eff, cells, nonid) -> dict:
    """The read-out model applied (wire resistance, selector, converters) and the IR-drop factors it gave."""
    r = tech.readout
    f = eff.line_factor[: cells.n_listed] if eff.line_factor is not None else np.ones(0)
    out = {"applied": bool(nonid.readout), "wire_ohm_per_cell": float(r.wire_ohm_per_cell),
           "selector": bool(r.selector), "dac_bits": int(r.dac_bits), "adc_bits": int(r.adc_bits),
           "adc_range_inputs": float(r.adc_range_inputs), "input_activity": float(nonid.input_activity)}
    if nonid.readout and len(f):
        out.update({"line_factor_min": round(float(f.min()), 6),
                    "line_factor_median": round(float(np.median(f)), 6),
                    "line_factor_mean": round(float(f.mean()), 6)})
    return out


def map_weight_choice(pm, path=None) -> str:
    """The ``weight`` compile option a map records (``"mean"`` when it records none: maps before the option).

    Raises
    ------
    MapError
        The map's ``parameters`` attribute is not JSON, or records a weight
        this version does not know.
    """
    import json

    from ..compile.compiler import WEIGHT_COLUMNS
    from ..errors import MapError

    try:
        params = json.loads(pm.attrs.get("parameters") or "{}")
    except ValueError:
        raise MapError("root attribute parameters is not JSON", path) from None
    opts = params.get("options") if isinstance(params, dict) else None
    choice = opts.get("weight", "mean") if isinstance(opts, dict) else "mean"
    if choice not in WEIGHT_COLUMNS:
        raise MapError(f"root attribute parameters: compile option weight {choice!r} is not one of "
                       f"{', '.join(WEIGHT_COLUMNS)}", path)
    return str(choice)


def verify_map(map_path, connectome_path, **options) -> dict:
    """The verify report (what ``verify.json`` holds) for one map file and the connectome it was copied from.

    Parameters
    ----------
    map_path : path
        A programming map (.h5 or .zarr), checked on reading (checksums and
        structural invariants, as ``connectome map-info``).
    connectome_path : path
        The copied connectome: an infer directory, edges.csv, GraphML or truth file.
    **options
        Those of :func:`verify_objects`.

    Raises
    ------
    MapError, ConnectomeFormatError, ConfigError
        Unreadable or inconsistent map or connectome, bad parameters.
    """
    from ..graph.formats import read_connectome
    from ..io.checksum import sha256_file
    from ..io.progmap import read_map

    map_path = Path(map_path)
    pm = read_map(map_path)
    con = read_connectome(connectome_path)
    return verify_objects(pm, con, map_path=map_path, connectome_path=connectome_path,
                          map_sha256=sha256_file(map_path) if map_path.is_file() else None, **options)


def verify_objects(pm, con, *, map_path=None, connectome_path=None, map_sha256: str | None = None,
                   after_s: float = 0.0, seed: int = 0, drift_compensation: bool = True,
                   functional: bool = False, programming_noise_scale: float = 1.0,
                   read_noise_scale: float = 1.0,
                   drift_scale: float = 1.0, stuck_fraction: float = 0.0, stuck_on_share: float = 0.5,
                   lost_threshold_mv: float | None = None, functional_params=None, readout: bool = True,
                   input_activity: float = 1.0) -> dict:
    """The verify report for a :class:`~connectome.io.progmap.ProgrammingMap` and a Connectome in memory.

    Nothing is written. The map is checked as on reading (structural
    invariants); ``map_path``/``connectome_path`` only label the report.

    Parameters
    ----------
    pm : ProgrammingMap
    con : Connectome
    map_path, connectome_path : optional
        Shown in the report (None for objects that never were files).
    map_sha256 : str, optional
        The map file's sha256, recorded in the report.
    after_s : float
        Seconds since programming ended (drift, accumulated read noise).
    seed : int
        Seeds every random draw: same inputs and seed → identical report.
    drift_compensation : bool
        Global drift compensation per tile.
    functional : bool
        Also simulate both networks (:mod:`.functional`) and score their activity.
    programming_noise_scale, read_noise_scale, drift_scale, stuck_fraction, stuck_on_share : float
        See :class:`~connectome.verify.effective.NonIdealities`.
    readout : bool
    input_activity : float
        See :class:`~connectome.verify.effective.NonIdealities`.
    lost_threshold_mv : float, optional
        Effective |w| below which a synapse counts as lost (default: half a
        quantisation step of the map).
    functional_params : LIFParams, optional
        Network-simulation parameters (:class:`~connectome.verify.functional.LIFParams`).

    Raises
    ------
    MapError, ConfigError
        An inconsistent map, bad parameters.
    """
    from ..compile.compiler import WEIGHT_COLUMNS, edges_sha256, programmed_weights
    from ..errors import MapError
    from ..io.progmap import check_map
    from .report import decile_table, join, weight_metrics

    nonid = NonIdealities(after_s=float(after_s), drift_compensation=bool(drift_compensation),
                          programming_noise_scale=float(programming_noise_scale),
                          read_noise_scale=float(read_noise_scale), drift_scale=float(drift_scale),
                          stuck_fraction=float(stuck_fraction), stuck_on_share=float(stuck_on_share),
                          readout=bool(readout), input_activity=float(input_activity))
    problem = check_map(pm)
    if problem:
        raise MapError(problem, map_path)
    unit = str((pm.summary or {}).get("weight_unit") or "mV")
    if functional and unit != "mV":
        from ..errors import ConfigError

        raise ConfigError(
            f"functional=True simulates the networks with weights as PSPs in mV, but this map's weights are in "
            f"{unit!r} (a spike-train connectome): no PSP scale to simulate with; verify the weights alone",
            map_path,
        )
    a = pm.attrs
    levels = int(a["levels"])
    step_mv = float(a["mv_per_us"]) * (float(a["g_max_us"]) - float(a["g_min_us"])) / (levels - 1)
    thr = 0.5 * step_mv if lost_threshold_mv is None else float(lost_threshold_mv)
    if not (math.isfinite(thr) and thr >= 0):
        raise ConfigError(f"lost threshold must be a number ≥ 0 mV, got {lost_threshold_mv!r}")

    choice = map_weight_choice(pm, map_path)
    if choice != "mean" and WEIGHT_COLUMNS[choice] not in con.edges:
        import warnings

        warnings.warn(f"{connectome_path or 'the connectome'}: the map was compiled with weight = {choice!r} but "
                      f"the connectome has no {WEIGHT_COLUMNS[choice]} column: its weight_mv is compared instead "
                      "(right for a simulator truth file, whose weight_mv is the undepressed PSP)", stacklevel=2)
        choice = "mean"
    w_copy, w_info = programmed_weights(con, choice, connectome_path)  # the column the map was compiled from

    cells = physical_cells(pm)
    eff = effective_weights(pm, cells, nonid, seed=int(seed))
    tech = eff.technology
    J = join(con, pm, eff, w_copy)
    weights = weight_metrics(J.w_copy, J.w_eff, thr, J.stuck_top, J.in_map)
    weights["stuck_synapses"] = int((J.stuck_any & J.in_map).sum())
    quant = weight_metrics(J.w_copy, J.w_ideal, thr, None, J.in_map)
    alpha = eff.alpha
    source = pm.manifest.get("source") or {}
    src = source.get("edges_sha256")
    same = src == edges_sha256(con)
    col = w_info["column"]
    if same and f"{col}_sha256" in source:  # a map compiled from another column than weight_mv
        same = source[f"{col}_sha256"] == edges_sha256(con, (col,))
    report = {
        "format": "connectome-verify",
        "format_version": 1,
        # headline numbers (also below, in their sections) for batch summaries
        "pearson": weights["pearson"], "spearman": weights["spearman"], "sign_flips": weights["sign_flips"],
        "synapses_lost": weights["lost"], "functional_fidelity": None, "functional_fidelity_normalised": None,
        "map": {"path": None if map_path is None else str(map_path), "file_sha256": map_sha256,
                "technology": str(a["technology"]), "scheme": str(a["scheme"]), "levels": levels,
                "slices": int(a["slices"]), "cells": int(cells.n_listed),
                "synapses": int(len(pm.tables["synapses"]["pre"])),
                "tiles": int(len(pm.tables["tiles"]["tile"])), "step_mv": round(step_mv, 9),
                "full_scale_mv": float(a["full_scale_mv"]), "weight_unit": unit},
        "connectome": {"path": None if connectome_path is None else str(connectome_path),
                       "edges": int(con.n_edges), "neurons": int(con.n_neurons),
                       "edges_sha256": edges_sha256(con),
                       "matches_map_source": bool(same), "weight_column": col,
                       **({k: w_info[k] for k in ("edges_rested", "edges_fallback")} if choice != "mean" else {})},
        "parameters": {**nonid.to_dict(), "after": _format_after(nonid.after_s), "seed": int(seed),
                       "lost_threshold_mv": round(thr, 9), "functional": bool(functional)},
        "device": {"technology": tech.name, "noise_model": tech.noise.model,
                   "drift_model": bool(tech.noise.model == "pcm"),
                   "physical_cells": int(cells.n), "partner_cells": int(cells.n_partners),
                   "stuck_cells": int(eff.n_stuck_cells),
                   "compensation": {"tiles": int(len(alpha)),
                                    "alpha_median": round(float(np.median(alpha)), 6) if len(alpha) else None,
                                    "alpha_min": round(float(alpha.min()), 6) if len(alpha) else None,
                                    "alpha_max": round(float(alpha.max()), 6) if len(alpha) else None},
                   "readout": readout_summary(tech, eff, cells, nonid)},
        "weights": weights,
        "quantisation_only": quant,
        "deciles": decile_table(J.w_copy, J.w_eff),
        "extra_in_map": int(len(J.extra_pre)),
        "functional": None,
    }
    if functional:
        from .functional import LIFParams, compare_networks

        fp = functional_params or LIFParams()
        pre = np.concatenate([J.pre, J.extra_pre])
        post = np.concatenate([J.post, J.extra_post])
        delay = np.concatenate([J.delay_ms, J.extra_delay_ms])
        w_a = np.concatenate([J.w_copy, np.zeros(len(J.extra_pre))])
        w_b = np.concatenate([J.w_eff, J.extra_w_eff])
        report["functional"] = compare_networks(con.neuron_id, pre, post, delay, w_a, w_b, fp, seed=int(seed))
        report["functional_fidelity"] = report["functional"]["score"]
        report["functional_fidelity_normalised"] = report["functional"]["score_normalised"]
    return report
