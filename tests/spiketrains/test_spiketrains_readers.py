"""Spike-train inputs: every reader gives the same table; every bad input is one line naming the file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from connectome.errors import RecordingError
from connectome.spiketrains import is_spike_input, read_spike_trains

T = np.array([0.10, 0.20, 0.15, 0.30, 0.25, 0.50])
U = np.array([3, 3, 7, 3, 7, 9])


def check(st, src):
    assert st.unit_ids.tolist() == [3, 7, 9]
    assert np.all(np.diff(st.times_s) >= 0) and st.n_spikes == 6
    assert st.counts().tolist() == [3, 2, 1]
    np.testing.assert_allclose(st.spikes_of(1), [0.15, 0.25])
    assert str(src) in st.source or st.source.startswith("<")


def write_cnea(path, t=T, u=U, units=None, x=None):
    with h5py.File(path, "w") as fh:
        fh.attrs["format"] = "cnea"
        fh["spikes/times_s"] = t
        fh["spikes/unit_id"] = u
        if units is not None:
            fh["units/id"] = units
            if x is not None:
                fh["units/x_um"] = x
                fh["units/y_um"] = x
    return path


def test_cnea_h5_with_unit_positions(tmp_path):
    p = write_cnea(tmp_path / "s.h5", units=np.array([9, 3, 7]), x=np.array([90.0, 30.0, 70.0]))
    st = read_spike_trains(p)
    check(st, p)
    np.testing.assert_allclose(st.x_um, [30.0, 70.0, 90.0])
    assert is_spike_input(p)


def test_cnea_with_voltages_is_voltage_mode(tmp_path):
    p = write_cnea(tmp_path / "both.h5")
    with h5py.File(p, "a") as fh:
        fh["data"] = np.zeros((10, 2), np.int16)
    assert not is_spike_input(p)
    check(read_spike_trains(p), p)  # spike-train mode can still be asked for


def test_cnea_zarr(tmp_path):
    zarr = pytest.importorskip("zarr")
    p = tmp_path / "s.zarr"
    root = zarr.open_group(str(p), mode="w")
    g = root.create_group("spikes")
    g.create_array("times_s", data=T)
    g.create_array("unit_id", data=U)
    assert is_spike_input(p)
    check(read_spike_trains(p), p)


def test_npz_csv_tsv(tmp_path):
    np.savez(tmp_path / "s.npz", times_s=T, unit_id=U)
    check(read_spike_trains(tmp_path / "s.npz"), tmp_path / "s.npz")
    (tmp_path / "s.csv").write_text("unit_id,time_s\n" + "".join(f"{u},{t}\n" for u, t in zip(U, T)))
    check(read_spike_trains(tmp_path / "s.csv"), tmp_path / "s.csv")
    (tmp_path / "s.tsv").write_text("time\tunit\n" + "".join(f"{t}\t{u}\n" for u, t in zip(U, T)))
    check(read_spike_trains(tmp_path / "s.tsv"), tmp_path / "s.tsv")


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"unit_id": U, "time_s": T}), tmp_path / "s.parquet")
    check(read_spike_trains(tmp_path / "s.parquet"), tmp_path / "s.parquet")


def test_nwb_units_written_by_pynwb(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime, timezone

    nwb = pynwb.NWBFile(
        session_description="t", identifier="x", session_start_time=datetime.now(timezone.utc)
    )
    for uid in (3, 7, 9):
        nwb.add_unit(id=uid, spike_times=T[U == uid])
    p = tmp_path / "units.nwb"
    with pynwb.NWBHDF5IO(str(p), "w") as io:
        io.write(nwb)
    assert is_spike_input(p)
    check(read_spike_trains(p), p)


def test_spikeinterface_sorting_and_folder(tmp_path):
    si = pytest.importorskip("spikeinterface")
    fs = 1000.0
    s = si.NumpySorting.from_samples_and_labels(
        [np.round(T * fs).astype(np.int64)], [U], sampling_frequency=fs
    )
    check(read_spike_trains(s), "<")
    assert is_spike_input(s)
    with pytest.warns(UserWarning):  # "not serializable": a NumpySorting has no provenance to keep
        s.save(folder=tmp_path / "sorted")
    assert is_spike_input(tmp_path / "sorted")
    check(read_spike_trains(tmp_path / "sorted"), tmp_path / "sorted")


BAD = [
    ("unsorted", [0.2, 0.1, 0.3], [1, 1, 2], None, "not in increasing order"),
    ("negative", [-0.1, 0.1, 0.3], [1, 1, 2], None, "negative spike time"),
    ("nan", [0.1, np.nan, 0.3], [1, 1, 2], None, "not finite"),
    ("duplicate", [0.1, 0.1, 0.3], [1, 1, 2], None, "duplicate spike"),
    ("empty unit", [0.1, 0.2, 0.3], [1, 1, 2], [1, 2, 5], "unit 5 has no spikes"),
    ("unknown unit", [0.1, 0.2, 0.3], [1, 1, 8], [1, 2], "missing from the unit table"),
]


@pytest.mark.parametrize("name,t,u,units,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_naming_the_file(tmp_path, name, t, u, units, msg):
    p = write_cnea(tmp_path / "bad.h5", np.array(t), np.array(u), None if units is None else np.array(units))
    with pytest.raises(RecordingError) as ei:
        read_spike_trains(p)
    text = str(ei.value)
    assert msg in text and str(p) in text and "\n" not in text


def test_positions_disagreeing_with_unit_table(tmp_path):
    p = write_cnea(tmp_path / "pos.h5", units=np.array([3, 7, 9]), x=np.array([1.0, 2.0]))
    with pytest.raises(RecordingError, match="x_um has 2 entries but the unit table has 3 units"):
        read_spike_trains(p)


def test_not_a_spike_file(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"")
    np.savez(tmp_path / "y.npz", a=[1])
    with pytest.raises(RecordingError, match="needs arrays 'times_s' and 'unit_id'"):
        read_spike_trains(tmp_path / "y.npz")
    with pytest.raises(RecordingError, match="no such file"):
        read_spike_trains(tmp_path / "missing.h5")
