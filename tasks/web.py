"""The web edge: HTTP fetching, HTML article extraction and RSS/Atom feed parsing.

Every function returns records or rejects; nothing here raises for bad input.
"""

from __future__ import annotations

import calendar
import re
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser
import htmldate
import httpx
import trafilatura
from lxml import etree
from lxml import html as lxml_html

from tasks.reasons import reject

USER_AGENT = "newsner/0.1 (open news-entity pipeline; +https://pypi.org/project/newsner/)"
HTML_TYPES = {"text/html", "application/xhtml+xml"}
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/xml", "text/xml", "application/x-rss+xml"}
TEXT_TYPES = {"text/plain"}
_FEED_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)


@dataclass(frozen=True)
class FetchPolicy:
    """How the pipeline talks to web servers."""

    timeout: float = 10.0
    retries: int = 2              # extra attempts after a 5xx, a timeout or a dropped connection
    backoff: float = 0.5          # seconds before the first retry; doubles each time
    max_redirects: int = 5
    max_bytes: int = 5_000_000
    concurrency: int = 4
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Fetched:
    """One fetched URL: the body and its type, or the reject that explains the failure."""

    url: str
    final_url: str | None = None
    content_type: str | None = None
    body: bytes | None = None
    failure: dict | None = None


def is_url(value: str) -> bool:
    """Return True when `value` looks like a URL (scheme://...) rather than a path."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value))


def domain(url: str | None) -> str | None:
    """Return the host of `url` without a leading www., or None."""
    host = urlsplit(url).hostname if url else None
    return host[4:] if host and host.startswith("www.") else host


def _failed(url: str, reason: str, detail: str) -> Fetched:
    return Fetched(url=url, failure=reject(url, reason, f"{url}: {detail}", external_id=url))


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(client: httpx.Client, url: str, policy: FetchPolicy) -> Fetched:
    """Fetch one URL under `policy`; retries only 5xx answers, timeouts and dropped connections."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return _failed(url, "bad_url", "only http and https URLs are fetched")
    delay = policy.backoff
    for attempt in range(policy.retries + 1):
        last = attempt == policy.retries
        try:
            with client.stream("GET", url) as response:
                if response.status_code >= 500 and not last:
                    time.sleep(delay)
                    delay *= 2
                    continue
                if response.status_code >= 400:
                    return _failed(url, "http_error", f"HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if content_type and content_type not in HTML_TYPES | FEED_TYPES | TEXT_TYPES:
                    return _failed(url, "bad_content_type", f"content type {content_type!r}")
                body = _read_capped(response, policy.max_bytes)
                if body is None:
                    return _failed(url, "too_large", f"body over {policy.max_bytes:,} bytes")
                return Fetched(url=url, final_url=str(response.url), content_type=content_type,
                               body=body)
        except httpx.TooManyRedirects:
            return _failed(url, "too_many_redirects", f"more than {policy.max_redirects} redirects")
        except httpx.UnsupportedProtocol as err:
            return _failed(url, "bad_url", str(err))
        except httpx.TimeoutException:
            if last:
                return _failed(url, "timeout", f"no answer within {policy.timeout:g} s "
                               f"({policy.retries + 1} attempts)")
        except httpx.TransportError as err:
            if last:
                return _failed(url, "network", f"{type(err).__name__}: {err}")
        time.sleep(delay)
        delay *= 2
    return _failed(url, "http_error", "server error on every attempt")


def fetch_all(urls: list[str], policy: FetchPolicy) -> list[Fetched]:
    """Fetch `urls` concurrently (at most policy.concurrency at a time), results in input order."""
    if not urls:
        return []
    with httpx.Client(timeout=policy.timeout, follow_redirects=True,
                      max_redirects=policy.max_redirects,
                      headers={"User-Agent": policy.user_agent}) as client:
        with ThreadPoolExecutor(max_workers=policy.concurrency) as pool:
            return list(pool.map(lambda u: fetch(client, u, policy), urls))


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Return gzip `data` decompressed; raise ValueError when it is corrupt or too large."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as err:
        raise ValueError(f"corrupt gzip data: {err}") from None
    if len(out) > max_bytes:
        raise ValueError(f"over {max_bytes:,} bytes once decompressed")
    return out


def looks_like_feed(body: bytes) -> bool:
    """Return True when `body` starts like an RSS, Atom or RDF document."""
    return bool(_FEED_START.match(body[:4096].lstrip(b"\xef\xbb\xbf")))


def _split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [a.strip() for a in re.split(r";|\band\b|\|", value) if a.strip()]


def extract_html(body: bytes | str, *, url: str | None, origin: str, min_chars: int,
                 ) -> tuple[dict | None, dict | None]:
    """Return (record, None) with the main text and metadata of an HTML page, or (None, reject)."""
    document = trafilatura.bare_extraction(
        body, url=url, with_metadata=True, include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True})
    text = (document.text if document else "") or ""
    if len(text.strip()) < min_chars:
        return None, reject(origin, "too_little_text",
                            f"{origin}: {len(text.strip())} characters of article text after "
                            f"extraction (minimum {min_chars})", external_id=url or origin)
    date_method = "metadata" if document.date else None
    published = document.date
    if not published:
        published = htmldate.find_date(body, extensive_search=True, url=url)
        date_method = "text" if published else None
    page_url = document.url or url
    return {
        "external_id": url or origin,
        "input_path": origin,
        "text": text,
        "title": document.title,
        "description": document.description,
        "authors": _split_authors(document.author),
        "source": document.sitename or domain(page_url),
        "url": page_url,
        "published": published,
        "date_method": date_method,
        "extraction_method": "trafilatura",
        "layout": "extracted",
        "language": document.language,
    }, None


