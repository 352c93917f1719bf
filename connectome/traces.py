"""Spike-triggered traces of one neuron pair of an inferred connectome, read back from the recording.

For ``connectome inspect DIR --pair PRE POST``: the presynaptic neuron's
action potentials are detected again on its channels (the inference's own
detector and parameters, from ``DIR/summary.json``), and the postsynaptic
neuron's best channel is cut into windows around them. The recording is
read one chunk at a time — one column per read, only the chunks that hold
presynaptic spikes in the second pass — so memory depends on the chunk
size, never on the recording's length.

Each window is baseline-subtracted (mean over the inference's baseline
lags) and scaled to somatic mV as the inference does: electrode mV ×
nominal AP amplitude (``ap_amplitude_mv`` parameter, 80 mV) ÷ the post
neuron's AP amplitude on that electrode (``neurons.csv``). Windows are left
out when they run past the recording's ends, hold a saturated or
non-finite sample, or hold an action potential of the post neuron (a
deflection above half its AP amplitude) — the inference masks those too.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConfigError, ConnectomeFormatError, RecordingError
from .graph.connectome import Connectome, parse_channels
from .infer.params import InferParams
from .io.checksum import file_fingerprint
from .io.recording import open_recording
from .spikes.triggered import neuron_spike_train, spike_triggered_windows

__all__ = [
    "PairTraces",
    "pair_traces",
    "resolve_recording",
    "inference_params",
    "neuron_spike_train",
    "spike_triggered_windows",
]


@dataclass
class PairTraces:
    """Spike-triggered windows of POST's membrane potential around PRE's spikes.

    Attributes
    ----------
    lags_ms : ndarray
        Time of each sample relative to the presynaptic AP peak.
    mean_mv, sem_mv : ndarray
        Mean over the used windows and its standard error (``units``).
    trials_mv : ndarray
        A few single windows (k × lags), chosen uniformly at random with ``seed``.
    trial_times_s : ndarray
        The presynaptic spike time of each of those windows.
    n_pre_spikes : int
        Presynaptic spikes detected; ``n_trials`` windows were used and
        ``excluded`` says why the others were not.
    edge : dict
        The inference's estimate for this pair: ``accepted`` (an edge in
        edges.csv), ``kind``, ``weight_mv``, ``delay_ms``, ``q_value``
        (or, for a tested pair that is not an edge, the best window's mean
        response and start from connectivity.h5); empty if neither is known.
    """

    pre: int
    post: int
    recording: str
    pre_channels: list
    post_channel: int
    lags_ms: np.ndarray
    mean_mv: np.ndarray
    sem_mv: np.ndarray
    trials_mv: np.ndarray
    trial_times_s: np.ndarray
    n_pre_spikes: int
    n_pre_spikes_inferred: int | None
    n_trials: int
    excluded: dict
    units: str
    baseline_ms: tuple
    edge: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-serialisable description (no arrays)."""
        i = int(np.nanargmax(np.abs(self.mean_mv))) if np.isfinite(self.mean_mv).any() else None
        post_lags = self.lags_ms >= 0
        j = None
        if np.isfinite(self.mean_mv[post_lags]).any():
            k = np.flatnonzero(post_lags)
            j = int(k[np.nanargmax(np.abs(self.mean_mv[post_lags]))])
        return {
            "pre": self.pre,
            "post": self.post,
            "recording": self.recording,
            "pre_channels": self.pre_channels,
            "post_channel": self.post_channel,
            "n_pre_spikes": self.n_pre_spikes,
            "n_pre_spikes_inferred": self.n_pre_spikes_inferred,
            "n_trials": self.n_trials,
            "excluded": self.excluded,
            "units": self.units,
            "baseline_ms": list(self.baseline_ms),
            "peak_after_spike_mv": float(self.mean_mv[j]) if j is not None else None,
            "peak_after_spike_ms": float(self.lags_ms[j]) if j is not None else None,
            "largest_abs_mv": float(self.mean_mv[i]) if i is not None else None,
            "edge": self.edge,
        }


# ------------------------------------------------------------------ locating
def inference_params(con: Connectome) -> InferParams:
    """The :class:`~connectome.infer.InferParams` a connectome was inferred with (``summary.json``).

    The defaults when ``summary.json`` is missing or holds parameters this version does not accept.
    """
    given = (con.meta.get("summary") or {}).get("parameters") or {}
    known = {f for f in InferParams.__dataclass_fields__}
    d = {k: v for k, v in given.items() if k in known}
    if "baseline_ms" in d:
        d["baseline_ms"] = tuple(d["baseline_ms"])
    try:
        return InferParams(**d)
    except (TypeError, ConfigError):
        return InferParams()


