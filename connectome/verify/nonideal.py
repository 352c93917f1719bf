"""Device non-idealities applied to programmed cells: noise models as separate functions.

Kept apart from the technology description (as aihwkit keeps
``inference/noise/pcm.py`` apart from its device presets). Each function
takes conductances in µS and standard-normal draws (or a generator), so the
same draws can be reused when only a scale changes: the error then grows
monotonically with the scale, which the tests rely on.

Models, by the technology's ``[noise] model`` (sources cited per model):

programming spread
    ``relative`` (RRAM): σ = ``programming_sigma_rel`` · G_T, σ ≈ 2–10 % of G
    after write-verify (Wan et al. 2022 Nature; Prezioso et al. 2015 Nature).
    ``pcm``: σ(G_T) = max(−1.1731 ĝ² + 1.9650 ĝ + 0.2635, 0) µS, ĝ = G_T/G_max
    (Nandakumar et al. 2019/2020; aihwkit ``PCMLikeNoiseModel``), conductance
    clipped at 0 as in aihwkit. ``vt`` (flash): Vt σ over the Vt spacing ×
    Δg (Micheloni et al. 2010). ``binary`` (MRAM): a bit is written to the
    wrong state with ``write_error_rate ** max_pulses`` (Apalkov et al.
    2016). All four come from :func:`connectome.devices.noise.programming_sigma_us`
    (the same model ``compile`` uses for its expected error), except that a
    binary error is applied as a flip to the other state, not as Gaussian noise.
drift (``pcm`` only)
    G(t) = G_prog · ((t + t0)/t0)^(−ν) with t the time since programming
    ended and t0 = ``drift_t0_s`` (≈ 20 s); ν = |N(μ_ν(ĝ), σ_ν(ĝ))| with
    μ_ν = clip(−0.0155 ln ĝ + 0.0244, 0.049, 0.1) and
    σ_ν = clip(−0.0125 ln ĝ − 0.0059, 0.008, 0.045) (Nandakumar 2020; the
    "t + t0" convention and |·| as in aihwkit). The reference gives no drift
    model for RRAM, MRAM or flash (only ≥ 10-year retention, Wong et al. 2012;
    Apalkov 2016): they do not drift here.
read noise
    ``pcm``: 1/f noise accumulated since programming,
    σ = |G(t)| · Q_s · √ln((t + t0 + t_r)/(2 t_r)), Q_s = min(0.0088/ĝ^0.65, 0.2),
    t_r = 250 ns, ĝ from the programmed conductance (Nandakumar 2020; aihwkit).
    Otherwise ``read_noise_rel`` · |G| (RRAM ≈ 1–3 %, Wan 2022; the MRAM and
    flash presets give none).
stuck cells
    a fraction of cells is stuck at g_min (stuck-off) or g_max (stuck-on)
    whatever was programmed. The reference gives no stuck-at rate, so the
    default fraction is 0 (an assumption; set ``stuck_fraction``). Recalled,
    not from a device survey: RRAM arrays have shown ≈ 1.75 % stuck-off and
    ≈ 9 % stuck-on cells (Chen et al., DATE 2017).
global drift compensation
    every tile's outputs are rescaled by the ratio of a reference read taken
    right after programming to the same read now (the summed conductance of
    the tile's cells, all rows driven), as in Joshi et al. 2020 Nat. Commun.
    and aihwkit's ``GlobalDriftCompensation``.

Examples
--------
>>> import numpy as np
>>> from connectome.devices import load_technology
>>> pcm = load_technology("pcm")
>>> g = np.array([5.0, 20.0])
>>> nu = drift_exponents(pcm, g, np.zeros(2))     # mean exponents (no spread)
>>> [round(float(v), 4) for v in nu]
[0.0493, 0.049]
>>> [round(float(v), 3) for v in apply_drift(g, nu, after_s=86400.0, t0_s=20.0)]   # one day later
[3.308, 13.27]
>>> has_drift(load_technology("rram")), has_drift(pcm)
(False, True)
"""

from __future__ import annotations

import math

import numpy as np

from ..devices.noise import programming_sigma_us

#: 1/f read-noise model constants (Nandakumar et al. 2019/2020; aihwkit PCMLikeNoiseModel): the defaults of
#: the preset's ``[noise]`` ``read_qs``/``read_t_s``/``drift_nu_mean``/``drift_nu_std``, which the models use
PCM_T_READ_S = 250e-9
PCM_QS_COEFF = 0.0088
PCM_QS_EXP = 0.65
PCM_QS_MAX = 0.2
#: Drift-exponent model (same source): mean and spread of ν as functions of ln ĝ
PCM_NU_MEAN = (-0.0155, 0.0244, 0.049, 0.1)   # slope, intercept, min, max
PCM_NU_STD = (-0.0125, -0.0059, 0.008, 0.045)
_G_FLOOR = 1e-7  # relative conductance floor before taking logs (aihwkit's _ZERO_CLIP)


def has_drift(tech) -> bool:
    """True for technologies with a drift model (PCM)."""
    return tech.noise.model == "pcm"


