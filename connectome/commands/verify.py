"""``connectome verify MAP --connectome DIR``: how faithfully a programming map reproduces the copied network."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from ._common import progress_bar


@click.command("verify")
@click.argument("map_path", metavar="MAP", type=click.Path())
@click.option("--connectome", "connectome_path", required=True, type=click.Path(),
              help="The copied connectome: an infer directory, edges.csv, GraphML or truth file.")
@click.option("--after", default="0", show_default=True,
              help="Time since programming: seconds or a number with s, min, h, d, w, y (e.g. 1d, 10y).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")
@click.option("--drift-compensation/--no-drift-compensation", default=True, show_default=True,
              help="Global drift compensation per tile (Joshi et al. 2020).")
@click.option("--stuck-fraction", type=float, default=0.0, show_default=True,
              help="Fraction of cells stuck at g_min or g_max (the reference gives no rate).")
@click.option("--stuck-on-share", type=float, default=0.5, show_default=True,
              help="Share of stuck cells stuck at g_max.")
@click.option("--programming-noise-scale", type=float, default=1.0, show_default=True,
              help="Multiply the technology's programming spread (0: off).")
@click.option("--read-noise-scale", type=float, default=1.0, show_default=True,
              help="Multiply the technology's read noise (0: off).")
@click.option("--drift-scale", type=float, default=1.0, show_default=True,
              help="Multiply the drift exponents (PCM; 0: off).")
@click.option("--readout/--no-readout", default=True, show_default=True,
              help="Read-out non-idealities of the technology: wire IR drop, sneak paths, ADC precision.")
@click.option("--input-activity", type=float, default=1.0, show_default=True,
              help="Share of a tile's rows driven at once during a read (1: all, the worst IR drop).")
@click.option("--lost-threshold", "lost_threshold_mv", type=float, default=None,
              help="Effective |w| (mV) below which a synapse is lost [default: half a quantisation step].")
@click.option("--functional", is_flag=True,
              help="Also simulate the copied and pasted networks (LIF) and score their activity.")
@click.option("--functional-duration", type=float, default=None,
              help="Simulated seconds for --functional [default: 30].")
@click.option("--out", "-o", "out", type=click.Path(), default=None,
              help="Report JSON [default: MAP.verify.json next to the map].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of the table.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing (the report is still written).")
def verify_cmd(map_path, connectome_path, after, seed, drift_compensation, stuck_fraction, stuck_on_share,
               programming_noise_scale, read_noise_scale, drift_scale, readout, input_activity, lost_threshold_mv,
               functional,
               functional_duration, out, as_json, quiet):
    """Read MAP back, apply the technology's non-idealities and compare with the copied connectome.

    Programming noise, drift with its spread after --after (PCM), read noise,
    stuck cells and the read-out (wire IR drop, sneak paths, ADC) are applied to every
    physical cell (differential partners included); effective weights are
    decoded per synapse and compared with the
    copied weights: Pearson and Spearman correlation, sign flips, synapses
    lost, relative error by weight decile. With --functional both networks
    are simulated under the same drive. Written to MAP.verify.json (or
    --out); see docs/fidelity.md.
    """
    from .. import api
    from ..io.atomic import check_output
    from ..verify import parse_duration
    from ..verify.functional import LIFParams
    from ..verify.report import default_report_path
    from ._common import check_input, echo_warnings

    after_s = parse_duration(after)
    check_input(map_path, "map")
    check_input(connectome_path, "connectome")
    fp = LIFParams() if functional_duration is None else LIFParams(duration_s=functional_duration)
    out = Path(out) if out else default_report_path(map_path)
    check_output(out, "json", inputs=[map_path, connectome_path])
    with progress_bar(quiet) as bar:
        if bar is not None:
            bar.reset(total=2 + int(functional))
            bar.set_description("verify")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = api.verify(map_path, connectome_path, after_s=after_s, seed=seed,
                                drift_compensation=drift_compensation, functional=functional,
                                programming_noise_scale=programming_noise_scale, read_noise_scale=read_noise_scale,
                                drift_scale=drift_scale, stuck_fraction=stuck_fraction,
                                stuck_on_share=stuck_on_share, lost_threshold_mv=lost_threshold_mv,
                                functional_params=fp, readout=readout, input_activity=input_activity)
        if bar is not None:
            bar.update(1 + int(functional))
        report.write(out)
    echo_warnings(caught)
    if quiet:
        return
    if as_json:
        click.echo(report.to_json())
    else:
        click.echo(str(report))
        click.echo(f"\nreport          {out}")


COMMANDS = [verify_cmd]
