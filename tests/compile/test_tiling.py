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
