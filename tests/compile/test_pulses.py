"""Pulse-level programming (format version 2): per-cell pulses, per-entry pulse trains, their invariants."""

import dataclasses
import json

import h5py
import numpy as np
import pytest

from connectome.compile import CompileOptions, compile_connectome
from connectome.compile.schedule import TRAIN_COLUMNS, row_duration_us
from connectome.devices import load_technology
from connectome.errors import MapError, TechnologyError
from connectome.io.progmap import FORMAT_VERSION, SINCE_V2, check_map, check_map_file, read_map, write_map


@pytest.fixture(scope="module", params=["rram", "pcm", "flash", "mram"])
def compiled(request, small_connectome):
    tech = request.param
    return tech, compile_connectome(small_connectome, CompileOptions(technology=tech, rows=32, cols=32,
                                                                     layers=1))


def _copy(pm):
    from connectome.io.progmap import ProgrammingMap

    return ProgrammingMap(attrs=dict(pm.attrs), tables={t: {k: v.copy() for k, v in c.items()}
                                                        for t, c in pm.tables.items()}, summary=dict(pm.summary))


def test_every_technology_writes_pulse_trains_that_replay(compiled):
    name, pm = compiled
    tech = load_technology(name)
    assert pm.attrs["format_version"] == FORMAT_VERSION == 2
    cells, s = pm.tables["cells"], pm.tables["schedule"]
    assert check_map(pm) is None
    for c in TRAIN_COLUMNS:
        assert len(s[c]) == len(s["step"])
    # replay: a row's train has as many slots as its slowest cell needs, and takes the time the entry says
    prog = s["row"] >= 0
    rows = int(pm.attrs["rows"])
    key = cells["tile"].astype(np.int64) * rows + cells["row"]
    for i in np.flatnonzero(prog)[:50]:
        mine = key == int(s["tile"][i]) * rows + int(s["row"][i])
        assert s["pulses"][i] == cells["pulses"][mine].max()
        want = row_duration_us(s["pulses"][i], tech)
        assert s["t_end_us"][i] - s["t_start_us"][i] == pytest.approx(want, rel=1e-9)
        assert s["verify_reads"][i] == s["pulses"][i] + 1
    assert np.all(s["polarity"][prog] == 1) and np.all(s["polarity"][~prog] == -1)
    # amplitudes come from the preset
    w = tech.write
    start = w.ispp_start_v if w.mechanism == "ispp" else w.set_v
    assert np.all(s["amplitude_v"][prog] == start)
    assert pm.summary["pulse_train"]["amplitude_v"] == start
    # level-0 cells get no pulse, the others at least one; totals add up from the pulses
    lev = cells["level"]
    assert np.all(cells["pulses"][lev == 0] == 0) and np.all(cells["pulses"][lev > 0] >= 1)
    assert pm.summary["write_pulses"] == int(cells["pulses"].sum())
    reset = int((lev >= 0).sum()) if w.reset_first else 0
    assert s["energy_pj"].sum() == pytest.approx((cells["pulses"].sum() + reset) * w.pulse_energy_pj, rel=1e-9)
    if name == "flash":
        assert np.any(~prog) and np.all(s["amplitude_v"][~prog] == w.erase_v)
        assert np.all(s["width_ns"][~prog] == w.erase_us * 1e3)
    if name == "pcm":
        assert np.all(s["reset_first"][prog] == 1) and np.all(s["reset_v"][prog] == w.reset_v)


@pytest.mark.parametrize("column,change,message", [
    ("cells/pulses", lambda a: a + 1, "pulse"),
    ("schedule/pulses", lambda a: a + 1, "pulses"),
    ("schedule/energy_pj", lambda a: a * 1.5, "energy_pj"),
    ("schedule/verify_reads", lambda a: a + 1, "verify_reads"),
    ("schedule/width_ns", lambda a: a * 2, "lasts"),
    ("schedule/polarity", lambda a: -a, "polarity"),
])
def test_tampered_pulses_are_caught(small_connectome, column, change, message):
    pm = compile_connectome(small_connectome, CompileOptions(technology="rram", rows=32, cols=32, layers=1))
    bad = _copy(pm)
    t, c = column.split("/")
    bad.tables[t][c] = change(bad.tables[t][c])
    problem = check_map(bad)
    assert problem is not None and message in problem


