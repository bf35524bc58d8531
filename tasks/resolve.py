"""Entity resolution across the corpus: mention keys -> entities, by the user's alias file,
acronyms the articles define, and short person names that fit exactly one full name.

Runs on every run over all keys, so a changed alias file re-resolves without re-running NER.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.canonical import LABEL_CLASS, display_name, entity_key, key_tokens
from tasks.faults import fault_point
from tasks.timing import stage_logger, timed
from tasks.userfiles import Alias, read_alias_file
from tasks.warehouse import Staging, Warehouse, resolution_inputs, to_arrow


@cache
def _tokens(key: str) -> tuple[str, ...]:
    return tuple(key.split(":", 1)[1].split())


@cache
def _kind(key: str) -> str:
    return key.split(":", 1)[0]


_SMALL_WORDS = {"of", "the", "and", "for", "de", "la", "du", "des", "der", "und", "&"}
# A candidate wins a choice of several only with this many times the runner-up's support.
DOMINANCE = 3
# Share of a key's mentions written in capitals for it to count as written in capitals.
CAPS_SHARE = 0.9
# An article spelling an acronym out ("European Union (EU)") weighs as much as this many mentions.
DEFINITION_WEIGHT = 3
PERSON, PLACE = LABEL_CLASS["PERSON"], LABEL_CLASS["GPE"]
# Rules whose keys are not full names of their entity: they never name it.
SHORT_RULES = ("demonym", "acronym", "short_form", "descriptor")


def _initials(key: str) -> tuple[str, str]:
    """Return (initials of all words, initials without small words) of a key's tokens."""
    words = _tokens(key)
    return ("".join(w[0] for w in words),
            "".join(w[0] for w in words if w not in _SMALL_WORDS))


def _dominant(support: dict[str, float]) -> str | None:
    """Return the candidate whose support is at least DOMINANCE times every other's, if any."""
    if not support:
        return None
    ranked = sorted(support.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) == 1 or ranked[0][1] >= DOMINANCE * ranked[1][1]:
        return ranked[0][0]
    return None


def _singular(tokens: tuple[str, ...]) -> tuple[str, ...] | None:
    """Return the tokens with a plural last word made singular ("tories" -> "tory"), or None."""
    last = tokens[-1]
    for suffix, replacement in (("ies", "y"), ("s", "")):
        if last.endswith(suffix) and len(last) > len(suffix) + 2 and not last.endswith("ss"):
            return (*tokens[:-1], last[: -len(suffix)] + replacement)
    return None


def place_key(name: str) -> str:
    """Return the key of a place's canonical name ("The Netherlands" -> "place:netherlands")."""
    return entity_key(display_name(name, "GPE"), "GPE")


