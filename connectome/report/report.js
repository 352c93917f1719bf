(function () {
"use strict";
var D = JSON.parse(document.getElementById("report-data").textContent);
var NS = "http://www.w3.org/2000/svg";
var tip = document.createElement("div"); tip.id = "tip"; document.body.appendChild(tip);
function showTip(ev, text) { tip.textContent = text; tip.style.display = "block";
  tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px"; }
function hideTip() { tip.style.display = "none"; }
function fmt(v) { if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4)); return String(v); }
function esc(s) { return String(s).replace(/[&<>"]/g, function (c) {
  return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
function filterTable(tbody, q) {
  q = q.trim().toLowerCase();
  Array.prototype.forEach.call(tbody.rows, function (r) {
    r.style.display = !q || r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none"; });
}
if (D.kind === "batch") {
  var inp = document.querySelector("input.filter");
  if (inp) inp.addEventListener("input", function () {
    filterTable(document.querySelector("#batch-table tbody"), inp.value); });
  document.body.setAttribute("data-ready", "1");
  return;
}
var NC = D.neurons.columns, NR = D.neurons.rows, EC = D.edges.columns, ER = D.edges.rows;
function ci(cols, name) { return cols.indexOf(name); }
var nId = ci(NC, "neuron_id"), nX = ci(NC, "x_um"), nY = ci(NC, "y_um"), nT = ci(NC, "type"),
    nS = ci(NC, "n_spikes"), nR = ci(NC, "row"), nCo = ci(NC, "col");
var eP = ci(EC, "pre"), eQ = ci(EC, "post"), eK = ci(EC, "kind"), eW = ci(EC, "weight_mv"),
    eD = ci(EC, "delay_ms"), eQv = ci(EC, "q_value"), eS = ci(EC, "score");
var byId = {}; NR.forEach(function (r, i) { byId[r[nId]] = i; });
var KIND = {excitatory: {c: "#c62828", dash: ""}, inhibitory: {c: "#1565c0", dash: "6 3"},
            electrical: {c: "#2e7d32", dash: "1 3"}};
function typeOf(r) { return nT >= 0 && r[nT] ? r[nT] : "unknown"; }
function marker(x, y, t, s, extra) {
  x = +x; y = +y; s = +s;
  if (t === "inhibitory") return '<rect x="' + (x - s) + '" y="' + (y - s) + '" width="' + 2 * s + '" height="' + 2 * s +
    '" fill="#1565c0" fill-opacity=".7" stroke="#000" ' + extra + '/>';
  if (t === "excitatory") return '<circle cx="' + x + '" cy="' + y + '" r="' + s +
    '" fill="#c62828" fill-opacity=".7" stroke="#000" ' + extra + '/>';
  return '<path d="M' + x + ' ' + (y - s) + 'L' + (x + s) + ' ' + y + 'L' + x + ' ' + (y + s) + 'L' + (x - s) + ' ' + y +
    'Z" fill="#999" stroke="#000" ' + extra + '/>';
}
function frame(W, H) {
  var xs = NR.map(function (r) { return r[nX]; }), ys = NR.map(function (r) { return r[nY]; });
  var x0 = Math.min.apply(null, xs.concat([0])), x1 = Math.max.apply(null, xs.concat([1]));
  var y0 = Math.min.apply(null, ys.concat([0])), y1 = Math.max.apply(null, ys.concat([1]));
  var k = Math.min((W - 40) / Math.max(x1 - x0, 1e-9), (H - 40) / Math.max(y1 - y0, 1e-9));
  return {X: function (v) { return 20 + (v - x0) * k; }, Y: function (v) { return 20 + (v - y0) * k; }};
}
function neuronMarks(f, scale) {
  var maxS = Math.max.apply(null, NR.map(function (r) { return nS >= 0 ? r[nS] || 0 : 1; }).concat([1]));
  var size = NR.length > 500 ? 2.5 : 6;
  return NR.map(function (r, i) {
    var s = size * (0.5 + 0.5 * Math.sqrt((nS >= 0 ? r[nS] || 0 : 1) / maxS)) * scale;
    return marker(f.X(r[nX]).toFixed(1), f.Y(r[nY]).toFixed(1), typeOf(r), +s.toFixed(1), 'data-n="' + i + '"');
  }).join("");
}
function neuronTip(el) {
  el.addEventListener("mousemove", function (ev) {
    var n = ev.target.getAttribute && ev.target.getAttribute("data-n");
    if (n === null) { hideTip(); return; }
    var r = NR[+n];
    showTip(ev, "neuron " + r[nId] + " (" + typeOf(r) + "), grid " + r[nR] + "," + r[nCo] + ", " + fmt(r[nS]) + " spikes");
  });
  el.addEventListener("mouseleave", hideTip);
}
// --- neurons on the grid
(function () {
  var W = 560, f = frame(W, W), el = document.getElementById("grid-fig");
  el.innerHTML = '<svg xmlns="' + NS + '" width="' + W + '" height="' + W + '" role="img" aria-label="neurons on the array">' +
    '<rect width="100%" height="100%" fill="#fafafa"/>' + neuronMarks(f, 1) + "</svg>";
  neuronTip(el);
})();
// --- adjacency sorted by type
var order = NR.map(function (r, i) { return i; });
var rank = {excitatory: 0, inhibitory: 1, unknown: 2};
order.sort(function (a, b) { var ta = rank[typeOf(NR[a])], tb = rank[typeOf(NR[b])];
  return ta !== tb ? ta - tb : NR[a][nId] - NR[b][nId]; });
var pos = {}; order.forEach(function (i, k) { pos[i] = k; });
var edgeAt = {};
ER.forEach(function (e, i) { edgeAt[byId[e[eP]] + "," + byId[e[eQ]]] = i; });
var maxW = Math.max.apply(null, ER.map(function (e) { return Math.abs(e[eW] || 0); }).concat([1e-9]));
function drawAdj(zoom) {
  var N = NR.length, px = Math.max(1, Math.floor(600 / Math.max(N, 1))) * zoom, el = document.getElementById("adj-fig");
  var cv = document.createElement("canvas"); cv.width = N * px; cv.height = N * px; cv.setAttribute("aria-label", "adjacency");
  var g = cv.getContext("2d"); g.fillStyle = "#fff"; g.fillRect(0, 0, cv.width, cv.height);
  ER.forEach(function (e) {
    var a = Math.min(1, 0.25 + 0.75 * Math.abs(e[eW] || 0) / maxW);
    g.fillStyle = e[eK] === "inhibitory" ? "rgba(21,101,192," + a + ")" : e[eK] === "electrical" ?
      "rgba(46,125,50," + a + ")" : "rgba(198,40,40," + a + ")";
    g.fillRect(pos[byId[e[eP]]] * px, pos[byId[e[eQ]]] * px, Math.max(px, 1), Math.max(px, 1));
  });
  // block boundaries between types
  g.strokeStyle = "#888"; var last = null;
  order.forEach(function (i, k) { var t = typeOf(NR[i]); if (last !== null && t !== last) {
    g.beginPath(); g.moveTo(k * px, 0); g.lineTo(k * px, N * px); g.moveTo(0, k * px); g.lineTo(N * px, k * px); g.stroke(); }
    last = t; });
  cv.addEventListener("mousemove", function (ev) {
    var b = cv.getBoundingClientRect(), i = Math.floor((ev.clientX - b.left) / px), j = Math.floor((ev.clientY - b.top) / px);
    if (i < 0 || j < 0 || i >= N || j >= N) { hideTip(); return; }
    var pre = order[j], post = order[i], k = edgeAt[pre + "," + post];
    showTip(ev, NR[pre][nId] + " → " + NR[post][nId] + (k === undefined ? ": no edge" :
      ": " + ER[k][eK] + " " + fmt(ER[k][eW]) + " mV, " + fmt(ER[k][eD]) + " ms"));
  });
  cv.addEventListener("mouseleave", hideTip);
  cv.addEventListener("click", function (ev) {
    var b = cv.getBoundingClientRect(), i = Math.floor((ev.clientX - b.left) / px), j = Math.floor((ev.clientY - b.top) / px);
    var k = edgeAt[order[j] + "," + order[i]]; if (k !== undefined) select(k);
  });
  el.innerHTML = ""; el.appendChild(cv);
}
// NB: canvas coordinates: x = postsynaptic column, y = presynaptic row
drawAdj(1);
Array.prototype.forEach.call(document.querySelectorAll("[data-zoom]"), function (b) {
  b.addEventListener("click", function () { drawAdj(+b.getAttribute("data-zoom")); }); });
// --- graph on the array
(function () {
  var W = 600, f = frame(W, W), el = document.getElementById("graph-fig"), parts = [];
  ER.forEach(function (e, i) {
    var a = NR[byId[e[eP]]], b = NR[byId[e[eQ]]], k = KIND[e[eK]] || KIND.excitatory;
    parts.push('<line class="edge" data-e="' + i + '" x1="' + f.X(a[nX]).toFixed(1) + '" y1="' + f.Y(a[nY]).toFixed(1) +
      '" x2="' + f.X(b[nX]).toFixed(1) + '" y2="' + f.Y(b[nY]).toFixed(1) + '" stroke="' + k.c + '"' +
      (k.dash ? ' stroke-dasharray="' + k.dash + '"' : "") + ' stroke-width="' + (ER.length > 2000 ? 0.6 : 1.5) +
      '" stroke-opacity=".6" marker-end="url(#arr)"/>');
  });
  el.innerHTML = '<svg xmlns="' + NS + '" width="' + W + '" height="' + W + '" role="img" aria-label="connectome graph">' +
    '<defs><marker id="arr" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="5" markerHeight="5" orient="auto">' +
    '<path d="M0 0L6 3L0 6z" fill="#555"/></marker></defs><rect width="100%" height="100%" fill="#fafafa"/>' +
    parts.join("") + neuronMarks(f, 0.8) + "</svg>";
  el.addEventListener("click", function (ev) { var k = ev.target.getAttribute("data-e"); if (k !== null) select(+k); });
  el.addEventListener("mousemove", function (ev) {
    var k = ev.target.getAttribute && ev.target.getAttribute("data-e");
    if (k === null) return;
    var e = ER[+k]; showTip(ev, e[eP] + " → " + e[eQ] + ": " + e[eK] + " " + fmt(e[eW]) + " mV, " + fmt(e[eD]) + " ms");
  });
  neuronTip(el);
})();
// --- drill-down
var selected = null;
function select(i) {
  var e = ER[i], t = D.traces[String(i)];
  if (selected !== null) { var old = document.querySelector('line[data-e="' + selected + '"]'); if (old) old.classList.remove("sel"); }
  selected = i; var ln = document.querySelector('line[data-e="' + i + '"]'); if (ln) ln.classList.add("sel");
  var rows = document.querySelectorAll("#tbl-edges tr.sel"); Array.prototype.forEach.call(rows, function (r) { r.classList.remove("sel"); });
  var tr = document.querySelector('#tbl-edges tr[data-e="' + i + '"]'); if (tr) tr.classList.add("sel");
  document.getElementById("drill-text").textContent = e[eP] + " → " + e[eQ] + ": " + e[eK] + ", weight " + fmt(e[eW]) +
    " mV, latency " + fmt(e[eD]) + " ms, score " + fmt(e[eS]) + (eQv >= 0 ? ", q " + fmt(e[eQv]) : "") +
    (t ? "; spike-triggered average of " + t.n + " windows (" + t.units + ")" : "; no trace precomputed for this edge");
  var el = document.getElementById("drill-fig"); el.setAttribute("data-edge", String(i));
  if (!t) { el.innerHTML = ""; return; }
  var W = 420, H = 220, L = t.lags_ms, M = t.mean_mv, vals = M.filter(function (v) { return v !== null; }).concat([0, e[eW] || 0]);
  var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals); if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
  var X = function (v) { return 40 + (v - L[0]) / (L[L.length - 1] - L[0] || 1) * (W - 50); };
  var Y = function (v) { return 10 + (hi - v) / (hi - lo) * (H - 40); };
  var pts = []; L.forEach(function (x, k) { if (M[k] !== null) pts.push(X(x).toFixed(1) + "," + Y(M[k]).toFixed(1)); });
  el.innerHTML = '<svg xmlns="' + NS + '" width="' + W + '" height="' + H + '" role="img" aria-label="spike-triggered average">' +
    '<line x1="40" x2="' + (W - 10) + '" y1="' + Y(0) + '" y2="' + Y(0) + '" stroke="#bbb"/>' +
    '<line x1="' + X(0) + '" x2="' + X(0) + '" y1="10" y2="' + (H - 30) + '" stroke="#bbb"/>' +
    '<line x1="' + X(e[eD] || 0) + '" x2="' + X(e[eD] || 0) + '" y1="10" y2="' + (H - 30) + '" stroke="#000" stroke-dasharray="4 2"/>' +
    '<line x1="40" x2="' + (W - 10) + '" y1="' + Y(e[eW] || 0) + '" y2="' + Y(e[eW] || 0) + '" stroke="#000" stroke-dasharray="1 2"/>' +
    '<polyline class="sta" fill="none" stroke="' + (KIND[e[eK]] || KIND.excitatory).c + '" stroke-width="1.5" points="' + pts.join(" ") + '"/>' +
    '<text x="40" y="' + (H - 8) + '">' + fmt(L[0]) + ' ms</text><text x="' + (W - 60) + '" y="' + (H - 8) + '">' + fmt(L[L.length - 1]) +
    ' ms</text><text x="2" y="14">' + fmt(hi) + '</text><text x="2" y="' + (H - 30) + '">' + fmt(lo) + '</text>' +
    '<text x="' + (X(e[eD] || 0) + 3) + '" y="22">latency</text><text x="' + (W - 80) + '" y="' + (Y(e[eW] || 0) - 3) + '">weight</text></svg>';
}
// --- histograms
function hist(id, col, label) {
  var el = document.getElementById(id), v = ER.map(function (e) { return e[col]; }).filter(function (x) { return x !== null; });
  var W = 420, H = 200, nb = 30;
  if (!v.length) { el.innerHTML = "<p>" + esc(label) + ": no edges</p>"; return; }
  var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v); if (hi - lo < 1e-12) hi = lo + 1;
  var kinds = ["excitatory", "inhibitory", "electrical"], c = {};
  kinds.forEach(function (k) { c[k] = new Array(nb).fill(0); });
  ER.forEach(function (e) { if (e[col] === null) return; var b = Math.min(nb - 1, Math.floor((e[col] - lo) / (hi - lo) * nb));
    (c[e[eK]] || c.excitatory)[b]++; });
  var tot = new Array(nb).fill(0); kinds.forEach(function (k) { c[k].forEach(function (n, b) { tot[b] += n; }); });
  var mx = Math.max.apply(null, tot.concat([1])), bw = (W - 50) / nb, s = "", fills = {excitatory: "#c62828", inhibitory: "url(#hatch)", electrical: "#2e7d32"};
  for (var b = 0; b < nb; b++) { var y = H - 30;
    kinds.forEach(function (k) { var h = c[k][b] / mx * (H - 50); if (!h) return; y -= h;
      s += '<rect data-t="' + esc(k + ": " + c[k][b] + " in " + fmt(lo + b * (hi - lo) / nb) + "…" + fmt(lo + (b + 1) * (hi - lo) / nb)) +
        '" x="' + (40 + b * bw).toFixed(1) + '" y="' + y.toFixed(1) + '" width="' + Math.max(bw - 1, 1).toFixed(1) + '" height="' + h.toFixed(1) +
        '" fill="' + fills[k] + '" stroke="#333" stroke-width=".3"/>'; }); }
  el.innerHTML = "<h3>" + esc(label) + "</h3>" + '<svg xmlns="' + NS + '" width="' + W + '" height="' + H + '" role="img" aria-label="' + esc(label) + '">' +
    '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse"><rect width="4" height="4" fill="#1565c0"/>' +
    '<path d="M0 4L4 0" stroke="#fff"/></pattern></defs>' + s + '<text x="40" y="' + (H - 12) + '">' + fmt(lo) + '</text><text x="' + (W - 50) +
    '" y="' + (H - 12) + '">' + fmt(hi) + '</text><text x="2" y="20">' + mx + '</text></svg>' +
    '<p class="legend">solid red: excitatory; hatched blue: inhibitory; green: electrical</p>';
  el.addEventListener("mousemove", function (ev) { var t = ev.target.getAttribute && ev.target.getAttribute("data-t");
    if (t) showTip(ev, t); else hideTip(); });
  el.addEventListener("mouseleave", hideTip);
}
hist("hist-weight", eW, "Weight (mV)"); hist("hist-delay", eD, "Latency (ms)");
// --- sortable, filterable tables (first 1,000 matching rows shown)
var LIMIT = 1000;
function table(name, cols, rows, onRow) {
  var el = document.getElementById("tbl-" + name), state = {key: -1, dir: 1, q: ""};
  function match(r) {
    if (!state.q) return true; var q = state.q, eq = q.indexOf("=");
    if (eq > 0) { var k = cols.indexOf(q.slice(0, eq).trim()); if (k >= 0) return String(fmt(r[k])).toLowerCase() === q.slice(eq + 1).trim(); }
    return r.join(" ").toLowerCase().indexOf(q) >= 0;
  }
  function render() {
    var idx = rows.map(function (r, i) { return i; }).filter(function (i) { return match(rows[i]); });
    if (state.key >= 0) idx.sort(function (a, b) { var x = rows[a][state.key], y = rows[b][state.key];
      if (x === y) return a - b; if (x === null) return 1; if (y === null) return -1; return (x < y ? -1 : 1) * state.dir; });
    var h = '<table class="data"><thead><tr>' + cols.map(function (c, k) { return '<th data-k="' + k + '">' + esc(c) +
      (k === state.key ? (state.dir > 0 ? " ▲" : " ▼") : "") + "</th>"; }).join("") + "</tr></thead><tbody>";
    idx.slice(0, LIMIT).forEach(function (i) { h += '<tr data-e="' + i + '">' + rows[i].map(function (v) { return "<td>" + esc(fmt(v)) + "</td>"; }).join("") + "</tr>"; });
    el.innerHTML = h + '</tbody></table><p class="small">' + Math.min(idx.length, LIMIT) + " shown of " + idx.length +
      " matching (" + rows.length + " in all)</p>";
  }
  el.addEventListener("click", function (ev) {
    var th = ev.target.closest("th"); if (th) { var k = +th.getAttribute("data-k"); state.dir = state.key === k ? -state.dir : 1; state.key = k; render(); return; }
    var tr = ev.target.closest("tr[data-e]"); if (tr && onRow) onRow(+tr.getAttribute("data-e"));
  });
  document.querySelector('input.filter[data-table="' + name + '"]').addEventListener("input", function (ev) {
    state.q = ev.target.value.trim().toLowerCase(); render(); });
  render();
}
table("neurons", NC, NR, null); table("edges", EC, ER, select);
// --- map tiles
D.maps.forEach(function (m) {
  var el = document.querySelector('.map[data-map="' + m.name.replace(/"/g, '\\"') + '"] .tiles'); if (!el) return;
  el.innerHTML = m.tiles.map(function (t) {
    var B = t.bins, R = B.length, C = R ? B[0].length : 0, px = Math.max(2, Math.floor(128 / Math.max(R, C, 1))), s = "";
    var mx = Math.max.apply(null, [].concat.apply([], B).concat([1]));
    for (var r = 0; r < R; r++) for (var c = 0; c < C; c++) if (B[r][c]) s += '<rect x="' + c * px + '" y="' + r * px + '" width="' + px +
      '" height="' + px + '" fill="rgb(' + Math.round(255 - 200 * B[r][c] / mx) + ',' + Math.round(255 - 200 * B[r][c] / mx) + ',255)"/>';
    return '<figure><svg xmlns="' + NS + '" width="' + C * px + '" height="' + R * px + '" role="img" aria-label="tile ' + t.tile +
      '"><rect width="100%" height="100%" fill="#fff" stroke="#999"/>' + s + "</svg><figcaption>tile " + t.tile + ", layer " + t.layer +
      " (" + t.x + "," + t.y + "): " + t.cells + " cells, " + fmt(100 * t.utilisation) + " %</figcaption></figure>";
  }).join("");
});
// deep link: #edge=K selects edge K as a click on its line in the graph would
var m = /^#edge=(\d+)$/.exec(location.hash);
if (m) { var ln = document.querySelector('line[data-e="' + m[1] + '"]');
  if (ln) ln.dispatchEvent(new MouseEvent("click", {bubbles: true})); }
document.body.setAttribute("data-ready", "1");
document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
