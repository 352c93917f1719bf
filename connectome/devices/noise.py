"""Programming-error models: the conductance spread a cell has after it was written.

Kept apart from the technology description (as in aihwkit, where noise
models are separate from device presets). ``compile`` uses them only to
*estimate* the expected weight error of a map; ``verify`` applies noise.

Models (``[noise] model`` in a preset):

``relative``
    σ(G) = ``programming_sigma_rel`` · G — RRAM after write-verify, σ ≈ 2–10 %
    of G (Wan et al. 2022 Nature; Prezioso et al. 2015 Nature).
``pcm``
    σ(G_T) = max(−1.1731 ĝ² + 1.9650 ĝ + 0.2635, 0) µS with ĝ = G_T / G_max,
    the statistical PCM model after iterative program-and-verify
    (Nandakumar et al. 2019/2020; aihwkit ``inference/noise/pcm.py``). The
    coefficients are in µS for G_max ≈ 25 µS; for another G_max they are
    scaled by G_max / 25 µS.
``binary``
    a bit is wrong with the write error rate left after ``max_pulses``
    verified attempts, ``write_error_rate ** max_pulses`` (Apalkov et al.
    2016 Proc. IEEE: ≈ 10⁻⁶ per 10-ns attempt): σ² = p(1 − p) Δg².
``vt``
    flash: threshold-voltage σ ``vt_sigma_v`` (≈ 0.1–0.2 V after ISPP,
    Micheloni et al. 2010) as a fraction of the Vt spacing between levels,
    times the conductance spacing Δg.

Examples
--------
>>> from connectome.devices import load_technology
>>> import numpy as np
>>> tech = load_technology("pcm")
>>> s = programming_sigma_us(tech, np.array([0.0, 25.0]), levels=12)
>>> [round(float(v), 4) for v in s]
[0.2635, 1.0554]
"""

from __future__ import annotations

import numpy as np

#: Nandakumar et al. 2019/2020, for G_max ≈ 25 µS (the preset's ``[noise] pcm_sigma_poly`` default)
PCM_COEFFS_US = (-1.1731, 1.9650, 0.2635)
PCM_REFERENCE_GMAX_US = 25.0


def programming_sigma_us(tech, g_target_us: np.ndarray, levels: int) -> np.ndarray:
    """Standard deviation (µS) of a cell's conductance after programming to ``g_target_us``."""
    g = np.asarray(g_target_us, dtype=np.float64)
    c, w, nz = tech.conductance, tech.write, tech.noise
    dg = (c.g_max_us - c.g_min_us) / max(levels - 1, 1)
    if nz.model == "relative":
        return nz.programming_sigma_rel * g
    if nz.model == "pcm":
        gh = g / c.g_max_us
        a, b, k = nz.pcm_sigma_poly
        return np.maximum(a * gh ** 2 + b * gh + k, 0.0) * (c.g_max_us / PCM_REFERENCE_GMAX_US)
    if nz.model == "binary":
        p = w.write_error_rate ** max(w.max_pulses, 1)
        return np.full(g.shape, np.sqrt(p * (1 - p)) * dg)
    if nz.model == "vt":
        vt_spacing = w.vt_window_v / max(levels - 1, 1)
        return np.full(g.shape, w.vt_sigma_v / vt_spacing * dg)
    raise ValueError(f"unknown noise model {nz.model!r}")
