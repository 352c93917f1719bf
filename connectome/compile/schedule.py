"""Write-pulse simulation and the programming schedule.

Pulses per cell come from a simulated write loop of the technology model
(vectorised over cells, seeded):

``program-and-verify`` (RRAM, PCM)
    cells start in the reset state ``g_min``; each pulse closes
    ``step_fraction`` of the remaining gap to ``g_target`` plus Gaussian
    write noise ``write_noise_us``; a read-verify after each pulse stops the
    cell once ``|G − g_target| < tolerance_us`` or at ``max_pulses``
    (reported as unverified).
``ispp`` (flash)
    incremental step pulse programming of a page (= a tile row): each pulse
    raises the threshold voltage by ``ispp_step_v``; a cell's programming
    speed varies by ``vt_sigma_v``; a cell locks once its Vt passes the
    level's verify voltage; the page needs as many pulses as its slowest cell.
    (``ispp_start_v`` is the first pulse's amplitude, recorded for the
    programmer; the pulse count depends only on the step and the Vt window.)
``single-pulse`` (MRAM)
    one pulse per bit; a write error (probability ``write_error_rate``) is
    caught by verify and rewritten.

Cells of one tile row are written in parallel (one word line, column-parallel
drivers): a row takes ``[reset] + max pulses × (pulse + verify) + verify``
and ``(Σ pulses [+ cells]) × pulse_energy``, the bracketed RESET pulse to
every cell of the row only where the technology has ``reset_first`` (PCM:
RESET, then partial SETs; Le Gallo & Sebastian 2020). Each schedule entry
carries its pulse train (:func:`pulse_train`: amplitudes, step, widths,
polarity, verify reads) and each cell its pulse count, so that a chip test
bench can replay the schedule (docs/formats-progmap.md). A row's power is its energy over its duration.
Rows of one tile are written one after another (a tile never does two things
at once). Tiles that share lines — the tiles of one 3D stack, which share
their vertical output lines (:mod:`.placement`) — form one *unit* and are
written one after another too, since shared column lines cannot carry two
write patterns at once. Units are spread over ``lanes`` that run in
parallel, with ``lanes = ⌊power budget / largest row power⌋`` so that the
summed power of concurrent rows never exceeds the budget; units go to lanes
longest-processing-time first (ties by unit index: deterministic).

Examples
--------
>>> import numpy as np
>>> from connectome.devices import load_technology
>>> tech = load_technology("mram")
>>> p = simulate_pulses(np.array([0, 1, 1]), levels=2, tech=tech, seed=0)
>>> p.pulses.tolist()
[0, 1, 1]
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from ..errors import TechnologyError
from .tiling import unique_sorted


@dataclass(frozen=True)
class Pulses:
    pulses: np.ndarray      # int32 per cell
    unverified: np.ndarray  # bool per cell: hit max_pulses without passing verify


def simulate_pulses(level: np.ndarray, levels: int, tech, seed: int = 0) -> Pulses:
    """Write pulses needed by each cell to reach ``level`` (0 = reset state, no pulse)."""
    level = np.asarray(level, dtype=np.int64)
    w = tech.write
    rng = np.random.default_rng([int(seed), 0x5C4ED])
    n = len(level)
    pulses = np.zeros(n, dtype=np.int32)
    unverified = np.zeros(n, dtype=bool)
    todo = np.flatnonzero(level > 0)
    if todo.size == 0:
        return Pulses(pulses, unverified)
    if w.mechanism == "program-and-verify":
        c = tech.conductance
        dg = (c.g_max_us - c.g_min_us) / (levels - 1)
        gap = level[todo] * dg          # g_target − g; the cell starts at g_min
        active = np.arange(todo.size)
        for k in range(1, w.max_pulses + 1):
            g = gap[active]
            g = g - w.step_fraction * g - rng.normal(0.0, w.write_noise_us, g.size) if w.write_noise_us > 0 \
                else g - w.step_fraction * g
            gap[active] = g
            done = np.abs(g) < w.tolerance_us
            pulses[todo[active[done]]] = k
            active = active[~done]
            if active.size == 0:
                break
        pulses[todo[active]] = w.max_pulses
        unverified[todo[active]] = True
    elif w.mechanism == "ispp":
        vt_step_level = w.vt_window_v / (levels - 1)
        target = level[todo] * vt_step_level
        speed = rng.normal(0.0, w.vt_sigma_v, todo.size)  # per-cell offset of the programmed Vt
        need = np.ceil((target - speed) / w.ispp_step_v).astype(np.int64)
        need = np.maximum(need, 1)
        unverified[todo] = need > w.max_pulses
        pulses[todo] = np.minimum(need, w.max_pulses)
    elif w.mechanism == "single-pulse":
        p_ok = 1.0 - w.write_error_rate
        need = rng.geometric(p_ok, todo.size) if w.write_error_rate > 0 else np.ones(todo.size, np.int64)
        unverified[todo] = need > w.max_pulses
        pulses[todo] = np.minimum(need, w.max_pulses)
    else:  # pragma: no cover - validated in devices
        raise TechnologyError(f"unknown write mechanism {w.mechanism!r}")
    return Pulses(pulses, unverified)


@dataclass(frozen=True)
class RowJobs:
    """One job per programmed tile row (cells sorted by tile, row)."""

    tile: np.ndarray
    row: np.ndarray
    pulses: np.ndarray       # max pulses over the row's cells (row-parallel write)
    cell_pulses: np.ndarray  # Σ pulses over the row's cells
    duration_us: np.ndarray
    energy_pj: np.ndarray
    cells: np.ndarray | None = None  # listed cells of the row


def row_duration_us(pulses, tech) -> np.ndarray:
    """Duration of a row's train: [RESET] + pulses × (pulse + verify) + one verify read before the first."""
    w = tech.write
    pre = w.reset_ns if w.reset_first else 0.0
    return (pre + np.asarray(pulses) * (w.pulse_ns + w.verify_ns) + w.verify_ns) * 1e-3


