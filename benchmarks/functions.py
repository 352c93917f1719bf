"""List the package's long functions: every function or method over N lines (default 50), longest first.

Counts each ``def``'s lines from its signature to its last statement (docstring
included, decorators not; ``--code``: without the docstring), read from the
source with :mod:`ast` (nothing is imported). Prints a table (lines, function, file:line) and a total, so that a
split can be measured before and after::

    python benchmarks/functions.py                   # the whole package
    python benchmarks/functions.py connectome/api.py connectome/pipeline --min 40
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _length(fn, code_only: bool) -> int:
    first = fn.lineno
    body = fn.body
    if code_only and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = body[0].end_lineno - body[0].lineno + 1
        return fn.end_lineno - first + 1 - doc
    return fn.end_lineno - first + 1


def long_functions(paths, min_lines: int = 50, code_only: bool = False) -> list[tuple[int, str, str]]:
    """``(lines, qualified name, "file:line")`` of every function of at least ``min_lines`` lines."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    out = []
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        rel = f.resolve().relative_to(ROOT) if f.resolve().is_relative_to(ROOT) else f

        def walk(node, prefix="", rel=rel):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = _length(child, code_only)
                    name = f"{prefix}{child.name}"
                    if n >= min_lines:
                        out.append((n, name, f"{rel}:{child.lineno}"))
                    walk(child, f"{name}.", rel)
                elif isinstance(child, ast.ClassDef):
                    walk(child, f"{prefix}{child.name}.", rel)

        walk(tree)
    return sorted(out, key=lambda t: (-t[0], t[2]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "connectome")])
    ap.add_argument("--min", type=int, default=50, help="shortest function listed (lines) [50]")
    ap.add_argument("--code", action="store_true", help="leave docstrings out of the count")
    args = ap.parse_args(argv)
    rows = long_functions(args.paths, args.min, args.code)
    w = max((len(r[1]) for r in rows), default=8)
    print(f"{'lines':>5}  {'function':<{w}}  where")
    for n, name, where in rows:
        print(f"{n:>5}  {name:<{w}}  {where}")
    print(f"{len(rows)} function(s) of ≥ {args.min} lines" + (" of code (docstrings left out)" if args.code else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
