"""Order and partition neurons so that synapses fill few crossbar tiles.

Two families of tilings:

- ``spectral`` (the default, :func:`spectral_tiles`): rows *and* columns
  are chosen per tile — column blocks cut from a spectral embedding, their
  presynaptic neurons cut into row runs, each tile keeping only the
  columns its rows project to, then tiles merged while their union fits.
  Every tile has its own column table.
- block tilings (``metis``, ``rcm``, ``identity``: the baselines), described
  next: column blocks shared by all the tiles that feed them.

Block tiling in two steps:

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

PARTITIONERS = ("spectral", "metis", "rcm", "identity")
#: Orderings tiled by column blocks shared between tiles (the baselines); "spectral" tiles are decoupled.
BLOCK_PARTITIONERS = ("metis", "rcm", "identity")
#: Open tiles a new tile may be merged into (the merge pass looks back this far in tile order).
MERGE_WINDOW = 64


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
    slot: np.ndarray | None = None  # per synapse: column slot in its tile (None: col_slot of its post)

    @property
    def syn_slot(self) -> np.ndarray:
        """Column slot of every synapse within its tile."""
        if self.slot is None:
            raise ValueError("this tiling has no per-synapse column slots (slot is None)")
        return self.slot

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
    return parts, {"parts": nparts, "edge_cut": int(res.edge_cuts), "metis_s": round(time.perf_counter() - t,
                                                                                     3)}


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
        elif partitioner == "spectral":
            order = rcb_order(spectral_embedding(adj, 2, seed), part_size)
        else:
            parts, info = _metis_parts(adj, part_size, seed)
            prank = _quotient_rank(adj, parts) if parts.max() > 0 else np.zeros(1, dtype=np.int64)
            order = np.lexsort((np.arange(n), prank[parts]))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
    info["order_s"] = round(time.perf_counter() - t, 3)
    return rank, info


# ------------------------------------------------------------------ tiling
def assign_columns(n: int, post: np.ndarray, rank: np.ndarray,
                   col_slots: int) -> tuple[np.ndarray, np.ndarray]:
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
    if partitioner == "spectral" and rank is None:
        return spectral_tiles(n, pre, post, group, rows, col_slots, seed=seed, adj=adj)
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
                      partitioner, info, empty_i)
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
                  partitioner=partitioner, info=info, slot=cs[post])


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


# ------------------------------------------------------- decoupled tiling
def spectral_embedding(adj: sp.csr_matrix, dims: int = 2, seed: int = 0, tau_scale: float = 0.01,
                       tol: float = 1e-3, weighted: bool = False, ncv: int = 20) -> np.ndarray:
    """``(n, dims)`` coordinates of the neurons from the leading non-trivial eigenvectors of the
    regularised normalised adjacency.

    The operator is ``D_τ^{-1/2} (A + τ/n · 11ᵀ) D_τ^{-1/2}`` with ``D_τ = D + τ I`` and ``τ`` the mean
    degree (regularised spectral clustering: Amini et al. 2013, Annals of Statistics; Qin & Rohe 2013,
    NeurIPS), which keeps the embedding meaningful on graphs with many small components; coordinates are
    the eigenvectors 2…dims+1 scaled by ``D_τ^{-1/2}`` (the random-walk eigenvectors: Shi & Malik 2000,
    IEEE TPAMI; Belkin & Niyogi 2003, Neural Computation). ARPACK starts from a seeded vector, so the
    result is deterministic for a seed. ``tol`` and ``ncv`` (Lanczos vectors) are ARPACK's.

    ``weighted``: coordinate ``j`` is divided by ``1 − λ_j`` (``λ_j`` its eigenvalue, so ``1 − λ_j`` is
    the normalised-Laplacian eigenvalue), i.e. the eigenvectors as they appear in the Laplacian's
    pseudo-inverse, ``Σ_t λ^t`` summed over all diffusion times (Coifman & Lafon 2006, Applied and
    Computational Harmonic Analysis; the commute-time embedding of Fouss et al. 2007, IEEE TKDE, uses the
    square root). Smooth, low-frequency directions then dominate the coordinate bisection over the
    higher eigenvectors (measured in docs/compile.md).
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    n = adj.shape[0]
    if n <= dims + 1:
        return np.tile(np.arange(n, dtype=np.float64)[:, None], (1, dims))
    a = adj.astype(np.float64)
    deg = np.asarray(a.sum(axis=1)).ravel()
    tau = max(float(deg.mean()) * tau_scale, 1e-12)
    dinv = 1.0 / np.sqrt(deg + tau)

    def mv(x):
        x = np.asarray(x, dtype=np.float64).reshape(n, -1)
        y = dinv[:, None] * x
        return (dinv[:, None] * (a @ y + (tau / n) * y.sum(axis=0, keepdims=True))).reshape(x.shape)

    k = dims + 1
    if n <= 600:  # small: dense and exact
        m = np.diag(dinv) @ (a.toarray() + tau / n) @ np.diag(dinv)
        vals, vecs = np.linalg.eigh(m)
    else:
        op = LinearOperator((n, n), matvec=mv, matmat=mv, dtype=np.float64)
        v0 = np.random.default_rng(int(seed) & 0x7FFFFFFF).random(n) + 0.5
        try:
            vals, vecs = eigsh(op, k=k, which="LA", v0=v0, tol=tol, ncv=min(max(2 * k + 1, int(ncv)), n),
                               maxiter=n * 10)
        except ArpackNoConvergence as exc:  # use what converged; rank order below copes with fewer
            vals, vecs = exc.eigenvalues, exc.eigenvectors
            if vecs is None or vecs.shape[1] < 2:
                return np.tile(np.arange(n, dtype=np.float64)[:, None], (1, dims))
    o = np.argsort(-vals, kind="stable")[1:k]
    x = vecs[:, o] * dinv[:, None]
    if weighted:
        x = x / np.maximum(1.0 - vals[o], 1e-9)[None, :]
    # fix each eigenvector's sign (ARPACK's is arbitrary) so that the order is reproducible
    flip = np.sign(x[np.argmax(np.abs(x), axis=0), np.arange(x.shape[1])])
    x = x * np.where(flip == 0, 1.0, flip)
    if x.shape[1] < dims:
        x = np.hstack([x, np.zeros((n, dims - x.shape[1]))])
    return x


