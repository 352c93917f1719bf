"""Shared benchmark helpers: cached inputs, timed runs with peak RSS, tables.

Inputs are generated with the simulator into a cache outside the repository
(``$CONNECTOME_BENCH_CACHE`` or ``~/.cache/connectome-bench``) and reused.
Each measured command runs in its own process under ``/usr/bin/time`` (wall
time and peak RSS of that process tree's largest member), or, where that is
missing, in a Python wrapper using ``resource.getrusage``.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("CONNECTOME_BENCH_CACHE", Path.home() / ".cache" / "connectome-bench"))


def cache_dir() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


def simulated(name: str, **kw) -> Path:
    """Path of a cached simulated recording made with ``connectome simulate`` options ``kw``."""
    out = cache_dir() / f"{name}.h5"
    if not out.exists():
        args = [sys.executable, "-m", "connectome.cli", "simulate", "--out", str(out)]
        for k, v in kw.items():
            if k == "param":          # list of KEY=VALUE simulator parameters
                for item in v:
                    args += ["--param", item]
                continue
            args += [f"--{k.replace('_', '-')}", str(v)]
        print("generating", " ".join(args[3:]), file=sys.stderr, flush=True)
        subprocess.run(args, check=True)
    return out


def run_measured(args: list[str], env: dict | None = None) -> dict:
    """Run ``args``; return wall seconds and peak RSS (MB) of the command."""
    e = {**os.environ, **(env or {})}
    time_bin = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        if time_bin:
            full = [time_bin, "-f", "%e %M", "-o", tf.name, *args]
            r = subprocess.run(full, env=e, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(args)} failed:\n{r.stderr[-2000:]}")
            wall, rss_kb = tf.read().strip().splitlines()[-1].split()
            return {"wall_s": float(wall), "rss_mb": int(rss_kb) / 1024.0, "stdout": r.stdout}
    code = ("import resource,subprocess,sys,time;t=time.perf_counter();"
            "r=subprocess.run(sys.argv[1:]);w=time.perf_counter()-t;"
            "print(w,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,file=sys.stderr);sys.exit(r.returncode)")
    r = subprocess.run([sys.executable, "-c", code, *args], env=e, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{r.stderr[-2000:]}")
    wall, rss_kb = r.stderr.strip().splitlines()[-1].split()
    return {"wall_s": float(wall), "rss_mb": int(rss_kb) / 1024.0, "stdout": r.stdout}


def repeat(args: list[str], n: int = 3, env: dict | None = None) -> dict:
    """Median, min and max wall time and the largest peak RSS over ``n`` runs."""
    runs = [run_measured(args, env) for _ in range(n)]
    walls = [r["wall_s"] for r in runs]
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
            "rss_mb": max(r["rss_mb"] for r in runs), "runs": n}


def machine() -> str:
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        mem = "?"
    return f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · {mem} · Python {platform.python_version()}"


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A Markdown table of ``rows`` with (key, header) columns."""
    head = "| " + " | ".join(h for _, h in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    lines = [head, sep]
    for r in rows:
        cells = []
        for k, _ in columns:
            v = r.get(k, "")
            cells.append(f"{v:.3g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
