"""Write CNEA recordings (HDF5 or zarr v3), chunked and compressed, streaming.

:func:`create_recording` returns a writer that accepts blocks of samples in
order; the file appears under its final name only when the writer closes
without error (see :mod:`connectome.io.atomic`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .atomic import atomic_path

DEFAULT_CHUNK_SAMPLES = 10_000
DEFAULT_CHUNK_CHANNELS = 1024


def recording_format(path: str | os.PathLike) -> str:
    """``"hdf5"`` or ``"zarr"`` from a path's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix in (".h5", ".hdf5", ".cnea"):
        return "hdf5"
    if suffix == ".zarr":
        return "zarr"
    raise RecordingError(f"unknown recording suffix {suffix!r}: use .h5 or .zarr", path)


class _Writer:
    def __init__(
        self, tmp: Path, fmt: str, n_samples: int, n_channels: int, dtype, chunks, compression: str = "lzf"
    ):
        self.tmp, self.fmt = tmp, fmt
        self.n_samples, self.n_channels = n_samples, n_channels
        self.dtype = np.dtype(dtype)
        self.chunks = chunks
        self.written = 0
        if fmt == "hdf5":
            import h5py

            self._fh = h5py.File(tmp, "w")
            self._root = self._fh
            self._data = self._fh.create_dataset(
                "data",
                shape=(n_samples, n_channels),
                dtype=self.dtype,
                chunks=chunks,
                compression=None if compression == "none" else compression,
                shuffle=compression != "none",
                track_times=False,
            )
        else:
            import zarr

            self._fh = None
            self._root = zarr.open_group(os.fspath(tmp), mode="w", zarr_format=3)
            # every chunk is stored, even one equal to the fill value: a missing
            # chunk then always means deleted or never written (docs/formats.md)
            self._data = self._root.create_array(
                "data",
                shape=(n_samples, n_channels),
                dtype=self.dtype,
                chunks=chunks,
                config={"write_empty_chunks": True},
            )

    # -- attributes and tables ------------------------------------------------
    def set_root_attrs(self, **attrs):
        self._root.attrs.update(_clean(attrs))

    def set_data_attrs(self, **attrs):
        self._data.attrs.update(_clean(attrs))

    def write_array(self, name: str, value) -> None:
        value = np.asarray(value)
        if self.fmt == "hdf5":
            self._fh.create_dataset(name, data=value, track_times=False)
        else:
            parent, _, leaf = name.rpartition("/")
            grp = self._root.require_group(parent) if parent else self._root
            arr = grp.create_array(
                leaf, shape=value.shape, dtype=value.dtype, chunks=value.shape if value.size else None
            )
            if value.size:
                arr[...] = value

    # -- samples ------------------------------------------------------------------
    def write(self, start: int, block: np.ndarray) -> None:
        """Write ``block`` (time × channels, file dtype) at sample ``start``."""
        block = np.asarray(block)
        if block.ndim != 2 or block.shape[1] != self.n_channels:
            raise ValueError(f"block shape {block.shape} does not match {self.n_channels} channels")
        stop = start + block.shape[0]
        if stop > self.n_samples:
            raise ValueError(f"block ends at {stop}, beyond {self.n_samples} samples")
        self._data[start:stop] = block.astype(self.dtype, copy=False)
        self.written = max(self.written, stop)

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _clean(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


@contextlib.contextmanager
def create_recording(
    path,
    *,
    n_samples: int,
    n_channels: int,
    sampling_rate_hz: float,
    dtype="int16",
    scale=1.0,
    offset=0.0,
    rows=None,
    cols=None,
    x_um=None,
    y_um=None,
    attrs: dict | None = None,
    chunk_samples: int = DEFAULT_CHUNK_SAMPLES,
    chunk_channels: int = DEFAULT_CHUNK_CHANNELS,
    compression: str = "lzf",
):
    """Create a CNEA recording and yield a writer for its samples.

    The writer's :meth:`write(start, block)` stores raw values (physical mV =
    raw × scale + offset). ``scale``/``offset`` may be scalars or per-channel
    arrays. The file is renamed into place when the block exits cleanly.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "tiny.h5")
    >>> with create_recording(out, n_samples=100, n_channels=4, sampling_rate_hz=1e4,
    ...                       scale=0.01) as w:
    ...     w.write(0, np.zeros((100, 4), np.int16))
    >>> os.path.exists(out)
    True
    """
    fmt = recording_format(path)
    n_samples, n_channels = int(n_samples), int(n_channels)
    chunks = (max(1, min(chunk_samples, n_samples)), max(1, min(chunk_channels, n_channels)))
    with atomic_path(path) as tmp:
        w = _Writer(tmp, fmt, n_samples, n_channels, dtype, chunks, compression)
        try:
            root = {"format": "cnea", "format_version": 1}
            root.update(attrs or {})
            w.set_root_attrs(**root)
            w.set_data_attrs(
                sampling_rate_hz=float(sampling_rate_hz),
                units="mV",
                scale=np.asarray(scale, dtype=np.float64),
                offset=np.asarray(offset, dtype=np.float64),
            )
            if rows is not None:
                w.write_array("channels/row", np.asarray(rows, dtype=np.int32))
            if cols is not None:
                w.write_array("channels/col", np.asarray(cols, dtype=np.int32))
            if x_um is not None:
                w.write_array("channels/x_um", np.asarray(x_um, dtype=np.float64))
            if y_um is not None:
                w.write_array("channels/y_um", np.asarray(y_um, dtype=np.float64))
            yield w
            if w.written < n_samples:
                raise RecordingError(f"only {w.written} of {n_samples} samples were written", path)
        finally:
            w.close()
