"""The Python API: every stage as a function, objects in and objects out.

Re-exported from the package, so that a notebook reads::

    import connectome
    rec = connectome.open_recording("sample_data/sample.h5")
    inf = connectome.infer(rec)                       # → Inference (connectome + scores)
    pm = connectome.compile(inf.connectome, {"technology": "rram", "rows": 64, "cols": 64})
    report = connectome.verify(pm, inf.connectome)    # → VerifyReport, .to_json()

Each function wraps the library code the command line runs (``connectome
infer``, ``compile``, ``verify``, ``compare``, ``simulate``), so a result is
the same whether it came from here or from the command line; see
docs/api.md. Bad input raises a :class:`~connectome.errors.ConnectomeError`
subclass naming the file or parameter; nothing is written unless a ``write``
or ``save`` method is called (``simulate`` writes the recording it makes).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

import numpy as np

from .compile import CompileOptions, compile_connectome, source_files
from .devices import load_technology
from .errors import ConfigError, check_known_keys
from .graph.compare import compare_connectomes, compare_paths
from .graph.connectome import Connectome, require_pandas
from .graph.formats import read_connectome
from .infer import InferParams, InferResult, infer_connectome, write_outputs
from .infer.preprocess import run_pass1
from .io import Recording, open_recording
from .io.atomic import atomic_path
from .io.interop import is_si_recording
from .io.progmap import ProgrammingMap, read_map, write_map
from .io.scratch import make_scratch, release
from .io.writer import create_recording
from .spikes.neurons import Neurons, find_neurons
from .verify import verify_map, verify_objects
from .verify.report import format_report

__all__ = [
    "open_recording",
    "detect_spikes",
    "SpikeTable",
    "infer",
    "Inference",
    "Connectome",
    "read_connectome",
    "compile",
    "CompiledMap",
    "verify",
    "VerifyReport",
    "Report",
    "compare",
    "imprint",
    "simulate",
    "Simulation",
]

log = logging.getLogger("connectome.api")


# ------------------------------------------------------------------ helpers
def _recording(source) -> Recording:
    if isinstance(source, Recording):
        return source
    if isinstance(source, (str, os.PathLike)) or is_si_recording(source):
        return open_recording(source)
    raise ConfigError(
        "expected a Recording, the path of a recording or a SpikeInterface recording, "
        f"got {type(source).__name__}"
    )


def _infer_params(params) -> InferParams:
    if params is None:
        return InferParams()
    if isinstance(params, InferParams):
        return params
    if isinstance(params, dict):
        return InferParams.from_dict(params)
    raise ConfigError(f"inference parameters: expected InferParams or a dict, got {type(params).__name__}")


def _connectome(source) -> Connectome:
    if isinstance(source, Connectome):
        return source
    if isinstance(source, Inference):
        return source.connectome
    if isinstance(source, (str, os.PathLike)):
        return read_connectome(source)
    raise ConfigError(
        f"expected a Connectome, an Inference or the path of a connectome, got {type(source).__name__}"
    )


class Report(dict):
    """A JSON-serialisable report (a dict) with :meth:`to_json` and :meth:`write`."""

    def to_json(self, indent: int | None = 1) -> str:
        """The report as JSON text (sorted keys: same report, same text)."""
        return json.dumps(self, indent=indent, sort_keys=True, allow_nan=False)

    def write(self, path) -> Path:
        """Write :meth:`to_json` to ``path`` atomically (a temporary name, then a rename)."""
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(self.to_json() + "\n")
        return path


# ----------------------------------------------------------- spike detection
@dataclass
class SpikeTable:
    """Action potentials detected in a recording, per channel and per neuron.

    Attributes
    ----------
    channel, sample : ndarray of int64
        Every detected AP (after the small-candidate cleaning of the
        inference), sorted by channel then sample.
    amplitude_mv : ndarray of float32
        Its amplitude on that electrode (peak minus pre-spike baseline).
    neurons : Neurons
        Channels merged into neurons (:mod:`connectome.spikes.neurons`):
        ``neurons.channels[k]``, ``neurons.spikes(k)`` (sample indices).
    sampling_rate_hz : float
    params : InferParams
        The detection parameters used.
    """

    channel: np.ndarray
    sample: np.ndarray
    amplitude_mv: np.ndarray
    neurons: Neurons
    sampling_rate_hz: float
    params: InferParams = field(default_factory=InferParams)

    @property
    def n_spikes(self) -> int:
        return int(self.sample.size)

    @property
    def times_s(self) -> np.ndarray:
        """Every AP's time in seconds (same order as :attr:`sample`)."""
        return self.sample / self.sampling_rate_hz

    def neuron_times_s(self, k: int) -> np.ndarray:
        """Spike times (s) of neuron ``k`` (0 … ``neurons.n`` − 1)."""
        return self.neurons.spikes(k) / self.sampling_rate_hz

    def to_pandas(self):
        """A :class:`pandas.DataFrame`: ``channel, sample, time_s, amplitude_mv`` (needs pandas)."""
        pd = require_pandas("SpikeTable.to_pandas")
        return pd.DataFrame(
            {
                "channel": self.channel,
                "sample": self.sample,
                "time_s": self.times_s,
                "amplitude_mv": self.amplitude_mv,
            }
        )


