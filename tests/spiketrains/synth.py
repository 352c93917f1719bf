"""Small planted spike trains for the spike-train tests (Poisson units with known couplings)."""

from __future__ import annotations

import numpy as np


def poisson(rng, rate_hz, duration_s):
    return np.sort(rng.uniform(0, duration_s, rng.poisson(rate_hz * duration_s)))


def planted(seed=0, duration_s=600.0):
    """Units: 0 → 1 excitatory (2 ms), 0 → 2 inhibitory (1–5 ms), 3 and 4 share a bursting hidden
    drive (no synapse), 5 is a half copy of 0 (a split unit). Returns (times, units)."""
    rng = np.random.default_rng(seed)
    T = duration_s
    a = poisson(rng, 5.0, T)
    b = np.sort(np.r_[poisson(rng, 5.0, T), a[rng.random(a.size) < 0.08] + 0.002])
    c = poisson(rng, 8.0, T)
    d = c[:, None] - a[None, :]
    shadow = ((d > 0.001) & (d < 0.005)).any(1)
    c = c[~(shadow & (rng.random(c.size) < 0.6))]
    # hidden bursting source: 1-s bursts every ~20 s at 40 Hz, jittered copies into 3 and 4
    starts = np.sort(rng.uniform(0, T - 1, int(T / 20)))
    x = np.sort(np.concatenate([s + np.sort(rng.uniform(0, 1, 40)) for s in starts]))
    e = np.sort(np.r_[poisson(rng, 3.0, T), x + np.abs(rng.normal(0.003, 0.003, x.size))])
    f = np.sort(np.r_[poisson(rng, 3.0, T), x + np.abs(rng.normal(0.003, 0.003, x.size))])
    g = np.sort(np.r_[a[rng.random(a.size) < 0.5], poisson(rng, 2.0, T)])
    trains = [a, b, c, e, f, g]
    t = np.concatenate(trains)
    u = np.concatenate([np.full(len(s), i) for i, s in enumerate(trains)])
    o = np.lexsort((u, t))
    t, u = t[o], u[o]
    keep = np.r_[True, (t[1:] != t[:-1]) | (u[1:] != u[:-1])]
    return t[keep], u[keep]
