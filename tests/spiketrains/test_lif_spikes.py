"""The LIF ground-truth generator: deterministic files the spike-train readers and compare understand."""

from __future__ import annotations

import h5py
import numpy as np

from connectome.graph.connectome import Connectome
from connectome.simulate.lif_spikes import LIFParams, psp_peak_per_unit, simulate_lif_spikes
from connectome.spiketrains import read_spike_trains


def test_lif_files_deterministic_and_readable(tmp_path):
    p = LIFParams(n_neurons=12, duration_s=20.0, seed=4, n_duplicates=1)
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    a, ta = simulate_lif_spikes(p, tmp_path / "1" / "a.h5")
    b, tb = simulate_lif_spikes(p, tmp_path / "2" / "a.h5")
    assert a.read_bytes() == b.read_bytes() and ta.read_bytes() == tb.read_bytes()
    assert ta.name == "a.truth.h5"
    st = read_spike_trains(a)
    assert st.n_units == 13 and st.duration_s == 20.0
    rates = st.counts() / 20.0
    assert 0.5 < np.median(rates) < 40
    truth = Connectome.read(ta)
    assert truth.n_neurons == 12 and truth.n_edges > 0
    assert set(np.unique(truth.edges["kind"]).tolist()) <= {1, 2}
    with h5py.File(ta) as fh:
        exc = fh["neurons/is_excitatory"][()].astype(bool)
        pre, w = fh["edges/pre"][()], fh["edges/weight_mv"][()]
        assert np.all((w > 0) == exc[pre])  # Dale's law
        copy_of = int(fh["duplicates/copy_of"][0])
        assert fh["bursts/start_s"].size >= 0 and fh["common_inputs/member"].size > 0
    # the duplicate unit's spikes are a subset (jittered) of its source's
    src, dup = st.spikes_of(copy_of), st.spikes_of(12)
    i = np.searchsorted(src, dup).clip(1, src.size - 1)
    nearest = np.minimum(np.abs(dup - src[i]), np.abs(dup - src[i - 1]))
    assert np.median(nearest) < 2e-4


def test_psp_peak_per_unit():
    t = np.arange(0, 100, 0.001)
    tm, ts = 20.0, 2.0
    v = ts / (tm - ts) * (np.exp(-t / tm) - np.exp(-t / ts))
    assert np.isclose(v.max(), psp_peak_per_unit(tm, ts), rtol=1e-6)
