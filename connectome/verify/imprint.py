"""Physical imprinting: paste a connectome by driving an N×N crossbar directly with the recording.

The second paste route of DESIGN.md (seed paper: Ham et al. 2021). Instead of
computing a connectome and programming it, the recording itself writes the
crossbar: row i carries neuron i's spikes, column j a signal derived from
neuron j's membrane potential, and a cell changes only when its row and
column pulses coincide and together exceed the device's write threshold — so
each cell's conductance integrates pre/post coincidences.

Stages
------
1. **Neurons and traces** — the infer stage's pass 1 (recording streamed once
   in chunks: spike detection, channel QC, binned traces on disk), channel
   cleaning and merging (:mod:`connectome.spikes.neurons`), each neuron's best
   coupled channel per chunk scaled to somatic mV
   (:func:`connectome.infer.sta.channel_gain_and_validity`), and each
   neuron's own after-spike potential subtracted (the infer stage's template
   kernels). Memory: pass 1's chunks, then one block of binned traces.
2. **Column signal** — post deflection d_j(t) = V_j(t) − B_j(t), B_j a running
   (causal) baseline, an exponential average with ``baseline_tau_ms``; the
   column is blanked (no write) around the neuron's own spikes
   (``mask_before_ms``/``mask_after_ms``) and where its channel is not
   coupled.
3. **Write rule** (bipolar V/2 scheme) — in each bin of ``bin_ms``, a row whose
   neuron spiked between ``window_ms[0]`` and ``window_ms[1]`` before is
   driven with +V_w/2 then −V_w/2; the column carries −s·d_j clipped to
   ±V_w/2 (so a column alone, or a row alone, never reaches the threshold
   V_th, V_w/2 < V_th < V_w). The cell sees V_w/2 + s·d_j in the first phase
   and −V_w/2 + s·d_j in the second: one potentiating pulse when
   d_j > δ_j = (V_th − V_w/2)/s, one depressing pulse when d_j < −δ_j. The
   column gain s is set per chunk from the post channel's sub-threshold
   activity (pass 1), so δ_j = ``deflection_threshold_sd`` × that SD.
4. **Device** (:class:`ImprintDevice`) — identical pulses move the
   conductance along the saturating curve of NeuroSim's ``RealDevice``
   (reference, "Conductance update under repeated pulses"):
   G(P) = B·(1 − exp(−P/A)) + G_min, B = (G_max − G_min)/(1 − exp(−P_max/A)),
   A = a(NL)·P_max; depression the mirror image from G_max with its own NL and
   P_max. One pulse from any G is then a step towards a bound:
   ΔG = (G_min + B − G)(1 − e^(−1/A)) (potentiation), exact for that curve.
   Cycle-to-cycle noise σ = ``c2c_sigma`` · (G_max − G_min) per pulse;
   clipping to [G_min, G_max]. a(NL) is the normalised A for a nonlinearity
   label NL: the value whose curve deviates from the straight line by at most
   NL/10.1 of the range (a fit that reproduces NeuroSim's tabulated NL → A,
   e.g. NL 1.51 → 0.8195, 3.01 → 0.3853, 6.01 → 0.1351, within 0.3 %); NL = 0
   is the linear device.
5. **Read-out** — every cell starts at the same state: RESET to G_min, then
   SET to ``start_fraction`` of the window, so both potentiation and
   depression are recorded. After imprinting, column j's no-synapse level is
   its median G_0j; the evidence of pair (i, j) is r_ij = G_ij − G_0j and its
   z-score z_ij = r_ij / (1.4826 · MAD of column j's r over rows with enough
   presynaptic spikes). An inverse of the write rule gives a weight in mV:
   the mean post deflection in the window after a pre spike,
   μ_ij ≈ r_ij / ΔG_0 · σ_j / (n_i · W · 2φ(k)), with ΔG_0 the mean pulse
   step at the start state, σ_j the post's activity SD, n_i the presynaptic
   spikes, W the window in bins and φ(k) the normal density at the threshold
   k = ``deflection_threshold_sd`` (first order: exact for a linear device far
   from its bounds, compressed by saturation).

The imprinted synapses (|z| ≥ ``z_threshold``, presynaptic neuron with at
least ``min_pre_spikes``) form a connectome that is compiled with
``compile`` (tiling, placement, schedule) into an ordinary programming map;
the raw N×N conductances, z-scores, weights and pulse counts go to
``MAP.imprint.h5`` beside it.

Examples
--------
>>> round(normalised_a(1.51), 3), round(normalised_a(3.01), 3), round(normalised_a(6.01), 4)
(0.819, 0.385, 0.1351)
>>> d = ImprintDevice(g_min_us=2.0, g_max_us=40.0, nl_ltp=0.0, nl_ltd=0.0, pulses_ltp=100, pulses_ltd=100)
>>> round(d.step_us(10.0, +1), 3), round(d.step_us(10.0, -1), 3)
(0.38, -0.38)
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, TechnologyError

if TYPE_CHECKING:  # for annotations only: prepare() imports the infer stages when it runs
    from ..infer.params import InferParams
    from ..infer.preprocess import Pass1
    from ..io import Recording
    from ..spikes.neurons import Neurons

#: Nonlinearity label → maximum deviation from linear, as a fraction of the range (fit to NeuroSim's table).
NL_PER_DEVIATION = 10.1


def _max_deviation(a: float) -> float:
    """Largest (G(x) − x) of the normalised curve G(x) = (1 − e^(−x/a))/(1 − e^(−1/a)), x in [0, 1]."""
    e1 = -math.expm1(-1.0 / a)
    x = -a * math.log(a * e1)
    x = min(max(x, 0.0), 1.0)
    return -math.expm1(-x / a) / e1 - x


def normalised_a(nl: float) -> float:
    """A / P_max of NeuroSim's saturating update curve for a nonlinearity label ``nl`` (inf: linear)."""
    nl = abs(float(nl))
    if nl == 0:
        return math.inf
    target = nl / NL_PER_DEVIATION
    if not 0 < target < 1:
        raise ConfigError(f"nonlinearity {nl} is outside the modelled range 0 … {NL_PER_DEVIATION:g}")
    lo, hi = 1e-4, 1e6  # _max_deviation falls from ~1 to ~0 as a grows
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if _max_deviation(mid) > target:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1 + 1e-12:
            break
    return math.sqrt(lo * hi)


