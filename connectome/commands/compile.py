"""``connectome compile`` and ``connectome map-info``: paste a connectome onto crossbars.

Heavy imports (pymetis, h5py, zarr) happen inside the commands so that
``connectome --help`` stays fast.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from ._common import check_input, echo_warnings, progress_bar

STAGES = ["read", "groups", "quantise", "partition", "baselines", "cells", "schedule", "placement", "tables",
          "write"]


def _train_line(t) -> str:
    """The pulse train of a map's schedule entries (maps before format version 2: not recorded)."""
    if not isinstance(t, dict):
        return "pulse train     not recorded (format version 1)"
    rst = f", RESET {t['reset_v']:g} V / {t['reset_width_ns']:g} ns" if t.get("reset_v") else ""
    first = " first" if t.get("reset_first") else ""
    return (f"pulse train     {t['mechanism']}: {t['amplitude_v']:g} V + {t['step_v']:g} V/pulse "
            f"(up to {t.get('last_amplitude_v', 0):g} V), {t['width_ns']:g} ns{rst}{first}, "
            f"verify {t['verify_v']:g} V / {t['verify_ns']:g} ns, {t.get('verify_reads', 0)} verify reads")


def _weight_source_line(ws) -> str:
    """The edge column programmed (maps without ``weight_source`` programmed weight_mv, the only choice then)."""
    if not isinstance(ws, dict):
        return "weight source   weight_mv (mean PSP per presynaptic spike)"
    col, fb = ws.get("column", "?"), ws.get("fallback_column", "weight_mv")
    return (f"weight source   {col} (weight = {ws.get('weight', '?')}) for {ws.get('edges_rested', '?')} edges, "
            f"{fb} for {ws.get('edges_fallback', '?')} ({ws.get('fallback_electrical', '?')} electrical, "
            f"{ws.get('fallback_unmeasured', '?')} not measured)")


def format_summary(s: dict, path=None) -> str:
    """The summary as a few aligned lines."""
    def g(k, default="?"):
        return s.get(k, default)

    by = g("tiles_by_ordering", {}) or {}
    base = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
    lines = []
    if path is not None:
        lines.append(f"map             {path}")
    lines += [
        f"technology      {g('technology')} ({g('technology_source')}), scheme {g('scheme')}, "
        f"{g('levels')} levels × {g('slices')} slice(s)",
        f"geometry        crossbar {g('crossbar')}, {g('layers')} layer(s)",
        f"connectome      {g('neurons')} neurons, {g('edges')} edges → {g('synapses')} synapses "
        f"in {g('groups')} tile group(s) (parallel edges merged: {g('parallel_edges_merged')})",
        f"tiles           {g('tiles')} used; lower bound ⌈synapses/(rows·cols)⌉ = {g('tiles_lower_bound')}"
        f" (×{g('tiles_over_lower_bound')}), per-neuron-column bound {g('tiles_lower_bound_scheme')}, "
        f"per tile group {g('tiles_lower_bound_groups')}",
    ]
    if base:
        lines.append(f"by ordering     {base}")
    pl = g("placement", {}) or {}
    lines += [
        f"cells           {g('cells')} records ({g('cells_programmed')} above g_min), "
        f"utilisation {100 * float(g('cell_utilisation', 0)):.2f} % of cells "
        f"({100 * float(g('cell_utilisation_programmed', 0)):.2f} % programmed; per tile median "
        f"{100 * float((g('tile_utilisation', {}) or {}).get('median', 0)):.2f} %, "
        f"max {100 * float((g('tile_utilisation', {}) or {}).get('max', 0)):.2f} %)",
        f"placement       {pl.get('stacks', '?')} stacks on a {pl.get('grid_y', '?')}×{pl.get('grid_x', '?')} grid, "
        f"layer load max/mean {pl.get('layer_imbalance', '?')}",
        f"weights         full scale {g('full_scale_mv')} mV ({g('full_scale_policy', 'max')}), "
        f"step {g('step_mv')} mV, clipped {g('clipped')} ({100 * float(g('clipped_fraction', 0)):.3f} %), "
        f"quantised to zero {g('quantised_to_zero')} ({100 * float(g('quantised_to_zero_fraction', 0)):.3f} %)",
        _weight_source_line(g("weight_source", None)),
        f"expected error  {g('expected_weight_error_mv')} mV rms "
        f"({100 * float(g('expected_weight_error_rel_full_scale', 0)):.2f} % of full scale)",
        f"programming     {g('programming_time_s')} s, {g('programming_energy_uj')} µJ, "
        f"{g('write_pulses')} pulses ({g('unverified_cells')} cells unverified), {g('parallel_lanes')} lanes, "
        f"peak {g('peak_power_mw')} mW of {g('power_budget_mw')} mW",
        _train_line(g("pulse_train")),
        f"area            {g('area_footprint_mm2')} mm² footprint, {g('area_cells_total_mm2')} mm² of cell arrays",
        f"delays          {(g('delays', {}) or {}).get('mode', '?')}",
    ]
    return "\n".join(lines)


