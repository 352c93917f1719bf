"""Graph statistics (connectome/graph/analysis.py) against networkx and hand-counted values."""

import json

import networkx as nx
import numpy as np
import pytest

from connectome.graph import Connectome
from connectome.graph.analysis import (
    adjacency,
    average_clustering,
    clustering_coefficients,
    connection_probability_by_distance,
    degree_statistics,
    ei_balance,
    graph_statistics,
    kind_codes,
    neuron_types,
    reciprocity,
    transitivity,
    weight_statistics,
)


def ring(n=6, mutual=()):
    """A directed ring 0→1→…→0 plus the reverse edge j→i of each (i, j) in ``mutual``."""
    pre = list(range(n)) + [j for i, j in mutual]
    post = [(i + 1) % n for i in range(n)] + [i for i, j in mutual]
    return Connectome.from_edges(pre, post, weight_mv=[1.0] * len(pre))


@pytest.mark.parametrize("seed", [0, 1])
def test_reciprocity_and_clustering_equal_networkx(seed):
    g = nx.gnp_random_graph(40, 0.12, seed=seed, directed=True)
    a = nx.to_scipy_sparse_array(g)
    assert reciprocity(a) == pytest.approx(nx.overall_reciprocity(g))
    assert average_clustering(a) == pytest.approx(nx.average_clustering(g))
    cl = nx.clustering(g)
    assert clustering_coefficients(a) == pytest.approx([cl[i] for i in range(40)])
    assert transitivity(a) == pytest.approx(nx.transitivity(g.to_undirected()))


def test_hand_made_graph():
    # ring of 6 with two reciprocated pairs: 8 edges, 4 of them reciprocated
    c = ring(6, mutual=[(0, 1), (3, 4)])
    s = graph_statistics(c, null_samples=0)
    assert s["pairs_connected"] == 8 and s["density"] == pytest.approx(8 / 30)
    assert s["reciprocity"] == pytest.approx(0.5)
    assert s["degree"]["in"]["max"] == 2 and s["degree"]["out"]["mean"] == pytest.approx(8 / 6)
    assert s["clustering"]["average"] == 0.0 and s["clustering"]["transitivity"] == 0.0
    assert s["motifs"]["counts"]["111U"] + s["motifs"]["counts"]["111D"] == 4


def test_parallel_edges_and_kinds():
    c = Connectome.from_edges([0, 0, 1, 2], [1, 1, 2, 2], weight_mv=[1.0, 0.2, -0.5, 3.0], kind=[1, 3, 2, 1])
    assert adjacency(c).nnz == 2  # parallel 0→1 once, self-loop 2→2 ignored
    assert adjacency(c, "electrical").nnz == 1 and adjacency(c, "chemical").nnz == 2
    assert kind_codes("excitatory,inhibitory") == [1, 2] and kind_codes("all") is None
    with pytest.raises(ValueError, match="unknown synapse kind"):
        kind_codes("exitatory")
    assert graph_statistics(c, null_samples=0)["self_loops_ignored"] == 1


def test_degrees_on_a_star():
    c = Connectome.from_edges([0, 0, 0], [1, 2, 3], weight_mv=[1, 1, 1], neuron_id=[0, 1, 2, 3, 4])
    d = degree_statistics(adjacency(c))
    assert d["out"]["max"] == 3 and d["out"]["median"] == 0 and d["in"]["mean"] == pytest.approx(0.6)
    assert (d["no_inputs"], d["no_outputs"], d["isolated"]) == (2, 4, 1)


def test_ei_balance_and_types():
    # 0 excitatory (two outputs), 1 inhibitory; neuron 2 gets +1.0 and −0.5 → input E:I = 2
    c = Connectome.from_edges([0, 0, 1], [1, 2, 2], weight_mv=[0.5, 1.0, -0.5], kind=[1, 1, 2])
    assert neuron_types(c).tolist() == ["excitatory", "inhibitory", "unknown"]
    e = ei_balance(c)
    assert (e["excitatory_synapses"], e["inhibitory_synapses"]) == (2, 1)
    assert e["ei_count_ratio"] == 2.0 and e["ei_weight_ratio"] == pytest.approx(3.0)
    assert e["input_ei_ratio"]["median"] == pytest.approx(2.0) and e["input_ei_ratio"]["neurons"] == 1
    assert e["dale_consistent_fraction"] == 1.0
    w = weight_statistics(c)
    assert w["excitatory"]["weight_mv"]["n"] == 2 and w["inhibitory"]["weight_mv"]["max"] == -0.5
    truth_like = Connectome(neurons={"neuron_id": [0, 1], "is_excitatory": [True, False]})
    assert neuron_types(truth_like).tolist() == ["excitatory", "inhibitory"]


def test_connection_probability_by_distance_counts_exactly():
    # neurons at x = 0, 10, 20, 100 µm; edges 0→1 (10 µm), 1→0 (10), 0→3 (100)
    c = Connectome(
        neurons={"neuron_id": [0, 1, 2, 3], "x_um": [0.0, 10.0, 20.0, 100.0], "y_um": [0.0] * 4},
        edges={"pre": [0, 1, 0], "post": [1, 0, 3], "weight_mv": [1.0, 1.0, 1.0]},
    )
    r = connection_probability_by_distance(c, bin_um=50)
    # unordered distances 10, 20, 100, 10, 90, 80 µm, each an ordered pair twice
    # → [0, 50): 6, [50, 100): 4, [100, 150): 2
    assert r["pairs"] == [6, 4, 2] and r["connected"] == [2, 0, 1]
    assert r["probability"] == pytest.approx([1 / 3, 0.0, 0.5])
    assert r["median_distance_connected_um"] == 10.0
    assert r["ci_low"][0] < 1 / 3 < r["ci_high"][0]
    # blocks of rows give the same histogram
    assert connection_probability_by_distance(c, bin_um=50, block=1)["pairs"] == r["pairs"]
    assert connection_probability_by_distance(Connectome.from_edges([0], [1], weight_mv=[1.0])) is None


def test_statistics_are_deterministic_and_strict_json():
    rng = np.random.default_rng(5)
    n = 50
    pre, post = rng.integers(0, n, 200), rng.integers(0, n, 200)
    keep = pre != post
    c = Connectome(
        neurons={"neuron_id": np.arange(n), "x_um": rng.uniform(0, 300, n), "y_um": rng.uniform(0, 300, n)},
        edges={"pre": pre[keep], "post": post[keep], "weight_mv": rng.normal(0, 1, keep.sum())},
    )
    a = graph_statistics(c, seed=2, null_samples=20)
    b = graph_statistics(c, seed=2, null_samples=20)
    assert json.dumps(a, sort_keys=True, allow_nan=False) == json.dumps(b, sort_keys=True, allow_nan=False)
    assert graph_statistics(c, seed=3, null_samples=20)["motifs"]["null_mean"] != a["motifs"]["null_mean"]


def test_empty_and_tiny_connectomes():
    for c in (
        Connectome(),
        Connectome(neurons={"neuron_id": [4]}),
        Connectome(neurons={"neuron_id": [0, 1]}),
    ):
        s = graph_statistics(c, null_samples=10)
        json.dumps(s, allow_nan=False)
        assert s["synapses"] == 0 and s["motifs"]["null_samples"] == 0
