"""Readers of sorted spike trains: one function, :func:`read_spike_trains`, any source.

Sources (docs/spiketrains.md, "Inputs"):

- CNEA-HDF5 (``.h5``) or CNEA-zarr (``.zarr``): ``/spikes/times_s`` and
  ``/spikes/unit_id``, optional unit table ``/units/id`` (+ ``x_um``, ``y_um``)
  and ``/spikes`` attribute ``duration_s`` (docs/formats.md);
- NWB (HDF5) ``Units`` table: ``/units/spike_times`` + ``spike_times_index``
  + ``id``, read with h5py (no pynwb needed), optional ``x_um``/``y_um``
  columns or a ``unit_location`` column;
- a SpikeInterface ``BaseSorting`` (first segment), or a folder SpikeInterface
  reads: one it saved (``si_folder.json``), Phy or Kilosort output
  (``spike_times.npy``). Needs the optional ``spikeinterface`` package;
- a plain table: ``.npz`` (arrays ``times_s``, ``unit_id``, optional
  ``units``, ``x_um``, ``y_um``, ``duration_s``), ``.csv``/``.tsv`` (columns
  ``unit_id`` and ``time_s``; ``unit`` and ``time`` are accepted), ``.parquet``
  (same columns; needs pyarrow).

Every problem is a one-line :class:`~connectome.errors.RecordingError` naming
the file (see :meth:`SpikeTrains.from_arrays` for the checks).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .trains import SpikeTrains

TABLE_SUFFIXES = (".npz", ".csv", ".tsv", ".parquet")
_TIME_COLS = ("time_s", "times_s", "time", "spike_time_s", "t_s")
_UNIT_COLS = ("unit_id", "unit", "units", "cluster", "neuron_id")


def _is_sorting(obj) -> bool:
    return (
        hasattr(obj, "to_spike_vector")
        and hasattr(obj, "get_unit_ids")
        and hasattr(obj, "sampling_frequency")
    )


def _is_sorter_folder(p: Path) -> bool:
    return p.is_dir() and ((p / "si_folder.json").exists() or (p / "spike_times.npy").exists())


def _h5_has(path: Path, *names) -> dict:
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            return {n: n in fh for n in names}
    except OSError:
        return dict.fromkeys(names, False)


def is_spike_input(source) -> bool:
    """True if ``source`` holds sorted spike trains and no membrane potentials to analyse.

    A CNEA file with both ``/data`` and ``/spikes`` is a voltage recording
    (choose spike-train mode explicitly to use its spikes); an NWB file is a
    spike input if it has a ``/units`` table and no acquisition
    ``ElectricalSeries``/``CurrentClampSeries``.
    """
    if isinstance(source, SpikeTrains) or _is_sorting(source):
        return True
    if not isinstance(source, (str, os.PathLike)):
        return False
    p = Path(source)
    if p.suffix.lower() in TABLE_SUFFIXES:
        return True
    if _is_sorter_folder(p):
        return True
    if p.is_dir() and (p / "zarr.json").exists():
        return (p / "spikes").is_dir() and not (p / "data").exists()
    if p.is_file():
        h = _h5_has(p, "data", "spikes/times_s", "units/spike_times", "acquisition")
        if h["units/spike_times"]:
            return not _nwb_has_traces(p)
        return h["spikes/times_s"] and not h["data"]
    return False


def _nwb_has_traces(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as fh:
        acq = fh.get("acquisition")
        if not isinstance(acq, h5py.Group):
            return False
        for obj in acq.values():
            nt = obj.attrs.get("neurodata_type", b"")
            nt = nt.decode() if isinstance(nt, bytes) else str(nt)
            if nt in ("ElectricalSeries", "CurrentClampSeries"):
                return True
    return False


def read_spike_trains(source) -> SpikeTrains:
    """Read and validate sorted spike trains from a file, folder, sorting object or ``SpikeTrains``.

    Raises
    ------
    RecordingError
        A missing or unreadable source, or a spike table that fails the
        checks, in one line naming it.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "spikes.npz")
    >>> np.savez(path, times_s=[0.1, 0.2, 0.15], unit_id=[3, 3, 7])
    >>> st = read_spike_trains(path)
    >>> st.unit_ids.tolist(), st.n_spikes
    ([3, 7], 3)
    """
    if isinstance(source, SpikeTrains):
        return source
    if _is_sorting(source):
        return _from_sorting(source, f"<{type(source).__name__}>")
    p = Path(source)
    if not p.exists():
        raise RecordingError("no such file or directory", p)
    suffix = p.suffix.lower()
    if _is_sorter_folder(p):
        return _from_sorter_folder(p)
    if suffix == ".npz":
        return _from_npz(p)
    if suffix in (".csv", ".tsv"):
        return _from_csv(p)
    if suffix == ".parquet":
        return _from_parquet(p)
    if p.is_dir():
        if (p / "zarr.json").exists():
            return _from_cnea_zarr(p)
        raise RecordingError(
            "a directory that is neither a zarr v3 store nor a sorter output folder "
            "(no zarr.json, si_folder.json or spike_times.npy)",
            p,
        )
    if p.stat().st_size == 0:
        raise RecordingError("empty file (0 bytes)", p)
    import h5py

    if not h5py.is_hdf5(os.fspath(p)):
        raise RecordingError(
            "not an HDF5 file, a zarr store or a spike table (.npz, .csv, .tsv, .parquet)", p
        )
    try:
        with h5py.File(p, "r") as fh:
            if "units" in fh and "spike_times" in fh["units"]:
                return _from_nwb_units(fh, p)
            return _from_cnea_h5(fh, p)
    except RecordingError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise RecordingError(f"cannot read the spike table ({type(exc).__name__}: {exc})", p) from None


def _opt(group, name):
    return None if group is None or name not in group else np.asarray(group[name][()])


def _from_cnea(root, p: Path) -> SpikeTrains:
    if "spikes" not in root or "times_s" not in root["spikes"] or "unit_id" not in root["spikes"]:
        raise RecordingError("no spike trains (/spikes/times_s and /spikes/unit_id)", p)
    sp = root["spikes"]
    t = np.asarray(sp["times_s"][()])
    u = np.asarray(sp["unit_id"][()])
    units = root["units"] if "units" in root else None
    ids = _opt(units, "id")
    dur = sp.attrs.get("duration_s", None)
    return SpikeTrains.from_arrays(
        t,
        u,
        units=ids,
        x_um=_opt(units, "x_um") if ids is not None else None,
        y_um=_opt(units, "y_um") if ids is not None else None,
        duration_s=None if dur is None else float(np.asarray(dur)),
        source=str(p),
    )


def _from_cnea_h5(fh, p: Path) -> SpikeTrains:
    return _from_cnea(fh, p)


def _from_cnea_zarr(p: Path) -> SpikeTrains:
    import zarr

    try:
        root = zarr.open_group(str(p), mode="r")
    except Exception as exc:  # zarr raises several types for a damaged store
        raise RecordingError(f"cannot open as zarr ({type(exc).__name__}: {exc})", p) from None
    return _from_cnea(root, p)


def _from_nwb_units(fh, p: Path) -> SpikeTrains:
    units = fh["units"]
    t = np.asarray(units["spike_times"][()])
    if "spike_times_index" not in units:
        raise RecordingError("/units/spike_times has no spike_times_index (a ragged column needs one)", p)
    end = np.asarray(units["spike_times_index"][()], dtype=np.int64)
    ids = np.asarray(units["id"][()]) if "id" in units else np.arange(end.size)
    if ids.size != end.size:
        raise RecordingError(f"/units/id has {ids.size} entries but /units/spike_times_index {end.size}", p)
    if end.size and (np.any(np.diff(end) < 0) or end[-1] != t.size or end[0] < 0):
        raise RecordingError("/units/spike_times_index is not a valid ragged index of /units/spike_times", p)
    n_per = np.diff(np.r_[0, end])
    u = np.repeat(ids.astype(np.int64), n_per)
    x = y = None
    if "x_um" in units and "y_um" in units:
        x, y = units["x_um"][()], units["y_um"][()]
    elif "unit_location" in units:
        loc = np.asarray(units["unit_location"][()], dtype=np.float64)
        if loc.ndim == 2 and loc.shape[1] >= 2:
            x, y = loc[:, 0], loc[:, 1]
    return SpikeTrains.from_arrays(t, u, units=ids, x_um=x, y_um=y, source=str(p))


def _from_npz(p: Path) -> SpikeTrains:
    try:
        z = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RecordingError(f"cannot read as .npz ({exc})", p) from None
    with z:
        keys = set(z.files)
        t_key = next((k for k in _TIME_COLS if k in keys), None)
        u_key = next((k for k in ("unit_id", "unit", "spike_clusters", "neuron_id") if k in keys), None)
        if t_key is None or u_key is None:
            raise RecordingError(
                f"an .npz spike table needs arrays 'times_s' and 'unit_id' (found: "
                f"{', '.join(sorted(keys)) or 'none'})",
                p,
            )
        dur = float(z["duration_s"]) if "duration_s" in keys else None
        return SpikeTrains.from_arrays(
            z[t_key],
            z[u_key],
            units=z["units"] if "units" in keys else None,
            x_um=z["x_um"] if "x_um" in keys else None,
            y_um=z["y_um"] if "y_um" in keys else None,
            duration_s=dur,
            source=str(p),
        )


def _columns(names, p: Path):
    low = [str(n).strip().lower() for n in names]
    t = next((low.index(c) for c in _TIME_COLS if c in low), None)
    u = next((low.index(c) for c in _UNIT_COLS if c in low), None)
    if t is None or u is None:
        raise RecordingError(
            f"a spike table needs columns 'unit_id' and 'time_s' (found: {', '.join(low)})", p
        )
    return u, t


def _from_csv(p: Path) -> SpikeTrains:
    delim = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        with open(p) as fh:
            header = fh.readline().strip().split(delim)
        ui, ti = _columns(header, p)
        arr = np.loadtxt(p, delimiter=delim, skiprows=1, usecols=(ui, ti), ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise RecordingError(f"cannot parse the spike table ({exc})", p) from None
    except OSError as exc:
        raise RecordingError(f"cannot read ({exc.strerror or exc})", p) from None
    u = arr[:, 0]
    if np.any(~np.isfinite(u)) or np.any(u != np.round(u)):
        raise RecordingError("column unit_id must hold integer unit ids", p)
    return SpikeTrains.from_arrays(arr[:, 1], u.astype(np.int64), source=str(p))


def _from_parquet(p: Path) -> SpikeTrains:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RecordingError("reading .parquet spike tables needs pyarrow (pip install pyarrow, or the `parquet` "
                             "extra)", p) from None
    try:
        tab = pq.read_table(p)
    except Exception as exc:  # pyarrow's own error classes
        raise RecordingError(f"cannot read as Parquet ({exc})", p) from None
    ui, ti = _columns(tab.column_names, p)
    return SpikeTrains.from_arrays(tab.column(ti).to_numpy(), tab.column(ui).to_numpy(), source=str(p))


def _from_sorter_folder(p: Path) -> SpikeTrains:
    try:
        import spikeinterface as si
        import spikeinterface.extractors as se
    except ImportError:
        raise RecordingError(
            "reading a sorter output folder needs spikeinterface (the optional 'interop' extra)",
            p,
        ) from None
    try:
        if (p / "si_folder.json").exists():
            sorting = si.load(p)
        elif (p / "cluster_group.tsv").exists() or (p / "cluster_info.tsv").exists():
            sorting = se.read_phy(p)
        else:
            sorting = se.read_kilosort(p)
    except Exception as exc:  # spikeinterface's readers raise many types
        raise RecordingError(
            f"spikeinterface cannot read this folder ({type(exc).__name__}: {exc})", p
        ) from None
    if not _is_sorting(sorting):
        raise RecordingError(f"the folder holds a {type(sorting).__name__}, not a sorting", p)
    return _from_sorting(sorting, str(p))


def _from_sorting(sorting, src: str) -> SpikeTrains:
    """The first segment of a SpikeInterface ``BaseSorting`` (unit ids that are not integers are numbered)."""
    fs = float(sorting.sampling_frequency)
    if sorting.get_num_segments() != 1:
        raise RecordingError(
            f"the sorting has {sorting.get_num_segments()} segments; select one "
            "(sorting.select_segments([k]))",
            src,
        )
    ids = np.asarray(sorting.get_unit_ids())
    try:
        int_ids = ids.astype(np.int64)
        if not np.array_equal(int_ids.astype(ids.dtype), ids):
            raise ValueError
    except (TypeError, ValueError):
        int_ids = np.arange(ids.size, dtype=np.int64)
    sv = sorting.to_spike_vector()
    t = sv["sample_index"].astype(np.float64) / fs
    u = int_ids[sv["unit_index"]]
    locs = sorting.get_property("unit_location") if "unit_location" in sorting.get_property_keys() else None
    x = y = None
    if locs is not None and np.ndim(locs) == 2 and np.shape(locs)[1] >= 2:
        x, y = np.asarray(locs)[:, 0], np.asarray(locs)[:, 1]
    st = SpikeTrains.from_arrays(t, u, units=int_ids, x_um=x, y_um=y, source=src, check_order=False)
    if not np.array_equal(int_ids, ids):
        st.meta["unit_names"] = [str(v) for v in ids]
    return st