def detect_spikes(recording, params=None, progress=None) -> SpikeTable:
    """Detect action potentials and group channels into neurons, without inferring connections.

    The inference's own first pass (:func:`connectome.infer.preprocess.run_pass1`:
    high-pass, robust threshold, peak scan; saturated samples masked), its
    cleaning of small candidates and its channel merging, streamed one chunk
    at a time (memory does not grow with the recording's length).

    Parameters
    ----------
    recording : Recording or path
    params : InferParams or dict, optional
        Detection parameters (``spike_threshold``, ``refractory_ms``,
        ``min_ap_fraction``, ``merge_*``, ``chunk_s`` …); defaults otherwise.
    progress : tqdm-like, optional

    Returns
    -------
    SpikeTable
    """
    rec = _recording(recording)
    p = _infer_params(params)
    bins = -(-rec.n_samples // max(1, int(round(p.bin_ms * rec.sampling_rate_hz / 1000.0))))
    work = make_scratch("connectome-spikes-", planned_bytes=2 * rec.n_channels * bins)
    try:
        p1 = run_pass1(rec, p, work, progress)
    finally:
        release(work)
    ch, smp, amp, _, neurons = find_neurons(p1, rec, p)
    log.info("detect_spikes: %s: %d spikes, %d neurons", rec.path, ch.size, neurons.n)
    return SpikeTable(
        channel=ch,
        sample=smp,
        amplitude_mv=amp,
        neurons=neurons,
        sampling_rate_hz=float(rec.sampling_rate_hz),
        params=p,
    )


# ------------------------------------------------------------------- infer
class Inference:
    """The result of :func:`infer`: the connectome and the evidence behind it.

    Attributes
    ----------
    connectome : Connectome
        Accepted synapses and the neurons (as ``neurons.csv``/``edges.csv``).
    score, weight_mv, delay_ms : ndarray (N × N)
        Every tested pair's score, weight and delay (row = pre), NaN where
        untested (as ``connectivity.h5``).
    summary : dict
        Counts, QC, parameters, input fingerprint (as ``summary.json``).
    """

    def __init__(self, result: InferResult):
        self.result = result
        self.connectome = result.connectome
        self.score, self.weight_mv, self.delay_ms = result.score, result.weight_mv, result.delay_ms
        self.summary = result.summary

    def write(self, out_dir) -> Path:
        """Write the inference directory (docs/formats.md), atomically; returns its path."""
        out_dir = Path(out_dir)
        out_dir.resolve().parent.mkdir(parents=True, exist_ok=True)
        return write_outputs(self.result, out_dir)

    def __repr__(self) -> str:
        c = self.connectome
        return f"<Inference: {c.n_neurons} neurons, {c.n_edges} synapses {c.counts_by_kind()}>"


class _SpikeInference(Inference):
    """An :class:`Inference` of spike-train mode (docs/spiketrains.md): its own file layout."""

    def write(self, out_dir) -> Path:
        from .spiketrains import write_outputs as write_spikes

        out_dir = Path(out_dir)
        out_dir.resolve().parent.mkdir(parents=True, exist_ok=True)
        return write_spikes(cast(Any, self.result), out_dir)


def infer(
    source,
    params=None,
    *,
    sampling_rate_hz: float | None = None,
    geometry=None,
    scale=1.0,
    offset=0.0,
    progress=None,
    tmp_dir=None,
    mode: str | None = None,
) -> Inference:
    """Infer the connectome of a recording: its path, a :class:`Recording`, or an array of samples.

    Parameters
    ----------
    source : path, Recording or ndarray
        An ndarray is samples × channels: float values in mV (non-finite
        samples are masked as bad), or integer ADC counts with ``scale`` and
        ``offset`` (mV = raw × scale + offset; the dtype's extremes are masked
        as saturated, as in a file). It needs ``sampling_rate_hz`` and, unless
        the channels are one row of a grid, ``geometry``. It is written once to
        a temporary CNEA-HDF5 file (removed afterwards) so that the same
        streaming code reads it.
    params : InferParams or dict, optional
    sampling_rate_hz : float
        Only with an ndarray.
    geometry : dict, optional
        Only with an ndarray: ``rows`` and ``cols`` (grid indices), optionally
        ``x_um``, ``y_um`` and ``pitch_um``.
    scale, offset : float or ndarray (one per channel)
        Only with an integer ndarray.
    progress : tqdm-like, optional
    tmp_dir : path, optional
        Where the temporary folder of the chunked passes goes (default:
        ``$CONNECTOME_TMPDIR`` or the system's; docs/outputs.md). The command
        line puts it next to the output.
    mode : {None, "voltage", "spikes"}
        ``"spikes"``: sorted spike trains (a spike file, a SpikeInterface
        sorting, :class:`connectome.spiketrains.SpikeTrains`; ``params`` are
        then :class:`~connectome.spiketrains.SpikeParams`; docs/spiketrains.md).
        None picks spikes only for an input without membrane potentials.

    Returns
    -------
    Inference
    """
    if mode not in (None, "voltage", "spikes"):
        raise ConfigError(f"mode must be 'voltage' or 'spikes', got {mode!r}")
    if mode == "spikes" or (mode is None and not isinstance(source, (np.ndarray, Recording))):
        from .spiketrains import infer_spike_trains, is_spike_input

        if mode == "spikes" or is_spike_input(source):
            return _SpikeInference(cast(Any, infer_spike_trains(source, params)))
    p = _infer_params(params)
    if isinstance(source, np.ndarray):
        return _infer_array(source, p, sampling_rate_hz, geometry, scale, offset, progress, tmp_dir)
    if sampling_rate_hz is not None or geometry is not None:
        raise ConfigError(
            "sampling_rate_hz and geometry are only for an array of samples (a file has its own)"
        )
    rec = _recording(source)
    if tmp_dir is not None:
        Path(tmp_dir).mkdir(parents=True, exist_ok=True)
    result = Inference(infer_connectome(rec, p, progress, tmp_dir=tmp_dir))
    _log_inference(result, rec.path)
    return result


def _log_inference(result: Inference, source) -> None:
    s = result.summary
    t = s.get("timings", {})
    log.info(
        "infer: %s: %s neurons, %s synapses %s (pass 1 %.1f s, neurons %.1f s, pass 2 %.1f s, statistics %.1f s)",
        source,
        s.get("neurons"),
        s.get("synapses"),
        s.get("by_kind"),
        *(t.get(k, float("nan")) for k in ("pass1_s", "neurons_s", "pass2_s", "stats_s")),
    )


def _infer_array(x: np.ndarray, p: InferParams, fs, geometry, scale, offset, progress, tmp_dir) -> Inference:
    if x.ndim != 2:
        raise ConfigError(f"samples must be a 2-D array (time × channels), got shape {x.shape}")
    if x.dtype.kind in "iu":
        dtype = x.dtype
    elif x.dtype.kind == "f":
        if not (np.all(np.asarray(scale) == 1) and np.all(np.asarray(offset) == 0)):
            raise ConfigError("scale and offset are for integer ADC counts; a float array is taken as mV")
        dtype = np.dtype(np.float32)
    else:
        raise ConfigError(f"samples must be numbers (integer counts or float mV), got dtype {x.dtype}")
    if fs is None:
        raise ConfigError("sampling_rate_hz is needed with an array of samples")
    n_samples, n_channels = x.shape
    g = dict(geometry or {})
    unknown = set(g) - {"rows", "cols", "x_um", "y_um", "pitch_um"}
    if unknown:
        raise ConfigError(
            f"geometry: unknown key(s) {sorted(unknown)}; expected rows, cols, x_um, y_um, pitch_um"
        )
    rows = np.asarray(g.get("rows", np.zeros(n_channels, np.int64)))
    cols = np.asarray(g.get("cols", np.arange(n_channels)))
    work = make_scratch("connectome-array-", folder=tmp_dir, planned_bytes=dtype.itemsize * x.size)
    try:
        path = work / "samples.h5"
        attrs = {"pitch_um": float(g["pitch_um"])} if "pitch_um" in g else None
        with create_recording(
            path,
            n_samples=n_samples,
            n_channels=n_channels,
            sampling_rate_hz=float(fs),
            dtype=dtype,
            scale=scale,
            offset=offset,
            rows=rows,
            cols=cols,
            x_um=g.get("x_um"),
            y_um=g.get("y_um"),
            attrs=attrs,
            compression="none",
        ) as w:
            step = 100_000
            for s in range(0, n_samples, step):
                w.write(s, np.asarray(x[s : s + step], dtype=dtype))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = infer_connectome(path, p, progress, tmp_dir=work)
        for w in caught:  # name the array, not the temporary file that held it
            warnings.warn_explicit(str(w.message).replace(str(path), "<array>"), w.category, __file__, 0)
        result.summary["input"]["path"] = result.summary["input"]["abs_path"] = "<array>"
        result.connectome.meta["source"] = "<array>"
        return Inference(result)
    finally:
        release(work)


# ----------------------------------------------------------------- compile
@dataclass
class CompiledMap(ProgrammingMap):
    """A :class:`~connectome.io.progmap.ProgrammingMap` from :func:`compile`, with :meth:`save`."""

    def save(self, path, *, timings: bool = True, compression: str = "gzip") -> Path:
        """Write the map (.h5 or .zarr) and its summary.json atomically, as ``connectome compile`` does.

        ``timings``: also record the wall-clock time of each compile step in
        summary.json (never in the map itself); the batch runner leaves them
        out so that a re-run writes the same bytes. ``compression``: the HDF5
        filter, ``gzip`` (every HDF5 tool reads it), ``lzf`` or ``none``.
        """
        write_map(self, path, extra_summary={"timings_s": self.timings} if timings else None,
                  compression=compression)
        return Path(path)


def _compile_options(options, overrides: dict) -> CompileOptions:
    if options is None:
        return CompileOptions(**overrides)
    if isinstance(options, CompileOptions):
        if overrides:
            return dataclasses.replace(options, **overrides)
        return options
    if isinstance(options, dict):
        check_known_keys({**options, **overrides}, (f.name for f in fields(CompileOptions)), "compile option")
        return CompileOptions(**{**options, **overrides})
    raise ConfigError(f"compile options: expected CompileOptions or a dict, got {type(options).__name__}")


def compile(connectome, options=None, *, progress=None, **overrides) -> CompiledMap:
    """Compile a connectome into a crossbar programming map (``connectome compile``), in memory.

    Parameters
    ----------
    connectome : Connectome, Inference or path
    options : CompileOptions or dict, optional
        ``technology`` (default ``"rram"``), ``rows``, ``cols``, ``layers``,
        ``scheme``, ``full_scale``, ``weight`` (``"mean"``: ``weight_mv``;
        ``"rested"``: ``weight_rested_mv`` where measured) … (docs/compile.md);
        keyword arguments override single options.
    progress : callable(str), optional
        Called with the name of each compile step as it starts.

    Returns
    -------
    CompiledMap
        The map (tables, attributes, ``summary``); nothing is written until
        :meth:`CompiledMap.save`.
    """
    if options is None or isinstance(options, CompileOptions):
        check_known_keys(overrides, (f.name for f in fields(CompileOptions)), "compile option")
    opts = _compile_options(options, overrides)
    tech = load_technology(opts.technology, opts.technology_file)  # a bad technology fails before any read
    path = Path(connectome) if isinstance(connectome, (str, os.PathLike)) else None
    if progress is not None:
        progress("read")
    con = _connectome(connectome)
    pm = compile_connectome(
        con,
        opts,
        tech=tech,
        source_path=path,
        source_files=source_files(path) if path else None,
        progress=progress,
    )
    sm = pm.summary
    log.info("compile: %s: %s synapses → %s tiles (lower bound %s), %s cells", opts.technology or tech.name,
             sm.get("synapses"), sm.get("tiles"), sm.get("tiles_lower_bound"), sm.get("cells"))
    return CompiledMap(**{f.name: getattr(pm, f.name) for f in fields(ProgrammingMap)})


# ------------------------------------------------------------------ verify
class VerifyReport(Report):
    """The verify report (what ``verify.json`` holds); ``str(report)`` is the command line's text."""

    def __str__(self) -> str:
        return format_report(self)


def verify(programming_map, connectome, **options) -> VerifyReport:
    """Read the map back through device non-idealities and compare it with the connectome.

    What ``connectome verify`` does.

    Parameters
    ----------
    programming_map : ProgrammingMap (e.g. a CompiledMap) or path
    connectome : Connectome, Inference or path
        The connectome the map was compiled from.
    **options
        Those of :func:`connectome.verify.verify_map`: ``after_s``, ``seed``,
        ``functional``, ``stuck_fraction`` …

    Returns
    -------
    VerifyReport
        For objects given in memory, ``map.path``/``connectome.path`` are ``"<in memory>"``.
    """
    map_in_memory = isinstance(programming_map, ProgrammingMap)
    con_in_memory = not isinstance(connectome, (str, os.PathLike))
    if not (map_in_memory or con_in_memory):
        return _logged(VerifyReport(verify_map(programming_map, connectome, **options)))
    if not map_in_memory and not isinstance(programming_map, (str, os.PathLike)):
        raise ConfigError(
            f"expected a ProgrammingMap or the path of a map, got {type(programming_map).__name__}"
        )
    # objects are verified as they are, nothing written (verify_objects checks the map's invariants as on reading)
    pm = programming_map if map_in_memory else read_map(programming_map)
    con = _connectome(connectome) if con_in_memory else read_connectome(connectome)
    report = VerifyReport(verify_objects(pm, con, map_path=None if map_in_memory else programming_map,
                                         connectome_path=None if con_in_memory else connectome, **options))
    if map_in_memory:
        report["map"]["path"] = "<in memory>"
    if con_in_memory:
        report["connectome"]["path"] = "<in memory>"
    return _logged(report)


def _logged(report: VerifyReport) -> VerifyReport:
    log.info("verify: pearson %s, spearman %s, sign flips %s, synapses lost %s", report.get("pearson"),
             report.get("spearman"), report.get("sign_flips"), report.get("synapses_lost"))
    return report


# ----------------------------------------------------------------- compare
def compare(a, b, match: str = "auto", max_distance_um: float = 15.0) -> Report:
    """Compare connectome ``a`` with the reference ``b`` (``connectome compare``).

    ``a``, ``b``: Connectome objects, Inference results or paths (an infer
    directory, edges.csv, GraphML, or a ground-truth ``.truth.h5``, whose
    neurons then carry their channels). Returns the report: neuron matching,
    precision, recall, F1 of connected pairs, per kind, weight agreement
    (definitions in docs/inspect.md).
    """
    if not max_distance_um > 0:
        raise ConfigError(f"max_distance_um must be positive, got {max_distance_um}")
    if isinstance(a, (str, os.PathLike)) and isinstance(b, (str, os.PathLike)):
        return Report(compare_paths(a, b, match=match, max_distance_um=max_distance_um))
    from .graph.compare import read_with_channels

    def load(x):
        return read_with_channels(x) if isinstance(x, (str, os.PathLike)) else _connectome(x)

    return Report(compare_connectomes(load(a), load(b), match=match, max_distance_um=max_distance_um))


# ----------------------------------------------------------------- imprint
def _imprint_params(params, seed, max_duration_s):
    from .verify.imprint import ImprintParams

    if isinstance(params, ImprintParams):
        return dataclasses.replace(params, seed=seed, max_duration_s=max_duration_s)
    if params is not None and not isinstance(params, dict):
        raise ConfigError(f"imprint parameters: expected ImprintParams or a dict, got {type(params).__name__}")
    d = dict(params or {})
    check_known_keys(d, [f for f in ImprintParams.__dataclass_fields__ if f not in ("seed", "max_duration_s")],
                     "imprint parameter")
    if "window_ms" in d:
        w = d["window_ms"]
        if not (isinstance(w, (list, tuple)) and len(w) == 2):
            raise ConfigError("imprint parameter window_ms expects two numbers, e.g. [1.0, 8.0]")
        d["window_ms"] = tuple(float(x) for x in w)
    try:
        return ImprintParams(**d, seed=seed, max_duration_s=max_duration_s)
    except TypeError as exc:
        raise ConfigError(f"bad imprint parameter: {exc}") from None


def imprint(
    recording,
    out,
    *,
    technology: str | None = "rram",
    technology_file=None,
    params=None,
    device=None,
    reference=None,
    rows: int | None = None,
    cols: int | None = None,
    layers: int | None = None,
    seed: int = 0,
    max_duration_s: float | None = None,
    progress=None,
    open_kw: dict | None = None,
) -> Report:
    """Imprint a recording on an N×N crossbar and write it as a map (``connectome imprint``).

    The other paste route (docs/fidelity.md): the recording drives the
    crossbar's rows (spikes) and columns (membrane deflections) directly.
    Writes ``out`` (.h5 or .zarr, an ordinary programming map) and
    ``MAP.imprint.h5`` (the raw conductances).

    Parameters
    ----------
    recording : path
    out : path
    technology, technology_file : str, path
        ``rram`` or ``pcm`` (any alias), and an optional TOML of overrides.
    params : ImprintParams or dict, optional
        Imprint parameters (``window_ms``, ``z_threshold`` …).
    device : dict, optional
        Device-curve overrides: ``nl_ltp``, ``nl_ltd``, ``c2c_sigma``.
    reference : path, optional
        An infer output directory or a truth file to score the imprint against.
    rows, cols, layers : int, optional
        Geometry of the output map (default: the technology's).
    seed : int
        Seed of the device noise and of compile.
    max_duration_s : float, optional
        Imprint only the first seconds (neurons are still found on all of it).
    open_kw : dict, optional
        How to open the recording (``series``, ``segment``, ``format``; see :func:`open_recording`).

    Returns
    -------
    Report
        The imprint summary (also in the map's summary under ``imprint``).
    """
    from .verify.imprint import imprint_recording

    p = _imprint_params(params, seed, max_duration_s)
    if technology is None and technology_file is None:
        technology = "rram"
    info = imprint_recording(
        recording,
        out,
        technology=technology,
        technology_file=technology_file,
        device_overrides=dict(device or {}),
        params=p,
        reference=reference,
        rows=rows,
        cols=cols,
        layers=layers,
        progress=progress,
        open_kw=open_kw,
    )
    return Report(info)


# ---------------------------------------------------------------- simulate
@dataclass
class Simulation:
    """A simulated recording and its ground truth (files written by :func:`simulate`)."""

    recording_path: Path
    truth_path: Path
    n_neurons: int
    n_edges: dict
    n_spikes: int
    wall_s: float
    n_channels: int
    duration_s: float
    params: object = None

    @property
    def recording(self) -> Recording:
        """The recording, opened (samples stay on disk)."""
        return open_recording(self.recording_path)

    @property
    def truth(self) -> Connectome:
        """The ground-truth connectome (neurons with their channels)."""
        from .graph.compare import read_with_channels

        return read_with_channels(self.truth_path)


def simulate(out, params=None, *, model: str = "psp", progress=None, **overrides) -> Simulation:
    """Simulate a culture on the array and write ``out`` (.h5 or .zarr) and ``<stem>.truth.h5``.

    Parameters
    ----------
    out : path
    params : SimParams, HHParams or dict, optional
        The simulator's parameters (docs/simulator.md); keyword arguments
        override single ones, e.g. ``n_neurons=12, grid=(4, 4), duration_s=20``.
    model : ``"psp"`` or ``"hh"``
        The PSP-kernel simulator or the conductance-based Hodgkin–Huxley network.
    """
    cls: Any
    run: Any
    if model == "psp":
        from .simulate import SimParams as cls
        from .simulate import simulate as run
    elif model == "hh":
        from .simulate.hh import HHParams as cls
        from .simulate.hh import simulate_hh as run
    else:
        raise ConfigError(f"simulation model must be 'psp' or 'hh', got {model!r}")
    check_known_keys(overrides, (f.name for f in fields(cls)), "simulation parameter")
    if params is None or isinstance(params, dict):
        p = cls.from_dict({**(params or {}), **overrides})
    elif isinstance(params, cls):
        if overrides:
            p = dataclasses.replace(params, **overrides)
        else:
            p = params
    else:
        raise ConfigError(
            f"simulation parameters: expected {cls.__name__} or a dict, got {type(params).__name__}"
        )
    res = run(p, out, progress=progress)
    return Simulation(
        recording_path=Path(res.recording),
        truth_path=Path(res.truth),
        n_neurons=res.n_neurons,
        n_edges=dict(res.n_edges),
        n_spikes=res.n_spikes,
        wall_s=res.wall_s,
        n_channels=int(p.n_channels),
        duration_s=float(p.duration_s),
        params=p,
    )
