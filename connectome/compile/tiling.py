"""Order and partition neurons so that synapses fill few crossbar tiles.

Tiling in two steps:

1. **Columns.** Neurons are put in an order (``partitioner``) and every
   neuron that receives a synapse gets a *column slot*: consecutive
   neurons in that order fill *column blocks* of ``col_slots`` neurons
   (a tile has ``cols`` columns, ``cols_per_neuron`` per postsynaptic neuron).
2. **Rows, compacted per column block.** For each (tile group, column block)
   the distinct presynaptic neurons of its synapses are listed in the same
   order and cut into tiles of ``rows`` rows. Only non-empty tiles exist, a
   row carries one presynaptic neuron and a column one postsynaptic neuron
   by construction, and a presynaptic neuron appears in every tile of the
   column blocks it projects to (its input line is broadcast to them).

   The tile count is ``Σ ⌈distinct presynaptic neurons / rows⌉`` over
   (group, column block). It is never above that of the fixed grid (row
   blocks × column blocks, both cut from one order), because the rows of a
   column block's non-empty grid tiles hold at least as many distinct
   neurons; the partitioner's job is to make column blocks of neurons that
   share presynaptic partners.

Orderings (``partitioner``):

``metis``
    METIS k-way partition (pymetis) of the symmetrised synapse graph into
    parts of about one column block (minimum edge cut, so a part's inputs
    come mostly from inside the part), parts ordered by reverse
    Cuthill–McKee on the part-quotient graph (neighbouring parts adjacent),
    neurons ordered by part then by index.
``rcm``
    reverse Cuthill–McKee order of the symmetrised graph (scipy) — the
    bandwidth-reduction baseline.
``identity``
    neuron-table order — the naive baseline.

:func:`grid_tile_count` gives the *naive identity-order* tiling the summary
compares against: the fixed grid of ``rows`` × ``col_slots`` blocks over
neuron-table indices, non-empty blocks counted.

Examples
--------
>>> import numpy as np
>>> pre, post = np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2])
>>> t = tile_synapses(4, pre, post, np.zeros(4, np.int64), rows=2, col_slots=2, partitioner="identity")
>>> t.n_tiles, t.row_neuron.tolist()
(2, [[0, 1], [2, 3]])
>>> grid_tile_count(pre, post, np.zeros(4, np.int64), rows=2, col_slots=2)
2
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

PARTITIONERS = ("metis", "rcm", "identity")


@dataclass(frozen=True)
class Tiling:
    """Where every synapse sits, and what every tile's rows and column slots carry.

    Neurons are indices 0..n−1 here; tiles are numbered in (column block,
    group, part) order, so the tiles feeding the same postsynaptic neurons
    are consecutive.
    """

    rank: np.ndarray          # position of each neuron in the chosen order
    col_block: np.ndarray     # per neuron: column block, −1 if it receives no synapse
    col_slot: np.ndarray      # per neuron: slot within its column block, −1 if none
    tile: np.ndarray          # per synapse
    row: np.ndarray           # per synapse
    tile_group: np.ndarray    # per tile
    tile_col_block: np.ndarray
    tile_part: np.ndarray     # per tile: index among the tiles of its (group, column block)
    row_neuron: np.ndarray    # (tiles, rows): neuron index per row, −1 unused
    block_neuron: np.ndarray  # (column blocks, col_slots): neuron index per slot, −1 unused
    rows: int
    col_slots: int
    partitioner: str
    info: dict = field(default_factory=dict)

    @property
    def n_tiles(self) -> int:
        return len(self.tile_group)


def unique_sorted(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (``np.sort`` based: numpy 2's ``np.unique`` without
    ``return_inverse`` takes a hash path that is ~10× slower on 10⁷ int64 keys)."""
    s = np.sort(np.asarray(a))
    if s.size == 0:
        return s
    return s[np.concatenate([[True], s[1:] != s[:-1]])]


# --------------------------------------------------------------- orderings
def symmetric_graph(n: int, pre: np.ndarray, post: np.ndarray) -> sp.csr_matrix:
    """Unweighted undirected adjacency (no self loops, no duplicates) of the synapse graph."""
    keep = pre != post
    i = np.concatenate([pre[keep], post[keep]]).astype(np.int32)
    j = np.concatenate([post[keep], pre[keep]]).astype(np.int32)
    a = sp.csr_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1
    return a


