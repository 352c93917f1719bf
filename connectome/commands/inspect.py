"""``connectome inspect SOURCE``: graph statistics, figures, a pair's spike-triggered traces, export."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import click

from ..errors import ConfigError
from ._common import echo_warnings, progress_bar


def default_figure_dir(source) -> Path:
    """``DIR/figures`` for a directory; ``<file stem>_figures`` beside a file."""
    p = Path(source)
    if p.is_dir():
        return p / "figures"
    return p.parent / f"{p.name[: -len(p.suffix)] if p.suffix else p.name}_figures"


def _electrodes(source, con, recording):
    """Channel positions of the recording behind ``con``, or None (and why) when it cannot be found."""
    from ..errors import ConnectomeError
    from ..io import open_recording
    from ..traces import resolve_recording

    try:
        if recording is None and con.meta.get("truth"):
            import h5py

            with h5py.File(source, "r") as fh:
                name = fh.attrs.get("recording")
            if not name:
                return None, "the truth file names no recording"
            recording = Path(source).parent / str(name)
        elif recording is None and "summary" not in con.meta:
            return None, "no summary.json naming the recording"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = open_recording(resolve_recording(source, con, recording))
        return (rec.x_um, rec.y_um), None
    except ConnectomeError as exc:
        return None, exc.reason
    except OSError as exc:
        return None, str(exc)


def _fmt(v, spec=".3g"):
    return "–" if v is None else format(v, spec)


def _dist(d: dict, unit: str = "", spec: str = ".3g") -> str:
    if not d.get("n"):
        return "none"
    s = spec
    return (
        f"mean {_fmt(d['mean'], s)}{unit}, median {_fmt(d['median'], s)}{unit}, "
        f"q10–q90 {_fmt(d['q10'], s)}…{_fmt(d['q90'], s)}{unit}, max {_fmt(d['max'], s)}{unit}"
    )


def _percent(fraction):
    return None if fraction is None else 100 * fraction


def _kinds_text(kinds) -> str:
    return kinds if isinstance(kinds, str) else ", ".join(kinds)


def _null(e: dict) -> str:
    if not e or e.get("null_mean") is None:
        return ""
    z = "" if e.get("z") is None else f", z = {e['z']:+.1f}"
    return f" (null {e['null_mean']:.3g} ± {e['null_sd']:.2g}{z})"


def format_statistics(s: dict, source, motif_s: float | None = None) -> str:
    """The statistics as aligned text lines (what ``connectome inspect`` prints)."""
    ei = s["ei"]
    k = s["by_kind"]
    nt = ei["neurons"]
    deg = s["degree"]
    lines = [
        f"connectome     {source}",
        f"neurons        {s['neurons']} ({nt['excitatory']} excitatory, {nt['inhibitory']} inhibitory, "
        f"{nt['unknown']} of unknown type)",
        f"synapses       {s['synapses']}: {k['excitatory']} excitatory, {k['inhibitory']} inhibitory, "
        f"{k['electrical']} electrical",
        f"pairs          {s['pairs_connected']} connected (synapses of {_kinds_text(s['topology_kinds'])}), "
        f"density {_fmt(s['density'], '.4f')}",
    ]
    ei_line = (
        f"E/I            {_fmt(_percent(ei['excitatory_fraction']), '.0f')} % "
        f"of chemical synapses excitatory; E:I by count {_fmt(ei['ei_count_ratio'], '.2f')}, "
        f"by summed |weight| {_fmt(ei['ei_weight_ratio'], '.2f')}"
    )
    lines.append(ei_line)
    if "input_ei_ratio" in ei:
        r = ei["input_ei_ratio"]
        lines.append(
            f"               input E:I per neuron: median {_fmt(r['median'], '.2f')} "
            f"(q25–q75 {_fmt(r['q25'], '.2f')}…{_fmt(r['q75'], '.2f')}; neurons with both: {r['neurons']}, "
            f"only E: {r['only_excitatory_input']}, only I: {r['only_inhibitory_input']}); "
            f"Dale-consistent {_fmt(_percent(ei.get('dale_consistent_fraction')), '.0f')} %"
        )
    lines += [
        f"in-degree      {_dist(deg['in'])}; {deg['no_inputs']} without inputs",
        f"out-degree     {_dist(deg['out'])}; {deg['no_outputs']} without outputs, "
        f"{deg['isolated']} isolated",
        f"reciprocity    {_fmt(s['reciprocity'])}{_null(s['null_model'].get('reciprocity'))}",
        f"clustering     average {_fmt(s['clustering']['average'])}"
        f"{_null(s['null_model'].get('clustering_average'))}; "
        f"transitivity {_fmt(s['clustering']['transitivity'])}",
    ]
    m = s["motifs"]
    if m["null_samples"]:
        took = f", {motif_s:.1f} s" if motif_s is not None else ""
        lines.append(
            f"motifs         3-neuron triads vs {m['null_samples']} degree-preserving random graphs "
            f"(seed {m['seed']}, {m['swaps_per_edge']:g} swaps/edge{took})"
        )
        lines.append("               type     count   null mean ±   sd       z")
        for t in m["counts"]:
            if t in ("003", "012", "102"):
                continue
            z = m["z"][t]
            lines.append(
                f"               {t:<5} {m['counts'][t]:>8} {_fmt(m['null_mean'][t], '>11.1f')} ± "
                f"{_fmt(m['null_sd'][t], '>4.1f')}  {'     –' if z is None else format(z, '+6.1f')}"
            )
    else:
        conn = {t: v for t, v in m["counts"].items() if t not in ("003", "012", "102") and v}
        lines.append(
            "motifs         " + (", ".join(f"{t} {v}" for t, v in conn.items()) or "none") + " (no null)"
        )
    w = s["weights"]
    first = True
    for name in ("excitatory", "inhibitory", "electrical"):
        if name in w:
            head = "weights        " if first else "               "
            first = False
            lines.append(
                f"{head}{name:<11} {_dist(w[name]['weight_mv'], ' mV', '+.2f')}; "
                f"latency median {_fmt(w[name]['delay_ms'].get('median'), '.2f')} ms"
            )
    d = s["distance"]
    if d is None:
        lines.append("distance       neurons have no position")
    else:
        e = d["bin_edges_um"]
        cells = [
            f"{e[i]:g}–{e[i + 1]:g}: {_fmt(p, '.3f')} ({n})"
            for i, (p, n) in enumerate(zip(d["probability"], d["pairs"]))
            if n
        ]
        lines.append(f"distance       P(connected) per {d['bin_um']:g}-µm bin (pairs):")
        for i in range(0, len(cells), 4):
            lines.append("               " + ",  ".join(cells[i : i + 4]))
        lines.append(
            f"               median distance of connected pairs "
            f"{_fmt(d['median_distance_connected_um'], '.0f')} µm; of all pairs in "
            f"{d['median_distance_all_pairs_bin_um'][0]:g}–{d['median_distance_all_pairs_bin_um'][1]:g} µm"
        )
    return "\n".join(lines)


def format_pair(p: dict) -> str:
    e = p["edge"] or {}
    if e.get("accepted"):
        q = f", q = {e['q_value']:.2g}" if e.get("q_value") is not None else ""
        inferred = (
            f"inferred {e['kind']} synapse, {e['weight_mv']:+.2f} mV, latency {e['delay_ms']:.2f} ms{q}"
        )
    elif e.get("weight_mv") is not None:
        inferred = (
            f"not a synapse (best window {e['weight_mv']:+.2f} mV at {e['delay_ms']:.2f} ms, "
            f"score {e['score']:.2f})"
        )
    elif e.get("tested") is False:
        inferred = "pair untested by the inference (too few usable presynaptic spikes)"
    else:
        inferred = "not a synapse"
    n_inf = p["n_pre_spikes_inferred"]
    ex = p["excluded"]
    peak = (
        ""
        if p["peak_after_spike_mv"] is None
        else f"; mean peaks at {p['peak_after_spike_mv']:+.2f} mV, "
        f"{p['peak_after_spike_ms']:.1f} ms after the spike"
    )
    return (
        f"pair           {p['pre']} → {p['post']}: {p['n_pre_spikes']} presynaptic spikes"
        f"{'' if n_inf is None else f' (inference: {n_inf})'} on channel(s) "
        f"{', '.join(map(str, p['pre_channels']))}; {p['n_trials']} windows on channel {p['post_channel']}\n"
        f"               left out: {ex['post_spike']} with a post AP, {ex['bad_samples']} with bad samples, "
        f"{ex['recording_edge']} at the ends{peak} ({p['units']})\n"
        f"               {inferred}\n"
        f"               recording {p['recording']}"
    )


@click.command("inspect")
@click.argument("source", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON instead of text.")
@click.option(
    "--figures",
    "figures",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[OUTDIR]",
    help="Write figures (PNG + SVG) and inspect.json to OUTDIR [default when given without a value: "
    "DIR/figures, or <file>_figures beside a file]. Put it after SOURCE when giving no value.",
)
@click.option(
    "--pair",
    nargs=2,
    type=int,
    default=None,
    metavar="PRE POST",
    help="Also plot POST's membrane potential around PRE's spikes, read back from the recording "
    "(implies --figures).",
)
@click.option(
    "--recording",
    type=click.Path(),
    default=None,
    help="The recording, if not where DIR/summary.json says (for --pair and the electrode grid).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the motif null model.")
@click.option(
    "--null-samples",
    type=int,
    default=100,
    show_default=True,
    help="Degree-preserving random graphs for motif z-scores (0: counts only).",
)
@click.option(
    "--swaps-per-edge",
    type=float,
    default=10.0,
    show_default=True,
    help="Edge-swap attempts per edge for each null graph.",
)
@click.option(
    "--distance-bin-um",
    type=float,
    default=None,
    help="Bin width of connection probability vs distance [default: about 12 bins].",
)
@click.option(
    "--kinds",
    default="all",
    show_default=True,
    help="Synapse kinds that connect a pair for topology: all, chemical, or a comma list "
    "(excitatory,inhibitory,electrical).",
)
@click.option(
    "--export",
    "export",
    type=click.Path(),
    default=None,
    help="Also write the graph to PATH: .graphml, .gexf or .json (node-link).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def inspect_cmd(
    source,
    as_json,
    figures,
    pair,
    recording,
    seed,
    null_samples,
    swaps_per_edge,
    distance_bin_um,
    kinds,
    export,
    quiet,
):
    """Statistics and figures of the connectome SOURCE.

    SOURCE is a `connectome infer` output directory, an edges.csv, a GraphML
    file or a truth .h5. Prints neurons, synapses by kind, density, E/I
    balance, degree distributions, reciprocity, clustering, 3-neuron motif
    counts with z-scores against a degree-preserving null, weight and latency
    distributions and connection probability against distance. See
    docs/inspect.md for every definition and figure.
    """
    from ..graph.analysis import graph_statistics
    from ..graph.connectome import Connectome
    from ..io.atomic import check_output
    from ._common import check_input

    _check_options(null_samples, swaps_per_edge, distance_bin_um, kinds)
    check_input(source, "connectome")
    con = Connectome.read(source)
    if pair is not None:
        recording = _check_pair(con, pair, source, recording)  # fail before the statistics, not after
    fig_dir = None
    if figures is not None or pair is not None:
        fig_dir = Path(figures) if figures else default_figure_dir(source)
        check_output(fig_dir, "figures", inputs=[source, recording], folder=True)
    if export:
        check_output(export, "export", inputs=[source, recording])
    t0 = time.perf_counter()
    stats = graph_statistics(
        con,
        seed=seed,
        null_samples=null_samples,
        swaps_per_edge=swaps_per_edge,
        distance_bin_um=distance_bin_um,
        kinds=kinds,
    )
    took = time.perf_counter() - t0
    written, pair_summary, notes = [], None, []
    if fig_dir is not None:
        written, pair_summary, notes = _figures(con, source, stats, fig_dir, pair, recording, seed, kinds,
                                                distance_bin_um, quiet)
    if export:
        from ..graph.export import export_graph

        export_graph(con, export)
    if as_json:
        doc = {"source": str(source), "statistics": stats}
        if pair_summary is not None:
            doc["pair"] = pair_summary
        if fig_dir is not None:
            doc["figures_dir"] = str(fig_dir)
        if export:
            doc["export"] = str(export)
        click.echo(json.dumps(doc, indent=1, sort_keys=True, allow_nan=False))
        return
    click.echo(format_statistics(stats, source, took))
    if pair_summary is not None:
        click.echo(format_pair(pair_summary))
    if fig_dir is not None:
        names = sorted({p.stem for p in written})
        click.echo(f"figures        {fig_dir}: {', '.join(names)} (PNG + SVG), inspect.json")
    for n in notes:
        click.echo(f"               {n}")
    if export:
        click.echo(f"export         {export}")


def _check_options(null_samples, swaps_per_edge, distance_bin_um, kinds) -> None:
    from ..graph.analysis import kind_codes

    if null_samples < 0:
        raise ConfigError(f"--null-samples must be ≥ 0, got {null_samples}")
    if swaps_per_edge <= 0:
        raise ConfigError(f"--swaps-per-edge must be positive, got {swaps_per_edge}")
    if distance_bin_um is not None and not distance_bin_um > 0:
        raise ConfigError(f"--distance-bin-um must be positive, got {distance_bin_um}")
    try:
        kind_codes(kinds)
    except ValueError as exc:
        raise ConfigError(f"--kinds: {exc}") from None


def _check_pair(con, pair, source, recording):
    """``--pair PRE POST``: two different neurons of ``con``; returns the recording their traces come from."""
    import numpy as np

    from ..traces import resolve_recording

    for nid in pair:
        if not np.any(con.neuron_id == nid):
            lo, hi = (int(con.neuron_id.min()), int(con.neuron_id.max())) if con.n_neurons else (0, -1)
            raise ConfigError(f"--pair: no neuron {nid} (neuron ids run {lo}…{hi})", source)
    if pair[0] == pair[1]:
        raise ConfigError("--pair needs two different neurons", source)
    return resolve_recording(source, con, recording)


def _figures(con, source, stats, out_dir: Path, pair, recording, seed, kinds, distance_bin_um, quiet):
    """Write the figures (and the pair's traces) and ``inspect.json``; returns (files, pair summary, notes)."""
    from ..graph.figures import write_figures
    from ..io.atomic import atomic_path

    tr, pair_summary, notes = None, None, []
    if pair is not None:
        from ..traces import pair_traces

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with progress_bar(quiet) as bar:
                tr = pair_traces(source, pair[0], pair[1], connectome=con, recording=recording, seed=seed,
                                 progress=bar)
        echo_warnings(caught)
        pair_summary = tr.summary()
    electrodes, why = _electrodes(source, con, recording)
    if electrodes is None:
        notes.append(f"electrode grid not drawn: {why}")
    written = write_figures(
        con, out_dir, stats, electrodes=electrodes, pair=tr, kinds=kinds, distance_bin_um=distance_bin_um
    )
    doc = {
        "source": str(source),
        "statistics": stats,
        "pair": pair_summary,
        "figures": sorted(p.name for p in written),
    }
    with atomic_path(out_dir / "inspect.json") as tmp:
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return written, pair_summary, notes


COMMANDS = [inspect_cmd]
