"""Write-pulse simulation and the programming schedule."""

import numpy as np
import pytest

from connectome.compile import schedule
from connectome.devices import load_technology
from connectome.errors import TechnologyError


def test_program_and_verify_reaches_tolerance_in_published_iterations():
    tech = load_technology("rram")
    lv = np.repeat(np.arange(32), 200)
    p = schedule.simulate_pulses(lv, 32, tech, seed=1)
    assert np.all(p.pulses[lv == 0] == 0)
    assert p.pulses.max() <= tech.write.max_pulses
    top = p.pulses[lv == 31]
    assert 3 <= np.median(top) <= 20  # write-verify ≈ 5–20 iterations (Yao 2020; Wan 2022)
    # more conductance to cover → more pulses on average
    assert np.mean(p.pulses[lv == 31]) > np.mean(p.pulses[lv == 2])
    q = schedule.simulate_pulses(lv, 32, tech, seed=1)
    assert np.array_equal(p.pulses, q.pulses)


def test_ispp_tlc_page_time_matches_datasheets():
    tech = load_technology("flash")
    p = schedule.simulate_pulses(np.full(256, 7), 8, tech, seed=0)
    row_us = p.pulses.max() * (tech.write.pulse_ns + tech.write.verify_ns) * 1e-3
    assert 200 <= row_us <= 700  # t_PROG ≈ 200–700 µs


def test_mram_one_pulse_per_bit():
    p = schedule.simulate_pulses(np.array([0, 1, 1, 0, 1]), 2, load_technology("mram"), seed=0)
    assert p.pulses.tolist() == [0, 1, 1, 0, 1] and not p.unverified.any()


def _jobs(tech, n_tiles=12, rows=8, seed=0):
    rng = np.random.default_rng(seed)
    tile = np.repeat(np.arange(n_tiles), rows * 4)
    row = np.tile(np.repeat(np.arange(rows), 4), n_tiles)
    lv = rng.integers(0, tech.conductance.levels, len(tile))
    p = schedule.simulate_pulses(lv, tech.conductance.levels, tech, seed)
    return schedule.row_jobs(tile, row, p.pulses, tech)


def _check(s, n_tiles, rows, budget):
    prog = s.row >= 0
    rows_done = s.tile[prog] * rows + s.row[prog]
    assert np.array_equal(np.sort(rows_done), np.arange(n_tiles * rows))  # every row exactly once
    for t in range(n_tiles):
        m = s.tile == t
        a, b = s.t_start_us[m], s.t_end_us[m]
        o = np.argsort(a)
        assert np.all(a[o][1:] >= b[o][:-1] - 1e-9)  # a tile never does two things at once
    assert s.peak_power_mw <= budget * (1 + 1e-9)
    assert np.all(np.diff(s.t_start_us) >= 0) and np.array_equal(s.step, np.arange(len(s.step)))
    assert s.total_time_us == pytest.approx(s.t_end_us.max())
    assert s.total_energy_pj == pytest.approx(s.energy_pj.sum())


@pytest.mark.parametrize("name", ["flash", "mram", "pcm", "rram"])
def test_schedule_invariants_and_power_budget(name):
    tech = load_technology(name)
    jobs = _jobs(tech)
    p_row = float(np.max(jobs.energy_pj / jobs.duration_us)) * 1e-3
    wide = schedule.build_schedule(jobs, 12, tech, power_budget_mw=1e6)
    narrow = schedule.build_schedule(jobs, 12, tech, power_budget_mw=2.5 * p_row)
    _check(wide, 12, 8, 1e6)
    _check(narrow, 12, 8, 2.5 * p_row)
    assert wide.lanes == 12 and narrow.lanes == 2
    assert narrow.total_time_us > wide.total_time_us
    assert narrow.total_energy_pj == pytest.approx(wide.total_energy_pj)
    if tech.write.erase_us > 0:
        assert np.sum(wide.row < 0) == 12  # one block erase per tile, before its rows
        for t in range(12):
            m = wide.tile == t
            assert wide.row[m][np.argmin(wide.t_start_us[m])] == -1
    with pytest.raises(TechnologyError, match="power budget"):
        schedule.build_schedule(jobs, 12, tech, power_budget_mw=0.5 * p_row)


def test_peak_power_counts_ends_before_starts():
    assert schedule.peak_power_mw(np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([3.0, 3.0])) == 3.0
    assert schedule.peak_power_mw(np.array([0.0, 0.5]), np.array([1.0, 2.0]), np.array([3.0, 3.0])) == 6.0


def test_units_are_written_one_tile_at_a_time():
    tech = load_technology("rram")
    jobs = _jobs(tech, n_tiles=12)
    unit = np.arange(12) // 4  # three stacks of four tiles
    s = schedule.build_schedule(jobs, 12, tech, power_budget_mw=1e6, tile_unit=unit)
    _check(s, 12, 8, 1e6)
    assert s.lanes == 3
    u = unit[s.tile]
    for k in range(3):
        a, b = s.t_start_us[u == k], s.t_end_us[u == k]
        o = np.argsort(a)
        assert np.all(a[o][1:] >= b[o][:-1] - 1e-9)
    free = schedule.build_schedule(jobs, 12, tech, power_budget_mw=1e6)
    assert s.total_time_us > free.total_time_us
    busy = schedule.tile_busy_us(jobs, 12, tech)
    assert s.total_time_us == pytest.approx(max(busy[unit == k].sum() for k in range(3)))
