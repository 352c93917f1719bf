"""``infer_recording``: a recording in, a connectome directory out.

Stages: pass 1 (:mod:`.preprocess`: QC, AP detection, binned traces) →
channels → neurons (:mod:`connectome.spikes.neurons`) → pass 2 (:mod:`.sta`:
pairwise evidence) → statistics (:mod:`.stats`) → fits and classes
(:mod:`.classify`) → outputs, written to a temporary directory and renamed
into place (see docs/formats.md, "Inference output directory").
"""

from __future__ import annotations

import json
import logging
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from ..graph.connectome import Connectome
from ..graph.kinds import EdgeKind
from ..io import Recording, atomic_path, open_recording
from ..io.atomic import json_safe
from ..io.checksum import file_fingerprint
from ..io.scratch import make_scratch, release
from ..spikes.neurons import Neurons, find_neurons
from . import classify
from .electrical import SPIKELET_KINETICS_MS
from .events import event_locked, find_events
from .params import InferParams
from .preprocess import run_pass1
from .sta import accumulate
from .stats import pair_statistics, residual_curves

log = logging.getLogger("connectome.infer")
#: recording attributes copied into summary.json's "input" (session metadata, which series and source)
_SESSION_ATTRS = ("identifier", "session_start_time", "session_description", "series", "series_note",
                  "segment", "source_format", "start_time_s")


class InferResult:
    """What :func:`infer_recording` returns: the connectome and its evidence."""

    def __init__(self, connectome, score, weight, delay, summary, joint_z=None):
        self.connectome = connectome
        self.score, self.weight_mv, self.delay_ms = score, weight, delay
        self.summary = summary
        self.joint_z = joint_z  # (N, N) joint-refit z of the pairs refitted (NaN elsewhere), or None


def _versions() -> dict:
    import dask
    import h5py
    import numba
    import scipy
    import zarr

    return {"connectome": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "h5py": h5py.__version__, "zarr": zarr.__version__,
            "dask": dask.__version__, "numba": numba.__version__}


def infer_connectome(path, params: InferParams | None = None, progress=None, tmp_dir=None) -> InferResult:
    """Infer the connectome of one recording (no files written; see :func:`infer_recording`)."""
    p = params or InferParams()
    timings = {}
    t0 = time.perf_counter()
    rec = path if isinstance(path, Recording) else open_recording(path)  # a Recording keeps its series/format
    fp = getattr(rec.store, "fingerprint", None)  # a store not backed by one file hashes samples
    fingerprint = fp() if fp else file_fingerprint(rec.path)
    timings["open_s"] = time.perf_counter() - t0
    work = make_scratch("connectome-infer-", folder=tmp_dir,  # docs/outputs.md: where temporaries live
                        planned_bytes=2 * rec.n_channels * -(-rec.n_samples // max(1, int(round(
                            p.bin_ms * rec.sampling_rate_hz / 1000.0)))))  # binned.f16: bins × channels
    try:
        t = time.perf_counter()
        p1 = run_pass1(rec, p, work, progress)
        timings["pass1_s"] = time.perf_counter() - t
        t = time.perf_counter()
        ch, smp, amp, noise, neurons = find_neurons(p1, rec, p)
        p1.spike_channel, p1.spike_sample, p1.spike_amp_mv = ch, smp, amp
        timings["neurons_s"] = time.perf_counter() - t
        if neurons.n == 0:
            warnings.warn(f"{rec.path}: no neurons with detectable action potentials; the connectome is empty",
                          stacklevel=2)
        t = time.perf_counter()
        sums = accumulate(p1, neurons, p, progress)
        timings["pass2_s"] = time.perf_counter() - t
        t = time.perf_counter()
        if p1.bad_samples.sum():
            warnings.warn(f"{rec.path}: {int(p1.bad_samples.sum())} saturated or non-finite samples on "
                          f"{int(np.count_nonzero(p1.bad_samples))} channels were masked", stacklevel=2)
        result = _finish(rec, p, p1, neurons, sums, noise)  # the rested-PSP sweep reads the binned traces
        timings["stats_s"] = time.perf_counter() - t
    finally:
        release(work)
    timings["total_s"] = time.perf_counter() - t0
    result.summary.update({"input": {"path": str(rec.path), "abs_path": str(Path(rec.path).resolve()),
                                     "fingerprint": fingerprint,
                                     "channels": rec.n_channels, "duration_s": rec.duration_s,
                                     "sampling_rate_hz": rec.sampling_rate_hz,
                                     **{k: rec.attrs[k] for k in _SESSION_ATTRS if k in rec.attrs}},
                           "parameters": p.to_dict(), "versions": _versions(), "timings": timings})
    result.connectome.meta.update({"input_fingerprint": fingerprint, "source": str(rec.path)})
    return result


