"""``connectome export OUTDIR --nwb``: the connectome written back to NWB and read again with pynwb."""

from __future__ import annotations

import datetime
import hashlib
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from connectome.cli import main
from connectome.graph.formats import read_connectome
from connectome.io import open_recording

pynwb = pytest.importorskip("pynwb")

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "sample.h5"


@pytest.fixture(scope="module")
def inferred(tmp_path_factory):
    """The sample recording as an NWB file written by pynwb, and its infer output."""
    d = tmp_path_factory.mktemp("nwbexport")
    rec = open_recording(SAMPLE)
    nwb = pynwb.NWBFile(
        session_description="sample culture",
        identifier="sample-0001",
        session_start_time=datetime.datetime(2024, 3, 2, 9, 30, tzinfo=datetime.timezone.utc),
    )
    dev = nwb.create_device("CNEA")
    grp = nwb.create_electrode_group("array", description="4x4", location="dish", device=dev)
    for c in range(rec.n_channels):
        nwb.add_electrode(group=grp, location="dish", rel_x=float(rec.x_um[c]), rel_y=float(rec.y_um[c]))
    reg = nwb.create_electrode_table_region(list(range(rec.n_channels)), "all")
    assert rec.offset.ndim == 0  # per-channel scale: NWB channel_conversion
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeries",
            data=rec.get_raw(),
            electrodes=reg,
            rate=rec.sampling_rate_hz,
            conversion=1e-3,
            channel_conversion=np.broadcast_to(rec.scale, (rec.n_channels,)).astype(np.float64),
            offset=float(rec.offset) * 1e-3,
        )
    )
    src = d / "sample.nwb"
    with pynwb.NWBHDF5IO(str(src), "w") as io:
        io.write(nwb)
    out = d / "infer"
    assert main(["infer", str(src), "--out", str(out), "--quiet"]) == 0
    return src, out


def _acq_sha(path):
    with h5py.File(path) as fh:
        return hashlib.sha256(fh["acquisition/ElectricalSeries/data"][()].tobytes()).hexdigest()


def test_summary_carries_the_session(inferred):
    import json

    _, out = inferred
    s = json.loads((out / "summary.json").read_text())["input"]
    assert s["identifier"] == "sample-0001"
    assert s["session_start_time"].startswith("2024-03-02T09:30:00")
    assert s["series"] == "/acquisition/ElectricalSeries"


def _check(nwbfile, con, units_where="/units"):
    units = nwbfile.units if units_where == "/units" else nwbfile.processing["connectome"]["units"]
    df = units.to_dataframe()
    assert list(df.index) == con.neuron_id.tolist()
    n_spikes = np.asarray(con.neurons["n_spikes"], np.int64)
    assert [len(t) for t in df["spike_times"]] == n_spikes.tolist()
    assert list(df["type"]) == [str(t) for t in con.neurons["type"]]
    np.testing.assert_allclose(df["ap_amplitude_mv"], con.neurons["ap_amplitude_mv"], rtol=1e-6)
    for i, row in enumerate(df.itertuples()):  # electrodes = the neuron's channels
        want = sorted(int(c) for c in str(con.neurons["channels"][i]).split(";"))
        assert sorted(row.electrodes.index.tolist()) == want
    syn = nwbfile.processing["connectome"]["synapses"]
    assert len(syn) == con.n_edges
    pre = syn["pre"].data[:]
    post = syn["post"].data[:]
    np.testing.assert_array_equal(con.neuron_id[pre], con.edges["pre"])
    np.testing.assert_array_equal(con.neuron_id[post], con.edges["post"])
    assert list(syn["kind"].data[:]) == list(con.kind_names())
    np.testing.assert_allclose(syn["weight"].data[:], con.edges["weight_mv"])
    np.testing.assert_allclose(syn["delay"].data[:], con.edges["delay_ms"])
    np.testing.assert_allclose(syn["q"].data[:], con.edges["q_value"])


def test_export_to_a_new_nwb_file_round_trips(inferred, tmp_path, capsys):
    _, out = inferred
    con = read_connectome(out)
    assert con.n_edges > 0
    dst = tmp_path / "connectome.nwb"
    assert main(["export", str(out), "--nwb", str(dst)]) == 0
    assert "synapses" in capsys.readouterr().out
    with pynwb.NWBHDF5IO(str(dst), "r") as io:
        f = io.read()
        _check(f, con)
        assert f.identifier == "sample-0001"
        # electrodes carry the array positions
        el = f.electrodes.to_dataframe()
        assert len(el) == 16 and {"rel_x", "rel_y"} <= set(el.columns)
    if shutil.which("h5dump"):
        r = subprocess.run(["h5dump", "-H", str(dst)], capture_output=True, text=True)
        assert r.returncode == 0 and "synapses" in r.stdout, r.stderr
    # an existing file is not replaced without --append
    assert main(["export", str(out), "--nwb", str(dst)]) == 2
    assert "--append" in capsys.readouterr().err


def test_export_appends_to_the_source_without_touching_acquisition(inferred, tmp_path):
    src, out = inferred
    copy = tmp_path / "source.nwb"
    shutil.copyfile(src, copy)
    before = _acq_sha(copy)
    con = read_connectome(out)
    assert main(["export", str(out), "--nwb", str(copy), "--append", "--recording", str(src), "--quiet"]) == 0
    assert _acq_sha(copy) == before
    with pynwb.NWBHDF5IO(str(copy), "r") as io:
        f = io.read()
        _check(f, con)
        assert len(f.electrodes) == 16  # the file's own electrodes table, not a second one
    # exporting twice into the same file is refused, and the file is left as it was
    size = copy.stat().st_size
    assert main(["export", str(out), "--nwb", str(copy), "--append", "--recording", str(src)]) == 2
    assert copy.stat().st_size == size and _acq_sha(copy) == before
