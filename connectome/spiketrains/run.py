"""``infer_spike_trains``: sorted spike trains in, a connectome directory out.

Stages: read and validate (:mod:`.readers`, :class:`.trains.SpikeTrains`) →
central correlogram bins of every ordered pair of units with enough spikes
(:mod:`._kernels`, one sorted merge per presynaptic unit) → tests against the
slow-rate predictor, BH-FDR (:mod:`.ccg`) → outputs in the voltage mode's
layout (docs/formats.md, "Inference output directory"), written with the
connectome writers to a temporary directory renamed into place.

The weight of a spike-train edge is its **efficacy**: excess (or, negative,
missing) postsynaptic spikes per presynaptic spike in the monosynaptic
window, dimensionless. It is stored in the ``weight_mv`` column that the
file format requires (``summary.json`` ``weight_unit`` says which quantity the
column holds) and again as ``efficacy``.
"""

from __future__ import annotations

import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from ..graph.connectome import Connectome
from ..graph.kinds import EdgeKind
from ..io import atomic_path
from ..io.atomic import json_safe
from . import ccg
from ._kernels import central_ccg, isi_violations
from .params import SpikeParams
from .trains import SpikeTrains

#: ordered pairs tested at a time (bounds the temporaries of the tests)
PAIR_BLOCK = 65536

WEIGHT_UNIT = "efficacy (excess postsynaptic spikes per presynaptic spike)"


class SpikeInferResult:
    """What :func:`infer_spike_trains` returns: the connectome and every tested pair's evidence."""

    def __init__(self, connectome, score, efficacy, delay, p, q, flag, summary):
        self.connectome = connectome
        self.score, self.efficacy, self.delay_ms = score, efficacy, delay
        self.weight_mv = efficacy  # the column name the file format uses (see WEIGHT_UNIT)
        self.p, self.q, self.flag = p, q, flag
        self.summary = summary
        self.joint_z = None


def _csr(unit_index: np.ndarray, n_units: int):
    order = np.argsort(unit_index, kind="stable").astype(np.int64)
    ptr = np.zeros(n_units + 1, np.int64)
    np.cumsum(np.bincount(unit_index, minlength=n_units), out=ptr[1:])
    return ptr, order