def _finish(rec, p: InferParams, p1, neurons: Neurons, sums, noise) -> InferResult:
    """Statistics of every pair → accepted synapses → classified edges → the connectome and its summary."""
    N = neurons.n
    nrn = _neuron_table(rec, neurons, noise)
    score = np.full((N, N), np.nan, np.float32)
    weight = np.full((N, N), np.nan, np.float32)
    delay = np.full((N, N), np.nan, np.float32)
    edges = {k: np.zeros(0) for k in ("pre", "post", "kind", "weight_mv", "delay_ms", "score", "p_value", "q_value")}
    joint_z = np.full((N, N), np.nan, np.float32)
    qc = {"channels_coupled": int(sum(len(c) for c in neurons.channels)),
          "saturated_or_nonfinite_samples": int(p1.bad_samples.sum()),
          "channels_with_bad_samples": int(np.count_nonzero(p1.bad_samples))}
    if N >= 2:
        dist = np.hypot(neurons.x_um[:, None] - neurons.x_um[None, :], neurons.y_um[:, None] - neurons.y_um[None, :])
        st = pair_statistics(sums, p, distance_um=dist)
        score[:] = np.where(st.tested, np.abs(st.z_best), np.nan)
        weight[:] = np.where(st.tested, st.window_mean, np.nan)  # best window's mean response (somatic mV)
        delay[:] = np.where(st.tested, st.windows_ms[st.best, 0], np.nan)
        acc = st.tested & (st.q <= p.q_threshold)
        acc, joint_z, n_explained, n_fits = _explain_away(st, sums, neurons, p, p1.bin_samples, rec.sampling_rate_hz,
                                                          acc)
        pre, post = np.nonzero(acc)
        n_noncausal = 0
        junc = _junctions(sums, st, p)
        pre, post, n_reverse_junctions = _with_reverse_junctions(junc, st, acc, pre, post, p)
        events = find_events(neurons, rec.sampling_rate_hz, rec.n_samples, p.network_event_z,
                             p.network_event_pad_ms) if p.network_event_z > 0 else None
        if events is not None:
            qc.update({"network_events": events.count, "network_event_time_fraction": round(events.time_fraction, 4)})
        if pre.size:
            fit, n_noncausal = _classified(sums, st, junc, p, p1, rec.sampling_rate_hz, pre, post)
            pre, post = fit["pre"], fit["post"]
            weight[pre, post] = fit["A"]
            delay[pre, post] = fit["onset"]
            edges = _edge_table(fit, st, score, joint_z, rec, neurons, p, p1, events, sums.own_template)
            if events is not None:
                edges, dropped = _without_event_locked(edges, events, neurons, p, rec.sampling_rate_hz)
                weight[dropped[0], dropped[1]] = np.nan
                delay[dropped[0], dropped[1]] = np.nan
                qc["rejected_event_locked"] = int(dropped[0].size)
        qc.update({"pairs_tested": int(st.tested.sum()), "pairs_untested": int(N * (N - 1) - st.tested.sum()),
                   "bonferroni_count": int(np.sum(st.p[st.tested] <= p.q_threshold / max(1, st.tested.sum()))),
                   "windows": int(len(st.windows_ms)), "effective_windows": round(st.k_eff, 3),
                   "rejected_noncausal": n_noncausal, "electrical_reverse_added": n_reverse_junctions,
                   "junction_pairs_tested": junc.pairs_tested if junc is not None else 0,
                   "joint_refit_posts": n_fits, "rejected_explained_away": n_explained})
    return _assemble(nrn, edges, qc, N, score, weight, delay, joint_z)


