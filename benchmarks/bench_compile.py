"""Benchmark ``connectome compile`` on synthetic sparse connectomes of 100,000 neurons.

    python benchmarks/bench_compile.py                 # 1e5, 1e6, 1e7 synapses, 3 runs each
    python benchmarks/bench_compile.py --sizes 1e5 1e6 --runs 5
    python benchmarks/bench_compile.py --technologies  # also the four-technology table
    python benchmarks/bench_compile.py --no-sizes --tiling --tiling-sizes 1e5 1e6 1e7   # tiles per tiling
    python benchmarks/bench_compile.py --no-sizes --embedding 1e-3:20 1e-4:40 --embedding-size 1e7  # eigsh

The connectome is clustered and distance-dependent, so that partitioning
matters: neurons sit in minicolumns of 100 on a torus; 60 % of a neuron's
synapses stay inside its minicolumn, the rest go to minicolumns at a
Gaussian distance (σ = 1.5 minicolumns). 80 % of neurons are excitatory
(Dale's law), |w| is lognormal (median 0.5 mV), delays are 0.5 ms plus a
gamma-distributed part. Neuron ids are shuffled, as they come out of an
experiment, so the neuron-table order carries no structure.

Inputs are written once, as an ``connectome infer``-style directory
(``edges.csv`` + ``neurons.csv``), into the benchmark cache; every measured
run is the CLI in its own process, as a user runs it, timed with
``/usr/bin/time`` (wall time, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402

N_NEURONS = 100_000


def clustered_edges(n_neurons: int, n_synapses: int, column_size: int = 100, p_local: float = 0.6,
                    sigma_columns: float = 1.5, seed: int = 0):
    """Edge columns of the synthetic connectome described in the module docstring."""
    rng = np.random.default_rng(seed)
    n_cols = -(-n_neurons // column_size)
    side = int(np.ceil(np.sqrt(n_cols)))
    col_of = np.arange(n_neurons) // column_size
    keys = np.zeros(0, dtype=np.int64)
    want = n_synapses
    while len(keys) < n_synapses:
        m = int((want - len(keys)) * 1.3) + 1000
        pre = rng.integers(0, n_neurons, m)
        local = rng.random(m) < p_local
        dy = np.where(local, 0, np.rint(rng.normal(0, sigma_columns, m))).astype(np.int64)
        dx = np.where(local, 0, np.rint(rng.normal(0, sigma_columns, m))).astype(np.int64)
        t = ((col_of[pre] // side + dy) % side) * side + (col_of[pre] % side + dx) % side
        t = np.where(t < n_cols, t, col_of[pre])
        size = np.minimum(column_size, n_neurons - t * column_size)
        post = t * column_size + (rng.random(m) * size).astype(np.int64)
        keys = np.unique(np.concatenate([keys, (pre * n_neurons + post)[pre != post]]))
    return _dale_edges(keys, n_neurons, n_synapses, rng)


def spatial_edges(n_neurons: int, n_synapses: int, seed: int = 0):
    """A spatially local connectome, as a culture on an array wires: neurons uniform on a square,
    each synapse from a random neuron to the neuron nearest a Gaussian-displaced point (σ such that
    the kernel's 1-σ disc holds 4 × the mean out-degree of neurons), ids shuffled; Dale's law and
    lognormal |w| as in :func:`clustered_edges`."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    xy = rng.random((n_neurons, 2))
    sigma = np.sqrt(4 * (n_synapses / n_neurons) / (2 * np.pi * n_neurons))
    tree = cKDTree(xy)
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < n_synapses:
        m = int((n_synapses - len(keys)) * 1.3) + 1000
        pre = rng.integers(0, n_neurons, m)
        _, post = tree.query(xy[pre] + rng.normal(0, sigma, (m, 2)))
        keys = np.unique(np.concatenate([keys, (pre * n_neurons + post)[pre != post]]))
    return _dale_edges(keys, n_neurons, n_synapses, rng)


def _dale_edges(keys, n_neurons: int, n_synapses: int, rng) -> dict:
    """Edge columns from distinct pair keys (pre · N + post): ``n_synapses`` of them, ids shuffled,
    80 % excitatory presynaptic neurons (Dale's law), lognormal |w| (inhibitory 2× stronger)."""
    keys = keys[np.sort(rng.permutation(len(keys))[:n_synapses])]
    pre, post = keys // n_neurons, keys % n_neurons
    ids = rng.permutation(n_neurons)
    exc = rng.random(n_neurons) < 0.8
    mag = rng.lognormal(np.log(0.5), 0.8, len(pre))
    return {"pre": ids[pre], "post": ids[post], "kind": np.where(exc[pre], 1, 2).astype(np.int8),
            "weight_mv": np.where(exc[pre], mag, -2.0 * mag), "delay_ms": 0.5 + rng.gamma(2.0, 0.5, len(pre))}


def _write_csv_fast(path: Path, e: dict) -> None:
    kinds = np.array(["", "excitatory", "inhibitory", "electrical"])
    with open(path, "w") as fh:
        fh.write("pre,post,kind,weight_mv,delay_ms\n")
        for s in range(0, len(e["pre"]), 1_000_000):
            sl = slice(s, s + 1_000_000)
            cols = [e["pre"][sl].astype(str), e["post"][sl].astype(str), kinds[e["kind"][sl]],
                    np.char.mod("%.6g", e["weight_mv"][sl]), np.char.mod("%.5g", e["delay_ms"][sl])]
            rows = cols[0].astype(object)
            for c in cols[1:]:
                rows = rows + "," + c.astype(object)
            fh.write("\n".join(rows.tolist()) + "\n")


def _cached_dir(name: str, n_neurons: int, make_edges, what: str) -> Path:
    """A cached inference-style directory ``name`` holding ``make_edges()`` over ``n_neurons`` neurons."""
    d = H.cache_dir() / name
    if not (d / "edges.csv").exists():
        print(f"generating {what} …", file=sys.stderr, flush=True)
        d.mkdir(parents=True, exist_ok=True)
        e = make_edges()
        (d / "neurons.csv").write_text("neuron_id\n" + "\n".join(map(str, range(n_neurons))) + "\n")
        tmp = d / "edges.csv.tmp"
        _write_csv_fast(tmp, e)
        tmp.rename(d / "edges.csv")
    return d


def connectome_dir(n_synapses: int) -> Path:
    """A cached inference-style directory holding the synthetic connectome."""
    return _cached_dir(f"compile-{N_NEURONS}-{n_synapses}", N_NEURONS,
                       lambda: clustered_edges(N_NEURONS, n_synapses), f"{n_synapses:.0e} synapses")


def spatial_dir(n_synapses: int) -> Path:
    """A cached directory holding :func:`spatial_edges` with 20 synapses per neuron."""
    n = n_synapses // SPATIAL_PER_NEURON
    return _cached_dir(f"compile-spatial-{n}-{n_synapses}", n, lambda: spatial_edges(n, n_synapses),
                       f"{n_synapses:.0e} spatial synapses")


SPATIAL_PER_NEURON = 20


#: Runs ``connectome.cli`` from this checkout, whatever the working directory.
_CLI = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r}); "
        "from connectome.cli import main; sys.exit(main(sys.argv[1:]))")


