"""Tiling: crossbar invariants, only non-empty tiles, partitioner beats the baselines."""

import numpy as np
import pytest

from connectome.compile import tiling
from connectome.compile.report import lower_bound


def _indices(c):
    return c.index_of(c.edges["pre"]), c.index_of(c.edges["post"])


@pytest.mark.parametrize("partitioner", ["metis", "rcm", "identity"])
def test_tiling_invariants(small_connectome, partitioner):
    c = small_connectome
    pre, post = _indices(c)
    g = (c.edges["weight_mv"] < 0).astype(np.int64)
    t = tiling.tile_synapses(c.n_neurons, pre, post, g, rows=32, col_slots=16, partitioner=partitioner, seed=1)
    # each synapse sits in a row carrying its pre and a column block holding its post, of its group
    assert np.array_equal(t.row_neuron[t.tile, t.row], pre)
    assert np.array_equal(t.tile_col_block[t.tile], t.col_block[post])
    assert np.array_equal(t.block_neuron[t.col_block[post], t.col_slot[post]], post)
    assert np.array_equal(t.tile_group[t.tile], g)
    # one synapse per (tile, row, column slot); a neuron drives at most one row of a tile
    key = (t.tile * 32 + t.row) * 16 + t.col_slot[post]
    assert np.unique(key).size == len(pre)
    rn = np.sort(t.row_neuron, axis=1)
    assert not np.any((rn[:, 1:] == rn[:, :-1]) & (rn[:, 1:] >= 0))
    # only non-empty tiles; rows filled from the top
    assert np.array_equal(np.unique(t.tile), np.arange(t.n_tiles))
    used = t.row_neuron >= 0
    assert np.all(used[:, 0]) and np.all(np.diff(used.astype(int), axis=1) <= 0)
    # tile numbering: column block, group, part
    k = np.lexsort((t.tile_part, t.tile_group, t.tile_col_block))
    assert np.array_equal(k, np.arange(t.n_tiles))
    assert t.n_tiles == tiling.compact_tile_count(c.n_neurons, pre, post, g, t.rank, 32, 16)


def test_partitioner_beats_baselines_on_clustered_graph(small_connectome):
    c = small_connectome
    pre, post = _indices(c)
    g = np.zeros(len(pre), np.int64)
    counts = {p: tiling.tile_synapses(c.n_neurons, pre, post, g, 64, 32, p, seed=0).n_tiles
              for p in ("metis", "rcm", "identity")}
    naive = tiling.grid_tile_count(pre, post, g, 64, 32)
    lb = lower_bound(len(pre), 64, 32)
    assert lb <= counts["metis"] < counts["identity"] <= naive
    assert counts["metis"] <= counts["rcm"]
    assert counts["metis"] < 0.8 * counts["identity"]


def test_compact_never_worse_than_grid():
    rng = np.random.default_rng(5)
    for _ in range(5):
        n = 200
        pre, post = rng.integers(0, n, 800), rng.integers(0, n, 800)
        key = np.unique(pre * n + post)
        pre, post = key // n, key % n
        g = rng.integers(0, 2, len(pre))
        ident = tiling.tile_synapses(n, pre, post, g, 16, 8, "identity").n_tiles
        assert ident <= tiling.grid_tile_count(pre, post, g, 16, 8)


def test_metis_deterministic_for_seed(small_connectome):
    c = small_connectome
    pre, post = _indices(c)
    a, _ = tiling.order_neurons(c.n_neurons, pre, post, 32, "metis", seed=4)
    b, _ = tiling.order_neurons(c.n_neurons, pre, post, 32, "metis", seed=4)
    assert np.array_equal(a, b)
    assert sorted(a.tolist()) == list(range(c.n_neurons))


def test_empty_and_unknown():
    t = tiling.tile_synapses(5, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), 4, 2)
    assert t.n_tiles == 0 and t.row_neuron.shape == (0, 4)
    with pytest.raises(ValueError, match="unknown partitioner"):
        tiling.order_neurons(3, np.array([0]), np.array([1]), 2, "kahip")


