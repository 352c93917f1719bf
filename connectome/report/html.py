"""Render report data as one self-contained HTML page (inline CSS, JS and data; no network at view time).

Hand-written vanilla JavaScript drawing inline SVG and one canvas (the
adjacency matrix): no plotting library is installed with the package, and
the page for 2,000 neurons / 25,000 edges stays a few MB (benchmarks/bench_report.py).
The static facts (recording, QC, counts, the batch table) are rendered here
in Python, so the numbers are in the HTML even without JavaScript.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from ..errors import OutputError
from ..io.atomic import atomic_path
from .svg import bar_chart, scatter, tile_layers

_CSS = Path(__file__).with_name("report.css")
_JS = Path(__file__).with_name("report.js")


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


CLOCK_CLASS = "clock"
"""Class of the ``<span>`` around every wall-clock value (durations, start and end times).

Two runs of the same inputs give pages that differ only inside these spans
and in the clock keys (``timings``, ``seconds``, ``started``, ``finished``)
of the embedded data, so a page can be compared byte for byte once they
are blanked (``benchmarks/soak.py`` does).
"""


def _clock(v) -> str:
    return f'<span class="{CLOCK_CLASS}">{_e(_fmt(v))}</span>'


def _kv(rows, cls="kv", clock=()) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td data-key=\"{_e(k)}\">"
                   f"{_clock(v) if (clock is True or k in clock) else _e(_fmt(v))}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{body}</table>'


def _json_script(data) -> str:
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, sort_keys=True)
    return text.replace("</", "<\\/")  # never close the script element early


def _page(title: str, body: str, data) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_CSS.read_text()}</style></head><body>{body}"
            f"<script type=\"application/json\" id=\"report-data\">{_json_script(data)}</script>"
            f"<script>{_JS.read_text()}</script></body></html>\n")


def _motifs(m) -> str:
    if not m:
        return "<p>No motif statistics.</p>"
    if not m["null_samples"]:
        z_note = "too few edges for a null model: counts only"
    else:
        z_note = (f"z = (count − null mean) / null SD over {m['null_samples']} degree-preserving random graphs "
                  f"(seed {m['seed']}); n/a where the null SD is 0")
    chart = bar_chart(m["motifs"], m["z"], title="Motif z-scores", ylabel="z",
                      note=[f"count {c}, null mean {mu}" for c, mu in zip(m["counts"], m["null_mean"])])
    rows = "".join(f"<tr><td>{_e(t)}</td><td>{c}</td><td>{_e(_fmt(mu))}</td><td>{_e(_fmt(z))}</td></tr>"
                   for t, c, mu, z in zip(m["motifs"], m["counts"], m["null_mean"], m["z"]))
    table = ('<table class="data" id="motif-table"><thead><tr><th>motif</th><th>count</th><th>null mean</th>'
             f'<th>z</th></tr></thead><tbody>{rows}</tbody></table>')
    return (f'<p class="legend">Connected triads (MAN codes, Holland &amp; Leinhardt 1970) of the accepted edges, any '
            f'kind; {_e(z_note)}.</p><div class="cols"><div>{chart}</div><div>{table}</div></div>')


def _weight_scatter(w) -> str:
    if not w or not w.get("n"):
        return ""
    shown = f"{w['shown']} of {w['n']} synapses" if w["shown"] < w["n"] else f"all {w['n']} synapses"
    fig = scatter(w["intended_mv"], w["read_mv"], title="Intended vs read weight (mV)", xlabel="intended (mV)",
                  ylabel="read after programming (mV)")
    return (f'<div class="wscatter">{fig}<p class="small">{_e(shown)}; Pearson r intended vs programmed '
            f'targets {_e(_fmt(w.get("pearson_programmed")))}, vs read with device spread and read noise '
            f'{_e(_fmt(w.get("pearson_read")))}.</p></div>')


def render_recording(d: dict) -> str:
    """The page of one recording (see :func:`connectome.report.build.recording_data`)."""
    s = d["summary"]
    inp = s.get("input", {})
    kinds = s.get("by_kind", {})
    facts = [("recording", os.path.basename(str(inp.get("path") or "")) or None), ("channels", inp.get("channels")),
             ("duration_s", inp.get("duration_s")), ("sampling_rate_hz", inp.get("sampling_rate_hz")),
             ("fingerprint", inp.get("fingerprint")), ("neurons", s.get("neurons")), ("synapses", s.get("synapses")),
             ("excitatory", kinds.get("excitatory")), ("inhibitory", kinds.get("inhibitory")),
             ("electrical", kinds.get("electrical")), ("excitatory_eventful", s.get("excitatory_eventful")),
             ("excitatory_uneventful", s.get("excitatory_uneventful")),
             ("dale_consistency_mean", s.get("dale_consistency_mean")),
             ("dale_violating_neurons", s.get("dale_violating_neurons")),
             ("connectome_version", s.get("versions", {}).get("connectome"))]
    qc = sorted((s.get("qc") or {}).items())
    timings = sorted((s.get("timings") or {}).items())
    maps = ""
    for m in d["maps"]:
        ms = m.get("summary", {})
        keys = ("technology", "crossbar", "layers", "tiles", "tiles_lower_bound", "cells", "synapses",
                "cell_utilisation", "synapse_slot_utilisation", "programming_time_s", "programming_energy_uj",
                "peak_power_mw", "write_pulses", "expected_weight_error_mv", "clipped")
        err = f'<p class="warn">{_e(m["error"])}</p>' if m.get("error") else ""
        sc = _weight_scatter(m.get("weights"))
        maps += (f'<div class="map" data-map="{_e(m["name"])}"><h3>{_e(m["name"])}</h3>{err}'
                 f'<div class="cols"><div>{_kv([(k, ms.get(k)) for k in keys if k in ms])}</div>{sc}</div>'
                 f'<h4>Tile utilisation, every tile by layer</h4>{tile_layers(m.get("layers"))}'
                 f'<h4>Programmed cells within the first tiles</h4><div class="tiles"></div></div>')
    if not maps:
        maps = "<p>No programming map in this folder (run <code>connectome compile</code>).</p>"
    ver = ""
    for v in d["verify"]:
        dec = ""
        if v["deciles"]:
            cols = ("decile", "n", "abs_w_min_mv", "abs_w_max_mv", "mean_abs_rel_error", "rms_error_mv")
            dec = ('<h4>Error by weight decile</h4><table class="data"><thead><tr>'
                   + "".join(f"<th>{c}</th>" for c in cols) + "</tr></thead><tbody>"
                   + "".join("<tr>" + "".join(f"<td>{_e(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
                             for r in v["deciles"]) + "</tbody></table>")
        ver += (f'<div class="verify" data-verify="{_e(v["name"])}"><h3>{_e(v["name"])}</h3><div class="cols">'
                f'<div>{_kv(sorted(v["scalars"].items()))}</div><div>{dec}</div></div></div>')
    if not ver:
        ver = "<p>No verify result in this folder (stage <code>verify</code> did not run).</p>"
    body = f"""
