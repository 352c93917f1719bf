"""Accuracy of spike-train mode (``connectome infer`` on sorted spike trains) against ground truth.

Two generators, neither read by the method:

- ``lif``: the current-based LIF network of :mod:`connectome.simulate.lif_spikes`
  (network bursts, hidden shared inputs, rate heterogeneity; optionally
  duplicate units);
- ``lnp``: a linear–nonlinear Poisson (GLM-type) network written here, with
  no membrane and no reset: each unit's rate is a baseline × a shared slow
  modulation (a 40-s drift and 4× bursts of 300 ms every ≈ 15 s) × exp(summed
  exponential coupling currents, 1–3 ms delays), 2 ms dead time;
- ``psp``: the project's voltage simulator (``connectome simulate``): its truth
  file's spike times, taken as a perfect sorting.

For every scenario: precision, recall and MCC at the default threshold
(q ≤ 0.01), ROC AUC and average precision of the pair score over every
ordered pair of true neurons, and kind (E/I) accuracy of the true positives.
Inputs are cached outside the repository (``$CONNECTOME_BENCH_CACHE``).

    python benchmarks/spikes_accuracy.py            # every scenario (≈ 10 min on 2 cores, inputs cached)
    python benchmarks/spikes_accuracy.py --quick    # 10-min recordings only
    python benchmarks/spikes_accuracy.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import h5py
import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package
from _harness import cache_dir, machine, simulated, table  # noqa: E402

from connectome.simulate.lif_spikes import LIFParams, simulate_lif_spikes  # noqa: E402
from connectome.spiketrains import infer_spike_trains  # noqa: E402


def lif_input(n: int, minutes: float, seed: int, dup: int = 0) -> Path:
    out = cache_dir() / f"spk_lif_n{n}_m{minutes:g}_s{seed}_d{dup}.h5"
    if not out.exists():
        print("generating", out.name, file=sys.stderr, flush=True)
        simulate_lif_spikes(
            LIFParams(n_neurons=n, duration_s=60.0 * minutes, seed=seed, n_duplicates=dup), out
        )
    return out


@numba.njit(cache=True)
def _lnp_kernel(n, steps, dt, base, W, D, tau, mod, seed):
    np.random.seed(seed)
    Dm = D.max() + 1
    ring = np.zeros((Dm, n))
    drive = np.zeros(n)
    dec = np.exp(-dt / tau)
    st = np.empty(1 << 16, np.int64)
    su = np.empty(1 << 16, np.int64)
    ns = 0
    last = np.full(n, -(10**9))
    dead = int(2.0 / dt)
    for s in range(steps):
        slot = s % Dm
        for j in range(n):
            drive[j] = drive[j] * dec + ring[slot, j]
            ring[slot, j] = 0.0
        for j in range(n):
            if s - last[j] < dead:
                continue
            if np.random.random() < base[j] * mod[s // 10] * np.exp(drive[j]) * dt / 1000.0:
                last[j] = s
                if ns == st.size:
                    st = np.concatenate((st, np.empty(st.size, np.int64)))
                    su = np.concatenate((su, np.empty(su.size, np.int64)))
                st[ns] = s
                su[ns] = j
                ns += 1
                for k in range(n):
                    if W[j, k] != 0.0:
                        ring[(s + D[j, k]) % Dm, k] += W[j, k]
    return st[:ns], su[:ns]


def lnp_input(n: int, minutes: float, seed: int) -> tuple[Path, Path]:
    """A linear–nonlinear Poisson network's spikes (.npz) and its truth (.truth.h5)."""
    out = cache_dir() / f"spk_lnp_n{n}_m{minutes:g}_s{seed}.npz"
    truth = out.with_name(out.stem + ".truth.h5")
    if out.exists() and truth.exists():
        return out, truth
    print("generating", out.name, file=sys.stderr, flush=True)
    T = 60.0 * minutes
    rng = np.random.default_rng(seed)
    dt = 0.2
    exc = rng.random(n) < 0.8
    A = (rng.random((n, n)) < 0.1) & ~np.eye(n, dtype=bool)
    W = np.where(A, np.where(exc[:, None], 1.0, -1.5) * rng.lognormal(0, 0.4, (n, n)), 0.0)
    D = rng.integers(int(1.0 / dt), int(3.0 / dt), (n, n))
    base = rng.lognormal(np.log(4), 0.5, n)
    steps = int(T * 1000 / dt)
    m = np.ones(steps // 10 + 1)  # per 2 ms
    t2 = np.arange(m.size) * 2e-3
    m *= 1 + 0.5 * np.sin(2 * np.pi * t2 / 40.0)
    for b in rng.uniform(0, T, int(T / 15)):
        i = int(b / 2e-3)
        m[i : i + 150] *= 4
    st, su = _lnp_kernel(n, steps, dt, base, W, D, 3.0, m, seed)
    t = (st + rng.random(st.size)) * dt / 1000
    o = np.lexsort((su, t))
    np.savez(out, times_s=t[o], unit_id=su[o], duration_s=T)
    pre, post = np.nonzero(A)
    with h5py.File(truth, "w") as fh:
        fh["neurons/id"] = np.arange(n)
        fh["neurons/is_excitatory"] = exc.astype(np.int8)
        fh["edges/pre"], fh["edges/post"] = pre, post
        fh["edges/weight_mv"] = W[pre, post]  # coupling (log-rate units), not mV
        fh["edges/kind"] = np.where(exc[pre], 1, 2).astype(np.int8)
        fh["edges/delay_ms"] = D[pre, post] * dt
    return out, truth


def psp_input(n: int, minutes: float, seed: int) -> tuple[Path, Path]:
    """A spike table from the voltage simulator's truth (its spike times), and that truth."""
    rec = simulated(
        f"spk_psp_n{n}_m{minutes:g}_s{seed}", neurons=n, grid="8x8", duration=60 * minutes, seed=seed
    )
    truth = rec.with_name(rec.stem + ".truth.h5")
    out = rec.with_name(rec.stem + ".spikes.npz")
    if not out.exists():
        with h5py.File(truth, "r") as fh:
            ptr, t = fh["neurons/spike_ptr"][()], fh["neurons/spike_times_s"][()]
        u = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        o = np.lexsort((u, t))
        np.savez(out, times_s=t[o], unit_id=u[o])
    return out, truth


def roc_auc(score, label) -> float:
    from scipy.stats import rankdata

    pos = label.sum()
    neg = label.size - pos
    r = rankdata(score)
    return float((r[label].sum() - pos * (pos + 1) / 2) / (pos * neg)) if pos and neg else float("nan")


def average_precision(score, label) -> float:
    o = np.argsort(-score, kind="stable")
    lab = label[o]
    tp = np.cumsum(lab)
    prec = tp / np.arange(1, lab.size + 1)
    return float((prec * lab).sum() / max(lab.sum(), 1))


def score_against(res, truth: Path) -> dict:
    with h5py.File(truth, "r") as fh:
        n = fh["neurons/id"].size
        pre, post, kind = fh["edges/pre"][()], fh["edges/post"][()], fh["edges/kind"][()]
    chem = kind != 3
    A = np.zeros((n, n), np.int8)
    A[pre[chem], post[chem]] = kind[chem]
    ids = res.connectome.neuron_id
    idx = {int(v): k for k, v in enumerate(ids)}
    sel = np.array([idx.get(i, -1) for i in range(n)])  # truth neuron → row in the result
    ok = sel >= 0
    S = np.zeros((n, n))
    sub = res.score[np.ix_(sel[ok], sel[ok])]
    S[np.ix_(ok, ok)] = np.nan_to_num(sub, nan=0.0)
    called = np.zeros((n, n), np.int8)
    e = res.connectome.edges
    for a, b, k in zip(e["pre"].tolist(), e["post"].tolist(), e["kind"].tolist()):
        if a < n and b < n:
            called[a, b] = k
    off = ~np.eye(n, dtype=bool)
    lab, pred, sc = (A != 0)[off], (called != 0)[off], S[off]
    tp, fp, fn = int((lab & pred).sum()), int((~lab & pred).sum()), int((lab & ~pred).sum())
    tn = int(lab.size - tp - fp - fn)
    den = np.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    both = (A != 0) & (called != 0)
    return {
        "true": int(lab.sum()),
        "called": int(pred.sum()),
        "tp": tp,
        "fp": fp,
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "mcc": (tp * tn - fp * fn) / den if den else float("nan"),
        "auc": roc_auc(sc, lab),
        "ap": average_precision(sc, lab),
        "kind_acc": float((A[both] == called[both]).mean()) if both.any() else float("nan"),
        "flagged_pairs": res.summary["qc"]["pairs_flagged_zero_lag_peak"]
        + res.summary["qc"]["pairs_flagged_zero_lag_trough"],
    }


def run(name: str, path: Path, truth: Path, params=None) -> dict:
    t = time.perf_counter()
    res = infer_spike_trains(path, params)
    wall = time.perf_counter() - t
    st = res.summary["input"]
    row = {
        "scenario": name,
        "units": st["units"],
        "minutes": round(st["duration_s"] / 60),
        "spikes": st["spikes"],
        "wall_s": wall,
    }
    row.update(score_against(res, truth))
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    minutes = [10] if args.quick else [10, 30, 60]
    rows = []
    for m in minutes:
        for n, seed in ((20, 1), (40, 2)):
            p = lif_input(n, m, seed)
            rows.append(run("lif bursts+shared", p, p.with_name(p.stem + ".truth.h5")))
    for m in sorted({minutes[0], minutes[-1]}):
        s, t = lnp_input(30, m, 7)
        rows.append(run("lnp (GLM-type) bursts+drift", s, t))
    p = lif_input(30, minutes[-1], 3, dup=3)
    rows.append(run("lif + 3 duplicate units", p, p.with_name(p.stem + ".truth.h5")))
    for m in sorted({minutes[0], minutes[-1]}):
        s, t = psp_input(30, m, 4)
        rows.append(run("psp simulator spikes", s, t))
    print(f"machine: {machine()}\n")
    print(
        table(
            rows,
            [
                ("scenario", "scenario"),
                ("units", "units"),
                ("minutes", "min"),
                ("spikes", "spikes"),
                ("true", "true syn"),
                ("called", "called"),
                ("precision", "precision"),
                ("recall", "recall"),
                ("mcc", "MCC"),
                ("auc", "ROC AUC"),
                ("ap", "AP"),
                ("kind_acc", "kind acc"),
                ("flagged_pairs", "zero-lag flags"),
                ("wall_s", "wall s"),
            ],
        )
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
