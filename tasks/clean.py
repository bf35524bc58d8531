"""Cleaning: raw records in, warehouse `articles` rows (and rejects) out."""

from __future__ import annotations

import email.utils
import hashlib
import re
import unicodedata
from datetime import UTC, datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.reasons import reject
from tasks.warehouse import Staging, to_arrow

# Spaces that are not U+0020, and characters that are invisible in text but break tokens.
_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RUNS_OF_SPACES = re.compile(r" {2,}")
# A trailing byline: "By Guy Birchall", "By Hana Lee and Tomas Reyes", "BY A. SMITH, B. JONES".
_BYLINE = re.compile(r"^(?:by|BY|By)\s+(?P<names>[^\W\d_][^\n]{0,120})$")
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|&|\band\b)\s*")
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’-]*$")


def normalize_text(raw: str) -> str:
    """Return `raw` in NFC with line ends, odd spaces and invisible characters repaired."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _SPACES.sub(" ", text))
    return "\n".join(_RUNS_OF_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def split_paragraphs(text: str) -> list[str]:
    """Return the non-empty lines of normalised wire copy: one paragraph a line."""
    return [line for line in text.split("\n") if line]


def parse_byline(paragraph: str) -> list[str] | None:
    """Return the author names of a "By ..." byline paragraph, or None if it is not one."""
    match = _BYLINE.match(paragraph)
    if not match:
        return None
    names = [n.strip(" .") for n in _AUTHOR_SPLIT.split(match["names"]) if n.strip(" .")]
    if not names or any(not all(_NAME_WORD.match(w) for w in n.split()) for n in names):
        return None
    if any(len(n.split()) > 5 for n in names):
        return None
    return names


def parse_published(value: str | None) -> datetime | None:
    """Return `value` (ISO 8601 or RFC 2822) as a naive UTC datetime, or None if unparseable."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def article_id(text: str) -> str:
    """Return the stable id of an article: a hash of its whitespace-normalised text."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def clean_article(record: dict, *, max_chars: int) -> tuple[dict | None, dict | None]:
    """Return (article, None) for a usable record or (None, reject) with the reason."""
    where = record["input_path"]
    paragraphs = split_paragraphs(normalize_text(record.get("text") or ""))
    authors = list(record.get("authors") or [])
    if paragraphs and (byline := parse_byline(paragraphs[-1])) is not None:
        paragraphs.pop()
        authors = authors or byline
    text = "\n\n".join(paragraphs)
    if not text:
        return None, reject(where, "empty", f"{record['external_id']}: no text after cleaning",
                            external_id=record["external_id"])
    if len(text) > max_chars:
        return None, reject(where, "too_long", f"{record['external_id']}: {len(text):,} characters, "
                            f"over max_chars={max_chars:,}", external_id=record["external_id"])
    published_at = parse_published(record.get("published"))
    description = record.get("description")
    if description is None and len(paragraphs) > 1:
        description = paragraphs[0]  # the dek line of wire copy
    return {
        "article_id": article_id(text),
        "external_id": record["external_id"],
        "source": record.get("source"),
        "url": record.get("url"),
        "title": normalize_text(record["title"]) if record.get("title") else None,
        "description": normalize_text(description) if description else None,
        "authors": authors,
        "published_at": published_at,
        "date_method": "metadata" if published_at else "none",
        "text": text,
        "word_count": len(text.split()),
        "input_path": where,
    }, None


def clean_records(records: list[dict], *, max_chars: int) -> tuple[list[dict], list[dict], int]:
    """Return (articles, rejects, n_duplicates); an article whose text was seen before is dropped."""
    articles: dict[str, dict] = {}
    rejects, duplicates = [], 0
    for record in records:
        article, bad = clean_article(record, max_chars=max_chars)
        if bad:
            rejects.append(bad)
        elif article["article_id"] in articles:
            duplicates += 1
        else:
            articles[article["article_id"]] = article
    return list(articles.values()), rejects, duplicates


def reject_rows(rejects: list[dict], run_id: str) -> list[dict]:
    """Return `rejects` with their stable ids and the run id, ready for the `rejects` table."""
    rows = {}
    for bad in rejects:
        key = "\x1f".join([bad["input_path"], bad.get("external_id") or "", bad["reason"]])
        reject_id = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        rows[reject_id] = {**bad, "reject_id": reject_id, "run_id": run_id}
    return list(rows.values())


@task(name="clean-articles", cache_policy=NO_CACHE)
def clean_articles(staging: Staging, run_id: str, records: list[dict], read_rejects: list[dict],
                   *, max_chars: int) -> dict:
    """Clean raw records into staged `articles` and `rejects`; return the stage's counts."""
    articles, rejects, duplicates = clean_records(records, max_chars=max_chars)
    rejects = reject_rows(read_rejects + rejects, run_id)
    staging.write("cleaned", to_arrow("articles", [{**a, "run_id": run_id} for a in articles]))
    staging.write("rejects", to_arrow("rejects", rejects))
    counts = {"n_inputs": len(records), "n_articles": len(articles), "n_duplicates": duplicates,
              "n_rejects": len(rejects)}
    get_run_logger().info("cleaned: %s", counts)
    return counts