def drift_t0_s(tech) -> float:
    """t0 of the drift law: the preset's ``drift_t0_s``, 20 s if it gives none (Nandakumar 2020)."""
    t0 = float(tech.noise.drift_t0_s)
    return t0 if t0 > 0 else 20.0


def program(tech, g_target_us: np.ndarray, levels: int, z: np.ndarray, u: np.ndarray,
            scale: float = 1.0) -> np.ndarray:
    """Conductance after programming to ``g_target_us``.

    ``z`` are standard-normal draws and ``u`` uniform draws in [0, 1), one
    per cell; ``scale`` multiplies the spread (and, for binary cells, the
    error probability).
    """
    g = np.asarray(g_target_us, dtype=np.float64)
    if scale == 0:
        return g.copy()
    c, w = tech.conductance, tech.write
    if tech.noise.model == "binary":
        p = min(1.0, scale * w.write_error_rate ** max(w.max_pulses, 1))
        flipped = u < p
        return np.where(flipped, c.g_min_us + c.g_max_us - g, g)
    sigma = programming_sigma_us(tech, g, levels)
    return np.maximum(g + scale * sigma * z, 0.0)


def drift_exponents(tech, g_target_us: np.ndarray, z: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Per-cell drift exponent ν (0 for technologies without drift)."""
    g = np.asarray(g_target_us, dtype=np.float64)
    if not has_drift(tech) or scale == 0:
        return np.zeros(g.shape)
    gh = np.maximum(np.abs(g / tech.conductance.g_max_us), _G_FLOOR)
    lg = np.log(gh)
    a, b, lo, hi = tech.noise.drift_nu_mean
    mu = np.clip(a * lg + b, lo, hi)
    a, b, lo, hi = tech.noise.drift_nu_std
    sd = np.clip(a * lg + b, lo, hi)
    return scale * np.abs(mu + sd * z)


def apply_drift(g_prog_us: np.ndarray, nu: np.ndarray, after_s: float, t0_s: float) -> np.ndarray:
    """G(t) = G_prog · ((after + t0)/t0)^(−ν); no change at ``after_s = 0``."""
    g = np.asarray(g_prog_us, dtype=np.float64)
    if after_s <= 0:
        return g.copy()
    return g * ((after_s + t0_s) / t0_s) ** (-np.asarray(nu))


def read_sigma_us(tech, g_now_us: np.ndarray, g_prog_us: np.ndarray, after_s: float) -> np.ndarray:
    """Standard deviation (µS) of one read of cells now at ``g_now_us``."""
    g = np.asarray(g_now_us, dtype=np.float64)
    if tech.noise.model == "pcm":
        t = after_s + drift_t0_s(tech)
        coeff, exp, qmax = tech.noise.read_qs
        t_r = float(tech.noise.read_t_s)
        gh = np.maximum(np.abs(np.asarray(g_prog_us) / tech.conductance.g_max_us) ** exp, 1e-3)
        qs = np.minimum(coeff / gh, qmax)
        return np.abs(g) * qs * math.sqrt(math.log((t + t_r) / (2 * t_r)))
    return np.abs(g) * float(tech.noise.read_noise_rel)


def read(tech, g_now_us: np.ndarray, g_prog_us: np.ndarray, after_s: float, z: np.ndarray,
         scale: float = 1.0) -> np.ndarray:
    """One noisy read of the cells (conductance clipped at 0)."""
    g = np.asarray(g_now_us, dtype=np.float64)
    if scale == 0:
        return g.copy()
    return np.maximum(g + scale * read_sigma_us(tech, g, g_prog_us, after_s) * z, 0.0)


#: Stuck-cell codes
NOT_STUCK, STUCK_OFF, STUCK_ON = 0, 1, 2


def stuck_states(u: np.ndarray, v: np.ndarray, fraction: float, on_share: float) -> np.ndarray:
    """Per cell: 0 not stuck, 1 stuck at g_min, 2 stuck at g_max (from uniform draws ``u``, ``v``)."""
    out = np.zeros(len(u), dtype=np.int8)
    if fraction <= 0:
        return out
    stuck = u < fraction
    out[stuck] = np.where(v[stuck] < on_share, STUCK_ON, STUCK_OFF)
    return out


def apply_stuck(g_us: np.ndarray, states: np.ndarray, g_min_us: float, g_max_us: float) -> np.ndarray:
    """Replace stuck cells' conductance by g_min or g_max."""
    g = np.asarray(g_us, dtype=np.float64).copy()
    g[states == STUCK_OFF] = g_min_us
    g[states == STUCK_ON] = g_max_us
    return g


def compensation_factors(ref_read_us: np.ndarray, now_read_us: np.ndarray, tile: np.ndarray,
                         n_tiles: int) -> np.ndarray:
    """Per tile: Σ reference read right after programming ÷ Σ read now (1 where a tile reads 0)."""
    ref = np.bincount(tile, weights=ref_read_us, minlength=n_tiles)
    now = np.bincount(tile, weights=now_read_us, minlength=n_tiles)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(now > 0, ref / np.where(now > 0, now, 1.0), 1.0)
    return alpha
