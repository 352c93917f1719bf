"""The :class:`Recording`: a lazy, validated view of a CNEA recording.

A recording is read through one narrow method, :meth:`Recording.get_traces`
(samples × channels, in mV), or as a dask array (:meth:`Recording.to_dask`)
whose chunks follow the file's own time chunks. Nothing is loaded at open
time beyond the metadata and the channel table.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecordingError
from .dispatch import open_store
from .stores import Store

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
    #: electrode pitch (µm), inferred from the positions when there are any
    pitch_um: float = 20.0
    #: (x, y) of grid node (0, 0), µm
    origin_um: tuple = (0.0, 0.0)
    #: which datasets gave the geometry and the pitch
    geometry_source: str = ""
    #: the stored chunk shape of /data (None: not chunked); ``chunks`` is the read chunk
    file_chunks: tuple | None = None

    # ------------------------------------------------------------------ info
    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sampling_rate_hz

    @property
    def format(self) -> str:
        return self.store.kind

    def nbytes_on_disk(self) -> int:
        return self.store.nbytes_on_disk()

    def raw_limits(self) -> tuple[int, int] | None:
        """The raw values that mean "saturated": the integer dtype's extremes
        (an amplifier or ADC at its rail), or None for float data (where only
        non-finite samples are bad). The one definition used by ``infer``
        (masking) and ``info`` (counting)."""
        if self.dtype.kind in "iu":
            info = np.iinfo(self.dtype)
            return int(info.min), int(info.max)
        return None

    def saturated(self, raw: np.ndarray) -> np.ndarray:
        """Boolean mask of saturated samples in raw samples ``raw`` (see :meth:`raw_limits`)."""
        lim = self.raw_limits()
        if lim is None:
            return np.zeros(raw.shape, bool)
        return (raw <= lim[0]) | (raw >= lim[1])

    # ---------------------------------------------------------------- access
    def get_traces(
        self, start: int = 0, stop: int | None = None, channels: slice | None = None
    ) -> np.ndarray:
        """Samples ``start:stop`` of ``channels`` (a slice), float32 mV, shape (time, channels)."""
        c0, c1, _ = (channels if channels is not None else slice(0, self.n_channels)).indices(self.n_channels)
        return self.to_mv(self.get_raw(start, stop, channels), c0, c1)

    def get_raw(self, start: int = 0, stop: int | None = None, channels: slice | None = None) -> np.ndarray:
        """Samples ``start:stop`` of ``channels`` (a slice) as stored (e.g. int16 counts), time × channels.

        mV = raw × :attr:`scale` + :attr:`offset` (:meth:`to_mv`); the dtype's
        extremes mean saturated (:meth:`raw_limits`).
        """
        stop = self.n_samples if stop is None else min(int(stop), self.n_samples)
        start = max(0, int(start))
        ch = channels if channels is not None else slice(0, self.n_channels)
        c0, c1, _ = ch.indices(self.n_channels)
        return self.store.read(start, stop, c0, c1)

    def to_mv(self, raw: np.ndarray, c0: int = 0, c1: int | None = None) -> np.ndarray:
        """Raw samples of channels ``c0:c1`` (time × channels) as float32 mV: ``raw × scale + offset``.

        The one conversion from stored values to millivolts (``get_traces``
        uses it); ``raw`` is not modified.
        """
        c1 = self.n_channels if c1 is None else c1
        out = raw.astype(np.float32, copy=True)
        sc = self.scale[c0:c1] if self.scale.ndim else self.scale
        of = self.offset[c0:c1] if self.offset.ndim else self.offset
        if not (np.all(sc == 1)):
            out *= sc.astype(np.float32)
        if not (np.all(of == 0)):
            out += of.astype(np.float32)
        return out

    _to_mv = to_mv  # former private name, kept for older callers

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
            da.from_delayed(
                dask.delayed(self.get_traces)(s, e), shape=(e - s, self.n_channels), dtype=np.float32
            )
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


#: accepted sampling rates (Hz), see :func:`open_recording`
MIN_SAMPLING_RATE_HZ, MAX_SAMPLING_RATE_HZ = 1_000.0, 1_000_000.0
#: largest grid side (rows or columns) a channel table may span
MAX_GRID_SIDE = 4096
#: default electrode pitch (µm) when neither positions nor ``pitch_um`` give one
DEFAULT_PITCH_UM = 20.0
#: smallest read chunk: at least this many seconds (and samples) per dask task
MIN_CHUNK_S, MIN_CHUNK_SAMPLES = 0.5, 4096


def _as_channel_vector(value, n: int, name: str, path, n_samples: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RecordingError(f"/data attribute {name} is not numeric ({value!r})", path) from None
    if arr.ndim == 0:
        if not np.isfinite(arr):
            raise RecordingError(f"/data attribute {name} is not finite", path)
        return arr
    arr = arr.ravel() if arr.size == 1 or arr.ndim == 1 else arr
    if arr.size == 1:
        return _as_channel_vector(arr[0], n, name, path)
    if arr.shape != (n,):
        if n_samples is not None and arr.shape == (n_samples,) and n_samples != n:
            raise RecordingError(
                _orientation_message(n_samples, n, f"/data attribute {name}", arr.size), path
            )
        raise RecordingError(f"/data attribute {name} has {arr.size} values for {n} channels", path)
    if not np.all(np.isfinite(arr)):
        raise RecordingError(f"/data attribute {name} has non-finite values", path)
    return arr


def _orientation_message(n_samples: int, n_channels: int, what: str, n: int) -> str:
    return (
        f"/data is {n_samples} × {n_channels} but {what} has {n} entries: the file looks channels × time; "
        "the format is time × channels"
    )


@dataclass(frozen=True)
class Geometry:
    """Electrode positions of a recording, validated (see :func:`read_geometry`)."""

    rows: np.ndarray
    cols: np.ndarray
    x_um: np.ndarray
    y_um: np.ndarray
    pitch_um: float
    origin_um: tuple[float, float]
    source: str


def infer_pitch(x: np.ndarray, y: np.ndarray) -> float:
    """Electrode pitch (µm) of distinct sites ``(x, y)``: the median nearest-neighbour distance,
    refined by least squares on the grid indices it implies.

    On a regular grid (square sites, some possibly missing) every site's
    nearest neighbour is one pitch away, so the median is the pitch even
    when a few sites are off; the refinement removes the rounding error of
    measured positions over a wide array.

    >>> import numpy as np
    >>> r, c = np.divmod(np.arange(64), 8)
    >>> round(infer_pitch(100 + 17.5 * c, 200 + 17.5 * r), 6)
    17.5
    """
    from scipy.spatial import cKDTree

    pts = np.column_stack([x, y])
    d, _ = cKDTree(pts).query(pts, k=2)
    pitch = float(np.median(d[:, 1]))
    if not pitch > 0:
        return pitch
    u = np.concatenate([x - x.min(), y - y.min()])
    k = np.round(u / pitch)
    if np.any(k):
        pitch = float(np.dot(u, k) / np.dot(k, k))
    return pitch


def read_geometry(store: Store, n_channels: int, n_samples: int, path) -> Geometry:
    """Read and validate the channel table of ``store``.

    Rules (docs/formats.md, "Geometry"):

    - ``/channels/row`` + ``/channels/col`` (integers ≥ 0, below
      :data:`MAX_GRID_SIDE`) give the grid directly; ``/channels/x_um`` +
      ``/channels/y_um`` (finite, µm) give positions. Either pair alone, or
      both, or neither (a square raster, one channel per site);
    - every channel has its own site: duplicate (row, col) or (x, y) are refused;
    - the pitch is inferred from the positions (:func:`infer_pitch`) and the
      origin is their minimum; grid indices are ``round((pos − origin) / pitch)``
      and must land within 0.25 pitch of a grid node. Without positions the
      pitch is the root attribute ``pitch_um`` (else 20 µm) and x, y =
      col × pitch, row × pitch. A ``pitch_um`` attribute that disagrees with the
      positions (> 1 %) is reported in a warning; the positions win.
    """
    tables = _channel_tables(store, n_channels, n_samples, path)
    attr_pitch = _pitch_attribute(store, path)
    rows: Any = None  # int64 arrays once known
    cols: Any = None
    parts: list[str] = []
    if "row" in tables:
        rows, cols = _grid_indices(tables, path)
        parts.append("/channels/row, col")
    if "x_um" in tables:
        where = getattr(store, "geometry_source", None) or "/channels/x_um, y_um"
        return _geometry_from_positions(tables, rows, cols, attr_pitch, n_channels, where, parts, path)
    return _raster_geometry(rows, cols, attr_pitch, n_channels, parts, path)


def _channel_tables(store: Store, n_channels: int, n_samples: int, path) -> dict:
    """The channel table's vectors (``row``, ``col``, ``x_um``, ``y_um``; those present), checked for shape."""
    tables = {}
    for name in ("row", "col", "x_um", "y_um"):
        arr = store.optional(f"channels/{name}")
        if arr is None:
            continue
        arr = np.asarray(arr)
        if arr.dtype.kind not in "iuf" or arr.ndim > 1 and arr.size != max(arr.shape):
            raise RecordingError(
                f"/channels/{name} is not a numeric vector (dtype {arr.dtype}, shape {arr.shape})", path
            )
        arr = arr.ravel()
        if arr.shape[0] != n_channels:
            if arr.shape[0] == n_samples and n_samples != n_channels:
                raise RecordingError(
                    _orientation_message(n_samples, n_channels, f"/channels/{name}", arr.shape[0]), path
                )
            raise RecordingError(
                f"/channels/{name} has {arr.shape[0]} entries but /data has {n_channels} channels", path
            )
        tables[name] = arr
    for a, b in (("row", "col"), ("x_um", "y_um")):
        if (a in tables) != (b in tables):
            have, miss = (a, b) if a in tables else (b, a)
            raise RecordingError(f"/channels/{have} is present but /channels/{miss} is missing", path)
    return tables


