"""`newsner report`: one self-contained HTML page (inline SVG charts, no scripts, no network)
with top entities, timelines of the top movers, a map of the places in the news, the most quoted
people, the entities whose tone moved most, a co-occurrence network and data-quality figures."""

from __future__ import annotations

import math
from datetime import date
from html import escape
from pathlib import Path

from tasks.gazetteer import country_shapes
from tasks.warehouse import Warehouse, load_sql, query

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#4b5563")
LABEL_COLOURS = {"PERSON": "#2563eb", "ORG": "#16a34a", "GPE": "#dc2626", "LOC": "#d97706",
                 "NORP": "#7c3aed", "FAC": "#0891b2"}


def bar_chart(title: str, rows: list[tuple[str, float, str | None]], *, chart_id: str,
              width: int = 640) -> str:
    """Return an SVG horizontal bar chart of (label, value, colour) rows."""
    if not rows:
        return _empty(title, chart_id)
    bar, gap = 20, 6
    longest = max(len(str(label)) for label, _, _ in rows)
    left = min(max(longest * CHAR_WIDTH + 16, 120), MAX_LABEL_WIDTH)  # labels fit in the margin
    fits = int((left - 16) / CHAR_WIDTH)
    height = 40 + len(rows) * (bar + gap)
    top = max(value for _, value, _ in rows) or 1
    parts = [_svg_open(chart_id, width, height, title)]
    for i, (label, value, colour) in enumerate(rows):
        y = 30 + i * (bar + gap)
        length = (width - left - 60) * value / top
        shown = shorten(str(label), fits)
        parts.append(
            f'<text class="label" x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(shown)}'
            f'<title>{escape(str(label))}</title></text>'
            f'<rect class="bar" x="{left}" y="{y}" width="{length:.1f}" height="{bar}" '
            f'fill="{colour or PALETTE[0]}"><title>{escape(str(label))}: {value:g}</title></rect>'
            f'<text x="{left + length + 6:.1f}" y="{y + 15}">{value:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


# The widest a 12 px system-ui character is drawn (capitals, "W"): a label of n characters fits in
# n * CHAR_WIDTH pixels. Labels longer than the margin allows end in an ellipsis (full in a tooltip).
CHAR_WIDTH = 7.5
MAX_LABEL_WIDTH = 340


def shorten(label: str, fits: int) -> str:
    """Return `label` cut to `fits` characters with an ellipsis, or as it is when it fits."""
    return label if len(label) <= fits else label[: max(fits - 1, 1)].rstrip() + "…"


def line_chart(title: str, series: dict[str, list[tuple[date, int]]], *, chart_id: str,
               width: int = 640, height: int = 280) -> str:
    """Return an SVG line chart, one polyline per named series of (day, value) points."""
    points = [p for values in series.values() for p in values]
    if not points:
        return _empty(title, chart_id)
    first, last = min(p[0] for p in points), max(p[0] for p in points)
    span = max((last - first).days, 1)
    top = max(p[1] for p in points) or 1
    left, right, bottom, top_pad = 40, 160, 30, 30
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    parts = [_svg_open(chart_id, width, height, title),
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
             f'y2="{height - bottom}" stroke="#999"/>',
             f'<text x="{left}" y="{height - 8}">{first.isoformat()}</text>',
             f'<text x="{width - right}" y="{height - 8}" text-anchor="end">{last.isoformat()}'
             f'</text><text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{top}</text>']
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(
            f"{left + plot_w * (d - first).days / span:.1f},{top_pad + plot_h * (1 - v / top):.1f}"
            for d, v in sorted(values))
        dots = "".join(f'<circle cx="{xy.split(",")[0]}" cy="{xy.split(",")[1]}" r="3" '
                       f'fill="{colour}"/>' for xy in coords.split())
        key_y = top_pad + 18 * i
        parts.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{coords}"><title>{escape(name)}</title></polyline>{dots}'
                     f'<rect class="key" x="{width - right + 8}" y="{key_y - 5}" width="16" '
                     f'height="4" fill="{colour}"/>'
                     f'<text class="legend" x="{width - right + 30}" y="{key_y + 1}">'
                     f'{escape(shorten(name, int((right - 34) / CHAR_WIDTH)))}'
                     f'<title>{escape(name)}</title></text>')
    parts.append("</svg>")
    return "".join(parts)


