"""Storage back-ends behind one small interface: HDF5, zarr v3 and NWB.

A *store* exposes the raw ``/data`` array, the root and data attributes, and
named optional arrays (``channels/row`` …). :class:`~connectome.io.recording.Recording`
is built on a store and never touches h5py or zarr directly. Stores are
picklable (they reopen the file lazily in each process), so dask.distributed
workers can read recordings directly from shared storage.
"""

from __future__ import annotations

import abc
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecordingError

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    if head == _HDF5_SIGNATURE:
        return True
    # HDF5 allows a user block: the signature may also sit at 512, 1024, ...
    try:
        import h5py

        return bool(h5py.is_hdf5(os.fspath(path)))
    except Exception:
        return False


def _du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


class Store(abc.ABC):
    """Interface of a recording store (see module docstring)."""

    path: Path
    kind: str

    # -- array of samples -------------------------------------------------
    shape: tuple[int, ...]
    dtype: np.dtype | None  # None: the file has no /data array
    chunks: tuple[int, ...] | None

    @abc.abstractmethod
    def read(self, t0: int, t1: int, c0: int = 0, c1: int | None = None) -> np.ndarray:
        """Raw samples ``[t0:t1, c0:c1]`` in the file's dtype."""

    # -- metadata ---------------------------------------------------------
    root_attrs: dict
    data_attrs: dict

    @abc.abstractmethod
    def optional(self, name: str) -> np.ndarray | None:
        """The whole array at ``name`` (e.g. ``channels/row``), or None if absent."""

    def nbytes_on_disk(self) -> int:
        return _du(self.path)

    def missing_region(self):
        """The first stored region of ``/data`` that holds no data, or None.

        Returns ``(t0, t1, c0, c1, n_missing, n_total)``: samples ``t0:t1`` ×
        channels ``c0:c1`` of the first missing chunk (in time order), the
        number of chunks missing and the number the declared shape calls for.
        A store that cannot tell returns None.
        """
        return None


