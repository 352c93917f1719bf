"""Open a recording's store by its content: zarr v3, NWB (HDF5 with an ``ElectricalSeries``) or CNEA-HDF5.

Kept apart from :mod:`.stores` (the base class and the HDF5/zarr stores) and
:mod:`.nwb` (which builds on them), so that neither needs the other's name.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import RecordingError
from .nwb import NWBStore, is_nwb
from .stores import HDF5Store, Store, ZarrStore, _is_hdf5


def open_store(path: str | os.PathLike) -> Store:
    """Open ``path`` with the store its content (not only its name) calls for."""
    p = Path(path)
    if not p.exists():
        raise RecordingError("no such file or directory", p)
    if p.is_dir():
        if (p / "zarr.json").exists():
            return ZarrStore(p)
        if (p / ".zgroup").exists():
            raise RecordingError("zarr v2 stores are not supported; convert to zarr v3", p)
        raise RecordingError("a directory that is not a zarr v3 store (no zarr.json)", p)
    if p.stat().st_size == 0:
        raise RecordingError("empty file (0 bytes)", p)
    if not _is_hdf5(p):
        raise RecordingError("not an HDF5 file and not a zarr store", p)
    if is_nwb(p):
        return NWBStore(p)
    return HDF5Store(p)
