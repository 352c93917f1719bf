"""Unit tests of the whitened matched-filter statistics (connectome.infer.stats)."""

import numpy as np

from connectome.infer.params import InferParams
from connectome.infer.sta import PairSums
from connectome.infer.stats import kernel_bank, matched_weights, null_covariance, pair_statistics, windows


def _lags():
    return np.arange(-10, 27) * 0.5


def test_kernel_bank_shapes_and_onsets():
    p = InferParams()
    lags = _lags()
    H, meta = kernel_bank(lags, p)
    assert H.shape == (len(meta), len(lags))
    assert np.all(H[:, lags < -0.75] == 0)          # nothing before the earliest onset
    assert np.allclose(H.max(axis=1), 1.0, atol=0.15)  # bin-averaged peak ≈ 1
    chem = meta[:, 0] > 0
    assert meta[chem, 0].min() == 0.5 and meta[chem, 0].max() <= p.response_ms - p.window_ms


def test_matched_weights_are_unit_variance_and_unbiased_under_the_null():
    rng = np.random.default_rng(0)
    lags = _lags()
    L = len(lags)
    # slow (OU-like) correlated noise across lags plus a white part
    C = 0.9 ** np.abs(lags[:, None] - lags[None, :]) * 4 + 0.2 * np.eye(L)
    H, _ = kernel_bank(lags, InferParams())
    W, G = matched_weights(C, H, ridge=0.0)
    X = rng.multivariate_normal(np.zeros(L), C, size=20000)
    assert np.allclose((X @ W).std(axis=0), 1.0, atol=0.03)
    # amplitude of a planted kernel is recovered without bias
    k = 7
    amp = ((X + 2.5 * H[k]) @ G)[:, k]
    assert abs(amp.mean() - 2.5) < 0.05


def test_matched_filter_finds_a_planted_psp_and_calibrates_the_null():
    rng = np.random.default_rng(1)
    N, lags = 80, _lags()
    L = len(lags)
    n = 200.0
    C = 0.93 ** np.abs(lags[:, None] - lags[None, :]) + 0.05 * np.eye(L)
    X = rng.multivariate_normal(np.zeros(L), C, size=(N, N)) / np.sqrt(n)  # STA curves (pre, post, L)
    H, meta = kernel_bank(lags, InferParams())
    k = int(np.argmin(np.abs(meta[:, 0] - 3.5) + np.abs(meta[:, 1] - 0.5)))
    X[3, 5] += 0.6 * H[k]
    acc = (X * n).transpose(0, 2, 1).astype(np.float32)  # (pre, L, post)
    cnt = np.full_like(acc, n)
    sums = PairSums(acc, cnt, lags, np.full(N, int(n)))
    p = InferParams(distance_weighted=False)
    Cn = null_covariance(sums, p)
    assert Cn.shape == (L, L) and np.all(np.isfinite(Cn))
    st = pair_statistics(sums, p)
    assert st.q[3, 5] <= p.q_threshold
    assert np.nanmean(st.q <= p.q_threshold) < 0.01
    assert abs(st.amplitude[3, 5] - 0.6) < 0.2
    z = st.z_best[st.tested]
    assert np.isfinite(z).all()
    # null pairs: the largest |z| of ~20 correlated unit-variance tests
    assert 0.8 < np.median(np.abs(z)) < 3.5


def test_too_few_pairs_fall_back_to_boxcar_windows():
    rng = np.random.default_rng(2)
    N, lags = 8, _lags()
    X = rng.standard_normal((N, len(lags), N)).astype(np.float32)
    sums = PairSums(X * 100, np.full_like(X, 100.0), lags, np.full(N, 100))
    p = InferParams(min_pre_spikes=2)
    assert null_covariance(sums, p) is None
    st = pair_statistics(sums, p)
    assert st.z_best.shape == (N, N) and len(st.windows_ms) == len(windows(p))


def _null_sums(seed, N=80, n=200.0):
    rng = np.random.default_rng(seed)
    lags = _lags()
    L = len(lags)
    C = 0.93 ** np.abs(lags[:, None] - lags[None, :]) + 0.05 * np.eye(L)
    X = rng.multivariate_normal(np.zeros(L), C, size=(N, N)) / np.sqrt(n)  # STA curves (pre, post, L)
    return X, lags, n


def _sums(X, lags, n):
    acc = (X * n).transpose(0, 2, 1).astype(np.float32)  # (pre, L, post)
    return PairSums(acc, np.full_like(acc, n), lags, np.full(X.shape[0], int(n)))


def test_pre_center_kernel_matches_numpy():
    from connectome.infer._kernels import pre_center

    rng = np.random.default_rng(3)
    t = rng.standard_normal((12, 15, 4)).astype(np.float32)
    tested = rng.random((12, 15)) < 0.8
    center = rng.standard_normal((15, 4)).astype(np.float32)
    scale = rng.uniform(0.5, 2.0, (15, 4)).astype(np.float32)
    med, mad, n = pre_center(t, tested, center, scale)
    for i in range(12):
        z = (t[i][tested[i]] - center[tested[i]]) / scale[tested[i]]
        assert n[i] == tested[i].sum()
        np.testing.assert_allclose(med[i], np.median(z, axis=0), rtol=1e-5, atol=1e-6)
        mad_np = np.median(np.abs(z - np.median(z, axis=0)), axis=0)
        np.testing.assert_allclose(mad[i], mad_np, rtol=1e-5, atol=1e-6)


def test_presynaptic_shift_removes_a_burst_locked_row_and_keeps_true_synapses():
    X, lags, n = _null_sums(4)
    H, meta = kernel_bank(lags, InferParams())
    late = int(np.argmin(np.abs(meta[:, 0] - 6.5) + np.abs(meta[:, 1] - 1.5)))
    fast = int(np.argmin(np.abs(meta[:, 0] - 2.0) + np.abs(meta[:, 1] - 0.5)))
    # neuron 7 fires inside network events: every cell depolarises after its spikes
    X[7] += 0.45 * H[late]
    X[7, 9] += 0.6 * H[fast]  # ... and it has one true synapse on top of that
    X[3, 5] += 0.6 * H[fast]  # a true synapse of an ordinary neuron
    sums = _sums(X, lags, n)
    off = pair_statistics(sums, InferParams(distance_weighted=False, pre_center=False))
    on = pair_statistics(sums, InferParams(distance_weighted=False))
    q = InferParams().q_threshold
    assert (off.q[7] <= q).sum() > 20  # without it, the whole row looks connected
    assert (on.q[7] <= q).sum() <= 2 and on.q[7, 9] <= q
    assert on.q[3, 5] <= q
    assert on.pre_shift[7].max() > 3 and np.abs(on.pre_shift[np.arange(80) != 7]).max() < 1.0
    assert np.nanmean(on.q <= q) < 0.01


def test_presynaptic_shift_leaves_a_network_without_shared_responses_alone():
    X, lags, n = _null_sums(5)
    X[3, 5] += 0.6 * kernel_bank(lags, InferParams())[0][10]
    sums = _sums(X, lags, n)
    off = pair_statistics(sums, InferParams(distance_weighted=False, pre_center=False))
    on = pair_statistics(sums, InferParams(distance_weighted=False))
    assert np.mean(on.pre_shift == 0) > 0.9  # soft threshold: rows within noise of 0 are untouched
    tested = on.tested
    assert np.corrcoef(on.z_best[tested], off.z_best[tested])[0, 1] > 0.98
    assert on.q[3, 5] <= InferParams().q_threshold
