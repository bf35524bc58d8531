"""Whole-process cost of `newsner run` against plain spaCy on the same texts, at 1x and 4x.

The corpus is built deterministically from ../shared/data: BBC News plus CoNLL-2003 train texts,
dated across 2025 (1x); 4x adds three copies with new ids and shuffled sentences, so nothing is
an exact duplicate. For each scale, one table row: wall time of `newsner run` on a fresh
warehouse (a new process, as a user types it, with Prefect's temporary server) beside
`python -m benchmarks.nlp_baseline` (nlp.pipe, ner + senter, the same number of processes, model
load included), plain and with its matrix products on numpy's BLAS as newsner runs them (like
for like), words/s, peak RSS of each process tree, the rerun with nothing new, one new article
into that warehouse (without and with the project's Prefect server), and seconds per stage.
Then a WARC file of >= 1,000 HTML responses made from the html-dev pages streams through. The
table is printed and written as JSON.

Usage: python -m benchmarks.pipeline [--scales 1,4] [--tiny] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import DATA, ROOT, read_jsonl, require

NEWSNER = [str(Path(sys.executable).parent / "newsner")]
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def build_corpus(folder: Path, scale: int, *, tiny: bool) -> tuple[Path, int]:
    """Write the scale's corpus as one JSONL file; return (path, words)."""
    if tiny:
        texts = [(f"seed-{p.stem}", p.stem.replace("-", " "), p.read_text())
                 for p in sorted((ROOT / "seeds").glob("*.txt"))]
    else:
        bbc = read_jsonl(require(DATA / "bbc-news" / "articles.jsonl"))
        conll = read_jsonl(require(DATA / "conll2003-train" / "docs_train.jsonl"))
        texts = [(d["id"], d.get("title"), d["text"]) for d in bbc]
        texts += [(d["doc_id"], None, d["text"]) for d in conll]
    path = folder / f"corpus-{scale}x.jsonl"
    words = 0
    with path.open("w", encoding="utf-8") as out:
        for copy in range(scale):
            for index, (doc_id, title, text) in enumerate(texts):
                if copy:
                    parts = [s for s in SENTENCE.split(text) if s.strip()]
                    random.Random(f"{doc_id}/{copy}").shuffle(parts)
                    text = "\n".join(parts)
                day = date(2025, 1, 1) + timedelta(days=(index * 7 + copy * 3) % 365)
                words += len(text.split())
                out.write(json.dumps({"id": f"{doc_id}-{copy}", "title": title, "text": text,
                                      "source": f"source-{index % 7}",
                                      "published": f"{day.isoformat()}T08:00:00Z"}) + "\n")
    return path, words


def measured(args: list[str], *, env: dict | None = None) -> dict:
    """Run a command; return its wall time, exit code and the peak RSS of its process tree."""
    import psutil

    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    peak, stop = [0], threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.communicate()[0].decode(errors="replace")
    stop.set()
    sampler.join()
    result = {"seconds": round(time.perf_counter() - start, 1),
              "peak_rss_mb": round(peak[0] / 2**20), "returncode": process.returncode}
    if process.returncode:
        result["output"] = output[-3000:]
    return result


def warehouse_rows(warehouse: Path, sql: str) -> list:
    import duckdb

    with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def one_article(folder: Path, name: str) -> Path:
    path = folder / f"{name}.txt"
    path.write_text(f"---\ntitle: {name}\npublished: 2025-12-30T09:00:00Z\n---\n"
                    f"Vladimir Putin and Kim Jong-un met in Vladivostok ({name}).\n"
                    "Putin said the talks went well, and Kim agreed.\n")
    return path


