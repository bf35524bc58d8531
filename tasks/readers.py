"""Input formats: one reader per format, a byte stream in, items out (an article record, a reject,
or a URL to fetch). Nothing here raises for bad input, and nothing here fetches.

A raw record is a dict with `text`, `external_id` and `input_path`, and any of `title`, `source`,
`url`, `published` (string or datetime), `date_method`, `description`, `authors`, `language`,
`fetched_at`, `extraction_method`, `layout` ("wire" for hand-written wire copy, "extracted" for
web text).

Line-based formats (JSONL, CSV) and WARC files say where each item ends (`Item.end`), so a later
run can go on from there when the file has grown; other formats are read whole, up to max_bytes.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import logging
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from tasks.fetch import FEED_TYPES, HTML_TYPES, TEXT_TYPES, domain
from tasks.reasons import reject

RECORD_FIELDS = ("id", "url", "title", "text", "source", "published", "authors", "description",
                 "language")
_URL_LINE = re.compile(r"^\s*(?:#.*)?$|^\s*[a-zA-Z][a-zA-Z0-9+.-]*://\S+\s*$")
_FEED_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)


@dataclass(frozen=True)
class Item:
    """What a reader found: one record, one reject or one URL, and where it ends in the stream."""

    record: dict | None = None
    reject: dict | None = None
    url: str | None = None
    end: int | None = None  # byte offset after this item; None where a format cannot resume
    skipped: int = 0        # records of the stream passed over (WARC requests, images, ...)


@dataclass(frozen=True)
class Options:
    """What readers need from the settings."""

    max_bytes: int = 5_000_000
    min_chars: int = 200
    columns: tuple[tuple[str, str], ...] = ()  # field -> CSV/JSONL column, e.g. ("text", "body")

    def column(self, field: str) -> str:
        return dict(self.columns).get(field, field)


# ---------------------------------------------------------------------------------------------
# text


def decode(data: bytes) -> str:
    """Return `data` as text; raise UnicodeDecodeError or ValueError (binary) when it is not text."""
    if b"\x00" in data[:8192]:
        raise ValueError("NUL bytes: binary data")
    return data.decode("utf-8-sig")


def split_front_matter(text: str) -> tuple[dict, str]:
    """Return (metadata, body) of a text that may start with a `---` key: value block."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---"), None)
    if end is None:
        return {}, text
    meta: dict = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in RECORD_FIELDS and key not in ("id", "text") and value.strip():
            meta[key] = value.strip().strip('"').strip("'")
    if "authors" in meta:
        meta["authors"] = [a.strip() for a in meta["authors"].split(",") if a.strip()]
    return meta, "\n".join(lines[end + 1:])


def url_list(text: str) -> list[str] | None:
    """Return the URLs of a URL-list text (one a line, # comments), or None if it is not one."""
    lines = text.splitlines()
    if not lines or not all(_URL_LINE.match(line) for line in lines):
        return None
    urls = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return urls or None


def wire_record(text: str, *, origin: str, external_id: str) -> dict:
    """Return the record of a wire-layout text with optional front matter."""
    meta, body = split_front_matter(text)
    if meta.get("published"):
        meta["date_method"] = "metadata"
    return {**meta, "external_id": external_id, "input_path": origin, "text": body,
            "extraction_method": "wire", "layout": "wire"}


def read_text(data: bytes, *, origin: str, url: str | None = None) -> Iterator[Item]:
    """A wire-layout text file, or a URL list."""
    try:
        text = decode(data)
    except ValueError as err:
        reason = "encoding" if isinstance(err, UnicodeDecodeError) else "binary"
        yield Item(reject=reject(origin, reason, f"{origin}: {err}", external_id=url or origin))
        return
    urls = url_list(text)
    if urls is not None:
        for listed in urls:
            yield Item(url=listed)
        return
    yield Item(record=wire_record(text, origin=origin, external_id=url or origin))


# ---------------------------------------------------------------------------------------------
# JSONL and CSV exports


def mapped_record(obj: dict, *, origin: str, where: str, options: Options, method: str) -> dict:
    """Return the record of one JSONL object or CSV row, reading field f from its mapped column."""
    def field(name: str):
        value = obj.get(options.column(name))
        return value.strip() if isinstance(value, str) else value

    record = {key: field(key) for key in ("title", "source", "url", "published", "description",
                                          "language")
              if isinstance(field(key), str) and field(key)}
    authors = field("authors")
    if isinstance(authors, str):
        authors = [a for a in re.split(r"\s*[;|]\s*", authors) if a]
    if isinstance(authors, list):
        record["authors"] = [a.strip() for a in authors if isinstance(a, str) and a.strip()]
    if record.get("published"):
        record["date_method"] = "metadata"
    external_id = field("id")
    record["external_id"] = str(external_id) if external_id not in (None, "") else where
    record["input_path"] = origin
    record["text"] = obj.get(options.column("text"))
    record["extraction_method"] = method
    record["layout"] = "wire"
    return record