def _neuron_table(rec, neurons: Neurons, noise) -> dict:
    """The columns of ``neurons.csv`` known before any pair is tested."""
    N = neurons.n
    counts = neurons.counts()
    best = neurons.best_channel
    return {
        "neuron_id": np.arange(N, dtype=np.int64),
        "channels": np.array([";".join(str(int(c)) for c in ch) for ch in neurons.channels], dtype=object),
        "row": rec.rows[best] if N else np.zeros(0, np.int64),
        "col": rec.cols[best] if N else np.zeros(0, np.int64),
        "x_um": neurons.x_um, "y_um": neurons.y_um,
        "n_spikes": counts, "rate_hz": counts / rec.duration_s,
        "ap_amplitude_mv": neurons.ap_amp_mv,
        "snr": neurons.ap_amp_mv / np.maximum(noise[best], 1e-9) if N else np.zeros(0),
    }


def _classified(sums, st, junc, p: InferParams, p1, fs: float, pre, post) -> tuple[dict, int]:
    """PSP fit of every accepted pair, its kind, and the causality rule; (the kept pairs' fit, pairs rejected).

    Electrical pairs come from the junction test (:mod:`.electrical`) and keep
    a spikelet's size and kinetics; the rest are excitatory or inhibitory by
    the sign of the fitted amplitude. A chemical response cannot begin before
    the presynaptic spike: such a deflection is drive shared with the
    presynaptic cell, not a synapse (``min_chemical_latency_ms``).
    """
    lags = st.lags_ms
    resid = residual_curves(sums, pre, post, p)
    bin_ms = p1.bin_samples / fs * 1000.0
    A, onset, rise, decay = classify.fit_psp(resid, lags, bin_ms, fit_from_ms=-1.0, onset_max_ms=p.response_ms - 3.0)
    electrical, spk_z = _electrical(junc, st, p, pre, post, onset, decay)
    if p.electrical_spikelet and electrical.any():
        A[electrical], onset[electrical] = _spikelet_size(resid[electrical], lags, bin_ms)
        rise[electrical], decay[electrical] = SPIKELET_KINETICS_MS
    kind = np.where(electrical, EdgeKind.ELECTRICAL,
                    np.where(A >= 0, EdgeKind.EXCITATORY, EdgeKind.INHIBITORY)).astype(np.int8)
    causal = electrical | (onset >= p.min_chemical_latency_ms)
    fit = {"pre": pre, "post": post, "A": A, "onset": onset, "rise": rise, "decay": decay, "kind": kind,
           "spk_z": spk_z}
    return {k: v[causal] for k, v in fit.items()}, int((~causal).sum())


def _eventful(fit: dict, st, neurons: Neurons, p: InferParams, fs: float, duration_s: float) -> tuple:
    """Single-trial SNR of every edge and the eventful/uneventful split of excitatory ones (:mod:`.classify`)."""
    pre, post, kind = fit["pre"], fit["post"], fit["kind"]
    k_best = st.best_window[pre, post]
    single = np.abs(st.window_mean[pre, post]) / np.maximum(st.scale[post, k_best], 1e-12)
    rise_p = np.ones(len(pre))
    exc = np.flatnonzero(kind == EdgeKind.EXCITATORY)
    rise_p[exc] = classify.firing_rise_p([neurons.spikes(i) / fs for i in pre[exc]],
                                         [neurons.spikes(j) / fs for j in post[exc]],
                                         fit["onset"][exc] / 1000.0, duration_s)
    eventful = (kind == EdgeKind.EXCITATORY) & ((single >= p.eventful_snr) | (rise_p < p.eventful_rise_p))
    sub = np.where(kind == EdgeKind.EXCITATORY, np.where(eventful, "eventful", "uneventful"), "").astype(object)
    return single, sub


