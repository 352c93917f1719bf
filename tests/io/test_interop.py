"""Recordings SpikeInterface generates and saves, read through connectome (values, rate, positions)."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import h5py
import numpy as np
import pytest

import connectome
from connectome.cli import main
from connectome.errors import RecordingError
from connectome.io import open_recording

si = pytest.importorskip("spikeinterface.core")

FS = 20000.0


@pytest.fixture(scope="module")
def generated():
    rec, _ = si.generate_ground_truth_recording(
        durations=[1.5], sampling_frequency=FS, num_channels=16, num_units=4, seed=7
    )
    return rec


def _check_against(rec, source, atol=1e-6):
    want = source.get_traces(return_in_uV=True).astype(np.float64) * 1e-3  # µV → mV
    assert rec.sampling_rate_hz == source.get_sampling_frequency()
    assert (rec.n_samples, rec.n_channels) == want.shape
    np.testing.assert_allclose(rec.get_traces(), want, rtol=1e-5, atol=atol)
    np.testing.assert_allclose(
        rec.get_traces(1234, 2345, slice(3, 9)), want[1234:2345, 3:9], rtol=1e-5, atol=atol
    )
    loc = source.get_channel_locations()
    np.testing.assert_allclose(rec.x_um, loc[:, 0])
    np.testing.assert_allclose(rec.y_um, loc[:, 1])


def test_baserecording_in_the_python_api(generated):
    rec = connectome.open_recording(generated)
    _check_against(rec, generated)
    assert rec.pitch_um == pytest.approx(20.0)
    assert "SpikeInterface probe" in rec.geometry_source
    assert rec.attrs["source_format"].startswith("spikeinterface")


def test_binary_folder_opened_by_content(generated, tmp_path):
    saved = generated.save(folder=tmp_path / "si_bin", format="binary", verbose=False)
    rec = open_recording(tmp_path / "si_bin")  # auto: a folder SpikeInterface saved
    _check_against(rec, generated)
    assert rec.path == tmp_path / "si_bin"
    assert open_recording(tmp_path / "si_bin", format="si-folder").n_channels == saved.get_num_channels()


def test_int16_with_gains_keeps_raw_counts(tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.integers(-3000, 3000, (4000, 8)).astype(np.int16)
    nr = si.NumpyRecording(raw, sampling_frequency=FS)
    nr.set_channel_gains(0.195)
    nr.set_channel_offsets(-10.0)
    r, c = np.divmod(np.arange(8), 4)
    nr.set_dummy_probe_from_locations(np.column_stack([17.5 * c, 17.5 * r]))
    nr.save(folder=tmp_path / "int16", format="binary", verbose=False)
    rec = open_recording(tmp_path / "int16")
    assert rec.dtype == np.int16
    np.testing.assert_array_equal(rec.get_raw(0, 100), raw[:100])
    np.testing.assert_allclose(rec.get_traces(0, 100), (raw[:100] * 0.195 - 10.0) * 1e-3, rtol=1e-5)
    assert rec.pitch_um == pytest.approx(17.5) and (rec.rows.max(), rec.cols.max()) == (1, 3)


def test_several_segments_are_refused_unless_one_is_chosen():
    a = np.zeros((3000, 4), np.float32)
    b = np.ones((2000, 4), np.float32)
    nr = si.NumpyRecording([a, b], sampling_frequency=FS)
    nr.set_channel_gains(1.0)
    nr.set_channel_offsets(0.0)
    nr.set_dummy_probe_from_locations(np.column_stack([20.0 * np.arange(4), np.zeros(4)]))
    with pytest.raises(RecordingError, match="2 segments"):
        connectome.open_recording(nr)
    rec = connectome.open_recording(nr, segment=1)
    assert rec.n_samples == 2000 and float(rec.get_traces(0, 1)[0, 0]) == pytest.approx(1e-3)


def test_nwb_written_from_a_generated_recording(generated, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    nwb = pynwb.NWBFile(
        session_description="spikeinterface ground truth",
        identifier="si-gt",
        session_start_time=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    )
    dev = nwb.create_device("probe")
    grp = nwb.create_electrode_group("probe", description="generated", location="none", device=dev)
    loc = generated.get_channel_locations()
    for x, y in loc:
        nwb.add_electrode(group=grp, location="none", rel_x=float(x), rel_y=float(y))
    reg = nwb.create_electrode_table_region(list(range(len(loc))), "all")
    traces = generated.get_traces(return_in_uV=True)
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeries", data=traces, electrodes=reg, rate=FS, conversion=1e-6
        )
    )
    path = tmp_path / "gt.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    _check_against(open_recording(path), generated, atol=1e-5)
    # SpikeInterface reads the same file to the same values
    se = pytest.importorskip("spikeinterface.extractors")
    back = se.read_nwb_recording(str(path))
    np.testing.assert_allclose(back.get_traces(return_in_uV=True), traces, rtol=1e-5)


@pytest.mark.parametrize("suffix", [".h5", ".zarr"])
def test_convert_cli(generated, tmp_path, capsys, suffix):
    generated.save(folder=tmp_path / "si_bin", format="binary", verbose=False)
    out = tmp_path / f"rec{suffix}"
    quiet = ["-q"] if suffix == ".zarr" else []  # -q: nothing on stdout, as on every verb
    assert main(["convert", str(tmp_path / "si_bin"), "-o", str(out), *quiet]) == 0
    stdout = capsys.readouterr().out
    assert stdout == "" if quiet else "16 channels" in stdout
    rec = open_recording(out)
    assert rec.format == ("hdf5" if suffix == ".h5" else "zarr")
    _check_against(rec, generated)
    if suffix == ".h5":
        with h5py.File(out) as fh:
            assert fh["data"].compression == "gzip"  # readable without the LZF plugin
        if shutil.which("h5dump"):
            r = subprocess.run(
                ["h5dump", "-d", "/data", "-s", "0,0", "-c", "2,2", str(out)], capture_output=True, text=True
            )
            assert r.returncode == 0 and 'DATASET "/data"' in r.stdout, r.stderr


def test_convert_refuses_bad_input_cleanly(tmp_path, capsys):
    bad = tmp_path / "x.rhd"
    bad.write_bytes(b"not intan")
    assert main(["convert", str(bad), "--out", str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(bad) in err
    assert not (tmp_path / "o.h5").exists()
    assert main(["convert", str(bad), "--format", "nosuchformat", "--out", str(tmp_path / "o.h5")]) == 2
    assert "unknown recording format 'nosuchformat'" in capsys.readouterr().err


def test_readme_lab_data_examples_run(generated, tmp_path, monkeypatch):
    """The two README examples, on an NWB file pynwb writes and a stand-in for the MaxWell reader."""
    import warnings
    from pathlib import Path

    pynwb = pytest.importorskip("pynwb")
    se = pytest.importorskip("spikeinterface.extractors")
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split("### Lab data", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    assert len(blocks) == 2 and all(len(b.strip().splitlines()) <= 2 for b in blocks[:1])
    nwb = pynwb.NWBFile(
        session_description="s",
        identifier="s",
        session_start_time=datetime.datetime.now(datetime.timezone.utc),
    )
    dev = nwb.create_device("probe")
    grp = nwb.create_electrode_group("probe", description="g", location="none", device=dev)
    for x, y in generated.get_channel_locations():
        nwb.add_electrode(group=grp, location="none", rel_x=float(x), rel_y=float(y))
    reg = nwb.create_electrode_table_region(list(range(16)), "all")
    nwb.add_acquisition(
        pynwb.ecephys.ElectricalSeries(
            name="ElectricalSeries", data=generated.get_traces(), electrodes=reg, rate=FS, conversion=1e-6
        )
    )
    with pynwb.NWBHDF5IO(str(tmp_path / "session.nwb"), "w") as io:
        io.write(nwb)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(se, "read_maxwell", lambda path: generated)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for code in blocks:
            ns = {"connectome": connectome}
            exec(compile(code, "README.md", "exec"), ns)
            assert isinstance(ns["con"], connectome.Connectome)
