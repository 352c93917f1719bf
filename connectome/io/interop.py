"""Recordings through SpikeInterface: any ``BaseRecording``, and any file it can open.

SpikeInterface (Buccino et al. 2020, eLife 9:e61834) reads the vendor formats
labs record with — MaxWell, 3Brain BioCam, Intan, Open Ephys, SpikeGLX, Multi
Channel Systems and many more (through Neo; Garcia et al. 2014, Front
Neuroinform 8:10). :class:`SpikeInterfaceStore` puts any of its recordings
behind the package's :class:`~connectome.io.stores.Store` interface:

- samples are read with ``get_traces`` one block at a time (nothing is loaded
  at open time), raw values in the recording's dtype;
- ``mV = raw × gain_to_uV / 1000 + offset_to_uV / 1000`` per channel (a
  recording without gains is taken to be in µV already, with a warning);
- electrode positions are the probe's contact positions (µm; the first two
  coordinates);
- a recording of several segments is refused unless ``segment`` picks one
  (segments are not contiguous in time).

SpikeInterface is an optional dependency (``pip install "connectome[interop]"``),
imported only when one of these functions is called.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .stores import Store

#: raw dtypes passed through as they are (the others are read as float32 mV)
_RAW_DTYPES = ("int16", "int32", "uint16", "float32", "float64")
#: marker files of a folder written by SpikeInterface's ``save``
_SI_FOLDER_MARKERS = ("si_folder.json", "binary.json", "provenance.json")


def _si():
    try:
        import spikeinterface.core as sc
    except ImportError:
        raise RecordingError(
            'SpikeInterface is not installed: pip install "connectome[interop]" (or spikeinterface)',
            "<input>",
        ) from None
    return sc


def is_si_recording(obj) -> bool:
    """True if ``obj`` is a SpikeInterface ``BaseRecording`` (without importing SpikeInterface
    unless it already is)."""
    import sys

    mod = sys.modules.get("spikeinterface.core")
    if mod is None:
        return False
    return isinstance(obj, mod.BaseRecording)


def recording_formats() -> list[str]:
    """The format names ``format`` accepts: SpikeInterface's recording extractors, plus ``si-folder``."""
    import spikeinterface.extractors as se

    return sorted(se.recording_extractor_full_dict) + ["si-folder"]


def _construct(cls, path: Path):
    params = list(inspect.signature(cls.__init__).parameters)
    arg = next((p for p in params[1:] if p in ("file_path", "folder_path", "dirname", "filename")), None)
    if arg is None:
        return cls(os.fspath(path))
    return cls(**{arg: os.fspath(path)})


def recognised(path) -> bool:
    """True if ``path`` is a folder SpikeInterface saved, or a file or folder Neo recognises."""
    p = Path(path)
    if p.is_dir() and any((p / m).exists() for m in _SI_FOLDER_MARKERS):
        return True
    try:
        from neo.rawio import get_rawio

        return bool(get_rawio(os.fspath(p)))
    except Exception:
        return False


def open_si_path(path, fmt: str | None = None):
    """Open ``path`` with SpikeInterface: by ``fmt`` (an extractor name such as ``maxwell``,
    ``intan``, ``openephysbinary``, ``spikeglx``, ``biocam``, ``mcsraw`` or ``si-folder``), or by
    what Neo recognises when ``fmt`` is None. Returns a ``BaseRecording``."""
    sc = _si()
    import spikeinterface.extractors as se

    p = Path(path)
    if not p.exists():
        raise RecordingError("no such file or directory", p)
    try:
        if fmt in ("si-folder", "spikeinterface") or (
            fmt is None and p.is_dir() and any((p / m).exists() for m in _SI_FOLDER_MARKERS)
        ):
            return sc.load(os.fspath(p))
        if fmt is not None:
            key = fmt.lower().replace("-", "").replace("_", "")
            cls = se.recording_extractor_full_dict.get(key)
            if cls is None:
                raise RecordingError(
                    f"unknown recording format {fmt!r}; known: {', '.join(recording_formats())}", p
                )
            return _construct(cls, p)
        from neo.rawio import get_rawio

        rawio = get_rawio(os.fspath(p))
    except RecordingError:
        raise
    except Exception as exc:
        raise RecordingError(
            f"SpikeInterface cannot open it as {fmt or 'any known format'} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})",
            p,
        ) from None
    rawios = rawio if isinstance(rawio, (list, tuple)) else [rawio] if rawio is not None else []
    names = {r.__name__ for r in rawios}
    for key, cls in sorted(se.recording_extractor_full_dict.items()):
        if getattr(cls, "NeoRawIOClass", None) in names:
            try:
                return _construct(cls, p)
            except Exception as exc:
                raise RecordingError(
                    f"SpikeInterface ({key}) cannot read it ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''})",
                    p,
                ) from None
    raise RecordingError(
        "not a CNEA-HDF5, zarr v3 or NWB recording, and no SpikeInterface/Neo reader recognises it "
        "(name one with format=…)",
        p,
    )


