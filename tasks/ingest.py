"""Ingestion: files, directories and URLs in; raw article records (and rejects) out.

A raw record is a dict with `text`, `external_id` and `input_path`, and any of `title`, `source`,
`url`, `published` (string or datetime), `date_method`, `description`, `authors`,
`extraction_method`, `layout` ("wire" for hand-written wire copy, "extracted" for web text).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.reasons import reject
from tasks.settings import Settings
from tasks.timing import stage_logger
from tasks.web import (
    FEED_TYPES,
    TEXT_TYPES,
    FetchPolicy,
    extract_html,
    fetch_all,
    gunzip,
    is_url,
    looks_like_feed,
    parse_feed,
)

TEXT_SUFFIXES = {".txt", ".md"}
URL_LIST_SUFFIXES = {".urls"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
CSV_SUFFIXES = {".csv"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | URL_LIST_SUFFIXES | JSONL_SUFFIXES | CSV_SUFFIXES
                      | HTML_SUFFIXES | FEED_SUFFIXES)
RECORD_FIELDS = ("id", "url", "title", "text", "source", "published", "authors", "description",
                 "language")
_URL_LINE = re.compile(r"^\s*(?:#.*)?$|^\s*[a-zA-Z][a-zA-Z0-9+.-]*://\S+\s*$")


class InputError(Exception):
    """A user mistake about the inputs (for example a path that does not exist)."""


def discover(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Return (files, urls) named by `paths`; directories are walked recursively, sorted."""
    files: list[Path] = []
    urls: list[str] = []
    for raw in paths:
        if isinstance(raw, str) and is_url(raw):
            urls.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"input path {str(raw)!r} does not exist: give a file, a directory "
                             "or an http(s) URL")
    return list(dict.fromkeys(files)), list(dict.fromkeys(urls))


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


def mapped_record(obj: dict, *, origin: str, where: str, columns: dict[str, str],
                  method: str) -> dict:
    """Return the record of one JSONL object or CSV row, reading field f from column columns[f]."""
    def field(name: str):
        value = obj.get(columns.get(name, name))
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
    record["text"] = obj.get(columns.get("text", "text"))
    record["extraction_method"] = method
    record["layout"] = "wire"
    return record


def read_jsonl(data: bytes, *, origin: str, columns: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) of a JSONL export: one article a line, only `text` required."""
    records, rejects = [], []
    for lineno, line in enumerate(data.splitlines(), start=1):
        where = f"{origin}:{lineno}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8-sig" if lineno == 1 else "utf-8"))
        except UnicodeDecodeError as err:
            rejects.append(reject(origin, "encoding", f"{where}: {err}", external_id=where))
            continue
        except json.JSONDecodeError as err:
            rejects.append(reject(origin, "bad_json", f"{where}: {err}", external_id=where))
            continue
        if not isinstance(obj, dict):
            rejects.append(reject(origin, "bad_json", f"{where}: a JSON {type(obj).__name__}, "
                                  "not an object", external_id=where))
            continue
        record = mapped_record(obj, origin=origin, where=where, columns=columns, method="jsonl")
        if not isinstance(record["text"], str):
            rejects.append(reject(origin, "empty", f"{where}: no string field "
                                  f"{columns.get('text', 'text')!r}",
                                  external_id=record["external_id"]))
            continue
        records.append(record)
    return records, rejects


def read_csv(data: bytes, *, origin: str, columns: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) of a CSV export with a header row, columns mapped by `columns`."""
    text = decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    text_column = columns.get("text", "text")
    if reader.fieldnames is None or text_column not in reader.fieldnames:
        found = ", ".join(reader.fieldnames or []) or "none"
        return [], [reject(origin, "bad_csv", f"{origin}: no text column {text_column!r} "
                           f"(columns: {found}); map it with --text-column")]
    records, rejects = [], []
    try:
        for row in reader:
            where = f"{origin}:{reader.line_num}"
            if None in row:  # more cells than header names
                rejects.append(reject(origin, "bad_csv", f"{where}: {len(row[None])} cells more "
                                      "than the header names", external_id=where))
                continue
            records.append(mapped_record(row, origin=origin, where=where, columns=columns,
                                         method="csv"))
    except csv.Error as err:
        rejects.append(reject(origin, "bad_csv", f"{origin}:{reader.line_num}: {err}"))
    return records, rejects


