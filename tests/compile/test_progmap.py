"""Programming-map files: contract layout, determinism, corruption caught."""

import json

import h5py
import numpy as np
import pytest

from connectome.compile import CompileOptions, compile_connectome
from connectome.errors import MapError
from connectome.io.progmap import FORMAT, check_map_file, read_map, summary_path, write_map

OPTS = CompileOptions(technology="rram", rows=64, cols=64, layers=4)


@pytest.fixture(scope="module")
def pm(small_connectome):
    return compile_connectome(small_connectome, OPTS)


@pytest.fixture
def h5map(tmp_path, small_connectome):
    path = tmp_path / "map.h5"
    write_map(compile_connectome(small_connectome, OPTS), path)
    return path


def test_contract_layout_hdf5(h5map):
    with h5py.File(h5map, "r") as fh:
        a = fh.attrs
        assert a["format"] == FORMAT and a["format_version"] == 2 and a["technology"] == "rram"
        for k in ("rows", "cols", "layers", "levels", "g_min_us", "g_max_us", "mv_per_us", "manifest"):
            assert k in a
        for name in ("tiles/tile", "tiles/layer", "tiles/y", "tiles/x", "tiles/row_neuron", "tiles/col_neuron",
                     "cells/tile", "cells/row", "cells/col", "cells/pre", "cells/post", "cells/polarity",
                     "cells/significance", "cells/level", "cells/g_target_us", "schedule/step", "schedule/tile",
                     "schedule/row", "schedule/t_start_us", "schedule/t_end_us", "schedule/pulses",
                     "schedule/energy_pj"):
            assert name in fh, name
        assert fh["tiles/row_neuron"].shape[1] == a["rows"] and fh["tiles/col_neuron"].shape[1] == a["cols"]
        manifest = json.loads(a["manifest"])
        assert set(manifest["datasets"]) >= {"cells/g_target_us", "schedule/step", "tiles/row_neuron"}
        assert len(manifest["source"]["edges_sha256"]) == 64
    side = json.loads(summary_path(h5map).read_text())
    assert summary_path(h5map).name == "map.summary.json"
    for k in ("tiles", "tiles_lower_bound", "cell_utilisation", "programming_time_s", "programming_energy_uj",
              "area_footprint_mm2", "clipped", "map_file_sha256"):
        assert k in side


def test_round_trip_hdf5_and_zarr(tmp_path, pm):
    for name in ("m.h5", "m.zarr"):
        path = tmp_path / name
        write_map(pm, path)
        back = read_map(path)
        for t in pm.tables:
            for k, v in pm.tables[t].items():
                assert np.array_equal(back.tables[t][k], v, equal_nan=True), (name, t, k)
        assert back.summary == pm.summary
        assert check_map_file(path)["tiles"] == pm.summary["tiles"]
    assert (tmp_path / "m.zarr" / "summary.json").exists()


def test_methods_and_rewrite_replaces_summary(tmp_path, pm):
    from connectome.io.progmap import ProgrammingMap

    path = tmp_path / "m.h5"
    pm.write(path)
    first = summary_path(path).read_text()
    back = ProgrammingMap.read(path)
    back.attrs["seed"] = 12345
    back.write(path)  # overwrite in place: the new summary.json matches the new file
    assert summary_path(path).read_text() != first
    assert check_map_file(path)["tiles"] == pm.summary["tiles"]


def test_deterministic_bytes(tmp_path, small_connectome):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    write_map(compile_connectome(small_connectome, OPTS), a)
    write_map(compile_connectome(small_connectome, OPTS), b)
    assert a.read_bytes() == b.read_bytes()
    c = tmp_path / "c.h5"
    write_map(compile_connectome(small_connectome, CompileOptions(technology="rram", rows=64, cols=64, layers=4,
                                                                  seed=9)), c)
    assert a.read_bytes() != c.read_bytes()


def test_default_filter_is_gzip_that_every_hdf5_tool_reads(tmp_path, pm):
    import shutil
    import subprocess

    from connectome.errors import ConfigError

    paths = {c: tmp_path / f"{c}.h5" for c in ("gzip", "lzf", "none")}
    for c, path in paths.items():
        write_map(pm, path, compression=c)
        back = read_map(path)
        assert back.summary["tiles"] == pm.summary["tiles"], c
    with h5py.File(paths["gzip"]) as fh:
        assert fh["cells/level"].compression == "gzip" and fh["cells/level"].fletcher32
    with h5py.File(paths["lzf"]) as fh:
        assert fh["cells/level"].compression == "lzf"
    with h5py.File(paths["none"]) as fh:
        assert fh["cells/level"].compression is None
    write_map(pm, tmp_path / "again.h5")  # deflate is deterministic: the same bytes every time
    assert (tmp_path / "again.h5").read_bytes() == paths["gzip"].read_bytes()
    with pytest.raises(ConfigError, match="compression"):
        write_map(pm, tmp_path / "x.h5", compression="zstd")
    if shutil.which("h5dump"):  # hdf5-tools: a reader without h5py's LZF plugin
        r = subprocess.run(["h5dump", "-d", "/cells/level", str(paths["gzip"])], capture_output=True, text=True)
        assert r.returncode == 0 and "DATA" in r.stdout, r.stderr


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


def test_flipped_byte_caught_by_file_checksum(h5map):
    size = h5map.stat().st_size
    for frac in (0.3, 0.6, 0.9):
        orig = h5map.read_bytes()
        _flip(h5map, int(size * frac))
        with pytest.raises(MapError, match="corrupted"):
            check_map_file(h5map)
        h5map.write_bytes(orig)
    check_map_file(h5map)


