"""Fuzz every reader through the command line, and report what happened.

    python benchmarks/fuzz.py --cases 10000 [--seed S] [--family rec-h5 --family map ...]
    python benchmarks/fuzz.py --replay rec-zarr:0:1234      # one case again, files kept

Each case is a valid small file (recording, connectome or programming map)
with one mutation, run through ``connectome.cli.main`` in a worker process
(killed and restarted when a case takes longer than ``--timeout`` s). See
``tests/fuzz_cases.py`` for the families, the mutations and the outcome
classes, and docs/robustness.md for how to read the table. Exit status 0
when no case broke a promise (internal errors, hangs, partial outputs and
changed inputs all 0), else 1.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import fuzz_cases as fc  # noqa: E402

COLUMNS = ["cases", "clean", "accepted", "internal", "hang", "partial", "input_changed"]


def tally(results) -> dict:
    """Per-family and total counts of each outcome."""
    rows = collections.OrderedDict()
    for fam in fc.FAMILIES + ["total"]:
        rows[fam] = dict.fromkeys(COLUMNS, 0)
    for r in results:
        for key in (r["family"], "total"):
            row = rows[key]
            row["cases"] += 1
            outcome = "internal" if r["outcome"] == "generator-error" else r["outcome"]
            row[outcome] += 1
            row["partial"] += bool(r["partial"])
            row["input_changed"] += bool(r["input_changed"])
    return {k: v for k, v in rows.items() if v["cases"] or k == "total"}


def format_table(rows: dict) -> str:
    head = ["family", "cases tried", "clean errors", "accepted", "internal errors", "hangs > limit",
            "partial outputs left", "inputs changed"]
    lines = [head] + [[fam] + [str(v[c]) for c in COLUMNS] for fam, v in rows.items()]
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    out = []
    for j, r in enumerate(lines):
        out.append("  ".join(s.ljust(w) if i == 0 else s.rjust(w) for i, (s, w) in enumerate(zip(r, widths))))
        if j == 0 or j == len(lines) - 2:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--family", action="append", choices=fc.FAMILIES, help="repeat to pick several (default: all)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before a case counts as a hang")
    ap.add_argument("--show", type=int, default=12, help="failing cases to list")
    ap.add_argument("--json", type=Path, default=None, help="also write every result to this JSON file")
    ap.add_argument("--replay", metavar="ID", default=None, help="run one case id again and keep its files")
    args = ap.parse_args(argv)

    if args.replay:
        fc.parse_id(args.replay)
        base = Path(tempfile.mkdtemp(prefix="connectome-fuzz-replay-"))
        res = fc.run_cases([args.replay], base=base, timeout=args.timeout)[0]
        d = base / "case"
        d.mkdir()
        spec = fc.build_case(args.replay, d, base / "_cache")  # the same files again, kept for inspection
        print(f"case     {args.replay}\nmutation {spec['mutation']}\nfiles    {d}")
        print("command  connectome " + " ".join(spec["argv"]))
        print(f"outcome  {res['outcome']} (exit {res['rc']}) in {res['seconds']:.2f} s: {res['error']}")
        if res["partial"] or res["input_changed"]:
            print(f"partial  {res['partial']}\nchanged  {res['input_changed']}")
        return 1 if fc.is_failure(res) else 0

    ids = fc.case_ids(args.cases, args.seed, args.family)
    t0 = time.perf_counter()
    failures = []

    def progress(i, res):
        if fc.is_failure(res):
            failures.append(res)
        if (i + 1) % 250 == 0 or i + 1 == len(ids):
            print(f"  {i + 1}/{len(ids)} cases, {len(failures)} failing, {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)

    results = fc.run_cases(ids, timeout=args.timeout, progress=progress)
    rows = tally(results)
    print(f"connectome fuzz: {len(results)} cases, seed {args.seed}, families "
          f"{','.join(args.family or fc.FAMILIES)}, limit {args.timeout:g} s, {time.perf_counter() - t0:.0f} s")
    print(format_table(rows))
    if failures:
        print(f"\nfirst {min(args.show, len(failures))} of {len(failures)} failing cases "
              "(replay: python benchmarks/fuzz.py --replay ID):")
        for r in failures[: args.show]:
            what = r["outcome"]
            if r["partial"]:
                what += f", partial {r['partial'][:3]}"
            if r["input_changed"]:
                what += f", input changed {r['input_changed'][:3]}"
            print(f"  {r['id']}  [{r['mutation']}]  {what}: {r['error']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
