"""Device non-idealities and the structural report: numbers against the models they implement."""

import json

import numpy as np
import pytest

from connectome.devices import load_technology
from connectome.devices.noise import programming_sigma_us
from connectome.io.progmap import read_map
from connectome.verify import nonideal as ni
from connectome.verify import parse_duration, verify_map
from connectome.verify.effective import NonIdealities, effective_weights, physical_cells

QUIET = dict(programming_noise_scale=0.0, read_noise_scale=0.0, readout=False)


@pytest.mark.parametrize("name", ["rram", "rram-split", "mram"])
def test_zero_noise_is_exact(maps, con_dir, name):
    r = verify_map(maps[name], con_dir, **QUIET)
    w = r["weights"]
    assert w["pearson"] == 1.0 and w["spearman"] == 1.0
    assert w["sign_flips"] == 0 and w["lost"] == 0 and w["rms_error_mv"] == 0.0
    assert r["connectome"]["matches_map_source"] and r["extra_in_map"] == 0


def test_partners_of_differential_maps(maps):
    assert physical_cells(read_map(maps["rram"])).n_partners == physical_cells(read_map(maps["rram"])).n_listed
    assert physical_cells(read_map(maps["rram-split"])).n_partners == 0
    c = physical_cells(read_map(maps["mram"]))
    assert c.n_partners == c.n_listed  # 5 bit-slices per sign, each with its partner


@pytest.mark.parametrize("name", ["rram", "pcm"])
def test_error_grows_with_programming_noise(maps, con_dir, name):
    errs, pears, flips = [], [], []
    for s in (0.0, 0.5, 1.0, 2.0, 4.0):
        w = verify_map(maps[name], con_dir, programming_noise_scale=s, read_noise_scale=0.0)["weights"]
        errs.append(w["rms_error_mv"])
        pears.append(w["pearson"])
        flips.append(w["sign_flips"])
    assert all(a < b for a, b in zip(errs, errs[1:])), errs
    assert all(a >= b for a, b in zip(pears, pears[1:])), pears
    assert flips[0] == 0 and flips[-1] >= flips[1]


def test_pcm_programming_spread_follows_the_polynomial():
    pcm = load_technology("pcm")
    rng = np.random.default_rng(0)
    for g_t in (0.0, 10.0, 25.0):
        g = ni.program(pcm, np.full(200_000, g_t), 12, rng.standard_normal(200_000), rng.random(200_000))
        want = float(programming_sigma_us(pcm, np.array([g_t]), 12)[0])
        if g_t > 0:
            assert np.std(g - g_t) == pytest.approx(want, rel=0.01)
        else:  # clipped at 0: half the cells stay at 0
            assert np.mean(g == 0) == pytest.approx(0.5, abs=0.01)
    # σ at G_max: −1.1731 + 1.9650 + 0.2635 = 1.0554 µS (Nandakumar 2020)
    assert float(programming_sigma_us(pcm, np.array([25.0]), 12)[0]) == pytest.approx(1.0554)


def test_pcm_drift_exponents_and_law():
    pcm = load_technology("pcm")
    g = np.full(100_000, 2.5)  # ĝ = 0.1: μ_ν = 0.0601, σ_ν = 0.0229
    nu = ni.drift_exponents(pcm, g, np.random.default_rng(1).standard_normal(len(g)))
    assert nu.mean() == pytest.approx(-0.0155 * np.log(0.1) + 0.0244, rel=0.01)
    assert nu.std() == pytest.approx(-0.0125 * np.log(0.1) - 0.0059, rel=0.03)
    assert ni.apply_drift(np.array([10.0]), np.array([0.05]), 86400.0, 20.0)[0] == pytest.approx(
        10.0 * (86420.0 / 20.0) ** -0.05)
    assert not ni.has_drift(load_technology("rram"))


def test_drift_compensation_beats_none_after_a_day(maps, con_dir):
    rep = {}
    for after in (0.0, 86400.0, parse_duration("10y")):
        for comp in (True, False):
            rep[after, comp] = verify_map(maps["pcm"], con_dir, after_s=after, drift_compensation=comp)["weights"]
    day, decade = 86400.0, parse_duration("10y")
    assert rep[day, True]["rms_error_mv"] < 0.7 * rep[day, False]["rms_error_mv"]
    assert rep[day, True]["lost"] < rep[day, False]["lost"]
    assert rep[0.0, False]["rms_error_mv"] < rep[day, False]["rms_error_mv"] < rep[decade, False]["rms_error_mv"]
    assert rep[day, True]["pearson"] > 0.9


