"""The HTML report: charts built from the warehouse, and drawn by a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import pytest

from tasks.report import bar_chart, line_chart, network_chart, write_report
from tests.test_places import placed_warehouse  # noqa: F401 - the hand-checked places corpus
from tests.test_views import warehouse  # noqa: F401 - the hand-checked corpus fixture

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


def test_bar_chart_draws_one_bar_per_row_scaled_to_the_largest():
    svg = bar_chart("t", [("Kim", 10, None), ("Putin", 5, "#000")], chart_id="c")
    widths = [float(w) for w in re.findall(r'class="bar" x="\d+" y="\d+" width="([\d.]+)"', svg)]
    assert len(widths) == 2 and widths[0] == pytest.approx(2 * widths[1])


def test_charts_without_data_say_so():
    assert "no data yet" in bar_chart("t", [], chart_id="c")
    assert "no data yet" in line_chart("t", {}, chart_id="c")
    assert "no data yet" in network_chart("t", {}, [], chart_id="c")


def test_report_holds_every_chart_with_the_warehouse_numbers(warehouse, tmp_path):  # noqa: F811
    html = write_report(warehouse, tmp_path / "report.html").read_text()
    assert len(re.findall(r'<svg id="[\w-]+" class="chart"', html)) == 8
    assert "Lee (PERSON): 32" in html and "Kim (PERSON): 16" in html and "Putin (PERSON): 6" in html
    # a16 is detected Dutch but went through NER; a17 (German) did not: one other-language article
    assert "18 articles · 59 mentions · 5 entities · 1 runs · 0 duplicates · 1 other language" in html
    assert html.count('class="series"') == 5  # a timeline for each of the five entities
    assert 'class="edge"' in html and "http" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")  # nothing is fetched from a network


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium_without_console_errors(warehouse, tmp_path):  # noqa: F811
    page = write_report(warehouse, tmp_path / "report.html")
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r'<svg id="[\w-]+" class="chart"', dom.stdout)) == 8
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    image = screenshot(page, tmp_path)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # not a blank page: text, bars, lines in several colours
    blue = sum(n for n, rgb in colours if rgb == (0x25, 0x63, 0xEB))
    assert blue > 500  # the bars of the top-entities chart are drawn


def screenshot(page, tmp_path, *, height: int = 2400):
    """Return headless Chromium's screenshot of `page` as an RGB image."""
    from PIL import Image

    shot = tmp_path / "report.png"
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'shot-profile'}",
                           f"--window-size=900,{height}", f"--screenshot={shot}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    return Image.open(shot).convert("RGB")


def map_pixels(image) -> tuple[int, int, int]:
    """Return the pixels of a drawn map: (country red, place-circle blue, plain land grey)."""
    colours = image.getcolors(maxcolors=1 << 20)
    red = sum(n for n, (r, g, b) in colours if r > 200 and g < 120 and abs(g - b) < 8)
    blue = sum(n for n, (r, g, b) in colours if b > 150 and b - r > 60)
    grey = sum(n for n, rgb in colours if rgb == (0xE5, 0xE7, 0xEB))
    return red, blue, grey


def assert_map_drawn(stored, tmp_path) -> str:
    """Draw the map of the `stored` warehouse's report alone in headless Chromium; check that
    shaded countries, place circles and plain land are on screen. Return the report page."""
    html = write_report(stored, tmp_path / "report.html").read_text()
    svg = re.search(r'<svg id="map".*?</svg>', html, re.DOTALL).group(0)
    alone = tmp_path / "map.html"
    alone.write_text(f'<!DOCTYPE html><html><body style="margin:0">{svg}</body></html>')
    red, blue, grey = map_pixels(screenshot(alone, tmp_path, height=420))
    assert red > 1_000 and blue > 400 and grey > 3_000, (red, blue, grey)  # legend alone: 144, 120
    return html