def recording_keywords(con: Connectome) -> dict:
    """The ``open_recording`` keywords (``series``, ``segment``) that name the data ``infer`` read,
    from ``summary.json``; empty for a recording with one series."""
    given = (con.meta.get("summary") or {}).get("input") or {}
    return {k: given[k] for k in ("series", "segment") if given.get(k) not in (None, "")}


def resolve_recording(source, con: Connectome, recording=None) -> Path:
    """The recording a connectome was inferred from.

    ``recording`` if given (a warning if its fingerprint differs from the one
    in ``summary.json``); else ``summary.json``'s ``input.path`` — as given
    to ``infer``, so relative to the directory infer ran in: it is tried
    relative to the current directory, the inference directory and its
    parent — accepted only if its sampled fingerprint matches.

    Raises
    ------
    ConnectomeFormatError
        When no candidate exists or matches.
    """
    source = Path(source)
    inp = (con.meta.get("summary") or {}).get("input") or {}
    want = inp.get("fingerprint")
    if recording is not None:
        rp = Path(recording)
        if not rp.exists():
            raise RecordingError("no such file or directory", rp)
        if want and file_fingerprint(rp) != want:
            warnings.warn(
                f"{rp}: not the file {source} was inferred from (its fingerprint differs from "
                f"summary.json's); traces may not match the connectome",
                stacklevel=2,
            )
        return rp
    if not inp.get("path"):
        raise ConnectomeFormatError("no summary.json naming the recording; pass its path as recording", source)
    named = Path(inp["path"])
    base = source if source.is_dir() else source.parent
    cands = (
        [named]
        if named.is_absolute()
        else [
            Path.cwd() / named,
            base / named,
            base.parent / named,
            base / named.name,
            base.parent / named.name,
        ]
    )
    if inp.get("abs_path"):  # where infer found it (absolute), for runs from another directory
        cands.insert(1, Path(inp["abs_path"]))
    tried = []
    for c in cands:
        if c.exists():
            if want and file_fingerprint(c) != want:
                tried.append(f"{c} (different fingerprint)")
                continue
            return c
    why = "; ".join(tried) if tried else "not found"
    raise ConnectomeFormatError(
        f"recording {inp['path']!r} (summary.json's input, relative to where infer ran): "
        f"{why}; pass its path as recording",
        source,
    )


def _channels(con: Connectome, nid: int, source) -> list:
    if "channels" not in con.neurons:
        raise ConnectomeFormatError(
            "neurons have no 'channels' column (an inference directory has one); "
            "spike-triggered traces need it",
            source,
        )
    row = int(con.index_of(np.array([nid]))[0])
    chans = parse_channels(con.neurons["channels"][row])
    if not chans:
        raise ConnectomeFormatError(f"neuron {nid} lists no channels", source)
    return chans


def _inferred_estimate(con: Connectome, source, pre: int, post: int) -> dict:
    e = con.edges
    sel = np.flatnonzero((e["pre"] == pre) & (e["post"] == post))
    if sel.size:
        k = sel[np.argmax(np.abs(e["weight_mv"][sel]))]
        out = {
            "accepted": True,
            "kind": str(con.kind_names()[k]),
            "weight_mv": float(e["weight_mv"][k]),
            "delay_ms": float(e["delay_ms"][k]),
        }
        if "q_value" in e:
            out["q_value"] = float(e["q_value"][k])
        return out
    cpath = (
        Path(source) / "connectivity.h5" if Path(source).is_dir() else Path(source).parent / "connectivity.h5"
    )
    if cpath.exists():
        import h5py

        try:
            with h5py.File(cpath, "r") as fh:
                nid = fh["neuron_id"][()]
                i, j = np.flatnonzero(nid == pre), np.flatnonzero(nid == post)
                if i.size and j.size:
                    w = float(fh["weight_mv"][i[0], j[0]])
                    d = float(fh["delay_ms"][i[0], j[0]])
                    sc = float(fh["score"][i[0], j[0]])
                    if np.isfinite(sc):
                        return {"accepted": False, "kind": None, "weight_mv": w, "delay_ms": d, "score": sc}
                    return {"accepted": False, "tested": False}
        except (OSError, KeyError) as exc:
            raise ConnectomeFormatError(f"cannot read pair evidence ({exc})", cpath) from None
    return {"accepted": False}


