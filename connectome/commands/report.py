"""``connectome report OUTDIR | RUN_ROOT``: one self-contained HTML page of a recording's outputs or of a batch."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConnectomeFormatError
from ._common import echo_json, json_option, out_option, quiet_option


def write_run_report(root, *, max_traces: int | None = None, log=None) -> Path:
    """Write ``report.html`` in each done recording's folder of a run, then the batch page ``ROOT/report.html``.

    A recording whose page cannot be built is left without a link (and named
    through ``log``); the batch page is always written.
    """
    from ..errors import ConnectomeError
    from ..report import batch_data, recording_data, render_batch, render_recording, write_report
    from ..report.build import DEFAULT_MAX_TRACES, read_json

    root = Path(root)
    man = read_json(root / "run-manifest.json")
    for f in man.get("files", []):
        if f.get("status") != "done" or not f.get("output"):
            continue
        folder = root / Path(f["output"]).name
        try:
            d = recording_data(folder, max_traces=DEFAULT_MAX_TRACES if max_traces is None else max_traces)
            write_report(render_recording(d), folder / "report.html")
        except ConnectomeError as exc:
            if log is not None:
                log(f"report: {exc}")
    out = root / "report.html"
    write_report(render_batch(batch_data(root)), out)
    return out


@click.command("report")
@click.argument("source", type=click.Path())
@out_option("The HTML file to write [default: SOURCE/report.html].")
@click.option("--max-traces", type=int, default=None, show_default=False,
              help="Accepted edges (strongest by score) whose spike-triggered average is read back from the "
                   "recording for the drill-down [default: 200; 0: none].")
@json_option("Print the pages written as JSON on stdout.")
@quiet_option("Print nothing (the pages are still written).")
def report_cmd(source, out, max_traces, as_json, quiet):
    """Write one self-contained HTML page (no network needed to view it) for SOURCE.

    SOURCE is a recording's output folder (connectome infer --out, or a run's
    OUTPUT/<name>/ with its maps and verify results) or a run's output root
    (with run-manifest.json: one row per recording, and each done recording's
    own page). See docs/report.md.
    """
    from ..report import recording_data, render_recording, write_report
    from ..report.build import DEFAULT_MAX_TRACES
    from ._common import check_input

    check_input(source, "output folder")
    src = Path(source)
    if not src.is_dir():
        raise ConnectomeFormatError("not a folder: give a connectome output folder or a run's output root", src)
    if max_traces is not None and max_traces < 0:
        raise ConnectomeFormatError(f"--max-traces must be ≥ 0, not {max_traces}", src)
    if (src / "run-manifest.json").is_file():
        if out is not None:
            raise ConnectomeFormatError("--out is not used for a run's root: pages are written as ROOT/report.html "
                                        "and ROOT/<name>/report.html", src)
        path = write_run_report(src, max_traces=max_traces,
                                log=lambda m: click.echo(f"connectome report: {m}", err=True))
    else:
        d = recording_data(src, max_traces=DEFAULT_MAX_TRACES if max_traces is None else max_traces)
        path = write_report(render_recording(d), Path(out) if out is not None else src / "report.html")
    if quiet:
        return 0
    if as_json:
        echo_json({"report": str(path), "bytes": Path(path).stat().st_size})
    else:
        click.echo(f"report → {path}")
    return 0


COMMANDS = [report_cmd]