def _lines(stream: BinaryIO, start: int, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """Yield (line number, line or None when over `limit` bytes, offset after it) from `start`.
    Only whole lines count for the offset: a last line without its newline ends at its start."""
    stream.seek(start)
    number = 0
    position = start
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        too_long = len(line) > limit and not line.endswith(b"\n")
        while too_long and not line.endswith(b"\n"):
            line = stream.readline(1 << 20)  # skip the rest of an oversized line
            if not line:
                break
        end = stream.tell()
        complete = line.endswith(b"\n")
        yield number, None if too_long else line, end if complete else position
        position = end


def read_jsonl(stream: BinaryIO, *, origin: str, options: Options, start: int = 0,
               ) -> Iterator[Item]:
    """A JSONL export: one article a line, only `text` required."""
    first_line = 0 if start == 0 else None
    for number, line, end in _lines(stream, start, options.max_bytes):
        where = f"{origin}:{number}" if start == 0 else f"{origin}@{end}"
        if line is None:
            yield Item(reject=reject(origin, "too_large", f"{where}: a line over "
                                     f"{options.max_bytes:,} bytes", external_id=where), end=end)
            continue
        if not line.strip():
            yield Item(end=end)
            continue
        try:
            obj = json.loads(line.decode("utf-8-sig" if number - 1 == first_line else "utf-8"))
        except UnicodeDecodeError as err:
            yield Item(reject=reject(origin, "encoding", f"{where}: {err}", external_id=where),
                       end=end)
            continue
        except (json.JSONDecodeError, RecursionError) as err:
            detail = "nested too deeply" if isinstance(err, RecursionError) else str(err)
            yield Item(reject=reject(origin, "bad_json", f"{where}: {detail}", external_id=where),
                       end=end)
            continue
        if not isinstance(obj, dict):
            yield Item(reject=reject(origin, "bad_json", f"{where}: a JSON {type(obj).__name__}, "
                                     "not an object", external_id=where), end=end)
            continue
        record = mapped_record(obj, origin=origin, where=where, options=options, method="jsonl")
        if not isinstance(record["text"], str):
            yield Item(reject=reject(origin, "empty", f"{where}: no string field "
                                     f"{options.column('text')!r}",
                                     external_id=record["external_id"]), end=end)
            continue
        yield Item(record=record, end=end)


def read_csv(stream: BinaryIO, *, origin: str, options: Options, start: int = 0,
             ) -> Iterator[Item]:
    """A CSV export with a header row, columns mapped by the options."""
    stream.seek(0)
    header_line = stream.readline(options.max_bytes)
    header_end = stream.tell()
    try:
        names = next(csv.reader([header_line.decode("utf-8-sig")]), [])
    except (UnicodeDecodeError, csv.Error) as err:
        yield Item(reject=reject(origin, "bad_csv", f"{origin}: unreadable header ({err})"))
        return
    text_column = options.column("text")
    if text_column not in names:
        found = ", ".join(names) or "none"
        yield Item(reject=reject(origin, "bad_csv", f"{origin}: no text column {text_column!r} "
                                 f"(columns: {found}); map it with --text-column"))
        return
    position = max(start, header_end)
    lines = _lines(stream, position, options.max_bytes)
    ends: list[int] = []
    numbers: list[int] = []

    def decoded() -> Iterator[str]:
        for number, line, end in lines:
            numbers.append(number)
            ends.append(end)
            yield "" if line is None else line.decode("utf-8", errors="replace")

    reader = csv.reader(decoded(), strict=True)  # an unclosed quote is an error, not a cell
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield Item(reject=reject(origin, "bad_csv", f"{origin}: {err}"), end=ends[-1])
            continue
        where = f"{origin}:{numbers[-1] + 1}" if start <= header_end else f"{origin}@{ends[-1]}"
        if len(row) > len(names):
            yield Item(reject=reject(origin, "bad_csv", f"{where}: {len(row) - len(names)} cells "
                                     "more than the header names", external_id=where), end=ends[-1])
            continue
        if not any(cell.strip() for cell in row):
            yield Item(end=ends[-1])
            continue
        obj = dict(zip(names, row, strict=False))
        yield Item(record=mapped_record(obj, origin=origin, where=where, options=options,
                                        method="csv"), end=ends[-1])


# ---------------------------------------------------------------------------------------------
# the web's formats: HTML pages, RSS/Atom feeds, WARC files


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


def _all_stopwords():
    """trafilatura's jt_stoplist_init, as share_stopwords gives it: a trie, not a tuple."""
    import marisa_trie
    import trafilatura.external as external
    from justext.utils import get_stoplist, get_stoplists

    external.JT_STOPLIST = marisa_trie.Trie(word.lower() for language in get_stoplists()
                                            for word in get_stoplist(language))
    return external.JT_STOPLIST


def share_stopwords() -> None:
    """Keep the stopwords trafilatura's jusText fallback uses on a page whose language it is not
    told in 2 MB instead of 33. trafilatura keeps the words of jusText's 100 languages as a tuple,
    and jusText makes a lower-cased frozenset of that tuple: 154,484 words held twice, 33 MB of a
    run's memory from its first web page on. jusText only asks whether a word is among them, so
    one trie of the lower-cased words, which jusText takes as it is, classifies every paragraph
    the same way (a test compares the text). Idempotent; leaves trafilatura alone when its
    internals are not the ones this was made for."""
    import justext.core
    import marisa_trie
    import trafilatura.external as external

    if getattr(external, "jt_stoplist_init", None) is _all_stopwords:
        return
    original = getattr(justext.core, "define_stoplist", None)
    if not hasattr(original, "cache_clear") or not hasattr(external, "JT_STOPLIST"):
        return

    def define_stoplist(stoplist):
        return stoplist if isinstance(stoplist, marisa_trie.Trie) else original(stoplist)

    define_stoplist.cache_clear = original.cache_clear  # trafilatura.meta.reset_caches calls it
    justext.core.define_stoplist = define_stoplist
    external.jt_stoplist_init = _all_stopwords
    if external.JT_STOPLIST is not None and not isinstance(external.JT_STOPLIST, marisa_trie.Trie):
        external.JT_STOPLIST = None  # a tuple built before: the next page builds the trie


def extract_html(body: bytes | str, *, url: str | None, origin: str, min_chars: int,
                 ) -> tuple[dict | None, dict | None]:
    """Return (record, None) with the main text and metadata of an HTML page, or (None, reject)."""
    import htmldate
    import trafilatura

    share_stopwords()
    try:
        document = trafilatura.bare_extraction(
            body, url=url, with_metadata=True, include_comments=False,
            date_extraction_params={"extensive_search": False, "original_date": True})
    except (RecursionError, ValueError) as err:  # lxml on pathological nesting
        return None, reject(origin, "bad_html", f"{origin}: cannot parse the page ({err})"[:300],
                            external_id=url or origin)
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


def read_html(data: bytes, *, origin: str, options: Options, url: str | None = None,
              ) -> Iterator[Item]:
    """One HTML page: its main text and metadata."""
    record, bad = extract_html(data, url=url, origin=origin, min_chars=options.min_chars)
    yield Item(record=record, reject=bad)


def html_to_text(fragment: str) -> str:
    """Return the text of an HTML fragment (a feed summary), one block element a line."""
    from lxml import etree
    from lxml import html as lxml_html

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
    import feedparser

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


def read_feed(data: bytes, *, origin: str) -> Iterator[Item]:
    """An RSS/Atom feed: one record per item."""
    records, rejects = parse_feed(data, origin=origin)
    for bad in rejects:
        yield Item(reject=bad)
    for record in records:
        yield Item(record=record)


def read_warc(stream: BinaryIO, *, origin: str, options: Options, start: int = 0,
              ) -> Iterator[Item]:
    """A WARC file (.warc or .warc.gz, as Common Crawl's CC-NEWS ships them): each HTML response
    record is a page with its URL and crawl date; every other record is skipped and counted."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    stream.seek(start)
    while (byte := stream.read(1)) in (b"\r", b"\n"):
        pass  # an uncompressed WARC's records end in blank lines: start at the next record
    stream.seek(-len(byte), 1)
    records = ArchiveIterator(stream)
    skipped = 0
    try:
        for record in records:
            if record.format != "warc" or not record.rec_type:  # warcio reads any text as an
                # old ARC record, and a truncated file as a record without a type
                yield Item(reject=reject(origin, "bad_warc", f"{origin}: no WARC record at byte "
                                         f"{records.get_record_offset()} (truncated, or not WARC)"),
                           skipped=skipped)
                return
            url = record.rec_headers.get_header("WARC-Target-URI")
            content_type = (record.http_headers.get_header("Content-Type", "") if
                            record.http_headers else "").split(";")[0].strip().lower()
            status = record.http_headers.get_statuscode() if record.http_headers else None
            if record.rec_type != "response" or content_type not in HTML_TYPES or status != "200":
                skipped += 1
                records.read_to_end()
                continue
            body = record.content_stream().read(options.max_bytes + 1)
            end = records.get_record_offset() + records.get_record_length()
            where = url or f"{origin}@{records.get_record_offset()}"
            if len(body) > options.max_bytes:
                yield Item(reject=reject(origin, "too_large", f"{where}: a page over "
                                         f"{options.max_bytes:,} bytes", external_id=where),
                           end=end, skipped=skipped)
                skipped = 0
                continue
            page, bad = extract_html(body, url=url, origin=origin, min_chars=options.min_chars)
            if page:
                page["fetched_at"] = _warc_date(record.rec_headers.get_header("WARC-Date"))
            yield Item(record=page, reject=bad, end=end, skipped=skipped)
            skipped = 0
    except (ArchiveLoadFailed, EOFError, OSError, zlib.error, ValueError) as err:
        yield Item(reject=reject(origin, "bad_warc", f"{origin}: {err}"[:300]), skipped=skipped)
        return
    if skipped:
        yield Item(skipped=skipped)


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(
            tzinfo=None)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# choosing a reader

TEXT_SUFFIXES = {".txt", ".md", ".urls"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
CSV_SUFFIXES = {".csv"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
WARC_SUFFIXES = {".warc"}
FORMATS = {**dict.fromkeys(TEXT_SUFFIXES, "text"), **dict.fromkeys(JSONL_SUFFIXES, "jsonl"),
           **dict.fromkeys(CSV_SUFFIXES, "csv"), **dict.fromkeys(HTML_SUFFIXES, "html"),
           **dict.fromkeys(FEED_SUFFIXES, "feed"), **dict.fromkeys(WARC_SUFFIXES, "warc")}
STREAMED = {"jsonl", "csv", "warc"}  # read line by line or record by record, resumable


def format_of(name: str) -> tuple[str | None, bool]:
    """Return (format, gzipped) for a file name; format None when newsner does not read it."""
    suffixes = [s.lower() for s in Path(name).suffixes[-2:]]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    return (FORMATS.get(suffixes[-1]) if suffixes else None), gzipped


def format_of_body(body: bytes, *, name: str, content_type: str | None) -> str:
    """Return the format of a fetched body, by its content type, its start and its name."""
    if content_type in FEED_TYPES or looks_like_feed(body):
        return "feed"
    if content_type in TEXT_TYPES:
        return "text"
    fmt, _ = format_of(name)
    return fmt if fmt in ("jsonl", "csv", "warc") else "html"


def read_document(data: bytes, fmt: str, *, origin: str, options: Options,
                  url: str | None = None) -> Iterator[Item]:
    """Read a whole document (a file read at once, or a fetched body) of format `fmt`."""
    if b"\x00" in data[:8192] and fmt not in ("warc",):
        yield Item(reject=reject(origin, "binary", f"{origin}: NUL bytes: binary data",
                                 external_id=url or origin))
        return
    if fmt == "feed":
        yield from read_feed(data, origin=origin)
    elif fmt == "html":
        yield from read_html(data, origin=origin, options=options, url=url)
    elif fmt in ("jsonl", "csv", "warc"):
        reader = {"jsonl": read_jsonl, "csv": read_csv, "warc": read_warc}[fmt]
        for item in reader(io.BytesIO(data), origin=origin, options=options):
            yield Item(record=item.record, reject=item.reject, url=item.url, skipped=item.skipped)
    else:
        yield from read_text(data, origin=origin, url=url)


def release_caches() -> None:
    """Give back what HTML extraction caches (dates, URLs, lines, jusText's stopwords) for the
    stages after reading to reuse; a run calls this when its reading is done. Nothing to do when
    no page was extracted."""
    if "trafilatura" not in sys.modules:
        return
    from trafilatura.meta import reset_caches

    quiet = logging.getLogger("htmldate.meta")  # it logs an error for charset caches it lacks
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # (setLevel, not .level: it also clears the cached checks)
    try:
        reset_caches()
    finally:
        quiet.setLevel(level)
    import trafilatura.external as external

    external.JT_STOPLIST = None  # rebuilt, once, by the next page that needs it
