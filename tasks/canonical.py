"""Canonical entity names and keys: pure functions over mention text, no model needed."""

from __future__ import annotations

import re
import unicodedata

# Typographic quotes and dashes folded to ASCII.
_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201b": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
})
_POSSESSIVE = re.compile(r"(?<=\w)(?:'s|')$", re.IGNORECASE)
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_EDGE_PUNCT = " \"'“”‘’,;:!?()[]{}"

# Titles and honorifics stripped from the front of a person's name ("President Vladimir Putin").
TITLES = frozenset("""
mr mrs ms miss mx dr prof professor sir dame lord lady rev reverend fr father sister brother
president vice prime minister secretary general chancellor premier governor gov senator sen
representative rep congressman congresswoman mayor judge justice chief king queen prince princess
pope cardinal archbishop bishop sheikh emir sultan ayatollah imam rabbi gen col maj capt lt sgt
admiral adm commander cmdr officer detective inspector leader chairman chairwoman chair ceo
foreign defence defense interior finance state deputy former late leader supreme
""".split())

# Labels that name the same kind of thing share a key prefix, so GPE "Ukraine" and LOC "Ukraine"
# are one entity; the entity's label is then decided by its mentions.
LABEL_CLASS = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place", "FAC": "place"}


def fold(text: str) -> str:
    """Return `text` in NFKC with typographic quotes and dashes as ASCII and spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).split())


def strip_titles(name: str) -> str:
    """Return a person's `name` without leading titles ("Mr. Putin" -> "Putin")."""
    words = name.split()
    stripped = False
    while len(words) > 1:
        word = words[0].lower().rstrip(".")
        if word in TITLES or (stripped and word in {"of", "the"}):
            words.pop(0)
            stripped = True
        else:
            break
    return " ".join(words)


def display_name(text: str, label: str) -> str:
    """Return the canonical display form of a mention: "North Korea’s" -> "North Korea"."""
    name = fold(text).strip(_EDGE_PUNCT)
    name = _POSSESSIVE.sub("", name).strip(_EDGE_PUNCT)
    if label == "PERSON":
        name = strip_titles(name)
    else:
        name = _LEADING_THE.sub("", name)
    return name or fold(text)


def key_tokens(name: str) -> tuple[str, ...]:
    """Return the case-, dot- and hyphen-insensitive tokens of a display name."""
    return tuple(name.casefold().replace(".", "").replace("-", " ").split())


def entity_key(name: str, label: str) -> str:
    """Return the entity id of a display name: "<class>:<tokens>", e.g. "person:kim jong un"."""
    return f"{LABEL_CLASS.get(label, label.lower())}:{' '.join(key_tokens(name))}"


def _contains(full: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return 0 < n < len(full) and any(full[i:i + n] == part for i in range(len(full) - n + 1))


def assign_entities(mentions: list[dict]) -> list[dict]:
    """Return one article's mentions (in text order) with `name` and `entity_id` set.

    A person named only in part ("Kim", "Putin") takes the full name seen in the same article
    ("Kim Jong-un"); if several full names fit, the nearest one before it wins.
    """
    names = [display_name(m["text"], m["label"]) for m in mentions]
    tokens = [key_tokens(n) for n in names]
    people = [i for i, m in enumerate(mentions) if m["label"] == "PERSON"]
    full_names = [j for j in people if not any(_contains(tokens[k], tokens[j]) for k in people)]
    resolved = []
    for i, mention in enumerate(mentions):
        target = i
        if mention["label"] == "PERSON":
            fits = [j for j in full_names if _contains(tokens[j], tokens[i])]
            if len({tokens[j] for j in fits}) == 1:
                target = fits[0]
            elif fits:
                before = [j for j in fits if j < i]
                target = before[-1] if before else fits[0]
        resolved.append({**mention, "name": names[target],
                         "entity_id": entity_key(names[target], mentions[target]["label"])})
    return resolved
