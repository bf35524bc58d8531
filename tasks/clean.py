"""Cleaning: raw records in, warehouse `articles` rows (and rejects) out."""

from __future__ import annotations

import email.utils
import hashlib
import lzma
import os
import re
import shutil
import threading
import unicodedata
from contextlib import suppress
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from tasks.reasons import reject

# Spaces that are not U+0020, and characters that are invisible in text but break tokens.
_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# (zero-width and bidirectional controls, soft hyphens, C0 controls, lone surrogates from JSON
# escapes such as "\ud800", which no UTF-8 file can hold)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad\ud800-\udfff]"
                        r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
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


_TERMINAL = (".", "!", "?", ":", '"', "”", "’", "'", ")", "»")


def _is_hard_wrapped(lines: list[str]) -> bool:
    """Return True when most lines stop near one width: old wire copy broken mid-sentence."""
    if len(lines) < 4:
        return False
    lengths = sorted(len(line) for line in lines)
    width = lengths[int(len(lengths) * 0.8)]
    mid_sentence = sum(not line.endswith(_TERMINAL) for line in lines[:-1])
    return (30 <= width <= 100 and lengths[-1] <= 1.1 * width
            and sum(n >= 0.7 * width for n in lengths) >= 0.6 * len(lengths)
            and mid_sentence >= 0.5 * (len(lines) - 1))


def _join(left: str, right: str) -> str:
    if left.endswith("-") and left[-2:-1].isalpha() and right[:1].islower():
        return left[:-1] + right  # a word hyphenated at the line end
    return f"{left} {right}"


def split_paragraphs(text: str) -> list[str]:
    """Return the paragraphs of normalised text.

    Blank lines always separate paragraphs. Otherwise a line is a paragraph (wire copy), except in
    hard-wrapped copy, where lines join until one ends a sentence short of the wrap width, and
    where a line that ends mid-sentence is followed by one starting in lower case.
    """
    lines = [line for line in text.split("\n") if line]
    wrapped = _is_hard_wrapped(lines)
    width = sorted(len(line) for line in lines)[int(len(lines) * 0.8)] if lines else 0
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        current, last = "", ""
        for line in (line for line in block.split("\n") if line):
            if current:
                ends_sentence = last.endswith(_TERMINAL)
                if wrapped:
                    joins = not (ends_sentence and len(last) < 0.85 * width)
                else:
                    joins = not ends_sentence and line[:1].islower()
                if joins:
                    current = _join(current, line)
                else:
                    paragraphs.append(current)
                    current = line
            else:
                current = line
            last = line
        if current:
            paragraphs.append(current)
    return paragraphs


# Whole lines that are page furniture, not news.
_BOILERPLATE = re.compile(
    r"^(?:advertisement|advertising|sponsored( content)?|skip advertisement|story continues below"
    r"( advertisement)?|continue reading( below)?|read more|read more:.*|related:.*|see also:.*"
    r"|sign up (?:for|to) (?:our|the) .*newsletters?.*|subscribe( now)?(?: to .*)?"
    r"|share (?:this|on) .*|click here .*|follow us on .*|(?:image|photo)(?: credit)?:.*"
    r"|supported by|listen to (?:this|the) article.*|\d+ min read)[.!]?$",
    re.IGNORECASE)
# "WASHINGTON (AP) —", "LONDON, Oct 24 (Reuters) -", "PARIS (AFP) --", "BEIRUT —".
_DATELINE = re.compile(
    r"^(?P<dateline>(?P<place>[A-Z][A-Z.'’ -]{1,40}?(?:, [A-Z][A-Za-z.]+)?)"
    r"(?:,? (?P<date>[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?))?"
    r"(?: \((?P<wire>[A-Za-z][A-Za-z .&-]{1,30})\))?)\s*(?:—|–|--|-|:)\s+(?=\S)")
# Lines wire services append: "(Reporting by ...; Editing by ...)", "© 2025 Reuters", "Copyright ..."
_WIRE_MARKER = re.compile(
    r"^(?:\((?:reporting|writing|additional reporting|editing|compiled) by[^)]*\)"
    r"|(?:©|\(c\)|copyright)\s*\d{4}.*|.*all rights reserved\.?"
    r"|-+\s*(?:reuters|ap|afp|the associated press)\s*-*)$", re.IGNORECASE)


def strip_boilerplate(paragraphs: list[str]) -> list[str]:
    """Return `paragraphs` without page-furniture lines ("Advertisement", "Read more", ...)."""
    return [p for p in paragraphs if not _BOILERPLATE.match(p)]