@click.command("compile")
@click.argument("source", type=click.Path())
@click.option("--technology", "-t", default=None,
              help="A shipped preset, any case: flash (also nand), mram (stt-mram), pcm (pram), "
                   "rram (reram) [default: rram]; may be omitted when --technology-file names a base.")
@click.option("--technology-file", type=click.Path(), default=None,
              help="TOML overriding preset values (same tables, only the keys to change; 'base = \"rram\"').")
@click.option("--crossbar", default=None, help="Tile size ROWSxCOLS, e.g. 256x256 [default: the technology's].")
@click.option("--layers", type=int, default=None, help="3D stack depth [default: the technology's].")
@click.option("--scheme", type=click.Choice(["differential", "split", "bitslice"]), default=None,
              help="Weight encoding [default: bitslice for binary cells, else differential].")
@click.option("--levels", type=int, default=None, help="Conductance levels per cell [default: the technology's].")
@click.option("--bits", type=int, default=None, help="Alternative to --levels: levels = 2**bits.")
@click.option("--slices", type=int, default=None, help="Cells per weight sign (bitslice) [default: the technology's].")
@click.option("--full-scale", "--clip", "full_scale", default=None, metavar="POLICY",
              help="The |w| mapped to the top code: max (largest |w|), pNN (NN-th percentile of |w|, e.g. p99, "
                   "p99.9) or a value in mV; weights beyond it saturate (reported as clipped), weights below "
                   "half a step are reported as quantised to zero. --clip is the older name "
                   "(none = max) [default: p99].")
@click.option("--partitioner", type=click.Choice(["spectral", "metis", "rcm", "identity"]), default="spectral",
              show_default=True,
              help="Tiling: spectral (rows and columns chosen per tile, tiles merged) or a neuron ordering "
                   "whose column blocks are shared by tiles (metis, rcm, identity: the baselines).")
@click.option("--delay-buckets", type=int, default=1, show_default=True,
              help="Split synapses into this many delay-bucket tile groups (1: delays only in the synapse table).")
@click.option("--power-budget", "--power-budget-mw", "power_budget_mw", type=float, default=100.0,
              show_default=True, help="Largest summed power (mW) of tiles programmed at once.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for METIS and the write simulation.")
@click.option("--weight", type=click.Choice(["mean", "rested"]), default="mean", show_default=True,
              help="The weight programmed: mean (weight_mv, the mean PSP per presynaptic spike) or rested "
                   "(weight_rested_mv, the PSP of a rested, undepressed synapse, for a chip with its own "
                   "short-term depression; edges without one, such as electrical ones, get weight_mv and are "
                   "counted in the summary).")
@click.option("--no-baselines", is_flag=True,
              help="Skip the identity and RCM tile counts in the summary (faster; the naive-grid count stays).")
