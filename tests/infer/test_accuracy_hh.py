"""Accuracy floors on the second simulator: a small conductance-based (Hodgkin–Huxley) network.

A 40-neuron, 60-s recording of ``connectome simulate --model hh`` (network
bursts, short-term depression, shared drive, gap junctions) seen through the
electrode model, inferred with default settings and scored against its truth.
Floors, not targets: a minute of 40 neurons gives ≈ 20 detectable synapses;
the targets are measured on the 300-s networks by ``benchmarks/accuracy.py
--hh`` (docs/accuracy.md).
"""

from __future__ import annotations

import warnings

import pytest

from connectome.evaluate import evaluate
from connectome.infer import infer_recording
from connectome.simulate.hh import HHParams, simulate_hh


@pytest.fixture(scope="module")
def hh_network(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hh")
    simulate_hh(HHParams(n_neurons=40, grid=(12, 12), duration_s=60.0, seed=11), tmp / "r.h5")
    out = tmp / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # masked artefact samples
        infer_recording(tmp / "r.h5", out)
    return out, tmp / "r.truth.h5"


def test_hh_accuracy_floors(hh_network):
    out, truth = hh_network
    r = evaluate(out, truth)
    assert r["detectability"] == "ideal_sta"  # the recording beside the truth is found
    assert r["neurons_recovered_fraction"] >= 0.9
    assert r["detectable_synapses"] >= 10
    assert r["reported_synapses"] >= 10
    assert r["precision"] >= 0.9
    assert r["recall_detectable"] >= 0.5
    assert r["kind_correct"] >= 0.9
    assert r["median_latency_error_ms"] <= 1.0
    assert r["roc_auc"] > 0.65


def test_hh_false_positive_causes_have_base_rates(hh_network):
    out, truth = hh_network
    r = evaluate(out, truth)
    base = r["false_positive_cause_base_rate"]
    assert set(base) == {"disynaptic", "common_input", "reverse"}
    assert all(0.0 <= v <= 1.0 for v in base.values())
    # a dense network: most unconnected pairs have some chain pre → x → post
    assert base["disynaptic"] > 0.5
