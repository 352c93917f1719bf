"""Flat export of a programming map for chip test benches: one matrix per tile and one JSON manifest.

A bench that programs a crossbar tile by tile needs, per tile, the level (and
target conductance) of every cell at its row and column, and where the tile
sits in the stack — without an HDF5 library. :func:`export_tiles` writes:

``manifest.json``
    the technology and encoding (levels, conductance range, weight per µS,
    full scale, weight unit), the tile geometry and, per tile, its layer and
    position on the layer's grid of tiles (``x``, ``y`` in tile pitches,
    origin at the layer's corner), which neuron drives each row and reads
    each column (``row_neuron``/``col_neuron``, −1 unused), the column
    polarity (+1/−1, 0 unused) and the names and sha256 of its files;
    ``tile_pitch_um`` is an estimate from the technology's cell area
    (``cols × √(cell_area_f2) × F``), for floor plans only.
``tile_NNNNN_level.npy`` (or ``.csv``)
    int32, rows × cols: the level to program (0 … levels − 1), −1 where the
    cell is not programmed (left at its erased/reset state).
``tile_NNNNN_g_us.npy`` (or ``.csv``)
    float64, rows × cols: the target conductance in µS, NaN where not programmed.

The schedule (the order and pulse trains of the writes) stays in the map:
docs/formats-progmap.md describes it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..io.atomic import atomic_path
from ..io.checksum import sha256_file
from ..io.progmap import ProgrammingMap

#: ``format`` of the manifest, recognised when an earlier export is replaced.
EXPORT_FORMAT = "connectome-tile-export"


def _is_export(path: Path) -> bool:
    try:
        return json.loads((path / "manifest.json").read_text()).get("format") == EXPORT_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _tile_pitch_um(pm: ProgrammingMap) -> float | None:
    try:
        arr = json.loads(pm.attrs["parameters"])["technology"]["array"]
        return float(pm.attrs["cols"]) * math.sqrt(float(arr["cell_area_f2"])) * float(arr["feature_nm"]) / 1000.0
    except (KeyError, ValueError, TypeError):
        return None


def export_tiles(pm: ProgrammingMap, out_dir, fmt: str = "npy") -> dict:
    """Write ``pm`` as per-tile matrices (``fmt`` ``npy`` or ``csv``) and ``manifest.json`` in ``out_dir``.

    Written atomically (a temporary folder renamed into place); an existing
    ``out_dir`` is replaced only if it is an earlier export. Returns the manifest.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from connectome.graph.connectome import Connectome
    >>> from connectome.compile import CompileOptions, compile_connectome
    >>> c = Connectome.from_edges([0, 1], [1, 2], [1.5, -0.8])
    >>> pm = compile_connectome(c, CompileOptions(technology="rram", rows=4, cols=4, layers=1))
    >>> m = export_tiles(pm, pathlib.Path(tempfile.mkdtemp()) / "bench")
    >>> m["tiles"][0]["files"]["level"], m["rows"], m["cols"]
    ('tile_00000_level.npy', 4, 4)
    """
    if fmt not in ("npy", "csv"):
        raise ConfigError(f"fmt must be 'npy' or 'csv', not {fmt!r}")
    a = pm.attrs
    rows, cols = int(a["rows"]), int(a["cols"])
    tiles, cells = pm.tables["tiles"], pm.tables["cells"]
    out_dir = Path(out_dir)
    manifest: dict = {
        "format": EXPORT_FORMAT, "format_version": 1,
        "technology": str(a["technology"]), "scheme": str(a["scheme"]),
        "rows": rows, "cols": cols, "layers": int(a["layers"]), "levels": int(a["levels"]),
        "g_min_us": float(a["g_min_us"]), "g_max_us": float(a["g_max_us"]),
        "weight_per_us": float(a["mv_per_us"]), "full_scale": float(a["full_scale_mv"]),
        "weight_unit": str((pm.summary or {}).get("weight_unit") or "mV"),
        "position_units": "tile pitches on the layer's grid (x right, y down), origin at the layer's corner",
        "tile_pitch_um": _tile_pitch_um(pm),
        "unprogrammed": {"level": -1, "g_us": None},
        "tiles": [],
    }
    order = np.argsort(cells["tile"], kind="stable")
    bounds = np.searchsorted(cells["tile"][order], tiles["tile"], side="left")
    ends = np.searchsorted(cells["tile"][order], tiles["tile"], side="right")
    with atomic_path(out_dir, replace=_is_export) as tmp:
        tmp.mkdir()
        for i, t in enumerate(tiles["tile"].tolist()):
            sel = order[bounds[i]:ends[i]]
            level = np.full((rows, cols), -1, np.int32)
            g = np.full((rows, cols), np.nan, np.float64)
            level[cells["row"][sel], cells["col"][sel]] = cells["level"][sel]
            g[cells["row"][sel], cells["col"][sel]] = cells["g_target_us"][sel]
            files = {}
            for key, arr, text_fmt in (("level", level, "%d"), ("g_us", g, "%.6g")):
                name = f"tile_{t:05d}_{key}.{fmt}"
                if fmt == "npy":
                    np.save(tmp / name, arr, allow_pickle=False)
                else:
                    np.savetxt(tmp / name, arr, fmt=text_fmt, delimiter=",")
                files[key] = name
            manifest["tiles"].append({
                "tile": int(t), "layer": int(tiles["layer"][i]), "x": int(tiles["x"][i]), "y": int(tiles["y"][i]),
                "cells": int(sel.size),
                "row_neuron": tiles["row_neuron"][i].tolist(), "col_neuron": tiles["col_neuron"][i].tolist(),
                "col_polarity": tiles["col_polarity"][i].tolist(),
                "files": files, "sha256": {k: sha256_file(tmp / v) for k, v in files.items()},
            })
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
