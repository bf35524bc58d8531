"""`make bench-pipeline` on a tiny corpus (the seeds): it runs, and writes the JSON its table comes
from. The benchmark's figures are not checked here: the suite never times anything."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow


def test_make_bench_pipeline_runs_on_a_tiny_corpus_and_writes_its_json(tmp_path):
    out = tmp_path / "pipeline.json"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")  # never the project's own server or home
    done = subprocess.run(["make", "--no-print-directory", "bench-pipeline", "TINY=1",
                           f"OUT={out}"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    [scale] = results["scales"]
    seeds = len(list(SEEDS.glob("*.txt")))
    assert scale["scale"] == 1 and scale["articles"] == seeds + 1 + 3  # + the one-article runs
    for run in ("baseline", "baseline_numpy_blas", "newsner", "rerun", "one_article",
                "one_article_with_server"):
        assert scale[run]["returncode"] == 0, run
        assert scale[run]["seconds"] > 0 and scale[run]["peak_rss_mb"] > 0, run
    assert len(scale["one_article_with_server"]["each"]) == 3
    assert scale["speed_vs_baseline"] == round(
        scale["baseline"]["seconds"] / scale["newsner"]["seconds"], 3)
    assert set(scale["stage_seconds"]) == {"read", "clean", "stories", "stage", "ner", "propagate",
                                           "places", "quotes", "resolve", "aggregate"}
    assert "speed vs nlp.pipe on the same BLAS" in done.stdout  # the table is printed too
    assert f"written to {out}" in done.stdout