def _edge_table(fit: dict, st, score, joint_z, rec, neurons: Neurons, p: InferParams, p1, events=None,
                template=None) -> dict:
    """The columns of ``edges.csv``, in file order (graph.tables.EDGE_SCHEMA)."""
    pre, post, A, onset, rise, decay, kind = (fit[k] for k in ("pre", "post", "A", "onset", "rise", "decay", "kind"))
    single, sub = _eventful(fit, st, neurons, p, rec.sampling_rate_hz, rec.duration_s)
    pairset = set(zip(pre[kind == EdgeKind.ELECTRICAL].tolist(), post[kind == EdgeKind.ELECTRICAL].tolist()))
    bidir = np.array([(j, i) in pairset for i, j in zip(pre.tolist(), post.tolist())])
    edges = {"pre": pre.astype(np.int64), "post": post.astype(np.int64), "kind": kind,
             "weight_mv": A, "delay_ms": onset, "score": score[pre, post].astype(np.float64),
             "p_value": st.p[pre, post], "q_value": st.q[pre, post], "subclass": sub,
             "n_spikes_used": st.n_used[pre, post].astype(np.int64),
             "rise_ms": rise, "decay_ms": decay, "single_trial_snr": single,
             "bidirectional": bidir.astype(np.int8)}
    cols = _weight_columns(A, pre, post, onset, rise, decay, kind, neurons, p, p1, fit["spk_z"], events, template)
    edges.update({k: cols.pop(k) for k in ("weight_electrode_mv", "spikelet_z")})
    edges["joint_z"] = joint_z[pre, post].astype(np.float64)
    edges.update(cols)  # columns added later go last: readers by position keep working
    return edges


def _without_event_locked(edges: dict, events, neurons: Neurons, p: InferParams, fs: float):
    """Edges minus those whose response does not persist outside network events; (edges, (pre, post) dropped)."""
    n_quiet = np.array([int(m.sum()) for m in events.outside_masks(neurons, fs)], np.int64)
    drop = event_locked(edges, n_quiet, p)
    gone = (np.asarray(edges["pre"])[drop], np.asarray(edges["post"])[drop])
    if drop.any():
        keep = ~drop
        edges = {k: np.asarray(v)[keep] for k, v in edges.items()}
    return edges, gone


def _assemble(nrn: dict, edges: dict, qc: dict, N: int, score, weight, delay, joint_z) -> InferResult:
    """Dale's-law consistency and neuron types, the Connectome, and the summary's counts."""
    kind_arr = np.asarray(edges["kind"], dtype=np.int8)
    e_out, i_out, cons = classify.dale_consistency(np.asarray(edges["pre"], np.int64), kind_arr, N)
    nrn["n_excitatory_out"], nrn["n_inhibitory_out"], nrn["dale_consistency"] = e_out, i_out, cons
    nrn["type"] = np.where(e_out > i_out, "excitatory", np.where(i_out > e_out, "inhibitory", "unknown")).astype(object)
    con = Connectome(neurons=nrn, edges=edges, meta={})
    sub = np.asarray(edges.get("subclass", np.zeros(0)), dtype=object)
    summary = {
        "neurons": N, "synapses": con.n_edges, "by_kind": con.counts_by_kind(),
        "excitatory_eventful": int(np.sum(sub == "eventful")),
        "excitatory_uneventful": int(np.sum(sub == "uneventful")),
        "dale_consistency_mean": float(np.nanmean(cons)) if np.isfinite(cons).any() else None,
        "dale_violating_neurons": int(np.sum(cons < 1.0)),
        "qc": qc,
    }
    return InferResult(con, score, weight, delay, summary, joint_z=joint_z)


