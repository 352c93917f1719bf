"""``connectome run PIPELINE.toml [FILES…]``: the batch pipeline."""

from __future__ import annotations

import sys

import click


@click.command("run")
@click.argument("config", type=click.Path())
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--out", "output", type=click.Path(), default=None, help="Output root (overrides [run] output).")
@click.option("--workers", type=int, default=None,
              help="Start a local dask.distributed cluster with N worker processes (0: run here, the default).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Use an existing dask.distributed scheduler, e.g. tcp://10.0.0.5:8786.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars and no per-stage lines; errors and the summary only.")
@click.option("--no-report", is_flag=True, help="Do not write the HTML reports (OUTPUT/report.html and each "
              "recording's OUTPUT/<name>/report.html; see docs/report.md).")
def run_cmd(config, files, output, workers, scheduler, quiet, no_report):
    """Run the pipeline CONFIG over its recordings, or over FILES if given.

    Each recording gets OUTPUT/<name>/ (infer/, <target>.map.h5,
    <target>.verify.json) and the run a manifest, OUTPUT/run-manifest.json
    (status, timings, checksums and error of every file). A re-run skips the
    stages that are already done with the same input and parameters; a bad
    file is reported and the others go on. Exit status 1 if any file failed.
    See pipelines/README.md for every config key.
    """
    import dataclasses
    from pathlib import Path

    from tqdm import tqdm

    from ..pipeline import load_config, run_pipeline

    cfg = load_config(config)
    if output is not None:
        cfg = dataclasses.replace(cfg, output=Path(output).resolve())

    def log(msg):
        if not quiet:
            tqdm.write(f"connectome run: {msg}", file=sys.stderr)

    bars = dict(file_progress=None, chunk_progress=None)
    if not quiet:
        bars["file_progress"] = tqdm(total=1, unit="file", file=sys.stderr, position=0, leave=False,
                                     dynamic_ncols=True, disable=None)
        bars["chunk_progress"] = tqdm(total=1, file=sys.stderr, position=1, leave=False, dynamic_ncols=True,
                                      mininterval=0.5, disable=None)
    try:
        m = run_pipeline(cfg, list(files) or None, workers=workers, scheduler=scheduler, log=log, **bars)
    finally:
        for b in bars.values():
            if b is not None:
                b.close()
    c = m["counts"]
    click.echo(f"{c['done']} of {c['done'] + c['failed']} recording(s) done in {m['seconds']:.1f} s "
               f"→ {_rel(cfg.output)}/ (manifest run-manifest.json)")
    for f in m["files"]:
        if f["status"] == "done":
            inf = f["stages"].get("infer", {}).get("result", {})
            skipped = all(s["status"] == "skipped" for s in f["stages"].values())
            click.echo(f"  ok      {_rel(f['input'])}: {inf.get('neurons', '?')} neurons, {inf.get('synapses', '?')} synapses"
                       + (" (up to date)" if skipped else ""))
    failed = [f for f in m["files"] if f["status"] == "failed"]
    for f in failed:
        click.echo(f"  FAILED  {_rel(f['input'])} ({f.get('failed_stage', '?')}): {f['error']}", err=True)
    if not no_report:
        from ..errors import ConnectomeError
        from .report import write_run_report

        try:
            page = write_run_report(cfg.output, log=log)
            click.echo(f"report → {_rel(page)} (open it in a browser)")
        except ConnectomeError as exc:  # the run itself succeeded: say so, and why there is no page
            click.echo(f"connectome run: no report: {exc}", err=True)
    return 1 if failed else 0


def _rel(path) -> str:
    """A path as the user would type it: relative to the working directory when below it."""
    import os

    p = os.path.abspath(path)
    rel = os.path.relpath(p)
    return p if rel.startswith("..") else rel


COMMANDS = [run_cmd]
