"""Weights (mV) → conductance levels of a technology.

A synapse of weight ``w`` becomes an integer magnitude ``Q = round(|w| / step_mv)``
written as ``slices`` base-``levels`` digits, one cell per digit of
significance ``levels**k``; cell ``k`` is programmed to
``g_target_us = g_min_us + digit_k · Δg``, ``Δg = (g_max_us − g_min_us)/(levels − 1)``.
The sign is carried by the cell's polarity:

``differential``
    two column groups per postsynaptic neuron (G⁺ and G⁻); a synapse programs
    the cells on the side of its sign, the other side stays at ``g_min``.
``split``
    excitatory (w ≥ 0) and inhibitory (w < 0) synapses go to separate arrays
    (tile groups) of polarity +1 and −1; one column group per neuron.
``bitslice``
    ``differential`` with several binary or multi-level cells per sign
    (default ``slices`` from the technology, e.g. 4 bits for MRAM).

Decoding is then ``w ≈ Σ polarity · significance · (g_target_us − g_min_us) · mv_per_us``
with ``mv_per_us = step_mv / Δg``: exact to within half a step unless the
synapse was clipped to the full scale (``|w| > full_scale_mv``), which the
clipping policy decides and which is always reported.

Examples
--------
>>> import numpy as np
>>> m = quantise(np.array([0.5, -1.0, 0.26]), full_scale_mv=1.0, levels=5, slices=1)
>>> m.q.tolist(), m.clipped.tolist(), m.step_mv
([2, 4, 1], [False, False, False], 0.25)
>>> quantise(np.array([1e30, 0.5, -0.2]), full_scale_mv=1e30, levels=32, slices=1).zeroed.tolist()
[False, True, True]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, TechnologyError

SCHEMES = ("differential", "split", "bitslice")


@dataclass(frozen=True)
class Encoding:
    """How weights are encoded on a technology (resolved from user options)."""

    scheme: str
    levels: int
    slices: int
    differential: bool  # True: G⁺/G⁻ column groups; False: sign by tile group (split)

    @property
    def q_max(self) -> int:
        return self.levels ** self.slices - 1

    @property
    def cols_per_neuron(self) -> int:
        return self.slices * (2 if self.differential else 1)


def resolve_encoding(tech, scheme: str | None = None, levels: int | None = None, bits: int | None = None,
                     slices: int | None = None) -> Encoding:
    """Validate the scheme and level/slice counts against a technology.

    ``scheme`` defaults to ``bitslice`` for binary technologies and
    ``differential`` otherwise; ``bits`` is an alternative to ``levels``
    (levels = 2**bits).
    """
    c = tech.conductance
    if scheme is None:
        scheme = "bitslice" if c.max_levels == 2 else "differential"
    scheme = str(scheme).lower()
    if scheme not in SCHEMES:
        raise TechnologyError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if levels is not None and bits is not None and levels != 2 ** bits:
        raise TechnologyError(f"--levels {levels} and --bits {bits} disagree")
    if bits is not None:
        if bits < 1:
            raise TechnologyError(f"--bits must be ≥ 1, got {bits}")
        levels = 2 ** bits
    levels = c.levels if levels is None else int(levels)
    if not 2 <= levels <= c.max_levels:
        raise TechnologyError(f"{tech.name} supports 2 to {c.max_levels} levels per cell, asked for {levels}")
    if slices is None:
        slices = max(c.default_slices, 1) if scheme == "bitslice" else 1
    slices = int(slices)
    if slices < 1:
        raise TechnologyError(f"--slices must be ≥ 1, got {slices}")
    if levels ** slices > 2 ** 52:
        raise TechnologyError(f"{slices} slices of {levels} levels exceed 52 bits of weight precision")
    return Encoding(scheme=scheme, levels=levels, slices=slices, differential=(scheme != "split"))


#: Full-scale policies by name: ``max`` (largest |w|) or a percentile ``pNN`` of |w|.
FULL_SCALE_HELP = ('"max" (the largest |w|), "pNN" (the NN-th percentile of |w|, e.g. "p99", "p99.9") '
                   'or a full scale in mV (a number, or "2.5mV")')


def parse_full_scale(value: str | float | None, what: str = "full_scale") -> tuple[str, float]:
    """Parse a full-scale policy: ``("max", nan)``, ``("percentile", NN)`` or ``("mv", value)``.

    ``"max"`` (also ``"none"``: no clipping) maps the largest |weight| to the
    top code; ``"pNN"`` the NN-th percentile of |weight| (weights above it
    saturate and are reported as clipped); a positive finite number (or
    ``"2.5mV"``) is the full scale in mV. ``None`` means ``"max"``.

    Raises
    ------
    ConfigError
        Anything else, naming ``what`` (the parameter).

    >>> parse_full_scale("p99.9"), parse_full_scale("max"), parse_full_scale(2)
    (('percentile', 99.9), ('max', nan), ('mv', 2.0))
    """
    if value is None:
        return "max", math.nan
    if isinstance(value, bool):
        raise ConfigError(f"{what} must be {FULL_SCALE_HELP}, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        kind = "mv"
    elif isinstance(value, str):
        s = value.strip().lower()
        if s in ("none", "max", ""):
            return "max", math.nan
        kind = "percentile" if s.startswith("p") else "mv"
        try:
            v = float(s[1:] if kind == "percentile" else s.removesuffix("mv"))
        except ValueError:
            raise ConfigError(f"{what} must be {FULL_SCALE_HELP}, got {value!r}") from None
    else:
        raise ConfigError(f"{what} must be {FULL_SCALE_HELP}, got {value!r}")
    if kind == "percentile" and not (math.isfinite(v) and 0 < v <= 100):
        raise ConfigError(f"{what}: a full-scale percentile must be in (0, 100], got {v:g}")
    if kind == "mv" and not (math.isfinite(v) and v > 0):
        raise ConfigError(f"{what}: a full scale in mV must be a positive finite number, got {v:g}")
    return kind, v


def normalise_full_scale(value, what: str = "full_scale") -> str | float:
    """The canonical form of a policy (``"max"``, ``"p99"``, or a float in mV), validated.

    >>> normalise_full_scale("none"), normalise_full_scale(" P99.90 "), normalise_full_scale("3mV")
    ('max', 'p99.9', 3.0)
    """
    kind, v = parse_full_scale(value, what)
    if kind == "max":
        return "max"
    if kind == "percentile":
        return f"p{v:g}"
    return v


def parse_clip(clip: str | float | None) -> tuple[str, float]:
    """Old name of :func:`parse_full_scale` (kind ``"none"`` for ``"max"``), kept for callers of the API."""
    kind, v = parse_full_scale(clip, "clip")
    return ("none" if kind == "max" else kind), v


def full_scale_mv(weights: np.ndarray, policy=None) -> float:
    """The |weight| mapped onto the largest representable magnitude under a full-scale ``policy``.

    Percentiles are numpy's linear interpolation between order statistics,
    so they are deterministic. An empty or all-zero weight set gives 1 mV.
    """
    kind, v = parse_full_scale(policy)
    a = np.abs(np.asarray(weights, dtype=np.float64))
    if kind == "mv":
        return v
    if a.size == 0:
        return 1.0
    fs = float(a.max()) if kind == "max" else float(np.percentile(a, v))
    if not fs > 0:  # every weight zero (or the percentile fell on zeros)
        fs = float(a.max()) if a.max() > 0 else 1.0
    return fs


@dataclass(frozen=True)
class Quantised:
    q: np.ndarray          # int64 magnitude in steps, 0..q_max
    negative: np.ndarray   # bool, sign of the source weight
    clipped: np.ndarray    # bool, |w| beyond the full scale (q saturated)
    step_mv: float         # weight of one step
    full_scale_mv: float
    zeroed: np.ndarray     # bool, a non-zero weight that rounds to magnitude 0 (programmed as 0 mV)

    def decoded_mv(self) -> np.ndarray:
        return np.where(self.negative, -1.0, 1.0) * self.q * self.step_mv


def quantise(weights: np.ndarray, full_scale_mv: float, levels: int, slices: int) -> Quantised:
    """Round |w| to integer steps of ``full_scale_mv / q_max`` and saturate beyond.

    A weight beyond the full scale is *clipped* (saturated at the top code);
    a non-zero weight below half a step is *zeroed* (magnitude 0, its cells
    left at ``g_min``). Both are reported by the compiler.
    """
    w = np.asarray(weights, dtype=np.float64)
    q_max = levels ** slices - 1
    step = float(full_scale_mv) / q_max
    with np.errstate(over="ignore"):
        a = np.abs(w) / step
    q = np.rint(a)
    clipped = q > q_max
    q = np.minimum(q, q_max).astype(np.int64)
    return Quantised(q=q, negative=w < 0, clipped=clipped, step_mv=step, full_scale_mv=float(full_scale_mv),
                     zeroed=(q == 0) & (w != 0))


def digits(q: np.ndarray, levels: int, slices: int) -> np.ndarray:
    """``(len(q), slices)`` base-``levels`` digits, least significant first."""
    q = np.asarray(q, dtype=np.int64)
    if slices == 1:
        return q[:, None]
    sig = levels ** np.arange(slices, dtype=np.int64)
    return (q[:, None] // sig[None, :]) % levels


def column_pattern(enc: Encoding, cols: int, polarity: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a tile: slot (postsynaptic neuron index within the tile), polarity and significance.

    Slot ``j`` owns columns ``j·cols_per_neuron … (j+1)·cols_per_neuron − 1``:
    for a differential encoding the ``slices`` positive columns
    (significance ``levels**k``) then the ``slices`` negative ones; for
    ``split`` the ``slices`` columns of the tile group's ``polarity``.
    Columns left over when ``cols`` is not a multiple of
    ``cols_per_neuron`` get slot −1, polarity 0 and significance 0.
    """
    cpn = enc.cols_per_neuron
    used = (cols // cpn) * cpn
    c = np.arange(cols, dtype=np.int64)
    slot = np.where(c < used, c // cpn, -1)
    within = c % cpn
    sig = enc.levels ** (within % enc.slices)
    if enc.differential:
        pol = np.where(within < enc.slices, 1, -1)
    else:
        pol = np.full(cols, 1 if polarity >= 0 else -1)
    pol = np.where(slot >= 0, pol, 0).astype(np.int8)
    sig = np.where(slot >= 0, sig, 0).astype(np.int64)
    return slot, pol, sig


def encode_cells(quant: Quantised, enc: Encoding) -> dict:
    """The cells of every synapse: ``slices`` cells on the side of its sign, least significant first.

    Every synapse gets all its ``slices`` cells, including digits of 0
    (cells left in the reset state ``g_min``), so each synapse is visible in
    ``/cells`` even when it quantises to 0; the other side of a differential
    pair stays at ``g_min`` and has no record. Returns per-cell arrays
    ``synapse`` (index), ``col_offset`` (column within the neuron's column
    group), ``polarity``, ``significance`` and ``level``, ordered by
    (synapse, slice).
    """
    m = len(quant.q)
    s = enc.slices
    syn = np.repeat(np.arange(m, dtype=np.int64), s)
    k = np.tile(np.arange(s, dtype=np.int64), m)
    neg = np.repeat(quant.negative, s)
    level = digits(quant.q, enc.levels, s).reshape(-1)
    off = k + (neg * s if enc.differential else 0)
    return {"synapse": syn, "col_offset": off, "polarity": np.where(neg, -1, 1).astype(np.int8),
            "significance": (enc.levels ** k).astype(np.int64), "level": level.astype(np.int32)}