def row_jobs(cell_tile: np.ndarray, cell_row: np.ndarray, pulses: np.ndarray, tech) -> RowJobs:
    """Group cells (already sorted by tile, row) into per-row jobs."""
    w = tech.write
    n = len(cell_tile)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return RowJobs(z, z, z, z, np.zeros(0), np.zeros(0), z)
    brk = np.flatnonzero((np.diff(cell_tile) != 0) | (np.diff(cell_row) != 0)) + 1
    start = np.concatenate([[0], brk])
    p = pulses.astype(np.int64)
    row_p = np.maximum.reduceat(p, start)
    sum_p = np.add.reduceat(p, start)
    n_cells = np.diff(np.concatenate([start, [n]])).astype(np.int64)
    dur = row_duration_us(row_p, tech)
    energy = (sum_p + (n_cells if w.reset_first else 0)) * w.pulse_energy_pj
    return RowJobs(cell_tile[start].astype(np.int64), cell_row[start].astype(np.int64), row_p, sum_p, dur,
                   energy,
                   n_cells)


def tile_busy_us(jobs: RowJobs, n_tiles: int, tech) -> np.ndarray:
    """Programming time of each tile: its rows, plus a block erase where the technology has one."""
    busy = np.bincount(jobs.tile, weights=jobs.duration_us, minlength=n_tiles)
    if tech.write.erase_us > 0:
        busy = busy + np.where(np.bincount(jobs.tile, minlength=n_tiles) > 0, tech.write.erase_us, 0.0)
    return busy


@dataclass(frozen=True)
class Schedule:
    step: np.ndarray
    tile: np.ndarray
    row: np.ndarray          # −1: a whole-tile erase (flash block erase)
    t_start_us: np.ndarray
    t_end_us: np.ndarray
    pulses: np.ndarray
    energy_pj: np.ndarray
    lanes: int
    power_budget_mw: float
    peak_power_mw: float
    total_time_us: float
    total_energy_pj: float
    tile_time_us: np.ndarray  # per tile, busy time
    train: dict | None = None  # pulse-train columns (:func:`pulse_train`), one value per entry

    def as_columns(self) -> dict:
        cols = {"step": self.step, "tile": self.tile, "row": self.row, "t_start_us": self.t_start_us,
                "t_end_us": self.t_end_us, "pulses": self.pulses, "energy_pj": self.energy_pj}
        cols.update(self.train or {})
        return cols


#: Pulse-train columns of ``/schedule`` (format version 2), in file order.
TRAIN_COLUMNS = ("polarity", "amplitude_v", "step_v", "width_ns", "reset_v", "reset_width_ns", "reset_first",
                 "verify_v", "verify_ns", "verify_reads", "pulse_energy_pj")


