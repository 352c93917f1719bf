"""Read-out non-idealities of a crossbar: wire (IR) drop, sneak paths, converter precision.

What CrossSim (Sandia National Laboratories) and NeuroSim (Chen, Peng & Yu 2018
IEEE TCAD) model with a circuit solve, here in closed form per line so that
it scales to 10⁷ cells:

**Wire (IR) drop.** A row wire is driven at column 0's end and its far end is
open; a column wire is sensed at a virtual ground below the last row and its
top end is open. Each segment between two cells has ``wire_ohm_per_cell``.
A line of L segments loaded by conductances to a fixed potential obeys the
ladder equation V'' = r·g·V; with the mean load ḡ of the line (every cell of
it: programmed cells at their read conductance, all others at ``g_min``),
λ = √(r·ḡ) per segment and the voltage a distance x from the open end is
cosh(λx)/cosh(λL) of the driven end's (the continuum limit of the resistor
ladder; Liang & Wong 2010 IEEE TED analyse how line resistance and sneak
paths limit cross-point arrays as they grow). A cell at (row r, column c) sees

    f = f_row(c) · f_col(r)
    f_row(c) = cosh(λ_row (cols − c − ½)) / cosh(λ_row · cols)
    f_col(r) = 1 − a · (1 − cosh(λ_col (r + ½)) / cosh(λ_col · rows))

of the input voltage, where ``a`` is the share of the column's load that is
driven (``input_activity`` with an access device). Its current, and so its
contribution to the decoded weight, is scaled by f: cells far from the
drivers and the sense amplifier weigh less, more so in larger tiles, with a
larger wire resistance and with larger conductances.

**Sneak paths.** With an access device (``selector = true``: 1T1R, a
threshold selector, a flash transistor) only the driven rows' cells touch a
column. Without one (a bare cross-point), every cell of the column loads it
(λ_col from all rows) while only the driven ones feed it: the undriven cells
carry sneak currents from the column, lifted off ground by the wire, into
their grounded rows. With ideal wires (r = 0) the column stays at ground and
sneak currents do not reach the sense amplifier (the V/0 read used for
matrix-vector products).

**Converters.** Spikes are 1-bit inputs, so any DAC of ≥ 1 bit drives them
exactly (``dac_bits`` is recorded; a 0-bit DAC is refused). The column ADC
(``adc_bits``) digitises the column output over ± ``adc_range_inputs`` full-
scale inputs: a synapse's effective weight is rounded to that ADC step
(2·range / 2^bits) and saturates at ± range (per synapse, i.e. exact for one
spike at a time; coincident spikes share the range).

Examples
--------
>>> import numpy as np
>>> f = line_factors(np.zeros(3, np.int64), np.array([0, 0, 255]), np.array([0, 255, 255]),
...                  np.full(3, 20.0), rows=256, cols=256, g_min_us=2.0, wire_ohm=2.5, selector=True,
...                  activity=1.0)
>>> [round(float(v), 3) for v in f]   # row 0 is farthest from the sense amplifier, column 255 from the driver
[0.851, 0.718, 0.851]
>>> adc_quantise(np.array([0.11, -0.49, 9.0]), full_scale_mv=1.0, bits=4, range_inputs=2.0).tolist()
[0.0, -0.5, 2.0]
"""

from __future__ import annotations

import numpy as np


def _mean_load(key: np.ndarray, dg_us: np.ndarray, n_lines: int, base_us: float, length: int) -> np.ndarray:
    """Mean conductance (S) per line: ``base_us`` everywhere plus the cells' excess ``dg_us``."""
    extra = np.bincount(key, weights=dg_us, minlength=n_lines)
    return (base_us + extra / length) * 1e-6


def line_factors(tile, row, col, g_us, *, rows: int, cols: int, g_min_us: float, wire_ohm: float,
                 selector: bool,
                 activity: float, n_tiles: int | None = None) -> np.ndarray:
    """Per cell, the share of the input voltage left across it (see the module docstring).

    ``tile``, ``row``, ``col`` and ``g_us`` (read conductance) describe the
    cells that differ from ``g_min_us``; every other position of a tile is at
    ``g_min_us``.
    """
    tile = np.asarray(tile, np.int64)
    n = len(tile)
    if n == 0 or wire_ohm <= 0:
        return np.ones(n)
    row = np.asarray(row, np.int64)
    col = np.asarray(col, np.int64)
    nt = int(tile.max()) + 1 if n_tiles is None else int(n_tiles)
    dg = np.asarray(g_us, np.float64) - g_min_us
    base = max(g_min_us, 0.0)
    # rows: every cell of a driven row is loaded (its column sits near ground)
    rkey = tile * rows + row
    lam_r = np.sqrt(wire_ohm * _mean_load(rkey, dg, nt * rows, base, cols))[rkey]
    f_row = np.cosh(lam_r * (cols - col - 0.5)) / np.cosh(lam_r * cols)
    # columns: the driven share of the load feeds the column, the load is all cells without a selector
    ckey = tile * cols + col
    load = _mean_load(ckey, dg, nt * cols, base, rows)[ckey]
    a = float(np.clip(activity, 0.0, 1.0))
    if selector:
        lam_c = np.sqrt(wire_ohm * a * load)
        f_col = np.cosh(lam_c * (row + 0.5)) / np.cosh(lam_c * rows)
    else:
        lam_c = np.sqrt(wire_ohm * load)
        f_col = 1.0 - a * (1.0 - np.cosh(lam_c * (row + 0.5)) / np.cosh(lam_c * rows))
    return f_row * f_col


def adc_quantise(w_mv: np.ndarray, full_scale_mv: float, bits: int, range_inputs: float) -> np.ndarray:
    """Round weights to the ADC step ``2·range/2^bits``, saturate at ± range (range = inputs × full scale)."""
    w = np.asarray(w_mv, np.float64)
    if bits <= 0 or not full_scale_mv > 0:
        return w.copy()
    rng = float(range_inputs) * float(full_scale_mv)
    step = 2.0 * rng / (1 << int(bits))
    return np.clip(np.round(w / step) * step, -rng, rng)