def take_wire_attribution(paragraphs: list[str]) -> tuple[list[str], str | None]:
    """Return (paragraphs, attribution): the dateline and wire markers moved out of the text."""
    found = []
    kept = []
    for p in paragraphs:
        if _WIRE_MARKER.match(p):
            found.append(p)
        else:
            kept.append(p)
    for i, p in enumerate(kept[:3]):
        match = _DATELINE.match(p)
        place = match and match["place"]
        # An all-caps place and either a wire name or a date: "WASHINGTON (AP) —", "LONDON, Oct 24 -"
        if match and place.upper() == place and (match["wire"] or match["date"] or
                                                 p[match.end("dateline"):].lstrip()[:1] in "—–"):
            found.insert(0, match["dateline"].strip())
            kept[i] = p[match.end():]
            break
    return kept, "; ".join(found) or None


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


def parse_published(value: str | datetime | None) -> datetime | None:
    """Return `value` (ISO 8601 or RFC 2822) as a naive UTC datetime, or None if unparseable."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
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


# Outlets and desks that stand where an author's name should: kept out of `authors`.
OUTLETS = frozenset("""
ap|the associated press|associated press|reuters|reuters staff|thomson reuters|afp|agence france-presse|
agence france presse|bloomberg|bloomberg news|upi|united press international|dpa|pa|pa media|
press association|bbc|bbc news|cnn|cnn wire|staff|staff writer|staff writers|staff reporter|news desk|
newsdesk|web desk|editorial board|the editorial board|wire staff|wire services|news service|agencies|
ap staff|afp staff|the guardian|guardian staff|associated press staff
""".replace("\n", "").split("|"))
_AUTHOR_PREFIX = re.compile(r"^(?:by|from)\s+", re.IGNORECASE)


def clean_authors(authors: list[str], *, source: str | None = None) -> list[str]:
    """Return author names without outlet and desk names, "By " prefixes or repeats."""
    outlets = OUTLETS | ({source.casefold()} if source else set())
    kept: dict[str, str] = {}
    for author in authors:
        name = " ".join(_AUTHOR_PREFIX.sub("", author).split()).strip(" ,;.")
        folded = name.casefold()
        if not name or folded in outlets or folded.endswith((" staff", " news service")):
            continue
        kept.setdefault(folded, name)
    return list(kept.values())


_IDENTIFIER_LOCK = threading.Lock()


def _identifier_cache() -> Path:
    """Return where the identifier's model is kept uncompressed, inside the Python environment
    (beside the place index), one file per py3langid version."""
    from importlib.metadata import version

    from tasks.gazetteer import index_dir

    return index_dir() / f"langid-{version('py3langid')}.npz"


@cache
def _identifier():
    """Return py3langid's identifier. Its model ships LZMA-compressed, 0.4 s of a core to unpack
    in every process: the first run keeps an uncompressed copy (68 MB) that later runs load in a
    quarter of that; when the copy cannot be written, the model is unpacked each time."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    cached = _identifier_cache()
    if not cached.exists():
        model = Path(MODEL_FILE) if Path(MODEL_FILE).is_absolute() else MODEL_DIR / MODEL_FILE
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with lzma.open(model) as packed, open(tmp, "wb") as unpacked:
                shutil.copyfileobj(packed, unpacked, length=1 << 20)
            os.replace(tmp, cached)  # whole or absent: another process may be reading it
        except OSError:
            with suppress(OSError):
                tmp.unlink()
    try:  # the copy is read as py3langid's own loader reads its file (modelio.load_model)
        from py3langid import modelio

        with np.load(cached, allow_pickle=False) as data:
            return LanguageIdentifier(
                data["ptc"], data["pc"], data["classes"].tolist(),
                modelio._to_array(data["nextmove"]), data["out_feat"].tolist(), norm_probs=True,
                tk_row=modelio._to_array(data["nextmove_row"]))
    except (OSError, ValueError, KeyError, ImportError, AttributeError):
        # no copy (a read-only environment), a bad one, or a py3langid laid out otherwise
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_identifier():
    """Return py3langid's identifier with normalised probabilities, loaded once per process
    (a preloading thread and a task may ask at once)."""
    with _IDENTIFIER_LOCK:
        return _identifier()


def preload_language_identifier() -> None:
    """Start loading the identifier (half a second: its model is LZMA-compressed) on a thread,
    while the caller starts up; a failure resurfaces where the identifier is used."""
    def load() -> None:
        with suppress(Exception):
            language_identifier()

    threading.Thread(target=load, daemon=True).start()


