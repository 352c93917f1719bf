"""Recordings that would be read silently wrong are refused on open, naming the file and the problem."""

import json
import os
import shutil
import warnings

import h5py
import numpy as np
import pytest

from connectome.cli import main
from connectome.errors import RecordingError
from connectome.io import create_recording, open_recording
from connectome.io.recording import infer_pitch


def _h5(
    path,
    data=None,
    *,
    rate=10_000.0,
    attrs=None,
    data_attrs=None,
    channels=None,
    chunks=None,
    shape=None,
    dtype=np.int16,
):
    with h5py.File(path, "w") as fh:
        fh.attrs["format"] = "cnea"
        for k, v in (attrs or {}).items():
            fh.attrs[k] = v
        if shape is not None:
            ds = fh.create_dataset("data", shape=shape, dtype=dtype, chunks=chunks)
        else:
            ds = fh.create_dataset("data", data=np.asarray(data, dtype=dtype), chunks=chunks)
        ds.attrs["sampling_rate_hz"] = rate
        ds.attrs["units"] = "mV"
        for k, v in (data_attrs or {}).items():
            ds.attrs[k] = v
        for k, v in (channels or {}).items():
            fh.create_dataset(f"channels/{k}", data=np.asarray(v))
    return path


def _grid(n_side, pitch=20.0):
    r, c = np.divmod(np.arange(n_side * n_side), n_side)
    return r, c, c * pitch, r * pitch


def _refused(path, *words):
    with pytest.raises(RecordingError) as exc:
        open_recording(path)
    assert exc.value.path == os.fspath(path)
    for w in words:
        assert w in exc.value.reason, exc.value.reason
    return exc.value.reason


def _cli(path, capsys, *args):
    code = main(["info", str(path), *args])
    return code, capsys.readouterr()


# ------------------------------------------------------------------ missing chunks
def _zarr(tmp_path, n_samples=30_000, n_channels=4):
    path = tmp_path / "rec.zarr"
    with create_recording(
        path, n_samples=n_samples, n_channels=n_channels, sampling_rate_hz=10_000.0, chunk_samples=10_000
    ) as w:
        w.write(0, np.ones((n_samples, n_channels), np.int16))
    return path


def test_zarr_with_a_deleted_chunk_is_refused_with_its_sample_range(tmp_path, capsys):
    path = _zarr(tmp_path)
    open_recording(path)  # complete: fine
    os.remove(path / "data" / "c" / "1" / "0")
    reason = _refused(path, "samples 10000–20000", "1 of 3 chunks")
    assert "missing" in reason
    code, out = _cli(path, capsys)
    assert code == 2 and "samples 10000–20000" in out.err and "Traceback" not in out.err


def test_zarr_writer_stores_chunks_equal_to_the_fill_value(tmp_path):
    path = tmp_path / "zeros.zarr"
    with create_recording(
        path, n_samples=20_000, n_channels=2, sampling_rate_hz=10_000.0, chunk_samples=10_000
    ) as w:
        w.write(0, np.zeros((20_000, 2), np.int16))  # all fill value
    rec = open_recording(path)  # not mistaken for missing chunks
    assert rec.get_traces(0, 10).sum() == 0


def test_declared_sparse_array_reads_unwritten_chunks_as_fill(tmp_path):
    path = _zarr(tmp_path)
    import zarr

    zarr.open_array(os.fspath(path / "data"), mode="r+").attrs["sparse"] = True
    os.remove(path / "data" / "c" / "2" / "0")
    rec = open_recording(path)
    assert rec.get_traces(25_000, 25_010).sum() == 0


def test_hdf5_unallocated_chunks_are_refused(tmp_path):
    path = tmp_path / "holes.h5"
    with h5py.File(path, "w") as fh:
        ds = fh.create_dataset("data", shape=(40_000, 4), dtype=np.int16, chunks=(10_000, 4))
        ds[:10_000] = 1
        ds[30_000:] = 1
        ds.attrs["sampling_rate_hz"] = 10_000.0
    _refused(path, "samples 10000–20000", "2 of 4 chunks")