def train_parameters(tech) -> dict:
    """The technology's pulse train as scalars: what every program entry of a schedule carries.

    ``ispp`` (flash) takes its amplitudes from ``ispp_start_v``/``ispp_step_v``,
    the other mechanisms from ``set_v``/``set_step_v``.
    """
    w = tech.write
    ispp = w.mechanism == "ispp"
    return {"mechanism": w.mechanism, "amplitude_v": float(w.ispp_start_v if ispp else w.set_v),
            "step_v": float(w.ispp_step_v if ispp else w.set_step_v), "width_ns": float(w.pulse_ns),
            "reset_v": float(w.reset_v), "reset_width_ns": float(w.reset_ns),
            "reset_first": bool(w.reset_first),
            "verify_v": float(w.verify_v), "verify_ns": float(w.verify_ns),
            "pulse_energy_pj": float(w.pulse_energy_pj), "erase_v": float(w.erase_v),
            "erase_us": float(w.erase_us), "max_pulses": int(w.max_pulses)}


def pulse_train(row: np.ndarray, pulses: np.ndarray, tech) -> dict:
    """Per schedule entry, the pulse train (columns :data:`TRAIN_COLUMNS`).

    A program entry (``row ≥ 0``, ``polarity = +1``): optionally one RESET
    pulse (``reset_v``, ``reset_width_ns``) to every listed cell of the row
    when ``reset_first``; then a verify read (``verify_v``, ``verify_ns``);
    then ``pulses`` slots, slot k (0-based) applying a program pulse of
    ``amplitude_v + k·step_v`` volts and ``width_ns`` to every cell still
    outside its verify band and below its target (or, where ``reset_v > 0``,
    a pulse of the opposite polarity, ``reset_v`` and ``reset_width_ns``, to a
    cell above its band), followed by a verify read. ``verify_reads =
    pulses + 1``. An erase entry (``row = −1``, ``polarity = −1``): one pulse
    of ``erase_v`` lasting the block erase, no verify read.
    """
    p = train_parameters(tech)
    k = len(row)
    erase = np.asarray(row) < 0
    prog = ~erase
    f = np.where
    return {"polarity": f(erase, -1, 1).astype(np.int8),
            "amplitude_v": f(erase, p["erase_v"], p["amplitude_v"]).astype(np.float64),
            "step_v": f(erase, 0.0, p["step_v"]).astype(np.float64),
            "width_ns": f(erase, p["erase_us"] * 1e3, p["width_ns"]).astype(np.float64),
            "reset_v": f(erase, 0.0, p["reset_v"]).astype(np.float64),
            "reset_width_ns": f(erase, 0.0, p["reset_width_ns"]).astype(np.float64),
            "reset_first": (prog & p["reset_first"]).astype(np.uint8),
            "verify_v": f(erase, 0.0, p["verify_v"]).astype(np.float64),
            "verify_ns": f(erase, 0.0, p["verify_ns"]).astype(np.float64),
            "verify_reads": f(erase, 0, np.asarray(pulses, np.int64) + 1).astype(np.int64) if k else
            np.zeros(0, np.int64),
            "pulse_energy_pj": np.full(k, p["pulse_energy_pj"])}


def peak_power_mw(t_start, t_end, power_mw) -> float:
    """Largest summed power of concurrently running jobs (an end at t frees power before a start at t)."""
    if len(t_start) == 0:
        return 0.0
    t = np.concatenate([t_start, t_end])
    d = np.concatenate([power_mw, -power_mw])
    kind = np.concatenate([np.ones(len(t_start)), np.zeros(len(t_end))])  # ends (0) first at equal times
    order = np.lexsort((kind, t))
    return float(max(np.cumsum(d[order]).max(), 0.0))


