"""Parameters of the conductance-based (Hodgkin–Huxley) network simulator.

One frozen dataclass, units in the names. The electrode model (gains,
noise, drift, coupling loss, artefacts, int16 gain) is the project's own and
takes the same parameter names as :class:`connectome.simulate.SimParams`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ...errors import ConfigError, check_known_keys
from ..params import SimParams

#: SimParams fields the HH model passes through unchanged to the electrode model.
ELECTRODE_KEYS = ("pitch_um", "sampling_rate_hz", "electrodes_per_neuron", "coupled_attenuation",
                  "coupling_tau_min", "abrupt_loss_fraction", "noise_uv_median", "noisy_fraction",
                  "noisy_factor", "pink_uv", "common_mode_uv", "drift_mv_per_min", "dead_fraction",
                  "saturated_fraction", "artefact_rate_hz", "extracellular_uv_range", "uv_per_count",
                  "chunk_s", "compression")


def _d(name):
    return getattr(SimParams, name)


@dataclass(frozen=True)
class HHParams:
    """Parameters of :func:`connectome.simulate.hh.simulate_hh`.

    Attributes
    ----------
    n_neurons, grid, duration_s, seed : as :class:`~connectome.simulate.SimParams`
        (defaults 120 neurons on 16 × 16 electrodes, 60 s).
    shuffle_channels : bool
        Store channels in a random order (the grid position of each is in
        ``/channels/row``, ``/channels/col``), as some acquisition systems do.
    dt_ms : float
        Integration step (exponential Euler), 0.025 ms; V_m is averaged over
        the steps of each output sample (anti-alias) before decimation.
    excitatory_fraction : float
        0.8, Dale's law (cortical cultures, Soriano et al. 2008 PNAS).
    in_degree : float
        Mean number of chemical inputs per neuron; p_max of the distance rule
        p(d) = p_max·exp(−d²/2σ²), σ = ``wiring_sigma_um``, is solved for it.
    reciprocity : float
        Reciprocal pairs this many times more common than chance (Song et al.
        2005 PLoS Biol.).
    g_ee_ns, g_ei_ns, g_ie_ns, g_ii_ns : float
        Median peak conductance (nS) of E→E, E→I, I→E and I→I synapses;
        lognormal with σ_ln = ``g_sigma_ln``, clipped at ``g_max_ns``.
    ampa_tau_ms, gaba_tau_ms : tuple (rise, decay)
        Conductance time courses (difference of exponentials): AMPA 0.5/6 ms,
        GABA_A 1/8 ms (Destexhe, Mainen & Sejnowski 1998, in *Methods in
        Neuronal Modeling*).
    e_ampa_mv, e_gaba_mv : float
        Reversal potentials 0 mV and −75 mV.
    stp_u, stp_tau_rec_ms : tuple (E, I)
        Short-term depression (Tsodyks & Markram 1997 PNAS): each spike
        releases the fraction U of the available resources R, which recover
        with τ_rec. Depression of excitatory synapses terminates network bursts.
    burstiness : float
        Multiplies E→E conductances and the fraction U of E synapses
        (1.0 default; > 1 gives larger, more frequent network bursts).
    latency_base_ms, conduction_m_per_s : float
        Axonal delay = 0.7 ms + distance / 0.3 m/s (Bakkum et al. 2013
        Nat. Commun.).
    gap_p_max, gap_sigma_um, gap_ns : float, float, tuple
        Gap junctions between inhibitory pairs only: p = p_max·exp(−d²/2σ²);
        conductance uniform in ``gap_ns`` (nS) (Galarreta & Hestrin 1999
        Nature; Gibson et al. 1999 Nature).
    gap_density : float
        Multiplies ``gap_p_max``.
    e_area_um2, i_area_um2 : float
        Membrane area of the single compartment (C_m = 1 µF/cm²).
    e_gl_ms_cm2, i_gl_ms_cm2 : tuple (lo, hi)
        Leak conductance density, uniform per neuron (membrane τ 10–25 ms).
    bias_ua_cm2 : tuple (E lo, E hi, I lo, I hi)
        Constant drive per neuron, uniform.
    noise_ua_cm2 : tuple (E lo, E hi, I lo, I hi)
        SD of each neuron's background current (OU, τ = ``noise_tau_ms``),
        uniform per neuron.
    noise_tau_ms : float
        Correlation time of the background current (3 ms: synaptic bombardment).
    drive_groups : int
        Number of slow shared drives (OU, τ = ``drive_tau_ms``); each neuron
        belongs to the one whose centre is nearest.
    drive_ua_cm2, drive_tau_ms : float
        SD and correlation time of a shared drive.
    warmup_s : float
        Network time integrated (and discarded) before the recording starts,
        so that it begins in the network's ongoing state, not at rest.
    spike_threshold_mv : float
        A spike is an upward crossing of this V_m; re-armed below −30 mV.
    v_reference_mv : float
        The electrodes see V_m − v_reference (the default simulator's rest).
    """

    n_neurons: int = 120
    grid: tuple = (16, 16)
    duration_s: float = 60.0
    seed: int = 0
    shuffle_channels: bool = False
    dt_ms: float = 0.025
    excitatory_fraction: float = 0.8
    in_degree: float = 40.0
    wiring_sigma_um: float = 150.0
    reciprocity: float = 3.0
    g_ee_ns: float = 3.5
    g_ei_ns: float = 1.0
    g_ie_ns: float = 3.0
    g_ii_ns: float = 2.0
    g_sigma_ln: float = 0.8
    g_max_ns: float = 15.0
    ampa_tau_ms: tuple = (0.5, 6.0)
    gaba_tau_ms: tuple = (1.0, 8.0)
    e_ampa_mv: float = 0.0
    e_gaba_mv: float = -75.0
    stp_u: tuple = (0.5, 0.25)
    stp_tau_rec_ms: tuple = (2500.0, 400.0)
    burstiness: float = 1.0
    latency_base_ms: float = 0.7
    conduction_m_per_s: float = 0.3
    gap_p_max: float = 0.3
    gap_sigma_um: float = 75.0
    gap_ns: tuple = (0.3, 1.5)
    gap_density: float = 1.0
    e_area_um2: float = 15000.0
    i_area_um2: float = 10000.0
    e_gl_ms_cm2: tuple = (0.04, 0.07)
    i_gl_ms_cm2: tuple = (0.08, 0.12)
    bias_ua_cm2: tuple = (0.4, 1.05, -0.5, -0.1)
    noise_ua_cm2: tuple = (0.3, 0.6, 0.5, 1.0)
    noise_tau_ms: float = 3.0
    drive_groups: int = 4
    drive_ua_cm2: float = 0.05
    drive_tau_ms: float = 300.0
    warmup_s: float = 3.0
    spike_threshold_mv: float = 0.0
    v_reference_mv: float = -60.0
    pitch_um: float = _d("pitch_um")
    sampling_rate_hz: float = _d("sampling_rate_hz")
    electrodes_per_neuron: tuple = _d("electrodes_per_neuron")
    coupled_attenuation: tuple = _d("coupled_attenuation")
    coupling_tau_min: tuple = _d("coupling_tau_min")
    abrupt_loss_fraction: float = _d("abrupt_loss_fraction")
    noise_uv_median: float = _d("noise_uv_median")
    noisy_fraction: float = _d("noisy_fraction")
    noisy_factor: float = _d("noisy_factor")
    pink_uv: float = _d("pink_uv")
    common_mode_uv: float = _d("common_mode_uv")
    drift_mv_per_min: float = _d("drift_mv_per_min")
    dead_fraction: float = _d("dead_fraction")
    saturated_fraction: float = _d("saturated_fraction")
    artefact_rate_hz: float = _d("artefact_rate_hz")
    extracellular_uv_range: tuple = _d("extracellular_uv_range")
    uv_per_count: float = _d("uv_per_count")
    chunk_s: float = _d("chunk_s")
    compression: str = _d("compression")

    def __post_init__(self):
        steps = self.sampling_rate_hz and 1000.0 / self.sampling_rate_hz / self.dt_ms
        checks = [
            ("n_neurons", self.n_neurons >= 2),
            ("dt_ms", 0 < self.dt_ms <= 0.05 and abs(steps - round(steps)) < 1e-6),
            ("excitatory_fraction", 0 <= self.excitatory_fraction <= 1),
            ("in_degree", self.in_degree >= 0),
            ("burstiness", self.burstiness >= 0),
            ("gap_density", self.gap_density >= 0),
            ("drive_groups", self.drive_groups >= 0),
            ("noise_tau_ms", self.noise_tau_ms > 0),
            ("drive_tau_ms", self.drive_tau_ms > 0),
            ("warmup_s", self.warmup_s >= 0),
        ]
        for name, ok in checks:
            if not ok:
                raise ConfigError(f"invalid HH simulation parameter {name}={getattr(self, name)!r}")
        self.electrode_params()          # validates grid, duration, electrode fields

    def electrode_params(self) -> SimParams:
        """The :class:`SimParams` of the shared electrode model."""
        d = {k: getattr(self, k) for k in ELECTRODE_KEYS}
        return SimParams(n_neurons=self.n_neurons, grid=tuple(self.grid), duration_s=self.duration_s,
                         seed=self.seed, **d)

    @property
    def n_channels(self) -> int:
        return int(self.grid[0] * self.grid[1])

    @property
    def n_samples(self) -> int:
        return int(round(self.duration_s * self.sampling_rate_hz))

    @property
    def substeps(self) -> int:
        return int(round(1000.0 / self.sampling_rate_hz / self.dt_ms))

    @classmethod
    def from_dict(cls, d: dict) -> "HHParams":
        """Build from a mapping, naming an unknown key and the closest valid one."""
        check_known_keys(d, (f.name for f in fields(cls)), "HH simulation parameter")
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**d)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
