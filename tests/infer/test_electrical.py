"""Electrical synapses: a zero-lag spikelet in both directions, not the sign of a late window."""

import numpy as np

from connectome.infer import classify
from connectome.infer.electrical import find_junctions, junction_test, spikelet_amplitudes, spikelet_fit
from connectome.infer.params import InferParams
from connectome.infer.run import _electrical, _junctions, _with_reverse_junctions
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


def _sums(planted: dict, seed=0, spikes: dict | None = None):
    """Pairwise sums of N neurons: slow noise of 2 mV per spike, curves planted; ``spikes``: {pre: count}."""
    rng = np.random.default_rng(seed)
    n = np.full(N, NSPK)
    for i, k in (spikes or {}).items():
        n[i] = k
    C = 0.9 ** np.abs(LAGS[:, None] - LAGS[None, :]) + 0.1 * np.eye(len(LAGS))
    X = rng.multivariate_normal(np.zeros(len(LAGS)), C, size=(N, N)) * 2.0 / np.sqrt(n)[:, None, None]
    for (i, j), curve in planted.items():
        X[i, j] += curve
    acc = (X * n[:, None, None]).transpose(0, 2, 1).astype(np.float32)  # (pre, lags, post)
    cnt = np.broadcast_to(n[:, None, None], acc.shape).astype(np.float32).copy()
    return PairSums(acc, cnt, LAGS, n.astype(int))


PLANTED = {(3, 5): GAP, (5, 3): GAP, (7, 9): GAP,  # 7 → 9: zero-lag in one direction only
           (11, 13): RAMP, (13, 11): RAMP, (20, 22): EPSP, (22, 20): EPSP}


def _classify(p, planted=PLANTED, seed=0, spikes=None):
    sums = _sums(planted, seed, spikes)
    st = pair_statistics(sums, p)
    pairs = list(planted)
    pre, post = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    resid = residual_curves(sums, pre, post, p)
    A, onset, rise, decay = classify.fit_psp(resid, LAGS, 0.5, fit_from_ms=-1.0,
                                             onset_max_ms=p.response_ms - 3.0)
    el, zs = _electrical(_junctions(sums, st, p), st, p, pre, post, onset, decay)
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


def test_spikelet_amplitudes_are_calibrated_on_unconnected_pairs():
    p = InferParams()
    sums = _sums({})
    st = pair_statistics(sums, p)
    amp, se = spikelet_amplitudes(sums, st.tested, st.n_used, p)
    z = (amp / se)[st.tested]
    assert abs(np.median(z)) < 0.1 and 0.85 < 1.4826 * np.median(np.abs(z - np.median(z))) < 1.15
    assert np.all(np.isnan(np.diag(amp)))
    j = junction_test(amp, se, st.tested, p)
    zj = j.junction_z[np.triu_indices(N, 1)]
    assert j.pairs_tested == N * (N - 1) // 2
    assert abs(np.median(zj)) < 0.1 and 0.85 < 1.4826 * np.median(np.abs(zj - np.median(zj))) < 1.15
    assert not j.electrical.any()
    assert np.array_equal(j.electrical, j.electrical.T)


def test_spikelet_size_is_its_peak_not_the_ahp():
    p = InferParams(distance_weighted=False)
    sums = _sums({(3, 5): GAP, (5, 3): GAP}, seed=2)
    resid = residual_curves(sums, np.array([3]), np.array([5]), p)
    amp, onset = spikelet_fit(resid, LAGS, 0.5)
    fine = np.arange(-1.0, 5.0, 0.01)
    true_peak = (1.2 * classify.psp_kernel(fine + 0.3, 0.3, 2.0)
                 - 0.9 * classify.psp_kernel(fine - 0.3, 1.5, 20.0)).max()
    assert abs(amp[0] - true_peak) < 0.25 * true_peak
    assert -0.5 <= onset[0] <= 0.5


def test_both_tested_directions_of_a_junction_are_reported():
    # a weak junction: neither direction accepted by the chemical test, both together a junction
    p = InferParams(distance_weighted=False)
    weak = 0.25 * GAP
    sums = _sums({(3, 5): GAP, (5, 3): GAP, (30, 31): weak, (31, 30): weak}, seed=3)
    st = pair_statistics(sums, p)
    acc = st.tested & (st.q <= p.q_threshold)
    assert acc[3, 5] and not acc[30, 31] and not acc[31, 30]
    pre, post = np.nonzero(acc)
    pre2, post2, n = _with_reverse_junctions(_junctions(sums, st, p), st, acc, pre, post, p)
    pairs = set(zip(pre2.tolist(), post2.tolist()))
    assert {(5, 3), (3, 5), (30, 31), (31, 30)} <= pairs
    assert len(pairs) == len(pre2) == len(pre) + n
    pre3, _, n_off = _with_reverse_junctions(None, st, acc, pre, post, p)
    assert n_off == 0 and len(pre3) == len(pre)


def test_a_partner_that_fires_little_still_confirms_the_junction():
    # 9 fires 15 times (untested as presynaptic: below min_pre_spikes) but carries the same spikelet;
    # 40 → 41 is a fast chemical EPSP (0.8 ms) and its partner fires as little: not a junction
    p = InferParams(distance_weighted=False)
    planted = {(7, 9): GAP, (9, 7): GAP, (40, 41): 2.0 * _k(0.5, 5.0, 0.8)}
    sums = _sums(planted, seed=4, spikes={9: 15, 41: 15})
    st = pair_statistics(sums, p)
    assert not st.tested[9, 7] and not st.tested[41, 40]
    j = find_junctions(sums, st, p)
    assert j.electrical[7, 9] and j.electrical[9, 7]
    assert not j.electrical[40, 41]