def build_schedule(jobs: RowJobs, n_tiles: int, tech, power_budget_mw: float,
                   tile_unit: np.ndarray | None = None) -> Schedule:
    """Place row jobs in time: rows of a tile back to back, units of tiles on power-limited parallel lanes.

    Parameters
    ----------
    jobs : RowJobs
    n_tiles : int
    tech : Technology
    power_budget_mw : float
        Largest summed power of concurrent jobs.
    tile_unit : ndarray, optional
        Per tile, the unit (e.g. 3D stack) whose tiles must not be written
        at the same time; default: every tile its own unit.
    """
    w = tech.write
    erase = w.erase_us > 0
    # per-row jobs plus one erase per tile (flash) at the start of the tile's work
    tile = jobs.tile
    row = jobs.row
    dur = jobs.duration_us
    energy = jobs.energy_pj
    pulses = jobs.pulses
    if erase and n_tiles:
        used = unique_sorted(tile)
        tile = np.concatenate([used, tile])
        row = np.concatenate([np.full(len(used), -1, dtype=np.int64), row])
        dur = np.concatenate([np.full(len(used), w.erase_us), dur])
        energy = np.concatenate([np.zeros(len(used)), energy])
        pulses = np.concatenate([np.ones(len(used), dtype=np.int64), pulses])
        order = np.lexsort((row, tile))
        tile, row, dur, energy, pulses = tile[order], row[order], dur[order], energy[order], pulses[order]
    m = len(tile)
    power = np.where(dur > 0, energy / np.where(dur > 0, dur, 1.0), 0.0) * 1e-3  # pJ/µs = µW → mW
    if m == 0:
        z = np.zeros(0, dtype=np.int64)
        return Schedule(z, z, z, np.zeros(0), np.zeros(0), z, np.zeros(0), 0, float(power_budget_mw), 0.0,
                        0.0, 0.0, np.zeros(n_tiles), pulse_train(z, z, tech))
    if not power_budget_mw > 0:
        raise TechnologyError(f"power budget must be > 0 mW, got {power_budget_mw}")
    p_max = float(power.max())
    if p_max > power_budget_mw:
        raise TechnologyError(f"power budget {power_budget_mw:g} mW is below the {p_max:.3g} mW that one "
                              f"{tech.name} row write needs; raise --power-budget-mw")
    tile_time = np.bincount(tile, weights=dur, minlength=n_tiles)
    unit = np.arange(n_tiles, dtype=np.int64) if tile_unit is None else np.asarray(tile_unit, dtype=np.int64)
    n_units = int(unit.max()) + 1 if n_tiles else 0
    unit_time = np.bincount(unit, weights=tile_time, minlength=n_units)
    lanes = int(min(max(1, np.floor(power_budget_mw / p_max)) if p_max > 0 else n_units, n_units))
    # longest processing time first onto the lane that frees up first (ties: lower lane)
    u_order = np.lexsort((np.arange(n_units), -unit_time))
    unit_lane = np.zeros(n_units, dtype=np.int64)
    unit_seq = np.zeros(n_units, dtype=np.int64)
    heap = [(0.0, lane) for lane in range(lanes)]
    heapq.heapify(heap)
    for seq, u_idx in enumerate(u_order.tolist()):
        if unit_time[u_idx] == 0:
            continue
        free_at, lane = heapq.heappop(heap)
        unit_lane[u_idx] = lane
        unit_seq[u_idx] = seq
        heapq.heappush(heap, (free_at + float(unit_time[u_idx]), lane))
    # each lane runs its units one after another, a unit's tiles in tile order, a tile's jobs back to back
    # in row order; one end time is the next start time exactly (same float), so chained jobs never
    # overlap by rounding
    ju = unit[tile]
    o = np.lexsort((row, tile, unit_seq[ju], unit_lane[ju]))
    lane_o = unit_lane[ju][o]
    cum = np.cumsum(dur[o])
    lane_first = np.concatenate([[True], lane_o[1:] != lane_o[:-1]])
    base = np.maximum.accumulate(np.where(lane_first, np.arange(m), 0))
    base_val = (cum - dur[o])[base]
    t1o = cum - base_val
    t0o = np.concatenate([[0.0], t1o[:-1]])
    t0o[lane_first] = 0.0
    t0 = np.empty(m)
    t1 = np.empty(m)
    t0[o] = t0o
    t1[o] = t1o
    peak = peak_power_mw(t0, t1, power)
    o = np.lexsort((row, tile, t0))  # the table is in step (time) order
    row_o, pulses_o = row[o].astype(np.int64), pulses[o].astype(np.int64)
    return Schedule(step=np.arange(m, dtype=np.int64), tile=tile[o].astype(np.int64), row=row_o,
                    t_start_us=t0[o], t_end_us=t1[o], pulses=pulses_o,
                    energy_pj=energy[o].astype(np.float64), lanes=lanes,
                    power_budget_mw=float(power_budget_mw), peak_power_mw=peak,
                    total_time_us=float(t1.max()), total_energy_pj=float(energy.sum()),
                    tile_time_us=tile_time,
                    train=pulse_train(row_o, pulses_o, tech))