def pair_traces(
    source,
    pre: int,
    post: int,
    *,
    connectome: Connectome | None = None,
    recording=None,
    window_ms=None,
    n_examples: int = 5,
    seed: int = 0,
    progress=None,
) -> PairTraces:
    """Spike-triggered traces of the pair PRE → POST of an inference directory.

    Parameters
    ----------
    source : path
        ``connectome infer`` output directory (or its edges.csv).
    pre, post : int
        Neuron ids.
    connectome : Connectome, optional
        ``source`` already read.
    recording : path, optional
        Overrides the recording named in ``summary.json``.
    window_ms : (float, float), optional
        Window around each presynaptic spike (default −10 ms … response + 10 ms).
    n_examples, seed
        Single windows kept for display, chosen with ``seed``.

    Examples
    --------
    >>> tr = pair_traces("out/sample", 3, 4)          # doctest: +SKIP
    >>> tr.n_trials, round(tr.summary()["peak_after_spike_mv"], 2)  # doctest: +SKIP
    (40, 4.1)
    """
    con = connectome if connectome is not None else Connectome.read(source)
    for name, nid in (("pre", pre), ("post", post)):
        if not np.any(con.neuron_id == nid):
            lo, hi = (int(con.neuron_id.min()), int(con.neuron_id.max())) if con.n_neurons else (0, -1)
            raise ConfigError(f"pair {name}={nid}: no such neuron (neuron ids run {lo}…{hi})", source)
    if pre == post:
        raise ConfigError(f"pair: pre and post must be two different neurons, got {pre} twice", source)
    if (con.meta.get("summary") or {}).get("mode") == "spikes":
        raise ConfigError(
            "inferred from sorted spike trains (mode 'spikes'): there are no membrane-potential traces to "
            "average; the pair's test (score, efficacy, latency, p, q) is in connectivity.h5 (docs/spiketrains.md)",
            source,
        )
    pre_ch = _channels(con, pre, source)
    post_ch = _channels(con, post, source)[0]
    p = inference_params(con)
    rec = open_recording(resolve_recording(source, con, recording), **recording_keywords(con))
    top = max(pre_ch + [post_ch])
    if top >= rec.n_channels:
        raise ConnectomeFormatError(
            f"neurons use channel {top} but {rec.path} has {rec.n_channels} channels: "
            f"not the recording of this connectome",
            source,
        )
    row = int(con.index_of(np.array([post]))[0])
    ap = float(con.neurons["ap_amplitude_mv"][row]) if "ap_amplitude_mv" in con.neurons else float("nan")
    somatic = np.isfinite(ap) and ap > 0
    scale = p.ap_amplitude_mv / ap if somatic else 1.0
    if window_ms is None:
        window_ms = (-10.0, p.response_ms + 10.0)
    spikes = neuron_spike_train(rec, pre_ch, p, progress)
    if progress is not None:
        progress.set_description("pair: postsynaptic windows")
    w = spike_triggered_windows(
        rec,
        spikes,
        post_ch,
        window_ms=window_ms,
        baseline_ms=p.baseline_ms,
        scale=scale,
        reject_above_mv=0.5 * ap if somatic else None,
        n_examples=n_examples,
        seed=seed,
        progress=progress,
    )
    prow = int(con.index_of(np.array([pre]))[0])
    n_inf = int(con.neurons["n_spikes"][prow]) if "n_spikes" in con.neurons else None
    return PairTraces(
        pre=int(pre),
        post=int(post),
        recording=os.fspath(rec.path),
        pre_channels=pre_ch,
        post_channel=post_ch,
        lags_ms=w["lags_ms"],
        mean_mv=w["mean"],
        sem_mv=w["sem"],
        trials_mv=w["examples"],
        trial_times_s=w["example_times_s"],
        n_pre_spikes=int(spikes.size),
        n_pre_spikes_inferred=n_inf,
        n_trials=int(w["n"]),
        excluded=w["excluded"],
        units="somatic mV" if somatic else "electrode mV",
        baseline_ms=tuple(p.baseline_ms),
        edge=_inferred_estimate(con, source, pre, post),
    )


#: former names (``connectome.graph.traces``), kept for older callers
_params = inference_params
detect_spikes = neuron_spike_train