def pair_evidence(st: SpikeTrains, p: SpikeParams):
    """``(tested units mask, PairStats, isi violation counts)`` of a spike table."""
    import numba

    N = st.n_units
    counts = st.counts()
    tested = counts >= p.min_spikes
    ptr, idx = _csr(st.unit_index, N)
    viol = isi_violations(st.times_s, ptr, idx, p.refractory_ms / 1000.0)
    kernel = ccg.hollow_gaussian(p.bin_ms, p.sigma_ms, p.hollow_fraction, p.kernel_sigmas)
    n_center = max(int(np.ceil(max(p.window_ms[1], p.window_inh_ms[1]) / p.bin_ms + 1e-9)), 4) + 1
    n_full = n_center + kernel.size // 2
    pre = post = np.zeros(0, np.int64)
    if tested.sum() >= 2:
        old = numba.get_num_threads()
        if p.workers:
            numba.set_num_threads(min(p.workers, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
        try:
            c, pr = central_ccg(
                st.times_s, st.unit_index, ptr, idx, tested, N, p.bin_ms / 1000.0, n_full, n_center, kernel
            )
        finally:
            numba.set_num_threads(old)
        ti = np.flatnonzero(tested)
        pre = np.repeat(ti, ti.size)
        post = np.tile(ti, ti.size)
        off = pre != post
        pre, post = pre[off], post[off]
        parts = []
        for a in range(0, len(pre), PAIR_BLOCK):  # bounded temporaries: the tests run on blocks of pairs
            sl = slice(a, a + PAIR_BLOCK)
            parts.append(
                ccg.pair_tests(
                    c[pre[sl], post[sl]],
                    pr[pre[sl], post[sl]],
                    pre[sl],
                    post[sl],
                    counts[pre[sl]].astype(np.float64),
                    counts[post[sl]].astype(np.float64),
                    p.bin_ms,
                    p.window_ms,
                    p.window_inh_ms,
                    n_center,
                    p.duplicate_alpha,
                    len(pre),
                )
            )
        stats = ccg.PairStats(
            *(np.concatenate([getattr(x, f) for x in parts]) for f in ccg.PairStats.__dataclass_fields__)
        )
        stats.q = ccg.bh_q(stats.log_p)
        del c, pr
    else:
        z = np.zeros(0)
        stats = ccg.PairStats(pre, post, z, z, z.astype(np.int8), z, z, z, z.astype(np.int8), z)
    return tested, stats, viol


def infer_spike_trains(source, params: SpikeParams | dict | None = None) -> SpikeInferResult:
    """The connectome of sorted spike trains (no files written; see :func:`infer_spike_trains_to`).

    Parameters
    ----------
    source : path, SpikeTrains or spikeinterface ``BaseSorting``
        Any input :func:`connectome.spiketrains.read_spike_trains` reads.
    params : SpikeParams or dict, optional

    Returns
    -------
    SpikeInferResult
        ``.connectome`` (edges: ``weight_mv`` = efficacy, ``delay_ms`` =
        latency of the most significant bin, ``p_value``, ``q_value``) and
        N × N matrices of every tested pair (row = pre): ``score`` (−log10 p),
        ``efficacy``, ``delay_ms``, ``p``, ``q``, ``flag``.

    Examples
    --------
    >>> import numpy as np
    >>> from connectome.spiketrains import SpikeTrains, infer_spike_trains
    >>> rng = np.random.default_rng(0)
    >>> a = np.sort(rng.uniform(0, 600, 3000)); b = np.sort(rng.uniform(0, 600, 3000))
    >>> st = SpikeTrains.from_arrays(np.r_[a, b], np.r_[np.zeros(3000, int), np.ones(3000, int)])
    >>> infer_spike_trains(st).connectome.n_edges
    0
    """
    from .readers import read_spike_trains

    p = params if isinstance(params, SpikeParams) else SpikeParams.from_dict(params)
    t0 = time.perf_counter()
    st = source if isinstance(source, SpikeTrains) else read_spike_trains(source)
    t_read = time.perf_counter() - t0
    t = time.perf_counter()
    tested, s, viol = pair_evidence(st, p)
    if tested.sum() < 2:
        warnings.warn(
            f"{st.source}: fewer than two units have min_spikes = {p.min_spikes} spikes; "
            "no pair was tested and the connectome is empty",
            stacklevel=2,
        )
    t_ccg = time.perf_counter() - t
    N = st.n_units
    counts = st.counts()

    def mat(values, fill=np.nan, dtype=np.float32):
        m = np.full((N, N), fill, dtype)
        m[s.pre, s.post] = values
        return m

    logp = s.log_p
    score = mat(-logp / ccg.LN10)
    eff = mat(s.efficacy)
    delay = mat(s.latency_ms)
    pm = mat(np.exp(logp))
    qm = mat(s.q)
    flag = mat(s.flag, 0, np.int8)
    # a zero-lag artefact in either direction disqualifies both directions
    flagged = (flag != 0) | (flag.T != 0)
    # an effect already present at lags ≤ 0 was not caused by the presynaptic spike
    early = s.onset_log_p < np.log(p.onset_alpha)
    significant = (s.q <= p.q_threshold) & ~flagged[s.pre, s.post] & ~early
    shadow = ccg.reverse_shadow(logp, s.sign, significant, N, s.pre, s.post)
    # the smaller unit of a sharp zero-lag pair is a split or duplicated unit: its synapses are copies
    dup_of = duplicate_of(flag, counts)
    twin = (dup_of[s.pre] >= 0) | (dup_of[s.post] >= 0)
    call = significant & ~shadow & ~twin
    # the score ranks pairs as the decision does: a pair a rule rejected keeps its order among the
    # rejected but ranks below every called pair (p and q stay those of the test)
    rejected = flagged[s.pre, s.post] | early | shadow | twin
    if rejected.any() and call.any():
        cap = 0.999 * float((-logp[call] / ccg.LN10).min())
        score[s.pre[rejected], s.post[rejected]] = np.minimum(-logp[rejected] / ccg.LN10, cap)
    k = np.flatnonzero(call)
    kind = np.where(s.sign[k] > 0, 1, 2).astype(np.int8)
    edges = {
        "pre": st.unit_ids[s.pre[k]],
        "post": st.unit_ids[s.post[k]],
        "kind": kind,
        "weight_mv": s.efficacy[k],
        "delay_ms": s.latency_ms[k],
        "score": -logp[k] / ccg.LN10,
        "p_value": np.exp(logp[k]),
        "q_value": s.q[k],
        "efficacy": s.efficacy[k],
        "excess_spikes": s.excess[k],
        "n_pre_spikes": counts[s.pre[k]],
    }
    dur = max(st.duration_s, 1e-9)
    isi_frac = viol / np.maximum(counts - 1, 1)
    e_out = np.bincount(s.pre[k][kind == EdgeKind.EXCITATORY], minlength=N)
    i_out = np.bincount(s.pre[k][kind == EdgeKind.INHIBITORY], minlength=N)
    nrn = {
        "neuron_id": st.unit_ids,
        "channels": np.array([""] * N, dtype=object),
        "row": np.full(N, -1, np.int64),
        "col": np.full(N, -1, np.int64),
        "x_um": st.x_um,
        "y_um": st.y_um,
        "n_spikes": counts,
        "rate_hz": counts / dur,
        "isi_violation_fraction": isi_frac,
        "multi_unit": (isi_frac > p.max_isi_violation).astype(np.int8),
        "duplicate_of": np.where(dup_of >= 0, st.unit_ids[np.maximum(dup_of, 0)], -1),
        "tested": tested.astype(np.int8),
        "n_excitatory_out": e_out,
        "n_inhibitory_out": i_out,
        "type": np.where(
            e_out > i_out, "excitatory", np.where(i_out > e_out, "inhibitory", "unknown")
        ).astype(object),
    }
    con = Connectome(
        neurons=nrn, edges=edges, meta={"mode": "spikes", "weight_unit": WEIGHT_UNIT, "source": st.source}
    )
    n_flag_dup = int(np.sum(np.triu(flagged & ((flag == 1) | (flag.T == 1)), 1)))
    n_flag_tr = int(np.sum(np.triu(flagged & ((flag == 2) | (flag.T == 2)), 1)))
    summary = {
        "mode": "spikes",
        "weight_unit": WEIGHT_UNIT,
        "neurons": N,
        "synapses": con.n_edges,
        "by_kind": con.counts_by_kind(),
        "method": "cross-correlogram against a partially hollow Gaussian predictor, Poisson mid-p "
        "(Stark & Abeles 2009; English et al. 2017), BH-FDR",
        "qc": {
            "pairs_tested": int(len(s.pre)),
            "pairs_untested": int(N * (N - 1) - len(s.pre)),
            "units_tested": int(tested.sum()),
            "units_multi_unit": int(np.sum(isi_frac > p.max_isi_violation)),
            "pairs_flagged_zero_lag_peak": n_flag_dup,
            "pairs_flagged_zero_lag_trough": n_flag_tr,
            "rejected_reverse_shadow": int(shadow.sum()),
            "units_duplicate": int((dup_of >= 0).sum()),
            "rejected_duplicate_unit_edges": int((significant & ~shadow & twin).sum()),
            "rejected_onset_before_zero": int(((s.q <= p.q_threshold) & early).sum()),
            "significant_but_flagged": int(np.sum((s.q <= p.q_threshold) & flagged[s.pre, s.post])),
        },
        "input": {"path": st.source, "units": N, "spikes": st.n_spikes, "duration_s": st.duration_s},
        "parameters": p.to_dict(),
        "versions": _versions(),
        "timings": {"read_s": t_read, "ccg_and_tests_s": t_ccg, "total_s": time.perf_counter() - t0},
    }
    return SpikeInferResult(con, score, eff, delay, pm, qm, flag, summary)


def duplicate_of(flag: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per unit: the index of the unit it duplicates (the larger of a sharp zero-lag pair), or −1."""
    N = len(counts)
    out = np.full(N, -1, np.int64)
    a, b = np.nonzero(np.triu((flag == ccg.FLAG_DUPLICATE) | (flag.T == ccg.FLAG_DUPLICATE), 1))
    for i, j in sorted(zip(a.tolist(), b.tolist()), key=lambda ij: -max(counts[ij[0]], counts[ij[1]])):
        small, big = (i, j) if (counts[i], -i) < (counts[j], -j) else (j, i)
        if out[small] < 0:
            out[small] = out[big] if out[big] >= 0 else big
    return out


def _versions() -> dict:
    import numba
    import scipy

    return {
        "connectome": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
    }


def write_outputs(result: SpikeInferResult, out_dir) -> Path:
    """neurons.csv, edges.csv, connectivity.h5, connectome.graphml, summary.json, written atomically."""
    import h5py

    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        con = result.connectome
        con.write_csv(tmp)
        with h5py.File(tmp / "connectivity.h5", "w", track_order=True) as fh:
            fh.attrs["description"] = "row = pre, column = post; NaN where untested"
            fh.attrs["mode"] = "spikes"
            fh.attrs["weight_unit"] = WEIGHT_UNIT
            fh.create_dataset("neuron_id", data=con.neuron_id, track_times=False)
            for name, arr in (
                ("score", result.score),
                ("weight_mv", result.efficacy),
                ("delay_ms", result.delay_ms),
                ("efficacy", result.efficacy),
                ("p_value", result.p),
                ("q_value", result.q),
                ("zero_lag_flag", result.flag),
            ):
                fh.create_dataset(name, data=arr, track_times=False, compression="gzip", shuffle=True).flush()
            fh["weight_mv"].attrs["units"] = WEIGHT_UNIT
            fh["efficacy"].attrs["units"] = WEIGHT_UNIT
            fh["score"].attrs["meaning"] = "-log10 p of the pair's test"
            fh["zero_lag_flag"].attrs["meaning"] = "0 none, 1 sharp zero-lag peak, 2 zero-lag trough"
        con.write_graphml(tmp / "connectome.graphml")
        (tmp / "summary.json").write_text(
            json.dumps(json_safe(result.summary), indent=1, sort_keys=True) + "\n"
        )
    return out_dir


def infer_spike_trains_to(source, out_dir, params: SpikeParams | dict | None = None) -> SpikeInferResult:
    """Infer the connectome of sorted spike trains and write the output directory."""
    Path(out_dir).resolve().parent.mkdir(parents=True, exist_ok=True)
    result = infer_spike_trains(source, params)
    write_outputs(result, out_dir)
    return result
