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
# Legal-form suffixes that do not change which organisation is meant: "Microsoft Corp." = Microsoft.
_LEGAL_FORM = re.compile(r",?\s+(?:corp|corporation|inc|incorporated|ltd|limited|plc|llc|co|ag|"
                         r"s\.?a|n\.?v|gmbh|holdings)\.?$", re.IGNORECASE)
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
    if label == "ORG" and len(name.split()) > 1:
        name = _LEGAL_FORM.sub("", name)
    return name or fold(text)


def key_tokens(name: str) -> tuple[str, ...]:
    """Return the case-, dot- and hyphen-insensitive tokens of a display name."""
    return tuple(name.casefold().replace(".", "").replace("-", " ").split())


def entity_key(name: str, label: str) -> str:
    """Return the entity id of a display name: "<class>:<tokens>", e.g. "person:kim jong un"."""
    return f"{LABEL_CLASS.get(label, label.lower())}:{' '.join(key_tokens(name))}"


_ACRONYM_AFTER = re.compile(r"^\s*\(\s*([A-Z][A-Za-z0-9&.-]{1,11})\s*\)")


def is_acronym_of(acronym: str, name: str) -> bool:
    """Return True when `acronym` spells the initials of `name` ("KCNA", "Korean Central News Agency")."""
    letters = [c for c in acronym.upper() if c.isalpha()]
    initials = [w[0].upper() for w in re.split(r"[\s-]+", fold(name)) if w and w[0].isalpha()]
    if len(letters) < 2 or not initials or letters[0] != initials[0]:
        return False
    capitals = [w[0] for w in re.split(r"[\s-]+", fold(name)) if w and w[0].isupper()]
    if letters == capitals or letters == initials:
        return True
    it = iter(initials)  # letters may skip small words: "DPRK" for "Democratic People's Republic of Korea"
    return all(letter in it for letter in letters) and len(letters) >= len(capitals) - 1


def find_acronyms(mentions: list[dict], text: str) -> dict[tuple[str, ...], int]:
    """Return acronym tokens -> index of the mention it abbreviates: "Korean Central News Agency
    (KCNA)" defines ("kcna",)."""
    found: dict[tuple[str, ...], int] = {}
    for i, mention in enumerate(mentions):
        match = _ACRONYM_AFTER.match(text[mention["end_char"]:mention["end_char"] + 20])
        if match and len(mention["text"].split()) > 1 and is_acronym_of(match[1], mention["text"]):
            found.setdefault(key_tokens(match[1]), i)
    return found


def contains_run(full: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """Return True when `part` is a shorter contiguous run of the tokens `full`."""
    n = len(part)
    return 0 < n < len(full) and any(full[i:i + n] == part for i in range(len(full) - n + 1))


def assign_entities(mentions: list[dict], text: str | None = None) -> list[dict]:
    """Return one article's mentions (in text order) with `name` and `key` (and `entity_id`) set.

    A person named only in part ("Kim", "Putin") takes the full name seen in the same article
    ("Kim Jong-un"); if several full names fit, the nearest one before it wins. An acronym the
    article defines ("Korean Central News Agency (KCNA)") takes the long name's key.
    """
    names = [display_name(m["text"], m["label"]) for m in mentions]
    tokens = [key_tokens(n) for n in names]
    people = [i for i, m in enumerate(mentions) if m["label"] == "PERSON"]
    full_names = [j for j in people if not any(contains_run(tokens[k], tokens[j]) for k in people)]
    acronyms = find_acronyms(mentions, text) if text is not None else {}
    resolved = []
    for i, mention in enumerate(mentions):
        target = acronyms.get(tokens[i], i)
        if mention["label"] == "PERSON":
            fits = [j for j in full_names if contains_run(tokens[j], tokens[i])]
        else:
            # a person's surname the model took for something else ("Scholz" as GPE)
            fits = [j for j in full_names if len(tokens[j]) > len(tokens[i]) > 0
                    and tokens[j][-len(tokens[i]):] == tokens[i]]
        if len({tokens[j] for j in fits}) == 1:
            target = fits[0]
        elif fits:
            before = [j for j in fits if j < i]
            target = before[-1] if before else fits[0]
        key = entity_key(names[target], mentions[target]["label"])
        resolved.append({**mention, "name": names[target], "key": key, "entity_id": key})
    return resolved