def test_flipped_byte_in_data_caught_without_summary_json(h5map):
    summary_path(h5map).unlink()
    assert not any("summary.json" in c for c in check_map_file(h5map)["checks"])
    with h5py.File(h5map, "r") as fh:
        off = fh["cells/g_target_us"].id.get_chunk_info(0).byte_offset
    _flip(h5map, off + 100)
    with pytest.raises(MapError, match="corrupted") as exc:
        check_map_file(h5map)
    assert str(h5map) in str(exc.value)


def test_edited_value_caught_by_manifest(h5map):
    summary_path(h5map).unlink()
    with h5py.File(h5map, "r+") as fh:
        ds = fh["cells/level"]
        ds[0] = ds[0] + 1  # a clean edit: valid chunk checksums, wrong content
    with pytest.raises(MapError, match="cells/level does not match its sha256"):
        check_map_file(h5map)


def test_consistent_but_wrong_map_caught_by_invariants(tmp_path, pm):
    import copy

    bad = copy.deepcopy(pm)
    bad.tables["tiles"]["layer"][1] = bad.tables["tiles"]["layer"][0]
    bad.tables["tiles"]["y"][1] = bad.tables["tiles"]["y"][0]
    bad.tables["tiles"]["x"][1] = bad.tables["tiles"]["x"][0]
    path = tmp_path / "collide.h5"
    write_map(bad, path)  # checksums are recomputed: only the invariants can tell
    with pytest.raises(MapError, match="two tiles share a"):
        check_map_file(path)
    bad = copy.deepcopy(pm)
    bad.tables["cells"]["level"][0] = (bad.tables["cells"]["level"][0] + 5) % 32
    bad.tables["cells"]["g_target_us"][0] = 2.0 + bad.tables["cells"]["level"][0] * 38.0 / 31
    write_map(bad, path)
    with pytest.raises(MapError, match="beyond half a step"):
        check_map_file(path)
    bad = copy.deepcopy(pm)  # move every tile of stack 0's second tile's jobs onto its first tile's times
    t, s = bad.tables["tiles"], bad.tables["schedule"]
    a, b = 0, 1
    assert (t["y"][a], t["x"][a]) == (t["y"][b], t["x"][b])
    sa, sb = np.flatnonzero(s["tile"] == a), np.flatnonzero(s["tile"] == b)
    k = min(len(sa), len(sb))
    s["t_start_us"][sb[:k]] = s["t_start_us"][sa[:k]]
    s["t_end_us"][sb[:k]] = s["t_end_us"][sa[:k]]
    o = np.lexsort((s["row"], s["tile"], s["t_start_us"]))
    for col in ("tile", "row", "t_start_us", "t_end_us", "pulses", "energy_pj"):
        s[col] = s[col][o]
    write_map(bad, path)
    with pytest.raises(MapError, match="two tiles of one stack"):
        check_map_file(path)
    bad = copy.deepcopy(pm)
    s = bad.tables["schedule"]
    s["row"][1] = s["row"][0]
    s["tile"][1] = s["tile"][0]
    write_map(bad, path)
    with pytest.raises(MapError, match="more than once"):
        check_map_file(path)


def test_zarr_corruption_caught(tmp_path, pm):
    path = tmp_path / "m.zarr"
    write_map(pm, path)
    chunk = path / "cells" / "level" / "c" / "0"
    _flip(chunk, chunk.stat().st_size // 2)
    with pytest.raises(MapError, match="corrupted"):
        check_map_file(path)


def test_not_a_map(tmp_path):
    p = tmp_path / "x.h5"
    with h5py.File(p, "w") as fh:
        fh.attrs["format"] = "cnea"
    with pytest.raises(MapError, match="not a programming map"):
        read_map(p)
    with pytest.raises(MapError, match="suffix"):
        read_map(tmp_path)
    with pytest.raises(MapError, match="no such file"):
        read_map(tmp_path / "nope.h5")
    q = tmp_path / "junk.h5"
    q.write_bytes(b"junk" * 100)
    with pytest.raises(MapError, match="corrupted or unreadable"):
        read_map(q)


def test_map_export_tiles_for_a_test_bench(tmp_path, h5map, capsys):
    from connectome.cli import main

    out = tmp_path / "bench"
    assert main(["map-export", str(h5map), "-o", str(out), "-q"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    pm = read_map(h5map)
    cells = pm.tables["cells"]
    assert m["rows"] == pm.attrs["rows"] and len(m["tiles"]) == len(pm.tables["tiles"]["tile"])
    first = np.load(out / m["tiles"][0]["files"]["level"])
    n = 0
    for t in m["tiles"]:
        level = np.load(out / t["files"]["level"])
        g = np.load(out / t["files"]["g_us"])
        sel = cells["tile"] == t["tile"]
        assert (level >= 0).sum() == sel.sum() == t["cells"] and np.isfinite(g).sum() == sel.sum()
        np.testing.assert_array_equal(level[cells["row"][sel], cells["col"][sel]], cells["level"][sel])
        n += t["cells"]
    assert n == len(cells["tile"])
    # an earlier export is replaced (here as CSV, the same numbers); anything else is refused
    assert main(["map-export", str(h5map), "-o", str(out), "--format", "csv", "-q"]) == 0
    t0 = json.loads((out / "manifest.json").read_text())["tiles"][0]
    np.testing.assert_array_equal(np.loadtxt(out / t0["files"]["level"], delimiter=",", dtype=np.int32), first)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    assert main(["map-export", str(h5map), "-o", str(tmp_path / "mine")]) == 2
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"
