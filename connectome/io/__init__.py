"""Recording and map I/O: CNEA-HDF5, zarr v3 and NWB behind one interface."""

from .atomic import atomic_path
from .recording import Recording, open_recording
from .writer import create_recording, recording_format

__all__ = ["Recording", "open_recording", "create_recording", "recording_format", "atomic_path"]
