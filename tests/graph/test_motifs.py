"""Triad census and the degree-preserving null (connectome/graph/motifs.py)."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from connectome.graph.motifs import (
    MOTIF_EDGES,
    TRIAD_NAMES,
    binary_csr,
    degree_preserving_null,
    motif_significance,
    triad_census,
)


def _adj(n, edges):
    a = np.zeros((n, n))
    for i, j in edges:
        a[i, j] = 1
    return a


def test_hand_made_counts():
    # out-star 0→1, 0→2, 0→3: three 021D triads around the hub, {1,2,3} empty
    c = triad_census(_adj(4, [(0, 1), (0, 2), (0, 3)]))
    assert c["021D"] == 3 and c["003"] == 1 and sum(c.values()) == 4
    # in-star: 021U; chain 0→1→2: 021C plus the two 012 triads with node 3
    assert triad_census(_adj(4, [(1, 0), (2, 0), (3, 0)]))["021U"] == 3
    c = triad_census(_adj(4, [(0, 1), (1, 2)]))
    assert (c["021C"], c["012"], c["003"]) == (1, 2, 1)
    # complete mutual graph on 4 nodes: every triad is 300
    full = [(i, j) for i in range(4) for j in range(4) if i != j]
    assert triad_census(_adj(4, full))["300"] == 4


@pytest.mark.parametrize("name", TRIAD_NAMES)
def test_each_representative_is_its_type(name):
    c = triad_census(_adj(3, MOTIF_EDGES[name]))
    assert c[name] == 1 and sum(c.values()) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_census_equals_networkx(seed):
    g = nx.gnp_random_graph(35, 0.12, seed=seed, directed=True)
    assert triad_census(nx.to_scipy_sparse_array(g)) == dict(nx.triadic_census(g))


def test_weights_self_loops_and_duplicates_are_ignored():
    a = sp.coo_matrix(([0.3, -2.0, 5.0, 1.0], ([0, 0, 1, 1], [1, 1, 1, 2])), shape=(3, 3))
    assert binary_csr(a).toarray().tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert triad_census(a)["021C"] == 1


def test_null_keeps_every_degree_and_is_simple():
    g = nx.gnp_random_graph(60, 0.08, seed=4, directed=True)
    a = binary_csr(nx.to_scipy_sparse_array(g))
    r = degree_preserving_null(a, seed=7)
    assert np.array_equal(np.asarray(r.sum(0)), np.asarray(a.sum(0)))
    assert np.array_equal(np.asarray(r.sum(1)), np.asarray(a.sum(1)))
    assert r.diagonal().sum() == 0 and r.max() == 1 and r.nnz == a.nnz
    assert (r != a).nnz > a.nnz  # well mixed: most edges moved
    assert (degree_preserving_null(a, seed=7) != r).nnz == 0  # same seed, same graph


def test_significance_is_deterministic_and_finds_reciprocity():
    # a graph with many reciprocal pairs: 102-containing motifs are over-represented
    rng = np.random.default_rng(0)
    n = 80
    pre = rng.integers(0, n, 300)
    post = rng.integers(0, n, 300)
    a = binary_csr(sp.coo_matrix((np.ones(600), (np.r_[pre, post], np.r_[post, pre])), shape=(n, n)))
    r1 = motif_significance(a, null_samples=30, seed=3)
    r2 = motif_significance(a, null_samples=30, seed=3)
    assert r1 == r2
    assert r1["z"]["102"] > 5
    assert r1["counts"] == triad_census(a)
    r0 = motif_significance(a, null_samples=0)
    assert r0["z"]["102"] is None and r0["null_samples"] == 0