def _spatial(n=2000, m=40_000, seed=0):
    """Neurons uniform on a square, synapses to the neuron nearest a Gaussian-displaced point, ids shuffled."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2))
    sigma = np.sqrt(4 * (m / n) / (2 * np.pi * n))
    tree = cKDTree(xy)
    keys = np.zeros(0, np.int64)
    while len(keys) < m:
        pre = rng.integers(0, n, m)
        _, post = tree.query(xy[pre] + rng.normal(0, sigma, (m, 2)))
        keys = np.unique(np.concatenate([keys, (pre * n + post)[pre != post]]))
    keys = keys[rng.permutation(len(keys))[:m]]
    ids = rng.permutation(n)
    return ids[keys // n], ids[keys % n]


def _check_decoupled(t, pre, post, g, rows, col_slots):
    assert np.array_equal(t.row_neuron[t.tile, t.row], pre)
    assert np.array_equal(t.block_neuron[t.tile_col_block[t.tile], t.syn_slot], post)
    assert np.array_equal(t.tile_group[t.tile], g)
    assert np.unique((t.tile * rows + t.row) * col_slots + t.syn_slot).size == len(pre)
    for table in (t.row_neuron, t.block_neuron):
        s = np.sort(table, axis=1)
        assert not np.any((s[:, 1:] == s[:, :-1]) & (s[:, 1:] >= 0))
    assert np.array_equal(np.unique(t.tile), np.arange(t.n_tiles))
    assert np.array_equal(t.tile_col_block, np.arange(t.n_tiles)) and not t.tile_part.any()


def test_spectral_tiling_invariants_and_determinism(mixed_connectome):
    c = mixed_connectome
    pre, post = _indices(c)
    g = (c.edges["kind"] == 3).astype(np.int64) * 2 + (c.edges["weight_mv"] < 0)
    key = np.unique((g * c.n_neurons + pre) * c.n_neurons + post, return_index=True)[1]
    pre, post, g = pre[key], post[key], g[key]
    a = tiling.tile_synapses(c.n_neurons, pre, post, g, 32, 16, "spectral", seed=2)
    _check_decoupled(a, pre, post, g, 32, 16)
    b = tiling.tile_synapses(c.n_neurons, pre, post, g, 32, 16, "spectral", seed=2)
    assert np.array_equal(a.tile, b.tile) and np.array_equal(a.row, b.row) and np.array_equal(a.slot, b.slot)
    assert a.info["tiles_before_merge"] >= a.n_tiles and a.info["embedding_dims"] in tiling.SPECTRAL_DIMS


def test_spectral_halves_rcm_on_spatial_wiring():
    pre, post = _spatial()
    n = 2000
    g = np.zeros(len(pre), np.int64)
    counts = {p: tiling.tile_synapses(n, pre, post, g, 128, 64, p).n_tiles for p in ("spectral", "metis", "rcm")}
    t = tiling.tile_synapses(n, pre, post, g, 128, 64, "spectral")
    _check_decoupled(t, pre, post, g, 128, 64)
    assert counts["spectral"] <= 0.6 * counts["rcm"] and counts["spectral"] < counts["metis"], counts


def test_rcb_order_leaves_are_exact_and_compact():
    rng = np.random.default_rng(0)
    p = rng.random((1000, 2))
    o = tiling.rcb_order(p, 100)
    assert sorted(o.tolist()) == list(range(1000))
    spans = [np.ptp(p[o[i:i + 100]], axis=0).prod() for i in range(0, 1000, 100)]
    assert max(spans) < 0.25  # each leaf covers about a tenth of the square, never a strip across it
    sub = np.arange(0, 1000, 3)
    assert sorted(tiling.rcb_order(p, 64, sub).tolist()) == sub.tolist()


def test_spectral_embedding_of_a_grid_is_seeded_and_local():
    # a 40×40 lattice with shuffled labels: embedded neighbours are lattice neighbours
    side = 40
    n = side * side
    lab = np.random.default_rng(1).permutation(n)
    y, x = np.divmod(np.arange(n), side)
    right = np.flatnonzero(x < side - 1)
    down = np.flatnonzero(y < side - 1)
    pre = lab[np.concatenate([right, down])]
    post = lab[np.concatenate([right + 1, down + side])]
    adj = tiling.symmetric_graph(n, pre, post)
    e1 = tiling.spectral_embedding(adj, 2, seed=3)
    assert np.array_equal(e1, tiling.spectral_embedding(adj, 2, seed=3))
    assert e1.shape == (n, 2) and np.all(np.isfinite(e1))
    o = tiling.rcb_order(e1, 100)
    inv = np.empty(n, np.int64)
    inv[lab] = np.arange(n)
    dist = []
    for k in range(0, n, 100):  # leaves of 100 are compact patches of the lattice
        yy, xx = np.divmod(inv[o[k:k + 100]], side)
        dist.append(np.mean(np.abs(yy[:, None] - yy[None]) + np.abs(xx[:, None] - xx[None])))
    assert np.mean(dist) < 0.4 * (2 * side / 3)  # random pairs: 2·side/3 apart on average


def test_weighted_spectral_embedding_scales_by_inverse_laplacian_eigenvalue():
    # a 40×20 lattice (distinct eigenvalues): weighting divides coordinate j by 1 − λ_j, so the smoothest
    # direction (the long axis) gets the largest factor and the factors decrease along the columns
    sx, sy = 40, 20
    n = sx * sy
    y, x = np.divmod(np.arange(n), sx)
    right = np.flatnonzero(x < sx - 1)
    down = np.flatnonzero(y < sy - 1)
    adj = tiling.symmetric_graph(n, np.concatenate([right, down]), np.concatenate([right + 1, down + sx]))
    plain = tiling.spectral_embedding(adj, 3, seed=0)
    w = tiling.spectral_embedding(adj, 3, seed=0, weighted=True)
    assert np.array_equal(w, tiling.spectral_embedding(adj, 3, seed=0, weighted=True))
    big = np.abs(plain) > 1e-3 * np.abs(plain).max(axis=0)
    f = [np.median(w[big[:, j], j] / plain[big[:, j], j]) for j in range(3)]
    for j in range(3):
        assert np.allclose(w[big[:, j], j] / plain[big[:, j], j], f[j], rtol=1e-6)
    assert f[0] > f[1] > f[2] > 1.0
    # the first coordinate follows the long axis: monotone in x, up to sign
    r = np.corrcoef(w[:, 0], x)[0, 1]
    assert abs(r) > 0.95
    # more Lanczos vectors: the same leading direction
    e40 = tiling.spectral_embedding(adj, 3, seed=0, ncv=40)
    assert e40.shape == (n, 3) and abs(np.corrcoef(e40[:, 0], plain[:, 0])[0, 1]) > 0.99
