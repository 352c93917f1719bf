"""connectome report: the generated page's content, size, safety, and (with Chromium) its behaviour in a browser."""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from connectome.cli import main
from connectome.errors import EXIT_BAD_INPUT, OutputError
from connectome.io.atomic import recognise
from connectome.report import batch_data, recording_data, render_batch, render_recording, write_report


class _R:
    def __init__(self, code, output):
        self.exit_code, self.output = code, output


class CliRunner:
    """``connectome`` as the user runs it (through main: error lines and exit statuses)."""

    def __init__(self, capsys):
        self.capsys = capsys

    def invoke(self, _cli, args):
        rc = main([str(a) for a in args])
        out = self.capsys.readouterr()
        return _R(rc, out.out + out.err)


SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "sample.h5"
SECTIONS = ("facts", "grid", "adjacency", "graph", "dist", "tables", "map", "verify")


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def _shown(page: str, key: str) -> str:
    m = re.search(rf'<td data-key="{re.escape(key)}">([^<]*)</td>', page)
    assert m, key
    return m.group(1)


@pytest.fixture(scope="module")
def run_root(sample_infer, tmp_path_factory):
    """A run root as ``connectome run`` leaves it: one done recording (the sample) and one failed file."""
    root = tmp_path_factory.mktemp("run") / "out"
    shutil.copytree(sample_infer, root / "sample" / "infer")
    s = json.loads((sample_infer / "summary.json").read_text())
    man = {"format": "connectome-run-manifest", "format_version": 1, "connectome_version": "test",
           "started": "2026-01-01T00:00:00+0000", "finished": "2026-01-01T00:00:09+0000", "seconds": 9.0,
           "counts": {"done": 1, "failed": 1, "pending": 0},
           "files": [{"input": "sample.h5", "output": str(root / "sample"), "status": "done", "seconds": 8.5,
                      "error": None, "stages": {"infer": {"status": "ran", "seconds": 8.0,
                                                          "result": {"neurons": s["neurons"],
                                                                     "synapses": s["synapses"]}}}},
                     {"input": "broken.h5", "output": str(root / "broken"), "status": "failed", "seconds": 0.1,
                      "failed_stage": "ingest", "error": "broken.h5: not an HDF5 file", "stages": {}}]}
    (root / "run-manifest.json").write_text(json.dumps(man))
    return root


def test_recording_page_numbers_equal_summary(sample_infer):
    s = json.loads((sample_infer / "summary.json").read_text())
    page = render_recording(recording_data(sample_infer, max_traces=0))
    for sec in SECTIONS:
        assert f'<section id="{sec}">' in page
    assert _shown(page, "neurons") == str(s["neurons"])
    assert _shown(page, "synapses") == str(s["synapses"])
    for k, v in s["by_kind"].items():
        assert _shown(page, k) == str(v)
    assert _shown(page, "channels") == str(s["input"]["channels"])
    for k, v in s["qc"].items():
        assert float(_shown(page, k)) == pytest.approx(v, rel=1e-5)
    d = _data(page)
    assert len(d["neurons"]["rows"]) == s["neurons"] and len(d["edges"]["rows"]) == s["synapses"]
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page


def test_traces_are_precomputed_from_the_recording(sample_infer):
    d = recording_data(sample_infer, max_traces=3)
    assert len(d["traces"]) == 3
    col = d["edges"]["columns"].index("score")
    scores = sorted((r[col] for r in d["edges"]["rows"]), reverse=True)
    got = sorted((d["edges"]["rows"][int(k)][col] for k in d["traces"]), reverse=True)
    assert got == scores[:3]  # the strongest edges by score
    for t in d["traces"].values():
        assert len(t["lags_ms"]) == len(t["mean_mv"]) > 10 and t["n"] > 0
        assert t["lags_ms"][0] < 0 < t["lags_ms"][-1]
    assert "3 of 8" in d["traces_status"]


def test_no_recording_means_no_traces_and_says_why(sample_infer, tmp_path):
    f = tmp_path / "infer"
    shutil.copytree(sample_infer, f)
    s = json.loads((f / "summary.json").read_text())
    s["input"]["path"] = s["input"]["abs_path"] = str(tmp_path / "gone.h5")
    (f / "summary.json").write_text(json.dumps(s))
    d = recording_data(f)
    assert d["traces"] == {} and d["traces_status"].startswith("recording not available")