def test_version_1_maps_still_read_and_old_readers_see_only_known_datasets(tmp_path, small_connectome):
    pm = compile_connectome(small_connectome, CompileOptions(technology="rram", rows=32, cols=32, layers=1))
    path = tmp_path / "new.h5"
    write_map(pm, path)
    with h5py.File(path, "r") as fh:
        manifest = json.loads(fh.attrs["manifest"])
    # a version-1 reader compares manifest["datasets"] with the datasets it knows: the pulse datasets are apart
    assert not (set(manifest["datasets"]) & SINCE_V2) and set(manifest["datasets_v2"]) == SINCE_V2
    # a version-1 map (no pulse datasets) is read and checked
    old = _copy(pm)
    old.attrs["format_version"] = 1
    for name in SINCE_V2:
        t, c = name.split("/")
        del old.tables[t][c]
    opath = tmp_path / "old.h5"
    write_map(old, opath)
    back = read_map(opath)
    assert back.version == 1 and "pulses" not in back.tables["cells"]
    assert check_map_file(opath)["tiles"] == pm.summary["tiles"]
    # a version-2 map that lost a pulse dataset is refused
    with h5py.File(path, "a") as fh:
        del fh["cells/pulses"]
    with pytest.raises(MapError, match="cells/pulses"):
        read_map(path)


def test_pulse_voltages_are_validated():
    tech = load_technology("pcm")
    bad = dataclasses.replace(tech, write=dataclasses.replace(tech.write, reset_ns=0.0))
    from connectome.devices.models import validate_technology

    with pytest.raises(TechnologyError, match="reset_first"):
        validate_technology(bad)
    bad = dataclasses.replace(tech, write=dataclasses.replace(tech.write, set_v=-1.0))
    with pytest.raises(TechnologyError, match="set_v"):
        validate_technology(bad)


def test_worked_example_in_the_format_doc_is_what_compile_writes(tmp_path):
    """docs/formats-progmap.md shows a real run: regenerate it and compare the printed rows."""
    import pathlib
    import re
    import subprocess
    import sys

    doc = (pathlib.Path(__file__).parents[2] / "docs" / "formats-progmap.md").read_text()
    block = doc[doc.index("Worked example"):]
    block = block[block.index("```console"):]
    block = block[:block.index("\n```\n")]
    edges = re.search(r"printf '(.*?)' > edges.csv", block).group(1).encode().decode("unicode_escape")
    (tmp_path / "edges.csv").write_text(edges)
    cmd = re.search(r"\$ connectome (compile .*)", block).group(1).split()
    import os

    root = pathlib.Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-m", "connectome.cli", *cmd], cwd=tmp_path, check=True, env=env)
    script = block[block.index("import h5py"):block.index("PY\n", block.index("import h5py"))]
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, capture_output=True,
                         text=True).stdout
    shown = [ln for ln in block.splitlines() if ln.startswith(("cell ", "step "))]
    assert out.splitlines() == shown


def test_a_connectome_in_another_weight_unit_compiles_by_the_same_full_scale_rule(small_connectome):
    from connectome.graph import Connectome

    e = small_connectome.edges
    eff = Connectome.from_edges(e["pre"], e["post"], weight_mv=e["weight_mv"] * 0.01, kind=e["kind"],
                                delay_ms=e["delay_ms"], neuron_id=small_connectome.neuron_id,
                                meta={"weight_unit": "efficacy (excess postsynaptic spikes per presynaptic spike)"})
    opts = CompileOptions(technology="rram", rows=32, cols=32, layers=1)
    a, b = compile_connectome(small_connectome, opts), compile_connectome(eff, opts)
    assert a.summary["weight_unit"] == "mV" and b.summary["weight_unit"].startswith("efficacy")
    assert json.loads(b.attrs["parameters"])["options"]["weight_unit"] == b.summary["weight_unit"]
    # the same levels: the full scale is a percentile of |w| in whatever unit
    assert np.array_equal(a.tables["cells"]["level"], b.tables["cells"]["level"])
    assert b.attrs["full_scale_mv"] == pytest.approx(a.attrs["full_scale_mv"] * 0.01)
    assert check_map(b) is None
    # from an inference directory, the unit comes from its summary.json
    summ = Connectome.from_edges([0], [1], weight_mv=[0.2], meta={"summary": {"weight_unit": "efficacy"}})
    assert compile_connectome(summ, opts).summary["weight_unit"] == "efficacy"


def test_verify_report_names_the_maps_weight_unit(small_connectome):
    # a spike-train connectome's weights are efficacies: verify's text report must not call them mV
    from connectome.graph import Connectome
    from connectome.verify.report import format_report
    from connectome.verify.run import verify_objects

    e = small_connectome.edges
    unit = "efficacy (excess postsynaptic spikes per presynaptic spike)"
    eff = Connectome.from_edges(e["pre"], e["post"], weight_mv=e["weight_mv"] * 0.01, kind=e["kind"],
                                delay_ms=e["delay_ms"], neuron_id=small_connectome.neuron_id,
                                meta={"weight_unit": unit})
    opts = CompileOptions(technology="rram", rows=32, cols=32, layers=1)
    r = verify_objects(compile_connectome(eff, opts), eff, functional=False)
    assert r["map"]["weight_unit"] == unit
    text = format_report(r)
    assert " mV" not in text and f"rms Δw ({unit})" in text
    r_mv = verify_objects(compile_connectome(small_connectome, opts), small_connectome, functional=False)
    assert r_mv["map"]["weight_unit"] == "mV" and "rms Δw (mV)" in format_report(r_mv)
