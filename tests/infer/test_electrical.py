"""Electrical synapses: a zero-lag spikelet in both directions, not the sign of a late window."""

import numpy as np

from connectome.infer import classify
from connectome.infer.electrical import is_electrical, spikelet_fit, spikelet_z
from connectome.infer.params import InferParams
from connectome.infer.run import _electrical, _spikelet_z, _with_reverse_junctions
from connectome.infer.sta import PairSums
from connectome.infer.stats import pair_statistics, residual_curves

LAGS = np.arange(-10, 27) * 0.5  # the default −5 … +13 ms
N, NSPK = 60, 400.0


def _k(rise, decay, onset):
    return classify.psp_kernel(LAGS - onset, rise, decay)


# a conductance-based junction: a low-passed AP (peak ≈ 1.2 mV) then the transmitted
# presynaptic after-hyperpolarisation, larger in area: a late window reads negative
GAP = 1.2 * _k(0.3, 2.0, -0.3) - 0.9 * _k(1.5, 20.0, 0.3)
EPSP = 1.0 * _k(1.0, 15.0, 1.0)  # chemical, 1 ms latency
RAMP = 0.08 * (LAGS + 5.0)  # drive shared by both cells: rises before, at and after the spike


def _sums(planted: dict, seed=0):
    rng = np.random.default_rng(seed)
    C = 0.9 ** np.abs(LAGS[:, None] - LAGS[None, :]) + 0.1 * np.eye(len(LAGS))
    X = rng.multivariate_normal(np.zeros(len(LAGS)), C, size=(N, N)) * 2.0 / np.sqrt(NSPK)
    for (i, j), curve in planted.items():
        X[i, j] += curve
    acc = (X * NSPK).transpose(0, 2, 1).astype(np.float32)  # (pre, lags, post)
    return PairSums(acc, np.full_like(acc, NSPK), LAGS, np.full(N, int(NSPK)))


PLANTED = {(3, 5): GAP, (5, 3): GAP, (7, 9): GAP,  # 7 → 9: zero-lag in one direction only
           (11, 13): RAMP, (13, 11): RAMP, (20, 22): EPSP, (22, 20): EPSP}


def _classify(p):
    sums = _sums(PLANTED)
    st = pair_statistics(sums, p)
    pairs = list(PLANTED)
    pre, post = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    resid = residual_curves(sums, pre, post, p)
    A, onset, rise, decay = classify.fit_psp(resid, LAGS, 0.5, fit_from_ms=-1.0, onset_max_ms=p.response_ms - 3.0)
    el, zs = _electrical(_spikelet_z(sums, st, p), st, p, pre, post, onset, decay)
    return dict(zip(pairs, el)), dict(zip(pairs, A)), st, resid


def test_junction_with_transmitted_ahp_is_electrical_in_both_directions():
    el, A, st, _ = _classify(InferParams(distance_weighted=False))
    assert st.q[3, 5] <= 0.01 and st.q[5, 3] <= 0.01
    assert el[(3, 5)] and el[(5, 3)]
    # its late window is negative: a PSP fit alone calls it inhibitory
    assert A[(3, 5)] < 0


def test_no_electrical_without_symmetry_ramp_or_chemical_latency():
    el, _, st, _ = _classify(InferParams(distance_weighted=False))
    assert st.q[7, 9] <= 0.01 and not el[(7, 9)]  # one direction only
    assert not el[(11, 13)] and not el[(13, 11)]  # shared ramp
    assert st.q[20, 22] <= 0.01 and not el[(20, 22)] and not el[(22, 20)]  # reciprocal chemical, 1 ms


def test_defence_off_restores_the_earlier_rule():
    el, _, _, _ = _classify(InferParams(distance_weighted=False, electrical_spikelet=False))
    assert not el[(3, 5)]  # the old rule: fitted onset and decay of one PSP; the AHP wins the fit


def test_spikelet_z_is_calibrated_on_unconnected_pairs():
    p = InferParams()
    sums = _sums({})
    st = pair_statistics(sums, p)
    z = spikelet_z(sums, st.tested, p)
    zt = z[st.tested]
    assert abs(np.median(zt)) < 0.1 and 0.85 < 1.4826 * np.median(np.abs(zt - np.median(zt))) < 1.15
    assert np.all(np.isnan(np.diag(z)))
    pre, post = np.nonzero(st.tested)
    assert np.mean(is_electrical(z, st.tested, pre, post, p)) < 1e-3


def test_spikelet_size_is_its_peak_not_the_ahp():
    p = InferParams(distance_weighted=False)
    sums = _sums({(3, 5): GAP, (5, 3): GAP}, seed=2)
    resid = residual_curves(sums, np.array([3]), np.array([5]), p)
    amp, onset = spikelet_fit(resid, LAGS, 0.5)
    fine = np.arange(-1.0, 5.0, 0.01)
    true_peak = (1.2 * classify.psp_kernel(fine + 0.3, 0.3, 2.0) - 0.9 * classify.psp_kernel(fine - 0.3, 1.5, 20.0)).max()
    assert abs(amp[0] - true_peak) < 0.25 * true_peak
    assert -0.5 <= onset[0] <= 0.5


def test_reverse_direction_of_a_junction_is_reported():
    # one direction accepted, the other below the pairwise test's threshold but with a spikelet
    p = InferParams(distance_weighted=False)
    sums = _sums({(3, 5): GAP, (5, 3): 0.3 * GAP}, seed=3)
    st = pair_statistics(sums, p)
    acc = st.tested & (st.q <= p.q_threshold)
    assert acc[3, 5] and not acc[5, 3]
    pre, post = np.nonzero(acc)
    pre2, post2, n = _with_reverse_junctions(_spikelet_z(sums, st, p), st, acc, pre, post, p)
    pairs = set(zip(pre2.tolist(), post2.tolist()))
    assert n >= 1 and (5, 3) in pairs and (3, 5) in pairs
    assert len(pairs) == len(pre2) == len(pre) + n
    pre3, _, n_off = _with_reverse_junctions(None, st, acc, pre, post, p)
    assert n_off == 0 and len(pre3) == len(pre)


def test_one_direction_with_a_zero_onset_fit_is_electrical():
    # the reverse direction lacks the power to confirm: the zero-lag onset of the whole-response fit decides
    p = InferParams(distance_weighted=False)
    sums = _sums({(3, 5): GAP, (7, 9): GAP}, seed=4)
    st = pair_statistics(sums, p)
    zs = _spikelet_z(sums, st, p)
    pre, post = np.array([3, 7]), np.array([5, 9])
    assert not is_electrical(zs, st.tested, pre, post, p).any()
    assert is_electrical(zs, st.tested, pre, post, p, zero_onset=np.array([True, False])).tolist() == [True, False]