def test_size_bound_2000_neurons(bench, tmp_path):
    folder = bench.synthetic_output(tmp_path / "big", 2000, 25000)
    page = render_recording(recording_data(folder, max_traces=0))
    assert len(page.encode()) < 4e6  # "a few MB at most"
    assert _shown(page, "synapses") == "25000"


def test_script_end_tag_in_data_is_escaped(bench, tmp_path):
    folder = bench.synthetic_output(tmp_path / "small", 5, 4)
    text = (folder / "neurons.csv").read_text().replace(",excitatory\n", ",</script><b>x\n", 1)
    (folder / "neurons.csv").write_text(text)
    page = render_recording(recording_data(folder))
    assert page.count("</script>") == 2  # the data and the code elements only
    assert any("</script><b>x" in str(r) for r in _data(page)["neurons"]["rows"])


def test_cli_writes_atomically_and_refuses_foreign_files(sample_infer, tmp_path, capsys):
    out = tmp_path / "r.html"
    r = CliRunner(capsys).invoke(None, ["report", str(sample_infer), "--out", str(out), "--max-traces", "0"])
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temporary left
    r = CliRunner(capsys).invoke(None, ["report", str(sample_infer), "--out", str(out), "--max-traces", "0"])
    assert r.exit_code == 0  # a previous report is replaced
    mine = tmp_path / "notes.html"
    mine.write_text("my notes")
    r = CliRunner(capsys).invoke(None, ["report", str(sample_infer), "--out", str(mine)])
    assert r.exit_code == EXIT_BAD_INPUT and "not a connectome report" in r.output
    assert mine.read_text() == "my notes"
    with pytest.raises(OutputError):
        write_report("<p>x</p>", mine)
    r = CliRunner(capsys).invoke(None, ["report", str(tmp_path / "missing")])
    assert r.exit_code == EXIT_BAD_INPUT and "Traceback" not in r.output
    r = CliRunner(capsys).invoke(None, ["report", str(tmp_path)])
    assert r.exit_code == EXIT_BAD_INPUT and "not a connectome output folder" in r.output


def test_default_report_keeps_the_infer_folder_recognised(sample_infer, tmp_path, capsys):
    f = tmp_path / "infer"
    shutil.copytree(sample_infer, f)
    r = CliRunner(capsys).invoke(None, ["report", str(f), "--max-traces", "0"])
    assert r.exit_code == 0 and (f / "report.html").is_file()
    assert recognise(f) == "infer"  # infer may still replace the folder


def test_batch_page(run_root, capsys):
    r = CliRunner(capsys).invoke(None, ["report", str(run_root), "--max-traces", "0"])
    assert r.exit_code == 0, r.output
    page = (run_root / "report.html").read_text()
    assert (run_root / "sample" / "report.html").is_file()
    assert '<a href="sample/report.html">sample</a>' in page
    assert "broken.h5: not an HDF5 file" in page and "ingest" in page and "FAILED" in page
    assert _shown(page, "done") == "1" and _shown(page, "failed") == "1"
    rows = batch_data(run_root)["files"]
    assert [f["status"] for f in rows] == ["done", "failed"] and rows[1]["link"] is None
    assert render_batch(batch_data(run_root)) == page  # deterministic


# ----------------------------------------------------------------- real browser
def _browser(bench):
    if bench.chromium() is None:
        pytest.skip("NO CHROMIUM ON PATH: the real-browser report test did not run "
                    "(install the Debian package `chromium`; .ci/run does)")


def test_browser_loads_clicks_and_renders(bench, sample_infer, tmp_path):
    _browser(bench)
    page = write_report(render_recording(recording_data(sample_infer, max_traces=8)), tmp_path / "report.html")
    d = _data(page.read_text())
    k = min(int(i) for i in d["traces"])
    r = bench.load_headless(page, f"#edge={k}")
    assert r["console"] == [], r["console"]  # no console errors (nor any other message)
    dom = r["dom"]
    assert 'data-ready="1"' in dom
    for el in ("grid-fig", "adj-fig", "graph-fig", "hist-weight", "hist-delay", "tbl-neurons", "tbl-edges"):
        assert re.search(rf'id="{el}"[^>]*>\s*<', dom), el  # rendered, not empty
    assert len(re.findall(r'<line class="edge[^"]*" data-e="\d+"', dom)) == len(d["edges"]["rows"])
    # the click (dispatched on the edge's line) opened its trace
    assert re.search(rf'id="drill-fig" data-edge="{k}"><svg', dom)
    assert 'class="sta"' in dom
    e = d["edges"]["rows"][k]
    assert f'{e[0]} → {e[1]}: {e[2]}' in dom
    # a screenshot that is not blank
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([bench.chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        "--window-size=1000,1400", f"--screenshot={shot}", page.as_uri()],
                       capture_output=True, timeout=120)
    from PIL import Image

    px = np.asarray(Image.open(shot).convert("L"), float)
    assert px.std() > 5 and (px < 128).mean() > 0.002