def _pitch_attribute(store: Store, path) -> float | None:
    """The root attribute ``pitch_um`` (µm), checked; None when absent."""
    attr_pitch = store.root_attrs.get("pitch_um")
    if attr_pitch is None:
        return None
    try:
        attr_pitch = float(attr_pitch)
    except (TypeError, ValueError):
        raise RecordingError(f"root attribute pitch_um is not a number ({attr_pitch!r})", path) from None
    if not (math.isfinite(attr_pitch) and attr_pitch > 0):
        raise RecordingError(f"root attribute pitch_um must be a positive number of µm, got {attr_pitch}", path)
    return attr_pitch


def _grid_indices(tables: dict, path) -> tuple[np.ndarray, np.ndarray]:
    """``/channels/row`` and ``col`` as int64: whole numbers in 0 … MAX_GRID_SIDE − 1, one channel per site."""
    rc = []
    for name in ("row", "col"):
        v = tables[name].astype(np.float64)
        if not np.all(np.isfinite(v)):
            k = int(np.flatnonzero(~np.isfinite(v))[0])
            raise RecordingError(f"/channels/{name} of channel {k} is not finite", path)
        if np.any(v != np.round(v)):
            k = int(np.flatnonzero(v != np.round(v))[0])
            raise RecordingError(f"/channels/{name} of channel {k} is {v[k]}, not a whole number", path)
        if v.min() < 0 or v.max() >= MAX_GRID_SIDE:
            k = int(np.argmin(v) if v.min() < 0 else np.argmax(v))
            raise RecordingError(
                f"/channels/{name} of channel {k} is {v[k]:.0f}; grid indices must be "
                f"0 … {MAX_GRID_SIDE - 1}",
                path,
            )
        rc.append(v.astype(np.int64))
    rows, cols = rc
    _check_distinct(rows, cols, "(row, col)", path)
    return rows, cols


