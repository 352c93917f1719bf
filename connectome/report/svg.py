"""Static SVG charts rendered in Python, so the page shows them without JavaScript and prints them.

Two chart kinds the report needs beside its interactive figures: a bar chart
with signed values (motif z-scores) and a scatter of two quantities with the
identity line (intended vs programmed weight). Each point and bar carries a
``<title>``, which browsers show on hover.
"""

from __future__ import annotations

import html
import math


def _e(v) -> str:
    return html.escape(str(v), quote=True)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + k * step, 12) for k in range(int((hi - first) / step) + 1)]


def bar_chart(labels, values, *, title: str, ylabel: str, width: int = 560, height: int = 240,
              note=None) -> str:
    """Vertical bars from 0 (positive up, negative down); ``None`` values are drawn as a gap marked "n/a".

    ``note`` (optional, one string per bar) is added to each bar's hover title.
    """
    vals = [None if v is None or not math.isfinite(float(v)) else float(v) for v in values]
    finite = [v for v in vals if v is not None] or [0.0]
    lo, hi = min(0.0, min(finite)), max(0.0, max(finite))
    if hi - lo < 1e-12:
        hi = lo + 1.0
    pad = 0.08 * (hi - lo)
    lo, hi = (lo - pad if lo < 0 else lo), hi + pad
    left, right, top, bottom = 48, 8, 24, 40
    pw, ph = width - left - right, height - top - bottom
    y = lambda v: top + (hi - v) / (hi - lo) * ph  # noqa: E731
    bw = pw / max(1, len(vals))
    parts = [f'<svg class="chart" role="img" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{left}" y="14" class="ttl">{_e(title)}</text>']
    for t in _ticks(lo, hi):
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(t):.1f}" y2="{y(t):.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{y(t) + 3:.1f}" class="tick" text-anchor="end">{t:g}</text>')
    parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="axis"/>')
    for k, (lab, v) in enumerate(zip(labels, vals)):
        x = left + k * bw
        extra = f" — {note[k]}" if note is not None and note[k] else ""
        if v is None:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{y(0) - 3:.1f}" class="tick" text-anchor="middle">n/a'
                         f'<title>{_e(lab)}: not defined{_e(extra)}</title></text>')
        else:
            y0, y1 = sorted((y(0), y(v)))
            cls = "pos" if v >= 0 else "neg"
            parts.append(f'<rect x="{x + 0.15 * bw:.1f}" y="{y0:.1f}" width="{0.7 * bw:.1f}" '
                         f'height="{max(0.5, y1 - y0):.1f}" class="{cls}"><title>{_e(lab)}: {v:.3g}{_e(extra)}'
                         f'</title></rect>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{top + ph + 14}" class="tick" text-anchor="middle">'
                     f'{_e(lab)}</text>')
    parts.append(f'<text x="12" y="{top + ph / 2:.1f}" class="lab" transform="rotate(-90 12 {top + ph / 2:.1f})" '
                 f'text-anchor="middle">{_e(ylabel)}</text></svg>')
    return "".join(parts)


def scatter(x, y, *, title: str, xlabel: str, ylabel: str, width: int = 360, height: int = 320,
            identity: bool = True) -> str:
    """Points (x, y) with equal axes and the y = x line (a perfect copy lies on it)."""
    pts = [(float(a), float(b)) for a, b in zip(x, y) if math.isfinite(float(a)) and math.isfinite(float(b))]
    vals = [v for p in pts for v in p] or [0.0, 1.0]
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    left, right, top, bottom = 52, 10, 24, 40
    pw, ph = width - left - right, height - top - bottom
    sx = lambda v: left + (v - lo) / (hi - lo) * pw  # noqa: E731
    sy = lambda v: top + (hi - v) / (hi - lo) * ph  # noqa: E731
    parts = [f'<svg class="chart" role="img" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{left}" y="14" class="ttl">{_e(title)}</text>']
    for t in _ticks(lo, hi):
        parts.append(f'<line x1="{sx(t):.1f}" x2="{sx(t):.1f}" y1="{top}" y2="{top + ph}" class="grid"/>'
                     f'<text x="{sx(t):.1f}" y="{top + ph + 14}" class="tick" text-anchor="middle">{t:g}</text>'
                     f'<line x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{sy(t) + 3:.1f}" class="tick" text-anchor="end">{t:g}</text>')
    if identity:
        parts.append(f'<line x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" y2="{sy(hi):.1f}" class="ident"/>')
    for a, b in pts:
        parts.append(f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="2" class="pt"><title>{a:.4g}, {b:.4g}'
                     f'</title></circle>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" class="lab" text-anchor="middle">{_e(xlabel)}</text>'
                 f'<text x="12" y="{top + ph / 2:.1f}" class="lab" transform="rotate(-90 12 {top + ph / 2:.1f})" '
                 f'text-anchor="middle">{_e(ylabel)}</text></svg>')
    return "".join(parts)


def _blues(u: float) -> str:
    """White (0) to dark blue (1)."""
    u = min(1.0, max(0.0, u))
    r, g, b = (int(round(255 + (c - 255) * u)) for c in (8, 48, 107))
    return f"#{r:02x}{g:02x}{b:02x}"


def tile_layers(layers, *, cell: int = 14, max_width: int = 1100) -> str:
    """One grid per layer, a square per tile shaded by its utilisation (0 white … 1 dark blue); empty sites hatched."""
    if not layers:
        return ""
    out = []
    for L in layers:
        nx, ny = L["nx"], L["ny"]
        c = max(3, min(cell, max_width // max(1, nx)))
        w, h = nx * c + 2, ny * c + 2
        parts = [f'<figure class="layer"><svg class="chart" role="img" aria-label="layer {L["layer"]} tile '
                 f'utilisation" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">']
        for y in range(ny):
            for x in range(nx):
                u, t = L["utilisation"][y][x], L["tiles"][y][x]
                if u is None:
                    parts.append(f'<rect x="{1 + x * c}" y="{1 + y * c}" width="{c - 1}" height="{c - 1}" '
                                 f'class="empty"/>')
                else:
                    parts.append(f'<rect x="{1 + x * c}" y="{1 + y * c}" width="{c - 1}" height="{c - 1}" '
                                 f'fill="{_blues(u)}" data-tile="{t}"><title>tile {t} (layer {L["layer"]}, y {y}, '
                                 f'x {x}): utilisation {u:.3f}</title></rect>')
        used = [u for row in L["utilisation"] for u in row if u is not None]
        mean = sum(used) / len(used) if used else 0.0
        parts.append(f'</svg><figcaption>layer {L["layer"]}: {len(used)} tiles, mean utilisation '
                     f'{mean:.3f}</figcaption></figure>')
        out.append("".join(parts))
    return ('<div class="layers">' + "".join(out) + '</div><p class="small">Each square is a tile at its position '
            'in the layer; shade = programmed cells ÷ rows·cols (white 0, dark blue 1); hatched: no tile.</p>')


__all__ = ["bar_chart", "scatter", "tile_layers"]
