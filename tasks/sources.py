"""Sources: what a run reads, and from where.

`plan_sources` turns the paths and URLs a user gives into sources and compares each file with the
warehouse's manifest (`sources`): a file unchanged since it was read is skipped without being
parsed; a grown JSONL, CSV or WARC file is read from where the last run stopped. `read_chunk` then
reads the plan lazily, a bounded number of records at a time, from a position the next call
resumes from; it fetches what URLs the plan and URL lists name (conditional requests: an
unchanged feed costs one 304), and the pages of feed items that carry only a summary.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from tasks.errors import InputError
from tasks.fetch import Fetched, FetchPolicy, Request, fetch_all, is_url
from tasks.readers import (
    STREAMED,
    Item,
    Options,
    format_of,
    format_of_body,
    gunzip,
    read_csv,
    read_document,
    read_jsonl,
    read_warc,
)
from tasks.reasons import reject

FINGERPRINT_BYTES = 64 * 1024
_STREAM_READERS = {"jsonl": read_jsonl, "csv": read_csv, "warc": read_warc}


@dataclass(frozen=True)
class Source:
    """One file or URL to read, and where to start."""

    location: str                # the path as given, or the URL
    kind: str                    # file or url
    fmt: str | None = None       # reader format (files); None for a type newsner does not read
    gzipped: bool = False
    start: int = 0               # byte offset to start at (streamed formats)
    size: int | None = None      # files: size when planned
    mtime_ns: int | None = None
    key: str | None = None       # manifest key: absolute path or URL
    etag: str | None = None      # URLs: validators of the copy read before
    last_modified: str | None = None


@dataclass(frozen=True)
class Plan:
    """The sources a run reads, in order, and what it left out as unchanged."""

    sources: tuple[Source, ...]
    n_unchanged: int = 0
    known_pages: frozenset[str] = frozenset()  # pages of feed items stored before

    @property
    def n_bytes(self) -> int:
        """Bytes of the files still to read (URLs count as 50 kB): how big the run may be."""
        return sum((s.size or 0) - s.start if s.kind == "file" else 50_000 for s in self.sources)


def discover(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Return (files, urls) named by `paths`; directories are walked recursively, sorted, hidden
    entries and symlink loops left out."""
    files: list[Path] = []
    urls: list[str] = []
    for raw in paths:
        if isinstance(raw, str) and is_url(raw):
            urls.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(_walk(path)))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"input path {str(raw)!r} does not exist: give a file, a directory "
                             "or an http(s) URL")
    return list(dict.fromkeys(files)), list(dict.fromkeys(urls))


def _walk(root: Path) -> Iterator[Path]:
    """Yield the files under `root`, sorted, without hidden entries; each real folder once."""
    seen: set[str] = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if not name.startswith(".") and path.is_file():
                yield path


def fingerprint(path: Path, end: int) -> str:
    """Return a hash of the first and last 64 KiB of `path` before byte `end`."""
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        digest.update(handle.read(min(FINGERPRINT_BYTES, end)))
        tail = max(end - FINGERPRINT_BYTES, 0)
        handle.seek(tail)
        digest.update(handle.read(end - tail))  # up to `end`, never past it
    digest.update(str(end).encode())
    return digest.hexdigest()


def manifest_key(path: Path) -> str:
    """Return the manifest key of a file: its absolute path."""
    return str(path.resolve())


def plan_paths(paths: Sequence[str], stored: Callable[[list[str]], dict[str, dict]], *,
               full: bool = False) -> Plan:
    """Return the plan for the inputs `paths` name, given `stored`, which returns the manifest
    rows of the sources whose keys it is given (the warehouse's, in a run)."""
    files, urls = discover(paths)
    return plan_sources(files, urls, stored([manifest_key(f) for f in files] + urls), full=full)


