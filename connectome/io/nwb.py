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
from .stores import Store, _attrs_to_dict, h5_missing_region, h5_size_problem, read_2d

_UNIT_TO_MV = {
    "volts": 1e3,
    "volt": 1e3,
    "v": 1e3,
    "millivolts": 1.0,
    "mv": 1.0,
    "microvolts": 1e-3,
    "uv": 1e-3,
}


def is_nwb(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            return "nwb_version" in fh.attrs or ("acquisition" in fh and "general" in fh)
    except OSError:
        return False


def _s(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def _num(value, what: str, path) -> float:
    try:
        v = float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        raise RecordingError(f"{what} is not a number ({value!r})", path) from None
    if not np.isfinite(v):
        raise RecordingError(f"{what} is not finite ({v})", path)
    return v


class NWBStore(Store):
    """The first acquisition ``ElectricalSeries``, or equal-length 1-D
    ``CurrentClampSeries`` stacked as channels (see the module docstring).

    Every malformed object is a :class:`RecordingError` naming its NWB path
    (``/acquisition/<name>/…``).
    """

    kind = "nwb"

    def __init__(self, path: Path):

        self.path = Path(path)
        self._fh = None
        self._reader = None
        try:
            fh = self._file()
        except OSError as exc:
            raise RecordingError(f"cannot open as HDF5 ({str(exc).splitlines()[0]})", path) from None
        try:
            self._parse(fh)
        except RecordingError:
            self.close()
            raise
        except Exception as exc:  # an object h5py cannot read (damaged header, odd attribute type)
            self.close()
            raise RecordingError(
                f"malformed NWB file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                path,
            ) from None
        except BaseException:
            self.close()
            raise

    def close(self):
        self._reader = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _parse(self, fh):
        import h5py

        path = self.path
        acq = fh.get("acquisition")
        if not isinstance(acq, h5py.Group):
            raise RecordingError("NWB file has no /acquisition group", path)
        es, cc = [], []
        for name in sorted(acq):
            node = acq.get(name)
            if node is None:  # a dangling link
                raise RecordingError(f"NWB object /acquisition/{name} is a broken link", path)
            t = _s(node.attrs.get("neurodata_type", ""))
            if t not in ("ElectricalSeries", "CurrentClampSeries"):
                continue
            where = f"/acquisition/{name}"
            if not isinstance(node, h5py.Group):
                raise RecordingError(
                    f"NWB {t} {where} is a dataset; a TimeSeries must be a group holding 'data'", path
                )
            data = node.get("data")
            if not isinstance(data, h5py.Dataset):
                raise RecordingError(f"NWB {t} {where} has no 'data' dataset", path)
            (es if t == "ElectricalSeries" else cc).append(name)
        if es:
            self.series = [es[0]]
            ds = acq[es[0]]["data"]
            if ds.ndim != 2:
                raise RecordingError(
                    f"NWB ElectricalSeries /acquisition/{es[0]}/data has rank {ds.ndim} "
                    f"(shape {ds.shape}); expected 2: time × channels",
                    path,
                )
            self.shape = tuple(ds.shape)
            self.chunks = ds.chunks
        elif cc:
            for n in cc:
                d = acq[n]["data"]
                if d.ndim != 1:
                    raise RecordingError(
                        f"NWB CurrentClampSeries /acquisition/{n}/data has rank {d.ndim} "
                        f"(shape {d.shape}); expected 1-D (one cell per series)",
                        path,
                    )
            lengths = {acq[n]["data"].shape[0] for n in cc}
            if len(lengths) != 1:
                raise RecordingError(
                    "CurrentClampSeries of different lengths cannot be stacked as channels "
                    f"(lengths {sorted(lengths)})",
                    path,
                )
            dtypes = {acq[n]["data"].dtype for n in cc}
            if len(dtypes) != 1:
                odd = next(n for n in cc if acq[n]["data"].dtype != acq[cc[0]]["data"].dtype)
                raise RecordingError(
                    "CurrentClampSeries of different data types cannot be stacked as channels "
                    f"(/acquisition/{odd}/data is {acq[odd]['data'].dtype}, "
                    f"/acquisition/{cc[0]}/data is {acq[cc[0]]['data'].dtype})",
                    path,
                )
            self.series = cc
            self.shape = (lengths.pop(), len(cc))
            self.chunks = None
        else:
            raise RecordingError(
                "NWB file has no ElectricalSeries or CurrentClampSeries in /acquisition", path
            )
        first = acq[self.series[0]]
        where = f"/acquisition/{self.series[0]}"
        ds = first["data"]
        self.dtype = ds.dtype
        unit = str(_s(ds.attrs.get("unit", "volts"))).lower()
        if unit not in _UNIT_TO_MV:
            raise RecordingError(f"unsupported NWB unit {unit!r} of {where}/data", path)
        conv = _num(ds.attrs.get("conversion", 1.0), f"{where}/data@conversion", path) * _UNIT_TO_MV[unit]
        off = _num(ds.attrs.get("offset", 0.0), f"{where}/data@offset", path) * _UNIT_TO_MV[unit]
        scale = np.full(self.shape[1], conv)
        if len(self.series) == 1 and "channel_conversion" in first:
            cv = first["channel_conversion"]
            if not isinstance(cv, h5py.Dataset) or cv.ndim != 1 or cv.shape[0] != self.shape[1]:
                n_cv = cv.shape if isinstance(cv, h5py.Dataset) else "a group"
                raise RecordingError(
                    f"NWB {where}/channel_conversion has shape {n_cv} for {self.shape[1]} "
                    "channels (one factor per channel expected)",
                    path,
                )
            try:
                cvv = np.asarray(cv[()], dtype=np.float64)
            except (TypeError, ValueError):
                raise RecordingError(f"NWB {where}/channel_conversion is not numeric", path) from None
            scale = scale * cvv
        elif len(self.series) > 1:
            scale = np.array(
                [
                    _num(
                        acq[n]["data"].attrs.get("conversion", 1.0), f"/acquisition/{n}/data@conversion", path
                    )
                    * _UNIT_TO_MV[unit]
                    for n in self.series
                ]
            )
        rate = None
        self.rate_source = None
        if "starting_time" in first:
            r = first["starting_time"].attrs.get("rate")
            if r is not None:
                rate = _num(r, f"{where}/starting_time@rate", path)
                self.rate_source = f"{where}/starting_time@rate"
        elif "timestamps" in first:
            tsd = first["timestamps"]
            if not isinstance(tsd, h5py.Dataset) or tsd.ndim != 1:
                raise RecordingError(f"NWB {where}/timestamps is not a 1-D dataset", path)
            try:
                ts = np.asarray(tsd[: min(1001, tsd.shape[0])], dtype=np.float64)
            except (TypeError, ValueError):
                raise RecordingError(f"NWB {where}/timestamps is not numeric", path) from None
            if ts.size > 1:
                d = np.diff(ts)
                if not np.all(np.isfinite(d)) or np.any(d <= 0):
                    raise RecordingError(
                        f"NWB {where}/timestamps do not strictly increase "
                        "(constant, repeated or non-finite times): no sampling rate",
                        path,
                    )
                rate = 1.0 / float(np.median(d))
                self.rate_source = f"{where}/timestamps"
        self.root_attrs = {
            "format": "cnea",
            "format_version": 1,
            "source_format": "nwb",
            **{
                k: v for k, v in _attrs_to_dict(fh.attrs).items() if k in ("session_start_time", "identifier")
            },
        }
        self.data_attrs = {"units": "mV", "scale": scale if np.ptp(scale) else float(scale[0]), "offset": off}
        if rate is not None:
            self.data_attrs["sampling_rate_hz"] = float(rate)
        self._geometry = self._electrodes(fh, first, where)

    def _electrodes(self, fh, first, where):
        """Electrode x, y (µm) of the series' channels from the electrodes table."""
        import h5py

        table = fh.get("general/extracellular_ephys/electrodes")
        self.geometry_source = None
        if table is None or len(self.series) != 1 or "electrodes" not in first:
            return {}
        ref = first["electrodes"]
        if not isinstance(ref, h5py.Dataset) or ref.ndim != 1:
            raise RecordingError(f"NWB {where}/electrodes is not a 1-D index dataset", self.path)
        try:
            idx = np.asarray(ref[()])
        except Exception as exc:
            raise RecordingError(f"NWB {where}/electrodes cannot be read ({exc})", self.path) from None
        if idx.dtype.kind not in "iu":
            raise RecordingError(
                f"NWB {where}/electrodes holds {idx.dtype} values, expected row indices", self.path
            )
        if idx.shape[0] != self.shape[1]:
            if idx.shape[0] == self.shape[0] and self.shape[0] != self.shape[1]:
                raise RecordingError(
                    f"NWB {where}/data is {self.shape[0]} × {self.shape[1]} but {where}/electrodes has "
                    f"{idx.shape[0]} entries: the data look channels × time; NWB data are time × channels",
                    self.path,
                )
            raise RecordingError(
                f"NWB {where}/electrodes has {idx.shape[0]} entries but {where}/data has "
                f"{self.shape[1]} channels",
                self.path,
            )
        out = {}
        cols = [c for c in ("x", "y") if c in table] or [c for c in ("rel_x", "rel_y") if c in table]
        for col in cols:
            colds = table[col]
            if not isinstance(colds, h5py.Dataset) or colds.ndim != 1:
                raise RecordingError(
                    f"NWB electrodes column /general/extracellular_ephys/electrodes/{col} "
                    "is not a 1-D dataset",
                    self.path,
                )
            n_rows = colds.shape[0]
            bad = (idx < 0) | (idx >= n_rows)
            if np.any(bad):
                k = int(np.flatnonzero(bad)[0])
                raise RecordingError(
                    f"NWB {where}/electrodes[{k}] = {int(idx[k])} is out of range: the electrodes "
                    f"table has {n_rows} rows",
                    self.path,
                )
            try:
                out[col.removeprefix("rel_")] = np.asarray(colds[()], dtype=np.float64)[idx]
            except (TypeError, ValueError):
                raise RecordingError(f"NWB electrodes column {col} is not numeric", self.path) from None
        if len(out) == 2:
            self.geometry_source = "NWB electrodes table " + ", ".join(cols)
        return out if len(out) == 2 else {}

    def missing_region(self):
        acq = self._file()["acquisition"]
        for n in self.series:
            r = h5_missing_region(acq[n]["data"])
            if r is not None:
                if len(self.series) > 1:  # one column per series
                    k = self.series.index(n)
                    r = (r[0], r[1], k, k + 1, r[4], r[5])
                return r
        return None

    def size_problem(self):
        acq = self._file()["acquisition"]
        for n in self.series:
            msg = h5_size_problem(acq[n]["data"], self.path.stat().st_size)
            if msg:
                return msg
        return None

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