def network_chart(title: str, nodes: dict[str, str], edges: list[tuple[str, str, int]], *,
                  chart_id: str, width: int = 760, size: int = 520) -> str:
    """Return an SVG network: nodes (id -> label) on a circle, edges weighted by shared count."""
    if not edges:
        return _empty(title, chart_id)
    ids = sorted(nodes)
    centre, middle, radius = width / 2, size / 2 + 10, size / 2 - 50
    pos = {node: (centre + radius * math.cos(2 * math.pi * i / len(ids)),
                  middle + radius * math.sin(2 * math.pi * i / len(ids)))
           for i, node in enumerate(ids)}
    heaviest = max(w for _, _, w in edges)
    parts = [_svg_open(chart_id, width, size + 20, title)]
    for a, b, weight in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     f'stroke="#64748b" stroke-opacity="0.6" '
                     f'stroke-width="{1 + 5 * weight / heaviest:.1f}"><title>{escape(nodes[a])} – '
                     f'{escape(nodes[b])}: {weight}</title></line>')
    for node in ids:
        x, y = pos[node]
        anchor = "start" if x >= centre else "end"
        dx = 10 if x >= centre else -10
        parts.append(f'<circle class="node" cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{PALETTE[0]}"/>'
                     f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">'
                     f'{escape(nodes[node])}</text>')
    parts.append("</svg>")
    return "".join(parts)


MAP_WIDTH, MAP_HEIGHT = 760, 400
MAP_NORTH, MAP_SOUTH = 84.0, -58.0  # latitudes shown: Antarctica left out


def _project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular projection of (lon, lat) onto the map's plot area (under its title)."""
    lat = min(max(lat, MAP_SOUTH), MAP_NORTH)
    x = (lon + 180.0) / 360.0 * MAP_WIDTH
    y = 24 + (MAP_NORTH - lat) / (MAP_NORTH - MAP_SOUTH) * (MAP_HEIGHT - 60)
    return x, y


def map_chart(title: str, countries: dict[str, tuple[str, int]],
              places: list[tuple[str, float, float, int]],
              shapes: dict[str, tuple[tuple[tuple[float, float], ...], ...]], *,
              chart_id: str) -> str:
    """Return an SVG world map: countries shaded by mentions (ISO2 -> (name, n)), places drawn as
    circles whose area follows their mentions ((name, lat, lon, n)), over a graticule."""
    if not countries and not places:
        return _empty(title, chart_id)
    parts = [_svg_open(chart_id, MAP_WIDTH, MAP_HEIGHT, title)]
    for lon in range(-180, 181, 30):
        (x, y0), (_, y1) = _project(lon, MAP_NORTH), _project(lon, MAP_SOUTH)
        parts.append(f'<line class="graticule" x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" '
                     f'y2="{y1:.1f}" stroke="#e5e7eb"/>')
    for lat in range(-30, 81, 30):
        (x0, y), (x1, _) = _project(-180, lat), _project(180, lat)
        parts.append(f'<line class="graticule" x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" '
                     f'y2="{y:.1f}" stroke="#e5e7eb"/>')
    top = max((n for _, n in countries.values()), default=1)
    for code, rings in sorted(shapes.items()):
        path = " ".join("M" + " L".join("{:.1f},{:.1f}".format(*_project(lon, lat))
                                        for lon, lat in ring) + "Z" for ring in rings)
        name, n = countries.get(code, (None, 0))
        if n:
            share = math.log1p(n) / math.log1p(top)
            fill = f"rgb({round(254 - 34 * share)},{round(202 - 164 * share)},{round(202 - 164 * share)})"
            parts.append(f'<path class="country" data-code="{code}" d="{path}" fill="{fill}" '
                         f'stroke="#fff" stroke-width="0.5"><title>{escape(name or code)}: {n:,} '
                         f'mentions</title></path>')
        else:
            parts.append(f'<path class="land" d="{path}" fill="#e5e7eb" stroke="#fff" '
                         f'stroke-width="0.5"/>')
    biggest = max((n for *_, n in places), default=1)
    for name, lat, lon, n in places:
        x, y = _project(lon, lat)
        r = 2.5 + 9 * math.sqrt(n / biggest)
        parts.append(f'<circle class="place" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="#1d4ed8" '
                     f'fill-opacity="0.6" stroke="#1e3a8a"><title>{escape(name)}: {n:,} mentions'
                     f'</title></circle>')
    ranked = sorted(countries.items(), key=lambda kv: (-kv[1][1], kv[0]))[:5]
    legend = " · ".join(f"{escape(name or code)} {n:,}" for code, (name, n) in ranked)
    parts.append(f'<rect x="8" y="{MAP_HEIGHT - 28}" width="12" height="12" fill="rgb(220,38,38)"/>'
                 f'<text class="legend" x="26" y="{MAP_HEIGHT - 18}">more mentions (countries: '
                 f'{legend})</text>'
                 f'<circle cx="14" cy="{MAP_HEIGHT - 6}" r="4" fill="#1d4ed8" fill-opacity="0.6"/>'
                 f'<text class="legend" x="26" y="{MAP_HEIGHT - 2}">cities and regions, area by '
                 f'mentions</text></svg>')
    return "".join(parts)


def _svg_open(chart_id: str, width: int, height: int, title: str) -> str:
    return (f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}"><text class="title" x="4" y="16">{escape(title)}</text>')


