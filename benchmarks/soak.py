"""kill -9 soak of ``connectome run``: every re-run after a crash gives the clean run's outputs.

    python benchmarks/soak.py [--kills 20] [--seed 0] [--workdir DIR] [--keep]

Simulates three small recordings (``connectome simulate --neurons 30 --grid
8x8 --duration 10 --seed K``), runs a ``pipelines/demo.toml``-like pipeline
(infer → compile to a 64×64×2 RRAM map) over them once cleanly and records
the sha256 of every stage output. Then, ``--kills`` times: a fresh run is
started, killed with SIGKILL at a random moment (once a random number of
its stage outputs exist, plus a random delay, so that kills fall in every
stage), and run
again to completion. After each re-run it checks

- the re-run exits 0 and its run manifest and state records parse as JSON;
- every stage output is byte-identical to the clean run (JSON outputs are
  compared without their wall-clock fields: ``timings``/``timings_s``/
  ``seconds``/``started``/``finished``);
- no temporary is left: names containing ``.tmp-``, ``connectome-infer-*``,
  ``connectome-imprint-*``, a non-empty ``.connectome-tmp`` folder, or any
  file in the run's temporary folder (``TMPDIR`` and ``CONNECTOME_TMPDIR``
  point to an empty folder of the work directory);
- no data is lost: the recordings and truth files are unchanged.

Prints a table (kills, re-runs ok, outputs identical, temporaries left, data
lost) and exits 0 only if every re-run passed every check.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALL_CLOCK_KEYS = {"timings", "timings_s", "seconds", "started", "finished", "elapsed_s"}
TEMP_NAME = re.compile(r"(\.tmp-|^connectome-infer-|^connectome-imprint-)")

CONFIG = """\
[run]
inputs = [{inputs}]
output = "out"
stages = ["infer", "compile"]

[infer]
q_threshold = 0.01