# Fewest lowercase words whose language can confirm the detector's answer for the whole text.
MIN_PROSE_WORDS = 5
# Characters the detector reads: an article's language shows in its first lines, and the
# detector's cost grows with the text (it was most of the cleaning stage's time at 2,000).
LANGUAGE_SAMPLE = 800
_PROSE_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][A-Za-z0-9]+)*$")


def declared_language(value: str | None) -> str | None:
    """Return the primary language of a declaration ("en-GB" -> "en"), or None if it is not one."""
    match = _LANGUAGE_TAG.match((value or "").strip().lower())
    return match[1] if match else None


def _classify(text: str) -> tuple[str, float]:
    language, score = language_identifier().classify(text[:LANGUAGE_SAMPLE])
    return language, round(float(score), 4)


def detect_language(text: str, *, declared: str | None = None, model_language: str = "en",
                    ) -> tuple[str | None, float | None, str]:
    """Return (language, confidence 0-1, evidence) of `text`; evidence says how sure it is.

    "declared": the input declares the language (front matter, feed, page) and the text does not
    clearly say otherwise. "detected": the detector's answer, confirmed (for an answer other than
    the model's language) by its answer on the text's lowercase words alone, which leaves out the
    names and numbers that make short briefs and results tables look like Pidgin or Dutch.
    "uncertain": no such confirmation. Only a declared or detected language other than the
    model's keeps an article from NER.
    """
    if not text.strip():
        return None, None, "uncertain"
    language, score = _classify(text)
    declared = declared_language(declared)
    if language == model_language and declared in (None, language):
        return language, score, "detected"
    prose = [w for w in _PROSE_WORD.findall(text[:4000]) if w.islower()]
    confirmed = len(prose) >= MIN_PROSE_WORDS and _classify(" ".join(prose))[0] == language
    if declared and not (confirmed and language != declared):
        return declared, score if language == declared else None, "declared"
    return language, score, "detected" if confirmed else "uncertain"


def goes_to_ner(article: dict, model_language: str) -> bool:
    """Return True unless the article is certainly in a language other than the model's."""
    return (article.get("language_evidence") == "uncertain"
            or article.get("language") in (None, model_language))


def clean_article(record: dict, *, max_chars: int, model_language: str = "en",
                  ) -> tuple[dict | None, dict | None]:
    """Return (article, None) for a usable record or (None, reject) with the reason."""
    where, external_id = record["input_path"], record["external_id"]
    paragraphs = strip_boilerplate(split_paragraphs(normalize_text(record.get("text") or "")))
    paragraphs, wire_attribution = take_wire_attribution(paragraphs)
    authors = list(record.get("authors") or [])
    if paragraphs and (byline := parse_byline(paragraphs[-1])) is not None:
        paragraphs.pop()
        authors = authors or byline
    text = "\n".join(paragraphs)  # one paragraph a line; NER starts a sentence at each
    if not text:
        return None, reject(where, "empty", f"{external_id}: no text after cleaning",
                            external_id=external_id)
    if len(text) > max_chars:
        return None, reject(where, "too_long", f"{external_id}: {len(text):,} characters, "
                            f"over max_chars={max_chars:,}", external_id=external_id)
    published_at = parse_published(record.get("published"))
    description = record.get("description")
    if description is None and record.get("layout", "wire") == "wire" and len(paragraphs) > 1:
        description = paragraphs[0]  # the dek line of wire copy
    title = normalize_text(record["title"]).strip() if record.get("title") else None
    language, language_score, evidence = detect_language(
        f"{title or ''}\n{text}", declared=record.get("language"), model_language=model_language)
    return {
        "article_id": article_id(text),
        "external_id": external_id,
        "source": record.get("source"),
        "url": record.get("url"),
        "title": title,
        "description": " ".join(normalize_text(description).split()) if description else None,
        "authors": clean_authors(authors, source=record.get("source")),
        "published_at": published_at,
        "date_method": (record.get("date_method") or "metadata") if published_at else "none",
        "text": text,
        "word_count": len(text.split()),
        "language": language,
        "language_score": language_score,
        "language_evidence": evidence,
        "extraction_method": record.get("extraction_method") or "wire",
        "wire_attribution": wire_attribution,
        "input_path": where,
        "fetched_at": parse_published(record.get("fetched_at")),
    }, None


def clean_records(records: list[dict], *, max_chars: int, model_language: str = "en",
                  ) -> tuple[list[dict], list[dict], int]:
    """Return (articles, rejects, n_duplicates); an article whose text was seen before is dropped."""
    articles: dict[str, dict] = {}
    rejects, duplicates = [], 0
    for record in records:
        article, bad = clean_article(record, max_chars=max_chars, model_language=model_language)
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
