"""``connectome compare A B``: precision, recall and agreement of two connectomes (or one against truth)."""

from __future__ import annotations

import json

import click

from ._common import quiet_option


def _fmt(v, spec=".3f"):
    return "–" if v is None else format(v, spec)


def format_comparison(r: dict) -> str:
    """The comparison as aligned text lines (what ``connectome compare`` prints)."""
    a, b, m, e, mt = r["a"], r["b"], r["matching"], r["edges"], r["matched"]
    extra = f", within {m['max_distance_um']:g} µm" if "max_distance_um" in m else ""
    lines = [
        f"A              {a['source']}: {a['neurons']} neurons, {a['synapses']} synapses "
        f"({a['pairs']} pairs)",
        f"B              {b['source']}{' (ground truth)' if b['truth'] else ''}: {b['neurons']} neurons, "
        f"{b['synapses']} synapses ({b['pairs']} pairs)",
        f"matching       by {m['method']} ({m['reason']}{extra}): "
        f"{m['a_neurons_matched']} of {a['neurons']} A neurons "
        f"→ {m['b_neurons_matched']} of {b['neurons']} B neurons"
        + (
            f"; {m['a_neurons_sharing_a_b_neuron']} A neurons share a B neuron"
            if m["a_neurons_sharing_a_b_neuron"]
            else ""
        ),
        f"pairs          {e['true_positives']} in both, {e['false_positives']} only in A, "
        f"{e['false_negatives']} only in B",
        f"precision      {_fmt(e['precision'])}   recall {_fmt(e['recall'])}   F1 {_fmt(e['f1'])}   "
        f"Jaccard {_fmt(e['jaccard'])}",
        f"               recall {_fmt(e['recall_matched_neurons'])} over the "
        f"{e['b_pairs_between_matched_neurons']} "
        f"B pairs between matched neurons",
    ]
    first = True
    for name, v in r["by_kind"].items():
        if v["a_pairs"] or v["b_pairs"]:
            head = "by kind        " if first else "               "
            first = False
            lines.append(
                f"{head}{name:<11} precision {_fmt(v['precision'])} (of {v['a_pairs']} A pairs), "
                f"recall {_fmt(v['recall'])} (of {v['b_pairs']} B pairs)"
            )
    lines.append(
        f"matched pairs  {mt['pairs']}: weight Pearson r {_fmt(mt['weight_pearson_r'])}, Spearman ρ "
        f"{_fmt(mt['weight_spearman_r'])}; sign agreement {_fmt(mt['sign_agreement'])}; "
        f"kind agreement {_fmt(mt['kind_agreement'])}"
    )
    lines.append(
        f"               median |Δ weight| {_fmt(mt['median_abs_weight_diff_mv'], '.3g')} mV, "
        f"median |Δ latency| {_fmt(mt['median_abs_delay_diff_ms'], '.3g')} ms"
    )
    conf = mt["kind_confusion"]
    off = [(x, y, n) for x, row in conf.items() for y, n in row.items() if n and x != y]
    if off:
        lines.append("               kind changes (B → A): " + ", ".join(f"{x} → {y} {n}" for x, y, n in off))
    return "\n".join(lines)


@click.command("compare")
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path())
@click.option(
    "--match",
    "match",
    type=click.Choice(["auto", "ids", "channels", "position"]),
    default="auto",
    show_default=True,
    help="How neurons of A are matched to neurons of B.",
)
@click.option(
    "--max-distance-um",
    type=float,
    default=15.0,
    show_default=True,
    help="Largest distance for --match position.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option(
    "--export",
    "export",
    type=click.Path(),
    default=None,
    help="Also write A's graph to PATH: .graphml, .gexf or .json (node-link).",
)
@quiet_option("Print nothing (the --export file is still written).")
def compare_cmd(a, b, match, max_distance_um, as_json, export, quiet):
    """Compare connectome A with B (another connectome or a ground-truth .truth.h5).

    A and B are `connectome infer` output directories, edges.csv, GraphML or
    truth files; B is the reference. Prints how neurons were matched (by
    identical ids, by recording channels, or by position), precision, recall,
    F1 and Jaccard of the connected pairs, per-kind precision and recall, and
    on the pairs found in both: weight correlation (Pearson and Spearman),
    sign and kind agreement. Definitions: docs/inspect.md.
    """
    from ..api import compare
    from ..errors import ConfigError
    from ..graph.compare import read_with_channels

    if not max_distance_um > 0:
        raise ConfigError(f"--max-distance-um must be positive, got {max_distance_um}")
    from ..io.atomic import check_output
    from ._common import check_input

    check_input(a, "connectome")
    check_input(b, "connectome")
    if export:
        check_output(export, "export", inputs=[a, b])
    r = compare(a, b, match=match, max_distance_um=max_distance_um)
    if export:
        from ..graph.export import export_graph

        export_graph(read_with_channels(a), export)
        r["export"] = str(export)
    if quiet:
        return
    if as_json:
        click.echo(json.dumps(r, indent=1, sort_keys=True, allow_nan=False))
        return
    click.echo(format_comparison(r))
    if export:
        click.echo(f"export         {export} (A)")


COMMANDS = [compare_cmd]
