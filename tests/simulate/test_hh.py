"""The conductance-based (HH) network simulator: determinism, spikes as threshold
crossings, inhibition, gap-junction spikelets, measured truth weights."""

from __future__ import annotations

import dataclasses

import h5py
import numpy as np
import pytest

from connectome.simulate.hh import HHParams, simulate_hh
from connectome.simulate.hh.engine import HHEngine, measure_gap, measure_psp
from connectome.simulate.hh.model import _gap_trace
from connectome.simulate.hh.network import build_hh_network, ns_to_density

SMALL = dict(n_neurons=24, grid=(6, 6), duration_s=2.0, warmup_s=0.5, seed=5)


def _net(**kw):
    p = HHParams(**{**SMALL, **kw})
    return p, build_hh_network(p, np.random.default_rng([p.seed, 1]))


def test_same_seed_identical_bytes(tmp_path):
    p = HHParams(**SMALL, shuffle_channels=True)
    for d in ("a", "b"):
        simulate_hh(p, tmp_path / d / "rec.h5")
    for name in ("rec.h5", "rec.truth.h5"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with h5py.File(tmp_path / "a" / "rec.h5") as f, h5py.File(tmp_path / "a" / "rec.truth.h5") as t:
        rows, cols = f["channels/row"][()], f["channels/col"][()]
        grid = t["channels/grid_index"][()]
        assert not np.array_equal(grid, np.arange(36))            # shuffled
        assert np.array_equal(rows * 6 + cols, grid)
        # every neuron's channels in the file are the ones that see it
        neuron = t["channels/neuron"][()]
        ptr, idx = t["neurons/channel_ptr"][()], t["neurons/channel_idx"][()]
        for i in range(len(ptr) - 1):
            assert np.all(neuron[idx[ptr[i]:ptr[i + 1]]] == i)


def test_spikes_are_threshold_crossings():
    p, net = _net(duration_s=3.0)
    eng = HHEngine(p, net)
    vm, sn, st = eng.run(int(p.duration_s * p.sampling_rate_hz))
    v = vm.astype(float) + p.v_reference_mv
    fs = p.sampling_rate_hz
    assert len(sn) > 10
    for i in range(net.n_neurons):
        t = st[sn == i]
        up = np.flatnonzero((v[1:, i] >= p.spike_threshold_mv) & (v[:-1, i] < p.spike_threshold_mv)) + 1
        # every crossing of the (sample-averaged) trace is a recorded spike and vice versa
        assert len(up) == len(t)
        if len(t):
            assert np.all(np.abs(up / fs - t) <= 1.5 / fs)


def test_inhibition_lowers_firing():
    kw = dict(n_neurons=40, grid=(8, 8), duration_s=3.0, gap_density=0.0, g_ie_ns=4.0, seed=3)
    rates = []
    for g_ie in (4.0, 0.0):
        p, net = _net(**{**kw, "g_ie_ns": g_ie})
        eng = HHEngine(p, net)
        _, sn, _ = eng.run(int(p.duration_s * p.sampling_rate_hz))
        rates.append(np.isin(sn, np.flatnonzero(net.is_excitatory)).sum())
    assert rates[0] < 0.8 * rates[1]


def test_gap_junction_spikelet_and_transmitted_ahp():
    p, net = _net(gap_density=3.0)
    assert len(net.gap_a)
    eng = HHEngine(p, net)
    a, b, o = measure_gap(eng)
    assert np.all(o[:, 3] == 1)                      # one presynaptic AP each
    assert np.all(o[:, 0] > 0.05)                    # a spikelet
    assert np.all((o[:, 1] > 0) & (o[:, 1] < 3.0))   # within ~1 ms of the AP
    assert np.all(o[:, 2] < 0.0)                     # then the presynaptic AHP, transmitted
    # without the junction, the same pulse leaves the partner at rest
    dt, n = eng.dt, int(80 / eng.dt)
    va, vb = np.empty(n), np.empty(n)
    _gap_trace(eng.tab, net.cell, eng.gcoef, eng.syn, dt, eng.rest, a[0], b[0], 0.0, 0.0, 0, n, 40.0, True, va, vb)
    assert va.max() > 0 and np.ptp(vb) < 1e-6


def test_truth_weight_matches_network_response():
    """The truth PSP (probe kernel) equals the response of the network kernel to
    one delivered event on a quiet, isolated post cell."""
    p, net = _net(noise_ua_cm2=(0.0, 0.0, 0.0, 0.0), drive_groups=0, gap_density=0.0)
    eng = HHEngine(p, net)
    w, ttp, _ = measure_psp(eng)
    rng = np.random.default_rng(0)
    for e in rng.choice(len(net.pre), size=6, replace=False):
        q = HHEngine(p, dataclasses.replace(net, pre=net.pre[:0], post=net.post[:0], g_ns=net.g_ns[:0],
                                            delay_ms=net.delay_ms[:0], distance_um=net.distance_um[:0]))
        post = net.post[e]
        g = eng.stp[net.pre[e], 0] * ns_to_density(net.g_ns[e], net.area_um2[post])
        (q.ring_e if net.is_excitatory[net.pre[e]] else q.ring_i)[0, post] = g
        vm, _, _ = q.run(int(0.15 * p.sampling_rate_hz))
        base = q.rest[post, 0] - p.v_reference_mv
        dev = vm[:, post].astype(float) - base
        if np.any(vm[:, post] + p.v_reference_mv >= p.spike_threshold_mv):
            continue                                     # fired: truth is the Na⁺-blocked PSP
        peak = dev.max() if w[e] > 0 else dev.min()
        assert peak == pytest.approx(w[e], rel=0.03, abs=0.005)