def resolve_keys(keys: Iterable[str], acronyms: Iterable[tuple[str, str]],
                 aliases: Iterable[Alias] = (), *, caps_keys: Iterable[str] = (),
                 counts: dict[str, int] | None = None) -> list[dict]:
    """Return one row per mention key: the entity it belongs to and the rule that decided it.

    Rules, first that applies to a key:
      alias_file  an entry of the user's alias file (any label);
      gazetteer   another name of a country ("Britain", "Holland" as a place);
      demonym     a country's demonym ("American", "Iraqis" as NORP or a place);
      acronym     a country code written in capitals ("USA", "U.K."); an acronym the articles
                  define, or a key written in capitals that spells the initials of a long name
                  of its kind ("UN", "United Nations"): the long name with the most definitions
                  and mentions, when it dominates the others;
      descriptor  a person's name after a word that describes them at a sentence's start
                  ("Sprinter Kelly Holmes", "Briton Tim Henman"): the name without it, when
                  that is used at least as often;
      short_form  a person's short name ("Zelensky") that fits one full name, or whose
                  best-supported full name dominates the others ("Clinton");
      label       the same name under another kind of label: the kind with most mentions
                  ("Labour" as PERSON joins "Labour" the ORG);
      plural      a group name's plural or singular ("Tories", "Tory"): the more mentioned one;
      self        else the key itself.
    Each key then follows its target's own rules to the end ("Americans" -> "American" -> the
    United States). `counts` gives each key's mentions (default 1).
    """
    from tasks.gazetteer import DEMONYM, NAME, country_forms

    keys = sorted(set(keys))
    counts = counts or {}
    caps = set(caps_keys)
    by_alias = {}
    for entry in aliases:
        for name in (entry.name, *entry.aliases):
            by_alias[key_tokens(name)] = entry
    mentions = {key: counts.get(key, 1) for key in keys}
    definitions = Counter(acronyms)
    defined = defaultdict(dict)
    for (acronym, long_key), n in definitions.items():
        defined[tuple(acronym.split())][long_key] = n
    by_initials = defaultdict(set)
    for key in keys:
        if len(_tokens(key)) > 1 and _kind(key) != PERSON:
            for initials in set(_initials(key)):
                by_initials[(_kind(key), initials)].add(key)
    people = {k for k in keys if _kind(k) == PERSON}

    def descriptor(key: str) -> str | None:
        tokens = _tokens(key)
        if key not in people or len(tokens) < 3:
            return None
        rest = f"{PERSON}:{' '.join(tokens[1:])}"
        return rest if mentions.get(rest, 0) >= mentions[key] else None

    described = {k for k in people if descriptor(k)}
    # every shorter contiguous run of every person's tokens -> the people whose name holds it
    holders = defaultdict(set)
    for person in people - described:
        tokens = _tokens(person)
        for size in range(1, len(tokens)):
            for start in range(len(tokens) - size + 1):
                holders[tokens[start:start + size]].add(person)
    full = {k for k in people - described if _tokens(k) not in holders}
    by_tokens = defaultdict(dict)
    for key in keys:
        kind_total = by_tokens[_tokens(key)]
        kind_total[_kind(key)] = kind_total.get(_kind(key), 0) + mentions[key]
    forms = country_forms()

    def gazetteer(key: str) -> tuple[str, str] | None:
        found = forms.get(_tokens(key))
        if not found or _kind(key) not in (PLACE, "norp"):
            return None
        country, kind = found
        if kind == DEMONYM:
            return place_key(country.name), "demonym"
        if kind == NAME and _kind(key) == PLACE:
            return place_key(country.name), "gazetteer"
        if key in caps and _kind(key) == PLACE:
            return place_key(country.name), "acronym"  # "US", "UAE", "U.K."
        return None

    def acronym(key: str) -> str | None:
        tokens = _tokens(key)
        if len(tokens) != 1:
            return None
        support = {k: DEFINITION_WEIGHT * n + mentions.get(k, 0)
                   for k, n in defined.get(tokens, {}).items()}
        if key in caps:
            for long_key in by_initials.get((_kind(key), tokens[0]), ()):
                support.setdefault(long_key, float(mentions[long_key]))
        return _dominant(support)

    def short_form(key: str) -> str | None:
        if key not in people:
            return None
        return _dominant({k: float(mentions[k]) for k in holders.get(_tokens(key), set()) & full})

    def other_label(key: str) -> str | None:
        kinds = by_tokens[_tokens(key)]
        best = min(kinds, key=lambda k: (-kinds[k], k))  # most mentions; ties alphabetically
        return f"{best}:{' '.join(_tokens(key))}" if best != _kind(key) else None

    plurals = defaultdict(list)  # a key's singular form -> the keys of its plural
    for key in keys:
        if _kind(key) not in (PERSON, PLACE) and (singular := _singular(_tokens(key))):
            plurals[f"{_kind(key)}:{' '.join(singular)}"].append(key)

    def plural(key: str) -> str | None:
        if _kind(key) in (PERSON, PLACE):
            return None
        singular = _singular(_tokens(key))
        forms = [f"{_kind(key)}:{' '.join(singular)}"] if singular else []
        forms = [k for k in (*forms, *plurals.get(key, ())) if k in mentions]
        best = max(forms, key=lambda k: (mentions[k], k), default=None)
        return best if best and (mentions[best], best) > (mentions[key], key) else None

    def step(key: str) -> tuple[str, str]:
        tokens = _tokens(key)
        if tokens in by_alias:
            return by_alias[tokens].key, "alias_file"
        if (found := gazetteer(key)) and found[0] != key:
            return found
        for rule, find in (("acronym", acronym), ("descriptor", descriptor),
                           ("short_form", short_form), ("label", other_label),
                           ("plural", plural)):
            target = find(key)
            if target and target != key:
                return target, rule
        return key, "self"

    steps = {key: step(key) for key in keys}
    rows = []
    for key in keys:
        target, rule = steps[key]
        rules, seen = [rule], {key}
        while target not in seen:  # follow the target's own rules (cycles stop where they close)
            seen.add(target)
            following = steps.get(target, (target, "self"))
            if following[0] == target:
                break
            target = following[0]
            rules.append(following[1])
        # the rule that says why: a short or derived form anywhere on the way ("American" as ORG
        # -> label -> "American" -> demonym) marks the key as no full name of its entity
        rule = next((r for r in rules if r in SHORT_RULES), rules[0])
        entry = by_alias.get(_tokens(target))
        rows.append({"key": key, "entity_id": target, "rule": rule,
                     "canonical_name": entry.name if entry else None,
                     "canonical_label": entry.label if entry else None})
    return rows


def resolve_mentions(mentions: Iterable[dict], acronyms: Iterable[tuple[str, str]],
                     aliases: Iterable[Alias] = ()) -> dict[str, str]:
    """Return key -> entity for in-memory mentions (dicts with key and text), resolved as a run
    resolves the warehouse's (mention_keys.sql): for tests and benchmarks."""
    counts: Counter = Counter()
    capitals: Counter = Counter()
    for m in mentions:
        counts[m["key"]] += 1
        capitals[m["key"]] += m["text"] == m["text"].upper() and m["text"] != m["text"].lower()
    rows = resolve_keys(counts, acronyms, aliases, counts=dict(counts),
                        caps_keys=[k for k in counts if capitals[k] >= CAPS_SHARE * counts[k]])
    return {r["key"]: r["entity_id"] for r in rows}


@task(name="resolve-entities", cache_policy=NO_CACHE, timeout_seconds=1_800)
@timed("resolve")
def resolve_entities(warehouse: Warehouse, staging: Staging, *, alias_file: Path | None) -> dict:
    """Stage `entity_keys`: every mention key of the warehouse and this run, resolved."""
    aliases = read_alias_file(alias_file) if alias_file else []
    counts, acronyms, caps_keys = resolution_inputs(warehouse, staging, caps_share=CAPS_SHARE)
    rows = resolve_keys(counts, acronyms, aliases, caps_keys=caps_keys, counts=counts)
    staging.write("entity_keys", to_arrow("entity_keys", rows))
    fault_point("resolve:staged")
    counts = {"n_keys": len(rows), "n_merged": sum(r["rule"] != "self" for r in rows)}
    stage_logger().info("resolved: %s", counts)
    return counts
