"""Parameters of spike-train mode: one frozen dataclass, units in the names.

Defaults are the published ones where a paper gives a value (Stark & Abeles
2009, J Neurosci Methods 179:90; English et al. 2017, Neuron 96:505); the
others are marked as choices and measured in docs/accuracy-spikes.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from ..errors import ConfigError, check_known_keys


@dataclass(frozen=True)
class SpikeParams:
    """Parameters of :func:`connectome.spiketrains.infer_spike_trains`.

    Attributes
    ----------
    bin_ms : float
        Cross-correlogram bin; bins are centred on multiples of it, so the
        zero-lag bin is ``[-bin/2, +bin/2)`` (choice; English et al. 2017 used
        0.4 ms, spycon's sCCG 1 ms).
    window_ms : tuple of float
        The monosynaptic window of lags (pre spike → post spike) tested for an
        excess; bins whose centre lies in it (choice: English et al. 2017 used
        0.8–2.8 ms, spycon's sCCG 0–5 ms; 1–5 ms adds slower-rising EPSPs).
    window_inh_ms : tuple of float
        The window tested for a deficit (inhibition): an IPSP's trough in the
        post unit's firing starts as early as an EPSP's peak but lasts as long
        as the IPSP decays (GABA-A, ≈ 5–10 ms), so it is longer (choice).
    sigma_ms : float
        SD of the partially hollow Gaussian that turns the correlogram into its
        slow-rate predictor (English et al. 2017: 10 ms).
    hollow_fraction : float
        Fraction of the kernel's central bin removed (Stark & Abeles 2009: 0.6).
    kernel_sigmas : float
        The kernel is truncated at this many SDs (choice: 3 keeps 99.7 %).
    q_threshold : float
        Benjamini–Hochberg level over every tested pair.
    min_spikes : int
        Units with fewer spikes are not tested (their pairs are NaN).
    duplicate_alpha : float
        Family-wise level of the zero-lag tests (sharp peak: duplicate unit;
        symmetric trough: units of one electrode), Bonferroni over the tested
        pairs. Flagged pairs are never called synapses.
    onset_alpha : float
        A significant pair whose deviation (same sign) is already present in
        the zero-lag bin and the two before it (≈ −1.25 to +0.25 ms) at this
        one-sided level is not called: a synaptic effect starts after the
        presynaptic spike (a refractory shadow or zero-lag shared input
        starts at or before it).
    refractory_ms : float
        A unit with more than ``max_isi_violation`` of its inter-spike
        intervals below this is flagged as a possible multi-unit cluster
        (Hill et al. 2011, J Neurosci 31:8699: 1.5–2 ms).
    max_isi_violation : float
        See ``refractory_ms``.
    workers : int
        Threads for the correlogram kernel (0: numba's default).
    """

    bin_ms: float = 0.5
    window_ms: tuple = (1.0, 5.0)
    window_inh_ms: tuple = (1.0, 8.0)
    sigma_ms: float = 10.0
    hollow_fraction: float = 0.6
    kernel_sigmas: float = 3.0
    q_threshold: float = 0.01
    min_spikes: int = 100
    duplicate_alpha: float = 0.01
    onset_alpha: float = 0.01
    refractory_ms: float = 1.5
    max_isi_violation: float = 0.01
    workers: int = 0

    def __post_init__(self):
        w = tuple(float(v) for v in self.window_ms)
        object.__setattr__(self, "window_ms", w)
        wi = tuple(float(v) for v in self.window_inh_ms)
        object.__setattr__(self, "window_inh_ms", wi)
        checks = [
            (self.bin_ms > 0 and math.isfinite(self.bin_ms), "bin_ms must be a positive number"),
            (len(w) == 2 and 0 < w[0] < w[1], "window_ms must be two lags 0 < start < stop (ms)"),
            (
                w[0] >= self.bin_ms / 2 if len(w) == 2 else True,
                "window_ms must start at or after half a bin (the zero-lag bin is never a synaptic lag)",
            ),
            (
                len(wi) == 2 and self.bin_ms / 2 <= wi[0] < wi[1],
                "window_inh_ms must be two lags bin_ms/2 ≤ start < stop (ms)",
            ),
            (self.sigma_ms > self.bin_ms, "sigma_ms must exceed bin_ms"),
            (0 <= self.hollow_fraction <= 1, "hollow_fraction must be in [0, 1]"),
            (self.kernel_sigmas >= 1, "kernel_sigmas must be ≥ 1"),
            (0 < self.q_threshold < 1, "q_threshold must be in (0, 1)"),
            (int(self.min_spikes) >= 1, "min_spikes must be ≥ 1"),
            (0 < self.duplicate_alpha < 1, "duplicate_alpha must be in (0, 1)"),
            (0 <= self.onset_alpha < 1, "onset_alpha must be in [0, 1) (0: no onset test)"),
            (self.refractory_ms >= 0, "refractory_ms must be ≥ 0"),
            (0 <= self.max_isi_violation <= 1, "max_isi_violation must be in [0, 1]"),
            (int(self.workers) >= 0, "workers must be ≥ 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(msg)

    @classmethod
    def from_dict(cls, d: dict | None) -> "SpikeParams":
        """Build from a mapping; an unknown key is a :class:`ConfigError` naming the closest valid one."""
        d = dict(d or {})
        valid = [f.name for f in fields(cls)]
        check_known_keys(d, valid, "spike-train parameter")
        try:
            return cls(**d)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"spike-train parameters: {exc}") from None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["window_ms"] = list(self.window_ms)
        d["window_inh_ms"] = list(self.window_inh_ms)
        return d
