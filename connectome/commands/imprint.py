"""``connectome imprint RECORDING --technology rram --out MAP``: paste by driving a crossbar with the recording."""

from __future__ import annotations

import json
import warnings

import click

from ._common import echo_warnings, open_kwargs, parse_params, progress_bar, recording_options


def _f(v, fmt="{:.3f}"):
    return "–" if v is None else fmt.format(v)


def format_imprint(s: dict, out) -> str:
    """The imprint summary as a few lines."""
    d = s["device"]
    lines = [
        f"map             {out}  (+ {s['side_file']}: N×N conductances, z, weights, pulse counts)",
        f"crossbar        {s['neurons']}×{s['neurons']} {s['technology']} cells, "
        f"{s['imprinted_seconds']:g} s imprinted, "
        f"{s['pulses_per_cell_mean']:g} write pulses per cell on average",
        f"device          NL_LTP {d['nl_ltp']:g}, NL_LTD {d['nl_ltd']:g}, {d['pulses_ltp']}/{d['pulses_ltd']} pulses, "
        f"c2c σ {100 * d['c2c_sigma']:g} % of the window, {d['g_min_us']:g}–{d['g_max_us']:g} µS",
        f"imprinted       {s['synapses_imprinted']} synapses with |z| ≥ {s['params']['z_threshold']:g} "
        f"({s['excitatory']} excitatory, {s['inhibitory']} inhibitory); {s['tested_rows']} of {s['neurons']} rows "
        f"with ≥ {s['params']['min_pre_spikes']} presynaptic spikes",
    ]
    c = s.get("comparison")
    if c:
        lines += [
            f"reference       {c['reference']} ({c['reference_kind']}): {c['neurons_matched']} of {c['neurons']} "
            "neurons "
            f"matched, {c['pairs_scored']} pairs scored, {c['reference_synapses_scored']} synapses",
            f"ranking         AUC {_f(c['auc'])} (excitatory {_f(c['auc_excitatory'])}, inhibitory "
            f"{_f(c['auc_inhibitory'])}"
            + (f", detectable {_f(c.get('auc_detectable'))}" if "auc_detectable" in c else "")
            + f"); recall at matched count {_f(c['recall_at_matched_count'])}",
            f"rank corr.      Spearman {_f(c['spearman_synapses'])} over synapses, {_f(c['spearman_all_pairs'])} over "
            f"all pairs ({c['spearman_all_pairs_basis']})",
            f"selected        {c['selected']['count']}: precision {_f(c['selected']['precision'])}, "
            f"recall {_f(c['selected']['recall'])}",
        ]
    return "\n".join(lines)


@click.command("imprint")
@click.argument("recording", type=click.Path())
@click.option("--technology", "-t", default=None, help="rram (also reram) | pcm (pram), any case [default: rram].")
@click.option("--technology-file", type=click.Path(), default=None, help="TOML overriding preset values.")
@click.option("--out", "-o", "out", type=click.Path(), required=True, help="MAP.h5 or MAP.zarr.")
@click.option("--reference", type=click.Path(), default=None,
              help="Compare with this connectome: an infer output directory of the same recording or its truth file.")
@click.option("--nonlinearity", "nl", type=float, default=None,
              help="Update nonlinearity |NL| for both directions [default: NL_LTP 2.4, NL_LTD 4.88].")
@click.option("--nl-ltp", type=float, default=None, help="Potentiation nonlinearity (overrides --nonlinearity).")
@click.option("--nl-ltd", type=float, default=None, help="Depression nonlinearity (overrides --nonlinearity).")
@click.option("--c2c", "c2c_sigma", type=float, default=None,
              help="Cycle-to-cycle σ per pulse, fraction of the window [default: 0.035].")
@click.option("--duration", "max_duration_s", type=float, default=None,
              help="Imprint only the first S seconds (neurons are still found on the whole recording).")
@click.option("--crossbar", default=None, help="Tile size ROWSxCOLS of the output map [default: the technology's].")
@click.option("--layers", type=int, default=None, help="3D stack depth of the output map.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the device noise and of compile.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Any other imprint parameter (docs/fidelity.md), repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@recording_options
def imprint_cmd(recording, technology, technology_file, out, reference, nl, nl_ltp, nl_ltd, c2c_sigma,
                max_duration_s, crossbar, layers, seed, params, as_json, quiet, series, segment, rec_format):
    """Imprint RECORDING on an N×N crossbar (N = neurons found) and write the result as a map.

    Rows are driven by presynaptic spikes, columns by each postsynaptic
    neuron's membrane-potential deflection; a cell moves (along the device's
    nonlinear, saturating update curve) only when its row and column pulses
    coincide above the write threshold. The recording is streamed in chunks.
    The imprinted synapses are written as an ordinary programming map
    (MAP, readable by map-info), the raw crossbar as MAP.imprint.h5. With
    --reference the summary scores the imprint against that connectome.
    """
    from pathlib import Path

    from .. import api
    from ..compile import parse_crossbar
    from ..io.atomic import check_output
    from ..io.progmap import check_map_path, summary_path
    from ..verify.imprint import side_path
    from ._common import check_input

    rows, cols = parse_crossbar(crossbar)
    check_map_path(out)
    inputs = [recording, reference, technology_file]
    for path, what in zip(inputs, ("recording", "reference", "technology file")):
        check_input(path, what)
    check_output(out, "map", inputs=inputs)
    check_output(side_path(out), "imprint", inputs=inputs)
    if summary_path(out).parent != Path(out):
        check_output(summary_path(out), "json", inputs=inputs)
    dev = {}
    if nl is not None:
        dev.update(nl_ltp=abs(nl), nl_ltd=abs(nl))
    if nl_ltp is not None:
        dev["nl_ltp"] = abs(nl_ltp)
    if nl_ltd is not None:
        dev["nl_ltd"] = abs(nl_ltd)
    if c2c_sigma is not None:
        dev["c2c_sigma"] = c2c_sigma
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with progress_bar(quiet) as bar:
            s = api.imprint(recording, out, technology=technology, technology_file=technology_file,
                            params=parse_params(params), device=dev, reference=reference, rows=rows, cols=cols,
                            layers=layers, seed=seed, max_duration_s=max_duration_s, progress=bar,
                            open_kw=open_kwargs(series, segment, rec_format))
    echo_warnings(caught)
    if quiet:
        return
    click.echo(json.dumps(s, indent=1, sort_keys=True) if as_json else format_imprint(s, out))


COMMANDS = [imprint_cmd]
