"""Speed and memory of spike-train mode at scale: 1,000 units × 1 h at ≈ 5 Hz (≈ 18 M spikes).

The input is generated once into the benchmark cache: Poisson units with
lognormal rates (mean 5 Hz) modulated by network bursts, as a CNEA-HDF5 spike
file. ``connectome infer`` runs on it as a user would (a subprocess, wall time
and peak RSS measured), limited to 2 threads. The peer, measured in the same
run on the same spikes: Elephant's ``cross_correlation_histogram`` (Denker et
al., Elephant; ±W lags at the same bin) on a subset of unit pairs, timed and
extrapolated to every unordered pair (one histogram gives both directions);
the ratio peer / connectome is reported. The peer computes only histograms:
no predictor, no test.

    python benchmarks/spikes_speed.py                      # 1,000 units × 3,600 s
    python benchmarks/spikes_speed.py --units 200 --duration 600   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package
from _harness import cache_dir, machine, run_measured, table  # noqa: E402


def make_input(units: int, duration_s: float, seed: int = 0) -> Path:
    out = cache_dir() / f"spk_speed_u{units}_d{duration_s:g}_s{seed}.h5"
    if out.exists():
        return out
    print("generating", out.name, file=sys.stderr, flush=True)
    rng = np.random.default_rng(seed)
    rates = rng.lognormal(np.log(5.0) - 0.5 * 0.6**2, 0.6, units)
    # bursts: 10 % of the time at 4× the rate, shared by all units
    n_b = int(duration_s / 10)
    b0 = np.sort(rng.uniform(0, duration_s - 0.5, n_b))
    in_b = 0.5 * n_b / duration_s
    base = rates / (1 + 3 * in_b)
    ts, us = [], []
    for i in range(units):
        t = rng.uniform(0, duration_s, rng.poisson(base[i] * duration_s))
        k = rng.poisson(3 * base[i] * 0.5, n_b)
        tb = np.repeat(b0, k) + rng.uniform(0, 0.5, k.sum())
        t = np.unique(np.r_[t, tb])
        ts.append(t)
        us.append(np.full(t.size, i, np.int32))
    t = np.concatenate(ts)
    u = np.concatenate(us)
    o = np.argsort(t, kind="stable")
    tmp = out.with_name(out.name + ".part")
    with h5py.File(tmp, "w") as fh:
        fh.attrs["format"] = "cnea"
        fh.create_dataset("spikes/times_s", data=t[o])
        fh.create_dataset("spikes/unit_id", data=u[o])
        fh["spikes"].attrs["duration_s"] = duration_s
    tmp.rename(out)
    return out


def peer_elephant(path: Path, n_pairs: int, window_ms: float, bin_ms: float, seed: int = 1) -> dict:
    import neo
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import cross_correlation_histogram

    with h5py.File(path, "r") as fh:
        t = fh["spikes/times_s"][()]
        u = fh["spikes/unit_id"][()]
        dur = float(fh["spikes"].attrs["duration_s"])
    n = int(u.max()) + 1
    rng = np.random.default_rng(seed)
    pairs = [tuple(rng.choice(n, 2, replace=False)) for _ in range(n_pairs)]
    w = int(round(window_ms / bin_ms))
    t0 = time.perf_counter()
    c0 = time.process_time()
    for a, b in pairs:
        sa = neo.SpikeTrain(t[u == a], units="s", t_stop=dur)
        sb = neo.SpikeTrain(t[u == b], units="s", t_stop=dur)
        ba = BinnedSpikeTrain(sa, bin_size=bin_ms * pq.ms)
        bb = BinnedSpikeTrain(sb, bin_size=bin_ms * pq.ms)
        cross_correlation_histogram(
            ba, bb, window=[-w, w], border_correction=False, binary=False, kernel=None, method="speed"
        )
    per = (time.perf_counter() - t0) / n_pairs
    cpu = (time.process_time() - c0) / n_pairs
    total_pairs = n * (n - 1) / 2
    return {
        "pairs_timed": n_pairs,
        "s_per_pair": per,
        "extrapolated_s": per * total_pairs,
        "cpu_s_per_pair": cpu,
        "extrapolated_cpu_s": cpu * total_pairs,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=3600.0)
    ap.add_argument("--peer-pairs", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    path = make_input(args.units, args.duration)
    with h5py.File(path, "r") as fh:
        n_spikes = fh["spikes/times_s"].shape[0]
    import resource

    with tempfile.TemporaryDirectory(dir=cache_dir()) as d:
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = run_measured(
            [
                sys.executable,
                "-m",
                "connectome.cli",
                "infer",
                str(path),
                "--out",
                str(Path(d) / "inf"),
                "--workers",
                "2",
                "--quiet",
            ],
            env={"NUMBA_NUM_THREADS": "2"},
        )
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s = json.loads((Path(d) / "inf" / "summary.json").read_text())
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    from connectome.spiketrains import SpikeParams

    p = SpikeParams()
    w = max(p.window_ms[1], p.window_inh_ms[1]) + p.kernel_sigmas * p.sigma_ms
    rows = [
        {
            "what": "connectome infer (spike-train mode)",
            "units": args.units,
            "spikes": n_spikes,
            "wall_s": r["wall_s"],
            "cpu_s": cpu,
            "rss_mb": r["rss_mb"],
            "pairs": s["qc"]["pairs_tested"],
            "synapses": s["synapses"],
        }
    ]
    try:
        peer = peer_elephant(path, args.peer_pairs, w, p.bin_ms)
        rows.append(
            {
                "what": f"Elephant cross_correlation_histogram (±{w:g} ms, {args.peer_pairs} pairs timed, "
                "extrapolated)",
                "units": args.units,
                "spikes": n_spikes,
                "wall_s": peer["extrapolated_s"],
                "cpu_s": peer["extrapolated_cpu_s"],
                "rss_mb": float("nan"),
                "pairs": args.units * (args.units - 1),
                "synapses": "",
            }
        )
        ratio = peer["extrapolated_cpu_s"] / cpu
    except ImportError:
        peer, ratio = None, float("nan")
    print(
        f"machine: {machine()}; load average at the end {os.getloadavg()[0]:.1f} (shared machine: "
        "CPU time is the fair measure, wall time includes waiting for the cores)\n"
    )
    print(
        table(
            rows,
            [
                ("what", "run"),
                ("units", "units"),
                ("spikes", "spikes"),
                ("pairs", "ordered pairs"),
                ("wall_s", "wall s"),
                ("cpu_s", "CPU s"),
                ("rss_mb", "peak RSS MB"),
                ("synapses", "synapses"),
            ],
        )
    )
    print(
        f"\npeer / connectome CPU-time ratio: {ratio:.3g}" if peer else "\n(elephant not installed: no peer)"
    )
    print(f"timings inside connectome: {json.dumps(s['timings'])}")
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows, "peer": peer, "ratio": ratio, "timings": s["timings"]})
        )


if __name__ == "__main__":
    main()
