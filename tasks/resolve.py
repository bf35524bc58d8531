"""Entity resolution across the corpus: mention keys -> entities, by the user's alias file,
acronyms the articles define, and short person names that fit exactly one full name.

Runs on every run over all keys, so a changed alias file re-resolves without re-running NER.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.canonical import LABEL_CLASS, entity_key, key_tokens
from tasks.timing import stage_logger, timed
from tasks.warehouse import Staging, Warehouse, resolution_inputs, to_arrow

# spaCy's English (OntoNotes) labels; an alias or pattern file may use these.
KNOWN_LABELS = frozenset("""PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE
DATE TIME PERCENT MONEY QUANTITY ORDINAL CARDINAL""".split())


class UserFileError(Exception):
    """An alias or pattern file the user gave is wrong; the message names the file and line."""


@dataclass(frozen=True)
class Alias:
    """One entity the user knows: its canonical name, label and other names."""

    name: str
    label: str
    aliases: tuple[str, ...]

    @property
    def key(self) -> str:
        return entity_key(self.name, self.label)


def read_alias_file(path: Path) -> list[Alias]:
    """Return the entries of a CSV alias file with columns name, label, aliases (";"-separated)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise UserFileError(f"alias file {path}: cannot read it ({err})") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or {"name", "label", "aliases"} - set(reader.fieldnames):
        raise UserFileError(f"alias file {path} line 1: the header must be name,label,aliases")
    entries, owner = [], {}
    for row in reader:
        line = reader.line_num
        name, label = (row.get("name") or "").strip(), (row.get("label") or "").strip().upper()
        if not name:
            raise UserFileError(f"alias file {path} line {line}: empty name")
        if label not in KNOWN_LABELS:
            raise UserFileError(f"alias file {path} line {line}: label {label or '(empty)'!r} is "
                                f"not one of {', '.join(sorted(KNOWN_LABELS))}")
        aliases = tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip())
        for alias in (name, *aliases):
            tokens = key_tokens(alias)
            if tokens in owner and owner[tokens] != (name, label):
                raise UserFileError(f"alias file {path} line {line}: {alias!r} already names "
                                    f"{owner[tokens][0]!r}")
            owner[tokens] = (name, label)
        entries.append(Alias(name=name, label=label, aliases=aliases))
    return entries


def read_pattern_file(path: Path) -> list[dict]:
    """Return spaCy entity-ruler patterns from a JSONL file: {"label": ..., "pattern": ...}."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UserFileError(f"pattern file {path}: cannot read it ({err})") from None
    patterns = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pattern = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserFileError(f"pattern file {path} line {number}: not JSON ({err})") from None
        if not isinstance(pattern, dict) or not isinstance(pattern.get("label"), str) or not (
                isinstance(pattern.get("pattern"), str) or isinstance(pattern.get("pattern"), list)):
            raise UserFileError(f"pattern file {path} line {number}: expected "
                                '{"label": "ORG", "pattern": "text or token list"}')
        patterns.append(pattern)
    return patterns


def _tokens(key: str) -> tuple[str, ...]:
    return tuple(key.split(":", 1)[1].split())


_SMALL_WORDS = {"of", "the", "and", "for", "de", "la", "du", "des", "der", "und", "&"}


def _initials(key: str) -> tuple[str, str]:
    """Return (initials of all words, initials without small words) of a key's tokens."""
    words = _tokens(key)
    return ("".join(w[0] for w in words),
            "".join(w[0] for w in words if w not in _SMALL_WORDS))


def resolve_keys(keys: Iterable[str], acronyms: Iterable[tuple[str, str]],
                 aliases: Iterable[Alias] = (), *, caps_keys: Iterable[str] = ()) -> list[dict]:
    """Return one row per mention key: the entity it belongs to and the rule that decided it.

    Rules, first that applies: the alias file (any label); an acronym defined in an article for
    exactly one long name, or an ALL-CAPS key (`caps_keys`) spelling the initials of exactly one
    long name of its kind ("UN", "United Nations"); a person's short name that fits exactly one
    full name; else itself.
    """
    keys = sorted(set(keys))
    by_alias = {}
    for entry in aliases:
        for name in (entry.name, *entry.aliases):
            by_alias[key_tokens(name)] = entry
    long_names = defaultdict(set)
    for acronym, long_key in acronyms:
        long_names[tuple(acronym.split())].add(long_key)
    by_initials = defaultdict(set)
    for key in keys:
        if len(_tokens(key)) > 1 and not key.startswith(f"{LABEL_CLASS['PERSON']}:"):
            for initials in set(_initials(key)):
                by_initials[(key.split(":", 1)[0], initials)].add(key)
    for key in caps_keys:
        tokens = _tokens(key)
        if len(tokens) == 1 and tokens not in long_names:
            fits = by_initials.get((key.split(":", 1)[0], tokens[0]), set())
            if len(fits) == 1:
                long_names[tokens].add(next(iter(fits)))
    people = {k for k in keys if k.startswith(f"{LABEL_CLASS['PERSON']}:")}
    # every shorter contiguous run of every person's tokens -> the people whose name holds it
    holders = defaultdict(set)
    for person in people:
        tokens = _tokens(person)
        for size in range(1, len(tokens)):
            for start in range(len(tokens) - size + 1):
                holders[tokens[start:start + size]].add(person)
    full = {k for k in people if _tokens(k) not in holders}

    def step(key: str) -> tuple[str, str]:
        tokens = _tokens(key)
        if tokens in by_alias:
            return by_alias[tokens].key, "alias_file"
        if len(long_names.get(tokens, ())) == 1:
            return next(iter(long_names[tokens])), "acronym"
        if key in people:
            fits = holders.get(tokens, set()) & full
            if len(fits) == 1:
                return next(iter(fits)), "short_form"
        return key, "self"

    rows = []
    for key in keys:
        target, rule = step(key)
        if rule != "self":
            final, final_rule = step(target)  # e.g. a short form whose full name has an alias
            if final_rule == "alias_file":
                target = final
        entry = by_alias.get(_tokens(target))
        rows.append({"key": key, "entity_id": target, "rule": rule,
                     "canonical_name": entry.name if entry else None,
                     "canonical_label": entry.label if entry else None})
    return rows


@task(name="resolve-entities", cache_policy=NO_CACHE, timeout_seconds=1_800)
@timed("resolve")
def resolve_entities(warehouse: Warehouse, staging: Staging, *, alias_file: Path | None) -> dict:
    """Stage `entity_keys`: every mention key of the warehouse and this run, resolved."""
    aliases = read_alias_file(alias_file) if alias_file else []
    keys, acronyms, caps_keys = resolution_inputs(warehouse, staging)
    rows = resolve_keys(keys, acronyms, aliases, caps_keys=caps_keys)
    staging.write("entity_keys", to_arrow("entity_keys", rows))
    counts = {"n_keys": len(rows), "n_merged": sum(r["rule"] != "self" for r in rows)}
    stage_logger().info("resolved: %s", counts)
    return counts
