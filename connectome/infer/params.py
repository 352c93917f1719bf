"""Inference parameters: one frozen dataclass, units in the names.

Defaults follow docs/background.md §7 (inference defaults, with their
sources) where it gives a value; choices made here are marked
as such and measured in docs/accuracy.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import ConfigError, check_known_keys


@dataclass(frozen=True)
class InferParams:
    """Parameters of :func:`connectome.infer.infer_recording`.

    Attributes
    ----------
    chunk_s : float
        Seconds of recording processed at a time (memory ∝ chunk × channels).
    bin_ms : float
        Resolution of the stored membrane-potential traces used for pairwise
        evidence (choice; latency is refined below one bin by template fits).
    spike_threshold : float
        Action-potential candidates exceed this many robust noise SDs of the
        high-passed trace (docs/background.md §7: 5–6× MAD).
    refractory_ms : float
        Dead time between spikes on one channel (docs/background.md §7: 2 ms).
    min_ap_fraction : float
        A candidate whose amplitude is below this fraction of the channel's
        running median AP amplitude is not an AP (summed PSPs, noise).
    min_spikes : int
        Channels with fewer spikes are not treated as recording a neuron.
    merge_radius_pitches, merge_window_ms, merge_fraction : float
        Channels within this many electrode pitches whose spikes coincide
        within ±window on ≥ fraction of both trains record one neuron
        (docs/background.md §7: ±0.2 ms, 70 %, 3 pitches).
    ap_amplitude_mv : float
        Nominal somatic AP amplitude used to convert electrode deflections
        into somatic mV (docs/background.md §6: ≈ 80 mV).
    mask_before_ms, mask_after_ms : float
        Samples of a post-synaptic trace this close to that neuron's own
        spikes (the action potential itself) are excluded from evidence.
    own_template_ms : float
        Each neuron's average own-spike after-potential (after-hyperpolarisation
        and burst co-activation), measured from its spikes over this many ms,
        is subtracted at each of its spikes before pairwise averaging: the
        post-synaptic cell's own spikes then neither bias response windows
        (a recovering AHP is a ramp) nor cost the data a long mask would.
        0 disables it (then raise ``mask_after_ms`` to cover the AHP).
    artefact_mask_ms : float
        A saturated or non-finite sample spoils its channel from 1 ms before
        to this long after it: amplifiers recover from a saturating artefact
        (e.g. a current pulse) over tens of ms, and the recovery tail is not
        saturated (choice; docs/background.md §6 lists such artefacts).
    coupling_min_fraction : float
        Chunks where a channel's activity falls below this fraction of its
        typical level are excluded (coupling loss; docs/background.md §7: 30 %).
    detrend : bool
        Remove a straight line fitted over the baseline lags from each pairwise
        average (against burst-locked ramps) rather than only its mean. Off by
        default: extrapolating a line fitted to a few ms of a fluctuating
        membrane potential adds more noise than the ramps it removes, once each
        cell's own after-potential is subtracted and the per-neuron empirical
        null absorbs drive shared by all its inputs (measured in
        docs/accuracy.md: recall on detectable synapses 0.62 → 0.89 at equal
        precision on the 120-neuron benchmark recording).
    baseline_ms : tuple
        Lags (ms) of the per-spike baseline (and of the trend fit when
        ``detrend``): close to the spike, so that the slow membrane fluctuation
        changes little between baseline and response (docs/background.md §7 suggests
        −10…−1 ms; −5…−0.5 ms measured better, docs/accuracy.md).
    response_ms : float
        Last lag (ms) of the response examined.
    window_ms : float
        Width of each candidate response window.
    matched_filter : bool
        Test each pair with PSP-shaped kernels whitened by the null noise
        covariance across lags (generalised matched filter, see
        :func:`connectome.infer.stats.matched_weights`) instead of boxcar
        window means (choice; measured in docs/accuracy.md: recall on
        detectable synapses 0.888 → 0.943 at 400 neurons).
    whiten_ridge : float
        Ridge added to the null covariance before inverting it, as a multiple
        of its mean diagonal: 0 is full whitening, large values approach an
        unwhitened matched filter. Full whitening trusts the covariance's
        smallest directions (a pair's pre-spike trajectory) and lets
        disynaptic and shared-drive responses through; 3 kept precision
        ≥ 0.97 on every benchmark scenario (choice; docs/accuracy.md).
    factor_scale : bool
        With the matched filter, calibrate each post-synaptic neuron's null
        scale as (its level) × (the kernel's factor), both medians of the
        per-(post, kernel) MADs, instead of one MAD per (post, kernel): with
        22 kernels the maximum over kernels otherwise picks those whose scale
        was underestimated (measured: precision 0.83 → 0.96 on a 40-neuron
        culture; docs/inference.md, "Empirical null").
    kernel_onset_step_ms : float
        Onset spacing of the chemical test kernels (from 0.5 ms to
        ``response_ms − window_ms``).
    kernel_kinetics_ms : tuple
        (rise, decay) pairs of the chemical test kernels: a fast and a slow
        PSP (docs/background.md §3, "PSP kinetics"); spikelet kernels (0.3, 2 ms) at
        onsets −0.5 and 0 ms are always included.
    min_pre_spikes : int
        Pairs with fewer usable presynaptic spikes are reported as untested
        (docs/background.md §7 suggests 100 for full recordings; lower here for short ones).
    distance_weighted : bool
        Weighted Benjamini–Hochberg with weights estimated from the data's own
        fraction of connections at each inter-neuron distance (cross-fitted;
        see :func:`connectome.infer.stats.distance_weights`). Off: plain BH.
    q_threshold : float
        Benjamini–Hochberg level over all tested ordered pairs (docs/background.md §7: 0.01).
    electrical_max_latency_ms : float
        Responses whose onset is within ± this of the presynaptic spike may be
        electrical (spikelets; docs/background.md §7: |lag| ≤ 0.5 ms). An onset earlier
        than −this is not a spikelet (it began before the presynaptic AP's
        upstroke) and, like any chemical onset before the spike, is rejected as
        shared drive.
    min_chemical_latency_ms : float
        A significant response that is not electrical and whose fitted onset
        is earlier than this is not reported as a synapse: a chemical PSP
        cannot begin before the presynaptic spike (such deflections are drive
        shared by both cells; counted in ``summary.json`` qc.rejected_noncausal).
    eventful_snr : float
        An excitatory synapse is *eventful* when its single-trial response (the
        window mean over the per-spike noise SD) is at least this: 1.16 SD
        crosses 2 SD on ≥ 20 % of trials (Gaussian noise; docs/background.md §7;
        :mod:`connectome.infer.classify`) ...
    eventful_rise_p : float
        ... or when the postsynaptic firing probability after the presynaptic
        spike rises with a binomial p below this (a conventional 10⁻³).
    electrical_max_decay_ms : float
        ... and are electrical if their fitted decay is at most this (a
        spikelet is a low-passed AP, faster than a PSP) or the reverse pair is
        coupled at near-zero latency too (electrical coupling is bidirectional).
    pass2_block_s : float
        Seconds of binned traces per block of pairwise accumulation (speed:
        larger blocks reuse each neuron's accumulators from cache).
    workers : int
        Threads for the chunked passes.
    electrical_spikelet : bool
        Find electrical synapses with the symmetric spikelet test on every
        pair of neurons, independent of the chemical test
        (:mod:`connectome.infer.electrical`; the parameters below). Off: the
        earlier rule (fitted PSP onset within ±``electrical_max_latency_ms``
        and a fast decay or an early reverse pair), which calls a junction whose
        transmitted after-hyperpolarisation outweighs its spikelet inhibitory.
    electrical_onset_ms : float
        Onset (ms, relative to the detected presynaptic AP peak) of the
        spikelet kernel (rise 0.3 ms, decay 2 ms: a low-passed AP) of the
        junction test: the junction passes the AP's upstroke, which begins a
        fraction of a ms before its peak (choice; :mod:`connectome.infer.electrical`).
    electrical_chemical_onset_ms : float
        A fast and a slow chemical PSP (rise/decay 0.5/5 and 1.5/20 ms)
        beginning this long after the presynaptic spike are fitted beside the
        spikelet, so that a chemical PSP is not read as coupling (measured at
        2,000 neurons: kind-precision of junctions 0.70 with the fast one
        only, 0.95 with both): transmitter release takes
        ≳ 0.8 ms (Sabatini & Regehr 1999, Annu. Rev. Physiol.; docs/background.md §7).
    electrical_whiten_ridge : float
        Ridge (× the mean diagonal) added to the null noise covariance before
        the spikelet kernel's generalised least squares: light, so that the
        sharp zero-lag rise is weighed against the slow membrane fluctuation
        (choice, measured on both simulators in docs/inference.md §6).
    electrical_min_spikes : int
        A direction enters the junction test with at least this many usable
        presynaptic spikes (its weight in the combination is ∝ its spikes, so
        a direction with few counts little but can still contradict symmetry).
    electrical_q : float
        Benjamini–Hochberg level of the junction test over every unordered
        pair. Stricter than ``q_threshold``: the test runs on N(N−1)/2 pairs,
        its null tail is heavier than Gaussian (measured 99.9 % quantile
        3.2–4.2 instead of 3.1 on the benchmark recordings), and drive shared
        by two neighbours (a common input that fires one of them) gives a
        symmetric zero-lag deflection too; measured on both simulators in
        docs/inference.md §6 (0.001 let 1–2 such pairs per recording through).
    electrical_symmetry, electrical_symmetry_z : float
        A junction's two spikelets differ only by the two cells' input
        resistances (coupling coefficients of a pair are typically within a
        factor of 2 of each other; Galarreta & Hestrin 1999, Gibson et al.
        1999): the weaker direction's amplitude must not be significantly
        (z < −``electrical_symmetry_z``) below ``electrical_symmetry`` × the
        stronger's. A one-sided zero-lag response (a fast chemical EPSP, a
        response artefact of one neuron) is not a junction.
    weight_rested_isi_s : float
        ``weight_mv`` is the mean PSP per presynaptic spike; ``weight_rested_mv``
        is the PSP after at least this much presynaptic silence (a rested,
        undepressed synapse: ≥ 3–5 recovery time constants of neocortical
        short-term depression, τ_rec ≈ 0.5–1.5 s; Tsodyks & Markram 1997, PNAS;
        Markram, Wang & Tsodyks 1998, PNAS). 0 skips that extra sweep over the
        binned traces (:mod:`connectome.infer.weights`).
    weight_rested_min_spikes : int
        A presynaptic neuron needs at least this many spikes after such a
        silence for its synapses' rested PSP to be estimated (else NaN).
    weight_stp_u, weight_stp_tau_rec_ms : tuple (excitatory, inhibitory)
        A short-term depression model the user knows for the preparation
        (e.g. from paired-pulse recordings): release fraction U and recovery
        time constant τ_rec of the Tsodyks–Markram model (Tsodyks & Markram
        1997, PNAS 94:719), for synapses of excitatory and of inhibitory
        presynaptic neurons (the neuron's type: the sign of most of its
        chemical edges). Where U > 0, ``weight_rested_mv`` is ``weight_mv``
        divided by the mean available resources R at the neuron's own spikes
        (R = 1 at its first spike, U·R released at each, recovery with τ_rec)
        instead of being measured after silences. U = 0 (default): no model,
        the silence measurement. Not the default because the parameters vary
        between preparations (Markram, Wang & Tsodyks 1998, PNAS 95:5323:
        U ≈ 0.1–0.9, τ_rec ≈ 0.1–1.5 s) and cannot be read from
        spike-triggered averages inside network bursts (docs/inference.md §7).
    network_event_z, network_event_pad_ms : float
        Network events (synchronous bursts; :mod:`connectome.infer.events`):
        where the smoothed population spike count exceeds its median by this
        many spreads (robust SD or Poisson SD, the larger), widened by the pad
        on both sides. ``weight_quiet_mv`` is each chemical synapse's response
        to presynaptic spikes outside events (a monosynaptic response persists
        there; a response locked to the burst does not). 0 skips it.
    quiet_min_fraction, quiet_min_z : float
        Drop a chemical edge whose response outside network events is below
        this fraction of its full response and not itself significant (z of
        the quiet response below ``quiet_min_z``;
        :func:`connectome.infer.events.event_locked`). 0.3 is a round bound
        well below what depression or the network state do to a real
        synapse's quiet response (true synapses 0.80–0.89 of the full one on
        the Hodgkin–Huxley benchmarks); ``quiet_min_fraction = 0`` keeps
        every edge (the defence off). Needs ``network_event_z`` > 0.
    pre_center : bool
        Remove each presynaptic neuron's shared response — the median over all
        its post-synaptic partners of its calibrated statistic, per kernel —
        from its row of pairs, then estimate the per-post null again
        (:func:`connectome.infer.stats.presynaptic_shift`; one step of Tukey's
        median polish). A neuron firing mostly inside network bursts otherwise
        shifts all its unconnected pairs towards significance and widens every
        post's null (measured in docs/accuracy.md: recall on detectable
        synapses 0.80 → 0.92 on the Hodgkin–Huxley networks, unchanged on the
        point-process ones).
    pre_center_shrink : float
        The shift is soft-thresholded by this many standard errors of a median
        (choice: a conventional 2; 3 measured the same), so that a row within
        noise of zero is left alone.
    joint_refit : bool
        Refit each post-synaptic neuron's candidate inputs jointly and keep an
        accepted pair only if its response survives being explained by the
        other candidates and the population (:mod:`connectome.infer.joint`;
        the defence against polysynaptic and burst-locked responses). Off by
        default: measured, it removes more true synapses than false ones on
        the Hodgkin–Huxley benchmark networks (docs/inference.md, §4a).
    joint_population : bool
        Include the population spike train (every other neuron) with a free
        response at each lag as a regressor in the joint refit: a response
        that any spike of the network evokes at that lag (network bursts) is
        not credited to one pair.
    joint_screen_q : float
        Candidate inputs of a post-synaptic neuron in the joint refit: tested
        pairs with a pairwise q-value at most this (liberal screen; choice).
    joint_max_candidates : int
        At most this many candidates per post-synaptic neuron (largest |z|
        first; accepted pairs are always included): bounds the cost.
    joint_rebh : bool
        With the joint refit, re-run the weighted Benjamini–Hochberg step with
        each refitted pair's joint p-value (pairs can then also be gained);
        off: an accepted pair is kept only if its joint p-value passes the
        pairwise step's p-value cut (pairs can only be removed).
    joint_null_probes : int
        Non-candidate inputs per post-synaptic neuron added one at a time to
        its joint model to measure the centre of the joint z under the null
        (0: no centre correction).
    """

    chunk_s: float = 1.0
    bin_ms: float = 0.5
    spike_threshold: float = 6.0
    refractory_ms: float = 2.0
    min_ap_fraction: float = 0.5
    min_spikes: int = 10
    merge_radius_pitches: float = 3.0
    merge_window_ms: float = 0.2
    merge_fraction: float = 0.7
    ap_amplitude_mv: float = 80.0
    mask_before_ms: float = 2.0
    mask_after_ms: float = 6.0
    own_template_ms: float = 150.0
    artefact_mask_ms: float = 50.0
    coupling_min_fraction: float = 0.3
    baseline_ms: tuple = (-5.0, -0.5)
    detrend: bool = False
    response_ms: float = 13.0
    window_ms: float = 3.0
    matched_filter: bool = True
    whiten_ridge: float = 3.0
    factor_scale: bool = True
    kernel_onset_step_ms: float = 1.0
    kernel_kinetics_ms: tuple = ((0.5, 5.0), (1.5, 20.0))
    min_pre_spikes: int = 30
    distance_weighted: bool = True
    q_threshold: float = 0.01
    electrical_max_latency_ms: float = 0.6
    electrical_max_decay_ms: float = 10.0
    min_chemical_latency_ms: float = 0.0
    eventful_snr: float = 1.16
    eventful_rise_p: float = 1e-3
    pass2_block_s: float = 5.0
    workers: int = 2
    # --- electrical and weight scale
    electrical_spikelet: bool = True
    electrical_onset_ms: float = -0.25
    electrical_chemical_onset_ms: float = 0.8
    electrical_whiten_ridge: float = 0.03
    electrical_min_spikes: int = 5
    electrical_q: float = 1e-4
    electrical_symmetry: float = 0.5
    electrical_symmetry_z: float = 2.5
    weight_rested_isi_s: float = 3.0
    weight_rested_min_spikes: int = 5
    weight_stp_u: tuple = (0.0, 0.0)
    weight_stp_tau_rec_ms: tuple = (800.0, 800.0)
    network_event_z: float = 5.0
    network_event_pad_ms: float = 100.0
    quiet_min_fraction: float = 0.3
    quiet_min_z: float = 2.0
    # --- joint refit (explain-away) and presynaptic null centre
    pre_center: bool = True
    pre_center_shrink: float = 2.0
    joint_refit: bool = False
    joint_population: bool = True
    joint_screen_q: float = 0.2
    joint_max_candidates: int = 40
    joint_rebh: bool = False
    joint_null_probes: int = 32

    def __post_init__(self):
        self._check_types()
        checks = [
            ("chunk_s", self.chunk_s > 0), ("bin_ms", self.bin_ms > 0),
            ("spike_threshold", self.spike_threshold > 0), ("refractory_ms", self.refractory_ms >= 0),
            ("min_ap_fraction", 0 <= self.min_ap_fraction < 1), ("artefact_mask_ms", self.artefact_mask_ms >= 0),
            ("own_template_ms", self.own_template_ms >= 0), ("min_spikes", self.min_spikes >= 1),
            ("merge_fraction", 0 < self.merge_fraction <= 1), ("ap_amplitude_mv", self.ap_amplitude_mv > 0),
            ("q_threshold", 0 < self.q_threshold < 1), ("whiten_ridge", self.whiten_ridge >= 0),
            ("kernel_onset_step_ms", self.kernel_onset_step_ms > 0), ("min_pre_spikes", self.min_pre_spikes >= 2),
            ("baseline_ms", self.baseline_ms[0] < self.baseline_ms[1] < 0),
            ("response_ms", self.response_ms > self.window_ms > 0), ("workers", self.workers >= 1),
            ("eventful_snr", self.eventful_snr > 0), ("eventful_rise_p", 0 < self.eventful_rise_p <= 1),
            ("electrical_whiten_ridge", self.electrical_whiten_ridge >= 0),
            ("electrical_min_spikes", self.electrical_min_spikes >= 2),
            ("electrical_q", 0 < self.electrical_q < 1),
            ("electrical_symmetry", self.electrical_symmetry >= 0),
            ("electrical_symmetry_z", self.electrical_symmetry_z > 0),
            ("weight_rested_isi_s", self.weight_rested_isi_s >= 0),
            ("weight_rested_min_spikes", self.weight_rested_min_spikes >= 1),
            ("weight_stp_u", all(0 <= u <= 1 for u in self.weight_stp_u)),
            ("weight_stp_tau_rec_ms", all(t > 0 for t in self.weight_stp_tau_rec_ms)),
            ("network_event_z", self.network_event_z >= 0), ("network_event_pad_ms", self.network_event_pad_ms >= 0),
            ("quiet_min_fraction", 0 <= self.quiet_min_fraction < 1), ("quiet_min_z", self.quiet_min_z >= 0),
            ("pre_center_shrink", self.pre_center_shrink >= 0),
            ("joint_screen_q", 0 < self.joint_screen_q <= 1), ("joint_max_candidates", self.joint_max_candidates >= 1),
        ]
        for name, ok in checks:
            if not ok:
                raise ConfigError(f"invalid inference parameter {name}={getattr(self, name)!r}")

    def _check_types(self) -> None:
        """Each value has its field's type (numbers finite; an int is accepted for a float and stored as one)."""
        import math
        import numbers

        for f in fields(self):
            v = getattr(self, f.name)
            t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
            if t == "float":
                ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                want = "a finite number"
                if ok:
                    object.__setattr__(self, f.name, float(v))
            elif t == "int":
                ok = isinstance(v, numbers.Integral) and not isinstance(v, bool)
                want = "an integer"
                if ok:
                    object.__setattr__(self, f.name, int(v))
            elif t == "bool":
                ok, want = isinstance(v, bool), "true or false"
            elif f.name in ("baseline_ms", "weight_stp_u", "weight_stp_tau_rec_ms"):
                ok = (isinstance(v, (tuple, list)) and len(v) == 2
                      and all(isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) for x in v))
                want = ("two finite numbers [start, end]" if f.name == "baseline_ms"
                        else "two finite numbers [excitatory, inhibitory]")
                if ok:
                    object.__setattr__(self, f.name, tuple(float(x) for x in v))
            elif f.name == "kernel_kinetics_ms":
                ok = (isinstance(v, (tuple, list)) and len(v) > 0 and all(
                    isinstance(k, (tuple, list)) and len(k) == 2 and all(
                        isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) and x > 0
                        for x in k) for k in v))
                want = "a list of [rise, decay] pairs of positive numbers"
                if ok:
                    object.__setattr__(self, f.name, tuple(tuple(float(x) for x in k) for k in v))
            else:
                continue
            if not ok:
                raise ConfigError(f"inference parameter {f.name} must be {want}, got {v!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "InferParams":
        """Build from a mapping, naming an unknown key and the closest valid one, or a value of the wrong type."""
        check_known_keys(d, (f.name for f in fields(cls)), "inference parameter")
        d = dict(d)
        for k in ("baseline_ms", "weight_stp_u", "weight_stp_tau_rec_ms"):
            if k in d and isinstance(d[k], list):
                d[k] = tuple(d[k])
        if "kernel_kinetics_ms" in d:
            d["kernel_kinetics_ms"] = tuple(tuple(float(v) for v in k) for k in d["kernel_kinetics_ms"])
        return cls(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("baseline_ms", "weight_stp_u", "weight_stp_tau_rec_ms"):
            d[k] = list(getattr(self, k))
        d["kernel_kinetics_ms"] = [list(k) for k in self.kernel_kinetics_ms]
        return d
