"""NWB files written by pynwb itself, read by connectome's own (pynwb-free) NWB reader."""

from __future__ import annotations

import datetime
import json

import h5py
import numpy as np
import pytest

from connectome.cli import main
from connectome.errors import RecordingError
from connectome.io import open_recording

pynwb = pytest.importorskip("pynwb")

T0 = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)


def _nwbfile():
    return pynwb.NWBFile(
        session_description="culture 3, DIV 21", identifier="cult-003", session_start_time=T0
    )


def _array(nwb, n=64, side=8, pitch=17.5, origin=(100.0, 200.0), columns=("rel_x", "rel_y"), brain_xy=None):
    dev = nwb.create_device("CNEA")
    grp = nwb.create_electrode_group("array", description="grid", location="dish", device=dev)
    r, c = np.divmod(np.arange(n), side)
    for i in range(n):
        kw = {columns[0]: origin[0] + pitch * c[i], columns[1]: origin[1] + pitch * r[i]}
        if brain_xy is not None:
            kw.update(x=brain_xy[0], y=brain_xy[1], z=0.0)
        nwb.add_electrode(group=grp, location="dish", **kw)
    return nwb.create_electrode_table_region(list(range(n)), "all electrodes")


def _write(nwb, path):
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _data(n=3000, c=64, seed=0):
    return np.random.default_rng(seed).integers(-200, 200, (n, c)).astype(np.int16)


def test_geometry_from_rel_x_rel_y_pitch_and_origin_inferred(tmp_path):
    nwb = _nwbfile()
    # x, y (brain coordinates) are the same for every contact: the array geometry is in rel_x, rel_y
    reg = _array(nwb, brain_xy=(1500.0, 2000.0))
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeries", data=_data(), electrodes=reg, rate=20000.0, conversion=1e-6
        )
    )
    rec = open_recording(_write(nwb, tmp_path / "a.nwb"))
    assert rec.pitch_um == pytest.approx(17.5)
    assert rec.origin_um == (100.0, 200.0)
    assert (rec.rows.max() + 1, rec.cols.max() + 1) == (8, 8)
    assert len(set(zip(rec.rows.tolist(), rec.cols.tolist()))) == 64
    assert "rel_x, rel_y" in rec.geometry_source


def test_geometry_from_x_y_and_info_names_the_columns(tmp_path, capsys):
    nwb = _nwbfile()
    reg = _array(nwb, n=16, side=4, pitch=30.0, origin=(0.0, 0.0), columns=("x", "y"))
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeries", data=_data(c=16), electrodes=reg, rate=20000.0, conversion=1e-6
        )
    )
    path = _write(nwb, tmp_path / "b.nwb")
    rec = open_recording(path)
    assert rec.pitch_um == pytest.approx(30.0) and (rec.rows.max(), rec.cols.max()) == (3, 3)
    assert main(["info", str(path), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert "NWB electrodes table columns x, y" in s["geometry_source"]


def test_highest_rate_series_by_default_and_series_picks(tmp_path):
    nwb = _nwbfile()
    reg = _array(nwb)
    raw = _data(3000)
    lfp = _data(250, seed=1)
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeriesLFP", data=lfp, electrodes=reg, rate=2500.0, conversion=1e-6
        )
    )
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeriesRaw", data=raw, electrodes=reg, rate=30000.0, conversion=1e-6
        )
    )
    path = _write(nwb, tmp_path / "two.nwb")
    rec = open_recording(path)
    assert rec.sampling_rate_hz == 30000.0 and rec.n_samples == 3000
    assert rec.attrs["series"] == "/acquisition/ElectricalSeriesRaw"
    assert "highest rate" in rec.attrs["series_note"] and "ElectricalSeriesLFP" in rec.attrs["series_note"]
    np.testing.assert_allclose(rec.get_traces(0, 100), raw[:100] * 1e-3, rtol=1e-6)
    lf = open_recording(path, series="ElectricalSeriesLFP")
    assert lf.sampling_rate_hz == 2500.0
    np.testing.assert_allclose(lf.get_traces(0, 250), lfp * 1e-3, rtol=1e-6)
    assert open_recording(path, series="acquisition/ElectricalSeriesLFP").n_samples == 250
    with pytest.raises(RecordingError, match="no voltage series named 'nope'.*ElectricalSeriesRaw"):
        open_recording(path, series="nope")


