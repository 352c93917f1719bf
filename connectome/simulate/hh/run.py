"""``simulate_hh()``: a conductance-based network seen through the CNEA electrode model.

Same outputs and truth conventions as :func:`connectome.simulate.simulate`
(docs/formats.md, "Ground truth"): the recording is streamed block by block,
the truth goes to ``<stem>.truth.h5``, both appear under their final names
only when both are complete.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ... import __version__
from ...io.atomic import atomic_path
from ...io.writer import create_recording, recording_format
from .._kernels import NORMAL_TABLE, electrode_block, quantise
from ..activity import Activity
from ..network import Network
from ..run import SimResult, truth_path_for
from ..signal import Synthesizer
from .bursts import detect_bursts, in_burst_fraction
from .engine import HHEngine, measure_gap, measure_psp
from .network import KIND_EXC, KIND_GAP, KIND_INH, build_hh_network
from .params import HHParams


def _electrode_view(p: HHParams, net, rng) -> Synthesizer:
    """The shared electrode model (gains, noise, drift, loss, artefacts) for ``net``'s electrodes."""
    n = net.n_neurons
    e0, f0, i0 = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int8)
    anat = Network(x_um=net.x_um, y_um=net.y_um, row=net.row, col=net.col, is_excitatory=net.is_excitatory,
                   channel_ptr=net.channel_ptr, channel_idx=net.channel_idx, channel_neuron=net.channel_neuron,
                   attenuation=net.attenuation, pre=f0, post=f0, weight_mv=e0, delay_ms=e0, kind=i0,
                   distance_um=e0, gap_cc=e0, p_max=net.p_max)
    none = Activity(spike_ptr=np.zeros(n + 1, np.int64), spike_samples=f0, rate_hz=np.zeros(n),
                    burst_start_s=e0, burst_stop_s=e0, common_ptr=np.zeros(1, np.int64), common_member=f0,
                    common_psp_mv=e0, common_delay_ms=e0, common_event_ptr=np.zeros(1, np.int64),
                    common_event_samples=f0, trigger_p=e0)
    return Synthesizer(p.electrode_params(), anat, none, rng)


def _electrodes(syn: Synthesizer, b: int, s0: int, s1: int, vmT: np.ndarray, sp_neuron, sp_sample):
    """Electrode samples [s0, s1) (time × channels, int16) from V_m (time × neurons),
    as :meth:`Synthesizer.block` does for the point-process model."""
    p, fs = syn.p, syn.fs
    rng = np.random.default_rng([syn.seed, 7, b])
    T, C = s1 - s0, p.n_channels
    t_mid = (s0 + s1) / 2 / fs
    gain = (syn.attenuation * np.exp(-t_mid / syn.coupling_tau_s)).astype(np.float32)
    loss_at = np.clip(syn.loss_sample - s0, 0, T).astype(np.int64)
    common = ((p.common_mode_uv / 1000.0) * rng.standard_normal(T)).astype(np.float32)
    slow = syn._slow(s0, s1, rng)
    x = np.empty((T, C), np.float32)
    electrode_block(vmT, syn.channel_drive, gain, loss_at, syn.offset_f32, syn.noise_sd_f32,
                    syn.key_el, s0, NORMAL_TABLE, common, slow, syn.dec, s0 % syn.dec, x)
    # extracellular pick-up of spikes (trough at the threshold crossing) on uncoupled neighbours
    nn, ss = sp_neuron, sp_sample - s0
    deg = syn.ex_ptr[nn + 1] - syn.ex_ptr[nn]
    tot = int(deg.sum())
    if tot:
        rep = np.repeat(np.arange(len(nn)), deg)
        start = np.repeat(np.cumsum(deg) - deg, deg)
        e = syn.ex_ptr[nn[rep]] + (np.arange(tot) - start)
        syn._add_waveforms(x, syn.ex_ch[e], ss[rep], syn.ex, syn.ex_pre, amp=syn.ex_amp[e], time_major=True)
    syn._add_artefacts(x, s0, s1)
    raw = np.empty((T, C), np.int16)
    quantise(x, syn.inv_scale, syn.status, syn.dead_value, raw)
    return raw