def test_browser_reports_script_errors(bench, tmp_path):
    """The console check above can fail: a page with a script error is caught."""
    _browser(bench)
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    assert bench.load_headless(bad)["console"]


@pytest.mark.parametrize("no_report", [False, True])
def test_run_writes_the_report_unless_told_not_to(tmp_path, capsys, no_report):
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[run]\ninputs = ["{SAMPLE.as_posix()}"]\noutput = "out"\nstages = ["infer"]\n')
    args = ["run", str(cfg)] + (["--no-report"] if no_report else [])
    rc = main(args)
    out = capsys.readouterr().out
    assert rc == 0
    page = tmp_path / "out" / "report.html"
    if no_report:
        assert not page.exists() and "report →" not in out
    else:
        assert "report → " in out and page.is_file() and (tmp_path / "out" / "sample" / "report.html").is_file()
        assert '<a href="sample/report.html">sample</a>' in page.read_text()


def test_map_and_verify_numbers_equal_their_files(sample_infer, tmp_path, capsys):
    rec = tmp_path / "sample"
    shutil.copytree(sample_infer, rec / "infer")
    m = rec / "rram.map.h5"
    assert main(["compile", str(rec / "infer"), "--technology", "rram", "--crossbar", "64x64", "--layers", "2",
                 "--out", str(m)]) == 0
    assert main(["verify", str(m), "--connectome", str(rec / "infer")]) == 0
    capsys.readouterr()
    page = render_recording(recording_data(rec, max_traces=0))
    ms = json.loads((rec / "rram.map.summary.json").read_text())
    for k in ("tiles", "cells", "programming_time_s", "programming_energy_uj", "cell_utilisation"):
        assert float(_shown(page, k)) == pytest.approx(ms[k], rel=1e-5), k
    v = json.loads(next(rec.glob("*.verify.json")).read_text())
    for k in ("pearson", "spearman", "sign_flips", "synapses_lost"):
        assert float(_shown(page, k)) == pytest.approx(v[k], rel=1e-5), k
    assert "Error by weight decile" in page
    tiles = _data(page)["maps"][0]["tiles"]
    assert sum(t["cells"] for t in tiles) == ms["cells"]  # the heat maps count every programmed cell
    # the weight scatter: intended weights are the map's, the programmed ones its ideal decode
    w = _data(page)["maps"][0]["weights"]
    from connectome.io.progmap import read_map
    from connectome.verify.effective import NonIdealities, effective_weights, physical_cells

    pm = read_map(m)
    assert w["n"] == w["shown"] == len(pm.tables["synapses"]["weight_mv"])
    assert w["intended_mv"] == pytest.approx(list(pm.tables["synapses"]["weight_mv"]), abs=1e-6)
    ideal = effective_weights(pm, physical_cells(pm), NonIdealities(), seed=0).w_ideal
    assert w["programmed_mv"] == pytest.approx(list(ideal), abs=1e-6)
    assert w["pearson_programmed"] > 0.99
    assert page.count('class="pt"') == w["shown"] and "Intended vs read weight" in page
    # every tile once in the per-layer utilisation grids, and their cells add up to the map's
    layers = _data(page)["maps"][0]["layers"]
    ids = [t for L in layers for row in L["tiles"] for t in row if t is not None]
    assert sorted(ids) == sorted(int(t) for t in pm.tables["tiles"]["tile"])
    rc = int(pm.attrs["rows"]) * int(pm.attrs["cols"])
    total = sum(u for L in layers for row in L["utilisation"] for u in row if u is not None) * rc
    assert total == pytest.approx(ms["cells"], abs=0.5 * len(ids))
    assert page.count("data-tile=") == len(ids)


