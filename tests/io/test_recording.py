"""Round trips of the CNEA formats and lazy, chunk-bounded access."""

import numpy as np
import pytest

from connectome.errors import RecordingError
from connectome.io import create_recording, open_recording


def _write(path, n_samples=25_000, n_channels=6, chunk_samples=10_000, seed=0):
    rng = np.random.default_rng(seed)
    raw = rng.integers(-2000, 2000, size=(n_samples, n_channels), dtype=np.int16)
    scale = np.linspace(0.005, 0.01, n_channels)
    rows, cols = np.arange(n_channels) // 3, np.arange(n_channels) % 3
    with create_recording(
        path,
        n_samples=n_samples,
        n_channels=n_channels,
        sampling_rate_hz=10_000.0,
        scale=scale,
        offset=-1.5,
        rows=rows,
        cols=cols,
        x_um=cols * 20.0,
        y_um=rows * 20.0,
        attrs={"device": "test-array", "pitch_um": 20.0},
        chunk_samples=chunk_samples,
    ) as w:
        for s in range(0, n_samples, 7_000):  # blocks not aligned to chunks on purpose
            w.write(s, raw[s : s + 7_000])
    return raw, scale


@pytest.mark.parametrize("suffix", [".h5", ".zarr"])
def test_round_trip(tmp_path, suffix):
    path = tmp_path / f"rec{suffix}"
    raw, scale = _write(path)
    rec = open_recording(path)
    assert rec.format == ("hdf5" if suffix == ".h5" else "zarr")
    assert (rec.n_samples, rec.n_channels) == raw.shape
    assert rec.sampling_rate_hz == 10_000.0
    assert rec.duration_s == pytest.approx(2.5)
    assert rec.chunks == (10_000, 6)
    assert rec.attrs["device"] == "test-array"
    np.testing.assert_array_equal(rec.rows, np.arange(6) // 3)
    np.testing.assert_array_equal(rec.cols, np.arange(6) % 3)
    expected = raw.astype(np.float64) * scale - 1.5
    np.testing.assert_allclose(rec.get_traces(9_990, 10_010), expected[9_990:10_010], rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(
        rec.get_traces(0, 50, channels=slice(2, 4)), expected[:50, 2:4], rtol=1e-6, atol=1e-5
    )
    np.testing.assert_allclose(rec.to_dask().compute(), expected, rtol=1e-6, atol=1e-5)
    assert rec.nbytes_on_disk() > 0


def test_formats_agree(tmp_path):
    _write(tmp_path / "a.h5")
    _write(tmp_path / "a.zarr")
    a, b = open_recording(tmp_path / "a.h5"), open_recording(tmp_path / "a.zarr")
    np.testing.assert_array_equal(a.get_traces(), b.get_traces())


def test_dask_reads_only_needed_chunks(tmp_path):
    path = tmp_path / "rec.h5"
    _write(path, n_samples=60_000)
    rec = open_recording(path)
    calls = []
    real = rec.store.read

    def counting(t0, t1, c0=0, c1=None):
        calls.append((t0, t1))
        return real(t0, t1, c0, c1)

    object.__setattr__(rec.store, "read", counting)
    arr = rec.to_dask()
    assert arr.chunks[0] == (10_000,) * 6
    arr[25_000:26_000].compute()
    assert calls == [(20_000, 30_000)]


def test_corrupt_chunk_is_isolated_and_named(tmp_path):
    path = tmp_path / "rec.zarr"
    raw, _ = _write(path, n_samples=30_000)
    chunk = path / "data" / "c" / "1" / "0"
    assert chunk.exists()
    chunk.write_bytes(b"garbage" * 10)
    rec = open_recording(path)
    assert rec.get_traces(0, 10_000).shape == (10_000, 6)  # other chunks still read
    with pytest.raises(RecordingError, match=r"rec\.zarr.*samples 10000:20000"):
        rec.get_traces(10_000, 20_000)


def test_hdf5_corrupt_chunk(tmp_path):
    import h5py

    path = tmp_path / "rec.h5"
    _write(path, n_samples=30_000)
    with h5py.File(path, "r") as fh:
        info = fh["data"].id.get_chunk_info_by_coord((10_000, 0))
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset)
        fh.write(b"\xff" * min(64, info.size))
    rec = open_recording(path)
    assert rec.get_traces(0, 10_000).shape == (10_000, 6)
    with pytest.raises(RecordingError, match="cannot read samples 10000:20000"):
        rec.get_traces(10_000, 20_000)


def test_writer_leaves_nothing_on_failure(tmp_path):
    path = tmp_path / "rec.h5"
    with pytest.raises(RuntimeError):
        with create_recording(path, n_samples=100, n_channels=2, sampling_rate_hz=1e3) as w:
            w.write(0, np.zeros((50, 2), np.int16))
            raise RuntimeError("simulated crash")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_incomplete(tmp_path):
    path = tmp_path / "rec.zarr"
    with pytest.raises(RecordingError, match="only 50 of 100 samples"):
        with create_recording(path, n_samples=100, n_channels=2, sampling_rate_hz=1e3) as w:
            w.write(0, np.zeros((50, 2), np.int16))
    assert list(tmp_path.iterdir()) == []
