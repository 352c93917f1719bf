"""Read NWB files (HDF5 back-end) without pynwb.

Supported: an acquisition ``ElectricalSeries`` (time × channels, volts, with
``conversion``/``offset`` and optional ``channel_conversion``) whose electrodes
table gives x/y geometry; or several 1-D ``CurrentClampSeries`` of equal length,
stacked as channels. Values are converted to mV. See NWB core schema 2.7
(``TimeSeries``: value = data × conversion + offset, in ``unit``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .stores import Store, _attrs_to_dict, read_2d

_UNIT_TO_MV = {"volts": 1e3, "volt": 1e3, "v": 1e3, "millivolts": 1.0, "mv": 1.0, "microvolts": 1e-3, "uv": 1e-3}


def is_nwb(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            return "nwb_version" in fh.attrs or ("acquisition" in fh and "general" in fh)
    except OSError:
        return False


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


class NWBStore(Store):
    kind = "nwb"

    def __init__(self, path: Path):
        import h5py

        self.path = Path(path)
        self._fh = None
        self._reader = None
        fh = self._file()
        acq = fh.get("acquisition")
        if acq is None:
            raise RecordingError("NWB file has no /acquisition group", path)
        es, cc = [], []
        for name in sorted(acq):
            node = acq[name]
            t = _s(node.attrs.get("neurodata_type", ""))
            if t == "ElectricalSeries":
                es.append(name)
            elif t == "CurrentClampSeries":
                cc.append(name)
        if es:
            self.series = [es[0]]
            ds = acq[es[0]]["data"]
            if ds.ndim != 2:
                raise RecordingError(f"ElectricalSeries {es[0]} data has rank {ds.ndim}, expected 2", path)
            self.shape = tuple(ds.shape)
            self.chunks = ds.chunks
        elif cc:
            lengths = {acq[n]["data"].shape[0] for n in cc}
            if len(lengths) != 1:
                raise RecordingError("CurrentClampSeries of different lengths cannot be stacked as channels", path)
            self.series = cc
            self.shape = (lengths.pop(), len(cc))
            self.chunks = None
        else:
            raise RecordingError("NWB file has no ElectricalSeries or CurrentClampSeries in /acquisition", path)
        first = acq[self.series[0]]
        ds = first["data"]
        self.dtype = ds.dtype
        unit = str(_s(ds.attrs.get("unit", "volts"))).lower()
        if unit not in _UNIT_TO_MV:
            raise RecordingError(f"unsupported NWB unit {unit!r}", path)
        conv = float(ds.attrs.get("conversion", 1.0)) * _UNIT_TO_MV[unit]
        off = float(ds.attrs.get("offset", 0.0)) * _UNIT_TO_MV[unit]
        scale = np.full(self.shape[1], conv)
        if len(self.series) == 1 and "channel_conversion" in first:
            scale = scale * first["channel_conversion"][()]
        elif len(self.series) > 1:
            scale = np.array([float(acq[n]["data"].attrs.get("conversion", 1.0)) * _UNIT_TO_MV[unit] for n in self.series])
        rate = None
        if "starting_time" in first:
            rate = first["starting_time"].attrs.get("rate")
        elif "timestamps" in first:
            ts = first["timestamps"][: min(1001, first["timestamps"].shape[0])]
            if ts.size > 1:
                rate = 1.0 / float(np.median(np.diff(ts)))
        self.root_attrs = {"format": "cnea", "format_version": 1, "source_format": "nwb",
                           **{k: v for k, v in _attrs_to_dict(fh.attrs).items() if k in ("session_start_time", "identifier")}}
        self.data_attrs = {"units": "mV", "scale": scale if np.ptp(scale) else float(scale[0]), "offset": off}
        if rate is not None:
            self.data_attrs["sampling_rate_hz"] = float(rate)
        self._geometry = self._electrodes(fh, first)

    def _electrodes(self, fh, first):
        table = fh.get("general/extracellular_ephys/electrodes")
        if table is None or len(self.series) != 1 or "electrodes" not in first:
            return {}
        idx = first["electrodes"][()]
        out = {}
        for col in ("x", "y", "rel_x", "rel_y"):
            if col in table:
                out[col] = np.asarray(table[col][()])[idx]
        return out

    def _file(self):
        import h5py

        if self._fh is None:
            self._fh = h5py.File(self.path, "r")
        return self._fh

    def __getstate__(self):
        s = self.__dict__.copy()
        s["_fh"] = None
        s["_reader"] = None
        return s

    def read(self, t0, t1, c0=0, c1=None):
        acq = self._file()["acquisition"]
        try:
            if len(self.series) == 1:
                return read_2d(self, acq[self.series[0]]["data"], t0, t1, c0, c1)
            names = self.series[c0:c1]
            return np.stack([acq[n]["data"][t0:t1] for n in names], axis=1)
        except Exception as exc:
            raise RecordingError(f"cannot read samples {t0}:{t1} ({exc})", self.path) from None

    def optional(self, name):
        g = self._geometry
        key = {"channels/x_um": "x", "channels/y_um": "y"}.get(name)
        if key and key in g:
            return g[key]
        return None