def _geometry_from_positions(tables: dict, rows, cols, attr_pitch, n_channels: int, where: str, parts: list,
                             path) -> Geometry:
    """The geometry when the file has channel positions: pitch and grid nodes inferred from them."""
    x = tables["x_um"].astype(np.float64)
    y = tables["y_um"].astype(np.float64)
    for name, v in (("x_um", x), ("y_um", y)):
        if not np.all(np.isfinite(v)):
            k = int(np.flatnonzero(~np.isfinite(v))[0])
            raise RecordingError(f"/channels/{name} of channel {k} is not finite", path)
    _check_distinct(x, y, "(x_um, y_um)", path)
    x0, y0 = float(x.min()), float(y.min())
    if n_channels > 1:
        pitch = infer_pitch(x, y)
        psrc = f"pitch inferred from {where}"
    else:
        pitch = attr_pitch or DEFAULT_PITCH_UM
        psrc = "pitch from attribute pitch_um" if attr_pitch else f"pitch default {DEFAULT_PITCH_UM:g} µm"
    if not (math.isfinite(pitch) and pitch > 0):
        raise RecordingError(f"cannot infer the electrode pitch from {where}", path)
    prow, pcol = _nodes(x, y, x0, y0, pitch, where, path)
    # stacklevel 4: the warning names the caller of read_geometry's caller, as before this step was split out
    if attr_pitch is not None and n_channels > 1 and abs(attr_pitch - pitch) > 0.01 * pitch:
        warnings.warn(
            f"{path}: root attribute pitch_um = {attr_pitch:g} µm but the channel positions are "
            f"{pitch:g} µm apart; using {pitch:g} µm (from the positions)",
            stacklevel=4,
        )
    elif attr_pitch is not None and n_channels > 1:
        psrc += " (agrees with attribute pitch_um)"
    if rows is None:
        _check_distinct(prow, pcol, f"grid sites at the {pitch:g} µm pitch", path)
        rows, cols = prow, pcol
        parts.append(f"rows/cols from {where}")
    elif not (np.array_equal(rows - rows.min(), prow) and np.array_equal(cols - cols.min(), pcol)):
        k = int(np.flatnonzero((rows - rows.min() != prow) | (cols - cols.min() != pcol))[0])
        warnings.warn(
            f"{path}: /channels/row, col and {where} disagree (channel {k}: row {rows[k]}, col "
            f"{cols[k]} but position ({x[k]:g}, {y[k]:g}) µm); using /channels/row, col for the grid",
            stacklevel=4,
        )
    parts.append(f"positions from {where}")
    parts.append(psrc)
    return Geometry(rows, cols, x, y, float(pitch), (x0, y0), "; ".join(parts))