def html_to_text(fragment: str) -> str:
    """Return the text of an HTML fragment (a feed summary), one block element a line."""
    if "<" not in fragment:
        return fragment
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", fragment)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    return root.text_content()


# Month and weekday names of feeds that write RFC 822 dates in their own language.
_MONTHS = {
    "jan": ["janv", "ene", "jän", "gen"], "feb": ["fev", "fév", "févr", "febr"],
    "mar": ["mär", "mrz", "març", "mars"], "apr": ["abr", "avr"],
    "may": ["mai", "mayo", "mag", "maio"], "jun": ["juin", "giu", "junho"],
    "jul": ["juil", "lug", "julho"], "aug": ["ago", "aoû", "août"],
    "sep": ["set", "sept"], "oct": ["out", "okt", "ott"],
    "nov": [], "dec": ["dez", "dic", "déc"],
}
_MONTH_ALIASES = {alias: en for en, aliases in _MONTHS.items() for alias in aliases}


def _english_month(match: re.Match) -> str:
    word = match.group(0).rstrip(".").lower()
    return _MONTH_ALIASES[word].title() if word in _MONTH_ALIASES else match.group(0)


def parse_feed_date(value: str | None) -> datetime | None:
    """Return a feed date as naive UTC, reading non-English RFC 822 names ("Seg, 24 Set 2018")."""
    if not value:
        return None
    from tasks.clean import parse_published  # one date parser for the whole pipeline

    parsed = parse_published(value)
    if parsed:
        return parsed
    words = re.sub(r"^[^\d,]+,\s*", "", value.strip())  # drop the weekday
    words = re.sub(r"[^\W\d_]+\.?", _english_month, words)
    return parse_published(words)


def _entry_date(entry) -> datetime | None:
    for key in ("published", "updated", "created"):
        if entry.get(f"{key}_parsed"):
            return datetime.fromtimestamp(calendar.timegm(entry[f"{key}_parsed"]), UTC).replace(
                tzinfo=None)
        if parsed := parse_feed_date(entry.get(key)):
            return parsed
    return None


def parse_feed(body: bytes, *, origin: str) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) for the items of an RSS/Atom feed; one record per item."""
    parsed = feedparser.parse(body.lstrip())
    if not parsed.entries:
        problem = parsed.get("bozo_exception") or "no items"
        return [], [reject(origin, "bad_feed", f"{origin}: not a readable feed ({problem})")]
    publisher = (parsed.feed.get("title") or "").strip() or domain(parsed.feed.get("link"))
    records = []
    for index, entry in enumerate(parsed.entries):
        content = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
        summary = entry.get("summary", "") or ""
        body_html = max(content, key=len) if content else summary
        text = html_to_text(body_html).strip()
        method = "feed-content" if content else ("feed-summary" if text else "feed-title")
        title = (entry.get("title") or "").strip() or None
        link = entry.get("link")
        authors = [a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name")]
        published = _entry_date(entry)
        records.append({
            "external_id": entry.get("id") or link or f"{origin}#{index}",
            "input_path": origin,
            "text": text or (title or ""),
            "title": title,
            "description": html_to_text(summary).strip() if content and summary else None,
            "authors": authors,
            "source": publisher or domain(link),
            "url": link,
            "published": published,
            "date_method": "feed" if published else None,
            "extraction_method": method,
            "layout": "extracted",
            "language": entry.get("language") or parsed.feed.get("language"),
        })
    return records, []