def plan_sources(files: Sequence[Path], urls: Sequence[str], manifest: dict[str, dict], *,
                 full: bool = False) -> Plan:
    """Return the plan for `files` and `urls` (from `discover`), given the manifest rows
    (source -> row) of those sources and of the feed pages read before.

    `full` reads everything again, whatever the manifest says.
    """
    sources, unchanged = [], 0
    for path in files:
        fmt, gzipped = format_of(path.name)
        key = manifest_key(path)
        try:
            stat = path.stat()
        except OSError:
            sources.append(Source(str(path), "file", fmt, gzipped, key=key))
            continue
        source = Source(str(path), "file", fmt, gzipped, size=stat.st_size,
                        mtime_ns=stat.st_mtime_ns, key=key)
        row = None if full or fmt is None else manifest.get(key)
        if row and row["kind"] == "file":
            if (row["size"], row["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
                unchanged += 1
                continue
            resumable = fmt in STREAMED and (not gzipped or fmt == "warc")  # gzip members
            grown = (resumable and row["read_to"]
                     and stat.st_size >= row["read_to"]
                     and fingerprint(path, row["read_to"]) == row["fingerprint"])
            if grown:
                source = replace(source, start=row["read_to"])
        sources.append(source)
    for url in urls:
        row = manifest.get(url) if not full else None
        sources.append(Source(url, "url", key=url, etag=row and row["etag"],
                              last_modified=row and row["last_modified"]))
    pages = frozenset(k for k, row in manifest.items() if row["kind"] == "page")
    return Plan(tuple(sources), unchanged, pages)


@dataclass
class Chunk:
    """What one read of the plan gave: records, rejects, manifest rows, and where to go on."""

    records: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    manifest: dict[str, dict] = field(default_factory=dict)
    next: tuple[int, int] | None = (0, 0)   # (source index, offset); None when the plan is done
    n_skipped_records: int = 0               # records of a stream passed over (WARC)
    n_not_modified: int = 0                  # URLs that answered 304
    n_chars: int = 0                         # characters of the records' text

    def full(self, budget: int, chars: int | None) -> bool:
        """True once the chunk holds `budget` records or `chars` characters of text."""
        return len(self.records) >= budget or chars is not None and self.n_chars >= chars


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _file_row(source: Source, *, read_to: int | None, kind: str = "file") -> dict:
    path = Path(source.location)
    return {"source": source.key, "kind": kind, "size": source.size,
            "mtime_ns": source.mtime_ns, "read_to": read_to,
            "fingerprint": fingerprint(path, read_to) if read_to else None, "read_at": _now()}


def _url_row(fetched: Fetched, kind: str) -> dict:
    return {"source": fetched.url, "kind": kind, "etag": fetched.etag,
            "last_modified": fetched.last_modified, "read_at": fetched.fetched_at or _now()}


@dataclass(frozen=True)
class Reading:
    """How to read: the readers' options, the HTTP policy, and whether to fetch feed pages."""

    options: Options
    policy: FetchPolicy
    fetch_linked: bool | None = None  # None: for feeds fetched from a URL only


def read_chunk(plan: Plan, position: tuple[int, int], reading: Reading, *, budget: int,
               chars: int | None = None) -> Chunk:
    """Read `plan` from `position` (source index, byte offset) until the chunk holds `budget`
    records or `chars` characters of text (the record that crosses it included), so that long
    articles make a chunk of fewer: what a chunk costs downstream follows its text."""
    chunk = Chunk()
    index, offset = position
    pending: list[tuple[str, str]] = []  # (URL, the file that listed it)
    while index < len(plan.sources) and not chunk.full(budget, chars):
        source = plan.sources[index]
        if source.kind == "url":
            pending.append((source.location, source.location))
            index, offset = index + 1, 0
            continue
        done = _read_file(source, offset or source.start, (budget, chars), chunk, pending,
                          reading, plan)
        if done is None:
            index, offset = index + 1, 0
        else:
            offset = done
    _fetch_urls(pending, plan, chunk, reading)
    chunk.next = (index, offset) if index < len(plan.sources) else None
    return chunk


def _read_file(source: Source, offset: int, budget: tuple[int, int | None], chunk: Chunk,
               pending: list[tuple[str, str]], reading: Reading, plan: Plan) -> int | None:
    """Read one file from `offset` into `chunk`, a streamed one until the chunk is full
    (`budget`: records, characters); return the offset to go on from, or None when the file is
    done."""
    origin, options = source.location, reading.options
    if source.fmt is None:
        chunk.rejects.append(reject(origin, "unsupported_type", f"{origin}: "
                                    f"{Path(origin).suffix or 'no suffix'} is not a type newsner "
                                    "reads (text, JSONL, CSV, HTML, RSS/Atom, WARC, URL lists)"))
        return None
    try:
        handle = open(source.location, "rb")  # noqa: SIM115 - closed below, also on errors
    except OSError as err:
        chunk.rejects.append(reject(origin, "unreadable", f"{origin}: {err.strerror or err}"))
        return None
    with handle:
        if source.fmt in STREAMED and not source.gzipped or source.fmt == "warc":
            reader = _STREAM_READERS[source.fmt]
            last = offset
            for item in reader(handle, origin=origin, options=options, start=offset):
                _take(item, chunk, pending, origin)
                last = item.end if item.end is not None else last
                if chunk.full(*budget):
                    chunk.manifest[source.key] = _file_row(source, read_to=last)
                    return last
            chunk.manifest[source.key] = _file_row(source, read_to=last)
            return None
        try:
            data = handle.read(options.max_bytes + 1)
        except OSError as err:
            chunk.rejects.append(reject(origin, "unreadable", f"{origin}: {err.strerror or err}"))
            return None
    if source.gzipped:
        try:
            data = gunzip(data, options.max_bytes)
        except ValueError as err:
            chunk.rejects.append(reject(origin, "encoding", f"{origin}: {err}"))
            return None
    elif len(data) > options.max_bytes:
        chunk.rejects.append(reject(origin, "too_large", f"{origin}: over "
                                    f"{options.max_bytes:,} bytes (NEWSNER_MAX_BYTES)"))
        return None
    listed_before = len(pending)
    items = list(read_document(data, source.fmt, origin=origin, options=options))
    for item in items:
        _take(item, chunk, pending, origin)
    is_list = len(pending) > listed_before
    records = [r for r in chunk.records if r.get("input_path") == origin]
    if source.fmt == "feed" and reading.fetch_linked:
        _fill_from_links(records, chunk, reading, plan)
    chunk.manifest[source.key] = _file_row(source, read_to=None,
                                           kind="url_list" if is_list else "file")
    return None


def _take(item: Item, chunk: Chunk, pending: list[tuple[str, str]], origin: str) -> None:
    if item.record:
        chunk.records.append(item.record)
        chunk.n_chars += len(item.record.get("text") or "")
    if item.reject:
        chunk.rejects.append(item.reject)
    if item.url:
        pending.append((item.url, origin))
    chunk.n_skipped_records += item.skipped


def _fetch_urls(pending: list[tuple[str, str]], plan: Plan, chunk: Chunk,
                reading: Reading) -> None:
    """Fetch the URLs a chunk collected; read what they send (pages, feeds, lists of URLs)."""
    if not pending:
        return
    validators = {s.location: s for s in plan.sources if s.kind == "url"}
    requests = [Request(url, etag=getattr(validators.get(url), "etag", None),
                        last_modified=getattr(validators.get(url), "last_modified", None))
                for url, _ in dict.fromkeys(pending)]
    for fetched in fetch_all(requests, reading.policy):
        if fetched.failure:
            chunk.rejects.append(fetched.failure)
            continue
        if fetched.not_modified:
            chunk.n_not_modified += 1  # the copy read before stands: the manifest keeps its row
            continue
        name = Path((fetched.final_url or fetched.url).split("?")[0]).name or "index.html"
        fmt = format_of_body(fetched.body, name=name, content_type=fetched.content_type)
        records = []
        for item in read_document(fetched.body, fmt, origin=fetched.url, options=reading.options,
                                  url=fetched.final_url):
            if item.url:
                chunk.rejects.append(reject(fetched.url, "unsupported_type", f"{fetched.url}: a "
                                            "list of URLs fetched from a URL is not followed"))
                break
            if item.record:
                item.record.setdefault("fetched_at", fetched.fetched_at)
                records.append(item.record)
            if item.reject:
                chunk.rejects.append(item.reject)
            chunk.n_skipped_records += item.skipped
        chunk.records.extend(records)
        if fmt == "feed" and reading.fetch_linked is not False:
            _fill_from_links(records, chunk, reading, plan)
        chunk.manifest[fetched.url] = _url_row(fetched, "url")


def _fill_from_links(records: list[dict], chunk: Chunk, reading: Reading, plan: Plan) -> None:
    """Replace the text of feed items that carry only a summary with their linked page's text;
    items whose page was stored before are left out."""
    wanted = [r for r in records if r.get("extraction_method") in ("feed-summary", "feed-title")
              and r.get("url")]
    known = [r for r in wanted if r["url"] in plan.known_pages]
    for record in known:
        chunk.records.remove(record)
    wanted = [r for r in wanted if r["url"] not in plan.known_pages]
    fetched = fetch_all([Request(r["url"]) for r in wanted], reading.policy)
    for record, page in zip(wanted, fetched, strict=True):
        if page.failure:
            chunk.rejects.append(page.failure)
            continue
        extracted = None
        for item in read_document(page.body, "html", origin=page.url, options=reading.options,
                                  url=page.final_url):
            extracted = item.record
            if item.reject:
                chunk.rejects.append(item.reject)
        if extracted:
            record.update({
                "text": extracted["text"], "extraction_method": "trafilatura",
                "description": record.get("description") or extracted.get("description"),
                "authors": record.get("authors") or extracted.get("authors"),
                "url": extracted.get("url") or record.get("url"), "fetched_at": page.fetched_at,
                "language": record.get("language") or extracted.get("language")})
            chunk.manifest[page.url] = _url_row(page, "page")


def read_all(plan: Plan, reading: Reading, *, budget: int = 1_000) -> Chunk:
    """Read a whole plan at once (tests, benchmarks): every record, reject and manifest row."""
    whole, position = Chunk(), (0, 0)
    while position is not None:
        chunk = read_chunk(plan, position, reading, budget=budget)
        whole.records += chunk.records
        whole.n_chars += chunk.n_chars
        whole.rejects += chunk.rejects
        whole.manifest.update(chunk.manifest)
        whole.n_skipped_records += chunk.n_skipped_records
        whole.n_not_modified += chunk.n_not_modified
        position = chunk.next
    whole.next = None
    return whole
