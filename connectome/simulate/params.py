"""Simulator parameters: one frozen dataclass, units in the names.

Every default is taken from the culture and recording literature cited in
the attribute's description (Abbott et al. 2020 Nat. Biomed. Eng.; Soriano
et al. 2008 PNAS; Song et al. 2005 PLoS Biol.; Campagnola et al. 2022
Science; Wagenaar et al. 2006 BMC Neurosci.). Values marked as assumptions
are exactly that: parameters of a plausible culture, not measurements.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import ConfigError, check_known_keys


@dataclass(frozen=True)
class SimParams:
    """Parameters of :func:`connectome.simulate.simulate`.

    Attributes
    ----------
    n_neurons : int
        Neurons placed over the array (2,000 for 4,096 electrodes).
    grid : tuple (rows, cols)
        Electrode grid; 64 × 64 = 4,096 (Abbott et al. 2020, Nat. Biomed. Eng. 4:232).
    pitch_um : float
        Electrode pitch; 20 µm is a placeholder (not confirmed for the CNEA arrays).
    duration_s : float
        Recording length.
    sampling_rate_hz : float
        10 kHz per channel.
    seed : int
        Everything random derives from it: same seed → byte-identical files.
    electrodes_per_neuron : tuple
        Probabilities that a neuron is seen on 1, 2 or 3 adjacent electrodes
        (45 % / 35 % / 20 %, ≈ 1.8 per neuron, from 3,600/2,000
        on the microhole array, Wang et al. 2025).
    excitatory_fraction : float
        0.8 (cortical cultures, Soriano et al. 2008 PNAS); Dale's law holds.
    in_degree : float
        Mean number of recorded presynaptic partners per neuron; p_max of the
        distance rule is solved for it (true inputs ≈ 50–100;
        Soriano 2008: 75–150 inputs in cortical cultures). Capped by ``p_max_cap``.
    p_max_cap : float
        Upper bound of the connection probability at zero distance.
    wiring_sigma_um : float
        p(d) = p_max·exp(−d²/2σ²) (shape: Campagnola et al. 2022, aisynphys);
        σ = 300 µm for long culture axons (an assumption).
    reciprocity : float
        Bidirectional pairs are this many times more common than chance
        (Song et al. 2005 PLoS Biol.: over-represented; 2–4×).
    epsp_median_mv, epsp_sigma_ln, psp_max_mv : float
        Lognormal EPSP peak at the soma: median 0.3 mV, σ_ln 0.9, clipped at
        8 mV (Song 2005 shape; parameters recalled/assumed).
    ipsp_median_mv, ipsp_sigma_ln : float
        Lognormal IPSP magnitude: median 0.4 mV, σ_ln 0.7 (an assumption).
    epsp_tau_ms, ipsp_tau_ms : tuple (rise, decay)
        Difference-of-exponentials kernels: E 1/15 ms, I 2/35 ms (Markram et
        al. 1997; Thomson & Lamy 2007).
    latency_base_ms, conduction_m_per_s, latency_jitter_ms : float
        Latency = 0.8 ms + distance / 0.3 m/s, with 0.2 ms jitter per spike
        (Bakkum et al. 2013 Nat. Commun.; an assumption).
    gap_p_max, gap_sigma_um, gap_cc_range : float, float, tuple
        Electrical synapses between inhibitory pairs only:
        p = 0.1·exp(−d²/2(75 µm)²), symmetric coupling coefficient
        U(0.01, 0.10), no delay (aisynphys gap_junctions; Galarreta & Hestrin
        1999; Gibson et al. 1999).
    v_rest_mv, ap_amplitude_mv, ap_width_ms, ahp_mv, ahp_tau_ms : float
        V_rest −60 mV, AP ≈ 80 mV high and 2.4 ms wide (Sci. Rep. 2016
        6:19106 Table 1), AHP −5 mV over 30 ms (an assumption).
    vm_noise_mv_range : tuple
        SD of each neuron's background membrane fluctuation from synaptic
        bombardment by unrecorded cells ("a few mV").
    vm_noise_tau_ms : float
        Correlation time of that fluctuation (≈ the membrane τ, 25 ms,
        Johansson et al. 1992).
    rate_hz_range : tuple
        Background (Poisson) firing rates, 0.3–1 Hz (an assumption).
    burst_interval_s : tuple (mean, shape)
        Network bursts every 5–30 s, gamma-distributed intervals
        (Wagenaar et al. 2006 BMC Neurosci.).
    burst_duration_s : tuple
        0.2–1 s (Wagenaar 2006).
    burst_participation : tuple
        60–90 % of neurons take part in a burst with 2–10 spikes each
        (an assumption).
    burst_depol_mv_range : tuple
        Slow burst-locked depolarisation of each neuron from the unrecorded
        network (the burst confound of culture confounds).
    common_groups, common_rate_hz, common_psp_mv, common_trigger_p : float
        Hidden common inputs: neurons in a spatial neighbourhood share an
        unrecorded presynaptic source whose spikes give each member a PSP and
        a chance to fire (culture confounds: common input).
    trigger_p_max, trigger_w50_mv : float
        A presynaptic spike makes the postsynaptic cell fire with probability
        p_max·(1 − exp(−(w / w50)²)): strong ("eventful") synapses raise
        postsynaptic firing, weak ones do not.
    coupled_attenuation : tuple (mean, lo, hi)
        Electrode gain a_k relative to V_m: Beta with mean 0.15, range
        0.02–0.6 (an assumption).
    coupling_tau_min : tuple
        Gradual resealing a_k(t) = a_k·exp(−t/τ_k), τ_k ~ U(5, 60) min.
    abrupt_loss_fraction : float
        Coupled channels that lose coupling abruptly at a random time (10 %).
    noise_uv_median, noisy_fraction, noisy_factor : float
        White electrode noise 30 µV rms per channel; a few channels far noisier.
    pink_uv, common_mode_uv, drift_mv_per_min : float
        1/f-like noise below 10 Hz, common-mode noise 10 µV, random-walk drift
        ≈ 0.5 mV per min rms (an assumption).
    dead_fraction, saturated_fraction : float
        Dead (flat) and saturated channels, 1–2 % in all (an assumption).
    artefact_rate_hz : float
        Rate of brief saturating artefacts on a subset of channels, besides
        the electroporation artefact at t = 0 (an assumption).
    extracellular_uv_range : tuple
        Uncoupled electrodes next to a neuron see a small biphasic
        extracellular copy of its spikes.
    uv_per_count : float
        int16 gain (µV per count); each channel's gain varies by ±10 %.
    chunk_s : float
        Seconds synthesised and written at a time (memory ∝ chunk × channels).
    compression : str
        ``lzf`` (fast) or ``gzip`` (smaller) for HDF5 output.
    """

    n_neurons: int = 2000
    grid: tuple = (64, 64)
    pitch_um: float = 20.0
    duration_s: float = 60.0
    sampling_rate_hz: float = 10_000.0
    seed: int = 0
    electrodes_per_neuron: tuple = (0.45, 0.35, 0.20)
    excitatory_fraction: float = 0.8
    in_degree: float = 75.0
    p_max_cap: float = 0.3
    wiring_sigma_um: float = 300.0
    reciprocity: float = 3.0
    epsp_median_mv: float = 0.3
    epsp_sigma_ln: float = 0.9
    psp_max_mv: float = 8.0
    ipsp_median_mv: float = 0.4
    ipsp_sigma_ln: float = 0.7
    epsp_tau_ms: tuple = (1.0, 15.0)
    ipsp_tau_ms: tuple = (2.0, 35.0)
    latency_base_ms: float = 0.8
    conduction_m_per_s: float = 0.3
    latency_jitter_ms: float = 0.2
    gap_p_max: float = 0.1
    gap_sigma_um: float = 75.0
    gap_cc_range: tuple = (0.01, 0.10)
    v_rest_mv: float = -60.0
    ap_amplitude_mv: float = 80.0
    ap_width_ms: float = 2.4
    ahp_mv: float = -5.0
    ahp_tau_ms: float = 30.0
    vm_noise_mv_range: tuple = (1.0, 3.0)
    vm_noise_tau_ms: float = 25.0
    rate_hz_range: tuple = (0.3, 1.0)
    burst_interval_s: tuple = (12.0, 4.0)
    burst_duration_s: tuple = (0.2, 1.0)
    burst_participation: tuple = (0.6, 0.9)
    burst_spikes: tuple = (2, 10)
    burst_depol_mv_range: tuple = (1.0, 5.0)
    common_groups: float = 0.05
    common_rate_hz: float = 2.0
    common_psp_mv: tuple = (0.3, 1.5)
    common_trigger_p: float = 0.05
    trigger_p_max: float = 0.2
    trigger_w50_mv: float = 5.0
    coupled_attenuation: tuple = (0.15, 0.02, 0.6)
    coupling_tau_min: tuple = (5.0, 60.0)
    abrupt_loss_fraction: float = 0.10
    noise_uv_median: float = 30.0
    noisy_fraction: float = 0.02
    noisy_factor: float = 6.0
    pink_uv: float = 15.0
    common_mode_uv: float = 10.0
    drift_mv_per_min: float = 0.5
    dead_fraction: float = 0.01
    saturated_fraction: float = 0.005
    artefact_rate_hz: float = 1 / 30
    extracellular_uv_range: tuple = (20.0, 80.0)
    uv_per_count: float = 5.0
    chunk_s: float = 1.0
    compression: str = "lzf"

    def __post_init__(self):
        checks = [
            ("n_neurons", self.n_neurons >= 1),
            ("grid", len(self.grid) == 2 and min(self.grid) >= 1),
            ("n_neurons", self.n_neurons <= self.grid[0] * self.grid[1]),
            ("duration_s", self.duration_s > 0),
            ("sampling_rate_hz", self.sampling_rate_hz >= 1000),
            ("excitatory_fraction", 0 <= self.excitatory_fraction <= 1),
            ("in_degree", self.in_degree >= 0),
            ("p_max_cap", 0 < self.p_max_cap <= 1 / max(self.reciprocity, 1.0)),
            ("chunk_s", self.chunk_s > 0),
            ("compression", self.compression in ("lzf", "gzip", "none")),
            ("electrodes_per_neuron", abs(sum(self.electrodes_per_neuron) - 1) < 1e-6),
        ]
        for name, ok in checks:
            if not ok:
                hint = ""
                if name == "n_neurons" and self.n_neurons > self.grid[0] * self.grid[1]:
                    hint = f" (at most one neuron per electrode: {self.grid[0] * self.grid[1]})"
                raise ConfigError(f"invalid simulation parameter {name}={getattr(self, name)!r}{hint}")

    @property
    def n_channels(self) -> int:
        return int(self.grid[0] * self.grid[1])

    @property
    def n_samples(self) -> int:
        return int(round(self.duration_s * self.sampling_rate_hz))

    @classmethod
    def from_dict(cls, d: dict) -> "SimParams":
        """Build from a mapping, naming an unknown key and the closest valid one."""
        check_known_keys(d, (f.name for f in fields(cls)), "simulation parameter")
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**d)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