def test_compensation_undoes_the_mean_drift(maps):
    pm = read_map(maps["pcm"])
    cells = physical_cells(pm)
    e = effective_weights(pm, cells, NonIdealities(after_s=86400.0, read_noise_scale=0.0), seed=0)
    # mean ν at the programmed levels is ≈ 0.05–0.07: (86420/20)^ν ≈ 1.5–1.8
    assert 1.4 < float(np.median(e.alpha)) < 1.9
    r = effective_weights(pm, cells, NonIdealities(after_s=86400.0), seed=0)
    assert load_technology("rram") is not None and np.isfinite(r.w_eff).all()


def test_technologies_without_drift_do_not_change_with_time(maps, con_dir):
    a = verify_map(maps["rram"], con_dir, after_s=0.0)
    b = verify_map(maps["rram"], con_dir, after_s=parse_duration("10y"))
    assert a["weights"] == b["weights"] and a["deciles"] == b["deciles"]


@pytest.mark.parametrize("fraction", [0.05, 0.2])
def test_stuck_fraction_loses_that_fraction(maps, con_dir, fraction):
    # split scheme: one cell per synapse, no partner; a stuck cell sets the weight
    w = verify_map(maps["rram-split"], con_dir, stuck_fraction=fraction, **QUIET)["weights"]
    n = w["synapses"]
    assert w["lost_fraction"] == pytest.approx(fraction, abs=4 * np.sqrt(fraction * (1 - fraction) / n))
    assert w["lost_stuck"] <= w["lost"]


def test_stuck_on_a_differential_map_counts_partners(maps, con_dir):
    # listed cell stuck (either way) or its reset partner stuck at g_max: ≈ f + f·on_share
    f = 0.1
    w = verify_map(maps["rram"], con_dir, stuck_fraction=f, stuck_on_share=0.5, **QUIET)["weights"]
    n = w["synapses"]
    want = f + f * 0.5 - f * f * 0.5
    assert w["lost_fraction"] == pytest.approx(want, abs=4 * np.sqrt(want * (1 - want) / n) + 0.01)


def test_same_seed_same_report_other_seed_other_numbers(maps, con_dir, tmp_path):
    from connectome.verify.report import write_report

    a = verify_map(maps["pcm"], con_dir, after_s=3600.0, seed=7)
    b = verify_map(maps["pcm"], con_dir, after_s=3600.0, seed=7)
    c = verify_map(maps["pcm"], con_dir, after_s=3600.0, seed=8)
    write_report(a, tmp_path / "a.json")
    write_report(b, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert c["weights"]["rms_error_mv"] != a["weights"]["rms_error_mv"]
    assert json.loads((tmp_path / "a.json").read_text())["parameters"]["after"] == "1h"


def test_deciles_cover_every_synapse(maps, con_dir):
    r = verify_map(maps["pcm"], con_dir)
    d = r["deciles"]
    assert len(d) == 10 and sum(x["n"] for x in d) == r["weights"]["synapses"]
    assert all(a["abs_w_max_mv"] <= b["abs_w_min_mv"] for a, b in zip(d, d[1:]))
    # PCM's σ grows sub-linearly with G: small weights carry the largest relative error
    assert d[0]["mean_abs_rel_error"] > d[-1]["mean_abs_rel_error"]


def test_a_different_connectome_is_compared_on_the_union(maps, tmp_path, grid_con):
    from connectome.graph.formats import write_csv

    keep = np.ones(grid_con.n_edges, bool)
    keep[:100] = False  # the map holds 100 synapses this connectome lacks
    extra = {k: np.concatenate([v[keep], v[:5]]) for k, v in grid_con.edges.items()}
    extra["post"][-5:] = (extra["post"][-5:] + 1) % grid_con.n_neurons  # 5 edges the map lacks (or has)
    from connectome.graph import Connectome

    other = Connectome(neurons=dict(grid_con.neurons), edges=extra)
    d = tmp_path / "other"
    d.mkdir()
    write_csv(other, d)
    r = verify_map(maps["rram"], d, **QUIET)
    assert not r["connectome"]["matches_map_source"]
    w = r["weights"]
    assert w["synapses"] == len(np.unique(extra["pre"] * 1000 + extra["post"]))
    assert 95 <= r["extra_in_map"] <= 100 and 0 < w["missing_from_map"] <= 5
    assert w["lost"] >= w["missing_from_map"]
