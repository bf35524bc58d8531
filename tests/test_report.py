"""The HTML report: charts built from the warehouse, and drawn by a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tasks.report import bar_chart, line_chart, network_chart, write_report
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
    assert len(re.findall(r'<svg id="[\w-]+" class="chart"', html)) == 6
    assert "Lee (PERSON): 32" in html and "Kim (PERSON): 16" in html and "Putin (PERSON): 6" in html
    # a16 is detected Dutch but went through NER; a17 (German) did not: one other-language article
    assert "18 articles · 59 mentions · 5 entities · 1 runs · 0 duplicates · 1 other language" in html
    assert html.count('class="series"') == 5  # a timeline for each of the five entities
    assert 'class="edge"' in html and "http" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")  # nothing is fetched from a network


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium_without_console_errors(warehouse, tmp_path):  # noqa: F811
    from PIL import Image

    page = write_report(warehouse, tmp_path / "report.html")
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r'<svg id="[\w-]+" class="chart"', dom.stdout)) == 6
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    shot = tmp_path / "report.png"
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                           "--window-size=900,1800", f"--screenshot={shot}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # not a blank page: text, bars, lines in several colours
    blue = sum(n for n, rgb in colours if rgb == (0x25, 0x63, 0xEB))
    assert blue > 500  # the bars of the top-entities chart are drawn


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
