"""The spiking-network comparison: identical networks score 1, perturbations score less, runs are seeded."""

import numpy as np
import pytest

from connectome.verify import verify_map
from connectome.verify.functional import (LIFParams, bursts, burst_similarity, calibrate_drive, compare_networks,
                                          psp_peak_per_jump, simulate)

P = LIFParams(duration_s=5.0)


def _net(n=150, m=2500, seed=0):
    rng = np.random.default_rng(seed)
    pre, post = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = pre != post
    pre, post = pre[keep], post[keep]
    exc = rng.random(n) < 0.8
    w = np.where(exc[pre], rng.lognormal(np.log(1.0), 0.7, len(pre)), -rng.lognormal(np.log(1.5), 0.5, len(pre)))
    return np.arange(n), pre, post, rng.uniform(0.8, 3.0, len(pre)), w


def test_identical_weights_give_fidelity_one():
    nid, pre, post, d, w = _net()
    r = compare_networks(nid, pre, post, d, w, w.copy(), P, seed=3)
    assert r["score"] == 1.0 and set(r["components"].values()) == {1.0}
    assert r["rate_abs_rel_diff"] == 0.0 and r["spikes_copied"] == r["spikes_pasted"] > 0
    assert r["runaway"] == [] and 0 < r["reference_score"] < 1.0


def test_perturbed_networks_score_lower_in_order():
    nid, pre, post, d, w = _net()
    rng = np.random.default_rng(1)
    small = compare_networks(nid, pre, post, d, w, w * (1 + 0.05 * rng.standard_normal(len(w))), P, seed=3)
    gone = compare_networks(nid, pre, post, d, w, np.zeros_like(w), P, seed=3)
    assert gone["score"] < small["score"] < 1.0
    assert gone["mean_rate_pasted_hz"] < gone["mean_rate_copied_hz"]


def test_same_seed_same_spikes():
    nid, pre, post, d, w = _net(n=60, m=600)
    rate = calibrate_drive(P)
    a = simulate(60, pre, post, w, d, P, rate, seed=5)
    b = simulate(60, pre, post, w, d, P, rate, seed=5)
    c = simulate(60, pre, post, w, d, P, rate, seed=6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not (len(a[0]) == len(c[0]) and np.array_equal(a[0], c[0]))


def test_drive_calibration_sets_the_intrinsic_rate():
    q = LIFParams(duration_s=20.0, intrinsic_rate_hz=2.0)
    rate = calibrate_drive(q)
    empty = np.zeros(0, np.int64)
    _, _, total, _ = simulate(400, empty, empty, np.zeros(0), np.zeros(0), q, rate, seed=99)
    assert total / (400 * 20.0) == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize("tau_s", [3.0, 10.0])
def test_psp_calibration_matches_the_continuous_kernel(tau_s):
    tm = 20.0
    t_peak = np.log(tm / tau_s) * tm * tau_s / (tm - tau_s)
    k = tm * tau_s / (tm - tau_s) * (np.exp(-t_peak / tm) - np.exp(-t_peak / tau_s))
    assert psp_peak_per_jump(tm, tau_s, 0.1) == pytest.approx(k, rel=0.02)


def test_delays_and_signs_reach_the_postsynaptic_neuron():
    """A 40-mV synapse with a 5-ms delay: every presynaptic spike is followed by a postsynaptic one 5–8 ms later;
    a −40-mV synapse silences its target."""
    q = LIFParams(duration_s=20.0, adaptation_mv=0.0)
    rate = calibrate_drive(q)
    t, nn, _, _ = simulate(2, np.array([0]), np.array([1]), np.array([40.0]), np.array([5.0]), q, rate, seed=2)
    t0, t1 = t[nn == 0] * q.dt_ms, t[nn == 1] * q.dt_ms
    assert len(t0) >= 10
    lag = np.array([t1[np.searchsorted(t1, x)] - x for x in t0[:-1] if np.searchsorted(t1, x) < len(t1)])
    assert np.mean((lag >= 5.0) & (lag <= 8.0)) > 0.9
    _, nn_i, _, _ = simulate(2, np.array([0]), np.array([1]), np.array([-40.0]), np.array([5.0]), q, rate, seed=2)
    assert np.sum(nn_i == 1) < 0.5 * np.sum(nn == 1)


def test_bursts_and_their_similarity():
    act = np.zeros(1000)
    act[100:105] = 30
    act[500:502] = 30
    act[800] = 30  # one bin: not a burst
    b = bursts(act, 20, 10.0, 50.0, 10.0)
    assert b["count"] == 2 and b["mean_duration_ms"] == pytest.approx(35.0)
    none = {"count": 0, "rate_hz": 0.0, "mean_duration_ms": 0.0}
    assert burst_similarity(none, none) == 1.0
    assert burst_similarity(b, none) == pytest.approx(0.5)


def test_verify_functional_on_an_exact_paste_scores_one(maps, con_dir):
    r = verify_map(maps["rram"], con_dir, functional=True, programming_noise_scale=0, read_noise_scale=0,
                   readout=False, functional_params=LIFParams(duration_s=3.0))
    f = r["functional"]
    assert f["score"] == 1.0 and r["functional_fidelity"] == 1.0 and f["neurons"] == 300
    noisy = verify_map(maps["rram"], con_dir, functional=True, programming_noise_scale=3.0,
                       functional_params=LIFParams(duration_s=3.0))
    assert noisy["functional"]["score"] < 1.0
