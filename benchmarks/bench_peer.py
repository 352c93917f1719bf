"""Spike-triggered averages against a peer: our pass 2 versus Elephant's
``spike_triggered_average``, timed in the same run, with the averages compared.

Needs the benchmark extra (not needed to use connectome)::

    pip install -e ".[bench]"          # elephant, neo, quantities

What is compared
----------------
Input: a cached simulated recording (``_harness.simulated``; default 256
channels × 30 s, 128 simulated neurons, seed 1). Pass 1 and channels →
neurons run once, with the same calls as ``connectome.infer.run.infer_connectome``;
both sides then start from their output.

*Ours*: ``connectome.infer.sta.accumulate`` — the library's pass 2, unchanged:
the baseline-subtracted, masked spike-triggered averages (sums and counts) of
all N² ordered pairs of neurons at 37 lags of 0.5 ms (−5…+13 ms), including
reading the binned traces, the own after-potential sweep and the masks. It runs
with numba's default threads (2 here) and, for a per-core figure, with 1.

*The traces*: the soma-scaled, binned (0.5 ms, 2 kHz) trace of every neuron
exactly as pass 2 reads it — after its own after-potential template is
subtracted, before its own action potentials are masked. They are captured
from one (untimed) run of ``accumulate`` itself by wrapping, for that run
only, the binned file's ``read_bits`` (to learn each block's first row) and the
``subtract_own`` kernel (to copy the block after it): nothing in the library
is re-implemented or changed, and overlapping blocks are checked to agree.
They keep NaN where pass 2 cannot use a sample (saturation artefacts,
coupling loss).

*The peer*: for a subset of M neurons spread over the range of spike counts
(evenly spaced by rank), all M² ordered pairs: one ``elephant.sta.
spike_triggered_average(signal, spiketrains, window)`` call per presynaptic
neuron, ``signal`` = a ``neo.AnalogSignal`` (mV, 2 kHz) of the M postsynaptic
traces above, ``spiketrains`` = one ``neo.SpikeTrain`` per postsynaptic trace,
``window`` = the same 37 lags. The timed part is building the neo objects and
the calls. Its time is extrapolated to all N² pairs (an extrapolation, not a
measurement): Elephant's cost is per spike and postsynaptic trace, so the
measured time × (N × all neurons' spikes) ÷ (spikes averaged in the subset).

*Same spikes*: each spike is given to Elephant at the centre of the 0.5-ms bin
that holds it (the trace's resolution; our kernel triggers on that bin), so
Elephant's ``floor`` picks the same first bin as ours with no rounding
ambiguity. Elephant averages plain windows: it drops a spike whose window
leaves the signal and has no NaN handling (one masked sample makes the whole
average NaN), where pass 2 skips masked samples. So, per pair, both sides get
the same spikes: those whose window lies inside the recording (one bin of
margin at the end, Elephant's rule for centred times) and holds no NaN on the
postsynaptic trace; Elephant's ``used_spikes`` annotation is checked against
that count.

*Equivalence*: on those identical inputs our side runs the project's own
kernels — ``accumulate_pairs`` with zero baselines (the plain average) and
``spike_baselines`` + ``accumulate_pairs`` as pass 2 calls them (the
baseline-subtracted average) — on each postsynaptic trace with every
presynaptic neuron's spike set for it. Elephant's plain average is compared
with the first; Elephant's average minus its own mean over the baseline lags
(−5…−0.5 ms; the same thing, since with no masked sample the mean of the
per-spike baselines is the average's mean over those lags) with the second.
Reported: max |Δ| (mV) and the correlation over all compared pairs and lags.
Our production averages differ from both by design (own action potentials
masked, partially masked windows kept); their spread and correlation with
Elephant's baseline-subtracted averages off the diagonal are printed for
information.

Peak memory: traced Python/NumPy allocations (``tracemalloc``) in separate,
untimed runs — ours: one ``accumulate``; peer: one presynaptic neuron's call.

    python benchmarks/bench_peer.py              # 12 neurons (144 pairs) for the peer, 3 runs
    python benchmarks/bench_peer.py --quick      # 5 neurons (25 pairs), < 1 min
    python benchmarks/bench_peer.py --peer-neurons 16 --runs 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, simulated, table  # noqa: E402

INSTALL = 'bench_peer.py needs the benchmark extra: pip install -e ".[bench]" (elephant, neo, quantities)'


def _peer_modules():
    try:
        import elephant.sta
        import neo
        import quantities as pq
    except ImportError as e:
        sys.exit(f"{INSTALL}\n({e})")
    return elephant.sta, neo, pq


def prepare(rec_path: Path, p, work: Path):
    """Pass 1 and channels → neurons, the same calls as ``infer_connectome``."""
    from connectome.io import open_recording
    from connectome.infer.preprocess import run_pass1
    from connectome.spikes.neurons import clean_spikes, merge_channels

    rec = open_recording(rec_path)
    p1 = run_pass1(rec, p, work)
    ch, smp, amp = clean_spikes(p1.spike_channel, p1.spike_sample, p1.spike_amp_mv, p.min_ap_fraction,
                                rec.n_channels)
    p1.spike_channel, p1.spike_sample, p1.spike_amp_mv = ch, smp, amp
    noise = np.median(p1.noise_mv, axis=0)
    neurons = merge_channels(ch, smp, amp, noise, rec.rows, rec.cols, rec.x_um, rec.y_um, fs=rec.sampling_rate_hz,
                             min_spikes=p.min_spikes, radius=p.merge_radius_pitches,
                             window_ms=p.merge_window_ms, fraction=p.merge_fraction)
    return rec, p1, neurons


def capture_traces(p1, neurons, p):
    """Run ``accumulate`` once; return its sums and the (bins × N) traces it read,
    own after-potentials subtracted, own action potentials not yet masked."""
    from connectome.infer import sta

    store = p1.binned
    last = {}
    blocks = []
    read, subtract_own = store.read_bits, sta.subtract_own

    def reading(b0, b1):
        last["rows"] = (b0, b1)
        return read(b0, b1)

    def subtracting(v, rows, ptr, lag0, tmpl):
        subtract_own(v, rows, ptr, lag0, tmpl)
        r0, r1 = last["rows"]
        assert v.shape == (r1 - r0, neurons.n), "pass 2 changed: the capture no longer matches it"
        blocks.append((r0, v.copy()))

    store.read_bits, sta.subtract_own = reading, subtracting
    try:
        sums = sta.accumulate(p1, neurons, p)
    finally:
        del store.read_bits
        sta.subtract_own = subtract_own
    if not blocks:
        sys.exit("no traces captured: pass 2 subtracts no own after-potential (own_template_ms = 0?)")
    n_bins = store.n_bins
    V = np.full((n_bins, neurons.n), np.nan, np.float32)
    seen = np.zeros(n_bins, bool)
    for r0, v in blocks:
        a, b = max(0, r0), min(n_bins, r0 + v.shape[0])
        part = v[a - r0:b - r0]
        old = seen[a:b]
        assert np.array_equal(V[a:b][old], part[old], equal_nan=True), "overlapping blocks disagree"
        V[a:b] = part
        seen[a:b] = True
    assert seen.all(), "pass 2 did not read every bin"
    return sums, V


def spike_sets(neurons, subset, V, bin_samples: int, lag0: int, L: int):
    """Per (pre, post) of ``subset``: the pre's spike bins whose window [b+lag0, b+lag0+L)
    lies inside the trace (with Elephant's one-bin end margin) and holds no NaN on post."""
    n_bins = V.shape[0]
    bad = np.vstack([np.zeros((1, len(subset)), np.int64), np.cumsum(np.isnan(V[:, subset]), axis=0)])
    out = []
    for i in subset:
        b = neurons.spikes(i) // bin_samples
        b = b[(b + lag0 >= 0) & (b + lag0 + L <= n_bins - 1)]
        out.append([b[bad[b + lag0 + L, jj] == bad[b + lag0, jj]] for jj in range(len(subset))])
    return out


def peer_sta(es, neo, pq, Vs, sets, rate: float, lag0: int, L: int, pres=None):
    """Elephant STAs: (M pre, L, M post) averages and the spikes Elephant used."""
    M = Vs.shape[1]
    t_stop = Vs.shape[0] / rate * pq.s
    signal = neo.AnalogSignal(Vs, units="mV", sampling_rate=rate * pq.Hz, t_start=0 * pq.s)
    window = (lag0 / rate * pq.s, (lag0 + L) / rate * pq.s)
    out = np.full((M, L, M), np.nan)
    used = np.zeros((M, M), np.int64)
    for a in (range(M) if pres is None else pres):
        trains = [neo.SpikeTrain((sets[a][j] + 0.5) / rate, units="s", t_start=0 * pq.s, t_stop=t_stop)
                  for j in range(M)]
        with np.errstate(invalid="ignore", divide="ignore"):  # a pair with no usable spike: NaN
            res = es.spike_triggered_average(signal, trains, window)
        assert res.shape == (L, M), f"Elephant returned {res.shape[0]} lags, not {L}"
        out[a] = np.asarray(res.magnitude)
        used[a] = res.annotations["used_spikes"]
    return out, used


def ours_on_sets(V, subset, sets, lag0: int, L: int, bl0: int, bl1: int):
    """The project's kernels on the same traces and spikes: plain and baseline-subtracted averages."""
    from connectome.infer._kernels import accumulate_pairs, spike_baselines

    M = len(subset)
    plain = np.full((M, L, M), np.nan)
    based = np.full((M, L, M), np.nan)
    need = max(1, (bl1 - bl0 + 1) // 2)  # as pass 2 calls spike_baselines
    for jj, j in enumerate(subset):
        v = np.ascontiguousarray(V[:, [j]])
        rows = np.concatenate([sets[a][jj] for a in range(M)]).astype(np.int64)
        ptr = np.concatenate([[0], np.cumsum([sets[a][jj].size for a in range(M)])]).astype(np.int64)
        for base, dst in ((np.zeros((rows.size, 1), np.float32), plain),
                          (spike_baselines(v, rows, bl0, bl1, need), based)):
            acc = np.zeros((M, L, 1), np.float32)
            cnt = np.zeros((M, L, 1), np.float32)
            accumulate_pairs(v, base, rows, ptr, lag0, acc, cnt)
            assert np.array_equal(cnt[:, :, 0], np.repeat(np.diff(ptr)[:, None], L, axis=1)), "a masked sample"
            with np.errstate(invalid="ignore", divide="ignore"):
                dst[:, :, jj] = acc[:, :, 0] / cnt[:, :, 0]
    return plain, based


def timed(fn, runs: int):
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
    return {"median": statistics.median(walls), "min": min(walls), "max": max(walls)}


def peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-neurons", type=int, default=12, help="neurons M of the peer's subset (M² pairs)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each side (median reported)")
    ap.add_argument("--quick", action="store_true", help="5 neurons for the peer: finishes in < 1 min")
    args = ap.parse_args()
    es, neo, pq = _peer_modules()
    import numba

    from connectome.infer import sta
    from connectome.infer.params import InferParams

    M = 5 if args.quick else args.peer_neurons
    runs = max(3, args.runs)
    rec_path = simulated("perf-256ch-30s", neurons=128, grid="16x16", duration=30, seed=1)
    p = InferParams()
    work = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    try:
        t = time.perf_counter()
        rec, p1, neurons = prepare(rec_path, p, work)
        t_prep = time.perf_counter() - t
        N = neurons.n
        sums, V = capture_traces(p1, neurons, p)  # also the warm-up of ours (numba caches loaded)
        bs = p1.bin_samples
        rate = p1.fs / bs
        bin_ms = 1000.0 / rate
        lag0 = int(round(sums.lags_ms[0] / bin_ms))
        L = sums.lags_ms.size
        bl0 = int(np.floor(p.baseline_ms[0] / bin_ms))  # the baseline lags of accumulate
        bl1 = int(np.ceil(p.baseline_ms[1] / bin_ms))
        print(f"{rec_path.name}: {N} neurons, {int(neurons.counts().sum())} spikes, {V.shape[0]} bins at "
              f"{rate:g} Hz; pass 1 + neurons {t_prep:.1f} s", file=sys.stderr, flush=True)

        # --- ours: the library's pass 2, all N² pairs
        threads = numba.get_num_threads()
        ours = timed(lambda: sta.accumulate(p1, neurons, p), runs)
        numba.set_num_threads(1)
        try:
            ours1 = timed(lambda: sta.accumulate(p1, neurons, p), runs)
        finally:
            numba.set_num_threads(threads)
        ours_mb = peak_mb(lambda: sta.accumulate(p1, neurons, p))
        print(f"ours: {ours['median']:.2f} s ({threads} threads), {ours1['median']:.2f} s (1 thread)",
              file=sys.stderr, flush=True)

        # --- the peer: all M² pairs among M neurons spread over the spike counts
        order = np.argsort(neurons.counts(), kind="stable")
        subset = np.sort(order[np.unique(np.linspace(0, N - 1, M).round().astype(int))])
        M = subset.size
        sets = spike_sets(neurons, subset, V, bs, lag0, L)
        Vs = np.ascontiguousarray(V[:, subset])
        res = {}

        def peer():
            res["sta"], res["used"] = peer_sta(es, neo, pq, Vs, sets, rate, lag0, L)

        peer_t = timed(peer, runs)
        peer_mb = peak_mb(lambda: peer_sta(es, neo, pq, Vs, sets, rate, lag0, L, pres=[0]))
        n_set = np.array([[s.size for s in row] for row in sets])
        assert np.array_equal(res["used"], n_set), "Elephant used other spikes than ours"
        print(f"peer: {peer_t['median']:.1f} s for {M * M} pairs", file=sys.stderr, flush=True)

        # --- equivalence on the same traces and spikes
        plain, based = ours_on_sets(V, subset, sets, lag0, L, bl0, bl1)
        el = res["sta"]
        el_based = el - el[:, bl0 - lag0:bl1 - lag0 + 1, :].mean(axis=1, keepdims=True)
        ok = n_set > 0  # pairs with at least one usable spike
        d_plain = np.abs(plain - el).transpose(0, 2, 1)[ok]
        d_based = np.abs(based - el_based).transpose(0, 2, 1)[ok]
        corr = np.corrcoef(based.transpose(0, 2, 1)[ok].ravel(), el_based.transpose(0, 2, 1)[ok].ravel())[0, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            prod = (sums.acc / sums.cnt)[np.ix_(subset, np.arange(L), subset)].transpose(0, 2, 1)
        # off the diagonal (a neuron's own-spike average holds its own action potential unless masked)
        off = (ok & ~np.eye(M, dtype=bool))[..., None] & np.isfinite(prod) & np.isfinite(el_based.transpose(0, 2, 1))
        sd_prod, sd_peer = float(prod[off].std()), float(el_based.transpose(0, 2, 1)[off].std())
        corr_prod = np.corrcoef(prod[off], el_based.transpose(0, 2, 1)[off])[0, 1]
        all_spikes = np.array([np.count_nonzero(neurons.spikes(i) // bs + lag0 >= 0) for i in range(N)])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # extrapolation: Elephant's cost per (spike, postsynaptic trace)
    peer_all = peer_t["median"] * (N * all_spikes.sum()) / max(1, n_set.sum())
    peer_all_pairs = peer_t["median"] / (M * M) * N * N
    row = {
        "rec": f"{rec.n_channels} ch × {rec.duration_s:g} s, {N} neurons",
        "ours": f"{N * N:,} pairs: {ours['median']:.2f} ({ours['min']:.2f}–{ours['max']:.2f}) · "
                f"1 thread {ours1['median']:.2f} ({ours1['min']:.2f}–{ours1['max']:.2f})",
        "ours_pp": f"{ours['median'] / N**2 * 1e6:.0f} · {ours1['median'] / N**2 * 1e6:.0f}",
        "peer": f"{M * M} pairs: {peer_t['median']:.1f} ({peer_t['min']:.1f}–{peer_t['max']:.1f})",
        "peer_pp": f"{peer_t['median'] / (M * M) * 1e3:.0f}",
        "peer_all": f"{peer_all:,.0f}",
        "ratio": f"{peer_all / ours['median']:,.0f}× · {peer_all / ours1['median']:,.0f}×",
        "diff": f"{d_plain.max():.1e} · {d_based.max():.1e}",
        "corr": f"{corr:.9f}",
    }
    print(f"\nMachine: {machine()}\n")
    print(table([row], [("rec", "recording"), ("ours", "ours s, all pairs: median (min–max) · 1 thread"),
                        ("ours_pp", "ours µs/pair · 1 thread"),
                        ("peer", "Elephant s, measured subset: median (min–max)"), ("peer_pp", "Elephant ms/pair"),
                        ("peer_all", "Elephant s, extrapolated to all pairs"),
                        ("ratio", "speed ratio · 1 thread"),
                        ("diff", "max \\|Δ\\| mV: plain · baseline-subtracted"),
                        ("corr", "correlation (baseline-subtracted)")]))
    print(f"\n- ours: `connectome.infer.sta.accumulate` (pass 2: baseline-subtracted, masked STAs of all "
          f"{N}² pairs × {L} lags), {runs} runs, numba {threads} threads and 1 thread; peak traced memory "
          f"{ours_mb:.1f} MB. Pass 1 + neurons (shared input of both sides, not in either time): {t_prep:.1f} s.")
    print(f"- Elephant {sys.modules['elephant'].__version__} / neo {neo.__version__}: {M} neurons spread over "
          f"the spike counts, all {M * M} ordered pairs, {int(n_set.sum()):,} spike × trace windows averaged, "
          f"{runs} runs; "
          f"peak traced memory of one presynaptic call {peer_mb:.1f} MB. Extrapolated to {N * N:,} pairs by its "
          f"cost per spike and trace ({peer_all:,.0f} s; by per-pair cost × N² it is {peer_all_pairs:,.0f} s).")
    print(f"- Equivalence over {int(ok.sum())} pairs × {L} lags with identical spikes "
          f"({int(n_set.sum()):,} of {int(neurons.counts()[subset].sum()) * M:,} "
          f"spike × trace windows: the rest leave the recording or hold a masked sample): plain max |Δ| "
          f"{d_plain.max():.1e} mV, baseline-subtracted max |Δ| {d_based.max():.1e} mV (averages up to "
          f"{np.nanmax(np.abs(el)):.0f} mV), correlation {corr:.9f}. "
          f"Our production averages differ by design (the postsynaptic cell's own APs masked, partially "
          f"masked windows kept): off the diagonal their SD over pairs and lags is {sd_prod:.2f} mV against "
          f"{sd_peer:.2f} mV for Elephant's baseline-subtracted ones (correlation {corr_prod:.2f}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