def _empty(title: str, chart_id: str) -> str:
    return (_svg_open(chart_id, 640, 60, title)
            + '<text x="4" y="44" class="empty">no data yet</text></svg>')


def quoted_table(rows: list[tuple[str, int, str]]) -> str:
    """Return the most quoted people as an HTML table: name, quotes, and a sample quote."""
    if not rows:
        return '<section id="quoted"><h2>Most quoted people</h2><p class="empty">no data yet</p></section>'
    body = "".join(f"<tr><td>{escape(name)}</td><td class=\"n\">{n:,}</td>"
                   f"<td>{escape(shorten(quote, 240))}</td></tr>" for name, n, quote in rows)
    return ('<section id="quoted"><h2>Most quoted people</h2><table><thead><tr><th>person</th>'
            f'<th>quotes</th><th>a quote</th></tr></thead><tbody>{body}</tbody></table></section>')


def render(warehouse: Warehouse, *, top: int = 15, movers: int = 5, pairs: int = 25) -> str:
    """Return the report page for `warehouse`."""
    def rows(name: str, params=None):
        return query(warehouse, load_sql(f"report_{name}"), params)[1]

    totals = dict(zip(("articles", "mentions", "entities", "runs", "duplicates", "other_language"),
                      rows("totals")[0], strict=True))
    top_rows = [(f"{name} ({label})", n, LABEL_COLOURS.get(label))
                for name, label, n in rows("top", {"limit": top})]
    series: dict[str, list[tuple[date, int]]] = {}
    for name, day, n in rows("movers", {"limit": movers}):
        series.setdefault(name, []).append((day, n))
    country_rows = rows("map_countries")
    map_countries = {code: (name, n) for code, name, n, *_ in country_rows}
    days = [(first, last) for *_, first, last in country_rows if first]
    period = (f"30 days to the latest article: {min(f for f, _ in days)} to "
              f"{max(lt for _, lt in days)}" if days else "every article; none has a date")
    map_places = [(name, lat, lon, n) for name, _, lat, lon, n in rows("map_places", {"limit": 40})]
    quoted = rows("quoted", {"limit": 10})
    tone_rows = [(f"{name} ({change:+.2f}; now {now:+.2f})", abs(change),
                  "#16a34a" if change > 0 else "#dc2626")
                 for name, change, now, *_ in rows("tone_movers", {"limit": 10})]
    edge_rows = rows("pairs", {"limit": pairs})
    nodes = {a: na for a, na, *_ in edge_rows} | {b: nb for _, _, b, nb, _ in edge_rows}
    edges = [(a, b, n) for a, _, b, _, n in edge_rows]
    charts = [
        bar_chart("Most mentioned entities", top_rows, chart_id="top-entities"),
        line_chart("Top movers: mentions per day", series, chart_id="movers"),
        map_chart(f"Places in the news ({period})", map_countries,
                  map_places, country_shapes(), chart_id="map"),
        bar_chart("Tone moved most: latest 7 days against the 23 before (green: warmer)",
                  tone_rows, chart_id="tone-movers"),
        network_chart("Strongest co-occurrences (shared sentences)", nodes, edges,
                      chart_id="network"),
        bar_chart("Rejects by reason", [(r, n, "#dc2626") for r, n in rows("rejects")],
                  chart_id="rejects"),
        bar_chart("Articles by language", [(lang or "unknown", n, "#0891b2")
                                           for lang, n in rows("languages")], chart_id="languages"),
        bar_chart("Articles by extraction method", [(m, n, "#7c3aed")
                                                    for m, n in rows("methods")],
                  chart_id="methods"),
    ]
    figures = "".join(f"<figure>{chart}</figure>" for chart in charts[:3]) + quoted_table(quoted) \
        + "".join(f"<figure>{chart}</figure>" for chart in charts[3:])
    summary = " · ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in totals.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newsner report</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; color: #111827; background: #fff; }}
figure {{ margin: 0 0 24px; }} svg text {{ font: 12px system-ui, sans-serif; fill: #111827; }}
svg text.title {{ font-weight: 600; font-size: 14px; }} svg text.empty {{ fill: #6b7280; }}
h2 {{ font-size: 14px; margin: 0 0 8px; }} table {{ border-collapse: collapse; margin: 0 0 24px; }}
td, th {{ text-align: left; padding: 3px 10px 3px 0; vertical-align: top; max-width: 560px; }}
td.n {{ text-align: right; }} p.empty {{ color: #6b7280; }}
</style></head><body>
<h1>newsner report</h1>
<p id="totals">{escape(summary)}</p>
{figures}
</body></html>
"""


def write_report(warehouse: Warehouse, output: Path) -> Path:
    """Write the report page to `output` and return it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(warehouse), encoding="utf-8")
    return output
