"""Joint refit (explain-away) of each post-synaptic neuron's candidate inputs (connectome.infer.joint)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from connectome.infer import InferParams
from connectome.infer._kernels import accumulate_pairs, spike_baselines
from connectome.infer.classify import psp_kernel
from connectome.infer.joint import ccg, ccg_block, joint_accept, joint_refit, survives
from connectome.infer.sta import PairSums
from connectome.infer.stats import pair_statistics

BIN_MS = 0.5


def test_ccg_matches_brute_force():
    rng = np.random.default_rng(0)
    a = np.sort(rng.choice(2000, 150, replace=False)).astype(np.int64)
    b = np.sort(rng.choice(2000, 90, replace=False)).astype(np.int64)
    D = 12
    want = np.zeros(2 * D + 1)
    for t in a:
        for u in b:
            if abs(u - t) <= D:
                want[u - t + D] += 1
    np.testing.assert_array_equal(ccg(a, b, D), want)
    spk = np.concatenate([a, b])
    ptr = np.array([0, a.size, a.size + b.size], np.int64)
    blk = ccg_block(spk, ptr, np.array([0, 1], np.int64), np.array([1, 0], np.int64), D)
    np.testing.assert_array_equal(blk[0, 0], want)
    np.testing.assert_array_equal(blk[1, 1], want[::-1])


def _network(seed=1, duration_s=150.0, n=30):
    """Binned somatic traces of ``n`` neurons: 0 → 1 → 2 is a chain (1 fires 3 ms after 0),
    3 → 2 is a second true input; every other neuron fires independently."""
    rng = np.random.default_rng(seed)
    T = int(duration_s * 1000 / BIN_MS)
    spikes = [np.sort(rng.choice(T - 200, int(rng.uniform(3, 6) * duration_s), replace=False) + 100)
              for _ in range(n)]
    follow = spikes[0] + 6 + rng.integers(-1, 2, spikes[0].size)
    follow = follow[rng.random(follow.size) < 0.9]
    spikes[1] = np.unique(np.concatenate([spikes[1][: spikes[1].size // 2], follow]))
    # membrane potentials: slow OU fluctuation + white noise, plus PSPs
    V = np.empty((T, n), np.float32)
    a = np.exp(-BIN_MS / 20.0)
    for k in range(n):
        ou = lfilter([1.0], [1.0, -a], rng.normal(0, 0.3 * np.sqrt(1 - a * a), T))
        V[:, k] = ou + rng.normal(0, 0.3, T)
    kern = psp_kernel(np.arange(80) * BIN_MS - 1.0, 0.5, 5.0)
    for pre, w in ((1, 0.6), (3, 0.6)):
        drive = np.zeros(T)
        np.add.at(drive, spikes[pre], 1.0)
        V[:, 2] += w * np.convolve(drive, kern)[:T].astype(np.float32)
    return spikes, V


def _sums(spikes, V, p):
    lag0 = int(np.floor(p.baseline_ms[0] / BIN_MS))
    lag1 = int(np.ceil(p.response_ms / BIN_MS))
    L = lag1 - lag0 + 1
    bl0, bl1 = lag0, int(np.ceil(p.baseline_ms[1] / BIN_MS))
    N = V.shape[1]
    acc = np.zeros((N, L, N), np.float32)
    cnt = np.zeros((N, L, N), np.float32)
    Vm = V.copy()
    for k, s in enumerate(spikes):  # the post's own spikes are masked as in pass 2
        for d in range(-4, 13):
            Vm[np.clip(s + d, 0, V.shape[0] - 1), k] = np.nan
    rows = np.concatenate(spikes).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum([s.size for s in spikes])]).astype(np.int64)
    base = spike_baselines(Vm, rows, bl0, bl1, max(1, (bl1 - bl0 + 1) // 2))
    accumulate_pairs(Vm, base, rows, ptr, lag0, acc, cnt)
    return PairSums(acc, cnt, (lag0 + np.arange(L)) * BIN_MS, np.array([s.size for s in spikes]))


@pytest.fixture(scope="module")
def chain():
    p = InferParams(distance_weighted=False)
    spikes, V = _network()
    sums = _sums(spikes, V, p)
    st = pair_statistics(sums, p)
    accepted = st.tested & (st.q <= p.q_threshold)
    n_spk = np.array([s.size for s in spikes], np.float64)
    zj, n_fit = joint_refit(st, sums, [s.astype(np.int64) for s in spikes], n_spk, p, BIN_MS, accepted)
    return p, st, accepted, zj, n_fit


def test_pairwise_test_alone_accepts_the_disynaptic_pair(chain):
    p, st, accepted, zj, n_fit = chain
    assert accepted[1, 2] and accepted[3, 2]
    assert accepted[0, 2], "the chain 0 → 1 → 2 should fool the pairwise test (else this test shows nothing)"


def test_joint_refit_explains_away_the_chain_and_keeps_true_inputs(chain):
    p, st, accepted, zj, n_fit = chain
    assert n_fit >= 1
    assert np.isfinite(zj[[0, 1, 3], 2]).all()
    assert abs(zj[0, 2]) < 0.5 * abs(st.z_best[0, 2])
    for keep in (survives(zj, st.z_best, st.p, st.bh_weight, accepted, st.k_eff),
                 joint_accept(zj, st, p.q_threshold)):
        assert not keep[0, 2]
        assert keep[1, 2] and keep[3, 2]
        assert keep[1, 2] == accepted[1, 2]


def test_joint_z_of_a_true_input_stays_close_to_its_pairwise_z(chain):
    p, st, accepted, zj, n_fit = chain
    assert 0.8 < zj[3, 2] / st.z_best[3, 2] < 1.25


def test_infer_with_joint_refit_only_removes_edges_and_writes_joint_z(tmp_path):
    import h5py

    from connectome.infer import infer_recording
    from connectome.simulate import SimParams, simulate

    rec = simulate(SimParams(n_neurons=30, grid=(8, 8), duration_s=40.0, seed=3), tmp_path / "r.h5").recording
    off = infer_recording(rec, tmp_path / "off")
    on = infer_recording(rec, tmp_path / "on", InferParams(joint_refit=True))
    pairs = lambda r: set(zip(r.connectome.edges["pre"].tolist(), r.connectome.edges["post"].tolist()))  # noqa: E731
    assert pairs(on) <= pairs(off)
    qc = on.summary["qc"]
    # every edge the refit removed is counted as explained away (some of those were non-causal anyway)
    assert len(pairs(off) - pairs(on)) <= qc["rejected_explained_away"]
    assert qc["joint_refit_posts"] >= 1
    header = (tmp_path / "on" / "edges.csv").read_text().splitlines()[0].split(",")
    assert "joint_z" in header
    with h5py.File(tmp_path / "on" / "connectivity.h5") as fh:
        jz = fh["joint_z"][()]
    assert jz.shape == (on.score.shape[0],) * 2 and np.isfinite(jz).any()
    assert "rejected_explained_away" in off.summary["qc"] and off.summary["qc"]["rejected_explained_away"] == 0
