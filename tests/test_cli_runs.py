"""The CLI's promises, each through a real `newsner` process as a user types it: pattern files,
column flags, --no-fetch-linked, reprocess, two runs at once, NER on worker processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

from tests.conftest import ROOT, SEEDS
from tests.test_pipeline import assert_lake_equals_tables
from tests.test_web import Handler, serving

pytestmark = pytest.mark.slow


def newsner(*args: str, server: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=600,
                          env={**os.environ, "PREFECT_API_URL": server, **(env or {})})


def rows(warehouse, sql, params=None):
    with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def test_a_pattern_file_adds_the_names_the_model_misses(prefect_server, tmp_path):
    story = tmp_path / "kursk.txt"
    story.write_text("Ukrainian forces pushed deeper into the Kursk region on Monday, and "
                     "workers at the Sinpo South Shipyard said a new submarine was launched.")
    patterns = tmp_path / "patterns.jsonl"
    shutil.copy(ROOT / "examples" / "patterns.jsonl", patterns)
    with patterns.open("a") as out:
        out.write(json.dumps({"label": "FAC", "pattern": [{"LOWER": "sinpo"}, {"LOWER": "south"},
                                                          {"LOWER": "shipyard"}]}) + "\n")
    plain = newsner("run", str(story), "--warehouse", str(tmp_path / "plain"), server=prefect_server)
    ruled = newsner("run", str(story), "--warehouse", str(tmp_path / "ruled"), "--patterns",
                    str(patterns), server=prefect_server)
    assert plain.returncode == ruled.returncode == 0, ruled.stderr[-2000:]
    # "Kursk region" is matched as LOC (the model says PRODUCT), then named as the place "Kursk"
    wanted = {("Kursk", "LOC"), ("Sinpo South Shipyard", "FAC")}
    assert wanted <= set(rows(tmp_path / "ruled", "SELECT text, label FROM mentions"))
    assert not wanted & set(rows(tmp_path / "plain", "SELECT text, label FROM mentions"))


def test_column_flags_map_a_csv_export(prefect_server, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "story,headline,outlet,when,ref\n"
        '"Kim Jong-un met Vladimir Putin in Moscow on Thursday.",Summit,Harbor Wire,'
        "2025-10-02T09:00:00Z,h-1\n"
        '"Seoul protested after Pyongyang fired two missiles.",Missiles,Daily Meridian,'
        "2025-10-03T09:00:00Z,d-7\n")
    done = newsner("run", str(export), "--warehouse", str(tmp_path / "w"), "--text-column",
                   "story", "--title-column", "headline", "--source-column", "outlet",
                   "--published-column", "when", "--id-column", "ref", server=prefect_server)
    assert done.returncode == 0, done.stderr[-2000:]
    assert rows(tmp_path / "w", "SELECT external_id, title, source, published_at::VARCHAR "
                                "FROM articles ORDER BY external_id") == [
        ("d-7", "Missiles", "Daily Meridian", "2025-10-03 09:00:00"),
        ("h-1", "Summit", "Harbor Wire", "2025-10-02 09:00:00")]
    unmapped = newsner("run", str(export), "--warehouse", str(tmp_path / "u"),
                       server=prefect_server)
    assert rows(tmp_path / "u", "SELECT reason FROM rejects") == [("bad_csv",)]
    assert "--text-column" in rows(tmp_path / "u", "SELECT detail FROM rejects")[0][0]
    assert unmapped.returncode == 0


def test_no_fetch_linked_keeps_feed_summaries(prefect_server, tmp_path):
    Handler.hits.clear()
    with serving("127.0.0.1") as base:
        done = newsner("run", f"{base}/feed.rss", "--warehouse", str(tmp_path / "w"),
                       "--allow-private-network", "--no-fetch-linked", server=prefect_server)
        assert done.returncode == 0, done.stderr[-2000:]
        assert Handler.hits["/feed.rss"] == 1 and not Handler.hits["/story/1"]
        assert rows(tmp_path / "w", "SELECT text FROM articles ORDER BY text") == [
            ("Short summary 1.",), ("Short summary 2.",)]
        linked = newsner("run", f"{base}/feed.rss", "--warehouse", str(tmp_path / "l"),
                         "--allow-private-network", server=prefect_server)
        assert linked.returncode == 0 and Handler.hits["/story/1"] == 1


def test_reprocess_from_the_cli_adds_a_models_mentions_and_the_lake_follows(
        prefect_server, tmp_path):
    import spacy

    rules = spacy.blank("en")
    rules.add_pipe("entity_ruler").add_patterns([{"label": "GPE", "pattern": "Pyongyang"}])
    rules.to_disk(tmp_path / "rules")
    warehouse = tmp_path / "w"
    assert newsner("run", str(SEEDS), "--warehouse", str(warehouse),
                   server=prefect_server).returncode == 0
    again = newsner("reprocess", "--model", str(tmp_path / "rules"), "--warehouse", str(warehouse),
                    server=prefect_server)
    assert again.returncode == 0, again.stderr[-2000:]
    by_model = dict(rows(warehouse, "SELECT model, count(*) FROM mentions GROUP BY model"))
    assert by_model[str(tmp_path / "rules")] == rows(
        warehouse, "SELECT count(*) FROM mentions WHERE text = 'Pyongyang' AND model = "
                   "'en_core_web_sm'")[0][0]
    assert rows(warehouse, "SELECT entity_id FROM entities") == [("place:pyongyang",)]
    assert_lake_equals_tables(warehouse)


def test_two_runs_at_once_one_runs_and_the_other_is_told(prefect_server, tmp_path):
    warehouse = tmp_path / "w"
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    release = tmp_path / "go-on"
    log = tmp_path / "first.err"
    with log.open("w") as err:  # the first run holds the warehouse, waiting after its plan
        first = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "run", str(SEEDS), "--warehouse", str(warehouse)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True,
            env={**env, "NEWSNER_FAULT": "plan:done", "NEWSNER_FAULT_ACTION": f"until:{release}"})
    deadline = time.monotonic() + 300
    while "waiting at plan:done" not in log.read_text() and first.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    second = newsner("run", str(SEEDS), "--warehouse", str(warehouse), server=prefect_server)
    release.touch()
    assert first.wait(timeout=600) == 0, log.read_text()[-2000:]
    assert second.returncode == 2, second.stderr[-2000:]
    # the flow run fails with the reason in its log (Prefect's, with its traceback), and the
    # CLI says it in one line
    said = [line for line in second.stderr.splitlines() if line.startswith("newsner: error:")]
    assert len(said) == 1 and "locked by another newsner run" in said[0], second.stderr[-2000:]
    assert rows(warehouse, "SELECT count(*) FROM articles") == [(11,)]
    assert rows(warehouse, "SELECT count(*) FROM runs") == [(1,)]
    other = tmp_path / "other"  # runs on two warehouses go side by side
    both = [subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(SEEDS),
                              "--warehouse", str(w)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for w in (other / "a", other / "b")]
    assert [p.wait(timeout=600) for p in both] == [0, 0]
    assert rows(other / "a", "SELECT count(*) FROM mentions") == rows(
        other / "b", "SELECT count(*) FROM mentions")


def test_four_hundred_articles_on_two_ner_processes_equal_one_process(prefect_server, tmp_path):
    export = tmp_path / "many.jsonl"
    people = ["Kim Jong-un", "Vladimir Putin", "Emmanuel Macron", "Olaf Scholz"]
    with export.open("w") as out:
        for n in range(400):
            out.write(json.dumps({"id": f"n{n}", "text": f"{people[n % 4]} spoke in "
                                  f"{['Moscow', 'Paris', 'Berlin'][n % 3]} on day {n} about "
                                  f"talks with {people[(n + 1) % 4]}. “We are ready for day {n},” "
                                  f"{people[n % 4].split()[-1]} said."}) + "\n")
    two = newsner("run", str(export), "--warehouse", str(tmp_path / "two"), server=prefect_server,
                  env={"NEWSNER_N_PROCESS": "2", "NEWSNER_CHUNK_SIZE": "200"})
    one = newsner("run", str(export), "--warehouse", str(tmp_path / "one"), server=prefect_server,
                  env={"NEWSNER_N_PROCESS": "1"})
    assert two.returncode == one.returncode == 0, two.stderr[-2000:]
    logs = two.stdout + two.stderr
    chunks = [line for line in logs.splitlines() if " - NER: " in line]
    assert len(chunks) == 3, logs[-3000:]  # 50 (a first chunk is a quarter), 200 and 150
    assert all("on 2 worker processes" in line for line in chunks), chunks  # each used both
    query = "SELECT * EXCLUDE (run_id) FROM mentions ORDER BY ALL"
    assert rows(tmp_path / "two", query) == rows(tmp_path / "one", query)
    assert len(rows(tmp_path / "two", query)) >= 800
    for table in ("quotes", "mention_tones"):  # stages after NER also run on the workers
        query = f"SELECT * FROM {table} ORDER BY ALL"
        assert rows(tmp_path / "two", query) == rows(tmp_path / "one", query), table
    assert rows(tmp_path / "two", "SELECT count(*) FROM quotes") == [(400,)]  # no part dropped
    shutil.rmtree(tmp_path / "one")