def test_motif_counts_equal_networkx_census(sample_infer):
    import networkx as nx

    d = recording_data(sample_infer, max_traces=0)
    eh, edges = d["edges"]["columns"], d["edges"]["rows"]
    g = nx.DiGraph()
    g.add_nodes_from(int(r[0]) for r in d["neurons"]["rows"])
    g.add_edges_from((int(e[eh.index("pre")]), int(e[eh.index("post")])) for e in edges)
    census = nx.triadic_census(g)
    m = d["motifs"]
    assert m["counts"] == [census[t] for t in m["motifs"]] and len(m["motifs"]) == 13
    assert m["null_samples"] > 0 and all(z is None or np.isfinite(z) for z in m["z"])
    page = render_recording(d)
    assert 'id="motif-table"' in page and "Motif z-scores" in page
    assert render_recording(recording_data(sample_infer, max_traces=0)) == page  # the null model is seeded


def test_wall_clock_values_are_marked_so_pages_compare_without_them(run_root):
    """Two runs differ only in their clock spans: with them blanked, the batch page is the same."""
    d = batch_data(run_root)
    page = render_batch(d)
    d2 = json.loads(json.dumps(d))
    d2["manifest"]["seconds"] = 1234.5
    d2["manifest"]["started"] = "2001-01-01T00:00:00Z"
    for f in d2["files"]:
        f["seconds"] = 99.0
        f["stage_seconds"] = {k: 77.0 for k in f["stage_seconds"]}
    other = render_batch(d2)
    assert other != page and "1234.5" in other
    blank = re.compile(r'<span class="clock">[^<]*</span>')
    assert blank.sub("", other) == blank.sub("", page)


def test_browser_real_mouse_input(bench, sample_infer, tmp_path):
    """Real pointer events in Chromium (Playwright): hover shows values, clicks select an edge, sort and filter."""
    _browser(bench)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("PLAYWRIGHT NOT INSTALLED: the real-mouse report test did not run "
                    "(pip install -e '.[browser]'; .ci/run does)")
    page_path = write_report(render_recording(recording_data(sample_infer, max_traces=8)), tmp_path / "report.html")
    d = _data(page_path.read_text())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=bench.chromium(), args=["--no-sandbox", "--disable-gpu"])
        try:
            pg = browser.new_page(viewport={"width": 1200, "height": 1400})
            errors = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            pg.goto(page_path.as_uri())
            pg.wait_for_selector("[data-ready='1']", state="attached", timeout=30_000)
            # hover a neuron on the grid: the tooltip names it
            pg.locator("#grid-fig [data-n]").first.hover(force=True)
            tip = pg.locator("#tip")
            assert tip.is_visible() and tip.inner_text().startswith("neuron ")
            # click an edge drawn on the array: its drill-down opens
            k = min(int(i) for i in d["traces"])
            pg.locator(f'#graph-fig line.edge[data-e="{k}"]').click(force=True)
            assert pg.locator("#drill-fig").get_attribute("data-edge") == str(k)
            e = d["edges"]["rows"][k]
            assert f"{e[0]} → {e[1]}: {e[2]}" in pg.locator("#drill").inner_text()
            # click an edge-table row: the drill-down follows it
            row = pg.locator("#tbl-edges tbody tr").nth(1)
            j = row.get_attribute("data-e")
            row.click()
            assert pg.locator("#drill-fig").get_attribute("data-edge") == j
            # click a header: the table sorts by it (descending on the second click)
            col = d["edges"]["columns"].index("weight_mv")
            th = pg.locator(f'#tbl-edges th[data-k="{col}"]')
            th.click()
            th = pg.locator(f'#tbl-edges th[data-k="{col}"]')
            th.click()
            shown = [float(x) for x in pg.locator(f"#tbl-edges tbody tr td:nth-child({col + 1})").all_inner_texts()]
            assert shown == sorted(shown, reverse=True) and len(shown) == len(d["edges"]["rows"])
            assert shown[0] == pytest.approx(max(float(r[col]) for r in d["edges"]["rows"]), rel=1e-3)
            # type a filter: only matching rows stay
            pg.locator('input.filter[data-table="edges"]').fill("kind=inhibitory")
            kinds = pg.locator(f'#tbl-edges tbody tr td:nth-child({d["edges"]["columns"].index("kind") + 1})')
            want = sum(r[d["edges"]["columns"].index("kind")] == "inhibitory" for r in d["edges"]["rows"])
            assert kinds.count() == want and set(kinds.all_inner_texts()) <= {"inhibitory"}
            assert errors == []
        finally:
            browser.close()
