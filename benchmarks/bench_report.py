"""Page size and time to interactive of ``connectome report`` for a large culture.

Writes a synthetic inference folder (default 2,000 neurons, 25,000 edges on a
64 × 64 array; no recording, so no drill-down traces), renders its report and,
when a Chromium is installed, loads it headless and reads the time at which
the page's script finished drawing (``performance.now()``, stored by the page
in ``body[data-ready-ms]``).

    python benchmarks/bench_report.py [--neurons 2000] [--edges 25000]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_output(folder, n_neurons: int = 2000, n_edges: int = 25000, seed: int = 0) -> Path:
    """Write summary.json, neurons.csv and edges.csv of a synthetic culture into ``folder`` (80 % excitatory)."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    side = 64
    site = rng.choice(side * side, n_neurons, replace=False)
    row, col = site // side, site % side
    exc = rng.random(n_neurons) < 0.8
    pairs = set()
    while len(pairs) < n_edges:
        a, b = rng.integers(0, n_neurons, 2)
        if a != b:
            pairs.add((int(a), int(b)))
    pairs = sorted(pairs)
    kinds = []
    with open(folder / "edges.csv", "w") as fh:
        fh.write("pre,post,kind,weight_mv,delay_ms,score,p_value,q_value\n")
        for a, b in pairs:
            k = "electrical" if rng.random() < 0.02 else ("excitatory" if exc[a] else "inhibitory")
            kinds.append(k)
            w = abs(rng.lognormal(-0.5, 0.7)) * (-1 if k == "inhibitory" else 1)
            d = 0.0 if k == "electrical" else rng.uniform(0.5, 5.0)
            fh.write(f"{a},{b},{k},{w:.4f},{d:.2f},{rng.uniform(4, 20):.3f},1e-6,1e-4\n")
    with open(folder / "neurons.csv", "w") as fh:
        fh.write("neuron_id,channels,row,col,x_um,y_um,n_spikes,rate_hz,type\n")
        for i in range(n_neurons):
            fh.write(f"{i},{site[i]},{row[i]},{col[i]},{col[i] * 20.0},{row[i] * 20.0},{100 + i % 50},"
                     f"{(100 + i % 50) / 60:.3f},{'excitatory' if exc[i] else 'inhibitory'}\n")
    by_kind = {k: kinds.count(k) for k in ("excitatory", "inhibitory", "electrical")}
    summary = {"neurons": n_neurons, "synapses": len(pairs), "by_kind": by_kind,
               "input": {"path": "synthetic.h5", "channels": side * side, "duration_s": 60.0,
                         "sampling_rate_hz": 20000.0},
               "qc": {"pairs_tested": n_neurons * (n_neurons - 1), "pairs_untested": 0},
               "parameters": {}, "versions": {"connectome": "synthetic"}, "timings": {}}
    (folder / "summary.json").write_text(json.dumps(summary, indent=1))
    return folder


def chromium() -> str | None:
    """The Chromium executable on PATH, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def load_headless(page: Path, fragment: str = "", timeout_s: float = 120.0) -> dict:
    """Load ``page`` in headless Chromium; return the final DOM, console messages and wall time."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("no Chromium on PATH")
    with tempfile.TemporaryDirectory() as profile:
        t0 = time.perf_counter()
        r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                            f"--user-data-dir={profile}", "--dump-dom",
                            page.resolve().as_uri() + fragment], capture_output=True, text=True, timeout=timeout_s)
        wall = time.perf_counter() - t0
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
    m = re.search(r'data-ready-ms="(\d+)"', r.stdout)
    return {"dom": r.stdout, "console": console, "wall_s": wall, "ready_ms": int(m.group(1)) if m else None,
            "returncode": r.returncode}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=2000)
    ap.add_argument("--edges", type=int, default=25000)
    a = ap.parse_args(argv)
    from connectome.report import recording_data, render_recording, write_report

    with tempfile.TemporaryDirectory() as tmp:
        folder = synthetic_output(Path(tmp) / "culture", a.neurons, a.edges)
        t0 = time.perf_counter()
        d = recording_data(folder, max_traces=0)
        page = write_report(render_recording(d), Path(tmp) / "report.html")
        build_s = time.perf_counter() - t0
        size = page.stat().st_size
        print(f"{a.neurons} neurons, {a.edges} edges: page {size / 1e6:.2f} MB, built in {build_s:.2f} s")
        if chromium() is None:
            print("no Chromium on PATH: time to interactive not measured")
            return 0
        r = load_headless(page)
        print(f"headless Chromium: script done at {r['ready_ms']} ms after navigation start "
              f"(whole browser run {r['wall_s']:.1f} s); console messages: {len(r['console'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
