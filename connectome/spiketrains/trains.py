"""``SpikeTrains``: a sorted spike table (every spike's time and unit), validated once.

The data object of spike-train mode, built by the readers
(:mod:`connectome.spiketrains.readers`) from files or sortings, or directly
from arrays with :meth:`SpikeTrains.from_arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import RecordingError


@dataclass
class SpikeTrains:
    """Spike times of ``n_units`` sorted units.

    Attributes
    ----------
    times_s : float64 (S,)
        Every spike time (s), ascending.
    unit_index : int32 (S,)
        The unit (0..n_units-1) of each spike.
    unit_ids : int64 (n_units,)
        Each unit's id as the source names it (ascending); becomes ``neuron_id``.
    x_um, y_um : float64 (n_units,)
        Unit positions (NaN where unknown).
    duration_s : float
        Recording length (the source's, or the last spike time).
    source : str
        Where the spikes came from (file path or object description).
    """

    times_s: np.ndarray
    unit_index: np.ndarray
    unit_ids: np.ndarray
    x_um: np.ndarray
    y_um: np.ndarray
    duration_s: float
    source: str
    meta: dict = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_spikes(self) -> int:
        return len(self.times_s)

    def counts(self) -> np.ndarray:
        return np.bincount(self.unit_index, minlength=self.n_units).astype(np.int64)

    def spikes_of(self, k: int) -> np.ndarray:
        """Spike times (s) of the unit at index ``k``."""
        return self.times_s[self.unit_index == k]

    @classmethod
    def from_arrays(
        cls,
        times_s,
        unit_id,
        *,
        units=None,
        x_um=None,
        y_um=None,
        duration_s=None,
        source="<arrays>",
        check_order=True,
    ) -> "SpikeTrains":
        """Validate a spike table and build the object.

        Parameters
        ----------
        times_s, unit_id : array-like (S,)
            Spike times (s, ≥ 0) and their units (integers). Each unit's times
            must appear in increasing order (``check_order``; a table sorted by
            time, or grouped by unit and sorted within, both qualify).
        units : array-like, optional
            The unit table's ids: every spike's unit must be in it and every
            unit in it must have spikes.
        x_um, y_um : array-like, optional
            Positions, one per entry of ``units`` (or of the sorted unique ids).
        duration_s : float, optional
            Recording length; default the last spike time.

        Raises
        ------
        RecordingError
            One line naming ``source`` and the problem: non-finite, negative,
            unsorted or duplicate times, a unit without spikes, a unit table
            that disagrees with the spike table.
        """
        src = source
        t = np.asarray(times_s)
        u = np.asarray(unit_id)
        if t.ndim != 1 or u.ndim != 1:
            raise RecordingError(
                f"spike times and unit ids must be one-dimensional (got shapes {t.shape} and {u.shape})", src
            )
        if t.size != u.size:
            raise RecordingError(
                f"{t.size} spike times but {u.size} unit ids: the spike table's columns "
                "must have one entry per spike",
                src,
            )
        if t.dtype.kind not in "iuf":
            raise RecordingError(f"spike times must be numbers (got dtype {t.dtype})", src)
        if u.dtype.kind not in "iu" and not (u.dtype.kind == "f" and np.all(u == np.round(u))):
            raise RecordingError(f"unit ids must be integers (got dtype {u.dtype})", src)
        t = t.astype(np.float64, copy=False)
        u = u.astype(np.int64, copy=False)
        bad = ~np.isfinite(t)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise RecordingError(
                f"{int(bad.sum())} spike time(s) are not finite (NaN or inf; first at "
                f"index {i}, unit {int(u[i])})",
                src,
            )
        if t.size and t.min() < 0:
            i = int(np.argmin(t))
            raise RecordingError(
                f"negative spike time {t[i]:g} s (index {i}, unit {int(u[i])}): times are "
                "seconds from the start of the recording",
                src,
            )
        # per unit, in the file's order: strictly increasing
        order = np.argsort(u, kind="stable")
        us, ts = u[order], t[order]
        same = us[1:] == us[:-1]
        dt = np.diff(ts)
        if check_order and np.any(same & (dt < 0)):
            i = int(np.flatnonzero(same & (dt < 0))[0])
            raise RecordingError(
                f"spike times of unit {int(us[i])} are not in increasing order "
                f"({ts[i]:.6f} s then {ts[i + 1]:.6f} s)",
                src,
            )
        if not check_order:
            o2 = np.lexsort((t, u))
            us, ts = u[o2], t[o2]
            same, dt = us[1:] == us[:-1], np.diff(ts)
        dup = same & (dt == 0)
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise RecordingError(
                f"{int(dup.sum())} duplicate spike(s): unit {int(us[i])} has two spikes at {ts[i]:.6f} s", src
            )
        ids = np.unique(u)
        if units is not None:
            table = np.asarray(units)
            if table.ndim != 1 or (table.dtype.kind not in "iu" and table.size):
                raise RecordingError("the unit table's ids must be a one-dimensional array of integers", src)
            table = table.astype(np.int64)
            if np.unique(table).size != table.size:
                raise RecordingError("the unit table lists a unit id twice", src)
            extra = np.setdiff1d(ids, table)
            if extra.size:
                raise RecordingError(
                    f"{int(np.isin(u, extra).sum())} spike(s) belong to unit id(s) missing "
                    f"from the unit table (first: {int(extra[0])})",
                    src,
                )
            empty = np.setdiff1d(table, ids)
            if empty.size:
                raise RecordingError(
                    f"unit {int(empty[0])} has no spikes ({empty.size} unit(s) of the unit table have none)",
                    src,
                )
            pos_ids = table
        else:
            pos_ids = ids
        xs = _positions(x_um, pos_ids, "x_um", src)
        ys = _positions(y_um, pos_ids, "y_um", src)
        o = np.argsort(pos_ids, kind="stable")
        xs, ys = xs[o], ys[o]
        index = np.searchsorted(ids, u).astype(np.int32)
        torder = np.argsort(t, kind="stable")
        dur = float(t.max()) if t.size else 0.0
        if duration_s is not None:
            if not (np.isfinite(duration_s) and duration_s > 0):
                raise RecordingError(f"recording duration {duration_s!r} s must be a positive number", src)
            if t.size and t.max() > duration_s:
                raise RecordingError(
                    f"a spike at {t.max():.6f} s lies after the end of the recording "
                    f"({float(duration_s):g} s)",
                    src,
                )
            dur = float(duration_s)
        return cls(t[torder], index[torder], ids, xs, ys, dur, str(src))


def _positions(v, ids, name, src) -> np.ndarray:
    if v is None:
        return np.full(len(ids), np.nan)
    a = np.asarray(v, dtype=np.float64).ravel()
    if a.size != len(ids):
        raise RecordingError(f"{name} has {a.size} entries but the unit table has {len(ids)} units", src)
    return a