<header><h1>Connectome report: {_e(d['title'])}</h1>
<nav><a href="#facts">Recording</a> <a href="#grid">Neurons on the array</a> <a href="#adjacency">Adjacency</a>
<a href="#graph">Graph</a> <a href="#motifs">Motifs</a> <a href="#dist">Distributions</a> <a href="#tables">Tables</a>
<a href="#map">Map</a>
<a href="#verify">Verify</a></nav></header>
<section id="facts"><h2>Recording and QC</h2><div class="cols">
<div><h3>Facts</h3>{_kv(facts)}</div><div><h3>QC</h3>{_kv(qc)}</div>
<div><h3>Timings (s)</h3>{_kv(timings, clock=True)}</div>
</div></section>
<section id="grid"><h2>Neurons on the electrode grid</h2>
<p class="legend">○ excitatory &nbsp; □ inhibitory &nbsp; ◇ type unknown; area ∝ spike count.
Hover a neuron for its values.</p>
<div class="fig" id="grid-fig"></div></section>
<section id="adjacency"><h2>Adjacency, neurons sorted by type</h2>
<p class="legend">Rows: presynaptic, columns: postsynaptic. Red: excitatory (+), blue: inhibitory (−), green:
electrical; darker = larger |weight|. Hover for values; the zoom buttons magnify.</p>
<div class="toolbar"><button data-zoom="1">1×</button><button data-zoom="2">2×</button>
<button data-zoom="4">4×</button><button data-zoom="8">8×</button></div>
<div class="fig scroll" id="adj-fig"></div></section>
<section id="graph"><h2>Connectome on the array</h2>
<p class="legend">Solid red —: excitatory; dashed blue - -: inhibitory; dotted green ···: electrical.
Click an edge (or an edge-table row) to see its spike-triggered average.</p>
<div class="cols"><div class="fig" id="graph-fig"></div><div id="drill"><h3>Edge drill-down</h3>
<p id="drill-text">Click an edge.</p><div id="drill-fig"></div><p class="small">{_e(d['traces_status'])}</p></div></div>
</section>
<section id="motifs"><h2>Three-neuron motifs</h2>{_motifs(d.get("motifs"))}</section>
<section id="dist"><h2>Weight and latency distributions</h2><div class="cols">
<div class="fig" id="hist-weight"></div><div class="fig" id="hist-delay"></div></div></section>
<section id="tables"><h2>Neurons and edges</h2>
<h3>Neurons</h3><input class="filter" data-table="neurons" placeholder="filter neurons (text or column=value)">
<div class="tbl" id="tbl-neurons"></div>
<h3>Edges</h3><input class="filter" data-table="edges" placeholder="filter edges (text or column=value)">
<div class="tbl" id="tbl-edges"></div></section>
<section id="map"><h2>Programming map(s)</h2>{maps}</section>
<section id="verify"><h2>Verify</h2>{ver}</section>
<footer>connectome {_e(s.get('versions', {}).get('connectome'))}; self-contained page (no network).</footer>"""
    return _page(f"Connectome report: {d['title']}", body, d)


def render_batch(d: dict) -> str:
    """The page of a batch run (see :func:`connectome.report.build.batch_data`)."""
    m = d["manifest"]
    c = m.get("counts") or {}
    rows = ""
    for f in d["files"]:
        link = f'<a href="{_e(f["link"])}">{_e(f["name"])}</a>' if f["link"] else _e(f["name"])
        st = " ".join(f"{_e(k)} {_clock(f'{v:.1f}')}" for k, v in f["stage_seconds"].items()
                      if isinstance(v, (int, float)))
        err = _e(f"{f['failed_stage']}: {f['error']}") if f["error"] else ""
        rows += (f'<tr class="st-{_e(f["status"])}"><td>{link}</td><td>{_e(f["input"])}</td>'
                 f'<td class="status">{_e((f["status"] or "").upper())}</td><td>{_clock(f["seconds"])}</td>'
                 f'<td>{st}</td><td>{_e(_fmt(f["neurons"]))}</td><td>{_e(_fmt(f["synapses"]))}</td>'
                 f'<td class="err">{err}</td></tr>')
    body = f"""
