"""``simulate()``: write a synthetic CNEA recording and its ground truth.

The recording (HDF5 or zarr v3) is streamed block by block; the truth goes
to a separate ``<stem>.truth.h5`` that the pipeline never reads (contract in
docs/formats.md). Both appear under their final names only when both are
complete.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..graph.kinds import EdgeKind
from ..io.atomic import atomic_path
from ..io.writer import create_recording, recording_format
from .activity import generate_activity
from .network import build_network
from .params import SimParams
from .signal import Synthesizer, spikelet_peak_per_cc


def truth_path_for(recording_path) -> Path:
    """``x.h5`` / ``x.zarr`` → ``x.truth.h5`` beside it."""
    p = Path(recording_path)
    return p.with_name(p.name[: -len(p.suffix)] + ".truth.h5") if p.suffix else p.with_name(p.name + ".truth.h5")


@dataclass
class SimResult:
    recording: Path
    truth: Path
    n_neurons: int
    n_edges: dict
    n_spikes: int
    wall_s: float


def _write_truth(path: Path, p: SimParams, net, act, syn: Synthesizer, recording_name: str):
    import h5py

    fs = p.sampling_rate_hz
    kw = {"track_times": False}
    with h5py.File(path, "w") as fh:
        fh.attrs["format"] = "cnea-truth"
        fh.attrs["format_version"] = 1
        fh.attrs["recording"] = recording_name
        fh.attrs["simulator"] = f"connectome {__version__}"
        fh.attrs["seed"] = int(p.seed)
        fh.attrs["params"] = json.dumps(p.to_dict(), sort_keys=True)
        fh.attrs["p_max"] = net.p_max
        n = net.n_neurons
        g = fh.create_group("neurons")
        for k, v in (("id", np.arange(n, dtype=np.int64)), ("channel_ptr", net.channel_ptr),
                     ("channel_idx", net.channel_idx), ("is_excitatory", net.is_excitatory),
                     ("x_um", net.x_um), ("y_um", net.y_um), ("row", net.row), ("col", net.col),
                     ("spike_ptr", act.spike_ptr), ("spike_times_s", act.spike_samples / fs),
                     ("rate_hz", act.rate_hz), ("vm_noise_mv", syn.vm_noise_mv),
                     ("vm_noise_tau_ms", np.full(n, p.vm_noise_tau_ms)),
                     ("burst_depol_mv", syn.burst_gain.astype(np.float64))):
            g.create_dataset(k, data=v, **kw)
        e = fh.create_group("edges")
        for k, v in (("pre", net.pre), ("post", net.post), ("weight_mv", net.weight_mv),
                     ("delay_ms", net.delay_ms), ("kind", net.kind), ("distance_um", net.distance_um),
                     ("coupling_coefficient", net.gap_cc), ("trigger_p", act.trigger_p)):
            e.create_dataset(k, data=v, **kw)
        c = fh.create_group("channels")
        for k, v in (("attenuation", syn.attenuation), ("neuron", net.channel_neuron),
                     ("coupling_tau_s", syn.coupling_tau_s), ("loss_time_s", syn.loss_time_s),
                     ("noise_uv", syn.noise_uv), ("status", syn.status),
                     ("scale_mv", syn.scale_mv), ("offset_mv", syn.offset_mv)):
            c.create_dataset(k, data=v, **kw)
        c.attrs["status_codes"] = "0 ok, 1 dead (flat), 2 saturated, 3 noisy"
        b = fh.create_group("bursts")
        b.create_dataset("start_s", data=act.burst_start_s, **kw)
        b.create_dataset("stop_s", data=act.burst_stop_s, **kw)
        a0, a1, patch = syn.artefact_windows_s()
        a = fh.create_group("artefacts")
        a.create_dataset("start_s", data=a0, **kw)
        a.create_dataset("stop_s", data=a1, **kw)
        a.create_dataset("patch", data=patch, **kw)
        a["patch"].attrs["columns"] = "row0, row1, col0, col1 (half-open)"
        ci = fh.create_group("common_inputs")
        for k, v in (("member_ptr", act.common_ptr), ("member", act.common_member),
                     ("psp_mv", act.common_psp_mv), ("delay_ms", act.common_delay_ms),
                     ("event_ptr", act.common_event_ptr), ("event_times_s", act.common_event_samples / fs)):
            ci.create_dataset(k, data=v, **kw)


def simulate(params: SimParams, out, progress=None) -> SimResult:
    """Simulate a culture on the array and write ``out`` plus ``<stem>.truth.h5``.

    ``progress``: an optional tqdm-like object (``total``, ``update``).
    """
    t_start = time.perf_counter()
    p = params
    out = Path(out)
    recording_format(out)                      # fail early on a bad suffix
    truth = truth_path_for(out)
    rng = np.random.default_rng([p.seed, 1])
    net = build_network(p, rng, spikelet_peak_per_cc(p))
    act = generate_activity(p, net, np.random.default_rng([p.seed, 2]))
    syn = Synthesizer(p, net, act, np.random.default_rng([p.seed, 3]))
    rows, cols = p.grid
    ch = np.arange(p.n_channels)
    r, c = np.divmod(ch, cols)
    fs = p.sampling_rate_hz
    block = max(1, int(round(p.chunk_s * fs)))
    n_blocks = -(-p.n_samples // block)
    if progress is not None:
        progress.total = n_blocks
        progress.set_description(f"simulate {out.name}") if hasattr(progress, "set_description") else None
    attrs = {"device": "simulated CNEA (connectome simulator)", "pitch_um": float(p.pitch_um),
             "start_time": "2000-01-01T00:00:00", "simulator_seed": int(p.seed)}
    with atomic_path(truth) as ttmp:
        _write_truth(ttmp, p, net, act, syn, out.name)
        with create_recording(out, n_samples=p.n_samples, n_channels=p.n_channels, sampling_rate_hz=fs,
                              dtype="int16", scale=syn.scale_mv, offset=0.0, rows=r, cols=c,
                              x_um=c * p.pitch_um, y_um=r * p.pitch_um, attrs=attrs,
                              chunk_samples=block, compression=p.compression) as w:
            for b in range(n_blocks):
                s0, s1 = b * block, min(p.n_samples, (b + 1) * block)
                w.write(s0, syn.block(b, s0, s1))
                if progress is not None:
                    progress.update(1)
    counts = {k.label: int((net.kind == k).sum()) for k in EdgeKind}
    return SimResult(recording=out, truth=truth, n_neurons=net.n_neurons, n_edges=counts,
                     n_spikes=int(len(act.spike_samples)), wall_s=time.perf_counter() - t_start)