def test_timestamps_with_a_gap_are_refused_or_read_by_segment(tmp_path):
    nwb = _nwbfile()
    reg = _array(nwb, n=16, side=4, pitch=20.0, origin=(0.0, 0.0))
    fs = 10000.0
    ts = np.concatenate([np.arange(10000) / fs, 5.0 + np.arange(10000) / fs])  # 1 s, 4 s gap, 1 s
    data = _data(20000, 16)
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeries", data=data, electrodes=reg, timestamps=ts, conversion=1e-6
        )
    )
    path = _write(nwb, tmp_path / "gap.nwb")
    with pytest.raises(RecordingError, match=r"2 segments separated by gaps \(timestamps jump by 4\.0001 s"):
        open_recording(path)
    seg = open_recording(path, segment=1)
    assert seg.n_samples == 10000 and seg.sampling_rate_hz == pytest.approx(fs)
    assert seg.attrs["start_time_s"] == pytest.approx(5.0)
    np.testing.assert_allclose(seg.get_traces(0, 50), data[10000:10050] * 1e-3, rtol=1e-6)
    with pytest.raises(RecordingError, match="segment 2 does not exist"):
        open_recording(path, segment=2)


def _icephys(tmp_path, gap_s=0.0, offsets=(0.0, 0.001)):
    nwb = _nwbfile()
    dev = nwb.create_device("amp")
    fs, n = 10000.0, 2000
    rng = np.random.default_rng(3)
    data = {}
    for cell, off in zip(("cell0", "cell1"), offsets):
        el = nwb.create_icephys_electrode(name=cell, description="whole-cell", device=dev)
        for k in range(3):
            v = rng.integers(-70000, -60000, n).astype(np.int32)
            data[cell, k] = v
            nwb.add_acquisition(
                pynwb.icephys.CurrentClampSeries(
                    name=f"{cell}_sweep{k}",
                    data=v,
                    electrode=el,
                    gain=1.0,
                    rate=fs,
                    starting_time=k * (n / fs + gap_s),
                    sweep_number=np.uint32(k),
                    conversion=1e-6,
                    offset=off,
                )
            )
    return _write(nwb, tmp_path / "ic.nwb"), data, n


def test_icephys_sweeps_are_time_segments_with_their_own_offset(tmp_path):
    path, data, n = _icephys(tmp_path)
    rec = open_recording(path)
    assert rec.n_channels == 2 and rec.n_samples == 3 * n  # 2 cells × 3 contiguous sweeps
    x = rec.get_traces()
    for j, (cell, off) in enumerate(zip(("cell0", "cell1"), (0.0, 1.0))):  # offsets in mV
        want = np.concatenate([data[cell, k] for k in range(3)]) * 1e-3 + off
        np.testing.assert_allclose(x[:, j], want, rtol=1e-6, atol=1e-4)
    # a block across a sweep boundary
    np.testing.assert_allclose(rec.get_traces(n - 5, n + 5)[:, 0], x[n - 5 : n + 5, 0])


def test_icephys_sweeps_with_gaps_are_refused_or_read_by_segment(tmp_path):
    path, data, n = _icephys(tmp_path, gap_s=0.5)
    with pytest.raises(RecordingError, match="3 segments separated by gaps"):
        open_recording(path)
    rec = open_recording(path, segment=2)
    assert (rec.n_samples, rec.n_channels) == (n, 2)
    np.testing.assert_allclose(rec.get_traces()[:, 1], data["cell1", 2] * 1e-3 + 1.0, rtol=1e-6, atol=1e-4)


def test_session_metadata_reaches_the_recording(tmp_path):
    nwb = _nwbfile()
    reg = _array(nwb, n=16, side=4, pitch=20.0, origin=(0.0, 0.0))
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(name="es", data=_data(c=16), electrodes=reg, rate=20000.0)
    )
    rec = open_recording(_write(nwb, tmp_path / "m.nwb"))
    assert rec.attrs["identifier"] == "cult-003"
    assert rec.attrs["session_start_time"].startswith("2024-05-01T12:00:00")
    assert rec.attrs["session_description"] == "culture 3, DIV 21"


