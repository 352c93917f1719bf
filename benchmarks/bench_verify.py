"""Benchmark ``connectome verify``, above all its functional (spiking-network) simulation.

    python benchmarks/bench_verify.py            # 2,000 neurons: verify, verify --functional 10 s and 30 s; 3 runs each
    python benchmarks/bench_verify.py --quick    # the 10-s functional case only, 1 run
    python benchmarks/bench_verify.py --neurons 4000 --runs 5

The network is the simulator's anatomy for 2,000 neurons on the 64×64 array
(``connectome.simulate.network.build_network`` with the default parameters,
seed 0: Gaussian distance rule, mean in-degree 75, Dale's law, lognormal
PSPs, conduction delays, gap junctions), written once as an
``infer``-style directory (edges.csv + neurons.csv) and compiled for RRAM
(256×256, 8 layers) into the benchmark cache. Each measured run is the CLI
in its own process, as a user runs it, under ``/usr/bin/time`` (wall time,
peak RSS); one untimed run first fills numba's compilation cache, as the
first use after installation does.

Target (issue 5): 2,000 neurons × 10 s of simulated time in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402


def network_dir(n_neurons: int, seed: int = 0) -> Path:
    """A cached infer-style directory holding the simulator's network for ``n_neurons`` neurons."""
    from connectome.graph import Connectome
    from connectome.graph.formats import write_csv
    from connectome.simulate.network import build_network
    from connectome.simulate.params import SimParams
    from connectome.simulate.signal import spikelet_peak_per_cc

    out = H.cache_dir() / f"verify-net-{n_neurons}-s{seed}"
    if (out / "edges.csv").exists():
        return out
    side = max(64, int(np.ceil(np.sqrt(n_neurons))))
    p = SimParams(n_neurons=n_neurons, grid=(side, side), seed=seed)
    net = build_network(p, np.random.default_rng([seed, 1]), spikelet_peak_per_cc(p))
    con = Connectome.from_edges(net.pre, net.post, weight_mv=net.weight_mv, kind=net.kind, delay_ms=net.delay_ms,
                                neuron_id=np.arange(n_neurons),
                                meta={"source": f"simulate.network n={n_neurons} seed={seed}"})
    con.neurons["x_um"], con.neurons["y_um"] = net.x_um, net.y_um
    tmp = out.with_name(out.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    write_csv(con, tmp)
    tmp.rename(out)
    return out


def compiled_map(net_dir: Path, technology: str = "rram", clip: str = "none") -> Path:
    """``connectome compile NET -t TECHNOLOGY --clip CLIP`` (technology defaults otherwise), cached."""
    tag = "" if clip == "none" else f".clip-{clip}"
    out = net_dir.with_name(f"{net_dir.name}.{technology}{tag}.map.h5")
    if not out.exists():
        H.run_measured([sys.executable, "-m", "connectome.cli", "compile", str(net_dir), "-t", technology,
                        "--clip", clip, "--out", str(out), "--quiet", "--no-baselines"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="only verify --functional over 10 s, one run")
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    net = network_dir(args.neurons)
    m = compiled_map(net)
    n_syn = sum(1 for _ in open(net / "edges.csv")) - 1
    cases = [("verify --functional (10 s simulated)", ["--functional", "--functional-duration", "10"], 10.0)]
    if not args.quick:
        cases = [("verify (structure only)", [], 0.0)] + cases + [
            ("verify --functional (30 s simulated, default)", ["--functional"], 30.0)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "connectome.cli", "verify", str(m), "--connectome", str(net), "--quiet",
                "--out", str(Path(tmp) / "v.json")]
        H.run_measured(base + ["--functional", "--functional-duration", "1"])  # warm numba's cache
        for name, extra, sim_s in cases:
            r = H.repeat(base + extra, n=runs)
            rep = json.loads((Path(tmp) / "v.json").read_text())
            f = rep.get("functional") or {}
            rows.append({"case": name, "neurons": args.neurons, "synapses": n_syn, "sim_s": sim_s, "runs": r["runs"],
                         "median_s": r["median_s"], "range": f"{r['min_s']:.1f}–{r['max_s']:.1f}",
                         "rss_mb": r["rss_mb"], "score": f.get("score", ""), "ref": f.get("reference_score", ""),
                         "rate": f.get("mean_rate_copied_hz", "")})
    print(f"Machine: {H.machine()}\n")
    print(H.table(rows, [("case", "case"), ("neurons", "neurons"), ("synapses", "synapses"),
                         ("sim_s", "simulated s"), ("runs", "runs"), ("median_s", "median s"),
                         ("range", "min–max s"), ("rss_mb", "peak RSS MB"), ("score", "fidelity"),
                         ("ref", "same network, other seed"),
                         ("rate", "mean rate Hz")]))
    fn = [r for r in rows if r["sim_s"] == 10.0]
    if fn:
        ok = fn[0]["median_s"] <= 60.0
        print(f"\nTarget 2,000 neurons × 10 s in ≤ 60 s: {'met' if ok else 'NOT met'} "
              f"({fn[0]['median_s']:.1f} s median, whole command including map reading and device noise).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
