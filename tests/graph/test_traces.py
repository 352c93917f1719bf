"""Spike-triggered traces of a pair, read back from the recording.

Code: connectome/traces.py and connectome/spikes/triggered.py.
"""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from connectome.errors import ConfigError, ConnectomeFormatError
from connectome.graph import Connectome
from connectome.io import open_recording
from connectome.traces import pair_traces, resolve_recording, spike_triggered_windows


def test_pair_traces_reproduce_the_inference(sample_dir):
    c = Connectome.read(sample_dir)
    e = c.edges
    k = int(np.argmax(np.abs(e["weight_mv"])))  # the strongest synapse
    pre, post = int(e["pre"][k]), int(e["post"][k])
    tr = pair_traces(sample_dir, pre, post, connectome=c)
    row = int(c.index_of(np.array([pre]))[0])
    assert tr.n_pre_spikes == int(c.neurons["n_spikes"][row])  # the inference's own detector, same spikes
    assert tr.n_trials + sum(tr.excluded.values()) == tr.n_pre_spikes
    s = tr.summary()
    assert s["edge"]["accepted"] and s["units"] == "somatic mV"
    # the mean response peaks at the inferred weight (±25 %) after the inferred onset
    assert s["peak_after_spike_mv"] == pytest.approx(e["weight_mv"][k], rel=0.25)
    assert s["peak_after_spike_ms"] > e["delay_ms"][k]
    assert tr.trials_mv.shape == (5, tr.lags_ms.size) and np.all(np.diff(tr.trial_times_s) > 0)
    again = pair_traces(sample_dir, pre, post, connectome=c)
    assert np.array_equal(again.trials_mv, tr.trials_mv)  # same seed, same example trials
    json.dumps(s, allow_nan=False)


class _Spy:
    """A store that records every read's sample and channel span."""

    def __init__(self, store):
        self._store, self.reads = store, []

    def read(self, t0, t1, c0=0, c1=None):
        self.reads.append((t1 - t0, (c1 if c1 is not None else 10**9) - c0))
        return self._store.read(t0, t1, c0, c1)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_windows_read_one_channel_and_one_chunk_at_a_time(sample_recording):
    rec = open_recording(sample_recording)
    spy = _Spy(rec.store)
    rec = dataclasses.replace(rec, store=spy)
    spikes = np.arange(500, rec.n_samples - 500, 997)  # ≈ 300 windows spread over the whole file
    w = spike_triggered_windows(rec, spikes, 6, window_ms=(-10, 20))
    assert w["n"] + sum(w["excluded"].values()) == spikes.size
    chunk = rec.chunks[0]
    lags = w["lags_ms"].size
    assert all(ch == 1 and n <= chunk + lags for n, ch in spy.reads)
    assert len(spy.reads) == -(-rec.n_samples // chunk)


def test_windows_mean_and_sem_of_a_known_signal(sample_recording):
    # windows at every 1000th sample of a channel: the mean and SEM equal those computed directly
    rec = open_recording(sample_recording)
    spikes = np.arange(20_000, 40_000, 1000)
    w = spike_triggered_windows(rec, spikes, 6, window_ms=(-1, 1), baseline_ms=(-1, -0.5))
    x = rec.get_traces(0, 41_000, slice(6, 7))[:, 0].astype(np.float64)
    lag = np.arange(-10, 11)
    win = x[spikes[:, None] + lag[None, :]]
    win -= win[:, lag <= -5].mean(axis=1, keepdims=True)
    assert w["n"] == len(spikes)
    assert np.allclose(w["mean"], win.mean(axis=0), atol=1e-4)
    assert np.allclose(w["sem"], win.std(axis=0, ddof=1) / np.sqrt(len(spikes)), atol=1e-4)


def test_unknown_neuron_and_missing_recording(sample_dir, sample_recording, tmp_path):
    with pytest.raises(ConfigError, match="post=999: no such neuron"):
        pair_traces(sample_dir, 0, 999)
    moved = tmp_path / "moved"
    shutil.copytree(sample_dir, moved)
    summary = json.loads((moved / "summary.json").read_text())
    summary["input"]["path"] = "nowhere/rec.h5"
    summary["input"]["abs_path"] = str(tmp_path / "nowhere" / "rec.h5")
    (moved / "summary.json").write_text(json.dumps(summary))
    c = Connectome.read(moved)
    with pytest.raises(ConnectomeFormatError, match="pass its path as recording"):
        resolve_recording(moved, c)
    assert resolve_recording(moved, c, sample_recording) == sample_recording  # explicit, same fingerprint


def test_recording_found_from_another_directory(sample_dir, tmp_path, monkeypatch):
    """summary.json's path was relative to where infer ran; its abs_path still finds the file."""
    summary = json.loads((sample_dir / "summary.json").read_text())
    monkeypatch.chdir(tmp_path)
    c = Connectome.read(sample_dir)
    assert resolve_recording(sample_dir, c) == Path(summary["input"]["abs_path"])