def _truth_edges(net, eng):
    """Chemical synapses then gap junctions (both directions), with measured somatic weights."""
    w, ttp, blocked = measure_psp(eng)
    ga, gb, o = measure_gap(eng)
    nch, ngap = len(net.pre), len(ga)
    exc = net.is_excitatory[net.pre]
    gdist = np.hypot(net.x_um[ga] - net.x_um[gb], net.y_um[ga] - net.y_um[gb])
    g_gap = np.concatenate([net.gap_ns, net.gap_ns])
    # DC coupling coefficient g/(g + G_in) from the partner's resting input conductance
    G_in = eng.input_conductance_ns()
    cc = g_gap / (g_gap + G_in[gb])
    return {
        "pre": np.concatenate([net.pre, ga]), "post": np.concatenate([net.post, gb]),
        "weight_mv": np.concatenate([w, o[:, 0]]),
        "delay_ms": np.concatenate([net.delay_ms, np.zeros(ngap)]),
        "kind": np.concatenate([np.where(exc, KIND_EXC, KIND_INH), np.full(ngap, KIND_GAP)]).astype(np.int8),
        "distance_um": np.concatenate([net.distance_um, gdist]),
        "coupling_coefficient": np.concatenate([np.zeros(nch), cc]),
        "conductance_ns": np.concatenate([net.g_ns, g_gap]),
        "release_u": np.concatenate([eng.stp[net.pre, 0], np.zeros(ngap)]),
        "psp_time_to_peak_ms": np.concatenate([ttp, o[:, 1]]),
        "spikelet_ahp_mv": np.concatenate([np.zeros(nch), o[:, 2]]),
        "suprathreshold": np.concatenate([blocked, o[:, 4] > 0]),
    }


def _write_truth(path: Path, p: HHParams, net, eng, syn, edges, spikes, perm, recording_name: str):
    import h5py

    sp_ptr, sp_t, b0, b1, frac, vm_sd = spikes
    n = net.n_neurons
    kw = {"track_times": False}
    inv = np.argsort(perm)
    with h5py.File(path, "w") as fh:
        fh.attrs["format"] = "cnea-truth"
        fh.attrs["format_version"] = 1
        fh.attrs["recording"] = recording_name
        fh.attrs["simulator"] = f"connectome {__version__} (hh)"
        fh.attrs["model"] = "hh"
        fh.attrs["seed"] = int(p.seed)
        fh.attrs["params"] = json.dumps(p.to_dict(), sort_keys=True)
        fh.attrs["p_max"] = net.p_max
        g = fh.create_group("neurons")
        rate = np.diff(sp_ptr) / p.duration_s
        for k, v in (("id", np.arange(n, dtype=np.int64)), ("channel_ptr", net.channel_ptr),
                     ("channel_idx", inv[net.channel_idx]), ("is_excitatory", net.is_excitatory),
                     ("x_um", net.x_um), ("y_um", net.y_um), ("row", net.row), ("col", net.col),
                     ("spike_ptr", sp_ptr), ("spike_times_s", sp_t), ("rate_hz", rate),
                     ("vm_noise_mv", vm_sd), ("vm_noise_tau_ms", np.full(n, p.noise_tau_ms)),
                     ("burst_fraction", frac), ("v_rest_mv", eng.rest[:, 0]),
                     ("cell_type", net.cell[:, 0].astype(np.int8)), ("area_um2", net.area_um2),
                     ("g_leak_ms_cm2", net.cell[:, 4]), ("bias_ua_cm2", net.cell[:, 6]),
                     ("noise_ua_cm2", net.noise_sd), ("drive_group", net.group), ("drive_loading", net.loading)):
            g.create_dataset(k, data=v, **kw)
        e = fh.create_group("edges")
        for k, v in edges.items():
            e.create_dataset(k, data=v, **kw)
        c = fh.create_group("channels")
        for k, v in (("attenuation", syn.attenuation), ("neuron", net.channel_neuron),
                     ("coupling_tau_s", syn.coupling_tau_s), ("loss_time_s", syn.loss_time_s),
                     ("noise_uv", syn.noise_uv), ("status", syn.status),
                     ("scale_mv", syn.scale_mv), ("offset_mv", syn.offset_mv)):
            c.create_dataset(k, data=np.asarray(v)[perm], **kw)
        c.create_dataset("grid_index", data=perm.astype(np.int64), **kw)
        c.attrs["status_codes"] = "0 ok, 1 dead (flat), 2 saturated, 3 noisy"
        b = fh.create_group("bursts")
        b.create_dataset("start_s", data=b0, **kw)
        b.create_dataset("stop_s", data=b1, **kw)
        a0, a1, patch = syn.artefact_windows_s()
        a = fh.create_group("artefacts")
        a.create_dataset("start_s", data=a0, **kw)
        a.create_dataset("stop_s", data=a1, **kw)
        a.create_dataset("patch", data=patch, **kw)
        a["patch"].attrs["columns"] = "row0, row1, col0, col1 (half-open)"


