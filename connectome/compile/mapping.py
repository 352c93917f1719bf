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


def parse_clip(clip: str | float | None) -> tuple[str, float]:
    """``"none"`` → full scale = max |w|; ``"p99.5"`` → the 99.5th percentile of |w|; a number → that many mV."""
    if clip is None:
        return "none", math.nan
    if isinstance(clip, (int, float)):
        v = float(clip)
        kind = "mv"
    else:
        s = str(clip).strip().lower()
        if s in ("none", "max", ""):
            return "none", math.nan
        kind = "percentile" if s.startswith("p") else "mv"
        try:
            v = float(s[1:] if kind == "percentile" else s.removesuffix("mv"))
        except ValueError:
            raise ConfigError(f"bad clip policy {clip!r}: use none, pNN (percentile of |w|) "
                                  "or a full scale in mV") from None
    if kind == "percentile" and not 0 < v <= 100:
        raise ConfigError(f"clip percentile must be in (0, 100], got {v}")
    if kind == "mv" and not (math.isfinite(v) and v > 0):
        raise ConfigError(f"clip full scale must be a positive number of mV, got {v}")
    return kind, v


def full_scale_mv(weights: np.ndarray, clip=None) -> float:
    """The |weight| mapped onto the largest representable magnitude."""
    kind, v = parse_clip(clip)
    a = np.abs(np.asarray(weights, dtype=np.float64))
    if kind == "mv":
        return v
    if a.size == 0:
        return 1.0
    fs = float(a.max()) if kind == "none" else float(np.percentile(a, v))
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

    def decoded_mv(self) -> np.ndarray:
        return np.where(self.negative, -1.0, 1.0) * self.q * self.step_mv


def quantise(weights: np.ndarray, full_scale_mv: float, levels: int, slices: int) -> Quantised:
    """Round |w| to integer steps of ``full_scale_mv / q_max`` and saturate beyond."""
    w = np.asarray(weights, dtype=np.float64)
    q_max = levels ** slices - 1
    step = float(full_scale_mv) / q_max
    a = np.abs(w) / step
    q = np.rint(a)
    clipped = q > q_max
    q = np.minimum(q, q_max).astype(np.int64)
    return Quantised(q=q, negative=w < 0, clipped=clipped, step_mv=step, full_scale_mv=float(full_scale_mv))


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