<header><h1>Connectome batch report: {_e(d['title'])}</h1></header>
<section id="run"><h2>Run</h2>{_kv([('done', c.get('done')), ('failed', c.get('failed')),
                                       ('pending', c.get('pending')), ('seconds', m.get('seconds')),
                                       ('started', m.get('started')), ('finished', m.get('finished')),
                                       ('connectome_version', m.get('connectome_version'))],
                                      clock=('seconds', 'started', 'finished'))}</section>
<section id="files"><h2>Recordings</h2><input class="filter" data-table="batch" placeholder="filter recordings">
<table class="data" id="batch-table"><thead><tr><th>recording</th><th>input</th><th>status</th><th>seconds</th>
<th>stages (s)</th><th>neurons</th><th>synapses</th><th>error</th></tr></thead><tbody>{rows}</tbody></table></section>
<footer>connectome {_e(m.get('connectome_version'))}; self-contained page (no network).</footer>"""
    return _page(f"Connectome batch report: {d['title']}", body, {"kind": "batch"})


def write_report(text: str, out) -> Path:
    """Write ``text`` to ``out`` atomically (temporary name, then rename); refuse a file connectome did not write."""
    out = Path(out)
    if (out.exists() or out.is_symlink()) and not _is_report(out):
        raise OutputError("output exists and is not a connectome report; remove it or choose another path", out)
    with atomic_path(out, replace=_is_report) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def _is_report(path) -> bool:
    """An existing file that is a previous connectome report (may be replaced)."""
    p = Path(path)
    if not p.is_file() or p.is_symlink():
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(400)
    except OSError:
        return False
    return b"<title>Connectome " in head and head.startswith(b"<!DOCTYPE html>")


__all__ = ["render_recording", "render_batch", "write_report"]