def _nodes(x, y, x0: float, y0: float, pitch: float, where: str, path) -> tuple[np.ndarray, np.ndarray]:
    """Grid (row, col) of each position: within 0.25 pitch of a node, at most MAX_GRID_SIDE per side."""
    gx, gy = (x - x0) / pitch, (y - y0) / pitch
    if max(gx.max(), gy.max()) >= MAX_GRID_SIDE:
        raise RecordingError(
            f"{where} span {gy.max() + 1:.0f} × {gx.max() + 1:.0f} sites at the inferred "
            f"{pitch:g} µm pitch; "
            f"at most {MAX_GRID_SIDE} per side",
            path,
        )
    off = np.maximum(np.abs(gx - np.round(gx)), np.abs(gy - np.round(gy)))
    if np.any(off > 0.25):
        k = int(np.argmax(off))
        raise RecordingError(
            f"{where} are not on a square grid: channel {k} at ({x[k]:g}, {y[k]:g}) µm is "
            f"{off[k]:.2f} pitch "
            f"from the nearest node of the {pitch:g} µm grid from origin ({x0:g}, {y0:g}) µm",
            path,
        )
    return np.round(gy).astype(np.int64), np.round(gx).astype(np.int64)


def _raster_geometry(rows, cols, attr_pitch, n_channels: int, parts: list, path) -> Geometry:
    """The geometry without positions: the given grid (or a square raster) at the attribute's or default pitch."""
    pitch = attr_pitch or DEFAULT_PITCH_UM
    psrc = "pitch from attribute pitch_um" if attr_pitch else f"pitch default {DEFAULT_PITCH_UM:g} µm"
    if rows is None:
        side = int(math.ceil(math.sqrt(n_channels)))
        if side > MAX_GRID_SIDE:
            raise RecordingError(
                f"{n_channels} channels without a channel table do not fit a {MAX_GRID_SIDE}-per-side grid",
                path,
            )
        idx = np.arange(n_channels, dtype=np.int64)
        rows, cols = idx // side, idx % side
        parts.append(f"no channel table: square raster {side} wide")
    parts.append(f"positions = grid × pitch; {psrc}")
    return Geometry(rows, cols, cols * pitch, rows * pitch, float(pitch), (0.0, 0.0), "; ".join(parts))