class SpikeInterfaceStore(Store):
    """A SpikeInterface recording as a :class:`~connectome.io.stores.Store` (see the module docstring).

    Parameters
    ----------
    recording : spikeinterface BaseRecording
    path : the file or folder it was read from, if any (used in messages and
        as the recording's path)
    segment : int, optional
        Which segment of a multi-segment recording to read.
    """

    kind = "spikeinterface"

    def __init__(self, recording, path=None, segment: int | None = None):
        self.rec = recording
        name = type(recording).__name__
        self.path = Path(path) if path is not None else Path(f"<spikeinterface {name}>")
        n_seg = int(recording.get_num_segments())
        if n_seg > 1 and segment is None:
            raise RecordingError(
                f"the SpikeInterface recording has {n_seg} segments (separate in time); "
                f"choose one with segment = 0 … {n_seg - 1}",
                self.path,
            )
        seg = int(segment or 0)
        if not 0 <= seg < n_seg:
            raise RecordingError(
                f"segment {segment} does not exist: the recording has {n_seg} segment(s)", self.path
            )
        self.segment = seg
        self.channel_ids = list(recording.get_channel_ids())
        n = int(recording.get_num_samples(segment_index=seg))
        c = len(self.channel_ids)
        self.shape = (n, c)
        self.chunks = None
        dt = np.dtype(recording.get_dtype())
        self._convert = dt.name not in _RAW_DTYPES
        self.dtype = np.dtype(np.float32) if self._convert else dt
        gains = recording.get_channel_gains() if recording.has_scaleable_traces() else None
        offsets = recording.get_channel_offsets() if recording.has_scaleable_traces() else None
        if gains is None:
            warnings.warn(
                f"{self.path}: the SpikeInterface recording has no gains (gain_to_uV); its values are "
                "taken to be µV",
                stacklevel=3,
            )
            gains, offsets = np.ones(c), np.zeros(c)
        gains = np.asarray(gains, np.float64) * 1e-3
        offsets = np.asarray(offsets, np.float64) * 1e-3
        self._gains, self._offsets = gains, offsets
        scale: np.ndarray | float
        off: np.ndarray | float
        if self._convert:
            scale, off = 1.0, 0.0
        else:
            scale = gains if np.ptp(gains) else float(gains[0])
            off = offsets if np.ptp(offsets) else float(offsets[0])
        self.data_attrs = {
            "units": "mV",
            "scale": scale,
            "offset": off,
            "sampling_rate_hz": float(recording.get_sampling_frequency()),
        }
        self.root_attrs = {
            "format": "cnea",
            "format_version": 1,
            "source_format": f"spikeinterface {name}",
            "channel_ids": ";".join(str(i) for i in self.channel_ids),
        }
        if n_seg > 1:
            self.root_attrs["segment"] = seg
            self.root_attrs["series_note"] = f"segment {seg} of {n_seg}"
        t0 = None
        try:
            if recording.has_time_vector(segment_index=seg):
                t0 = float(recording.get_times(segment_index=seg)[0])
            else:
                t0 = recording.get_start_time(segment_index=seg)
        except Exception:
            t0 = None
        if t0:
            self.root_attrs["start_time_s"] = float(t0)
        self._xy = None
        self.geometry_source = None
        try:
            loc = np.asarray(recording.get_channel_locations(), np.float64)
        except Exception:
            loc = None
        if loc is not None and loc.ndim == 2 and loc.shape[0] == c and loc.shape[1] >= 2:
            self._xy = (loc[:, 0], loc[:, 1])
            self.geometry_source = "SpikeInterface probe contact positions"

    def read(self, t0, t1, c0=0, c1=None):
        n, c = self.shape
        t0, t1, _ = slice(t0, t1).indices(n)
        c0, c1, _ = slice(c0, c1).indices(c)
        ids = None if (c0, c1) == (0, c) else self.channel_ids[c0:c1]
        try:
            x = self.rec.get_traces(
                segment_index=self.segment, start_frame=t0, end_frame=max(t0, t1), channel_ids=ids
            )
        except Exception as exc:
            raise RecordingError(
                f"cannot read samples {t0}:{t1} through SpikeInterface ({type(exc).__name__}: {exc})",
                self.path,
            ) from None
        x = np.asarray(x)
        if self._convert:
            x = x.astype(np.float32) * self._gains[c0:c1].astype(np.float32) + self._offsets[c0:c1].astype(
                np.float32
            )
        return x

    def optional(self, name):
        if self._xy is None:
            return None
        return {"channels/x_um": self._xy[0], "channels/y_um": self._xy[1]}.get(name)

    def nbytes_on_disk(self) -> int:
        if self.path.exists():
            return super().nbytes_on_disk()
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize

    def fingerprint(self) -> str:
        """Sampled SHA-256 of the recording's metadata and 16 evenly spread blocks of samples
        (a file on disk is fingerprinted as a file instead, see :mod:`connectome.io.checksum`)."""
        if self.path.exists():
            from .checksum import file_fingerprint

            return file_fingerprint(self.path)
        h = hashlib.sha256()
        h.update(repr((self.shape, np.dtype(self.dtype).str, self.data_attrs["sampling_rate_hz"])).encode())
        h.update(self._gains.tobytes() + self._offsets.tobytes())
        if self._xy is not None:
            h.update(np.ascontiguousarray(self._xy).tobytes())
        n = self.shape[0]
        for s in np.unique(np.linspace(0, max(0, n - 1024), 16).astype(np.int64)):
            h.update(np.ascontiguousarray(self.read(int(s), int(s) + 1024)).tobytes())
        return "sampled-sha256:" + h.hexdigest()