def read_document(data: bytes, *, origin: str, name: str, settings: Settings,
                  url: str | None = None, content_type: str | None = None,
                  ) -> tuple[list[dict], list[dict], list[str]]:
    """Return (records, rejects, urls to fetch) for one file or fetched body."""
    suffixes = [s.lower() for s in Path(name).suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        try:
            data = gunzip(data, settings.max_bytes)
        except ValueError as err:
            return [], [reject(origin, "encoding", f"{origin}: {err}", external_id=url)], []
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if b"\x00" in data[:8192]:
        return [], [reject(origin, "binary", f"{origin}: NUL bytes: binary data",
                           external_id=url or origin)], []
    if suffix in FEED_SUFFIXES or content_type in FEED_TYPES or looks_like_feed(data):
        records, rejects = parse_feed(data, origin=origin)
        return records, rejects, []
    if suffix in HTML_SUFFIXES or (url and content_type not in TEXT_TYPES):
        record, bad = extract_html(data, url=url, origin=origin, min_chars=settings.min_chars)
        return ([record] if record else []), ([bad] if bad else []), []
    columns = settings.csv_columns
    if suffix in JSONL_SUFFIXES:
        return (*read_jsonl(data, origin=origin, columns=columns), [])
    try:
        if suffix in CSV_SUFFIXES:
            return (*read_csv(data, origin=origin, columns=columns), [])
        text = decode(data)
    except ValueError as err:
        reason = "encoding" if isinstance(err, UnicodeDecodeError) else "binary"
        return [], [reject(origin, reason, f"{origin}: {err}", external_id=url or origin)], []
    urls = url_list(text)
    if urls is not None or suffix in URL_LIST_SUFFIXES:
        return [], [], urls or []
    return [wire_record(text, origin=origin, external_id=url or origin)], [], []


def fetch_policy(settings: Settings) -> FetchPolicy:
    """Return the HTTP policy the settings describe."""
    return FetchPolicy(timeout=settings.fetch_timeout, retries=settings.fetch_retries,
                       max_redirects=settings.fetch_max_redirects, max_bytes=settings.max_bytes,
                       concurrency=settings.fetch_concurrency)


def fetch_documents(urls: list[str], settings: Settings) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) for `urls`: pages extracted, feeds split into items."""
    records, rejects = [], []
    for fetched in fetch_all(urls, fetch_policy(settings)):
        if fetched.failure:
            rejects.append(fetched.failure)
            continue
        got, bad, _ = read_document(fetched.body, origin=fetched.url, name=urlish_name(fetched),
                                    settings=settings, url=fetched.final_url,
                                    content_type=fetched.content_type)
        if settings.fetch_linked is not False:
            got, more_bad = fill_from_links(got, settings)
            bad += more_bad
        records.extend(got)
        rejects.extend(bad)
    return records, rejects


def urlish_name(fetched) -> str:
    """Return a file-like name for a fetched body, so suffix rules apply (…/feed.rss)."""
    return Path(fetched.final_url or fetched.url).name.split("?")[0] or "index.html"


def fill_from_links(records: list[dict], settings: Settings) -> tuple[list[dict], list[dict]]:
    """Replace the text of feed items that carry only a summary with their linked page's text."""
    wanted = [r for r in records if r.get("extraction_method") in ("feed-summary", "feed-title")
              and r.get("url")]
    if not wanted:
        return records, []
    pages, failures = {}, []
    for item, (got, bad) in zip(wanted, _fetch_pages([r["url"] for r in wanted], settings),
                                strict=True):
        if got:
            pages[id(item)] = got
        failures.extend(bad)
    out = []
    for record in records:
        page = pages.get(id(record))
        if page:
            record = {**record, "text": page["text"], "extraction_method": "trafilatura",
                      "description": record.get("description") or page.get("description"),
                      "authors": record.get("authors") or page.get("authors"),
                      "url": page.get("url") or record.get("url")}
        out.append(record)
    return out, failures


def _fetch_pages(urls: list[str], settings: Settings) -> list[tuple[dict | None, list[dict]]]:
    results = []
    for fetched in fetch_all(urls, fetch_policy(settings)):
        if fetched.failure:
            results.append((None, [fetched.failure]))
            continue
        record, bad = extract_html(fetched.body, url=fetched.final_url, origin=fetched.url,
                                   min_chars=settings.min_chars)
        results.append((record, [bad] if bad else []))
    return results


def read_files(files: Sequence[Path], settings: Settings) -> tuple[list[dict], list[dict], list[str]]:
    """Return (records, rejects, urls listed in URL-list files) read from `files`."""
    records, rejects, urls = [], [], []
    for path in files:
        suffixes = {s.lower() for s in path.suffixes[-2:]}
        if not suffixes & (SUPPORTED_SUFFIXES | {".gz"}):
            rejects.append(reject(str(path), "unsupported_type",
                                  f"{path}: {path.suffix or 'no suffix'} is not one of "
                                  f"{', '.join(sorted(SUPPORTED_SUFFIXES | {'.gz'}))}"))
            continue
        try:
            data = path.read_bytes()
        except OSError as err:
            rejects.append(reject(str(path), "unreadable", f"{path}: {err.strerror or err}"))
            continue
        got, bad, listed = read_document(data, origin=str(path), name=path.name, settings=settings)
        if settings.fetch_linked:
            got, more_bad = fill_from_links(got, settings)
            bad += more_bad
        records.extend(got)
        rejects.extend(bad)
        urls.extend(listed)
    return records, rejects, urls


def read_all(paths: Sequence[str], settings: Settings) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) for every file, directory, URL-list and URL in `paths`."""
    files, urls = discover(paths)
    records, rejects, listed = read_files(files, settings)
    fetched, failed = fetch_documents(list(dict.fromkeys(urls + listed)), settings)
    return records + fetched, rejects + failed


@task(name="read-inputs", cache_policy=NO_CACHE, timeout_seconds=3_600)
def read_inputs(paths: list[str], settings: Settings) -> dict:
    """Read every input into raw article records and rejects (under "records" and "rejects")."""
    start = time.perf_counter()
    records, rejects = read_all(paths, settings)
    stage_logger().info("read %d articles, %d rejects", len(records), len(rejects))
    return {"records": records, "rejects": rejects,
            "seconds_read": round(time.perf_counter() - start, 3)}