def run_scale(folder: Path, scale: int, *, tiny: bool, env: dict) -> dict:
    corpus, words = build_corpus(folder, scale, tiny=tiny)
    warehouse = folder / f"warehouse-{scale}x"
    processes = 0 if tiny else (os.cpu_count() or 1)
    baseline_args = [sys.executable, "-m", "benchmarks.nlp_baseline", str(corpus),
                     "--processes", str(max(processes, 1))]
    baseline = measured(baseline_args, env=env)
    same_blas = measured([*baseline_args, "--numpy-blas"], env=env)
    cold = measured([*NEWSNER, "run", str(corpus), "--warehouse", str(warehouse)], env=env)
    rerun = measured([*NEWSNER, "run", str(corpus), "--warehouse", str(warehouse)], env=env)
    one = measured([*NEWSNER, "run", str(one_article(folder, f"one-{scale}")), "--warehouse",
                    str(warehouse)], env=env)
    with_server = project_server_run(folder, scale, warehouse, env)
    stages = json.loads(warehouse_rows(warehouse, "SELECT stage_seconds FROM runs "
                                                  "ORDER BY started_at LIMIT 1")[0][0])
    articles = warehouse_rows(warehouse, "SELECT count(*) FROM articles")[0][0]
    return {"scale": scale, "articles": articles, "words": words, "ner_processes": processes,
            "baseline": baseline, "newsner": cold,
            "speed_vs_baseline": round(baseline["seconds"] / cold["seconds"], 3),
            "baseline_numpy_blas": same_blas,
            "speed_vs_baseline_numpy_blas": round(same_blas["seconds"] / cold["seconds"], 3),
            "newsner_words_per_second": round(words / cold["seconds"]),
            "baseline_words_per_second": round(words / baseline["seconds"]),
            "rerun": rerun, "rerun_share_of_cold": round(rerun["seconds"] / cold["seconds"], 3),
            "one_article": one, "one_article_with_server": with_server,
            "stage_seconds": stages}


SETTLED_CPU = 0.1  # cores a started server's processes use, at most, once its start-up is done


def settled(pid: int, *, seconds: float = 120) -> float:
    """Wait until the process tree of `pid` uses less than SETTLED_CPU of a core over a second,
    so the runs measured then are those of a user whose `make ui` is open, not runs that share
    the cores with whatever the server still does once it first answers (here it was idle at
    once: the wait is in the JSON). Return the seconds waited."""
    import psutil

    start = time.monotonic()
    root = psutil.Process(pid)

    def used() -> float:
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    before = used()
    while time.monotonic() - start < seconds:
        time.sleep(1)
        now = used()
        if now - before < SETTLED_CPU:
            break
        before = now
    return time.monotonic() - start