def simulate_hh(params: HHParams, out, progress=None) -> SimResult:
    """Simulate an HH network on the array; write ``out`` and ``<stem>.truth.h5``.

    ``progress``: an optional tqdm-like object (``total``, ``update``).
    """
    t_start = time.perf_counter()
    p = params
    out = Path(out)
    recording_format(out)
    truth = truth_path_for(out)
    net = build_hh_network(p, np.random.default_rng([p.seed, 1]))
    eng = HHEngine(p, net)
    edges = _truth_edges(net, eng)
    syn = _electrode_view(p, net, np.random.default_rng([p.seed, 3]))
    C = p.n_channels
    perm = np.random.default_rng([p.seed, 4]).permutation(C) if p.shuffle_channels else np.arange(C)
    rows, cols = p.grid
    r, c = np.divmod(perm, cols)
    fs = p.sampling_rate_hz
    block = max(1, int(round(p.chunk_s * fs)))
    n_blocks = -(-p.n_samples // block)
    if progress is not None:
        progress.total = n_blocks
        progress.set_description(f"simulate {out.name}") if hasattr(progress, "set_description") else None
    attrs = {"device": "simulated CNEA (connectome HH network simulator)", "pitch_um": float(p.pitch_um),
             "start_time": "2000-01-01T00:00:00", "simulator_seed": int(p.seed)}
    all_n, all_t = [], []
    prev = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    with atomic_path(truth) as ttmp:
        with create_recording(out, n_samples=p.n_samples, n_channels=C, sampling_rate_hz=fs,
                              dtype="int16", scale=syn.scale_mv[perm], offset=0.0, rows=r, cols=c,
                              x_um=c * p.pitch_um, y_um=r * p.pitch_um, attrs=attrs,
                              chunk_samples=block, compression=p.compression) as w:
            for b in range(n_blocks):
                s0, s1 = b * block, min(p.n_samples, (b + 1) * block)
                vmT, sn, st = eng.run(s1 - s0)
                ss = np.round(st * fs).astype(np.int64)
                all_n.append(sn)
                all_t.append(st)
                raw = _electrodes(syn, b, s0, s1, vmT, np.concatenate([prev[0], sn]),
                                  np.concatenate([prev[1], ss]))
                prev = (sn, ss)
                w.write(s0, raw[:, perm] if p.shuffle_channels else raw)
                if progress is not None:
                    progress.update(1)
            sn = np.concatenate(all_n) if all_n else np.zeros(0, np.int64)
            st = np.concatenate(all_t) if all_t else np.zeros(0)
            order = np.lexsort((st, sn))
            sn, st = sn[order], st[order]
            n = net.n_neurons
            sp_ptr = np.concatenate([[0], np.cumsum(np.bincount(sn, minlength=n))]).astype(np.int64)
            b0, b1 = detect_bursts(sn, st, n, p.duration_s)
            frac = in_burst_fraction(sn, st, n, b0, b1)
            vs = eng.vstat
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = vs[:, 1] / vs[:, 0]
                vm_sd = np.sqrt(np.maximum(vs[:, 2] / vs[:, 0] - mean ** 2, 0.0))
            vm_sd = np.nan_to_num(vm_sd, nan=float(np.nanmedian(vm_sd)) if np.isfinite(vm_sd).any() else 0.0)
            _write_truth(ttmp, p, net, eng, syn, edges, (sp_ptr, st, b0, b1, frac, vm_sd), perm, out.name)
    counts = {"excitatory": int((edges["kind"] == KIND_EXC).sum()),
              "inhibitory": int((edges["kind"] == KIND_INH).sum()),
              "electrical": int((edges["kind"] == KIND_GAP).sum())}
    return SimResult(recording=out, truth=truth, n_neurons=net.n_neurons, n_edges=counts,
                     n_spikes=int(len(st)), wall_s=time.perf_counter() - t_start)