@dataclass(frozen=True)
class ImprintDevice:
    """Conductance update under identical pulses (defaults: NeuroSim's Ag:a-Si RealDevice; Peng et al. 2019).

    ``g_min_us``/``g_max_us`` come from the technology; the update curve
    from the NeuroSim device preset: 97 potentiation / 100 depression
    pulses over the window, NL_LTP = 2.4, NL_LTD = −4.88 (given as a
    magnitude: depression saturates towards G_min), cycle-to-cycle σ = 3.5 %
    of (G_max − G_min) per pulse.
    """

    g_min_us: float
    g_max_us: float
    pulses_ltp: int = 97
    pulses_ltd: int = 100
    nl_ltp: float = 2.4
    nl_ltd: float = 4.88
    c2c_sigma: float = 0.035

    def __post_init__(self):
        if not (0 <= self.g_min_us < self.g_max_us and self.pulses_ltp >= 1 and self.pulses_ltd >= 1
                and self.c2c_sigma >= 0):
            raise ConfigError("imprint device needs 0 ≤ g_min < g_max, ≥ 1 pulse per direction and c2c σ ≥ 0")
        normalised_a(self.nl_ltp)
        normalised_a(self.nl_ltd)

    @property
    def range_us(self) -> float:
        return self.g_max_us - self.g_min_us

    def curve(self, direction: int):
        """(bound, fraction per pulse, linear step): a pulse moves G by (bound − G)·fraction or the step."""
        nl, p = (self.nl_ltp, self.pulses_ltp) if direction > 0 else (self.nl_ltd, self.pulses_ltd)
        a = normalised_a(nl) * p
        if math.isinf(a):
            return (self.g_max_us if direction > 0 else self.g_min_us), 0.0, self.range_us / p
        b = self.range_us / -math.expm1(-p / a)
        bound = self.g_min_us + b if direction > 0 else self.g_max_us - b
        return bound, -math.expm1(-1.0 / a), self.range_us / p

    def step_us(self, g_us: float, direction: int) -> float:
        """Conductance change of one pulse from ``g_us`` (no noise, no clipping)."""
        bound, frac, lin = self.curve(direction)
        if frac == 0:
            return lin if direction > 0 else -lin
        return (bound - g_us) * frac

    def to_dict(self) -> dict:
        d = asdict(self)
        d["a_ltp_pulses"] = normalised_a(self.nl_ltp) * self.pulses_ltp
        d["a_ltd_pulses"] = normalised_a(self.nl_ltd) * self.pulses_ltd
        return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in d.items()}