def _metis_parts(adj: sp.csr_matrix, part_size: int, seed: int) -> tuple[np.ndarray, dict]:
    import pymetis

    n = adj.shape[0]
    nparts = -(-n // part_size)
    if nparts <= 1 or adj.nnz == 0:
        return np.zeros(n, dtype=np.int64), {"parts": 1, "edge_cut": 0}
    t = time.perf_counter()
    graph = pymetis.CSRAdjacency(adj.indptr.astype(np.int32), adj.indices.astype(np.int32))
    opts = pymetis.Options(seed=int(seed) & 0x7FFFFFFF, ufactor=30)
    res = pymetis.part_graph(nparts, adjacency=graph, options=opts)
    parts = np.asarray(res.vertex_part, dtype=np.int64)
    return parts, {"parts": nparts, "edge_cut": int(res.edge_cuts), "metis_s": round(time.perf_counter() - t, 3)}


def _quotient_rank(adj: sp.csr_matrix, parts: np.ndarray) -> np.ndarray:
    """Rank of each part along a reverse Cuthill–McKee order of the part-quotient graph."""
    k = int(parts.max()) + 1
    coo = adj.tocoo()
    q = sp.csr_matrix((np.ones(coo.nnz, dtype=np.int32), (parts[coo.row], parts[coo.col])), shape=(k, k))
    order = reverse_cuthill_mckee(q, symmetric_mode=True)
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank


def order_neurons(n: int, pre: np.ndarray, post: np.ndarray, part_size: int, partitioner: str = "metis",
                  seed: int = 0, adj: sp.csr_matrix | None = None) -> tuple[np.ndarray, dict]:
    """Rank (0..n−1) of every neuron in the order given by ``partitioner``.

    Parameters
    ----------
    n : int
        Number of neurons; ``pre``/``post`` are indices below ``n``.
    part_size : int
        Target METIS part size (neurons per column block).
    partitioner : {"metis", "rcm", "identity"}
    seed : int
        METIS seed; the result is deterministic for a seed.
    adj : sparse matrix, optional
        :func:`symmetric_graph` of the synapses, if already built.
    """
    if partitioner not in PARTITIONERS:
        raise ValueError(f"unknown partitioner {partitioner!r}; expected one of {', '.join(PARTITIONERS)}")
    t = time.perf_counter()
    info: dict = {}
    if partitioner == "identity" or len(pre) == 0 or n == 0:
        rank = np.arange(n, dtype=np.int64)
    else:
        if adj is None:
            adj = symmetric_graph(n, pre, post)
        if partitioner == "rcm":
            order = reverse_cuthill_mckee(adj, symmetric_mode=True)
        else:
            parts, info = _metis_parts(adj, part_size, seed)
            prank = _quotient_rank(adj, parts) if parts.max() > 0 else np.zeros(1, dtype=np.int64)
            order = np.lexsort((np.arange(n), prank[parts]))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
    info["order_s"] = round(time.perf_counter() - t, 3)
    return rank, info


# ------------------------------------------------------------------ tiling
def assign_columns(n: int, post: np.ndarray, rank: np.ndarray, col_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """Column block and slot of every neuron that receives a synapse, consecutive in ``rank`` order."""
    need = np.zeros(n, dtype=bool)
    need[post] = True
    idx = np.flatnonzero(need)
    idx = idx[np.argsort(rank[idx], kind="stable")]
    block = np.full(n, -1, dtype=np.int64)
    slot = np.full(n, -1, dtype=np.int64)
    pos = np.arange(len(idx), dtype=np.int64)
    block[idx] = pos // col_slots
    slot[idx] = pos % col_slots
    return block, slot


def tile_synapses(n: int, pre: np.ndarray, post: np.ndarray, group: np.ndarray, rows: int, col_slots: int,
                  partitioner: str = "metis", seed: int = 0, rank: np.ndarray | None = None,
                  adj: sp.csr_matrix | None = None) -> Tiling:
    """Tile the synapses ``pre → post`` (neuron indices) of tile groups ``group``.

    Parameters
    ----------
    n : int
        Number of neurons.
    pre, post, group : ndarray
        One entry per synapse; ``group`` is a small non-negative integer
        (synapses of different groups never share a tile).
    rows : int
        Rows (presynaptic neurons) per tile.
    col_slots : int
        Postsynaptic neurons per tile.
    partitioner, seed, adj
        See :func:`order_neurons`; ``rank`` overrides them with a given order.
    """
    pre = np.asarray(pre, dtype=np.int64)
    post = np.asarray(post, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    info: dict = {}
    if rank is None:
        rank, info = order_neurons(n, pre, post, col_slots, partitioner, seed, adj)
    t = time.perf_counter()
    cb, cs = assign_columns(n, post, rank, col_slots)
    n_cb = int(cb.max()) + 1 if len(pre) else 0
    empty_i = np.zeros(0, dtype=np.int64)
    if len(pre) == 0:
        return Tiling(rank, cb, cs, empty_i, empty_i, empty_i, empty_i, empty_i,
                      np.zeros((0, rows), np.int64), np.zeros((0, col_slots), np.int64), rows, col_slots,
                      partitioner, info)
    order = np.argsort(rank, kind="stable")  # order[r] = neuron of rank r
    # one row entry per distinct (group, column block, presynaptic neuron), in rank order
    gcb = group * n_cb + cb[post]
    key = gcb * n + rank[pre]
    u, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    u_gcb = u // n
    run_start = np.concatenate([[True], u_gcb[1:] != u_gcb[:-1]])
    first = np.maximum.accumulate(np.where(run_start, np.arange(len(u)), 0))
    pos_in = np.arange(len(u)) - first
    new_tile = run_start | (pos_in % rows == 0)
    seq = np.cumsum(new_tile) - 1                 # tiles in (group, column block, part) order
    starts = np.flatnonzero(new_tile)
    t_group = u_gcb[starts] // n_cb
    t_cb = u_gcb[starts] % n_cb
    t_part = pos_in[starts] // rows
    renum = np.lexsort((t_part, t_group, t_cb))   # renumber to (column block, group, part)
    new_id = np.empty(len(renum), dtype=np.int64)
    new_id[renum] = np.arange(len(renum))
    entry_tile = new_id[seq]
    entry_row = pos_in % rows
    row_neuron = np.full((len(renum), rows), -1, dtype=np.int64)
    row_neuron[entry_tile, entry_row] = order[u % n]
    block_neuron = np.full((n_cb, col_slots), -1, dtype=np.int64)
    has = cb >= 0
    block_neuron[cb[has], cs[has]] = np.flatnonzero(has)
    info["tile_s"] = round(time.perf_counter() - t, 3)
    return Tiling(rank=rank, col_block=cb, col_slot=cs, tile=entry_tile[inv], row=entry_row[inv],
                  tile_group=t_group[renum], tile_col_block=t_cb[renum], tile_part=t_part[renum],
                  row_neuron=row_neuron, block_neuron=block_neuron, rows=rows, col_slots=col_slots,
                  partitioner=partitioner, info=info)


def compact_tile_count(n: int, pre: np.ndarray, post: np.ndarray, group: np.ndarray, rank: np.ndarray,
                       rows: int, col_slots: int) -> int:
    """Tiles :func:`tile_synapses` would use for a given neuron order (for baselines)."""
    if len(pre) == 0:
        return 0
    cb, _ = assign_columns(n, post, rank, col_slots)
    gcb = np.asarray(group, dtype=np.int64) * (int(cb.max()) + 1) + cb[post]
    u = unique_sorted(gcb * n + rank[pre])  # each (group, column block) is one run
    gu = u // n
    starts = np.flatnonzero(np.concatenate([[True], gu[1:] != gu[:-1]]))
    distinct = np.diff(np.append(starts, len(u)))
    return int(np.sum(-(-distinct // rows)))


def grid_tile_count(pre: np.ndarray, post: np.ndarray, group: np.ndarray, rows: int, col_slots: int) -> int:
    """Non-empty blocks of the fixed identity-order grid (the naive tiling)."""
    if len(pre) == 0:
        return 0
    pre = np.asarray(pre, dtype=np.int64)
    post = np.asarray(post, dtype=np.int64)
    n_rb = int(pre.max()) // rows + 1
    n_cb = int(post.max()) // col_slots + 1
    key = (np.asarray(group, dtype=np.int64) * n_rb + pre // rows) * n_cb + post // col_slots
    return int(unique_sorted(key).size)
