"""3D placement of tiles: ``layers`` decks over a (y, x) grid of stack positions.

Objective, in priority order:

1. **Shared output lines.** Tiles are taken in tile order — (column block,
   group, part), see :mod:`connectome.compile.tiling` — and fill one stack
   (one (y, x) position, ``layers`` deep) before the next. The tiles that
   feed the same postsynaptic neurons are therefore stacked on top of one
   another, so their partial column currents can be summed on shared
   vertical output lines; a column block that needs more tiles than
   ``layers`` continues in the next stack, which is an adjacent one
   (objective 3). The number of stacks is the minimum, ⌈tiles / layers⌉.
   Because a stack's tiles share lines, the schedule writes them one at a
   time (:mod:`.schedule`).
2. **Programming load balanced across layers.** Within each stack the
   tiles are assigned to layers greedily, longest programming time first
   onto the layer with the least accumulated time so far (ties: lower
   layer), so every layer carries about the same share of the programming
   work; the per-layer totals and their max/mean ratio are reported.
3. **Short wires between related stacks.** Stacks are laid out on a
   near-square grid in serpentine (boustrophedon) order, so consecutive
   stacks — neighbouring column blocks in the partitioner's order — are
   adjacent.

Positions are unique by construction: stack ``s`` occupies
``(y, x) = (s // X, s % X)`` (mirrored on odd rows) and its tiles take
distinct layers.

Examples
--------
>>> import numpy as np
>>> p = place_tiles(5, layers=2, tile_time_us=np.array([1.0, 3.0, 2.0, 2.0, 1.0]))
>>> list(zip(p.layer.tolist(), p.y.tolist(), p.x.tolist()))
[(1, 0, 0), (0, 0, 0), (1, 0, 1), (0, 0, 1), (1, 1, 1)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Placement:
    layer: np.ndarray
    y: np.ndarray
    x: np.ndarray
    grid_y: int
    grid_x: int

    @property
    def stack(self) -> np.ndarray:
        """Stack index (one (y, x) position) of each tile: tiles of a stack share vertical lines."""
        return self.y * max(self.grid_x, 1) + self.x

    @property
    def n_stacks(self) -> int:
        return int(np.unique(self.y * max(self.grid_x, 1) + self.x).size) if len(self.y) else 0


def place_tiles(n_tiles: int, layers: int, tile_time_us: np.ndarray | None = None) -> Placement:
    """Positions for ``n_tiles`` tiles, in tile order, in a stack ``layers`` deep.

    Parameters
    ----------
    n_tiles : int
        Number of tiles (numbered so that related tiles are consecutive).
    layers : int
        Depth of the 3D stack.
    tile_time_us : ndarray, optional
        Programming time of each tile, balanced across layers (objective 2);
        without it, layers are filled in order.
    """
    if layers < 1:
        raise ValueError("layers must be ≥ 1")
    if n_tiles == 0:
        z = np.zeros(0, dtype=np.int64)
        return Placement(z, z, z, 0, 0)
    idx = np.arange(n_tiles, dtype=np.int64)
    stack = idx // layers
    layer = idx % layers
    if tile_time_us is not None and layers > 1:
        layer = _balance_layers(stack, np.asarray(tile_time_us, dtype=np.float64), layers)
    n_stacks = int(stack[-1]) + 1
    gx = int(math.ceil(math.sqrt(n_stacks)))
    gy = int(math.ceil(n_stacks / gx))
    y = stack // gx
    xr = stack % gx
    x = np.where(y % 2 == 0, xr, gx - 1 - xr)
    return Placement(layer.astype(np.int64), y.astype(np.int64), x.astype(np.int64), gy, gx)


def _balance_layers(stack: np.ndarray, t_us: np.ndarray, layers: int) -> np.ndarray:
    """Per stack, longest tile first onto the least-loaded layer still free in that stack."""
    n = len(stack)
    layer = np.empty(n, dtype=np.int64)
    load = np.zeros(layers)
    for s0 in range(0, n, layers):
        s1 = min(s0 + layers, n)
        tiles = s0 + np.lexsort((np.arange(s1 - s0), -t_us[s0:s1]))  # longest first, ties by index
        free = np.lexsort((np.arange(layers), load))[: s1 - s0]      # least-loaded layers, ties by index
        layer[tiles] = free
        load[free] += t_us[tiles]
    return layer


def placement_report(p: Placement, tile_col_block: np.ndarray, tile_time_us: np.ndarray, layers: int) -> dict:
    """How well the objective was met: stacks, column blocks split over stacks, per-layer load."""
    t = len(p.layer)
    if t == 0:
        return {"stacks": 0, "grid_y": 0, "grid_x": 0, "column_blocks_split": 0,
                "layer_time_us": [0.0] * layers, "layer_imbalance": 1.0}
    key = p.y * max(p.grid_x, 1) + p.x
    pairs = np.unique(np.stack([np.asarray(tile_col_block, dtype=np.int64), key]), axis=1)
    stacks_per_block = np.bincount(pairs[0])
    load = np.bincount(p.layer, weights=tile_time_us, minlength=layers)
    mean = load.mean()
    return {
        "stacks": int(np.unique(key).size),
        "grid_y": p.grid_y,
        "grid_x": p.grid_x,
        "column_blocks_split": int(np.sum(stacks_per_block > 1)),
        "layer_time_us": [round(float(v), 3) for v in load],
        "layer_imbalance": round(float(load.max() / mean), 6) if mean > 0 else 1.0,
    }
