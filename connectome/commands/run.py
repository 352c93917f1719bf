"""``connectome run PIPELINE.toml [FILES…]``: the batch pipeline."""

from __future__ import annotations

import sys

import click

from ._common import echo_json, json_option, out_option, quiet_option


@click.command("run")
@click.argument("config", type=click.Path())
@click.argument("files", nargs=-1, type=click.Path())
@out_option("Output root (overrides [run] output).", dest="output")
@click.option("--workers", type=int, default=None,
              help="Start a local dask.distributed cluster with N worker processes (0: run here, the default).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Use an existing dask.distributed scheduler, e.g. tcp://10.0.0.5:8786.")
@quiet_option("No progress bars, no per-stage lines and no summary; errors only.")
@json_option("Print the run's summary as JSON on stdout (counts, and per recording its status, outputs and "
             "error) instead of text.")
@click.option("--no-report", is_flag=True, help="Do not write the HTML reports (OUTPUT/report.html and each "
              "recording's OUTPUT/<name>/report.html; see docs/report.md).")
def run_cmd(config, files, output, workers, scheduler, quiet, as_json, no_report):
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
    failed = [f for f in m["files"] if f["status"] == "failed"]
    page = None
    if not no_report:
        from ..errors import ConnectomeError
        from .report import write_run_report

        try:
            page = write_run_report(cfg.output, log=log)
        except ConnectomeError as exc:  # the run itself succeeded: say so, and why there is no page
            click.echo(f"connectome run: no report: {exc}", err=True)
    if as_json:
        echo_json(_json_summary(m, cfg.output, page))
    if quiet or as_json:
        _echo_failures(failed)  # errors always reach stderr
    else:
        _echo_summary(m, cfg.output, page)
    return 1 if failed else 0


def _echo_summary(m: dict, root, page) -> None:
    c = m["counts"]
    click.echo(f"{c['done']} of {c['done'] + c['failed']} recording(s) done in {m['seconds']:.1f} s "
               f"→ {_rel(root)}/ (manifest run-manifest.json)")
    for f in m["files"]:
        if f["status"] == "done":
            inf = f["stages"].get("infer", {}).get("result", {})
            skipped = all(s["status"] == "skipped" for s in f["stages"].values())
            click.echo(f"  ok      {_rel(f['input'])}: {inf.get('neurons', '?')} neurons, "
                       f"{inf.get('synapses', '?')} synapses" + (" (up to date)" if skipped else ""))
    _echo_failures([f for f in m["files"] if f["status"] == "failed"])
    if page is not None:
        click.echo(f"report → {_rel(page)} (open it in a browser)")


def _echo_failures(failed: list) -> None:
    for f in failed:
        click.echo(f"  FAILED  {_rel(f['input'])} ({f.get('failed_stage', '?')}): {f['error']}", err=True)


def _json_summary(m: dict, root, page) -> dict:
    """The ``--json`` summary: counts, and per recording its status, stages, outputs and error."""
    files = []
    for f in m["files"]:
        stages = {label: {"status": st["status"], "result": st.get("result", {}), "outputs": sorted(st["outputs"])}
                  for label, st in f["stages"].items()}
        files.append({"input": f["input"], "output": f["output"], "status": f["status"], "stages": stages,
                      "error": f["error"], **({"failed_stage": f["failed_stage"]} if f.get("failed_stage") else {})})
    return {"output": str(root), "manifest": str(root / "run-manifest.json"), "counts": m["counts"],
            "seconds": m["seconds"], "report": None if page is None else str(page), "files": files}


def _rel(path) -> str:
    """A path as the user would type it: relative to the working directory when below it."""
    import os

    p = os.path.abspath(path)
    rel = os.path.relpath(p)
    return p if rel.startswith("..") else rel


COMMANDS = [run_cmd]
