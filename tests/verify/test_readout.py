"""Read-out non-idealities: IR drop, sneak paths and the ADC, against the line model they implement."""

import dataclasses

import numpy as np
import pytest

from connectome.devices import load_technology
from connectome.devices.models import technology_from_dict
from connectome.errors import ConfigError, TechnologyError
from connectome.verify import verify_map
from connectome.verify.effective import NonIdealities
from connectome.verify.readout import adc_quantise, line_factors


def _full_tile(n, g=20.0):
    r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.zeros(n * n, np.int64), r.ravel(), c.ravel(), np.full(n * n, g)


def _f(n, wire=2.5, selector=True, activity=1.0, g=20.0):
    t, r, c, gg = _full_tile(n, g)
    return line_factors(t, r, c, gg, rows=n, cols=n, g_min_us=0.0, wire_ohm=wire, selector=selector,
                        activity=activity)


def test_ir_drop_matches_the_ladder_to_first_order():
    # a uniformly loaded line: the far node's drop is ≈ r·g·L²/2 when that is small
    n, wire, g = 64, 0.5, 5.0
    f = _f(n, wire=wire, g=g).reshape(n, n)
    first_order = wire * g * 1e-6 * n * n / 2
    assert 1 - f[n - 1, n - 1] == pytest.approx(first_order, rel=0.05)  # last row (by the sense amp), far column
    assert 1 - f[0, 0] == pytest.approx(first_order, rel=0.05)          # first column (by the driver), far row
    assert f[n - 1, 0] == f.max() and f[0, n - 1] == f.min()           # next to driver and sense amp / far from both


def test_ir_drop_grows_with_tile_size_wire_resistance_and_conductance():
    worst = [float(_f(n).min()) for n in (32, 64, 128, 256)]
    assert all(a > b for a, b in zip(worst, worst[1:])) and worst[0] < 1
    assert _f(64, wire=5.0).min() < _f(64, wire=2.5).min() < _f(64, wire=0.0).min() == 1.0
    assert _f(64, g=40.0).min() < _f(64, g=10.0).min()
    assert _f(64, activity=0.01).min() > _f(64, activity=1.0).min()  # fewer driven rows, less column current


def test_sneak_paths_only_through_resistive_wires():
    # without a selector the undriven rows load the column; with ideal wires nothing changes
    assert np.all(_f(64, wire=0.0, selector=False, activity=0.1) == 1.0)
    with_sel = _f(128, selector=True, activity=0.1)
    without = _f(128, selector=False, activity=0.1)
    assert not np.allclose(with_sel, without)


def test_adc_rounds_and_saturates():
    w = np.array([0.0, 0.01, 0.2, -0.26, 3.0, -9.0])
    q = adc_quantise(w, full_scale_mv=1.0, bits=4, range_inputs=2.0)   # step 0.25, range ±2
    assert q.tolist() == [0.0, 0.0, 0.25, -0.25, 2.0, -2.0]
    assert np.array_equal(adc_quantise(w, 1.0, 0, 2.0), w)             # 0 bits: ideal


def test_verify_reports_readout_and_it_costs_fidelity(maps, con_dir):
    quiet = dict(programming_noise_scale=0.0, read_noise_scale=0.0)
    on = verify_map(maps["pcm"], con_dir, **quiet)
    off = verify_map(maps["pcm"], con_dir, readout=False, **quiet)
    ro = on["device"]["readout"]
    assert ro["applied"] and ro["wire_ohm_per_cell"] == load_technology("pcm").readout.wire_ohm_per_cell
    assert 0 < ro["line_factor_min"] <= ro["line_factor_median"] < 1
    assert on["weights"]["rms_error_mv"] > off["weights"]["rms_error_mv"]
    assert off["device"]["readout"]["applied"] is False
    sparse = verify_map(maps["pcm"], con_dir, input_activity=0.01, **quiet)
    assert sparse["device"]["readout"]["line_factor_min"] > ro["line_factor_min"]
    with pytest.raises(ConfigError, match="input_activity"):
        NonIdealities(input_activity=0.0)


def test_readout_table_is_optional_and_validated():
    d = load_technology("rram").to_dict()
    d.pop("readout")
    old = technology_from_dict(d, "map")           # a map written before [readout] existed: ideal read-out
    assert old.readout.wire_ohm_per_cell == 0.0 and old.readout.adc_bits == 0
    tech = load_technology("rram")
    bad = dataclasses.replace(tech, readout=dataclasses.replace(tech.readout, adc_bits=-1))
    from connectome.devices.models import validate_technology

    with pytest.raises(TechnologyError, match="adc_bits"):
        validate_technology(bad)


def test_verify_objects_equals_verify_map_without_files(maps, con_dir):
    from connectome.graph.formats import read_connectome
    from connectome.io.progmap import read_map
    from connectome.verify import verify_objects

    from_files = verify_map(maps["rram"], con_dir, after_s=3600.0)
    in_memory = verify_objects(read_map(maps["rram"]), read_connectome(con_dir), after_s=3600.0)
    assert in_memory["weights"] == from_files["weights"] and in_memory["device"] == from_files["device"]
    assert in_memory["map"]["path"] is None and in_memory["map"]["file_sha256"] is None


def test_pcm_noise_coefficients_come_from_the_preset(tmp_path):
    from connectome.verify import nonideal as ni

    pcm = load_technology("pcm")
    g = np.array([5.0, 20.0])
    assert np.all(ni.read_sigma_us(pcm, g, g, 86400.0) > 0)
    quiet = dataclasses.replace(pcm, noise=dataclasses.replace(pcm.noise, read_qs=(0.0, 0.65, 0.2)))
    assert np.all(ni.read_sigma_us(quiet, g, g, 86400.0) == 0)
    # a technology file overrides them like any other key (TOML arrays)
    f = tmp_path / "pcm-fast-drift.toml"
    f.write_text('base = "pcm"\n[noise]\ndrift_nu_mean = [0.0, 0.2, 0.2, 0.2]\n')
    fast = load_technology(None, f)
    assert fast.noise.drift_nu_mean == (0.0, 0.2, 0.2, 0.2)
    assert np.all(ni.drift_exponents(fast, g, np.zeros(2)) == pytest.approx(0.2))
    f.write_text('base = "pcm"\n[noise]\nread_qs = [1, 2]\n')
    with pytest.raises(TechnologyError, match="read_qs"):
        load_technology(None, f)