def _check_distinct(a: np.ndarray, b: np.ndarray, what: str, path) -> None:
    pairs = np.column_stack([a, b])
    _, first, counts = np.unique(pairs, axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        dup = pairs[first[np.argmax(counts > 1)]]
        same = np.flatnonzero(np.all(pairs == dup, axis=1))
        more = f" and {len(same) - 2} more" if len(same) > 2 else ""
        raise RecordingError(
            f"channels {same[0]} and {same[1]}{more} share the {what} site ({dup[0]:g}, {dup[1]:g}); "
            f"every channel "
            "must have its own site",
            path,
        )


def _read_chunks(file_chunks, n_samples: int, n_channels: int, fs: float) -> tuple[int, int]:
    """Read chunk: whole file chunks, at least :data:`MIN_CHUNK_S` and :data:`MIN_CHUNK_SAMPLES`."""
    fc = int(file_chunks[0]) if file_chunks else min(n_samples, 65536)
    fc = max(1, fc)
    want = min(n_samples, max(MIN_CHUNK_SAMPLES, int(math.ceil(MIN_CHUNK_S * fs))))
    step = fc * max(1, -(-want // fc))
    return (min(step, n_samples), int(file_chunks[1]) if file_chunks and len(file_chunks) > 1 else n_channels)


def open_recording(path: str | os.PathLike, *, series=None, segment=None, format=None) -> Recording:
    """Open and validate a CNEA recording (``.h5``, ``.zarr``, NWB, or through SpikeInterface).

    ``path`` may be a SpikeInterface ``BaseRecording``; ``series``, ``segment``
    and ``format`` are passed to :func:`connectome.io.dispatch.open_store`.

    Validation (every failure a :class:`RecordingError` naming the file and
    the problem; details in docs/formats.md):

    - a recognised file with a 2-D time × channels ``/data`` of a supported
      dtype and at least one sample and channel; a channel table (or NWB
      electrodes table, or per-channel ``scale``) whose length matches the
      *first* axis instead of the second is refused as a channels × time file;
    - ``sampling_rate_hz`` within :data:`MIN_SAMPLING_RATE_HZ` …
      :data:`MAX_SAMPLING_RATE_HZ` (1 kHz – 1 MHz): an action potential lasts
      about 1 ms (Hodgkin & Huxley 1952, J Physiol), so below 1 kHz it falls
      between samples and the pipeline's sub-millisecond windows (merge
      coincidence, artefact masks) are empty; above 1 MHz is beyond any
      membrane-potential amplifier's bandwidth and is a units error;
    - ``scale`` finite and non-zero (a zero scale makes every sample equal to
      the offset), ``offset`` finite;
    - every chunk the declared shape calls for is stored (unless ``/data``
      declares ``sparse = true``): a deleted or never-written chunk is refused
      with its sample range; a contiguous HDF5 dataset must fit in the file;
    - geometry per :func:`read_geometry`.
    """
    try:
        store = open_store(path, series=series, segment=segment, format=format)
    except (KeyError, RuntimeError, ValueError) as exc:
        if not _raised_by_h5py(exc):
            raise
        raise RecordingError(f"damaged HDF5 file ({_h5_reason(exc)})", path) from None
    try:
        return _validated(store)
    except BaseException as exc:
        close = getattr(store, "close", None)
        if close is not None:
            try:
                close()  # do not keep a refused file open
            except Exception:
                pass
        if isinstance(exc, (KeyError, RuntimeError, ValueError)) and _raised_by_h5py(exc):
            raise RecordingError(f"damaged HDF5 file ({_h5_reason(exc)})", path) from None
        raise


def _raised_by_h5py(exc: BaseException) -> bool:
    """True when the innermost frame of ``exc``'s traceback is inside h5py.

    HDF5's C library reports damaged object headers, heaps and attribute
    messages as ``KeyError``/``RuntimeError``/``ValueError`` from h5py; only
    those (not the same classes raised by our own code) mean "damaged file".
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_filename.replace(os.sep, "/")
    return name.startswith("h5py/") or "/h5py/" in name


def _h5_reason(exc: BaseException) -> str:
    msg = str(exc.args[0]) if exc.args else str(exc)
    return msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__


def _data_shape(store: Store, p) -> tuple[int, int]:
    """``(n_samples, n_channels)`` of /data, after the format attribute, rank, size and dtype checks."""
    fmt = store.root_attrs.get("format")
    if isinstance(fmt, bytes):
        fmt = fmt.decode("utf-8", "replace")
    if fmt is not None and not (isinstance(fmt, str) and fmt == "cnea"):
        raise RecordingError(f"root attribute format is {fmt!r}, expected 'cnea'", p)
    if not getattr(store, "has_data", True):
        if store.optional("spikes/times_s") is not None:
            raise RecordingError(
                "spike-train-only recording (no /data); it has no membrane potentials to analyse", p
            )
        raise RecordingError("missing /data (the samples × channels array)", p)
    if len(store.shape) != 2:
        raise RecordingError(
            f"/data has rank {len(store.shape)} (shape {store.shape}); expected 2: samples × channels", p
        )
    n_samples, n_channels = (int(x) for x in store.shape)
    if n_samples == 0:
        raise RecordingError("/data has zero samples", p)
    if n_channels == 0:
        raise RecordingError("/data has zero channels", p)
    if store.dtype is None or store.dtype.name not in SUPPORTED_DTYPES:
        raise RecordingError(
            f"unsupported /data dtype {store.dtype}; supported: {', '.join(SUPPORTED_DTYPES)}", p
        )
    return n_samples, n_channels


def _sampling_rate(store: Store, p) -> float:
    """The sampling rate (Hz), from /data's attributes or the root's, within the accepted range."""
    sr = store.data_attrs.get("sampling_rate_hz", store.root_attrs.get("sampling_rate_hz"))
    if sr is None:
        raise RecordingError("missing /data attribute sampling_rate_hz", p)
    try:
        sr = float(sr)
    except (TypeError, ValueError):
        raise RecordingError(f"sampling_rate_hz is not a number ({sr!r})", p) from None
    if not math.isfinite(sr) or sr <= 0:
        raise RecordingError(f"sampling_rate_hz must be positive, got {sr}", p)
    if not (MIN_SAMPLING_RATE_HZ <= sr <= MAX_SAMPLING_RATE_HZ):
        raise RecordingError(
            f"sampling_rate_hz is {sr:g}; accepted: {MIN_SAMPLING_RATE_HZ:g} Hz to "
            f"{MAX_SAMPLING_RATE_HZ:g} Hz (membrane-potential recordings)",
            p,
        )
    return sr


def _scale_offset(store: Store, n_channels: int, n_samples: int, p) -> tuple[np.ndarray, np.ndarray]:
    """The units check and the mV conversion (scale, offset: scalars or one per channel; no zero scale)."""
    units = store.data_attrs.get("units", "mV")
    if str(units) not in ("mV", "millivolts"):
        raise RecordingError(f"/data units are {units!r}; expected 'mV'", p)
    scale = _as_channel_vector(store.data_attrs.get("scale", 1.0), n_channels, "scale", p, n_samples)
    offset = _as_channel_vector(store.data_attrs.get("offset", 0.0), n_channels, "offset", p, n_samples)
    if np.any(scale == 0):
        if scale.ndim == 0:
            raise RecordingError("/data attribute scale is 0: every sample would read as the offset", p)
        zero = np.flatnonzero(scale == 0)
        raise RecordingError(
            f"/data attribute scale is 0 on {zero.size} channel(s) (first: channel {zero[0]}): "
            "their samples would read as the offset",
            p,
        )
    return scale, offset


def _check_stored(store: Store, p) -> None:
    """/data is whole on disk: the file is as long as it says and (unless ``sparse``) no chunk is missing."""
    sparse = store.data_attrs.get("sparse", False)
    if not isinstance(sparse, (bool, np.bool_, int, np.integer)) or sparse not in (0, 1):
        raise RecordingError(f"/data attribute sparse must be true or false, got {sparse!r}", p)
    sparse = bool(sparse)
    size_problem = getattr(store, "size_problem", None)
    try:
        msg = size_problem() if size_problem else None
    except OSError as exc:
        raise RecordingError(f"cannot check the size of /data ({exc})", p) from None
    if msg:
        raise RecordingError(msg, p)
    if not sparse:
        try:
            miss = store.missing_region()
        except RecordingError:
            raise
        except Exception as exc:  # a damaged chunk index
            raise RecordingError(
                f"cannot list the stored chunks of /data ({type(exc).__name__}: {exc})", p
            ) from None
        if miss is not None:
            t0, t1, c0, c1, n_miss, n_total = miss
            raise RecordingError(
                f"/data samples {t0}–{t1} (channels {c0}–{c1 - 1}) are missing from the file: {n_miss} of "
                f"{n_total} chunks were deleted or never written (declare /data attribute sparse = true "
                "if unwritten regions are meant to read as the fill value)",
                p,
            )


def _validated(store: Store) -> Recording:
    """The :class:`Recording` of an opened store, once every rule of docs/formats.md is checked."""
    p = store.path
    n_samples, n_channels = _data_shape(store, p)
    sr = _sampling_rate(store, p)
    scale, offset = _scale_offset(store, n_channels, n_samples, p)
    geo = read_geometry(store, n_channels, n_samples, p)
    if n_samples < n_channels and geo.source.startswith("no channel table") and scale.ndim == 0:
        warnings.warn(
            f"{p}: /data is {n_samples} × {n_channels} (fewer samples than channels) and has no channel "
            "table to tell the orientation; read as time × channels, as the format says. A channels × "
            "time file must be transposed",
            stacklevel=2,
        )

    _check_stored(store, p)

    file_chunks = tuple(int(c) for c in store.chunks) if store.chunks else None
    chunks = _read_chunks(file_chunks, n_samples, n_channels, sr)
    attrs = {**store.root_attrs}
    return Recording(
        store=store,
        path=p,
        sampling_rate_hz=sr,
        n_samples=n_samples,
        n_channels=n_channels,
        dtype=np.dtype(store.dtype),
        chunks=chunks,
        scale=scale,
        offset=offset,
        rows=geo.rows,
        cols=geo.cols,
        x_um=geo.x_um,
        y_um=geo.y_um,
        attrs=attrs,
        pitch_um=geo.pitch_um,
        origin_um=geo.origin_um,
        geometry_source=geo.source,
        file_chunks=file_chunks,
    )
