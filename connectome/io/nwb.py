"""Read NWB files (HDF5 back-end) without pynwb, lazily and in chunks.

What is read (NWB core schema 2.x; Rübel et al. 2022, eLife 11:e78362):

- **Extracellular**: an ``ElectricalSeries`` (time × channels) anywhere under
  ``/acquisition`` or ``/processing``. With several, the one with the highest
  sampling rate is chosen (the raw broadband signal rather than an LFP
  derived from it; ties: ``/acquisition`` first, then more channels, then the
  name) unless ``series`` names one. Electrode positions come from the
  electrodes table: ``rel_x``/``rel_y`` (the position within the electrode
  group, where array geometry lives) when they give every channel its own
  site, else ``x``/``y``; both are µm in the schema.
- **Intracellular**: ``CurrentClampSeries`` (and ``IZeroClampSeries``). Series
  of the same intracellular electrode are sweeps, i.e. time segments of one
  channel; electrodes are channels. Sweeps of all electrodes must be
  simultaneous (same start and length) to stack.
- Values are ``data × conversion (× channel_conversion) + offset`` in the
  series' unit, converted to mV; each series keeps its own conversion and
  offset.
- **Time**: ``starting_time`` + ``rate``, or ``timestamps``. A recording with
  gaps (timestamps that jump, or sweeps that do not follow each other) has
  several *segments*; it is refused unless ``segment`` picks one — a gap is
  never spliced into a continuous trace.
- Session metadata (``identifier``, ``session_start_time``,
  ``session_description``: datasets at the file's root) become root
  attributes of the recording.

NWB files stored with hdmf-zarr are refused by :mod:`.dispatch` with a clear
message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import RecordingError
from .stores import Store, h5_missing_region, h5_size_problem, read_2d

_UNIT_TO_MV = {
    "volts": 1e3,
    "volt": 1e3,
    "v": 1e3,
    "millivolts": 1.0,
    "mv": 1.0,
    "microvolts": 1e-3,
    "uv": 1e-3,
}
_ES_TYPES = ("ElectricalSeries",)
_CC_TYPES = ("CurrentClampSeries", "IZeroClampSeries")
#: a time step larger than this many sampling periods is a gap between segments
GAP_PERIODS = 1.5
#: session fields (root datasets in NWB) copied into the recording's attributes
SESSION_FIELDS = ("identifier", "session_start_time", "session_description")
_TS_BLOCK = 1 << 20


def is_nwb(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            return "nwb_version" in fh.attrs or ("acquisition" in fh and "general" in fh)
    except OSError:
        return False


def _s(v):
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.reshape(()).item()
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def _num(value, what: str, path) -> float:
    try:
        v = float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        raise RecordingError(f"{what} is not a number ({value!r})", path) from None
    if not np.isfinite(v):
        raise RecordingError(f"{what} is not finite ({v})", path)
    return v


@dataclass
class _Series:
    """One NWB TimeSeries: where it is, its timing, its scaling to mV."""

    where: str  # /acquisition/name
    name: str
    kind: str  # neurodata_type
    n: int
    n_channels: int
    rate: float | None
    start_s: float
    conv_mv: float  # conversion × unit factor
    off_mv: float
    sweep: int | None = None
    electrode: str | None = None
    #: sample index where each continuous run of the timestamps starts (gaps split runs)
    runs: list = field(default_factory=lambda: [0])


def _rate_and_runs(node, where: str, n: int, path):
    """(rate Hz or None, start s, run starts) from ``starting_time``@rate or ``timestamps``."""
    import h5py

    if "starting_time" in node:
        st = node["starting_time"]
        r = st.attrs.get("rate")
        start = _num(st[()], f"{where}/starting_time", path) if isinstance(st, h5py.Dataset) else 0.0
        rate = _num(r, f"{where}/starting_time@rate", path) if r is not None else None
        return rate, start, [0]
    if "timestamps" not in node:
        return None, 0.0, [0]
    tsd = node["timestamps"]
    if not isinstance(tsd, h5py.Dataset) or tsd.ndim != 1:
        raise RecordingError(f"NWB {where}/timestamps is not a 1-D dataset", path)
    m = tsd.shape[0]
    if m < 2:
        return None, 0.0, [0]
    try:
        head = np.asarray(tsd[: min(1001, m)], dtype=np.float64)
    except (TypeError, ValueError):
        raise RecordingError(f"NWB {where}/timestamps is not numeric", path) from None
    d = np.diff(head)
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise RecordingError(
            f"NWB {where}/timestamps do not strictly increase "
            "(constant, repeated or non-finite times): no sampling rate",
            path,
        )
    dt = float(np.median(d))
    if not (np.isfinite(dt) and dt > 0 and np.isfinite(1.0 / dt)):
        raise RecordingError(f"NWB {where}/timestamps give no finite sampling rate", path)
    if m != n:
        raise RecordingError(f"NWB {where}/timestamps has {m} entries but {where}/data has {n} samples", path)
    # scan every timestamp, a block at a time (bounded memory), for gaps and reversals
    runs = [0]
    prev = None
    for s in range(0, m, _TS_BLOCK):
        blk = np.asarray(tsd[s : s + _TS_BLOCK], dtype=np.float64)
        if prev is not None:
            blk_d = np.diff(np.concatenate([[prev], blk]))
            base = s - 1
        else:
            blk_d = np.diff(blk)
            base = s
        if not np.all(np.isfinite(blk_d)) or np.any(blk_d <= 0):
            k = base + int(np.flatnonzero(~(np.isfinite(blk_d) & (blk_d > 0)))[0])
            raise RecordingError(
                f"NWB {where}/timestamps do not strictly increase at sample {k + 1} "
                "(repeated, decreasing or non-finite time)",
                path,
            )
        runs += [base + int(k) + 1 for k in np.flatnonzero(blk_d > GAP_PERIODS * dt)]
        prev = blk[-1]
    return 1.0 / dt, float(head[0]), runs


class NWBStore(Store):
    """An NWB file's extracellular or intracellular voltage series (see the module docstring).

    Parameters
    ----------
    path : path of the ``.nwb`` (HDF5) file
    series : str, optional
        Name (or path, e.g. ``acquisition/ElectricalSeriesRaw``) of the series
        to read; default: the highest-rate ``ElectricalSeries``, or every
        ``CurrentClampSeries``.
    segment : int, optional
        Which continuous segment (0-based) of a recording with gaps to read.

    Every malformed object is a :class:`RecordingError` naming its NWB path
    (``/acquisition/<name>/…``).
    """

    kind = "nwb"

    def __init__(self, path: Path, series: str | None = None, segment: int | None = None):
        self.path = Path(path)
        self._fh = None
        self._reader = None
        self.series_request = series
        self.segment_request = segment
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

    # ------------------------------------------------------------------ parse
    def _scan(self, fh):
        """Every voltage TimeSeries group under /acquisition (and ElectricalSeries under /processing)."""
        import h5py

        path = self.path
        acq = fh.get("acquisition")
        if not isinstance(acq, h5py.Group):
            raise RecordingError("NWB file has no /acquisition group", path)
        found = []  # (where, neurodata_type)

        def visit(group, prefix, depth, types):
            for name in sorted(group):
                node = group.get(name)
                where = f"{prefix}/{name}"
                if node is None:  # a dangling link
                    raise RecordingError(f"NWB object {where} is a broken link", path)
                t = _s(node.attrs.get("neurodata_type", ""))
                if t in types:
                    if not isinstance(node, h5py.Group):
                        raise RecordingError(
                            f"NWB {t} {where} is a dataset; a TimeSeries must be a group holding 'data'", path
                        )
                    if not isinstance(node.get("data"), h5py.Dataset):
                        raise RecordingError(f"NWB {t} {where} has no 'data' dataset", path)
                    found.append((where, t))
                elif isinstance(node, h5py.Group) and depth < 3:
                    visit(node, where, depth + 1, types)

        visit(acq, "/acquisition", 0, _ES_TYPES + _CC_TYPES)
        proc = fh.get("processing")
        if isinstance(proc, h5py.Group):
            visit(proc, "/processing", 0, _ES_TYPES)
        return found

    def _series(self, fh, where: str, kind: str) -> _Series:
        node = fh[where]
        ds = node["data"]
        unit = str(_s(ds.attrs.get("unit", "volts"))).lower()
        if unit not in _UNIT_TO_MV:
            raise RecordingError(f"unsupported NWB unit {unit!r} of {where}/data", self.path)
        conv = _num(ds.attrs.get("conversion", 1.0), f"{where}/data@conversion", self.path)
        off = _num(ds.attrs.get("offset", 0.0), f"{where}/data@offset", self.path)
        n = int(ds.shape[0]) if ds.ndim else 0
        rate, start, runs = _rate_and_runs(node, where, n, self.path)
        sweep = node.attrs.get("sweep_number")
        return _Series(
            where=where,
            name=where.rsplit("/", 1)[1],
            kind=kind,
            n=n,
            n_channels=int(ds.shape[1]) if ds.ndim == 2 else 1,
            rate=rate,
            start_s=start,
            conv_mv=conv * _UNIT_TO_MV[unit],
            off_mv=off * _UNIT_TO_MV[unit],
            sweep=int(_s(sweep)) if sweep is not None else None,
            runs=runs,
        )

    def _match(self, found):
        """The entries of ``found`` the ``series`` option names (by name or path)."""
        want = self.series_request.strip("/")
        hits = [f for f in found if f[0].strip("/") == want or f[0].rsplit("/", 1)[1] == want]
        if not hits:
            names = ", ".join(f[0].rsplit("/", 1)[1] for f in found) or "none"
            raise RecordingError(
                f"no voltage series named {self.series_request!r} in the NWB file (series there: {names})",
                self.path,
            )
        if len(hits) > 1:
            raise RecordingError(
                f"series name {self.series_request!r} is ambiguous: "
                f"{', '.join(h[0] for h in hits)}; give the path",
                self.path,
            )
        return hits

    def _parse(self, fh):
        path = self.path
        found = self._scan(fh)
        if self.series_request:
            found = self._match(found)
        es = [f for f in found if f[1] in _ES_TYPES]
        cc = [f for f in found if f[1] in _CC_TYPES]
        if not es and not cc:
            raise RecordingError(
                "NWB file has no ElectricalSeries or CurrentClampSeries in /acquisition", path
            )
        self.root_attrs = {"format": "cnea", "format_version": 1, "source_format": "nwb"}
        nv = fh.attrs.get("nwb_version")
        if nv is not None:
            self.root_attrs["nwb_version"] = str(_s(nv))
        for k in SESSION_FIELDS:
            v = fh.get(k)
            if v is None:
                v = fh.attrs.get(k)  # files written by hand sometimes use attributes
            elif hasattr(v, "shape") and v.shape == ():
                v = v[()]
            else:
                continue
            if v is not None:
                self.root_attrs[k] = str(_s(v))
        if es:
            self._parse_es(fh, es)
        else:
            self._parse_cc(fh, cc)
        self.root_attrs["series"] = self.series_path
        self.root_attrs["series_note"] = self.series_note
        if self.segment_request is not None:
            self.root_attrs["segment"] = int(self.segment_request)
        self.data_attrs = {"units": "mV", "scale": self._scale, "offset": self._offset}
        if self.rate is not None:
            self.data_attrs["sampling_rate_hz"] = float(self.rate)
        if self.start_s:
            self.root_attrs["start_time_s"] = float(self.start_s)

    def _segments(self, runs, n, rate, where, describe):
        """``(t0, t1)`` of the chosen segment; refuse several unless ``segment`` picks one."""
        bounds = list(zip(runs, list(runs[1:]) + [n]))
        k = self.segment_request
        if len(bounds) == 1 and k in (None, 0):
            return bounds[0]
        if k is None:
            raise RecordingError(
                f"NWB {where} has {len(bounds)} segments separated by gaps ({describe}); a gap cannot be "
                f"read as one continuous trace: choose one with segment = 0 … {len(bounds) - 1}",
                self.path,
            )
        if not 0 <= int(k) < len(bounds):
            raise RecordingError(
                f"segment {k} does not exist: NWB {where} has {len(bounds)} segment(s) "
                f"(0 … {len(bounds) - 1})",
                self.path,
            )
        return bounds[int(k)]

    def _parse_es(self, fh, es):
        import h5py

        path = self.path
        cands = [self._series(fh, w, t) for w, t in es]
        if len(cands) > 1:
            order = sorted(
                cands,
                key=lambda s: (
                    -(s.rate or 0.0),
                    not s.where.startswith("/acquisition"),
                    -s.n_channels,
                    s.where,
                ),
            )
            s = order[0]
            others = "; ".join(f"{o.name} {o.rate or 0:g} Hz" for o in order[1:])
            self.series_note = (
                f"{s.name} ({s.rate or 0:g} Hz, {s.n_channels} channels; highest rate of "
                f"{len(cands)} ElectricalSeries, others: {others}; pick one with series=NAME)"
            )
        else:
            s = cands[0]
            self.series_note = f"{s.name} ({s.rate or 0:g} Hz, {s.n_channels} channels)"
        where = s.where
        self.series = [where]
        self.series_path = where
        ds = fh[where]["data"]
        if ds.ndim not in (1, 2):
            raise RecordingError(
                f"NWB ElectricalSeries {where}/data has rank {ds.ndim} "
                f"(shape {ds.shape}); expected 2: time × channels",
                path,
            )
        if len(s.runs) > 1:
            gaps = []
            ts = fh[where]["timestamps"]
            for r in s.runs[1:3]:
                t_prev, t_next = float(ts[r - 1]), float(ts[r])
                gaps.append(f"{t_next - t_prev:g} s after sample {r - 1} (t = {t_prev:g} s)")
            describe = "timestamps jump by " + ", ".join(gaps) + (" …" if len(s.runs) > 3 else "")
        else:
            describe = ""
        self._t0, t1 = self._segments(s.runs, s.n, s.rate, where, describe)
        if self._t0 and "timestamps" in fh[where]:
            s.start_s = float(fh[where]["timestamps"][self._t0])
        if len(s.runs) > 1:
            self.series_note += f"; segment {self.segment_request} of {len(s.runs)}"
        self.shape = (t1 - self._t0, s.n_channels)
        self.chunks = ds.chunks if ds.ndim == 2 else None
        self.dtype = ds.dtype
        self.rate, self.start_s = s.rate, s.start_s
        self._rank1 = ds.ndim == 1
        scale = np.full(s.n_channels, s.conv_mv)
        if "channel_conversion" in fh[where]:
            cv = fh[where]["channel_conversion"]
            if not isinstance(cv, h5py.Dataset) or cv.ndim != 1 or cv.shape[0] != s.n_channels:
                n_cv = cv.shape if isinstance(cv, h5py.Dataset) else "a group"
                raise RecordingError(
                    f"NWB {where}/channel_conversion has shape {n_cv} for {s.n_channels} "
                    "channels (one factor per channel expected)",
                    path,
                )
            try:
                cvv = np.asarray(cv[()], dtype=np.float64)
            except (TypeError, ValueError):
                raise RecordingError(f"NWB {where}/channel_conversion is not numeric", path) from None
            scale = scale * cvv
        self._scale = scale if np.ptp(scale) else float(scale[0])
        self._offset = s.off_mv
        self.rate_source = (
            f"{where}/starting_time@rate" if "starting_time" in fh[where] else f"{where}/timestamps"
        )
        self._geometry = self._electrodes(fh, fh[where], where, s.n_channels)

    def _parse_cc(self, fh, cc):
        import h5py

        path = self.path
        sers = []
        for w, t in cc:
            d = fh[w]["data"]
            if d.ndim != 1:
                raise RecordingError(
                    f"NWB {t} {w}/data has rank {d.ndim} (shape {d.shape}); "
                    "expected 1-D (one cell per series)",
                    path,
                )
            s = self._series(fh, w, t)
            if len(s.runs) > 1:
                raise RecordingError(f"NWB {w}/timestamps have gaps within one sweep", path)
            link = fh[w].get("electrode", getlink=True)
            if isinstance(link, h5py.SoftLink):
                s.electrode = link.path
            elif isinstance(link, h5py.ExternalLink):
                s.electrode = f"{link.filename}:{link.path}"
            elif link is not None:
                s.electrode = f"@{h5py.h5o.get_info(fh[w]['electrode'].id).addr}"
            else:
                s.electrode = w  # no electrode link: the series is its own channel
            sers.append(s)
        rates = {s.rate for s in sers}
        if len(rates) != 1:
            raise RecordingError(
                "CurrentClampSeries of different sampling rates cannot be read together "
                f"({', '.join(f'{s.name} {s.rate or 0:g} Hz' for s in sers)}); pick one with series=NAME",
                path,
            )
        dtypes = {fh[s.where]["data"].dtype for s in sers}
        if len(dtypes) != 1:
            odd = next(s for s in sers if fh[s.where]["data"].dtype != fh[sers[0].where]["data"].dtype)
            raise RecordingError(
                "CurrentClampSeries of different data types cannot be stacked as channels "
                f"({odd.where}/data is {fh[odd.where]['data'].dtype}, "
                f"{sers[0].where}/data is {fh[sers[0].where]['data'].dtype})",
                path,
            )
        rate = rates.pop()
        by_el: dict = {}
        for s in sers:
            by_el.setdefault(s.electrode, []).append(s)
        electrodes = sorted(by_el, key=lambda e: min(x.where for x in by_el[e]))
        for e in electrodes:  # sweeps in time order
            by_el[e].sort(key=lambda x: (x.start_s, x.sweep if x.sweep is not None else -1, x.where))
        counts = {len(by_el[e]) for e in electrodes}
        if len(counts) != 1:
            raise RecordingError(
                "intracellular electrodes have different numbers of sweeps ("
                + ", ".join(f"{e.rsplit('/', 1)[-1]}: {len(by_el[e])}" for e in electrodes)
                + "); read one electrode's series with series=NAME",
                path,
            )
        n_sweeps = counts.pop()
        tol = 1.0 / rate if rate else 0.0
        lengths = []
        for k in range(n_sweeps):
            row = [by_el[e][k] for e in electrodes]
            if len({s.n for s in row}) != 1:
                raise RecordingError(
                    "CurrentClampSeries of different lengths cannot be stacked as channels "
                    f"(sweep {k}: lengths {sorted({s.n for s in row})})",
                    path,
                )
            if max(s.start_s for s in row) - min(s.start_s for s in row) > tol:
                raise RecordingError(
                    f"sweep {k} of the intracellular electrodes is not simultaneous "
                    f"({', '.join(f'{s.name} starts at {s.start_s:g} s' for s in row)}); "
                    "read one electrode's series with series=NAME",
                    path,
                )
            lengths.append(row[0].n)
        # sweeps that follow each other without a gap form one segment
        runs, gaps = [0], []
        first = [by_el[electrodes[0]][k] for k in range(n_sweeps)]
        pos = 0
        for k in range(1, n_sweeps):
            pos += lengths[k - 1]
            expected = first[k - 1].start_s + lengths[k - 1] / rate if rate else None
            if expected is None or abs(first[k].start_s - expected) > tol:
                runs.append(pos)
                gap = (first[k].start_s - expected) if expected is not None else float("nan")
                gaps.append(f"{gap:g} s between sweep {k - 1} and {k}")
        total = sum(lengths)
        where = "/acquisition (CurrentClampSeries sweeps)"
        describe = ", ".join(gaps[:2]) + (" …" if len(gaps) > 2 else "")
        t0, t1 = self._segments(runs, total, rate, where, describe)
        # per channel: the pieces (series, first sample in the segment, n) covering t0:t1
        self._pieces = []
        for e in electrodes:
            pieces, pos = [], 0
            for s in by_el[e]:
                lo, hi = max(t0, pos), min(t1, pos + s.n)
                if hi > lo:
                    pieces.append((s, lo - t0, lo - pos, hi - lo))  # (series, at, from, n)
                pos += s.n
            self._pieces.append(pieces)
        self._cc = True
        self.series_path = ";".join(s.where for s in sers) if self.series_request else ""
        self.series = [s.where for e in electrodes for s in by_el[e]]
        self.shape = (t1 - t0, len(electrodes))
        self.chunks = None
        self.rate = rate
        self.start_s = self._pieces[0][0][0].start_s if self._pieces[0] else 0.0
        self.rate_source = f"{first[0].where}/starting_time@rate"
        convs = [{(p[0].conv_mv, p[0].off_mv) for p in pieces} for pieces in self._pieces]
        self._convert = any(len(c) > 1 for c in convs)  # a channel's sweeps scale differently
        raw_dtype = fh[sers[0].where]["data"].dtype
        if self._convert:
            self.dtype = np.dtype(np.float64)
            self._scale, self._offset = 1.0, 0.0
        else:
            self.dtype = raw_dtype
            sc = np.array([next(iter(c))[0] for c in convs])
            of = np.array([next(iter(c))[1] for c in convs])
            self._scale = sc if np.ptp(sc) else float(sc[0])
            self._offset = of if np.ptp(of) else float(of[0])
        n_seg = len(runs)
        self.series_note = (
            f"{len(electrodes)} intracellular electrode(s) × {n_sweeps} sweep(s) of CurrentClampSeries"
            + (f"; segment {self.segment_request} of {n_seg}" if n_seg > 1 else "")
        )
        self._geometry = {}
        self.geometry_source = None

    def _electrodes(self, fh, node, where, n_channels):
        """Electrode x, y (µm) of the series' channels from the electrodes table."""
        import h5py

        table = fh.get("general/extracellular_ephys/electrodes")
        self.geometry_source = None
        if table is None or "electrodes" not in node:
            return {}
        ref = node["electrodes"]
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
        if idx.shape[0] != n_channels:
            if idx.shape[0] == self.shape[0] and self.shape[0] != n_channels:
                raise RecordingError(
                    f"NWB {where}/data is {self.shape[0]} × {n_channels} but {where}/electrodes has "
                    f"{idx.shape[0]} entries: the data look channels × time; NWB data are time × channels",
                    self.path,
                )
            raise RecordingError(
                f"NWB {where}/electrodes has {idx.shape[0]} entries but {where}/data has "
                f"{n_channels} channels",
                self.path,
            )
        tried = []
        for pair in (("rel_x", "rel_y"), ("x", "y")):
            if not all(c in table for c in pair):
                continue
            cols = []
            for col in pair:
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
                    cols.append(np.asarray(colds[()], dtype=np.float64)[idx])
                except (TypeError, ValueError):
                    raise RecordingError(f"NWB electrodes column {col} is not numeric", self.path) from None
            x, y = cols
            ok = np.all(np.isfinite(x)) and np.all(np.isfinite(y))
            distinct = ok and len(np.unique(np.column_stack([x, y]), axis=0)) == n_channels
            tried.append((pair, x, y, ok, distinct))
            if distinct:
                self.geometry_source = f"NWB electrodes table columns {pair[0]}, {pair[1]}"
                return {"x": x, "y": y}
        if tried:
            # positions that do not give each channel its own site: let the geometry check say so
            pair, x, y, ok, _ = next((t for t in tried if t[3]), tried[0])
            self.geometry_source = f"NWB electrodes table columns {pair[0]}, {pair[1]}"
            return {"x": x, "y": y}
        return {}

    # ------------------------------------------------------------------- read
    def missing_region(self):
        fh = self._file()
        for k, n in enumerate(self.series):
            r = h5_missing_region(fh[n]["data"]) if fh[n]["data"].ndim == 2 else None
            if r is not None:
                if len(self.series) > 1:
                    r = (r[0], r[1], k, k + 1, r[4], r[5])
                return r
        return None

    def size_problem(self):
        fh = self._file()
        for n in self.series:
            msg = h5_size_problem(fh[n]["data"], self.path.stat().st_size)
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
        fh = self._file()
        n, c = self.shape
        t0, t1, _ = slice(t0, t1).indices(n)
        t1 = max(t0, t1)
        c0, c1, _ = slice(c0, c1).indices(c)
        c1 = max(c0, c1)
        try:
            if not getattr(self, "_cc", False):
                ds = fh[self.series[0]]["data"]
                if self._rank1:
                    return np.asarray(ds[self._t0 + t0 : self._t0 + t1])[:, None][:, c0:c1]
                return read_2d(self, ds, self._t0 + t0, self._t0 + t1, c0, c1)
            out = np.empty((t1 - t0, c1 - c0), self.dtype)
            for j, pieces in enumerate(self._pieces[c0:c1]):
                for s, at, frm, m in pieces:
                    lo, hi = max(t0, at), min(t1, at + m)
                    if hi <= lo:
                        continue
                    v = fh[s.where]["data"][frm + lo - at : frm + hi - at]
                    if self._convert:
                        v = np.asarray(v, np.float64) * s.conv_mv + s.off_mv
                    out[lo - t0 : hi - t0, j] = v
            return out
        except Exception as exc:
            raise RecordingError(f"cannot read samples {t0}:{t1} ({exc})", self.path) from None

    def optional(self, name):
        g = self._geometry
        key = {"channels/x_um": "x", "channels/y_um": "y"}.get(name)
        if key and key in g:
            return g[key]
        return None


def is_hdmf_zarr(path: Path) -> bool:
    """True for a directory that holds an NWB file stored with hdmf-zarr (zarr v2 or v3 layout)."""
    import json

    for meta in (".zattrs", "zarr.json"):
        f = Path(path) / meta
        if not f.is_file():
            continue
        try:
            d = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        attrs = d.get("attributes", d) if meta == "zarr.json" else d
        if isinstance(attrs, dict) and (
            "nwb_version" in attrs or attrs.get("neurodata_type") == "NWBFile" or ".specloc" in attrs
        ):
            return True
    return False
