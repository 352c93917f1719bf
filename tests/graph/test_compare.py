"""Comparison of connectomes (connectome/graph/compare.py), with exact expected values."""

import numpy as np
import pytest

from connectome.evaluate import evaluate
from connectome.graph import Connectome
from connectome.graph.compare import compare_connectomes, compare_paths, match_neurons, read_with_channels


def random_connectome(n=60, m=300, seed=0, id_offset=0):
    rng = np.random.default_rng(seed)
    key = rng.choice(n * n, size=m * 2, replace=False)
    key = key[key // n != key % n][:m]
    pre, post = key // n, key % n
    exc = rng.random(n) < 0.8
    w = np.where(exc[pre], 1.0, -1.0) * rng.lognormal(0, 0.5, m)
    return Connectome(
        neurons={
            "neuron_id": np.arange(n) + id_offset,
            "x_um": rng.uniform(0, 500, n),
            "y_um": rng.uniform(0, 500, n),
        },
        edges={
            "pre": pre + id_offset,
            "post": post + id_offset,
            "weight_mv": w,
            "kind": np.where(w > 0, 1, 2),
            "delay_ms": rng.uniform(0.5, 3, m),
        },
    )


def test_truth_against_itself_is_perfect(sample_truth):
    r = compare_paths(sample_truth, sample_truth)
    e = r["edges"]
    assert (e["precision"], e["recall"], e["f1"], e["jaccard"]) == (1.0, 1.0, 1.0, 1.0)
    assert r["matching"]["method"] == "channels" and r["b"]["truth"]
    assert r["matched"]["weight_pearson_r"] == pytest.approx(1.0)
    assert r["matched"]["sign_agreement"] == 1.0 and r["matched"]["kind_agreement"] == 1.0


@pytest.mark.parametrize("k", [1, 7, 50])
def test_deleting_k_edges_gives_exact_recall(k):
    b = random_connectome()
    keep = np.ones(b.n_edges, bool)
    keep[np.random.default_rng(k).choice(b.n_edges, k, replace=False)] = False
    r = compare_connectomes(b.subset_edges(keep), b)
    e = r["edges"]
    m = b.n_edges
    assert r["matching"]["method"] == "ids"
    assert e["precision"] == 1.0 and e["recall"] == (m - k) / m and e["jaccard"] == (m - k) / m
    assert (e["true_positives"], e["false_positives"], e["false_negatives"]) == (m - k, 0, k)
    assert e["f1"] == pytest.approx(2 * (m - k) / (2 * m - k))


def test_extra_edges_flipped_signs_and_kinds():
    b = random_connectome(seed=1)
    m = b.n_edges
    # A = B plus 20 new pairs, with the first 10 weights' signs flipped and kinds swapped
    rng = np.random.default_rng(2)
    have = set(zip(b.edges["pre"].tolist(), b.edges["post"].tolist()))
    new = []
    while len(new) < 20:
        i, j = (int(v) for v in rng.integers(0, 60, 2))
        if i != j and (i, j) not in have:
            have.add((i, j))
            new.append((i, j))
    w = b.edges["weight_mv"].copy()
    w[:10] *= -1
    kind = np.where(w > 0, 1, 2)
    a = Connectome(
        neurons=dict(b.neurons),
        edges={
            "pre": np.r_[b.edges["pre"], [p for p, _ in new]],
            "post": np.r_[b.edges["post"], [q for _, q in new]],
            "weight_mv": np.r_[w, np.ones(20)],
            "kind": np.r_[kind, np.ones(20, int)],
        },
    )
    r = compare_connectomes(a, b)
    assert r["edges"]["precision"] == m / (m + 20) and r["edges"]["recall"] == 1.0
    assert r["matched"]["sign_agreement"] == (m - 10) / m
    assert r["matched"]["kind_agreement"] == (m - 10) / m
    assert sum(r["matched"]["kind_confusion"]["excitatory"].values()) == int(np.sum(b.edges["kind"] == 1))


def test_matching_by_position_when_ids_differ():
    b = random_connectome(seed=3)
    a = random_connectome(seed=3, id_offset=1000)
    a.neurons["x_um"] = a.neurons["x_um"] + 2.0  # a small shift: still the closest neuron
    r = compare_connectomes(a, b)
    assert r["matching"]["method"] == "position" and r["matching"]["a_neurons_matched"] == 60
    assert r["edges"]["precision"] == 1.0 and r["edges"]["recall"] == 1.0
    far = compare_connectomes(a, b, max_distance_um=1.0)
    assert far["matching"]["a_neurons_matched"] == 0 and far["edges"]["true_positives"] == 0


def test_matching_by_channels():
    a = Connectome(
        neurons={"neuron_id": [0, 1, 2], "channels": ["5", "7;8", "30"]},
        edges={"pre": [0, 1], "post": [1, 2], "weight_mv": [1.0, -1.0]},
    )
    b = Connectome(
        neurons={"neuron_id": [10, 11], "channels": ["8;9;7", "5"]},
        edges={"pre": [11], "post": [10], "weight_mv": [0.8]},
    )
    m = match_neurons(a, b)
    assert m.method == "channels" and m.b_id.tolist() == [11, 10, -1]
    r = compare_connectomes(a, b)
    # 0→1 maps to 11→10 (in B); 1→2 has an unmatched neuron: a pair B cannot hold
    assert (
        r["edges"]["true_positives"] == 1 and r["edges"]["precision"] == 0.5 and r["edges"]["recall"] == 1.0
    )
    assert r["matching"]["a_neurons_unmatched"] == 1
    with pytest.raises(ValueError, match="channels"):
        match_neurons(Connectome.from_edges([0], [1], weight_mv=[1.0]), b, "channels")


def test_inferred_sample_against_its_truth_agrees_with_evaluate(sample_dir, sample_truth):
    r = compare_paths(sample_dir, sample_truth)
    ev = evaluate(sample_dir, sample_truth)
    assert r["matching"]["method"] == "channels"
    assert r["edges"]["true_positives"] == ev["true_positives"]
    assert r["edges"]["precision"] == pytest.approx(ev["precision"])
    assert "channels" in read_with_channels(sample_truth).neurons