def test_sparse_file_declaring_1e11_samples_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as fh:
        ds = fh.create_dataset("data", shape=(10**11, 16), dtype=np.int16, chunks=(10_000, 16))
        ds[:10_000] = 1
        ds.attrs["sampling_rate_hz"] = 10_000.0
    assert path.stat().st_size < 1_000_000
    _refused(path, "samples 10000–20000", "9999999 of 10000000 chunks")


def test_contiguous_dataset_never_written_or_beyond_the_file(tmp_path):
    path = _h5(tmp_path / "cont.h5", shape=(10**9, 4))
    _refused(path, "missing from the file")
    path = _h5(tmp_path / "cont2.h5", data=np.ones((100_000, 4)))
    with h5py.File(path, "r") as fh:
        off = fh["data"].id.get_offset()
    with open(path, "r+b") as fh:  # cut inside the samples, keep the header
        fh.truncate(off + 1000)
    with pytest.raises(RecordingError):
        open_recording(path)


# ------------------------------------------------------------------ geometry
def test_nwb_style_positions_give_pitch_and_origin(tmp_path):
    r, c = np.divmod(np.arange(64), 8)
    path = _h5(
        tmp_path / "g.h5", np.zeros((2000, 64)), channels={"x_um": 100 + 17.5 * c, "y_um": 200 + 17.5 * r}
    )
    rec = open_recording(path)
    assert rec.pitch_um == pytest.approx(17.5)
    assert rec.origin_um == (100.0, 200.0)
    assert (rec.rows.max() + 1, rec.cols.max() + 1) == (8, 8)
    assert len(set(zip(rec.rows.tolist(), rec.cols.tolist()))) == 64
    np.testing.assert_array_equal(rec.rows, r)
    assert "x_um" in rec.geometry_source


def test_infer_pitch_tolerates_missing_sites_and_jitter():
    r, c = np.divmod(np.arange(100), 10)
    keep = np.ones(100, bool)
    keep[[3, 17, 55, 56]] = False
    rng = np.random.default_rng(0)
    x = 30.0 * c[keep] + rng.normal(0, 0.3, keep.sum())
    y = 30.0 * r[keep] + rng.normal(0, 0.3, keep.sum())
    assert infer_pitch(x, y) == pytest.approx(30.0, rel=0.01)


@pytest.mark.parametrize(
    "case,channels,attrs,words",
    [
        (
            "nan position",
            {"x_um": [0.0, 20.0, np.nan, 20.0], "y_um": [0.0, 0.0, 20.0, 20.0]},
            {},
            ["/channels/x_um of channel 2 is not finite"],
        ),
        (
            "duplicate position",
            {"x_um": [0.0, 20.0, 20.0, 0.0], "y_um": [0.0, 0.0, 0.0, 20.0]},
            {},
            ["channels 1 and 2 share"],
        ),
        (
            "all at one position",
            {"x_um": [5.0] * 4, "y_um": [5.0] * 4},
            {},
            ["channels 0 and 1 and 2 more share"],
        ),
        ("duplicate row/col", {"row": [0, 0, 1, 1], "col": [0, 1, 1, 1]}, {}, ["share the (row, col) site"]),
        ("row 2^40", {"row": [0, 0, 1, 2**40], "col": [0, 1, 0, 1]}, {}, ["grid indices must be 0 … 4095"]),
        ("negative row", {"row": [0, -1, 1, 1], "col": [0, 1, 0, 1]}, {}, ["channel 1 is -1"]),
        ("fractional row", {"row": [0, 0.5, 1, 1], "col": [0, 1, 0, 1]}, {}, ["not a whole number"]),
        (
            "huge span",
            {"x_um": [0.0, 20.0, 0.0, 20.0 * 2**40], "y_um": [0.0, 0.0, 20.0, 20.0]},
            {},
            ["at most 4096 per side"],
        ),
        ("pitch zero", {}, {"pitch_um": 0.0}, ["pitch_um must be a positive number"]),
        ("pitch nan", {}, {"pitch_um": np.nan}, ["pitch_um must be a positive number"]),
        (
            "off grid",
            {"x_um": [0.0, 20.0, 0.0, 29.0], "y_um": [0.0, 0.0, 20.0, 20.0]},
            {},
            ["not on a square grid"],
        ),
        ("half a pair", {"x_um": [0.0, 20.0, 0.0, 20.0]}, {}, ["/channels/y_um is missing"]),
    ],
)
def test_bad_geometry_is_refused(tmp_path, capsys, case, channels, attrs, words):
    path = _h5(tmp_path / "geo.h5", np.zeros((2000, 4)), channels=channels, attrs=attrs)
    _refused(path, *words)
    code, out = _cli(path, capsys)
    assert code == 2 and out.err.startswith("connectome: error: ") and "Traceback" not in out.err


