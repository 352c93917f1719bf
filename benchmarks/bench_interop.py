"""Lab-data I/O costs: NWB timestamp scan, NWB vs CNEA-HDF5 reads, SpikeInterface → CNEA convert.

    python benchmarks/bench_interop.py [--seconds 60] [--channels 256]

Prints one table. Files are written to a temporary folder and removed. The
NWB file is written by pynwb (gzip, 1-s chunks), the SpikeInterface input is
its ground-truth generator saved to a binary folder; both are skipped when the
package is missing.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectome.io import create_recording, open_recording  # noqa: E402


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _read_all(rec, block_s=1.0):
    step = int(block_s * rec.sampling_rate_hz)
    total = 0.0
    for s in range(0, rec.n_samples, step):
        total += float(rec.get_traces(s, s + step)[0, 0])
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--rate", type=float, default=20000.0)
    a = ap.parse_args(argv)
    n, c, fs = int(a.seconds * a.rate), a.channels, a.rate
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-interop-"))
    try:
        rng = np.random.default_rng(0)
        block = rng.integers(-500, 500, (int(fs), c)).astype(np.int16)
        side = int(np.ceil(np.sqrt(c)))
        r, col = np.divmod(np.arange(c), side)
        # CNEA-HDF5 reference
        h5 = tmp / "rec.h5"
        with create_recording(
            h5,
            n_samples=n,
            n_channels=c,
            sampling_rate_hz=fs,
            scale=0.001,
            rows=r,
            cols=col,
            compression="gzip",
            chunk_samples=int(fs),
        ) as w:
            for s in range(0, n, int(fs)):
                w.write(s, block[: min(int(fs), n - s)])
        rec = open_recording(h5)
        dt, _ = _timed(lambda: _read_all(rec))
        rows.append(("CNEA-HDF5 (gzip) read, 1-s blocks", f"{dt:.2f} s", f"{n * c * 2 / dt / 1e6:.0f} MB/s"))
        # timestamps scan on open (every timestamp is checked for gaps)
        ts = tmp / "ts.nwb"
        with h5py.File(ts, "w") as fh:
            fh.attrs["nwb_version"] = "2.7.0"
            fh.create_group("general")
            g = fh.create_group("acquisition/es")
            g.attrs["neurodata_type"] = "ElectricalSeries"
            d = g.create_dataset("data", shape=(n, 4), dtype="int16", chunks=(min(n, 100000), 4))
            d[:] = 0
            d.attrs.update(unit="volts", conversion=1e-6)
            g.create_dataset("timestamps", data=np.arange(n) / fs, chunks=(min(n, 1 << 20),))
        dt, _ = _timed(lambda: open_recording(ts))
        rows.append(
            (f"NWB open, {n:,} timestamps scanned", f"{dt:.2f} s", f"{n / dt / 1e6:.0f} M timestamps/s")
        )
        try:
            import pynwb
        except ImportError:
            pynwb = None
        if pynwb is not None:
            nwb = pynwb.NWBFile(
                session_description="bench",
                identifier="bench",
                session_start_time=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
            )
            dev = nwb.create_device("array")
            grp = nwb.create_electrode_group("array", description="grid", location="dish", device=dev)
            for k in range(c):
                nwb.add_electrode(group=grp, location="dish", rel_x=20.0 * col[k], rel_y=20.0 * r[k])
            reg = nwb.create_electrode_table_region(list(range(c)), "all")

            def chunks():
                for s in range(0, n, int(fs)):
                    yield from block[: min(int(fs), n - s)]

            from hdmf.data_utils import DataChunkIterator

            data = pynwb.H5DataIO(
                DataChunkIterator(
                    data=chunks(), maxshape=(n, c), dtype=np.dtype("int16"), buffer_size=int(fs)
                ),
                chunks=(int(fs), c),
                compression="gzip",
            )
            nwb.add_acquisition(
                pynwb.ecephys.ElectricalSeries(
                    name="ElectricalSeries", data=data, electrodes=reg, rate=fs, conversion=1e-6
                )
            )
            p = tmp / "rec.nwb"
            with pynwb.NWBHDF5IO(str(p), "w") as io:
                io.write(nwb)
            rec = open_recording(p)
            dt, _ = _timed(lambda: _read_all(rec))
            rows.append(
                ("NWB (pynwb, gzip) read, 1-s blocks", f"{dt:.2f} s", f"{n * c * 2 / dt / 1e6:.0f} MB/s")
            )
        try:
            import spikeinterface.core as si
        except ImportError:
            si = None
        if si is not None:
            g, _ = si.generate_ground_truth_recording(
                durations=[a.seconds], sampling_frequency=fs, num_channels=min(c, 64), num_units=10, seed=0
            )
            folder = tmp / "si"
            g.save(folder=folder, format="binary", verbose=False, progress_bar=False)
            from connectome.commands.convert import convert_recording

            src = open_recording(folder)
            dt, _ = _timed(lambda: convert_recording(src, tmp / "conv.h5"))
            mb = src.n_samples * src.n_channels * src.dtype.itemsize / 1e6
            rows.append(
                (
                    f"convert SpikeInterface binary folder ({src.n_channels} ch, float32) → CNEA-HDF5",
                    f"{dt:.2f} s",
                    f"{mb / dt:.0f} MB/s",
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{a.seconds:g} s × {c} channels at {fs:g} Hz (int16 unless said)")
    w = max(len(x[0]) for x in rows)
    print(f"{'operation':<{w}}  {'time':>8}  rate")
    for name, t, rate in rows:
        print(f"{name:<{w}}  {t:>8}  {rate}")


if __name__ == "__main__":
    main()