def _explain_away(st, sums, neurons: Neurons, p: InferParams, bin_samples: int, fs: float, acc: np.ndarray):
    """Joint refit of each post's candidate inputs (:mod:`.joint`): (kept pairs, joint z, removed, posts refitted)."""
    N = acc.shape[0]
    joint_z = np.full((N, N), np.nan, np.float32)
    if not p.joint_refit or st.filters is None or not acc.any():
        return acc, joint_z, 0, 0
    from .joint import joint_accept, joint_refit, survives

    bin_ms = bin_samples / fs * 1000.0
    spike_bins = [np.asarray(neurons.spikes(k) // bin_samples, np.int64) for k in range(N)]
    n_spk = np.array([s.size for s in spike_bins], np.float64)
    joint_z, n_fits = joint_refit(st, sums, spike_bins, n_spk, p, bin_ms, acc)
    if p.joint_rebh:
        keep = joint_accept(joint_z, st, p.q_threshold)
    else:
        keep = survives(joint_z, st.z_best, st.p, st.bh_weight, acc, st.k_eff)
    return keep, joint_z, int((acc & ~keep).sum()), n_fits


def _junctions(sums, st, p: InferParams):
    """The symmetric spikelet test on every pair (None with ``electrical_spikelet = false``)."""
    if not p.electrical_spikelet:
        return None
    from .electrical import find_junctions

    return find_junctions(sums, st, p)


def _with_reverse_junctions(junc, st, acc, pre, post, p: InferParams):
    """Accepted pairs plus the other tested directions of junctions (``electrical.junction_directions``)."""
    if junc is None:
        return pre, post, 0
    from .electrical import junction_directions

    a, b = junction_directions(junc, st.tested, acc)
    if a.size == 0:
        return pre, post, 0
    pre, post = np.concatenate([pre, a]), np.concatenate([post, b])
    o = np.lexsort((post, pre))  # the order np.nonzero gives
    return pre[o], post[o], int(a.size)


def _electrical(junc, st, p: InferParams, pre, post, onset, decay) -> np.ndarray:
    """Which reported pairs are electrical (see :mod:`connectome.infer.electrical`), and their spikelet z."""
    if junc is not None:
        return junc.electrical[pre, post], np.column_stack([junc.z[pre, post], junc.junction_z[pre, post]])
    # earlier rule: near-zero fitted onset and a spikelet's fast decay or an
    # early reverse pair
    early = np.abs(onset) < p.electrical_max_latency_ms
    early_set = set(zip(pre[early].tolist(), post[early].tolist()))
    reverse_early = np.array([(j, i) in early_set for i, j in zip(pre.tolist(), post.tolist())], bool)
    return early & ((decay <= p.electrical_max_decay_ms) | reverse_early), np.full((len(pre), 2), np.nan)


def _weight_columns(A, pre, post, onset, rise, decay, kind, neurons: Neurons, p: InferParams, p1,
                   spk_z, events=None, template=None) -> dict:
    """Edge columns of the weight scale (:func:`.weights.weight_columns`) and of the junction test."""
    from .weights import weight_columns

    cols = weight_columns(A, pre, post, onset, rise, decay, kind, neurons, p, p1, events, template)
    quiet = cols.pop("weight_quiet_mv")
    cols.update({"spikelet_z": spk_z[:, 0], "junction_z": spk_z[:, 1], "weight_quiet_mv": quiet})
    return cols


def _spikelet_size(resid, lags, bin_ms):
    """Spikelet peak (somatic mV) and onset of electrical pairs, fitted beside a slow component."""
    from .electrical import spikelet_fit

    return spikelet_fit(resid, lags, bin_ms)


def write_outputs(result: InferResult, out_dir) -> Path:
    """Write neurons.csv, edges.csv, connectivity.h5, connectome.graphml, summary.json atomically."""
    import h5py

    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        con = result.connectome
        con.write_csv(tmp)
        with h5py.File(tmp / "connectivity.h5", "w", track_order=True) as fh:
            fh.attrs["description"] = "row = pre, column = post; NaN where untested"
            fh.create_dataset("neuron_id", data=con.neuron_id, track_times=False)
            for name, arr in (("score", result.score), ("weight_mv", result.weight_mv), ("delay_ms", result.delay_ms)):
                # flushed in creation order: identical bytes whatever the garbage collector does
                fh.create_dataset(name, data=arr, track_times=False, compression="gzip", shuffle=True).flush()
            if result.joint_z is not None:
                fh.create_dataset("joint_z", data=result.joint_z, track_times=False, compression="gzip",
                                  shuffle=True).flush()
        con.write_graphml(tmp / "connectome.graphml")
        (tmp / "summary.json").write_text(json.dumps(json_safe(result.summary), indent=1, sort_keys=True) + "\n")
    return out_dir


def infer_recording(path, out_dir, params: InferParams | None = None, progress=None) -> InferResult:
    """Infer a recording's connectome and write the output directory.

    Examples
    --------
    >>> from connectome.infer import infer_recording                  # doctest: +SKIP
    >>> res = infer_recording("sample_data/sample.h5", "out/sample")  # doctest: +SKIP
    >>> res.connectome.n_edges                                         # doctest: +SKIP
    """
    parent = Path(out_dir).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    result = infer_connectome(path, params, progress, tmp_dir=parent)
    write_outputs(result, out_dir)
    return result