def test_pitch_attribute_disagreeing_with_positions_warns_and_uses_positions(tmp_path):
    r, c, x, y = _grid(4, 17.5)
    path = _h5(
        tmp_path / "p.h5", np.zeros((2000, 16)), channels={"x_um": x, "y_um": y}, attrs={"pitch_um": 20.0}
    )
    with pytest.warns(
        UserWarning, match=r"pitch_um = 20 µm but the channel positions are 17.5 µm apart; using 17.5"
    ):
        rec = open_recording(path)
    assert rec.pitch_um == pytest.approx(17.5)


def test_sample_geometry_unchanged():
    rec = open_recording("sample_data/sample.h5")
    assert rec.pitch_um == pytest.approx(20.0) and rec.origin_um == (0.0, 0.0)
    np.testing.assert_array_equal(rec.rows, np.arange(16) // 4)
    np.testing.assert_array_equal(rec.cols, np.arange(16) % 4)


def test_info_shows_pitch_and_geometry_source(tmp_path, capsys):
    r, c = np.divmod(np.arange(16), 4)
    path = _h5(tmp_path / "g.h5", np.zeros((20_000, 16)), channels={"x_um": 50 + 17.5 * c, "y_um": 17.5 * r})
    code, out = _cli(path, capsys, "--json")
    assert code == 0
    s = json.loads(out.out)
    assert s["pitch_um"] == pytest.approx(17.5) and s["origin_um"] == [50.0, 0.0]
    assert s["grid"] == [4, 4] and "x_um" in s["geometry_source"]


# ------------------------------------------------------------------ orientation, scale, rate
def test_channels_by_time_is_refused(tmp_path):
    r, c, x, y = _grid(4)
    path = _h5(tmp_path / "t.h5", np.zeros((16, 3000)), channels={"row": r, "col": c})
    _refused(path, "/data is 16 × 3000 but /channels/row has 16 entries: the file looks channels × time")
    path = _h5(tmp_path / "t2.h5", np.zeros((16, 3000)), data_attrs={"scale": np.ones(16)})
    _refused(path, "the file looks channels × time")


@pytest.mark.parametrize(
    "scale,words",
    [(0.0, ["scale is 0"]), (np.array([1.0, 0.0, 1.0, 1.0]), ["channel 1"]), (np.nan, ["not finite"])],
)
def test_zero_or_nan_scale_is_refused(tmp_path, scale, words):
    path = _h5(tmp_path / "s.h5", np.zeros((2000, 4)), data_attrs={"scale": scale})
    _refused(path, *words)


def test_negative_scale_is_accepted(tmp_path):  # an inverting amplifier
    path = _h5(tmp_path / "s.h5", np.ones((2000, 4)), data_attrs={"scale": -0.5})
    assert open_recording(path).get_traces(0, 1)[0, 0] == pytest.approx(-0.5)


@pytest.mark.parametrize("rate", [1e300, 1e-300, 1.0, 999.0, 2e6])
def test_sampling_rate_outside_the_range_is_refused(tmp_path, capsys, rate):
    path = _h5(tmp_path / "r.h5", np.zeros((2000, 4)), rate=rate)
    _refused(path, "accepted: 1000 Hz to 1e+06 Hz")
    code, out = _cli(path, capsys)
    assert code == 2 and "sampling_rate_hz" in out.err


def test_read_chunks_have_a_minimum_duration(tmp_path):
    path = _h5(tmp_path / "c.h5", np.zeros((50_000, 4)), chunks=(10, 4))
    rec = open_recording(path)
    assert rec.file_chunks == (10, 4)
    assert rec.chunks[0] == 5000 and rec.chunks[0] % 10 == 0  # 0.5 s at 10 kHz, whole file chunks
    assert len(rec.chunk_bounds()) == 10


# ------------------------------------------------------------------ NWB
def _nwb(
    path,
    *,
    series="ElectricalSeries",
    data=None,
    as_dataset=False,
    no_data=False,
    conv=None,
    electrodes=None,
    n_table=None,
    timestamps=None,
    positions=None,
):
    data = np.zeros((2000, 4), np.int16) if data is None else data
    with h5py.File(path, "w") as fh:
        fh.attrs["nwb_version"] = "2.7.0"
        fh.create_group("general")
        acq = fh.create_group("acquisition")
        if as_dataset:
            d = acq.create_dataset("es", data=data)
            d.attrs["neurodata_type"] = series
            return path
        g = acq.create_group("es")
        g.attrs["neurodata_type"] = series
        if not no_data:
            d = g.create_dataset("data", data=data)
            d.attrs["unit"] = "volts"
            d.attrs["conversion"] = 1e-6
        if timestamps is not None:
            g.create_dataset("timestamps", data=timestamps)
        else:
            g.create_dataset("starting_time", data=0.0).attrs["rate"] = 10_000.0
        if conv is not None:
            g.create_dataset("channel_conversion", data=conv)
        n_ch = data.shape[1] if data.ndim == 2 else 1
        if electrodes is not None or positions is not None:
            idx = np.arange(n_ch) if electrodes is None else electrodes
            g.create_dataset("electrodes", data=idx)
            if positions is None:
                n = n_table or n_ch
                r, c = np.divmod(np.arange(n), int(np.ceil(np.sqrt(n))))
                positions = (20.0 * c, 20.0 * r)
            t = fh.create_group("general/extracellular_ephys/electrodes")
            t.create_dataset("x", data=positions[0])
            t.create_dataset("y", data=positions[1])
    return path


def test_nwb_8x8_at_17_5_um_reads_as_8x8(tmp_path):
    r, c = np.divmod(np.arange(64), 8)
    path = _nwb(
        tmp_path / "a.nwb", data=np.zeros((2000, 64), np.int16), positions=(100 + 17.5 * c, 200 + 17.5 * r)
    )
    rec = open_recording(path)
    assert rec.pitch_um == pytest.approx(17.5) and rec.origin_um == (100.0, 200.0)
    assert (rec.rows.max() + 1, rec.cols.max() + 1) == (8, 8)
    assert len(set(zip(rec.rows.tolist(), rec.cols.tolist()))) == 64
    assert "electrodes" in rec.geometry_source


@pytest.mark.parametrize(
    "kw,words",
    [
        ({"no_data": True}, ["/acquisition/es has no 'data' dataset"]),
        ({"as_dataset": True}, ["/acquisition/es is a dataset"]),
        ({"conv": np.ones(3)}, ["/acquisition/es/channel_conversion has shape (3,) for 4 channels"]),
        ({"electrodes": np.array([0, 1, 2, 9])}, ["/acquisition/es/electrodes[3] = 9 is out of range"]),
        ({"electrodes": np.array([0, 1, 2])}, ["/acquisition/es/electrodes has 3 entries"]),
        ({"timestamps": np.zeros(2000)}, ["/acquisition/es/timestamps do not strictly increase"]),
        ({"series": "CurrentClampSeries"}, ["/acquisition/es/data has rank 2"]),
        (
            {"data": np.zeros((4, 3000), np.int16), "electrodes": np.arange(4)},
            ["the data look channels × time"],
        ),
    ],
)
def test_malformed_nwb_names_the_object(tmp_path, capsys, kw, words):
    path = _nwb(tmp_path / "bad.nwb", **kw)
    _refused(path, *words)
    code, out = _cli(path, capsys)
    assert code == 2 and "Traceback" not in out.err and words[0] in out.err


def test_nwb_timestamps_give_the_rate(tmp_path):
    path = _nwb(tmp_path / "ts.nwb", timestamps=np.arange(2000) / 20_000.0)
    assert open_recording(path).sampling_rate_hz == pytest.approx(20_000.0)


# ------------------------------------------------------------------ saturation
def test_info_and_infer_agree_on_saturation(tmp_path, capsys):
    out = tmp_path / "x.h5"
    assert (
        main(
            [
                "simulate",
                "--neurons",
                "20",
                "--grid",
                "8x8",
                "--duration",
                "5",
                "--seed",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    rec = open_recording(out)
    # infer's pass 1 masks by Recording.raw_limits: count what it would mask, chunk by chunk
    expected = np.zeros(rec.n_channels, np.int64)
    for s, e in rec.chunk_bounds():
        expected += np.count_nonzero(rec.saturated(rec.store.read(s, e)), axis=0)
    assert expected.sum() > 0  # the simulator's artefacts drive channels to the int16 rail
    assert main(["info", str(out), "--json"]) == 0  # 5 one-second windows: the whole file
    g = json.loads(capsys.readouterr().out)["glance"]
    assert g["saturated_samples"] == int(expected.sum())
    assert g["channels_with_saturated_samples"] == int(np.count_nonzero(expected))

    from connectome.infer.params import InferParams
    from connectome.infer.preprocess import run_pass1

    p1 = run_pass1(rec, InferParams(), tmp_path)
    np.testing.assert_array_equal(p1.bad_samples, expected)


def test_fewer_samples_than_channels_without_a_table_warns(tmp_path):
    path = _h5(tmp_path / "w.h5", np.zeros((16, 3000)))
    with pytest.warns(UserWarning, match="fewer samples than channels"):
        rec = open_recording(path)
    assert (rec.n_samples, rec.n_channels) == (16, 3000)


def test_merge_refuses_channels_sharing_a_site():
    from connectome.spikes.neurons import merge_channels

    t = np.arange(0, 20_000, 1000)
    ch = np.repeat([0, 1], t.size)
    smp = np.tile(t, 2)
    amp = np.full(ch.size, 50.0, np.float32)
    with pytest.raises(ValueError, match="share a grid site"):
        merge_channels(
            ch,
            smp,
            amp,
            np.ones(2),
            np.zeros(2, int),
            np.zeros(2, int),
            np.zeros(2),
            np.zeros(2),
            fs=10_000.0,
        )


def test_sample_at_another_pitch_and_origin_gives_the_same_neurons(tmp_path):
    """Positions only, 17.5 µm pitch, origin (100, 200) µm, no pitch_um: same grid, same merges."""
    from connectome.infer.run import infer_connectome

    path = tmp_path / "s175.h5"
    shutil.copy("sample_data/sample.h5", path)
    with h5py.File(path, "r+") as fh:
        x, y = fh["channels/x_um"][()], fh["channels/y_um"][()]
        for k in ("x_um", "y_um", "row", "col"):
            del fh[f"channels/{k}"]
        fh["channels/x_um"] = 100 + x * 17.5 / 20
        fh["channels/y_um"] = 200 + y * 17.5 / 20
        del fh.attrs["pitch_um"]
    rec = open_recording(path)
    ref = open_recording("sample_data/sample.h5")
    np.testing.assert_array_equal(rec.rows, ref.rows)
    np.testing.assert_array_equal(rec.cols, ref.cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = infer_connectome(path).connectome
    assert got.n_neurons == 10 and got.n_edges == 8
    assert list(got.neurons["channels"]) == ["0", "1;4", "2", "3;7", "6", "8", "10", "11;15", "12", "13;14;9"]


def test_infer_on_sample_with_pitch_zero_exits_2(tmp_path, capsys):
    path = tmp_path / "p0.h5"
    shutil.copy("sample_data/sample.h5", path)
    with h5py.File(path, "r+") as fh:
        fh.attrs["pitch_um"] = 0.0
    assert main(["infer", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "pitch_um must be a positive number" in err and not (tmp_path / "out").exists()


def test_refused_file_is_closed_and_sparse_must_be_a_flag(tmp_path):
    path = _h5(tmp_path / "f.h5", np.zeros((2000, 4)), data_attrs={"sparse": np.array([1, 2])})
    _refused(path, "sparse must be true or false")
    with h5py.File(path, "w"):  # the refused file is not held open
        pass