def test_hdmf_zarr_nwb_is_refused_by_name(tmp_path, capsys):
    # the layout hdmf-zarr writes (zarr v2 group whose attributes carry the NWB namespace);
    # hdmf-zarr itself cannot be installed next to zarr 3
    zarr = pytest.importorskip("zarr")
    p = tmp_path / "rec.nwb.zarr"
    g = zarr.open_group(str(p), mode="w", zarr_format=2)
    g.attrs.update({"namespace": "core", "neurodata_type": "NWBFile", "nwb_version": "2.7.0"})
    g.create_group("acquisition")
    with pytest.raises(RecordingError, match="hdmf-zarr"):
        open_recording(p)
    assert main(["info", str(p)]) == 2
    err = capsys.readouterr().err
    assert str(p) in err and "hdmf-zarr" in err


def test_reader_is_lazy_and_chunked(tmp_path):
    nwb = _nwbfile()
    reg = _array(nwb, n=16, side=4, pitch=20.0, origin=(0.0, 0.0))
    data = _data(50000, 16)
    wrapped = pynwb.ecephys.ElectricalSeries(
        name="es",
        data=pynwb.H5DataIO(data, chunks=(5000, 16), compression="gzip"),
        electrodes=reg,
        rate=20000.0,
        conversion=1e-6,
    )
    nwb.add_acquisition(wrapped)
    path = _write(nwb, tmp_path / "c.nwb")
    rec = open_recording(path)
    with h5py.File(path) as fh:
        assert fh["acquisition/es/data"].chunks == (5000, 16)
    assert rec.file_chunks == (5000, 16)
    np.testing.assert_allclose(rec.get_traces(12345, 12400), data[12345:12400] * 1e-3, rtol=1e-6)


def _two_series(tmp_path):
    nwb = _nwbfile()
    reg = _array(nwb, n=16, side=4, pitch=20.0, origin=(0.0, 0.0))
    for name, rate, n in (("ElectricalSeriesRaw", 20000.0, 20000), ("ElectricalSeriesLFP", 2000.0, 2000)):
        nwb.add_acquisition(
            pynwb.ecephys.ElectricalSeries(
                name=name, data=_data(n, 16), electrodes=reg, rate=rate, conversion=1e-6
            )
        )
    return _write(nwb, tmp_path / "two.nwb")


def test_series_option_on_the_command_line(tmp_path, capsys):
    path = _two_series(tmp_path)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sampling_rate_hz"] == 20000.0
    assert main(["info", str(path), "--series", "ElectricalSeriesLFP", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sampling_rate_hz"] == 2000.0
    assert main(["info", str(path)]) == 0
    assert "highest rate of 2 ElectricalSeries" in capsys.readouterr().out
    assert main(["info", str(path), "--series", "nope"]) == 2
    assert "no voltage series named 'nope'" in capsys.readouterr().err
    out = tmp_path / "inf"
    assert main(["infer", str(path), "--out", str(tmp_path / "raw"), "--quiet"]) == 0
    assert "reading series ElectricalSeriesRaw (20000 Hz" in capsys.readouterr().err
    assert main(["infer", str(path), "--series", "ElectricalSeriesLFP", "--out", str(out), "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text())["input"]
    assert s["series"] == "/acquisition/ElectricalSeriesLFP" and s["sampling_rate_hz"] == 2000.0
    assert s["identifier"] == "cult-003"


def test_series_in_pipeline_toml(tmp_path, capsys):
    path = _two_series(tmp_path)
    toml = tmp_path / "p.toml"
    toml.write_text(
        f'[run]\ninputs = ["{path.name}"]\noutput = "out"\nstages = ["infer"]\n'
        'series = "ElectricalSeriesLFP"\n'
    )
    assert main(["run", str(toml), "--quiet", "--no-report"]) == 0
    s = json.loads((tmp_path / "out" / "two" / "infer" / "summary.json").read_text())["input"]
    assert s["series"] == "/acquisition/ElectricalSeriesLFP"
    toml.write_text(f'[run]\ninputs = ["{path.name}"]\noutput = "out2"\nstages = ["infer"]\nseries = 3\n')
    assert main(["run", str(toml), "--quiet", "--no-report"]) == 2
    assert "[run] series must be a series name" in capsys.readouterr().err


def test_series_option_on_imprint(tmp_path, capsys):
    path = _two_series(tmp_path)
    assert main(["imprint", str(path), "--series", "nope", "--out", str(tmp_path / "m.h5"), "--quiet"]) == 2
    assert "no voltage series named 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "m.h5").exists()
    assert (
        main(["imprint", str(path), "--series", "ElectricalSeriesLFP", "--out", str(tmp_path / "m.h5")]) == 0
    )
    assert (tmp_path / "m.h5").exists()
