"""Open a recording's store by its content: zarr v3, NWB (HDF5 with an ``ElectricalSeries``),
CNEA-HDF5, or — with the optional SpikeInterface — any vendor format it reads.

Kept apart from :mod:`.stores` (the base class and the HDF5/zarr stores),
:mod:`.nwb` and :mod:`.interop` (which build on them), so that none needs
another's name.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import RecordingError
from .nwb import NWBStore, is_hdmf_zarr, is_nwb
from .stores import HDF5Store, Store, ZarrStore, _is_hdf5

#: ``format`` values read by the package itself (anything else goes to SpikeInterface)
NATIVE_FORMATS = ("cnea", "hdf5", "zarr", "nwb")


def open_store(
    path, *, series: str | None = None, segment: int | None = None, format: str | None = None
) -> Store:
    """Open ``path`` with the store its content (not only its name) calls for.

    ``path`` may also be a SpikeInterface ``BaseRecording``. ``series`` picks
    an NWB series, ``segment`` one segment of a recording with gaps, and
    ``format`` forces a reader: ``cnea``/``hdf5``/``zarr``/``nwb``, or a
    SpikeInterface extractor name (``maxwell``, ``intan``, …). A file that is
    none of the native formats is offered to SpikeInterface when it is installed.
    """
    from .interop import SpikeInterfaceStore, is_si_recording, open_si_path

    if is_si_recording(path):
        return SpikeInterfaceStore(path, segment=segment)
    p = Path(path)
    if not p.exists():
        raise RecordingError("no such file or directory", p)
    fmt = format.lower() if format else None
    if fmt is not None and fmt not in NATIVE_FORMATS:
        return SpikeInterfaceStore(open_si_path(p, fmt), path=p, segment=segment)
    if p.is_dir():
        if is_hdmf_zarr(p):
            raise RecordingError(
                "an NWB file stored with hdmf-zarr: not supported (hdmf-zarr needs zarr 2); export it to "
                "HDF5 NWB (hdmf_zarr.NWBZarrIO.export to pynwb.NWBHDF5IO) and read that",
                p,
            )
        if (p / "zarr.json").exists() and fmt in (None, "zarr"):
            return _check_series(ZarrStore(p), series, segment)
        if (p / ".zgroup").exists() and fmt in (None, "zarr"):
            raise RecordingError("zarr v2 stores are not supported; convert to zarr v3", p)
        store = _try_spikeinterface(p, fmt, segment)
        if store is not None:
            return store
        raise RecordingError("a directory that is not a zarr v3 store (no zarr.json)", p)
    if p.stat().st_size == 0:
        raise RecordingError("empty file (0 bytes)", p)
    if not _is_hdf5(p):
        store = _try_spikeinterface(p, fmt, segment)
        if store is not None:
            return store
        raise RecordingError("not an HDF5 file and not a zarr store", p)
    if fmt == "nwb" or (fmt is None and is_nwb(p)):
        return NWBStore(p, series=series, segment=segment)
    if fmt is None and _maxwell_layout(p):
        return SpikeInterfaceStore(open_si_path(p, "maxwell"), path=p, segment=segment)
    return _check_series(HDF5Store(p), series, segment)


def _try_spikeinterface(p: Path, fmt, segment) -> Store | None:
    """The SpikeInterface store of ``p`` if SpikeInterface is installed and a reader recognises it
    (None if none does); files with a native suffix are left to the native readers' messages."""
    import importlib.util

    if fmt is not None or p.suffix.lower() in (".h5", ".hdf5", ".nwb", ".zarr", ".cnea"):
        return None
    if importlib.util.find_spec("spikeinterface") is None:
        return None
    from .interop import SpikeInterfaceStore, open_si_path, recognised

    if not recognised(p):
        return None
    return SpikeInterfaceStore(open_si_path(p), path=p, segment=segment)


def _maxwell_layout(p: Path) -> bool:
    """An HDF5 file laid out as MaxWell Biosystems writes them (MaxOne ``/sig`` + ``/mapping``;
    MaxTwo/newer ``/data_store`` or ``/recordings`` + ``/wells``), with no CNEA ``/data``."""
    import h5py

    try:
        with h5py.File(p, "r") as fh:
            if "data" in fh:
                return False
            return (
                ("sig" in fh and "mapping" in fh)
                or "data_store" in fh
                or ("recordings" in fh and "wells" in fh)
            )
    except Exception:
        return False


def _check_series(store: Store, series, segment) -> Store:
    """A CNEA file has one series and one segment: refuse a request for another."""
    if series is not None or segment not in (None, 0):
        what = f"series {series!r}" if series is not None else f"segment {segment}"
        close = getattr(store, "close", None)
        if close:
            close()
        raise RecordingError(
            f"{what} was asked for, but a CNEA recording holds one series and one segment", store.path
        )
    return store
