"""Inference against simulator ground truth (small recordings; floors, not targets:
the targets are measured at full scale by benchmarks/accuracy.py)."""

from __future__ import annotations

import csv
import json
import warnings

import h5py
import numpy as np
import pytest

from connectome.cli import main
from connectome.evaluate import evaluate
from connectome.infer import InferParams, infer_recording
from connectome.io.writer import create_recording
from connectome.simulate import SimParams, simulate


@pytest.fixture(scope="module")
def culture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("culture")
    p = SimParams(n_neurons=40, grid=(10, 10), duration_s=90.0, seed=21)
    res = simulate(p, tmp / "c.h5")
    out = tmp / "out"
    infer_recording(res.recording, out)
    return res, out


def test_outputs_follow_the_contract(culture):
    res, out = culture
    for name in ("neurons.csv", "edges.csv", "connectivity.h5", "connectome.graphml", "summary.json"):
        assert (out / name).exists(), name
    with open(out / "edges.csv") as fh:
        header = next(csv.reader(fh))
    for col in ("pre", "post", "kind", "weight_mv", "delay_ms", "score", "p_value", "q_value"):
        assert col in header
    # the declared schema is what infer writes: an empty table gets the same header (graph.tables.EDGE_SCHEMA)
    from connectome.graph.tables import EDGE_SCHEMA

    assert header == list(EDGE_SCHEMA)
    with h5py.File(out / "connectivity.h5") as fh:
        n = len(fh["neuron_id"])
        for k in ("score", "weight_mv", "delay_ms"):
            assert fh[k].shape == (n, n) and fh[k].dtype == np.float32
    s = json.loads((out / "summary.json").read_text())
    assert s["input"]["fingerprint"] and s["parameters"]["q_threshold"] == 0.01


def test_accuracy_floors_against_truth(culture):
    res, out = culture
    r = evaluate(out, res.truth)
    assert r["neurons_recovered_fraction"] >= 0.95
    assert r["duplicate_neurons"] <= 1
    assert r["reported_synapses"] >= 20
    assert r["precision"] >= 0.9
    assert r["recall_detectable"] >= 0.6
    assert r["kind_correct"] >= 0.95
    assert r["median_latency_error_ms"] <= 0.5
    assert r["weight_pearson_r"] >= 0.8
    assert r["roc_auc"] > 0.6


def test_same_input_same_output(culture, tmp_path):
    res, out = culture
    infer_recording(res.recording, tmp_path / "again")
    for name in ("neurons.csv", "edges.csv"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    with h5py.File(out / "connectivity.h5") as a, h5py.File(tmp_path / "again" / "connectivity.h5") as b:
        np.testing.assert_array_equal(a["score"][()], b["score"][()])


def test_recording_without_spikes_gives_an_empty_connectome_and_a_warning(tmp_path):
    path = tmp_path / "noise.h5"
    rng = np.random.default_rng(0)
    with create_recording(path, n_samples=30000, n_channels=9, sampling_rate_hz=1e4, scale=0.005,
                          rows=np.repeat(np.arange(3), 3), cols=np.tile(np.arange(3), 3)) as w:
        w.write(0, rng.normal(0, 6, (30000, 9)).astype(np.int16))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = infer_recording(path, tmp_path / "out")
    assert res.connectome.n_neurons == 0 and res.connectome.n_edges == 0
    assert any("no neurons" in str(w.message) for w in caught)
    assert (tmp_path / "out" / "edges.csv").exists()
    from connectome.graph.tables import EDGE_SCHEMA

    with open(tmp_path / "out" / "edges.csv") as fh:
        assert next(csv.reader(fh)) == list(EDGE_SCHEMA)


def test_coupling_lost_part_way_is_handled(tmp_path):
    """Every coupled channel loses coupling abruptly somewhere: neurons are
    still found and no synapse appears from the dead stretches."""
    p = SimParams(n_neurons=12, grid=(5, 5), duration_s=40.0, seed=4, abrupt_loss_fraction=1.0,
                  electrodes_per_neuron=(1.0, 0.0, 0.0))
    res = simulate(p, tmp_path / "loss.h5")
    infer_recording(res.recording, tmp_path / "out")
    r = evaluate(tmp_path / "out", res.truth)
    assert r["neurons_recovered_fraction"] >= 0.9
    assert r["false_positives"] <= max(1, 0.1 * r["reported_synapses"])


def test_cli_infer_and_bad_parameter(culture, tmp_path):
    res, _ = culture
    assert main(["infer", str(res.recording), "--out", str(tmp_path / "new" / "dir" / "o"), "--quiet"]) == 0
    assert main(["infer", str(res.recording), "--out", str(tmp_path / "p"), "--param", "q_treshold=0.1", "--quiet"]) == 2
    assert not (tmp_path / "p").exists()
