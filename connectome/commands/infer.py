"""``connectome infer RECORDING --out DIR``."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from ._common import (
    check_input,
    echo_json,
    echo_warnings,
    json_option,
    open_kwargs,
    out_option,
    parse_params,
    progress_bar,
    quiet_option,
    recording_options,
)


@click.command("infer")
@click.argument("recording", type=click.Path())
@out_option("Output directory: new, empty or an earlier infer output (replaced atomically; anything else is "
            "refused).", required=True, dest="out_dir")
@click.option("--q-threshold", "--q", "q_threshold", type=float, default=None,
              help="Benjamini–Hochberg level (default 0.01; --q is the older name).")
@click.option("--min-pre-spikes", type=int, default=None, help="Fewest presynaptic spikes for a pair to be tested.")
@click.option("--workers", type=int, default=None, help="Threads for the chunked passes (default 2).")
@click.option("--chunk-s", type=float, default=None, help="Seconds of recording per chunk (default 1).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Any other inference parameter (see docs/inference.md), repeatable.")
@json_option("Print the summary (summary.json's counts) as JSON on stdout.")
@quiet_option()
@click.option("--mode", type=click.Choice(["auto", "voltage", "spikes"]), default="auto", show_default=True,
              help="voltage: membrane potentials (/data); spikes: sorted spike trains (CNEA /spikes, NWB "
              "Units, a sorter folder, .npz/.csv/.parquet; docs/spiketrains.md); auto: spikes only if the "
              "input has no voltages.")
@recording_options
def infer_cmd(recording, out_dir, q_threshold, min_pre_spikes, workers, chunk_s, params, as_json, quiet,
              series, segment, rec_format, mode):
    """Infer the synaptic connectivity map of RECORDING into DIR.

    Writes neurons.csv, edges.csv, connectivity.h5 (every pair's score,
    weight and delay), connectome.graphml and summary.json. The recording is
    streamed in chunks; memory does not grow with its length.
    """
    from .. import api
    from ..infer import InferParams
    from ..io import open_recording
    from ..io.atomic import check_output

    check_input(recording, "recording")
    from ..spiketrains import is_spike_input

    if mode == "spikes" or (mode == "auto" and is_spike_input(recording)):
        from ._infer_spikes import infer_spikes

        return infer_spikes(recording, out_dir, q_threshold, min_pre_spikes, workers, parse_params(params),
                            quiet=quiet, as_json=as_json)
    d = parse_params(params)
    for k, v in (("q_threshold", q_threshold), ("min_pre_spikes", min_pre_spikes),
                 ("workers", workers), ("chunk_s", chunk_s)):
        if v is not None:
            d[k] = v
    p = InferParams.from_dict(d)
    check_input(recording, "recording")
    check_output(out_dir, "infer", inputs=[recording], folder=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with progress_bar(quiet) as bar:
            opened = open_recording(recording, **open_kwargs(series, segment, rec_format))
            if "others:" in str(opened.attrs.get("series_note", "")):  # several series: say which was read
                click.echo(f"connectome: reading series {opened.attrs['series_note']}", err=True)
            res = api.infer(opened, p, progress=bar, tmp_dir=Path(out_dir).resolve().parent)
            res.write(out_dir)
    echo_warnings(caught)
    s = res.summary
    if quiet:
        return
    if as_json:
        echo_json({"out": str(out_dir), **{key: s[key] for key in ("neurons", "synapses", "by_kind",
                                                                  "excitatory_eventful", "input") if key in s}})
        return
    k = s["by_kind"]
    click.echo(f"{recording}: {s['neurons']} neurons, {s['synapses']} synapses "
               f"({k['excitatory']} excitatory [{s['excitatory_eventful']} eventful], {k['inhibitory']} inhibitory, "
               f"{k['electrical']} electrical) in {s['timings']['total_s']:.1f} s → {out_dir}")


COMMANDS = [infer_cmd]
