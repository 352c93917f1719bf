"""Maps tiled by the spectral (decoupled) tiling hold every invariant and report cell utilisation."""

import json

import numpy as np
import pytest

from connectome.compile import CompileOptions, compile_connectome
from connectome.io.progmap import check_map, check_map_file, write_map


@pytest.mark.parametrize("tech, scheme", [("rram", "differential"), ("pcm", "split"), ("mram", "bitslice")])
def test_spectral_maps_hold_invariants(tmp_path, mixed_connectome, tech, scheme):
    pm = compile_connectome(mixed_connectome, CompileOptions(technology=tech, scheme=scheme, rows=32, cols=32,
                                                             layers=1))
    assert pm.attrs["partitioner"] == "spectral" and check_map(pm) is None
    s = pm.summary
    per_group = np.bincount(pm.tables["synapses"]["group"])
    slots = 32 // (1 if scheme == "split" else 2) // (4 if scheme == "bitslice" else 1)
    assert s["tiles_lower_bound_groups"] == sum(-(-int(k) // (32 * slots)) for k in per_group if k)
    assert s["tiles"] >= s["tiles_lower_bound_groups"] >= s["tiles_lower_bound_scheme"]
    tiles = pm.tables["tiles"]
    assert np.array_equal(tiles["col_block"], np.arange(s["tiles"]))  # every tile its own columns
    # utilisation: programmed cells over all cells of the tiles, per tile and in total
    prog = pm.tables["cells"]["level"] > 0
    per = np.bincount(pm.tables["cells"]["tile"][prog], minlength=s["tiles"]) / (32 * 32)
    assert s["cell_utilisation_programmed"] == pytest.approx(prog.sum() / (s["tiles"] * 32 * 32), abs=1e-6)
    assert s["tile_utilisation"]["max"] == pytest.approx(per.max(), abs=1e-6)
    assert s["tile_utilisation"]["median"] == pytest.approx(np.median(per), abs=1e-6)
    path = tmp_path / "m.h5"
    write_map(pm, path)
    side = json.loads((tmp_path / "m.summary.json").read_text())
    assert side["tile_cell_utilisation"] == pytest.approx(per.tolist(), abs=1e-6)
    assert "tile_cell_utilisation" not in check_map_file(path)  # the per-tile list stays out of the map itself


def test_spectral_never_above_the_block_tilings_here(small_connectome):
    pm = compile_connectome(small_connectome, CompileOptions(rows=64, cols=64, layers=2))
    by = pm.summary["tiles_by_ordering"]
    assert by["spectral"] == pm.summary["tiles"] < min(by["metis"], by["rcm"], by["identity"])
