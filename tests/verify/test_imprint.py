"""Physical imprinting: the device update curve, the coincidence rule, and recovery on a simulated recording."""

import json

import h5py
import numpy as np
import pytest

from connectome.devices import load_technology
from connectome.errors import ConfigError, TechnologyError
from connectome.io.progmap import check_map, read_map
from connectome.verify._imprint_kernels import column_deflections, imprint_rows
from connectome.verify.imprint import (ImprintDevice, ImprintParams, _signs, device_for, imprint_recording,
                                       normalised_a, side_path)


@pytest.mark.parametrize("nl,a", [(1.51, 0.8195), (3.01, 0.3853), (6.01, 0.1351), (0.01, 126.269)])
def test_nonlinearity_label_reproduces_neurosim_table(nl, a):
    assert normalised_a(nl) == pytest.approx(a, rel=0.003)


def test_update_curve_reaches_the_window_in_p_max_pulses():
    for nl in (0.0, 2.4, 6.0):
        d = ImprintDevice(g_min_us=2.0, g_max_us=40.0, nl_ltp=nl, nl_ltd=nl, pulses_ltp=97, pulses_ltd=100,
                          c2c_sigma=0.0)
        g = 2.0
        steps = []
        for _ in range(97):
            s = d.step_us(g, +1)
            steps.append(s)
            g += s
        assert g == pytest.approx(40.0, abs=1e-9)
        if nl == 0:
            assert np.allclose(steps, 38.0 / 97)
        else:  # saturating: each potentiating step smaller than the last
            assert all(a > b for a, b in zip(steps, steps[1:]))
            assert steps[0] / steps[-1] > 1.5
        g = 40.0
        for _ in range(100):
            g += d.step_us(g, -1)
        assert g == pytest.approx(2.0, abs=1e-9)
    with pytest.raises(ConfigError):
        normalised_a(12.0)


def test_cells_move_only_on_coincidence():
    G = np.full((3, 3), 20.0)
    signs = np.zeros((10, 3), np.int8)
    signs[2:6, 1] = 1     # column 1 depolarised in bins 2–5
    signs[2:4, 2] = -1    # column 2 hyperpolarised in bins 2–3
    signs[8, 0] = 1       # column 0 depolarised when no row is driven
    # row 0 driven in bins [3, 5), row 2 in [0, 10), row 1 never
    ptr, lo, hi = np.array([0, 1, 1, 2]), np.array([3, 0]), np.array([5, 10])
    n_pot = np.zeros((3, 3), np.int32)
    n_dep = np.zeros((3, 3), np.int32)
    imprint_rows(G, signs, ptr, lo, hi, 2.0, 40.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.25, 0.0, np.uint64(0), 0, n_pot, n_dep)
    assert n_pot.tolist() == [[0, 2, 0], [0, 0, 0], [1, 4, 0]]
    assert n_dep.tolist() == [[0, 0, 1], [0, 0, 0], [0, 0, 0]]   # (2, 2) is the diagonal: never written
    assert G[0, 1] == 21.0 and G[0, 2] == 19.75 and G[2, 1] == 22.0 and G[1].tolist() == [20.0, 20.0, 20.0]


def test_column_signs_follow_the_running_baseline():
    v = np.zeros((6, 2), np.float32)
    v[3, 0] = 5.0
    v[3, 1] = -5.0
    v[4, 1] = np.nan  # masked: no write, baseline frozen
    base = np.full(2, np.nan)
    d = column_deflections(v, base, 2.0)
    assert np.isnan(d[4, 1]) and d[3, 0] == 5.0
    delta = np.array([1.0, np.nan])
    s = _signs(d, delta, delta)
    # the 5-mV step potentiates; the baseline (τ = 2 bins) then lags above the trace: −2.5, −1.25 mV → depress
    assert s[:, 0].tolist() == [0, 0, 0, 1, -1, -1] and s[:, 1].tolist() == [0] * 6  # column 1 not driven (δ NaN)
    assert np.isfinite(base).all()


def test_binary_and_flash_cannot_imprint():
    for name in ("mram", "flash"):
        with pytest.raises(TechnologyError, match="imprinting needs"):
            device_for(load_technology(name))
    assert device_for(load_technology("pcm")).g_max_us == 25.0


@pytest.fixture(scope="module")
def imprinted(strong_recording, tmp_path_factory):
    rec, truth = strong_recording
    out = tmp_path_factory.mktemp("imp") / "r24.map.h5"
    s = imprint_recording(rec, out, technology="rram", reference=truth, params=ImprintParams(seed=1))
    return out, s


def test_imprint_ranks_true_synapses_above_non_synapses(imprinted):
    _, s = imprinted
    c = s["comparison"]
    assert c["neurons_matched"] == s["neurons"] >= 20
    assert c["auc"] > 0.65 and c["auc_excitatory"] > 0.75 and c["auc_inhibitory"] > 0.75
    assert c["recall_at_matched_count"] > 0.4 and c["spearman_synapses"] > 0.5


def test_imprint_writes_a_valid_map_and_the_raw_crossbar(imprinted):
    out, s = imprinted
    pm = read_map(out)
    assert check_map(pm) is None
    assert pm.summary["imprint"]["synapses_imprinted"] == len(pm.tables["synapses"]["pre"]) == s["synapses_imprinted"]
    with h5py.File(side_path(out)) as fh:
        G = fh["conductance_us"][()]
        n = s["neurons"]
        assert G.shape == (n, n) and G.min() >= 2.0 and G.max() <= 40.0
        assert np.all(np.diag(fh["potentiating_pulses"][()]) == 0)
        assert json.loads(fh.attrs["info"])["device"]["nl_ltp"] == 2.4


def test_imprint_is_deterministic_and_seeded(strong_recording, imprinted, tmp_path):
    rec, _ = strong_recording
    out, _ = imprinted
    again, other, third = (tmp_path / d / "x.map.h5" for d in ("a", "b", "c"))
    for path, seed in ((again, 1), (other, 2), (third, 1)):
        imprint_recording(rec, path, technology="rram", params=ImprintParams(seed=seed, max_duration_s=30.0))
    assert again.read_bytes() == third.read_bytes()
    with h5py.File(side_path(again)) as a, h5py.File(side_path(other)) as b:
        assert not np.array_equal(a["conductance_us"][()], b["conductance_us"][()])
        assert np.array_equal(a["potentiating_pulses"][()], b["potentiating_pulses"][()])  # same coincidences


def test_ideal_device_holds_more_than_a_noisy_saturating_one(strong_recording, tmp_path):
    rec, truth = strong_recording
    ideal = imprint_recording(rec, tmp_path / "i.h5", reference=truth, params=ImprintParams(max_duration_s=30.0),
                              device_overrides={"c2c_sigma": 0.0, "nl_ltp": 0.0, "nl_ltd": 0.0})
    harsh = imprint_recording(rec, tmp_path / "h.h5", reference=truth, params=ImprintParams(max_duration_s=30.0),
                              device_overrides={"c2c_sigma": 0.1, "nl_ltp": 8.0, "nl_ltd": 8.0})
    assert ideal["comparison"]["auc"] > harsh["comparison"]["auc"] + 0.05
    assert ideal["pulses_per_cell_mean"] == harsh["pulses_per_cell_mean"]