[[compile]]
technology = "rram"
crossbar = "64x64"
layers = 2
"""


def _env(wd: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["TMPDIR"] = env["CONNECTOME_TMPDIR"] = str(wd / "tmp")
    env.pop("CONNECTOME_DEBUG", None)
    return env


def _cli(wd: Path, *args) -> list[str]:
    return [sys.executable, "-m", "connectome.cli", *args]


def _strip_clock(obj):
    if isinstance(obj, dict):
        return {k: _strip_clock(v) for k, v in obj.items() if k not in WALL_CLOCK_KEYS}
    if isinstance(obj, list):
        return [_strip_clock(v) for v in obj]
    return obj


def _digest(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".json":
        try:
            data = json.dumps(_strip_clock(json.loads(data)), sort_keys=True).encode()
        except ValueError:
            pass  # compared as bytes: a damaged JSON output differs from the clean one
    elif path.suffix == ".html":
        data = _blank_report_clock(data)
    return hashlib.sha256(data).hexdigest()


_CLOCK_SPAN = re.compile(rb'<span class="clock">[^<]*</span>')
_REPORT_DATA = re.compile(rb'(<script type="application/json" id="report-data">)(.*?)(</script>)', re.S)


def _blank_report_clock(data: bytes) -> bytes:
    """A report page with its wall-clock values blanked (the spans of class ``clock`` and the clock keys of its data)."""
    data = _CLOCK_SPAN.sub(b'<span class="clock"></span>', data)

    def strip(m):
        try:
            doc = json.loads(m.group(2).replace(b"<\\/", b"</"))
        except ValueError:
            return m.group(0)
        return m.group(1) + json.dumps(_strip_clock(doc), sort_keys=True).encode() + m.group(3)

    return _REPORT_DATA.sub(strip, data)


def stage_outputs(out: Path) -> dict:
    """sha256 of every stage output below ``out`` (run manifest, state records and the lock excluded)."""
    res = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if not p.is_file() or rel.parts[0] in ("run-manifest.json", ".run.lock") or ".state" in rel.parts:
            continue
        if any(TEMP_NAME.search(part) for part in rel.parts) or ".connectome-tmp" in rel.parts:
            continue  # counted as temporaries, not as outputs
        res[str(rel)] = _digest(p)
    return res


def _count_outputs(out: Path) -> int:
    """Stage outputs present (cheap: names only)."""
    n = 0
    for dirpath, dirnames, filenames in os.walk(out):
        rel = Path(dirpath).relative_to(out)
        if ".state" in rel.parts or any(TEMP_NAME.search(p) for p in rel.parts):
            continue
        n += sum(1 for f in filenames if not (rel == Path(".") and f in ("run-manifest.json", ".run.lock"))
                 and not TEMP_NAME.search(f))
    return n


def manifests_parse(out: Path) -> str | None:
    """None when the run manifest and every state record parse, else the first problem."""
    paths = [out / "run-manifest.json"] + sorted(out.glob("*/.state/*.json"))
    for p in paths:
        try:
            m = json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            return f"{p.relative_to(out)}: {exc}"
        if p.name == "run-manifest.json" and m.get("counts", {}).get("done") != len(m.get("files", [])):
            return f"run-manifest.json: counts {m.get('counts')}"
    return None


def temporaries(wd: Path) -> list[str]:
    left = []
    for p in wd.rglob("*"):
        rel = p.relative_to(wd)
        if rel.parts[0] == "tmp" and p.is_file():
            left.append(str(rel))
        elif TEMP_NAME.search(p.name):
            left.append(str(rel))
        elif p.name == ".connectome-tmp" and p.is_dir() and any(p.iterdir()):
            left.append(str(rel) + "/")
    return sorted(left)


def fingerprint(paths) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in paths}


def run(wd: Path, cfg: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(_cli(wd, "run", str(cfg), "--quiet"), cwd=wd, env=_env(wd), capture_output=True,
                          text=True, timeout=timeout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=None, help="default: a new temporary folder")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)
    rnd = random.Random(args.seed)
    wd = Path(args.workdir or tempfile.mkdtemp(prefix="connectome-soak-")).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    (wd / "tmp").mkdir(exist_ok=True)
    try:
        recs = []
        for k in (1, 2, 3):
            rec = wd / "recordings" / f"rec{k}.h5"
            if not rec.exists():
                rec.parent.mkdir(exist_ok=True)
                subprocess.run(_cli(wd, "simulate", "--neurons", "30", "--grid", "8x8", "--duration", "10",
                                    "--seed", str(k), "--out", str(rec)), env=_env(wd), check=True,
                               capture_output=True)
            recs.append(rec)
        inputs = recs + [r.with_name(r.stem + ".truth.h5") for r in recs]
        before = fingerprint(inputs)
        cfg = wd / "soak.toml"
        cfg.write_text(CONFIG.format(inputs=", ".join(f'"recordings/{r.name}"' for r in recs)))
        out = wd / "out"
        reference = None
        for attempt in range(2):  # the first also warms the numba cache; the second is timed and compared
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            clean = run(wd, cfg)
            t_clean = time.perf_counter() - t0
            if clean.returncode != 0:
                print(f"clean run failed (exit {clean.returncode}):\n{clean.stderr}", file=sys.stderr)
                return 1
            got = stage_outputs(out)
            if reference is not None and got != reference:
                print("two clean runs differ: " + ", ".join(k for k in got if got[k] != reference.get(k)),
                      file=sys.stderr)
                return 1
            reference = got
        print(f"clean run: {len(reference)} stage outputs in {t_clean:.1f} s, the same twice ({wd})",
              file=sys.stderr)

        t0 = time.perf_counter()
        subprocess.run(_cli(wd, "--version"), env=_env(wd), capture_output=True, check=True)
        t_start = min(time.perf_counter() - t0, 0.5 * t_clean)  # interpreter start-up and imports
        print(f"start-up {t_start:.1f} s", file=sys.stderr)

        rows = []
        attempts = 0
        while len(rows) < args.kills and attempts < 3 * args.kills:
            attempts += 1
            shutil.rmtree(out, ignore_errors=True)
            # the moment: after a random number of stage outputs exist (0 .. all), plus a random delay,
            # so that kills fall in every stage whatever the machine's speed
            target = rnd.randint(0, len(reference) - 1)
            extra = rnd.uniform(0.0, 0.25) * t_clean / max(1, len(reference)) * 4
            t0 = time.perf_counter()
            proc = subprocess.Popen(_cli(wd, "run", str(cfg), "--quiet"), cwd=wd, env=_env(wd),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(t_start)
            while proc.poll() is None and _count_outputs(out) < target:
                time.sleep(0.01)
            time.sleep(extra)
            delay = time.perf_counter() - t0
            if proc.poll() is not None:  # finished before the kill: not a kill, draw another moment
                continue
            os.killpg(proc.pid, signal.SIGKILL)  # the run's own process group (started above)
            proc.wait()
            written = len(stage_outputs(out)) if out.exists() else 0
            left_by_kill = len(temporaries(wd))  # what the re-run must clean up
            finished_first = False
            t1 = time.perf_counter()
            rerun = run(wd, cfg)
            got = stage_outputs(out)
            diff = sorted(k for k in set(got) | set(reference) if got.get(k) != reference.get(k))
            bad_manifest = manifests_parse(out) if rerun.returncode == 0 else "re-run failed"
            left = temporaries(wd)
            lost = [p for p, h in fingerprint(inputs).items() if h != before[p]]
            i = len(rows)
            rows.append({"kill": i + 1, "at_s": round(delay, 2), "killed": not finished_first, "written": written,
                         "left_by_kill": left_by_kill,
                         "rerun_rc": rerun.returncode, "rerun_s": round(time.perf_counter() - t1, 1),
                         "identical": not diff, "diff": diff[:5], "manifest": bad_manifest,
                         "temporaries": left[:5], "n_temporaries": len(left), "lost": lost,
                         "stderr": rerun.stderr.strip().splitlines()[-1:] if rerun.returncode else []})
            r = rows[-1]
            print(f"  kill {i + 1:2d} at {delay:5.1f} s ({written}/{len(reference)} outputs written, {left_by_kill} temporaries): re-run exit "
                  f"{r['rerun_rc']} in {r['rerun_s']} s, identical {r['identical']}, temporaries "
                  f"{r['n_temporaries']}, lost {len(lost)}" + (f", manifest: {bad_manifest}" if bad_manifest else "")
                  + (f", differ: {diff[:3]}" if diff else "") + (f", left: {left[:3]}" if left else "")
                  + (f", {r['stderr']}" if r["stderr"] else ""), file=sys.stderr, flush=True)
            for p in left:  # start the next round clean, so each round's count is its own
                q = wd / p.rstrip("/")
                shutil.rmtree(q, ignore_errors=True) if q.is_dir() else q.unlink(missing_ok=True)

        kills = sum(r["killed"] for r in rows)
        mid = sum(0 < r["written"] < len(reference) for r in rows)
        dirty = sum(r["left_by_kill"] > 0 for r in rows)
        ok = sum(r["rerun_rc"] == 0 and r["manifest"] is None for r in rows)
        same = sum(r["identical"] for r in rows)
        temps = sum(r["n_temporaries"] for r in rows)
        lost = sum(bool(r["lost"]) for r in rows)
        print(f"connectome soak: {args.kills} rounds over {len(recs)} recordings, seed {args.seed}, "
              f"clean run {t_clean:.1f} s, {len(reference)} stage outputs compared; {mid} kills fell between the "
              f"first and the last output; {dirty} kills left temporaries for the re-run to remove")
        head = ["kills", "re-runs ok", "outputs identical", "temporaries left", "data lost"]
        vals = [f"{kills}", f"{ok}/{len(rows)}", f"{same}/{len(rows)}", str(temps), str(lost)]
        w = [max(len(a), len(b)) for a, b in zip(head, vals)]
        print("  ".join(h.rjust(x) for h, x in zip(head, w)))
        print("  ".join(v.rjust(x) for v, x in zip(vals, w)))
        return 0 if ok == same == len(rows) == args.kills and temps == 0 and lost == 0 else 1
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
