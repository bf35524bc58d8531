"""The files a user writes to steer newsner: an alias file (CSV of known entities) and a pattern
file (JSONL of spaCy entity-ruler patterns). Pure reading and checking; errors name file and line."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from tasks.canonical import entity_key, key_tokens
from tasks.errors import UserFileError

# spaCy's English (OntoNotes) labels; an alias or pattern file may use these.
KNOWN_LABELS = frozenset("""PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE
DATE TIME PERCENT MONEY QUANTITY ORDINAL CARDINAL""".split())


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
