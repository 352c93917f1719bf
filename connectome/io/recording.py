"""The :class:`Recording`: a lazy, validated view of a CNEA recording.

A recording is read through one narrow method, :meth:`Recording.get_traces`
(samples × channels, in mV), or as a dask array (:meth:`Recording.to_dask`)
whose chunks follow the file's own time chunks. Nothing is loaded at open
time beyond the metadata and the channel table.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .stores import Store, open_store

SUPPORTED_DTYPES = ("int16", "int32", "uint16", "float32", "float64")


@dataclass(frozen=True)
class Recording:
    """A CNEA recording opened lazily.

    Use :func:`open_recording` to build one. Physical values are
    ``raw × scale + offset`` in mV, with ``scale``/``offset`` scalars or
    per-channel arrays.

    Examples
    --------
    >>> rec = open_recording("sample_data/sample.h5")       # doctest: +SKIP
    >>> rec.n_channels, rec.sampling_rate_hz                 # doctest: +SKIP
    (256, 10000.0)
    >>> rec.get_traces(0, 1000).shape                        # doctest: +SKIP
    (1000, 256)
    """

    store: Store = field(repr=False)
    path: Path
    sampling_rate_hz: float
    n_samples: int
    n_channels: int
    dtype: np.dtype
    chunks: tuple[int, int]
    scale: np.ndarray = field(repr=False)
    offset: np.ndarray = field(repr=False)
    rows: np.ndarray = field(repr=False)
    cols: np.ndarray = field(repr=False)
    x_um: np.ndarray = field(repr=False)
    y_um: np.ndarray = field(repr=False)
    attrs: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ info
    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sampling_rate_hz

    @property
    def format(self) -> str:
        return self.store.kind

    def nbytes_on_disk(self) -> int:
        return self.store.nbytes_on_disk()

    # ---------------------------------------------------------------- access
    def get_traces(self, start: int = 0, stop: int | None = None,
                   channels: slice | None = None) -> np.ndarray:
        """Samples ``start:stop`` of ``channels`` (a slice), float32 mV, shape (time, channels)."""
        stop = self.n_samples if stop is None else min(int(stop), self.n_samples)
        start = max(0, int(start))
        ch = channels if channels is not None else slice(0, self.n_channels)
        c0, c1, _ = ch.indices(self.n_channels)
        raw = self.store.read(start, stop, c0, c1)
        return self._to_mv(raw, c0, c1)

    def _to_mv(self, raw: np.ndarray, c0: int, c1: int) -> np.ndarray:
        out = raw.astype(np.float32, copy=True)
        sc = self.scale[c0:c1] if self.scale.ndim else self.scale
        of = self.offset[c0:c1] if self.offset.ndim else self.offset
        if not (np.all(sc == 1)):
            out *= sc.astype(np.float32)
        if not (np.all(of == 0)):
            out += of.astype(np.float32)
        return out

    def chunk_bounds(self, chunk_samples: int | None = None) -> list[tuple[int, int]]:
        """(start, stop) sample ranges that tile the recording, aligned to the file's chunks."""
        step = int(chunk_samples or self.chunks[0])
        if self.chunks[0] and step % self.chunks[0]:
            step = max(self.chunks[0], (step // self.chunks[0]) * self.chunks[0])
        return [(s, min(s + step, self.n_samples)) for s in range(0, self.n_samples, step)]

    def to_dask(self, chunk_samples: int | None = None):
        """A lazy dask array (time × channels, float32 mV) over the file's time chunks."""
        import dask
        import dask.array as da

        bounds = self.chunk_bounds(chunk_samples)
        blocks = [
            da.from_delayed(dask.delayed(self.get_traces)(s, e), shape=(e - s, self.n_channels), dtype=np.float32)
            for s, e in bounds
        ]
        if not blocks:
            return da.zeros((0, self.n_channels), dtype=np.float32)
        return da.concatenate(blocks, axis=0)

    def spike_table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(times_s, unit_id)`` from ``/spikes`` if the file carries sorted spikes."""
        t = self.store.optional("spikes/times_s")
        u = self.store.optional("spikes/unit_id")
        if t is None or u is None:
            return None
        return np.asarray(t, dtype=np.float64), np.asarray(u, dtype=np.int64)


def _as_channel_vector(value, n: int, name: str, path) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        if not np.isfinite(arr):
            raise RecordingError(f"/data attribute {name} is not finite", path)
        return arr
    if arr.shape != (n,):
        raise RecordingError(f"/data attribute {name} has {arr.size} values for {n} channels", path)
    if not np.all(np.isfinite(arr)):
        raise RecordingError(f"/data attribute {name} has non-finite values", path)
    return arr


def open_recording(path: str | os.PathLike) -> Recording:
    """Open and validate a CNEA recording (``.h5``, ``.zarr`` or NWB).

    Raises
    ------
    RecordingError
        With the file and one reason: not a recognised file, missing ``/data``,
        missing ``sampling_rate_hz``, wrong rank, zero samples, a channel table
        whose length does not match, an unsupported dtype, a truncated file.
    """
    store = open_store(path)
    p = store.path
    fmt = store.root_attrs.get("format")
    if fmt is not None and fmt != "cnea":
        raise RecordingError(f"root attribute format is {fmt!r}, expected 'cnea'", p)
    if not getattr(store, "has_data", True):
        if store.optional("spikes/times_s") is not None:
            raise RecordingError("spike-train-only recording (no /data); it has no membrane potentials to analyse", p)
        raise RecordingError("missing /data (the samples × channels array)", p)
    if len(store.shape) != 2:
        raise RecordingError(f"/data has rank {len(store.shape)} (shape {store.shape}); expected 2: samples × channels", p)
    n_samples, n_channels = (int(x) for x in store.shape)
    if n_samples == 0:
        raise RecordingError("/data has zero samples", p)
    if n_channels == 0:
        raise RecordingError("/data has zero channels", p)
    if store.dtype is None or store.dtype.name not in SUPPORTED_DTYPES:
        raise RecordingError(f"unsupported /data dtype {store.dtype}; supported: {', '.join(SUPPORTED_DTYPES)}", p)
    sr = store.data_attrs.get("sampling_rate_hz", store.root_attrs.get("sampling_rate_hz"))
    if sr is None:
        raise RecordingError("missing /data attribute sampling_rate_hz", p)
    try:
        sr = float(sr)
    except (TypeError, ValueError):
        raise RecordingError(f"sampling_rate_hz is not a number ({sr!r})", p) from None
    if not math.isfinite(sr) or sr <= 0:
        raise RecordingError(f"sampling_rate_hz must be positive, got {sr}", p)
    units = store.data_attrs.get("units", "mV")
    if str(units) not in ("mV", "millivolts"):
        raise RecordingError(f"/data units are {units!r}; expected 'mV'", p)
    scale = _as_channel_vector(store.data_attrs.get("scale", 1.0), n_channels, "scale", p)
    offset = _as_channel_vector(store.data_attrs.get("offset", 0.0), n_channels, "offset", p)

    geo = {}
    for name in ("row", "col", "x_um", "y_um"):
        arr = store.optional(f"channels/{name}")
        if arr is not None:
            arr = np.asarray(arr).ravel()
            if arr.shape[0] != n_channels:
                raise RecordingError(
                    f"/channels/{name} has {arr.shape[0]} entries but /data has {n_channels} channels", p)
        geo[name] = arr
    pitch = float(store.root_attrs.get("pitch_um", 20.0))
    if geo["row"] is None or geo["col"] is None:
        side = int(math.ceil(math.sqrt(n_channels)))
        idx = np.arange(n_channels)
        if geo["x_um"] is not None and geo["y_um"] is not None:
            geo["row"] = np.round(geo["y_um"] / pitch).astype(np.int64)
            geo["col"] = np.round(geo["x_um"] / pitch).astype(np.int64)
        else:
            geo["row"], geo["col"] = idx // side, idx % side
    rows = geo["row"].astype(np.int64)
    cols = geo["col"].astype(np.int64)
    x_um = geo["x_um"].astype(np.float64) if geo["x_um"] is not None else cols * pitch
    y_um = geo["y_um"].astype(np.float64) if geo["y_um"] is not None else rows * pitch

    chunks = store.chunks or (min(n_samples, 65536), n_channels)
    attrs = {**store.root_attrs}
    return Recording(store=store, path=p, sampling_rate_hz=sr, n_samples=n_samples, n_channels=n_channels,
                     dtype=np.dtype(store.dtype), chunks=(int(chunks[0]), int(chunks[1])),
                     scale=scale, offset=offset, rows=rows, cols=cols, x_um=x_um, y_um=y_um, attrs=attrs)
