"""``connectome infer RECORDING --out DIR``."""

from __future__ import annotations

import warnings

import click

from ._common import check_input, open_kwargs, parse_params, progress_bar, recording_options


@click.command("infer")
@click.argument("recording", type=click.Path())
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Output directory: new, empty or an earlier infer output "
              "(replaced atomically; anything else is refused).")
@click.option("--q", "q_threshold", type=float, default=None, help="Benjamini–Hochberg level (default 0.01).")
@click.option("--min-pre-spikes", type=int, default=None, help="Fewest presynaptic spikes for a pair to be tested.")
@click.option("--workers", type=int, default=None, help="Threads for the chunked passes (default 2).")
@click.option("--chunk-s", type=float, default=None, help="Seconds of recording per chunk (default 1).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Any other inference parameter (see docs/inference.md), repeatable.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--mode", type=click.Choice(["auto", "voltage", "spikes"]), default="auto", show_default=True,
              help="voltage: membrane potentials (/data); spikes: sorted spike trains (CNEA /spikes, NWB "
              "Units, a sorter folder, .npz/.csv/.parquet; docs/spiketrains.md); auto: spikes only if the "
              "input has no voltages.")
@recording_options
def infer_cmd(recording, out_dir, q_threshold, min_pre_spikes, workers, chunk_s, params, quiet,
              series, segment, rec_format, mode):
    """Infer the synaptic connectivity map of RECORDING into DIR.

    Writes neurons.csv, edges.csv, connectivity.h5 (every pair's score,
    weight and delay), connectome.graphml and summary.json. The recording is
    streamed in chunks; memory does not grow with its length.
    """
    from ..infer import InferParams, infer_recording
    from ..io import open_recording
    from ..io.atomic import check_output

    check_input(recording, "recording")
    from ..spiketrains import is_spike_input

    if mode == "spikes" or (mode == "auto" and is_spike_input(recording)):
        from ._infer_spikes import infer_spikes

        return infer_spikes(recording, out_dir, q_threshold, min_pre_spikes, workers, parse_params(params))
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
            res = infer_recording(opened, out_dir, p, progress=bar)
    for w in caught:
        if issubclass(w.category, UserWarning):
            click.echo(f"connectome: warning: {w.message}", err=True)
    s = res.summary
    k = s["by_kind"]
    click.echo(f"{recording}: {s['neurons']} neurons, {s['synapses']} synapses "
               f"({k['excitatory']} excitatory [{s['excitatory_eventful']} eventful], {k['inhibitory']} inhibitory, "
               f"{k['electrical']} electrical) in {s['timings']['total_s']:.1f} s → {out_dir}")


COMMANDS = [infer_cmd]