def compile_args(src: Path, out: Path, tech: str = "rram", crossbar: str = "256x256", layers: int = 8,
                 clip: str = "none", partitioner: str = "spectral") -> list:
    # this checkout's code (the `connectome` script would run whatever copy is installed)
    return [sys.executable, "-c", _CLI, "compile", str(src), "--technology", tech, "--crossbar", crossbar,
            "--layers", str(layers), "--full-scale", clip, "--partitioner", partitioner, "--out", str(out),
            "--quiet"]


def bench_tiling(sizes: list[int], kinds: list[str]) -> list[dict]:
    """Tiles of every tiling on the spatial and clustered connectomes, one CLI run each (RRAM, 256×256)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            for n_syn in sizes:
                src = spatial_dir(n_syn) if kind == "spatial" else connectome_dir(n_syn)
                out = Path(tmp) / f"t-{kind}-{n_syn}.h5"
                r = H.run_measured(compile_args(src, out))
                s = json.loads(out.with_name(out.stem + ".summary.json").read_text())
                by = s["tiles_by_ordering"]
                rows.append({"connectome": kind, "neurons": s["neurons"], "synapses": f"{n_syn:.0e}",
                             "spectral": by["spectral"], "metis": by["metis"], "rcm": by["rcm"],
                             "identity": by["identity"], "ratio_rcm": f"{by['spectral'] / by['rcm']:.3f}",
                             "ratio_metis": f"{by['spectral'] / by['metis']:.3f}",
                             "bound": s["tiles_lower_bound_scheme"], "dims": s["partition"].get("embedding_dims"),
                             "util": f"{100 * s['cell_utilisation_programmed']:.2f}",
                             "wall_s": r["wall_s"], "rss_gb": r["rss_mb"] / 1024})
                print(rows[-1], file=sys.stderr, flush=True)
    return rows


def bench_embedding(n_syn: int, variants: list[str]) -> list[dict]:
    """In-process: tiles of the spectral tiling on the spatial connectome for eigensolver variants
    ``tol:ncv[:w]`` (``w``: coordinates weighted by 1/(1 − λ)), 4 eigenvectors, 2-D and 4-D candidates."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code
    from connectome.compile import tiling as T

    n = n_syn // SPATIAL_PER_NEURON
    e = spatial_edges(n, n_syn)
    pre, post = np.asarray(e["pre"], np.int64), np.asarray(e["post"], np.int64)
    g = np.zeros(len(pre), np.int64)
    adj = T.symmetric_graph(n, pre, post)
    rows = []
    for v in variants:
        tol, ncv, *w = v.split(":")
        t = time.perf_counter()
        emb = T.spectral_embedding(adj, 4, 0, tol=float(tol), ncv=int(ncv), weighted=bool(w))
        t_eig = time.perf_counter() - t
        tiles = {d: T.decoupled_tiles(n, pre, post, g, 256, 128, emb=emb[:, :d]).n_tiles for d in (2, 4)}
        rows.append({"synapses": f"{n_syn:.0e}", "variant": v, "eig_s": round(t_eig, 1),
                     "tiles_2d": tiles[2], "tiles_4d": tiles[4]})
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def bench_sizes(sizes: list[int], runs: int, runs_largest: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n_syn in sizes:
            src = connectome_dir(n_syn)
            out = Path(tmp) / f"map-{n_syn}.h5"
            n = runs_largest if n_syn == max(sizes) and n_syn >= 10_000_000 else runs
            r = H.repeat(compile_args(src, out), n=n)
            s = json.loads(out.with_name(out.stem + ".summary.json").read_text())
            by = s["tiles_by_ordering"]
            rows.append({"synapses": f"{n_syn:.0e}", "runs": n, "median_s": r["median_s"],
                         "range_s": f"{r['min_s']:.1f}–{r['max_s']:.1f}", "rss_gb": r["rss_mb"] / 1024,
                         "tiles": s["tiles"], "lower_bound": s["tiles_lower_bound"], "rcm": by["rcm"],
                         "identity": by["identity"], "naive_grid": by["naive_identity_grid"],
                         "map_mb": out.stat().st_size / 2**20,
                         "stages": {k: v for k, v in s["timings_s"].items()}})
            print(f"{n_syn:.0e}: {r} tiles {s['tiles']}", file=sys.stderr, flush=True)
    return rows


def bench_technologies(n_syn: int, clip: str = "none") -> list[dict]:
    rows = []
    src = connectome_dir(n_syn)
    from connectome.devices import load_technology

    with tempfile.TemporaryDirectory() as tmp:
        for tech in ("flash", "mram", "pcm", "rram"):
            layers = min(8, load_technology(tech).array.max_layers)
            out = Path(tmp) / f"{tech}.h5"
            r = H.run_measured(compile_args(src, out, tech, "256x256", layers, clip))
            s = json.loads(out.with_name(out.stem + ".summary.json").read_text())
            rows.append({"technology": tech, "scheme": f"{s['scheme']} {s['levels']}×{s['slices']}",
                         "layers": layers, "tiles": s["tiles"], "footprint_mm2": s["area_footprint_mm2"],
                         "cells_mm2": s["area_cells_total_mm2"], "prog_time_s": s["programming_time_s"],
                         "energy_uj": s["programming_energy_uj"], "lanes": s["parallel_lanes"],
                         "err_pct_fs": 100 * s["expected_weight_error_rel_full_scale"],
                         "err_mv": s["expected_weight_error_mv"], "clipped": s["clipped"],
                         "compile_s": r["wall_s"]})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--runs-largest", type=int, default=3, help="runs for 1e7 synapses")
    ap.add_argument("--technologies", action="store_true", help="also compare the four technologies")
    ap.add_argument("--tech-size", type=float, default=1e6)
    ap.add_argument("--tech-clip", nargs="+", default=["max", "p99"], help="--full-scale policies for that table")
    ap.add_argument("--no-sizes", action="store_true", help="skip the scaling table")
    ap.add_argument("--tiling", action="store_true",
                    help="also the tiling table: spectral vs metis/rcm/identity tiles (one run per connectome)")
    ap.add_argument("--embedding", nargs="+", metavar="TOL:NCV[:w]",
                    help="also the eigensolver table: spectral tiles per eigsh variant (in-process)")
    ap.add_argument("--embedding-size", type=float, default=1e6)
    ap.add_argument("--tiling-sizes", nargs="+", type=float, default=[1e5, 1e6])
    ap.add_argument("--tiling-kinds", nargs="+", default=["spatial", "clustered"], choices=["spatial", "clustered"])
    a = ap.parse_args(argv)
    t0 = time.time()
    print(f"machine: {H.machine()}")
    if a.embedding:
        erows = bench_embedding(int(a.embedding_size), a.embedding)
        print("\neigensolver variants, spatial connectome, 256x256 (in-process)")
        for r in erows:
            print(r)
    if a.tiling:
        trows = bench_tiling([int(x) for x in a.tiling_sizes], a.tiling_kinds)
        print("\ntiles by tiling, connectome compile IN --technology rram --crossbar 256x256 (128 neurons per tile: "
              "differential)\n")
        print(H.table(trows, [("connectome", "connectome"), ("neurons", "neurons"), ("synapses", "synapses"),
                              ("spectral", "spectral"), ("metis", "METIS"), ("rcm", "RCM"), ("identity", "identity"),
                              ("ratio_rcm", "spectral/RCM"), ("ratio_metis", "spectral/METIS"),
                              ("bound", "bound ⌈syn/(rows·slots)⌉"), ("dims", "embedding dims"),
                              ("util", "programmed cells %"), ("wall_s", "compile s"), ("rss_gb", "peak RSS GB")]))
    rows = [] if a.no_sizes else bench_sizes([int(s) for s in a.sizes], a.runs, a.runs_largest)
    if rows:
        print("\nconnectome compile IN --technology rram --crossbar 256x256 --layers 8 (100,000 neurons)\n")
        print(H.table(rows, [("synapses", "synapses"), ("runs", "runs"), ("median_s", "median s"),
                             ("range_s", "min–max s"), ("rss_gb", "peak RSS GB"), ("tiles", "tiles (METIS)"),
                             ("lower_bound", "lower bound"), ("rcm", "RCM"), ("identity", "identity"),
                             ("naive_grid", "naive grid"), ("map_mb", "map MB")]))
        print("\nstage timings of the last run (s):")
        for r in rows:
            print(f"  {r['synapses']}: " + ", ".join(f"{k} {v}" for k, v in r["stages"].items()))
    for clip in a.tech_clip if a.technologies else []:
        trows = bench_technologies(int(a.tech_size), clip)
        print(f"\nfour technologies, same connectome ({a.tech_size:.0e} synapses), crossbar 256x256, "
              f"--clip {clip}\n")
        print(H.table(trows, [("technology", "technology"), ("scheme", "scheme levels×slices"),
                              ("layers", "layers"), ("tiles", "tiles"), ("footprint_mm2", "footprint mm²"),
                              ("cells_mm2", "cell arrays mm²"), ("prog_time_s", "programming s"),
                              ("energy_uj", "energy µJ"), ("lanes", "parallel stacks"),
                              ("err_pct_fs", "weight error % FS"), ("err_mv", "weight error mV rms"),
                              ("clipped", "clipped"), ("compile_s", "compile s")]))
    print(f"\ntotal benchmark time {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