def rcb_order(points: np.ndarray, leaf: int, idx: np.ndarray | None = None) -> np.ndarray:
    """Recursive coordinate bisection: ``idx`` reordered so that consecutive runs of ``leaf`` are compact.

    Each set is split across its widest coordinate at a multiple of ``leaf`` (⌊k/2⌋ leaves on one side
    of ``k``), so every leaf but the last of the order holds exactly ``leaf`` points (Berger & Bokhari
    1987, IEEE Trans. Computers). Ties are broken by index: deterministic.

    >>> rcb_order(np.array([[0.0], [3.0], [1.0], [2.0]]), 2).tolist()
    [0, 2, 3, 1]
    """
    idx = np.arange(len(points), dtype=np.int64) if idx is None else np.asarray(idx, dtype=np.int64)
    leaf = max(int(leaf), 1)
    out = []
    stack = [idx]
    while stack:
        ix = stack.pop()
        k = -(-len(ix) // leaf)
        if k <= 1:
            out.append(ix)
            continue
        p = points[ix]
        ax = int(np.argmax(p.max(axis=0) - p.min(axis=0)))
        o = ix[np.lexsort((ix, p[:, ax]))]
        nl = leaf * (k // 2)
        stack.append(o[nl:])
        stack.append(o[:nl])
    return np.concatenate(out) if out else idx[:0]


def _merge_tiles(t_group, row_ptr, row_vals, col_ptr, col_vals, rows: int, col_slots: int,
                 window: int) -> np.ndarray:
    """Bin of every initial tile after merging: in tile order, each tile joins the first of the last
    ``window`` open bins of its group whose row and column sets it fits (union ≤ rows, ≤ col_slots)."""
    nt = len(t_group)
    bin_of = np.empty(nt, dtype=np.int64)
    nr = np.diff(row_ptr)
    nc = np.diff(col_ptr)
    open_bins: list = []  # [bin id, group, row set, col set]
    n_bins = 0
    for t in range(nt):
        g = int(t_group[t])
        if nr[t] >= rows and nc[t] >= col_slots:  # full: nothing fits with it
            bin_of[t] = n_bins
            n_bins += 1
            continue
        r = row_vals[row_ptr[t]:row_ptr[t + 1]].tolist()
        c = col_vals[col_ptr[t]:col_ptr[t + 1]].tolist()
        placed = False
        for b in open_bins:
            if b[1] != g:
                continue
            ur = b[2].union(r)
            if len(ur) > rows:
                continue
            uc = b[3].union(c)
            if len(uc) > col_slots:
                continue
            b[2], b[3] = ur, uc
            bin_of[t] = b[0]
            placed = True
            break
        if not placed:
            bin_of[t] = n_bins
            open_bins.append([n_bins, g, set(r), set(c)])
            n_bins += 1
            if len(open_bins) > window:
                open_bins.pop(0)
    return bin_of


def decoupled_tiles(n: int, pre: np.ndarray, post: np.ndarray, group: np.ndarray, rows: int, col_slots: int,
                    seed: int = 0, adj: sp.csr_matrix | None = None, emb: np.ndarray | None = None,
                    window: int = MERGE_WINDOW, col_leaf: int | None = None, by_count: bool = True,
                    col_rank: np.ndarray | None = None) -> Tiling:
    """Tiles whose rows and columns are both chosen per tile (``partitioner = "spectral"``).

    1. **Embedding.** Neurons get 2-D coordinates (:func:`spectral_embedding` of the symmetrised
       synapse graph): neurons that share partners are close.
    2. **Column blocks.** Per tile group, the postsynaptic neurons are cut into compact blocks of
       ``col_slots`` by recursive coordinate bisection of the embedding (:func:`rcb_order`).
    3. **Row cuts.** Per (group, column block), the distinct presynaptic neurons, in a compact
       (bisection) order of all neurons, are cut into runs of ``rows``: one initial tile each.
    4. **Columns per tile.** A tile keeps only the postsynaptic neurons its own rows project to, so
       the last, partly filled run of a block holds few columns as well as few rows.
    5. **Merge.** In tile order (neighbouring blocks adjacent), a tile joins an earlier open tile
       of its group when the union of their rows fits ``rows`` and of their columns ``col_slots``
       (first fit over the last ``window`` open tiles).

    Every tile is its own column block (``tile_col_block`` = tile number, ``tile_part`` = 0):
    its columns are listed in ``block_neuron[tile]``. A neuron drives at most one row of a
    tile and feeds at most one column group, as in the block tilings.
    """
    t0 = time.perf_counter()
    info: dict = {}
    m = len(pre)
    empty_i = np.zeros(0, dtype=np.int64)
    if m == 0:
        return Tiling(np.arange(n, dtype=np.int64), np.full(n, -1, np.int64), np.full(n, -1, np.int64),
                      empty_i,
                      empty_i, empty_i, empty_i, empty_i, np.zeros((0, rows), np.int64),
                      np.zeros((0, col_slots), np.int64), rows, col_slots, "spectral", info, empty_i)
    if emb is None:
        if adj is None:
            adj = symmetric_graph(n, pre, post)
        emb = spectral_embedding(adj, 2, seed)
    info["embedding_s"] = round(time.perf_counter() - t0, 3)
    t = time.perf_counter()
    # row order: one compact order of all neurons
    row_order = rcb_order(emb, rows)
    rank = np.empty(n, dtype=np.int64)
    rank[row_order] = np.arange(n)
    # column blocks per group: bisection of the group's postsynaptic neurons
    n_groups = int(group.max()) + 1
    gp = unique_sorted(group * n + post)             # distinct (group, post)
    gp_g, gp_post = gp // n, gp % n
    gp_block = np.empty(len(gp), dtype=np.int64)
    offset = 0
    for g in range(n_groups):
        lo, hi = np.searchsorted(gp_g, [g, g + 1])
        if hi == lo:
            continue
        leaf = int(col_leaf or col_slots)
        if col_rank is not None:  # blocks of consecutive neurons in a given order (e.g. METIS parts)
            order = gp_post[lo:hi][np.argsort(col_rank[gp_post[lo:hi]], kind="stable")]
        else:
            order = rcb_order(emb, leaf, gp_post[lo:hi])
        blk = np.empty(hi - lo, dtype=np.int64)
        pos = np.searchsorted(gp_post[lo:hi], order)
        blk[pos] = offset + np.arange(hi - lo) // leaf
        gp_block[lo:hi] = blk
        offset += -(-(hi - lo) // leaf)
    n_blocks = offset
    syn_block = gp_block[np.searchsorted(gp, group * n + post)]
    # initial tiles: runs of `rows` distinct presynaptic neurons per block, in row order
    key = syn_block * n + rank[pre]
    u, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    u_blk = u // n
    if by_count:  # within a block, the presynaptic neurons with most synapses into it first
        cnt = np.bincount(inv, minlength=len(u))
        o = np.lexsort((u % n, -cnt, u_blk))
        where = np.empty(len(u), dtype=np.int64)
        where[o] = np.arange(len(u))
        u, inv = u[o], where[inv]
        u_blk = u // n
    run_start = np.concatenate([[True], u_blk[1:] != u_blk[:-1]])
    first = np.maximum.accumulate(np.where(run_start, np.arange(len(u)), 0))
    pos_in = np.arange(len(u)) - first
    new_tile = run_start | (pos_in % rows == 0)
    tile0 = (np.cumsum(new_tile) - 1)[inv]           # initial tile of every synapse
    n0 = int(tile0.max()) + 1
    blk_group = np.empty(n_blocks, dtype=np.int64)
    blk_group[syn_block] = group
    t0_group = blk_group[u_blk[np.flatnonzero(new_tile)]]
    # row and column sets of the initial tiles (CSR by tile)
    tr = unique_sorted(tile0 * n + pre)
    row_ptr = np.searchsorted(tr // n, np.arange(n0 + 1))
    tc = unique_sorted(tile0 * n + post)
    col_ptr = np.searchsorted(tc // n, np.arange(n0 + 1))
    info["tiles_before_merge"] = n0
    bin_of = _merge_tiles(t0_group, row_ptr, tr % n, col_ptr, tc % n, rows, col_slots, int(window))
    info["merge_window"] = int(window)
    # final tiles: numbered by (group, first initial tile) — the merge visits tiles in order, so bins
    # are already numbered in order of their first tile
    tile = bin_of[tile0]
    nt = int(bin_of.max()) + 1
    t_group = np.empty(nt, dtype=np.int64)
    t_group[bin_of] = t0_group
    # rows: distinct presynaptic neurons per tile in row order; columns: distinct posts in column order
    col_rank = np.empty(n, dtype=np.int64)
    col_rank[rcb_order(emb, col_slots)] = np.arange(n)
    rk = unique_sorted(tile * n + rank[pre])
    r_tile = rk // n
    r_pos = np.arange(len(rk)) - np.searchsorted(r_tile, r_tile)
    row = r_pos[np.searchsorted(rk, tile * n + rank[pre])]
    ck = unique_sorted(tile * n + col_rank[post])
    c_tile = ck // n
    c_pos = np.arange(len(ck)) - np.searchsorted(c_tile, c_tile)
    slot = c_pos[np.searchsorted(ck, tile * n + col_rank[post])]
    if r_pos.max() >= rows or c_pos.max() >= col_slots:  # the merge never lets this happen
        raise AssertionError("a merged tile exceeds the crossbar")
    row_order_inv = np.empty(n, dtype=np.int64)
    row_order_inv[rank] = np.arange(n)
    row_neuron = np.full((nt, rows), -1, dtype=np.int64)
    row_neuron[r_tile, r_pos] = row_order_inv[rk % n]
    col_order_inv = np.empty(n, dtype=np.int64)
    col_order_inv[col_rank] = np.arange(n)
    block_neuron = np.full((nt, col_slots), -1, dtype=np.int64)
    block_neuron[c_tile, c_pos] = col_order_inv[ck % n]
    info["tile_s"] = round(time.perf_counter() - t, 3)
    z = np.zeros(nt, dtype=np.int64)
    return Tiling(rank=rank, col_block=np.full(n, -1, np.int64), col_slot=np.full(n, -1, np.int64), tile=tile,
                  row=row, tile_group=t_group, tile_col_block=np.arange(nt, dtype=np.int64), tile_part=z,
                  row_neuron=row_neuron, block_neuron=block_neuron, rows=rows, col_slots=col_slots,
                  partitioner="spectral", info=info, slot=slot)


#: Embedding dimensions tried by :func:`spectral_tiles` (the fewer tiles wins; ties: the first).
SPECTRAL_DIMS = (2, 4)
#: Whether :func:`spectral_tiles` weights the embedding's coordinates by ``1 / (1 − λ)`` (see
#: :func:`spectral_embedding`; measured in docs/compile.md, not adopted).
SPECTRAL_WEIGHTED = False
#: ARPACK tolerance and Lanczos vectors of :func:`spectral_tiles`' embedding (10⁻⁴ and 40 with
#: ``SPECTRAL_WEIGHTED`` reach 0.4998 × RCM at 10⁷ synapses: docs/compile.md).
SPECTRAL_TOL = 1e-3
SPECTRAL_NCV = 20


def spectral_tiles(n: int, pre: np.ndarray, post: np.ndarray, group: np.ndarray, rows: int, col_slots: int,
                   seed: int = 0, adj: sp.csr_matrix | None = None) -> Tiling:
    """:func:`decoupled_tiles` on a 2-D and a 4-D spectral embedding; the tiling with fewer tiles.

    Two dimensions suit planar, distance-dependent wiring (a culture on an array); a torus-like or
    clustered wiring needs four eigenvectors to lay its neighbourhoods out (measured in
    docs/compile.md). One eigen-decomposition serves both.
    """
    t = time.perf_counter()
    if len(pre) == 0:
        return decoupled_tiles(n, pre, post, group, rows, col_slots, seed=seed, emb=np.zeros((n, 2)))
    if adj is None:
        adj = symmetric_graph(n, pre, post)
    emb = spectral_embedding(adj, max(SPECTRAL_DIMS), seed, tol=SPECTRAL_TOL, weighted=SPECTRAL_WEIGHTED,
                             ncv=SPECTRAL_NCV)
    t_emb = time.perf_counter() - t
    best: Tiling | None = None
    best_d = SPECTRAL_DIMS[0]
    counts: dict[str, int] = {}
    for d in SPECTRAL_DIMS:
        til = decoupled_tiles(n, pre, post, group, rows, col_slots, seed=seed, emb=emb[:, :d])
        counts[str(d)] = til.n_tiles
        if best is None or til.n_tiles < best.n_tiles:
            best, best_d = til, d
    assert best is not None  # SPECTRAL_DIMS is not empty
    best.info.update({"embedding_dims": best_d, "tiles_by_embedding_dims": counts,
                      "embedding_s": round(t_emb, 3), "tile_s": round(time.perf_counter() - t - t_emb, 3)})
    return best