def _chunk_grid(shape, chunks):
    return tuple(-(-int(n) // int(c)) for n, c in zip(shape, chunks))


def _first_missing(grid, present) -> tuple:
    """First chunk index (C order) of ``grid`` not in ``present`` (a set of index tuples).

    Stops at the first gap, so it costs O(len(present)) whatever the grid's size.
    """
    for flat in range(len(present) + 1):
        idx = tuple(int(i) for i in np.unravel_index(flat, grid))
        if idx not in present:
            return idx
    raise AssertionError("unreachable: fewer chunks present than in the grid")


def _region(idx, shape, chunks, n_missing, n_total):
    t0 = idx[0] * chunks[0]
    t1 = min(t0 + chunks[0], shape[0])
    if len(shape) > 1:
        c0 = idx[1] * chunks[1]
        c1 = min(c0 + chunks[1], shape[1])
    else:
        c0, c1 = 0, 1
    return (int(t0), int(t1), int(c0), int(c1), int(n_missing), int(n_total))


def h5_missing_region(ds):
    """:meth:`Store.missing_region` of an h5py dataset.

    Chunked: the chunks HDF5 never allocated (HDF5 allocates a chunk on its
    first write, whatever the values); contiguous: storage never allocated, or
    extending past the end of the file. Compact, virtual and external datasets
    are not checked (None).
    """
    import h5py

    shape = tuple(int(n) for n in ds.shape)
    if not shape or min(shape) == 0:
        return None
    plist = ds.id.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.CHUNKED:
        chunks = tuple(int(c) for c in ds.chunks)
        grid = _chunk_grid(shape, chunks)
        total = int(np.prod(grid, dtype=object))
        n = int(ds.id.get_num_chunks())
        if n >= total:
            return None
        present = set()
        ds.id.chunk_iter(
            lambda info: present.add(tuple(int(o) // c for o, c in zip(info.chunk_offset, chunks)))
        )
        return _region(_first_missing(grid, present), shape, chunks, total - len(present), total)
    if layout == h5py.h5d.CONTIGUOUS and plist.get_external_count() == 0:
        if ds.id.get_offset() is None:
            return (0, shape[0], 0, shape[1] if len(shape) > 1 else 1, 1, 1)
    return None


def h5_size_problem(ds, file_size: int) -> str | None:
    """A reason if a contiguous dataset declares more bytes than the file holds."""
    import h5py

    plist = ds.id.get_create_plist()
    if plist.get_layout() != h5py.h5d.CONTIGUOUS or plist.get_external_count():
        return None
    off = ds.id.get_offset()
    need = int(np.prod(ds.shape, dtype=object)) * ds.dtype.itemsize
    if off is not None and off + need > file_size:
        return (
            f"/{ds.name.lstrip('/')} declares {ds.shape[0]} samples ({need} bytes) but the file holds "
            f"only {max(0, file_size - off)} bytes of it"
        )
    return None


def _attrs_to_dict(attrs) -> dict:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        elif isinstance(v, np.ndarray) and v.size == 1:
            v = v.reshape(()).item()
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def read_2d(store, ds, t0, t1, c0=0, c1=None) -> np.ndarray:
    """``ds[t0:t1, c0:c1]`` of a 2-D h5py dataset, compressed chunks decoded in parallel.

    Uses :mod:`connectome.io.h5chunks` (built once per store and process,
    kept in ``store._reader``; False = not supported, read through h5py).
    """
    from .h5chunks import chunk_reader

    if store._reader is None:
        store._reader = chunk_reader(ds, HDF5Store._lock) or False
    if not store._reader:
        return ds[t0:t1, c0:c1]
    n, c = ds.shape
    t0, t1, _ = slice(t0, t1).indices(n)
    c0, c1, _ = slice(c0, c1).indices(c)
    return store._reader.read(t0, max(t0, t1), c0, max(c0, c1))


class HDF5Store(Store):
    """CNEA-HDF5 (``.h5``): ``/data`` plus ``/channels/*`` and ``/spikes/*``."""

    kind = "hdf5"
    _lock = threading.Lock()  # h5py is serialised internally; keep opens tidy too

    def __init__(self, path: Path, data_path: str = "data"):
        import h5py

        self.path = Path(path)
        self.data_path = data_path
        self._fh = None
        self._reader = None
        try:
            fh = self._file()
        except OSError as exc:
            msg = str(exc)
            if "truncated" in msg.lower():
                raise RecordingError(
                    "truncated HDF5 file (the file is shorter than its header says)", path
                ) from None
            raise RecordingError(f"cannot open as HDF5 ({msg.splitlines()[0]})", path) from None
        try:
            self.root_attrs = _attrs_to_dict(fh.attrs)
            self.has_data = data_path in fh and isinstance(fh[data_path], h5py.Dataset)
            if self.has_data:
                ds = fh[data_path]
                self.shape = tuple(ds.shape)
                self.dtype = ds.dtype
                self.chunks = ds.chunks
                self.data_attrs = _attrs_to_dict(ds.attrs)
            else:
                self.shape, self.dtype, self.chunks, self.data_attrs = (), None, None, {}
        except Exception as exc:  # unreadable attributes or a damaged object header
            self.close()
            raise RecordingError(
                f"cannot read the HDF5 metadata ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''})",
                path,
            ) from None

    def _file(self):
        import h5py

        if self._fh is None:
            with self._lock:
                if self._fh is None:
                    self._fh = h5py.File(self.path, "r")
        return self._fh

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_fh"] = None
        state["_reader"] = None
        return state

    def read(self, t0, t1, c0=0, c1=None):
        ds = self._file()[self.data_path]
        try:
            return read_2d(self, ds, t0, t1, c0, c1)
        except Exception as exc:  # corrupt chunk, truncated data
            raise RecordingError(
                f"cannot read samples {t0}:{t1} of /{self.data_path} ({exc})", self.path
            ) from None

    def optional(self, name):
        fh = self._file()
        if name in fh:
            try:
                return fh[name][()]
            except Exception as exc:
                raise RecordingError(f"cannot read /{name} ({exc})", self.path) from None
        return None

    def missing_region(self):
        return h5_missing_region(self._file()[self.data_path])

    def size_problem(self):
        return h5_size_problem(self._file()[self.data_path], self.path.stat().st_size)

    def close(self):
        self._reader = None  # it holds the dataset of the file being closed
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class ZarrStore(Store):
    """The CNEA tree stored as a zarr v3 group (``.zarr`` directory)."""

    kind = "zarr"

    def __init__(self, path: Path):
        import zarr

        self.path = Path(path)
        try:
            self._group = zarr.open_group(os.fspath(self.path), mode="r")
        except Exception as exc:
            raise RecordingError(f"cannot open as a zarr group ({type(exc).__name__}: {exc})", path) from None
        self.root_attrs = _attrs_to_dict(dict(self._group.attrs))
        try:
            arr: Any = self._group["data"]  # an Array, or a Group where the array should be
            self.has_data = hasattr(arr, "shape")
        except KeyError:
            self.has_data = False
        except Exception as exc:  # damaged data/zarr.json: bad dtype, shape, codecs or format
            raise RecordingError(
                f"/data has unreadable zarr metadata (data/zarr.json: {type(exc).__name__}: {exc})", path
            ) from None
        if self.has_data:
            self.shape = tuple(arr.shape)
            self.dtype = np.dtype(arr.dtype)
            self.chunks = tuple(arr.chunks)
            self.data_attrs = _attrs_to_dict(dict(arr.attrs))
            self._data = arr
        else:
            self.shape, self.dtype, self.chunks, self.data_attrs = (), None, None, {}

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.__init__(state["path"])

    def read(self, t0, t1, c0=0, c1=None):
        try:
            return self._data[t0:t1, c0:c1]
        except Exception as exc:
            raise RecordingError(
                f"cannot read samples {t0}:{t1} of /data ({type(exc).__name__}: {exc})", self.path
            ) from None

    def missing_region(self):
        """Chunks (shards, if sharded) of ``/data`` with no stored object.

        zarr reads a missing chunk as the fill value, silently; the writer of
        this package stores every chunk (``write_empty_chunks``), so a missing
        one was deleted or never written.
        """
        arr = self._data
        shape = tuple(int(n) for n in arr.shape)
        if not shape or min(shape) == 0:
            return None
        unit = tuple(int(c) for c in (getattr(arr, "shards", None) or arr.chunks))
        grid = _chunk_grid(shape, unit)
        total = int(np.prod(grid, dtype=object))
        try:
            n = int(arr.nchunks_initialized)
        except Exception:
            return None
        if n >= total:
            return None
        base = self.path / "data"
        encode = arr.metadata.encode_chunk_key
        for flat in range(n + 1):  # a gap is among the first n + 1 chunks
            idx = tuple(int(i) for i in np.unravel_index(flat, grid))
            if not (base / encode(idx)).exists():
                return _region(idx, shape, unit, total - n, total)
        return None

    def optional(self, name):
        try:
            node = self._group[name]
        except KeyError:
            return None
        if not hasattr(node, "shape"):
            return None
        try:
            return node[...]
        except Exception as exc:
            raise RecordingError(f"cannot read /{name} ({exc})", self.path) from None