@dataclass(frozen=True)
class ImprintParams:
    """How the recording drives the crossbar and how the result is read (see module docstring)."""

    window_ms: tuple = (1.0, 8.0)
    deflection_threshold_sd: float = 2.5
    baseline_tau_ms: float = 10.0
    mask_before_ms: float = 2.0
    mask_after_ms: float = 6.0
    own_template_ms: float = 150.0
    start_fraction: float = 0.5
    max_duration_s: float | None = None
    z_threshold: float = 3.0
    min_pre_spikes: int = 30
    block_s: float = 5.0
    seed: int = 0

    def __post_init__(self):
        w0, w1 = self.window_ms
        checks = [("window_ms", 0 <= w0 < w1), ("deflection_threshold_sd", self.deflection_threshold_sd >= 0),
                  ("baseline_tau_ms", self.baseline_tau_ms > 0), ("mask_before_ms", self.mask_before_ms >= 0),
                  ("mask_after_ms", self.mask_after_ms >= 0), ("own_template_ms", self.own_template_ms >= 0),
                  ("start_fraction", 0 <= self.start_fraction <= 1),
                  ("max_duration_s", self.max_duration_s is None or self.max_duration_s > 0),
                  ("z_threshold", self.z_threshold > 0), ("min_pre_spikes", self.min_pre_spikes >= 1),
                  ("block_s", self.block_s > 0)]
        for name, ok in checks:
            if not ok:
                raise ConfigError(f"invalid imprint parameter {name}={getattr(self, name)!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["window_ms"] = list(self.window_ms)
        return d


def device_for(tech, **overrides) -> ImprintDevice:
    """The imprint device of a technology: its conductance window, NeuroSim's update curve.

    Raises :class:`TechnologyError` for technologies whose cells cannot be
    moved by small identical pulses in both directions.
    """
    mech = tech.write.mechanism
    if mech != "program-and-verify" or tech.conductance.max_levels <= 2:
        why = {"ispp": "flash cells are only programmed upwards; lowering one needs a block erase",
               "single-pulse": "STT-MRAM cells are binary"}.get(mech, f"write mechanism {mech!r}")
        raise TechnologyError("imprinting needs cells that identical pulses move by small steps in both "
                              "directions "
                              f"(rram, pcm); {tech.name}: {why}")
    c = tech.conductance
    return ImprintDevice(g_min_us=float(c.g_min_us), g_max_us=float(c.g_max_us), **overrides)


# ---------------------------------------------------------------- recording side
@dataclass
class ImprintInput:
    """Neurons and their somatic-mV traces from the infer stage's pass 1 (a temporary directory)."""

    recording: Recording
    p1: Pass1
    neurons: Neurons
    col: np.ndarray      # (chunks, N) channel read per chunk
    scale: np.ndarray    # (chunks, N) electrode → soma (NaN: not coupled)
    activity_mv: np.ndarray  # (chunks, N) sub-threshold activity SD in somatic mV
    infer_params: InferParams
    work: Path
    timings: dict = field(default_factory=dict)

    def close(self):
        if self.p1 is not None:
            self.p1.binned.remove()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def prepare(recording_path, infer_params=None, progress=None, tmp_dir=None, open_kw=None) -> ImprintInput:
    """Stream the recording once (the infer stage's pass 1) and find neurons and their traces."""
    import time

    from ..infer.params import InferParams
    from ..infer.preprocess import run_pass1
    from ..infer.sta import channel_gain_and_validity
    from ..io import open_recording
    from ..io.scratch import make_scratch
    from ..spikes.neurons import find_neurons

    p = infer_params or InferParams()
    t0 = time.perf_counter()
    rec = open_recording(recording_path, **(open_kw or {}))  # open_kw: series, segment, format
    work = make_scratch("connectome-imprint-", folder=tmp_dir)  # docs/outputs.md: where temporaries live
    try:
        p1 = run_pass1(rec, p, work, progress)
        ch, smp, amp, _, neurons = find_neurons(p1, rec, p)
        p1.spike_channel, p1.spike_sample, p1.spike_amp_mv = ch, smp, amp
        if neurons.n:
            col, scale = channel_gain_and_validity(p1, neurons, p)
            act = p1.activity_mv[np.arange(col.shape[0])[:, None], col] * scale
        else:
            col = np.zeros((p1.activity_mv.shape[0], 0), np.int64)
            scale = np.zeros(col.shape, np.float32)
            act = scale.copy()
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return ImprintInput(recording=rec, p1=p1, neurons=neurons, col=col, scale=scale, activity_mv=act,
                        infer_params=p, work=work, timings={"pass1_s": time.perf_counter() - t0})


# ------------------------------------------------------------------- crossbar
@dataclass
class ImprintResult:
    """The imprinted crossbar and its read-out (arrays indexed by neuron, row = pre, column = post)."""

    conductance_us: np.ndarray
    n_potentiating: np.ndarray
    n_depressing: np.ndarray
    pre_spikes: np.ndarray
    evidence_us: np.ndarray
    z: np.ndarray
    weight_mv: np.ndarray
    tested_rows: np.ndarray
    g_start_us: float
    duration_s: float
    device: ImprintDevice
    params: ImprintParams
    neuron_channels: list
    x_um: np.ndarray
    y_um: np.ndarray

    @property
    def n(self) -> int:
        return self.conductance_us.shape[0]

    def selected(self) -> tuple[np.ndarray, np.ndarray]:
        """(pre, post) index pairs of the imprinted synapses (|z| ≥ threshold, tested rows)."""
        ok = (np.abs(self.z) >= self.params.z_threshold) & self.tested_rows[:, None]
        np.fill_diagonal(ok, False)
        pre, post = np.nonzero(ok)
        return pre, post

    def to_connectome(self):
        """The imprinted synapses as a :class:`~connectome.graph.Connectome` (ids 0…N−1, delays unknown)."""
        from ..graph import Connectome

        i, j = self.selected()
        w = self.weight_mv[i, j].astype(np.float64)
        ids = np.arange(self.n, dtype=np.int64)
        neurons = {"neuron_id": ids,
                   "channels": np.array([";".join(str(int(c)) for c in ch) for ch in self.neuron_channels],
                                        dtype=object),
                   "x_um": self.x_um, "y_um": self.y_um, "n_spikes": self.pre_spikes}
        edges = {"pre": i.astype(np.int64), "post": j.astype(np.int64), "weight_mv": w,
                 "kind": np.where(w >= 0, 1, 2).astype(np.int8), "delay_ms": np.full(len(i), np.nan),
                 "score": np.abs(self.z[i, j]).astype(np.float64)}
        return Connectome(neurons=neurons, edges=edges, meta={"imprinted": True})


def _own_template(inp: ImprintInput, traces, spike_bins, blocks, T, bl0, bl1):
    """Each neuron's mean after-spike potential (lags 0…T bins), relative to its pre-spike baseline."""
    from ..infer._kernels import own_spike_accumulate
    from ..infer.sta import spikes_in

    N = inp.neurons.n
    tacc = np.zeros((N, T + 1), np.float64)
    tcnt = np.zeros((N, T + 1), np.float64)
    for B0, B1 in blocks:
        R0, R1 = B0 + bl0, B1 + T + 1
        V = traces(R0, R1, masked=True)
        rows, ptr = spikes_in(spike_bins, B0, B1, R0)
        own_spike_accumulate(V, rows, ptr, 0, bl0, bl1, max(1, (bl1 - bl0 + 1) // 2), tacc, tcnt)
    with np.errstate(invalid="ignore", divide="ignore"):
        tmpl = np.where(tcnt >= 5, tacc / tcnt, 0.0)
    taper = np.clip((T - np.arange(T + 1)) / max(1, T // 3), 0.0, 1.0)
    return (tmpl * taper).astype(np.float32)


def imprint_crossbar(inp: ImprintInput, device: ImprintDevice, params: ImprintParams = ImprintParams(),
                     progress=None) -> ImprintResult:
    """Drive the crossbar with the recording (stages 2–5 of the module docstring)."""
    from scipy.stats import norm

    from ..infer._kernels import subtract_own
    from ..infer.sta import mask_own_spikes, own_spike_mask, somatic_traces, spikes_in
    from ._imprint_kernels import column_deflections, imprint_rows

    p1, nr = inp.p1, inp.neurons
    N = nr.n
    bs = p1.bin_samples
    fs = p1.fs
    bin_ms = bs / fs * 1000.0
    store = p1.binned
    bpc = store.bins_per_chunk
    n_bins = store.n_bins
    if params.max_duration_s is not None:
        n_bins = min(n_bins, int(round(params.max_duration_s * fs / bs)))
    duration_s = n_bins * bs / fs
    g_start = device.g_min_us + params.start_fraction * device.range_us
    G = np.full((N, N), g_start, np.float64)
    n_pot = np.zeros((N, N), np.int32)
    n_dep = np.zeros((N, N), np.int32)
    spike_bins = [nr.spikes(k) // bs for k in range(N)]
    spike_bins = [sb[sb < n_bins] for sb in spike_bins]
    n_pre = np.array([len(sb) for sb in spike_bins], np.int64)
    w0 = int(math.ceil(params.window_ms[0] / bin_ms))
    w1 = int(math.floor(params.window_ms[1] / bin_ms))
    W = w1 - w0 + 1
    if N == 0 or n_bins == 0:
        return _readout(G, n_pot, n_dep, n_pre, g_start, duration_s, device, params, inp, W, np.zeros(0))
    used = np.unique(inp.col)
    col_pos = np.searchsorted(used, inp.col)
    ref = np.median(store.offsets, axis=0)[used].astype(np.float32)
    masks = own_spike_mask(nr, n_bins, bs, int(math.ceil(params.mask_before_ms / bin_ms)),
                           int(math.ceil(params.mask_after_ms / bin_ms)))

    def traces(R0, R1, masked):
        V = somatic_traces(store, used, col_pos, ref, inp.scale, R0, R1)
        if masked:
            mask_own_spikes(V, masks, R0, R1)
        return V

    cpb = max(1, int(math.ceil(params.block_s * fs / (bpc * bs))))
    blocks = [(B0, min(n_bins, B0 + bpc * cpb)) for B0 in range(0, n_bins, bpc * cpb)]
    T = int(math.ceil(params.own_template_ms / bin_ms))
    bl0 = int(math.floor(inp.infer_params.baseline_ms[0] / bin_ms))
    bl1 = int(math.ceil(inp.infer_params.baseline_ms[1] / bin_ms))
    tmpl = _own_template(inp, traces, spike_bins, blocks, T, bl0, bl1) if T > 0 else None
    top_p, a_p, lin_p = device.curve(+1)
    bot_d, a_d, lin_d = device.curve(-1)
    sigma = device.c2c_sigma * device.range_us
    base = np.full(N, np.nan, np.float64)
    tau_bins = params.baseline_tau_ms / bin_ms
    k_sd = params.deflection_threshold_sd
    if progress is not None:
        progress.reset(total=len(blocks))
        progress.set_description("imprint: crossbar")
    seed = np.uint64(int(params.seed) % (2 ** 63))
    for B0, B1 in blocks:
        R0 = B0
        V = traces(R0, B1, masked=False)
        if tmpl is not None:  # each neuron's own after-spike potential, as infer removes it
            rows, ptr = spikes_in(spike_bins, R0 - T, B1, R0)
            subtract_own(V, rows, ptr, 0, tmpl)
        mask_own_spikes(V, masks, R0, B1)  # blank own spikes
        d = column_deflections(np.ascontiguousarray(V), base, float(tau_bins))
        chunk = np.arange(R0, B1) // bpc
        # δ_j per chunk: a multiple of the post's sub-threshold activity (NaN where not coupled: no write)
        delta = k_sd * inp.activity_mv[chunk]
        signs = _signs(d, delta, delta)
        # rows: merged drive intervals [spike + w0, spike + w1] within this block
        ptr = [0]
        lo_l, hi_l = [], []
        for k in range(N):
            sb = spike_bins[k]
            sel = sb[(sb + w1 >= B0) & (sb + w0 < B1)]
            a = np.clip(sel + w0, B0, B1) - R0
            b = np.clip(sel + w1 + 1, B0, B1) - R0
            a, b = _merge_intervals(a, b)
            lo_l.append(a)
            hi_l.append(b)
            ptr.append(ptr[-1] + len(a))
        row_lo = np.concatenate(lo_l).astype(np.int64) if lo_l else np.zeros(0, np.int64)
        row_hi = np.concatenate(hi_l).astype(np.int64) if hi_l else np.zeros(0, np.int64)
        imprint_rows(G, signs, np.asarray(ptr, np.int64), row_lo, row_hi, device.g_min_us, device.g_max_us,
                     top_p, a_p, bot_d, a_d, lin_p, lin_d, sigma, seed, np.int64(R0), n_pot, n_dep)
        if progress is not None:
            progress.update(1)
    # σ_j over the imprinted period (for the mV read-out): mean activity SD over chunks used
    n_chunks_used = int(math.ceil(n_bins / bpc))
    sd = np.nanmean(np.where(np.isfinite(inp.activity_mv[:n_chunks_used]), inp.activity_mv[:n_chunks_used],
                             np.nan),
                    axis=0) if n_chunks_used else np.zeros(N)
    return _readout(G, n_pot, n_dep, n_pre, g_start, duration_s, device, params, inp, W, sd,
                    phi=float(norm.pdf(k_sd)))


def _signs(d, hi, lo) -> np.ndarray:
    """+1 where d > hi, −1 where d < −lo, else 0 (NaN deflections and thresholds give 0)."""
    with np.errstate(invalid="ignore"):
        return (d > hi).astype(np.int8) - (d < -lo).astype(np.int8)


def _merge_intervals(a: np.ndarray, b: np.ndarray):
    """Union of sorted half-open intervals [a, b) (empty ones dropped)."""
    keep = b > a
    a, b = a[keep], b[keep]
    if len(a) <= 1:
        return a, b
    hi = np.maximum.accumulate(b)
    new = np.concatenate([[True], a[1:] > hi[:-1]])
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [len(a)]]) - 1
    return a[starts], hi[ends]


def _readout(G, n_pot, n_dep, n_pre, g_start, duration_s, device, params, inp, W, sd, phi=0.4):
    N = G.shape[0]
    tested = n_pre >= params.min_pre_spikes
    off = ~np.eye(N, dtype=bool)
    g0 = np.zeros(N)
    scale = np.full(N, np.nan)
    for j in range(N):
        rows = tested & off[:, j]
        if rows.sum() >= 3:
            g0[j] = np.median(G[rows, j])
            dev = G[rows, j] - g0[j]
            scale[j] = 1.4826 * np.median(np.abs(dev))
            if scale[j] == 0:  # most cells at one bound (a saturated column): fall back to the RMS deviation
                scale[j] = float(np.sqrt(np.mean(dev ** 2)))
        else:
            g0[j] = g_start
    r = G - g0[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(scale[None, :] > 0, r / scale[None, :], 0.0)
    z = np.nan_to_num(z)
    np.fill_diagonal(z, 0.0)
    dg0 = 0.5 * (device.step_us(g_start, +1) - device.step_us(g_start, -1))
    sd = np.asarray(sd, np.float64) if len(sd) == N else np.zeros(N)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(n_pre[:, None] > 0, 1.0 / (n_pre[:, None] * max(W, 1) * 2.0 * phi), 0.0)
        w = r / dg0 * np.nan_to_num(sd)[None, :] * per
    np.fill_diagonal(w, 0.0)
    nr = inp.neurons
    return ImprintResult(conductance_us=G, n_potentiating=n_pot, n_depressing=n_dep, pre_spikes=n_pre,
                         evidence_us=r, z=z, weight_mv=np.nan_to_num(w), tested_rows=tested,
                         g_start_us=g_start,
                         duration_s=duration_s, device=device, params=params,
                         neuron_channels=[list(map(int, c)) for c in nr.channels],
                         x_um=np.asarray(nr.x_um, np.float64), y_um=np.asarray(nr.y_um, np.float64))


# ------------------------------------------------------------------ end to end
def side_path(map_path) -> Path:
    """Where the raw crossbar goes: ``x.map.h5`` → ``x.map.imprint.h5``; ``x.zarr`` → ``x.imprint.h5``."""
    p = Path(map_path)
    return p.with_name((p.name[: -len(p.suffix)] if p.suffix else p.name) + ".imprint.h5")


def write_side_file(result: ImprintResult, path, info: dict) -> Path:
    """The raw imprinted crossbar (N×N conductances, evidence, z, weights, pulse counts), atomically."""
    import h5py

    from ..io.atomic import atomic_path

    path = Path(path)
    kw = {"track_times": False, "compression": "gzip", "shuffle": True}
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", libver=("earliest", "v110")) as fh:
            fh.attrs["format"] = "connectome-imprint"
            fh.attrs["format_version"] = 1
            fh.attrs["description"] = "row = presynaptic neuron, column = postsynaptic neuron (ids 0…N−1)"
            fh.attrs["info"] = json.dumps(info, sort_keys=True)
            fh.create_dataset("neuron_id", data=np.arange(result.n, dtype=np.int64), track_times=False)
            chans = [";".join(str(c) for c in ch) for ch in result.neuron_channels]
            fh.create_dataset("channels", data=np.array(chans, dtype=h5py.string_dtype()), track_times=False)
            fh.create_dataset("pre_spikes", data=result.pre_spikes, track_times=False)
            fh.create_dataset("tested_rows", data=result.tested_rows.astype(np.uint8), track_times=False)
            for name, arr in (("conductance_us", result.conductance_us.astype(np.float32)),
                              ("evidence_us", result.evidence_us.astype(np.float32)),
                              ("z", result.z.astype(np.float32)), ("weight_mv",
                                                                   result.weight_mv.astype(np.float32)),
                              ("potentiating_pulses", result.n_potentiating),
                              ("depressing_pulses", result.n_depressing)):
                fh.create_dataset(name, data=arr, **(kw if arr.size else {"track_times": False}))
    return path


def imprint_recording(recording, out, *, technology: str | None = "rram", technology_file=None,
                      device_overrides: dict | None = None, params: ImprintParams = ImprintParams(),
                      reference=None, rows: int | None = None, cols: int | None = None, layers: int | None = None,
                      infer_params=None, progress=None, open_kw=None) -> dict:
    """Imprint RECORDING on an N×N crossbar and write the map ``out`` (+ ``MAP.imprint.h5``).

    Returns the summary (also in the map's ``summary`` under ``imprint``);
    with ``reference`` (an infer output directory or a truth file) it holds
    the comparison metrics of :mod:`.imprint_eval`.
    """
    import time

    from ..compile import CompileOptions, compile_connectome
    from ..compile.compiler import edges_sha256
    from ..devices import load_technology
    from ..io.checksum import file_fingerprint
    from ..io.progmap import check_map_path, write_map
    from .imprint_eval import Reference, score_imprint

    out = Path(out)
    check_map_path(out)
    tech = load_technology(technology, technology_file)
    device = device_for(tech, **(device_overrides or {}))
    ref = Reference(reference) if reference is not None else None  # fail early on a bad reference
    from ..io import open_recording

    t0 = time.perf_counter()
    open_recording(recording, **(open_kw or {}))  # a bad recording fails here, before any output is made
    out.resolve().parent.mkdir(parents=True, exist_ok=True)
    with prepare(recording, infer_params, progress, tmp_dir=out.resolve().parent, open_kw=open_kw) as inp:
        if inp.neurons.n == 0:
            warnings.warn(f"{inp.recording.path}: no neurons with detectable action potentials; "
                          "the imprinted crossbar is empty", stacklevel=2)
        t1 = time.perf_counter()
        res = imprint_crossbar(inp, device, params, progress)
        t2 = time.perf_counter()
        fingerprint = file_fingerprint(inp.recording.path)
        rec_name = Path(inp.recording.path).name
    con = res.to_connectome()
    info = {"recording": {"name": rec_name, "fingerprint": fingerprint},
            "technology": tech.name, "device": device.to_dict(), "params": params.to_dict(),
            "neurons": int(res.n), "imprinted_seconds": round(res.duration_s, 6),
            "pre_spikes_median": float(np.median(res.pre_spikes)) if res.n else 0.0,
            "tested_rows": int(res.tested_rows.sum()), "g_start_us": round(res.g_start_us, 6),
            "pulses_per_cell_mean": round(float((res.n_potentiating + res.n_depressing).mean()),
                                          3) if res.n else 0.0,
            "synapses_imprinted": int(con.n_edges),
            "excitatory": int((con.edges["weight_mv"] >= 0).sum()),
            "inhibitory": int((con.edges["weight_mv"] < 0).sum()),
            "side_file": side_path(out).name, "imprinted_edges_sha256": edges_sha256(con)}
    if ref is not None:
        info["comparison"] = score_imprint(res, ref)
    opts = CompileOptions(technology=technology, technology_file=technology_file, rows=rows, cols=cols,
                          layers=layers, seed=int(params.seed))
    pm = compile_connectome(con, opts, tech=tech, source_path=recording, source_files={rec_name: fingerprint})
    pm.summary["imprint"] = info
    write_side_file(res, side_path(out), info)
    write_map(pm, out, extra_summary={"timings_s": {"pass1_s": round(t1 - t0, 3),
                                                    "crossbar_s": round(t2 - t1, 3),
                                                    **pm.timings}})
    return info