@click.option("--out", "-o", "out", type=click.Path(), required=True, help="MAP.h5 or MAP.zarr.")
@click.option("--compression", type=click.Choice(["gzip", "lzf", "none"]), default="gzip", show_default=True,
              help="HDF5 filter of the map's datasets: gzip is read by every HDF5 tool (h5dump, HDFView, MATLAB, C); "
                   "lzf needs h5py or its plugin.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def compile_cmd(source, technology, technology_file, crossbar, layers, scheme, levels, bits, slices, full_scale,
                partitioner, delay_buckets, power_budget_mw, seed, weight, no_baselines, out, compression, as_json,
                quiet):
    """Compile the connectome SOURCE into a crossbar programming map.

    SOURCE is a `connectome infer` output directory, an edges.csv, a GraphML
    file or a truth .h5. The map (HDF5 or zarr v3, see docs/formats-progmap.md)
    holds tiles and their 3D positions, every programmed cell and the
    programming schedule; MAP.summary.json (inside the store for .zarr)
    holds tiles against the lower bound, utilisation, time, energy, area,
    expected weight error and the clipped weights.
    """
    from .. import api
    from ..compile import CompileOptions, parse_crossbar
    from ..io.atomic import check_output
    from ..io.progmap import check_map_path, summary_path
    from ._common import check_input

    out = Path(out)
    check_map_path(out)
    check_input(source, "connectome")
    check_input(technology_file, "technology file")
    check_output(out, "map", inputs=[source, technology_file])
    if summary_path(out).parent != out:
        check_output(summary_path(out), "json", inputs=[source, technology_file])
    rows, cols = parse_crossbar(crossbar)
    if technology is None and technology_file is None:
        technology = "rram"
    opts = CompileOptions(technology=technology, technology_file=technology_file, rows=rows, cols=cols,
                          layers=layers, scheme=scheme, levels=levels, bits=bits, slices=slices,
                          **({} if full_scale is None else {"full_scale": full_scale}),
                          partitioner=partitioner, delay_buckets=delay_buckets, power_budget_mw=power_budget_mw,
                          seed=seed, baselines=not no_baselines, weight=weight)
    with progress_bar(quiet) as bar:
        if bar is not None:
            bar.reset(total=len(STAGES))

        def stage(name):
            if bar is not None:
                bar.set_description(name)
                bar.update(1)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pm = api.compile(source, opts, progress=stage)
        stage("write")
        pm.save(out, compression=compression)
    echo_warnings(caught)
    if quiet:
        return
    if as_json:
        click.echo(json.dumps(pm.summary, indent=1, sort_keys=True))
    else:
        click.echo(format_summary(pm.summary, out))
        click.echo(f"summary         {summary_path(out)}")


@click.command("map-info")
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def map_info(path, as_json):
    """Re-read a programming map, check it and print its summary.

    Checks every dataset against the sha256 in the map's manifest, the
    whole file against summary.json when it is present, and the structural
    invariants: unique tile positions; one neuron per row and per column;
    every cell inside its tile and consistent with its row and column; every
    synapse decodes from its cells within half a quantisation step or is
    listed as clipped, and no cell belongs to a non-synapse; every programmed
    row scheduled exactly once, no tile doing two things at once, power within
    the declared budget. A corrupted or inconsistent map is an error (exit 2).
    """
    from ..io.progmap import check_map_file

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = check_map_file(path)
    echo_warnings(caught)
    if as_json:
        click.echo(json.dumps(s, indent=1, sort_keys=True))
    else:
        click.echo(format_summary(s, path))
        click.echo(f"checks          {', '.join(s['checks'])}: OK")


@click.command("map-export")
@click.argument("path", type=click.Path())
@click.option("--out", "-o", "out", type=click.Path(), required=True,
              help="Output folder (new, or an earlier map-export, which is replaced).")
@click.option("--format", "fmt", type=click.Choice(["npy", "csv"]), default="npy", show_default=True,
              help="Tile matrices as NumPy .npy or comma-separated text.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Nothing on stdout.")
def map_export(path, out, fmt, as_json, quiet):
    """Export the programming map PATH for a chip test bench: one matrix per tile plus manifest.json.

    Per tile: the level of every cell (-1 where not programmed) and its target
    conductance in µS (NaN where not programmed), rows × columns; the manifest
    gives the encoding, each tile's layer and position (in tile pitches), the
    neuron of every row and column, and the sha256 of each file
    (docs/formats-progmap.md, "Flat export"). The map is checked first, as by map-info.
    """
    from ..compile.export import export_tiles
    from ..io.atomic import check_output
    from ..io.progmap import check_map_file, read_map

    check_input(path, "map")
    check_map_file(path)
    check_output(out, "map-export", inputs=[path], folder=True)
    m = export_tiles(read_map(path), out, fmt=fmt)
    if quiet:
        return
    if as_json:
        click.echo(json.dumps(m, indent=1))
    else:
        click.echo(f"{path}: {len(m['tiles'])} tile(s) of {m['rows']}x{m['cols']} as {fmt} + manifest.json → {out}")


COMMANDS = [compile_cmd, map_info, map_export]
