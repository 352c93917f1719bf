"""Every bad recording ends in one line naming the file and the problem, exit 2."""

import h5py
import numpy as np
import pytest

from connectome.cli import main


def _h5(path, data=None, rate=10_000.0, rows=None, attrs=None, dtype=np.int16):
    with h5py.File(path, "w") as fh:
        fh.attrs["format"] = "cnea"
        fh.attrs["format_version"] = 1
        for k, v in (attrs or {}).items():
            fh.attrs[k] = v
        if data is not None:
            ds = fh.create_dataset("data", data=np.asarray(data, dtype=dtype))
            if rate is not None:
                ds.attrs["sampling_rate_hz"] = rate
            ds.attrs["units"] = "mV"
        if rows is not None:
            fh.create_dataset("channels/row", data=rows)
            fh.create_dataset("channels/col", data=rows)
    return path


def _good(tmp_path):
    return _h5(tmp_path / "good.h5", data=np.zeros((1000, 4)))


def _not_hdf5(tmp_path):
    p = tmp_path / "notes.h5"
    p.write_text("these are lab notes, not a recording\n")
    return p


def _empty_file(tmp_path):
    p = tmp_path / "empty.h5"
    p.write_bytes(b"")
    return p


def _truncated(tmp_path):
    p = _h5(tmp_path / "trunc.h5", data=np.ones((20_000, 8)))
    size = p.stat().st_size
    with open(p, "r+b") as fh:
        fh.truncate(size // 2)
    return p


CASES = {
    "not an HDF5 file": (_not_hdf5, "not an HDF5 file"),
    "empty file": (_empty_file, "empty file"),
    "missing /data": (lambda t: _h5(t / "nodata.h5"), "missing /data"),
    "missing rate": (
        lambda t: _h5(t / "norate.h5", data=np.zeros((100, 4)), rate=None),
        "missing /data attribute sampling_rate_hz",
    ),
    "bad rate": (
        lambda t: _h5(t / "badrate.h5", data=np.zeros((100, 4)), rate=-5.0),
        "sampling_rate_hz must be positive",
    ),
    "wrong rank": (lambda t: _h5(t / "rank.h5", data=np.zeros(100)), "has rank 1"),
    "zero samples": (lambda t: _h5(t / "zero.h5", data=np.zeros((0, 4))), "zero samples"),
    "channel table": (
        lambda t: _h5(t / "table.h5", data=np.zeros((100, 4)), rows=np.arange(5)),
        "has 5 entries but /data has 4 channels",
    ),
    "dtype": (
        lambda t: _h5(t / "dtype.h5", data=np.zeros((100, 4)), dtype=np.complex64),
        "unsupported /data dtype complex64",
    ),
    "truncated": (_truncated, "truncated"),
    "wrong format": (
        lambda t: _h5(t / "other.h5", data=np.zeros((100, 4)), attrs={"format": "nix"}),
        "format is 'nix'",
    ),
    "missing path": (lambda t: t / "does-not-exist.h5", "no such file"),
    "directory": (lambda t: t, "not a zarr v3 store"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_recording_one_line(tmp_path, capsys, case):
    make, phrase = CASES[case]
    path = make(tmp_path)
    rc = main(["info", str(path)])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0]
    assert phrase in lines[0]
    assert "Traceback" not in err


def test_good_recording_info(tmp_path, capsys):
    rc = main(["info", str(_good(tmp_path))])
    out = capsys.readouterr().out
    assert rc == 0
    assert "channels      4" in out
    assert "duration      0.100 s" in out


def test_info_json_and_glance(tmp_path, capsys):
    import json

    from connectome.io import create_recording

    rng = np.random.default_rng(1)
    raw = rng.normal(0, 6, (30_000, 9))
    raw[12_000:12_020, 4] += 3000  # an action potential on channel 4
    raw[:, 7] = 0  # flat channel
    path = tmp_path / "g.h5"
    with create_recording(
        path,
        n_samples=30_000,
        n_channels=9,
        sampling_rate_hz=1e4,
        scale=0.005,
        rows=np.arange(9) // 3,
        cols=np.arange(9) % 3,
    ) as w:
        w.write(0, raw.astype(np.int16))
    assert main(["info", "--json", "--windows", "3", str(path)]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["channels"] == 9 and s["samples"] == 30_000
    assert s["per_channel"]["coupled"] == [i == 4 for i in range(9)]
    assert s["per_channel"]["flat"] == [i == 7 for i in range(9)]
    assert s["glance"]["noise_mv_median"] == pytest.approx(6 * 0.005, rel=0.15)