def project_server_run(folder: Path, scale: int, warehouse: Path, env: dict) -> dict:
    """One new article at a time, three times, while the project's Prefect server (`newsner ui`)
    runs, as a user with `make ui` open runs them: the median run, and each run's seconds."""
    from flows.server import free_port, healthy

    port = free_port()
    ui = subprocess.Popen([*NEWSNER, "ui", "--port", str(port)], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not healthy(f"http://127.0.0.1:{port}/api") and time.monotonic() < deadline:
            time.sleep(0.5)
        waited = settled(ui.pid)
        runs = [measured([*NEWSNER, "run", str(one_article(folder, f"served-{scale}-{n}")),
                          "--warehouse", str(warehouse)], env=env) for n in range(3)]
        median = sorted(runs, key=lambda r: r["seconds"])[1]
        return {**median, "each": [r["seconds"] for r in runs],
                "server_settled_after": round(waited, 1)}
    finally:
        ui.send_signal(2)
        ui.wait(timeout=60)


def warc_file(folder: Path, copies: int) -> Path:
    """Write a WARC file of HTML responses made from the html-dev pages (each page `copies`
    times, with its own URL and a sentence of its own), plus a request record per response."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = sorted(require(DATA / "html-dev" / "html").glob("*.html.gz"))
    path = folder / "pages.warc.gz"
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for copy in range(copies):
            for index, page in enumerate(pages):
                # every paragraph of each copy is its own (a closing line alone is dropped as
                # boilerplate by the extractor, and the copies would be one article)
                html = re.sub(rb"(<p(?:\s[^>]*)?>)", f"\\1Copy {copy} of page {index}: ".encode(),
                              gzip.decompress(page.read_bytes()))
                url = f"https://news.example/{index}/{copy}"
                writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(
                    f"GET /{index}/{copy} HTTP/1.1\r\n\r\n".encode())))
                headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                           protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(
                    url, "response", payload=io.BytesIO(html), http_headers=headers))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4")
    parser.add_argument("--tiny", action="store_true", help="a corpus of the seeds (for tests)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "pipeline.json"))
    args = parser.parse_args()
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    results: dict = {"scales": [], "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="newsner-bench-") as tmp:
        folder = Path(tmp)
        for scale in [int(s) for s in args.scales.split(",")]:
            results["scales"].append(run_scale(folder, scale, tiny=args.tiny, env=env))
        if not args.tiny:
            warc = warc_file(folder, copies=23)
            run = measured([*NEWSNER, "run", str(warc), "--warehouse", str(folder / "warc")],
                           env=env)
            run["responses"] = warehouse_rows(folder / "warc", "SELECT count(*) FROM articles "
                                                               "WHERE fetched_at IS NOT NULL")[0][0]
            results["warc"] = run
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten to {out}")


def print_table(results: dict) -> None:
    rows = [("articles stored", "articles"), ("words", "words")]
    print(f"{'measure':<54}" + "".join(f"{str(s['scale']) + 'x':>14}" for s in results["scales"]))
    for label, key in rows:
        print(f"{label:<54}" + "".join(f"{s[key]:>14,}" for s in results["scales"]))
    lines = [
        ("plain nlp.pipe, whole process (s)", lambda s: s["baseline"]["seconds"]),
        ("newsner run, cold, whole process (s)", lambda s: s["newsner"]["seconds"]),
        ("speed vs nlp.pipe (baseline s / newsner s)", lambda s: s["speed_vs_baseline"]),
        ("nlp.pipe on numpy's BLAS, as newsner runs it (s)",
         lambda s: s["baseline_numpy_blas"]["seconds"]),
        ("speed vs nlp.pipe on the same BLAS", lambda s: s["speed_vs_baseline_numpy_blas"]),
        ("newsner words/s", lambda s: s["newsner_words_per_second"]),
        ("nlp.pipe words/s", lambda s: s["baseline_words_per_second"]),
        ("peak RSS newsner tree (MB)", lambda s: s["newsner"]["peak_rss_mb"]),
        ("peak RSS nlp.pipe tree (MB)", lambda s: s["baseline"]["peak_rss_mb"]),
        ("rerun, nothing new (s)", lambda s: s["rerun"]["seconds"]),
        ("rerun share of cold run", lambda s: s["rerun_share_of_cold"]),
        ("one new article, temporary server (s)", lambda s: s["one_article"]["seconds"]),
        ("one new article, project server up (s, median of 3)",
         lambda s: s["one_article_with_server"]["seconds"]),
        ("  the three runs (s)", lambda s: " ".join(
            f"{x:g}" for x in s["one_article_with_server"].get("each", []))),
    ]
    for label, value in lines:
        print(f"{label:<54}" + "".join(f"{value(s):>14}" for s in results["scales"]))
    stages = sorted({k for s in results["scales"] for k in s["stage_seconds"]})
    for stage in stages:
        print(f"{'seconds: ' + stage:<54}" + "".join(
            f"{s['stage_seconds'].get(stage, ''):>14}" for s in results["scales"]))
    if "warc" in results:
        warc = results["warc"]
        print(f"\nWARC of {warc['responses']:,} HTML responses (and as many request records): "
              f"{warc['seconds']} s, peak RSS {warc['peak_rss_mb']} MB")
    failed = [s for s in results["scales"] for k in ("newsner", "rerun", "one_article")
              if s[k]["returncode"]]
    if failed:
        print("\nsome runs failed: see the JSON file's output fields")


if __name__ == "__main__":
    main()
