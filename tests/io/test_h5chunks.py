"""The parallel chunk decoder returns exactly what h5py returns."""

from __future__ import annotations

import threading

import h5py
import numpy as np
import pytest

from connectome.io.h5chunks import ChunkReader, chunk_reader
from connectome.io.stores import read_2d


class _Store:
    _reader = None


SELECTIONS = [(0, None, 0, None), (37, 411, 3, 9), (250, 300, 5, 20), (99, 101, 0, 1), (5, 5, 0, 3)]


@pytest.fixture(scope="module")
def h5(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 37)).astype(np.float32)
    path = tmp_path_factory.mktemp("h5") / "chunks.h5"
    with h5py.File(path, "w") as g:
        g.create_dataset("gzip_shuffle_f32", data=x, chunks=(100, 16), compression="gzip", shuffle=True)
        g.create_dataset("lzf_i32", data=(x * 100).astype(np.int32), chunks=(128, 10), compression="lzf")
        g.create_dataset(
            "lzf_shuffle_i16",
            data=(x * 1000).astype(np.int16),
            chunks=(64, 37),
            compression="lzf",
            shuffle=True,
        )
        # random bytes do not compress: the optional LZF filter is skipped for those chunks
        g.create_dataset(
            "incompressible",
            data=rng.integers(-(2**15), 2**15, (300, 20), dtype=np.int16),
            chunks=(100, 20),
            compression="lzf",
        )
        e = g.create_dataset(
            "unallocated", shape=(300, 20), dtype="i2", chunks=(100, 10), compression="gzip", fillvalue=7
        )
        e[0:100, 0:10] = 3
        g.create_dataset("fletcher", data=x, chunks=(100, 16), compression="gzip", fletcher32=True)
        g.create_dataset("plain", data=x, chunks=(100, 16))
    return path


@pytest.mark.parametrize(
    "name",
    ["gzip_shuffle_f32", "lzf_i32", "lzf_shuffle_i16", "incompressible", "unallocated", "fletcher", "plain"],
)
def test_same_as_h5py(h5, name):
    with h5py.File(h5, "r") as g:
        ds = g[name]
        store = _Store()
        for t0, t1, c0, c1 in SELECTIONS:
            t1 = ds.shape[0] if t1 is None else min(t1, ds.shape[0])
            c1 = ds.shape[1] if c1 is None else min(c1, ds.shape[1])
            got = read_2d(store, ds, t0, t1, c0, c1)
            assert got.dtype == ds.dtype
            np.testing.assert_array_equal(got, ds[t0:t1, c0:c1])
        decoded = name not in ("fletcher", "plain")  # these go through h5py
        assert isinstance(store._reader, ChunkReader) == decoded


def test_skipped_filter_is_honoured(h5):
    with h5py.File(h5, "r") as g:
        masks = [g["incompressible"].id.read_direct_chunk((a, 0))[0] for a in (0, 100, 200)]
    assert any(masks), "the fixture should contain chunks stored without LZF"


def test_corrupt_chunk_is_an_error(h5, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(h5.read_bytes())
    with h5py.File(bad, "r+") as g:
        ds = g["lzf_shuffle_i16"]
        mask, raw = ds.id.read_direct_chunk((0, 0))
        ds.id.write_direct_chunk((0, 0), bytes([0xFF]) * 7 + raw[7:], mask)
    with h5py.File(bad, "r") as g:
        reader = chunk_reader(g["lzf_shuffle_i16"], threading.Lock())
        with pytest.raises(ValueError):
            reader.read(0, 64, 0, 37)


def test_store_reads_again_after_close(tmp_path):
    from connectome.io import create_recording, open_recording

    path = tmp_path / "rec.h5"
    data = (np.arange(3000 * 4, dtype=np.int16) % 97).reshape(3000, 4)
    with create_recording(path, n_samples=3000, n_channels=4, sampling_rate_hz=1e4, dtype="int16") as w:
        w.write(0, data)
    rec = open_recording(path)
    first = rec.store.read(0, 3000)
    assert isinstance(rec.store._reader, ChunkReader)  # recordings are written compressed
    rec.store.close()
    np.testing.assert_array_equal(rec.store.read(0, 3000), first)
