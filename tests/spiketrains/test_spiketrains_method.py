"""Spike-train mode on planted couplings: right sign and latency, no false positive."""

from __future__ import annotations

import numpy as np
import pytest
from synth import planted

from connectome.errors import ConfigError
from connectome.spiketrains import SpikeParams, SpikeTrains, infer_spike_trains
from connectome.spiketrains.ccg import bh_q, hollow_gaussian, log_poisson_low, log_poisson_up


@pytest.fixture(scope="module")
def result():
    t, u = planted()
    return infer_spike_trains(SpikeTrains.from_arrays(t, u))


def edges(res):
    e = res.connectome.edges
    return {
        (int(a), int(b)): (int(k), float(d), float(w))
        for a, b, k, d, w in zip(e["pre"], e["post"], e["kind"], e["delay_ms"], e["weight_mv"])
    }


def test_planted_excitatory_and_inhibitory_found(result):
    got = edges(result)
    k, d, w = got[(0, 1)]
    assert k == 1 and 1.5 <= d <= 2.5
    assert 0.05 < w < 0.11  # 8 % of presynaptic spikes drive a postsynaptic spike
    k, d, w = got[(0, 2)]
    assert k == 2 and 1.0 <= d <= 5.0 and w < 0


def test_shared_bursting_drive_is_no_synapse(result):
    got = edges(result)
    assert (3, 4) not in got and (4, 3) not in got
    assert np.isfinite(result.q[3, 4]) and result.q[3, 4] > 0.01


def test_duplicate_unit_flagged_not_called(result):
    got = edges(result)
    assert result.flag[0, 5] == 1 and result.flag[5, 0] == 1
    assert (0, 5) not in got and (5, 0) not in got
    # the split unit (fewer spikes) inherits 0 → 1 from its twin: a copy, not called
    assert result.connectome.neurons["duplicate_of"].tolist() == [-1, -1, -1, -1, -1, 0]
    assert (5, 1) not in got and result.summary["qc"]["rejected_duplicate_unit_edges"] == 1
    assert result.summary["qc"]["pairs_flagged_zero_lag_peak"] == 1


def test_every_tested_pair_has_p_and_q(result):
    off = ~np.eye(6, dtype=bool)
    assert np.isfinite(result.p[off]).all() and np.isfinite(result.q[off]).all()
    assert np.all(result.q[off] >= result.p[off] - 1e-12)
    assert np.isnan(result.p[np.eye(6, dtype=bool)]).all()
    assert result.summary["mode"] == "spikes" and "efficacy" in result.summary["weight_unit"]


def test_independent_units_give_no_edges():
    rng = np.random.default_rng(3)
    trains = [np.sort(rng.uniform(0, 900, rng.poisson(6 * 900))) for _ in range(8)]
    t = np.concatenate(trains)
    u = np.concatenate([np.full(len(s), i) for i, s in enumerate(trains)])
    res = infer_spike_trains(SpikeTrains.from_arrays(t, u, check_order=False))
    assert res.connectome.n_edges == 0
    # p-values of the null are not piled up at zero
    assert np.nanmedian(res.p) > 0.2


def test_same_electrode_trough_flagged():
    """Two units of one electrode: the sorter drops the second of two spikes within 0.6 ms."""
    rng = np.random.default_rng(5)
    a = np.sort(rng.uniform(0, 900, 9000))
    b = np.sort(rng.uniform(0, 900, 9000))
    i = np.searchsorted(a, b).clip(1, a.size - 1)
    near = np.minimum(np.abs(b - a[i]), np.abs(b - a[i - 1])) < 6e-4
    b = b[~near]
    t = np.r_[a, b]
    u = np.r_[np.zeros(a.size, int), np.ones(b.size, int)]
    res = infer_spike_trains(SpikeTrains.from_arrays(t, u, check_order=False))
    assert res.flag[0, 1] == 2 and res.connectome.n_edges == 0


def test_deterministic():
    t, u = planted(seed=1, duration_s=200)
    r1 = infer_spike_trains(SpikeTrains.from_arrays(t, u))
    r2 = infer_spike_trains(SpikeTrains.from_arrays(t, u))
    np.testing.assert_array_equal(r1.score, r2.score)
    np.testing.assert_array_equal(r1.q, r2.q)


def test_helpers():
    k = hollow_gaussian(0.5, 10.0, 0.6, 3.0)
    assert k.size == 121 and abs(k.sum() - 1) < 1e-12 and k[60] < k[59]
    # mid-p Poisson tails: exact for small counts, finite logs far out
    assert np.isclose(np.exp(log_poisson_up(0, 1.0)), 0.5 * np.exp(-1.0) + (1 - np.exp(-1.0)))
    assert np.isclose(np.exp(log_poisson_low(0, 1.0)), 0.5 * np.exp(-1.0))
    assert np.isfinite(log_poisson_up(5000, 100.0)) and log_poisson_up(5000, 100.0) < -1000
    q = bh_q(np.log(np.array([0.01, 0.04, 0.03, 0.5])))
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_params_validated():
    with pytest.raises(ConfigError, match="window_ms"):
        SpikeParams(window_ms=(4.0, 1.0))
    with pytest.raises(ConfigError, match="did you mean 'q_threshold'"):
        SpikeParams.from_dict({"q_treshold": 0.1})