def test_long_names_fit_in_the_bar_charts_margin_and_show_whole_in_a_tooltip():
    sec = "Securities and Exchange Commission (ORG)"
    svg = bar_chart("t", [(sec, 3, None), ("Kim (PERSON)", 2, None)], chart_id="c")
    left = float(re.search(r'class="bar" x="([\d.]+)"', svg).group(1))
    assert f">{sec}<title>" in svg and left >= len(sec) * 7.5  # all of it, inside the margin
    very = "The Very Long Name Of An Organisation That Goes On And On Past Any Margin (ORG)"
    svg = bar_chart("t", [(very, 1, None)], chart_id="c")
    shown = re.search(r'class="label"[^>]*>([^<]*)<title>([^<]*)</title>', svg)
    assert shown.group(1).endswith("…") and len(shown.group(1)) * 7.5 <= 340
    assert shown.group(2) == very


def test_each_timeline_has_a_colour_key_beside_its_name():
    svg = line_chart("t", {"Kim": [(date(2025, 1, 1), 1), (date(2025, 1, 2), 3)],
                           "Putin": [(date(2025, 1, 1), 2)], "Lee": [(date(2025, 1, 2), 1)]},
                     chart_id="c")
    strokes = re.findall(r'class="series" fill="none" stroke="(#\w+)"', svg)
    keys = re.findall(r'class="key" x="[\d.]+" y="[\d.]+" width="16" height="4" fill="(#\w+)"', svg)
    names = re.findall(r'class="legend"[^>]*>([^<]*)<title>', svg)
    assert len(set(strokes)) == 3 and keys == strokes and names == ["Kim", "Putin", "Lee"]


def test_the_map_shades_countries_by_mentions_and_draws_places(placed_warehouse, tmp_path):  # noqa: F811
    html = write_report(placed_warehouse, tmp_path / "report.html").read_text()
    fills = dict(re.findall(r'data-code="(\w\w)" d="[^"]+" fill="rgb\((\d+),', html))
    assert set(fills) == {"RU", "US", "FR", "KP"}  # countries with mentions; the rest plain land
    assert int(fills["RU"]) == int(fills["US"]) < int(fills["FR"]) < int(fills["KP"]) + 1
    assert "Russia: 5 mentions" in html and "United States: 5 mentions" in html
    circles = re.findall(r'class="place"[^>]*><title>([^<]*)</title>', html)
    assert sorted(circles) == ["Kentucky: 1 mentions", "Kursk: 1 mentions", "Moscow: 1 mentions",
                               "Paris: 1 mentions", "Paris: 2 mentions", "Pyongyang: 1 mentions",
                               "Texas: 1 mentions"]
    assert "2025-10-01 to 2025-10-02" in html


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_the_map_draws_in_headless_chromium(placed_warehouse, tmp_path):  # noqa: F811
    assert_map_drawn(placed_warehouse, tmp_path)


HOSTILE_NAME = "<script>alert(1)</script> **Kim** [Putin](javascript:x) | Seoul"


def test_names_from_the_news_are_shown_as_written_in_charts_and_run_artifacts():
    from tasks.store import summary_markdown

    svg = bar_chart("t", [(HOSTILE_NAME, 3, None)], chart_id="c")
    svg += network_chart("n", {"a": HOSTILE_NAME, "b": "x"}, [("a", "b", 2)], chart_id="n")
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    summary = {"run_id": "r", "n_inputs": 1, "n_new_articles": 1, "n_mentions": 1, "n_rejects": 0,
               "model": "m", "model_version": "1", "top_entities": [
                   {"name": HOSTILE_NAME, "label": "PERSON", "n_mentions": 1, "n_articles": 1}]}
    markdown = summary_markdown(summary, [(HOSTILE_NAME, "PERSON", 3, 1.0, 2.0)])
    rows = [line for line in markdown.splitlines() if "alert" in line]
    assert len(rows) == 2
    for row in rows:  # every markdown and HTML character escaped: the cells stay where they are
        assert "<script>" not in row and "**Kim**" not in row and "](" not in row
        assert "\\<script\\>alert\\(1\\)\\</script\\> \\*\\*Kim\\*\\* \\[Putin\\]" in row
    assert rows[0].count("|") - rows[0].count("\\|") == 5
    assert rows[1].count("|") - rows[1].count("\\|") == 6
