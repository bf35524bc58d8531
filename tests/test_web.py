"""URL, feed and HTML ingestion against a local HTTP server: nothing here touches the internet."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tasks.ingest import read_paths as read_all
from tasks.readers import parse_feed, parse_feed_date
from tasks.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
STORY = (FIXTURES / "story.html").read_bytes()


def feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>{base}/story/{i}</link>"
        f"<pubDate>Tue, 28 Oct 2025 0{i}:00:00 GMT</pubDate><description>Short summary {i}."
        f"</description></item>" for i in (1, 2))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbor Wire</title>'
            f"<link>{base}</link>{items}</channel></rss>").encode()


class Handler(BaseHTTPRequestHandler):
    hits: Counter = Counter()
    agents: list = []           # the User-Agent of every request
    in_flight = [0, 0]          # requests being answered now, the most at once
    lock = threading.Lock()
    internal = ""               # base URL of the server standing for an internal address

    def log_message(self, *args):  # keep test output quiet
        pass

    def send(self, status: int, body: bytes = b"", content_type: str = "text/html",
             headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - the name http.server calls
        path = self.path
        self.hits[path] += 1
        self.agents.append(self.headers.get("User-Agent"))
        host, port = self.server.server_address[:2]
        base = f"http://{host}:{port}"
        if path == "/story.html":
            self.send(200, STORY, "text/html; charset=utf-8")
        elif path.startswith("/story/"):  # a page of its own, with its own canonical URL
            page = STORY.replace(b"https://harborwire.example/asia/seoul-tokyo-missile-data",
                                 f"{base}{path}".encode()).replace(
                b"<p>Officials in Pyongyang", f"<p>Page {path} has a paragraph of its own, so the "
                f"two stories differ.</p><p>Officials in Pyongyang".encode())
            self.send(200, page, "text/html; charset=utf-8")
        elif path == "/missing":
            self.send(404, b"not here")
        elif path == "/flaky":
            self.send(500) if self.hits[path] == 1 else self.send(200, STORY)
        elif path == "/broken":
            self.send(503)
        elif path == "/slow":
            time.sleep(1.5)
            self.send(200, STORY)
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            self.send(302, headers={"Location": f"/hop/{left - 1}" if left else "/story.html"})
        elif path == "/big":
            self.send(200, b"<p>" + b"x" * 50_000 + b"</p>")
        elif path == "/photo.png":
            self.send(200, b"\x89PNG....", "image/png")
        elif path == "/feed.rss":
            self.send(200, feed(base), "application/rss+xml")
        elif path == "/internal-feed.rss":  # a feed whose items link to an internal address
            self.send(200, feed(self.internal), "application/rss+xml")
        elif path == "/to-internal":  # a redirect hop to an internal address
            self.send(302, headers={"Location": f"{self.internal}/story.html"})
        elif path == "/drop":  # the connection closes before any answer
            self.close_connection = True
        elif path.startswith("/busy/"):  # takes a while: counts how many are answered at once
            with self.lock:
                self.in_flight[0] += 1
                self.in_flight[1] = max(self.in_flight)
            time.sleep(0.3)
            with self.lock:
                self.in_flight[0] -= 1
            self.send(200, STORY.replace(b"<p>Officials in Pyongyang", f"<p>Page {path}.</p>"
                                         "<p>Officials in Pyongyang".encode()))
        else:
            self.send(404)


@contextmanager
def serving(host: str) -> Iterator[str]:
    httpd = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture()
def server():
    Handler.hits, Handler.agents, Handler.in_flight = Counter(), [], [0, 0]
    with serving("127.0.0.1") as base:
        yield base


@pytest.fixture()
def internal(server, monkeypatch):
    """A second server, on 127.0.0.2, standing for an address inside a private network: these
    tests count 127.0.0.1 (the test server, standing for the web) as public, and only it."""
    import tasks.fetch

    real = tasks.fetch.public
    monkeypatch.setattr(tasks.fetch, "public", lambda address: address == "127.0.0.1"
                        or real(address))
    with serving("127.0.0.2") as base:
        Handler.internal = base
        yield base


# The test server is on this machine: these tests opt in to fetching from it.
SETTINGS = Settings(fetch_timeout=0.5, fetch_retries=2, fetch_max_redirects=3, max_bytes=20_000,
                    fetch_concurrency=2, allow_private_network=True)


def test_a_page_is_fetched_and_extracted_with_its_metadata(server):
    records, rejects = read_all([f"{server}/story.html"], SETTINGS)
    assert rejects == []
    [page] = records
    assert "share real-time warning data" in page["text"] and "Sign up" not in page["text"]
    assert page["title"] == "Seoul and Tokyo agree on missile data sharing"
    assert page["source"] == "Harbor Wire" and page["authors"] == ["Mina Park"]
    assert page["published"].startswith("2025-10-28") and page["date_method"] == "metadata"
    assert page["extraction_method"] == "trafilatura"
    assert Handler.hits["/story.html"] == 1


def test_4xx_is_rejected_without_retry_and_5xx_is_retried(server):
    records, rejects = read_all([f"{server}/missing", f"{server}/flaky"], SETTINGS)
    assert [r["reason"] for r in rejects] == ["http_error"] and "404" in rejects[0]["detail"]
    assert rejects[0]["external_id"] == f"{server}/missing"
    assert Handler.hits["/missing"] == 1
    assert Handler.hits["/flaky"] == 2 and len(records) == 1


def test_a_server_failing_every_attempt_is_rejected_after_bounded_retries(server):
    _, rejects = read_all([f"{server}/broken"], SETTINGS)
    assert [r["reason"] for r in rejects] == ["http_error"]
    assert Handler.hits["/broken"] == SETTINGS.fetch_retries + 1


def test_timeouts_are_retried_then_rejected(server):
    _, rejects = read_all([f"{server}/slow"], Settings(fetch_timeout=0.3, fetch_retries=1,
                                                         allow_private_network=True))
    assert [r["reason"] for r in rejects] == ["timeout"]
    assert Handler.hits["/slow"] == 2


def test_redirect_chains_are_followed_within_the_limit(server):
    records, rejects = read_all([f"{server}/hop/2", f"{server}/hop/9"], SETTINGS)
    assert len(records) == 1 and records[0]["input_path"] == f"{server}/hop/2"
    assert [r["reason"] for r in rejects] == ["too_many_redirects"]


def test_oversized_bodies_other_types_and_schemes_are_rejected(server):
    _, rejects = read_all([f"{server}/big", f"{server}/photo.png", "ftp://127.0.0.1/x"], SETTINGS)
    assert sorted(r["reason"] for r in rejects) == ["bad_content_type", "bad_url", "too_large"]


def test_feed_items_with_only_a_summary_get_their_linked_pages(server):
    records, rejects = read_all([f"{server}/feed.rss"], SETTINGS)
    assert rejects == []
    assert [r["title"] for r in records] == ["Story 1", "Story 2"]
    assert [r["url"] for r in records] == [f"{server}/story/1", f"{server}/story/2"]
    assert all("share real-time warning data" in r["text"] for r in records)
    assert records[0]["published"].isoformat() == "2025-10-28T01:00:00"
    assert records[0]["date_method"] == "feed" and records[0]["source"] == "Harbor Wire"


def test_a_url_list_file_is_fetched_and_its_failures_rejected(server, tmp_path):
    listing = tmp_path / "today.urls"
    listing.write_text(f"# morning list\n{server}/story.html\n\n{server}/missing\n")
    records, rejects = read_all([listing], SETTINGS)
    assert len(records) == 1 and [r["reason"] for r in rejects] == ["http_error"]


def test_feed_files_are_not_fetched_from_unless_asked(server, tmp_path):
    path = tmp_path / "saved.rss"
    path.write_bytes(feed(server))
    records, _ = read_all([path], SETTINGS)
    assert [r["text"] for r in records] == ["Short summary 1.", "Short summary 2."]
    assert sum(Handler.hits.values()) == 0
    records, _ = read_all([path], SETTINGS.model_copy(update={"fetch_linked": True}))
    assert all("warning data" in r["text"] for r in records)


def test_a_malformed_feed_is_a_reject_not_a_crash():
    records, rejects = parse_feed(b"<rss><channel><title>x</title>", origin="bad.rss")
    assert records == [] and rejects[0]["reason"] == "bad_feed"


@pytest.mark.parametrize(
    ("value", "iso"),
    [("Seg, 24 Set 2018 19:42:40 -0300", "2018-09-24T22:42:40"),
     ("Mo, 01 Feb 2016 17:22:00 +0100", "2016-02-01T16:22:00"),
     ("Wed, 31 Jan 2018 07:26:05 GMT", "2018-01-31T07:26:05")],
)
def test_feed_dates_in_other_languages(value, iso):
    assert parse_feed_date(value).isoformat() == iso


@pytest.mark.slow
def test_a_url_run_stores_pages_and_rejects_failures(prefect_server, server, tmp_path):
    from tests.test_pipeline import rows, run

    summary = run([f"{server}/feed.rss", f"{server}/missing"], tmp_path / "w",
                  allow_private_network=True)
    assert summary["n_new_articles"] == 2 and summary["rejects_by_reason"] == {"http_error": 1}
    stored = rows(tmp_path / "w", "SELECT title, extraction_method, date_method FROM articles "
                                  "ORDER BY title")
    assert stored == [("Story 1", "trafilatura", "feed"), ("Story 2", "trafilatura", "feed")]
    # the two pages are one story with a paragraph changed: near-duplicates share a story_id
    assert rows(tmp_path / "w", "SELECT count(DISTINCT story_id) FROM articles") == [(1,)]
    assert rows(tmp_path / "w", "SELECT input_path, reason FROM rejects") == [
        (f"{server}/missing", "http_error")]


OUTSIDE = SETTINGS.model_copy(update={"allow_private_network": False})  # no opt-in


def test_feed_links_and_redirect_hops_to_internal_addresses_are_refused(server, internal):
    records, rejects = read_all([f"{server}/internal-feed.rss", f"{server}/to-internal"], OUTSIDE)
    assert sorted((r["external_id"], r["reason"]) for r in rejects) == sorted([
        (f"{internal}/story/1", "blocked_address"), (f"{internal}/story/2", "blocked_address"),
        (f"{server}/to-internal", "blocked_address")])
    assert "127.0.0.2" in rejects[0]["detail"] and "--allow-private-network" in rejects[0]["detail"]
    assert Handler.hits["/story/1"] == Handler.hits["/story.html"] == 0  # never asked
    assert [r["text"] for r in records] == ["Short summary 1.", "Short summary 2."]


def test_with_the_opt_in_the_same_links_and_hops_are_fetched(server, internal):
    records, rejects = read_all([f"{server}/internal-feed.rss", f"{server}/to-internal"], SETTINGS)
    assert rejects == []
    assert len(records) == 3 and all("warning data" in r["text"] for r in records)
    assert Handler.hits["/story.html"] == 1 and Handler.hits["/story/1"] == 1


def test_loopback_names_and_addresses_are_refused_without_the_opt_in(server):
    port = server.rsplit(":", 1)[1]
    urls = [f"{server}/story.html", f"http://localhost:{port}/story.html",
            f"http://[::ffff:127.0.0.1]:{port}/story.html", "http://169.254.169.254/latest"]
    records, rejects = read_all(urls, OUTSIDE)
    assert records == [] and [r["reason"] for r in rejects] == ["blocked_address"] * 4
    assert sum(Handler.hits.values()) == 0


def test_every_request_says_who_is_asking(server):
    from tasks.fetch import USER_AGENT

    read_all([f"{server}/feed.rss"], SETTINGS)
    assert len(Handler.agents) == 3 and set(Handler.agents) == {USER_AGENT}
    assert USER_AGENT.startswith("newsner/") and "+" in USER_AGENT  # names the project and a URL


def test_fetches_run_concurrently_up_to_the_cap(server):
    urls = [f"{server}/busy/{n}" for n in range(8)]
    started = time.monotonic()
    records, rejects = read_all(urls, SETTINGS.model_copy(update={"fetch_concurrency": 3}))
    assert rejects == [] and len(records) == 8
    assert Handler.in_flight[1] == 3  # never more than the cap, and the cap is used
    assert time.monotonic() - started < 8 * 0.3  # not one after another


def test_retries_wait_longer_each_time(server):
    from tasks.fetch import FetchPolicy, Request, fetch_all

    times: list[float] = []
    real_get = Handler.do_GET

    def timed(handler):
        times.append(time.monotonic())
        real_get(handler)

    Handler.do_GET = timed
    try:
        [result] = fetch_all([Request(f"{server}/broken")], FetchPolicy(
            retries=3, backoff=0.2, allow_private_network=True))
    finally:
        Handler.do_GET = real_get
    assert result.failure["reason"] == "http_error" and len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8, gaps


def test_a_dropped_connection_is_retried_then_rejected_as_network(server):
    _, rejects = read_all([f"{server}/drop"], SETTINGS)
    assert [r["reason"] for r in rejects] == ["network"]
    assert Handler.hits["/drop"] == SETTINGS.fetch_retries + 1
