"""Sources: what a run reads, the manifest that lets it skip what it read before, and reading a
chunk at a time from where the last chunk stopped."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tasks.fetch import FetchPolicy
from tasks.readers import Options, read_warc
from tasks.sources import Reading, discover, manifest_key, plan_sources, read_all, read_chunk

READING = Reading(options=Options(min_chars=20), policy=FetchPolicy())


def _jsonl(path: Path, first: int, last: int, *, append: bool = False) -> None:
    with path.open("a" if append else "w") as out:
        for n in range(first, last):
            out.write(json.dumps({"id": f"a{n}", "text": f"Article number {n} is about Kim."}) + "\n")


def _plan(paths, manifest=None, full=False):
    files, urls = discover(paths)
    return plan_sources(files, urls, manifest or {}, full=full)


def _manifest_after(plan) -> dict:
    """The manifest rows a run that read `plan` whole would store."""
    read = read_all(plan, READING)
    return {key: {**row, "run_id": "r"} for key, row in read.manifest.items()}


def test_chunks_resume_where_the_last_one_stopped_and_add_up_to_a_whole_read(tmp_path):
    _jsonl(tmp_path / "a.jsonl", 0, 7)
    (tmp_path / "b.txt").write_text("Putin spoke in Moscow.\n")
    _jsonl(tmp_path / "c.jsonl", 7, 12)
    plan = _plan([tmp_path])
    chunks, position = [], (0, 0)
    while position is not None:
        chunk = read_chunk(plan, position, READING, budget=3)
        assert len(chunk.records) <= 3
        chunks.append([r["external_id"] for r in chunk.records])
        position = chunk.next
    assert [len(c) for c in chunks] == [3, 3, 3, 3, 1]
    read = [i for c in chunks for i in c]
    assert read == [r["external_id"] for r in read_all(plan, READING).records]
    assert read == [*(f"a{n}" for n in range(7)), str(tmp_path / "b.txt"),
                    *(f"a{n}" for n in range(7, 12))]


def test_a_chunk_ends_at_its_character_budget_so_long_articles_make_smaller_chunks(tmp_path):
    """A chunk's cost downstream follows its text: it ends with the record that reaches `chars`
    characters, whatever the record budget, and the chunks still add up to a whole read."""
    with (tmp_path / "a.jsonl").open("w") as out:
        for n, length in enumerate([600, 600, 600, 100, 100, 100, 100, 600, 100]):
            out.write(json.dumps({"id": f"a{n}", "text": (f"Kim spoke {n}. " * 60)[:length]})
                      + "\n")
    plan = _plan([tmp_path])

    def chunked(**budget) -> list[list[str]]:
        chunks, position = [], (0, 0)
        while position is not None:
            chunk = read_chunk(plan, position, READING, **budget)
            assert chunk.n_chars == sum(len(r["text"]) for r in chunk.records)
            chunks.append([r["external_id"] for r in chunk.records])
            position = chunk.next
        return chunks

    assert chunked(budget=100, chars=1_000) == [["a0", "a1"], ["a2", "a3", "a4", "a5", "a6"],
                                                ["a7", "a8"]]
    assert chunked(budget=4, chars=1_000) == [["a0", "a1"], ["a2", "a3", "a4", "a5"],
                                              ["a6", "a7", "a8"]]
    assert chunked(budget=100) == [[f"a{n}" for n in range(9)]]  # no character budget


def test_an_unchanged_file_is_skipped_without_being_read(tmp_path):
    path = tmp_path / "a.jsonl"
    _jsonl(path, 0, 3)
    manifest = _manifest_after(_plan([tmp_path]))
    again = _plan([tmp_path], manifest)
    assert again.sources == () and again.n_unchanged == 1
    assert read_all(again, READING).records == []
    assert [s.location for s in _plan([tmp_path], manifest, full=True).sources] == [str(path)]


def test_a_grown_jsonl_file_is_read_from_where_the_last_run_stopped(tmp_path):
    path = tmp_path / "a.jsonl"
    _jsonl(path, 0, 3)
    manifest = _manifest_after(_plan([tmp_path]))
    assert manifest[manifest_key(path)]["read_to"] == path.stat().st_size
    _jsonl(path, 3, 5, append=True)
    grown = _plan([tmp_path], manifest)
    assert grown.sources[0].start == manifest[manifest_key(path)]["read_to"]
    assert [r["external_id"] for r in read_all(grown, READING).records] == ["a3", "a4"]


def test_a_changed_file_is_read_again_from_the_start(tmp_path):
    path = tmp_path / "a.jsonl"
    _jsonl(path, 0, 3)
    manifest = _manifest_after(_plan([tmp_path]))
    _jsonl(path, 10, 14)  # rewritten, longer: its first bytes are not the ones read before
    changed = _plan([tmp_path], manifest)
    assert changed.sources[0].start == 0
    assert [r["external_id"] for r in read_all(changed, READING).records] == [
        "a10", "a11", "a12", "a13"]


def test_a_line_without_its_newline_is_read_again_once_it_is_whole(tmp_path):
    path = tmp_path / "a.jsonl"
    _jsonl(path, 0, 2)
    with path.open("a") as out:
        out.write(json.dumps({"id": "half", "text": "A line still being written."}))
    first = read_all(_plan([tmp_path]), READING)
    assert [r["external_id"] for r in first.records] == ["a0", "a1", "half"]
    manifest = {k: {**row, "run_id": "r"} for k, row in first.manifest.items()}
    with path.open("a") as out:
        out.write("\n")
    _jsonl(path, 2, 3, append=True)
    again = read_all(_plan([tmp_path], manifest), READING)
    assert [r["external_id"] for r in again.records] == ["half", "a2"]  # "half" dedupes by hash


def test_a_grown_csv_file_is_read_from_where_it_stopped_with_its_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,text\nc1,"Kim spoke, at length."\nc2,Putin listened.\n')
    manifest = _manifest_after(_plan([tmp_path]))
    with path.open("a") as out:
        out.write('c3,"Seoul answered,\nin two lines."\n')
    records = read_all(_plan([tmp_path], manifest), READING).records
    assert [(r["external_id"], r["text"]) for r in records] == [
        ("c3", "Seoul answered,\nin two lines.")]


def _warc(path: Path, pages: list[tuple[str, str]], *, gzip: bool = True) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        writer.write_record(writer.create_warc_record(
            "https://news.example/", "warcinfo", payload=io.BytesIO(b"software: test")))
        for url, body in pages:
            writer.write_record(writer.create_warc_record(
                url, "request", payload=io.BytesIO(f"GET {url} HTTP/1.1\r\n\r\n".encode())))
            kind = "image/png" if url.endswith(".png") else "text/html; charset=utf-8"
            headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body.encode()), http_headers=headers))


def _page(title: str) -> str:
    body = " ".join(f"{title} sentence {n} about Kim Jong-un and Vladimir Putin." for n in range(8))
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}" \
           "</p></article></body></html>"


@pytest.mark.parametrize("gzip", [True, False])
def test_a_warc_file_gives_each_html_response_as_a_page_and_counts_the_rest(tmp_path, gzip):
    path = tmp_path / ("crawl.warc.gz" if gzip else "crawl.warc")
    _warc(path, [("https://news.example/a", _page("First")), ("https://news.example/logo.png",
                                                               "PNG"),
                 ("https://news.example/b", _page("Second"))], gzip=gzip)
    with path.open("rb") as stream:
        items = list(read_warc(stream, origin=str(path), options=Options(min_chars=20)))
    pages = [i.record for i in items if i.record]
    assert [(p["url"], p["title"]) for p in pages] == [("https://news.example/a", "First"),
                                                      ("https://news.example/b", "Second")]
    assert all(p["fetched_at"] is not None for p in pages)
    assert sum(i.skipped for i in items) == 5  # warcinfo, three requests, the image
    # every page says where it ends: reading from there gives the pages after it
    with path.open("rb") as stream:
        rest = [i.record["url"] for i in read_warc(stream, origin=str(path),
                                                   options=Options(min_chars=20),
                                                   start=items[0].end) if i.record]
    assert rest == ["https://news.example/b"]


def test_a_grown_warc_file_is_read_from_its_last_whole_record(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    _warc(path, [("https://news.example/a", _page("First"))])
    manifest = _manifest_after(_plan([tmp_path]))
    more = tmp_path / "more.warc.gz"
    _warc(more, [("https://news.example/b", _page("Second"))])
    with path.open("ab") as out:
        out.write(more.read_bytes())
    more.unlink()
    records = read_all(_plan([tmp_path], manifest), READING).records
    assert [r["url"] for r in records] == ["https://news.example/b"]


def test_a_damaged_warc_file_is_a_reject(tmp_path):
    path = tmp_path / "broken.warc.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    read = read_all(_plan([tmp_path]), READING)
    assert read.records == [] and [r["reason"] for r in read.rejects] == ["bad_warc"]


def test_symlink_loops_and_hidden_entries_are_not_followed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("Kim spoke.")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("no")
    assert discover([tmp_path]) == ([tmp_path / "a" / "one.txt"], [])


def test_a_file_that_vanishes_before_it_is_read_is_an_unreadable_reject(tmp_path):
    path = tmp_path / "gone.txt"
    path.write_text("Kim spoke.")
    plan = _plan([tmp_path])
    path.unlink()
    read = read_all(plan, READING)
    assert read.records == []
    assert [(r["reason"], r["input_path"]) for r in read.rejects] == [("unreadable", str(path))]


def test_a_file_that_vanishes_between_plan_and_read_is_rejected_as_unreadable(tmp_path):
    gone, kept, locked = tmp_path / "gone.txt", tmp_path / "kept.txt", tmp_path / "locked.txt"
    for path in (gone, kept, locked):
        path.write_text(f"Kim Jong-un met Vladimir Putin in Moscow ({path.stem}).")
    plan = _plan([tmp_path])
    gone.unlink()  # deleted after the plan saw it
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # root reads anything: only the vanished file is tested
            locked.chmod(0o644)
            expected = {"gone.txt": "unreadable"}
        else:
            expected = {"gone.txt": "unreadable", "locked.txt": "unreadable"}
        read = read_all(plan, READING)
    finally:
        locked.chmod(0o644)
    assert {Path(r["input_path"]).name: r["reason"] for r in read.rejects} == expected
    assert "No such file" in next(r["detail"] for r in read.rejects
                                  if r["input_path"].endswith("gone.txt"))
    assert {Path(r["input_path"]).name for r in read.records} == {"kept.txt"} | (
        set() if "locked.txt" in expected else {"locked.txt"})


def test_a_run_reads_a_small_first_chunk_then_whole_ones_and_misses_nothing(tmp_path):
    """NER's workers wait for the first chunk: it is a quarter of the others, then the chunks
    resume where it stopped."""
    from tasks.ingest import ingest_chunk
    from tasks.settings import Settings
    from tasks.sources import plan_paths
    from tasks.warehouse import Warehouse

    path = tmp_path / "wire.jsonl"
    path.write_text("".join(json.dumps({"id": f"s{n}", "title": f"Story {n}",
                                        "text": f"Story {n}: Kim Jong-un met Vladimir Putin in "
                                                f"Vladivostok on day {n} of the talks."}) + "\n"
                            for n in range(22)))
    warehouse = Warehouse(tmp_path / "w")
    plan = plan_paths([str(path)], lambda keys: {})

    def run(settings: Settings, name: str) -> list[int]:
        staging, position, part, read = warehouse.staging(name), (0, 0), 0, []
        while position is not None:
            counts = ingest_chunk.fn(warehouse, staging, name, plan, position, part, settings,
                                     model_language="en")
            position = counts["next"]
            read.append(counts["n_inputs"])
            part += 1
        stored = staging.read("articles", columns=["external_id"])["external_id"].to_pylist()
        assert sorted(stored) == sorted(f"s{n}" for n in range(22))
        return read

    assert run(Settings(warehouse=warehouse.root, chunk_size=8), "by-records") == [2, 8, 8, 4]
    # a story has 77 or 79 characters: 400 of them end a chunk at its sixth story, before its
    # eighth (the first chunk: 100 at the second)
    assert run(Settings(warehouse=warehouse.root, chunk_size=8, chunk_chars=400),
               "by-characters") == [2, 6, 6, 6, 2]


def test_a_run_gives_back_the_html_extraction_caches_when_its_reading_is_done(tmp_path):
    """trafilatura keeps caches (lines, dates, jusText's stoplists) for as long as the process
    lives; a run's reading ends, and the memory of the stages after it, by emptying them."""
    from trafilatura.utils import line_processing

    from tasks.ingest import ingest_chunk
    from tasks.settings import Settings
    from tasks.sources import plan_paths
    from tasks.warehouse import Warehouse

    for n in range(2):
        (tmp_path / f"page{n}.html").write_text(
            f"<html><head><title>Talks {n}</title></head><body><article><h1>Talks {n}</h1>"
            + "".join(f"<p>Kim Jong-un met Vladimir Putin in Vladivostok on day {d} of talks "
                      f"{n}, and they spoke at length about the railway.</p>" for d in range(8))
            + "</article></body></html>")
    warehouse = Warehouse(tmp_path / "w")
    settings = Settings(warehouse=warehouse.root, chunk_size=4)  # the first chunk: one page
    plan = plan_paths([str(tmp_path / "page0.html"), str(tmp_path / "page1.html")],
                      lambda keys: {})
    staging, position, part, cached = warehouse.staging("test"), (0, 0), 0, []
    while position is not None:
        position = ingest_chunk.fn(warehouse, staging, "test", plan, position, part, settings,
                                   model_language="en")["next"]
        cached.append(line_processing.cache_info().currsize)
        part += 1
    assert len(cached) == 2 and cached[0] > 0 and cached[-1] == 0
    assert staging.read("articles", columns=["title"])["title"].to_pylist() == [
        "Talks 0", "Talks 1"]


JUSTEXT_PAGE = """
import justext.core
import trafilatura.external as external
from tasks import readers

prose = ("Kim Jong-un met Vladimir Putin in Vladivostok on the {n}th day of the talks, and the "
         "two leaders spoke at length about the railway that the two of them would build "
         "between their countries in the years to come.")
# a short article beside a long list: trafilatura asks jusText, whose stopwords decide the text
page = ("<html><body><main><article><h1>Talks</h1><p>"
        + "The short lead of the story, told in one line here. " * 3 + "</p></article></main><ul>"
        + "".join(f"<li>{prose.format(n=n)}</li>" for n in range(12)) + "</ul></body></html>")

def text():
    return readers.extract_html(page, url=None, origin="page", min_chars=20)[0]["text"]

share = readers.share_stopwords
readers.share_stopwords = lambda: None
plain, kept = text(), external.JT_STOPLIST  # trafilatura as it comes
readers.share_stopwords = share
shared = text()
words = external.JT_STOPLIST
assert type(kept) is tuple and len(set(kept)) == len(words), (type(kept), len(words))
assert justext.core.define_stoplist(words) is words  # one copy: jusText takes it as it is
readers.release_caches()  # trafilatura.meta imported after the change: its cache_clear works
assert external.JT_STOPLIST is None
again = text()
assert type(external.JT_STOPLIST) is type(words)
print(plain == shared == again, len(plain), len(shared), len(again))
"""


def test_the_jusText_fallback_keeps_one_copy_of_its_stopwords_and_extracts_the_same_text(
        tmp_path):
    """trafilatura's jusText fallback held the stopwords of 100 languages twice (33 MB of a run
    that reads web pages); one copy must classify the paragraphs exactly as before. In a fresh
    process: what trafilatura holds and extracts as it comes, then with one copy."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = tmp_path / "justext_page.py"
    script.write_text(JUSTEXT_PAGE)
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "True", done.stdout
