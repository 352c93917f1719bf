"""The weight scale: on the electrode (no assumption) and at the soma (one assumption, the AP height)."""

from __future__ import annotations

import numpy as np
import pytest

from connectome.evaluate import match_neurons, read_truth_arrays
from connectome.graph.formats import read_csv_dir
from connectome.infer import InferParams, infer_recording
from connectome.simulate import SimParams, simulate

pytestmark = pytest.mark.filterwarnings("ignore:.*saturated or non-finite samples:UserWarning")


@pytest.fixture(scope="module")
def tall_aps(tmp_path_factory):
    """A culture whose APs are 110 mV high from rest (the project's default is 80 mV)."""
    tmp = tmp_path_factory.mktemp("tall")
    res = simulate(SimParams(n_neurons=40, grid=(10, 10), duration_s=60.0, seed=5, ap_amplitude_mv=110.0),
                   tmp / "c.h5")
    outs = {}
    for ap in (80.0, 110.0):
        outs[ap] = tmp / f"out{ap:g}"
        infer_recording(res.recording, outs[ap], InferParams(ap_amplitude_mv=ap))
    return res, outs


def _ratios(out, truth_path):
    t = read_truth_arrays(truth_path)
    con = read_csv_dir(out)
    m = match_neurons([[int(c) for c in str(ch).split(";")] for ch in con.neurons["channels"]], t)
    key = {(a, b): (k, w) for a, b, k, w in zip(t.pre.tolist(), t.post.tolist(), t.kind.tolist(), t.weight_mv)}
    e = con.edges
    r = []
    for a, b, k, w in zip(e["pre"], e["post"], e["kind"], e["weight_mv"]):
        hit = key.get((int(m[a]), int(m[b])))
        if hit is not None and hit[0] == k and hit[0] != 3:
            r.append(abs(w / hit[1]))
    return np.array(r)


def test_soma_weight_follows_the_assumed_ap_height(tall_aps):
    res, outs = tall_aps
    r80, r110 = _ratios(outs[80.0], res.truth), _ratios(outs[110.0], res.truth)
    assert len(r80) >= 10 and len(r110) >= 10
    # assuming 80-mV APs on a culture whose APs are 110 mV scales every PSP by 80/110
    assert 0.62 < np.median(r80) < 0.84
    assert 0.9 < np.median(r110) < 1.1


def test_electrode_weight_does_not_depend_on_the_assumption(tall_aps):
    res, outs = tall_aps
    a, b = read_csv_dir(outs[80.0]).edges, read_csv_dir(outs[110.0]).edges
    assert np.array_equal(a["pre"], b["pre"]) and np.array_equal(a["post"], b["post"])
    assert np.allclose(a["weight_electrode_mv"], b["weight_electrode_mv"], rtol=1e-5, atol=1e-7)
    assert np.allclose(b["weight_mv"], a["weight_mv"] * 110.0 / 80.0, rtol=1e-4, atol=1e-6)
    # electrode = soma × the post neuron's electrode AP height / the assumed somatic AP height
    ap = read_csv_dir(outs[80.0]).neurons["ap_amplitude_mv"]
    assert np.allclose(a["weight_electrode_mv"], a["weight_mv"] * ap[a["post"]] / 80.0, rtol=1e-4, atol=1e-7)
