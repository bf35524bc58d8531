"""Place resolution in context: each place named in an article -> one GeoNames place.

Pure functions over an article's text and its place mentions. Each name of the article (mentions
sharing a key) gets one place, chosen in passes as CLIFF chooses (Berico Technologies' CLIFF-CLAVIN):

1. candidates: every place the name's forms name, in the gazetteer (tasks/gazetteer.py); codes
   and abbreviations ("UK", "Ky.") only as written in capitals or with their dots, demonyms
   ("Russian") for countries only;
2. what the text says next to the name: "Paris, Texas" and "Alberta's Calgary" put the name in a
   region or country; "the Kursk region" asks for a region, "Quebec City" for a city;
3. a first choice for each name without context: countries and continents before regions,
   regions before cities (a region must be far more populous than a same-named city: "Quebec"
   the province, "Seoul" the city), more people before fewer, own names before alternate ones;
4. the choice again, with the places the article's other names chose: a city in a country or
   region the article names wins over a bigger one elsewhere ("Georgia" in an article about
   Atlanta is the state);
5. the article's focus: the country most of its places are in, and its most named place.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.gazetteer import (
    ABBREVIATION,
    ALTERNATE,
    CODE,
    DEMONYM,
    Place,
    PlaceIndex,
    place_form,
    place_index,
)

# Labels whose mentions may be places; NORP only through a demonym or a country's name or code
# ("Russian", "DPRK"), FAC only where the gazetteer knows the name.
PLACE_LABELS = ("GPE", "LOC", "FAC", "NORP")
# Labels the model gives place names by mistake ("the Kursk region" as PRODUCT): such a mention
# is a place only where the text calls it one (placeable()).
MISTAKEN_LABELS = ("ORG", "PRODUCT", "WORK_OF_ART", "EVENT")
CANDIDATE_LABELS = PLACE_LABELS + MISTAKEN_LABELS  # (tasks/sql/place_input*.sql list them too)
# How much a feature type weighs before population: countries and continents are what a bare name
# means most often; a region must outnumber a same-named city REGION_OVER_CITY times to win.
# National capitals stand for their governments ("Washington", "Moscow") more than any namesake.
TYPE_WEIGHT = {"CONT": 3.0, "PCLI": 3.0, "ADM1": -math.log10(10.0), "PPLC": 1.0}
ALTERNATE_PENALTY = 1.5     # a place named by one of its alternate names, not its own
IN_ARTICLE_COUNTRY = 2.5    # the place lies in a country the article names
IN_ARTICLE_REGION = 2.5     # ... in a region the article names
NEAR_QUALIFIER = 10.0       # "Paris, Texas": the text itself says where the place is
ASKED_TYPE = 5.0            # "the Kursk region", "Quebec City"
MIN_POPULATION_SCORE = 1.0  # log10 of population floors here (places of unknown population)

_REGION_WORDS = (r"(region|province|oblast|state|governorate|prefecture|territory|county|co\.|"
                 r"district|parish|township)")
_ENDS_REGION = re.compile(rf"^(.+?)\s+{_REGION_WORDS}$", re.IGNORECASE)
_REGION_AFTER = re.compile(r"^\s+(region|province|oblast|state|governorate|prefecture|territory)\b",
                           re.IGNORECASE)
_CITY_AFTER = re.compile(r"^\s+(city|town|village)\b", re.IGNORECASE)
_QUALIFIER_AFTER = re.compile(r"^[ \t]*,[ \t]*((?:[A-Z][\w.'’]*)(?:[ \t]+[A-Z][\w.'’]*){0,2})")
_OWNER_BEFORE = re.compile(r"((?:[A-Z][\w.']*)(?:[ \t]+[A-Z][\w.']*){0,2})['’]s[ \t]+$")
_PLACE_BEFORE = re.compile(r"\b(in|near|outside|across|into|from)\s+(the\s+)?$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s?$")


@dataclass(frozen=True)
class Located:
    """Where one name of an article was placed."""

    place: Place | None
    rule: str        # qualifier (the text says where or what), context, prior, demonym, focus
                     # (no place; the country only) or none
    score: float     # margin over the runner-up (higher is surer); 0 when unresolved
    country_code: str | None = None  # the place's country; for rule focus, the article's

    @property
    def country(self) -> str | None:
        return self.place.country_code if self.place else self.country_code


def placeable(text: str, mention: dict) -> bool:
    """Return True when a mention may name a place: by its label, or, for a label the model
    gives place names by mistake, because the text calls it a place ("in the Kursk region")."""
    if mention["label"] in PLACE_LABELS:
        return True
    if mention["label"] not in MISTAKEN_LABELS:
        return False
    after = text[mention["end_char"]:mention["end_char"] + 40]
    before = text[max(0, mention["start_char"] - 12):mention["start_char"]]
    return bool(_REGION_AFTER.match(after) or _PLACE_BEFORE.search(before))


def surface_forms(text: str) -> list[str]:
    """Return the folded forms to look a mention up by: as written, without a leading "the" and
    without a trailing possessive."""
    forms = [place_form(text)]
    bare = _POSSESSIVE.sub("", _LEADING_THE.sub("", text.strip()))
    if (form := place_form(bare)) not in forms:
        forms.append(form)
    return [f for f in forms if f]


def _kind_allowed(kind: str, surface: str, label: str | None) -> bool:
    if label == "NORP" and kind not in (DEMONYM, CODE, "name"):
        return False
    if kind == CODE:
        return surface.isupper() and len(surface.replace(".", "")) >= 2
    if kind == ABBREVIATION:
        return "." in surface or surface.isupper()
    return True


def candidates(index: PlaceIndex, surfaces: Sequence[str], label: str | None
               ) -> dict[int, tuple[Place, str]]:
    """Return geonameid -> (place, best kind) for every place the surfaces may name."""
    rank = {"name": 0, DEMONYM: 0, CODE: 1, ABBREVIATION: 1, ALTERNATE: 2}
    found: dict[int, tuple[Place, str]] = {}
    for surface in surfaces:
        for form in surface_forms(surface):
            for place, kind in index.lookup(form):
                if not _kind_allowed(kind, surface, label):
                    continue
                held = found.get(place.geonameid)
                if held is None or rank.get(kind, 2) < rank.get(held[1], 2):
                    found[place.geonameid] = (place, kind)
    return found


def prior(place: Place, kind: str) -> float:
    """Return a place's score before context: type, population, and how it was named."""
    score = max(math.log10(place.population + 1), MIN_POPULATION_SCORE)
    score += TYPE_WEIGHT.get(place.feature_code, 0.0)
    if kind == ALTERNATE:
        score -= ALTERNATE_PENALTY
    return score


@dataclass
class _Name:
    key: str
    surfaces: list[str]
    label: str | None
    n: int
    first: int
    found: dict[int, tuple[Place, str]]
    qualifiers: set[str]       # folded forms the text puts the name in ("texas", "alberta")
    asks: set[str]             # "region" or "city"
    is_region: bool = False    # the name itself says it is a region ("Fars Province")

    @property
    def names_country(self) -> bool:
        """True when the name is a country's own name or code ("Russia", "UK")."""
        return any(p.feature_code == "PCLI" and kind != ALTERNATE for p, kind in self.found.values())


def _names(index: PlaceIndex, text: str, mentions: Sequence[dict]) -> list[_Name]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for m in mentions:
        grouped[m["key"]].append(m)
    names = []
    for key, group in grouped.items():
        labels = Counter(m.get("label") for m in group)
        label = "NORP" if labels.get("NORP", 0) == len(group) else None
        qualifiers, asks = set(), set()
        for m in group:
            after = text[m["end_char"]:m["end_char"] + 40]
            before = text[max(0, m["start_char"] - 40):m["start_char"]]
            if _REGION_AFTER.match(after):
                asks.add("region")
            elif _CITY_AFTER.match(after):
                asks.add("city")
            if q := _QUALIFIER_AFTER.match(after):
                qualifiers.add(q.group(1))
            if o := _OWNER_BEFORE.search(before):
                qualifiers.add(o.group(1))
        surfaces = sorted({m["text"] for m in group})
        regions = [r.group(1) for t in surfaces if (r := _ENDS_REGION.match(t.strip()))]
        found = candidates(index, surfaces, label)
        if regions:  # "Fars Province", "Metcalfe County": a region of that name, or nothing
            found = {gid: (p, k) for gid, (p, k) in
                     (found | candidates(index, regions, label)).items() if p.feature_class == "A"}
        names.append(_Name(key, surfaces, label, len(group), min(m["start_char"] for m in group),
                           found, qualifiers, asks, bool(regions)))
    return names


def _qualifier_places(index: PlaceIndex, qualifiers: set[str]) -> list[Place]:
    """Return the regions and countries the qualifying words name."""
    out = []
    for q in qualifiers:
        words = q.split()
        for n in range(len(words), 0, -1):  # "Texas A&M" -> "Texas"
            found = [p for p, kind in candidates(index, [" ".join(words[:n])], None).values()
                     if p.feature_code in ("PCLI", "ADM1") and kind != ALTERNATE]
            if found:
                out.extend(found)
                break
    return out


def _score(place: Place, kind: str, name: _Name, context: dict, quals: list[Place]) -> float:
    score = prior(place, kind)
    if place.country_code and context["countries"].get(place.country_code, 0) > 0 and \
            place.feature_code != "PCLI":
        score += IN_ARTICLE_COUNTRY
    if place.admin1 and context["regions"].get(place.admin1, 0) > 0 and place.feature_code != "ADM1":
        score += IN_ARTICLE_REGION
    if place.feature_code == "ADM1" and context["towns"].get(place.admin1, 0) > 0:
        score += IN_ARTICLE_REGION  # a region whose towns the article names
    if place.feature_code not in ("PCLI", "CONT") and not name.names_country and any(
            q.geonameid != place.geonameid and (
            (q.feature_code == "PCLI" and q.country_code == place.country_code)
            or (q.feature_code == "ADM1" and q.admin1 == place.admin1)) for q in quals):
        score += NEAR_QUALIFIER
    if "region" in name.asks and place.feature_code == "ADM1":
        score += ASKED_TYPE
    if "city" in name.asks and place.feature_class == "P":
        score += ASKED_TYPE
    return score


def _choose(name: _Name, context: dict, index: PlaceIndex) -> Located:
    if not name.found:
        return Located(None, "none", 0.0)
    quals = _qualifier_places(index, name.qualifiers)
    ranked = sorted(((_score(p, k, name, context, quals), -p.population, p.geonameid, p, k)
                     for p, k in name.found.values()), key=lambda r: (-r[0], r[1], r[2]))
    best, kind = ranked[0][3], ranked[0][4]
    margin = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else ranked[0][0]
    if kind == DEMONYM:
        rule = "demonym"
    elif (quals and ranked[0][0] - prior(best, kind) >= NEAR_QUALIFIER) or (
            "region" in name.asks and best.feature_code == "ADM1") or (
            "city" in name.asks and best.feature_class == "P"):
        rule = "qualifier"  # the text itself says where, or what, the place is
    elif ranked[0][0] > prior(best, kind):
        rule = "context"
    else:
        rule = "prior"
    return Located(best, rule, round(margin, 3))


def _context(chosen: dict[str, Located], names: list[_Name], skip: str) -> dict:
    """Return the countries and regions the article's other names chose, weighted by mentions."""
    countries: Counter = Counter()
    regions: Counter = Counter()
    towns: Counter = Counter()
    for name in names:
        located = chosen.get(name.key)
        if name.key == skip or located is None or located.place is None:
            continue
        place = located.place
        if place.country_code:
            countries[place.country_code] += name.n
        if place.feature_code == "ADM1":
            regions[place.admin1] += name.n
        elif place.feature_class == "P" and place.admin1:
            towns[place.admin1] += name.n
    return {"countries": countries, "regions": regions, "towns": towns}


def locate(index: PlaceIndex, text: str, mentions: Sequence[dict]) -> dict[str, Located]:
    """Return key -> Located for the place mentions of one article (dicts with key, text, label,
    start_char, end_char; offsets into `text`). An article is placed on its own: the same
    article gets the same places whichever run, chunk or worker it comes in."""
    names = _names(index, text, mentions)
    empty = {"countries": Counter(), "regions": Counter(), "towns": Counter()}
    chosen = {n.key: _choose(n, empty, index) for n in names}
    for _ in range(2):
        chosen = {n.key: _choose(n, _context(chosen, names, n.key), index) for n in names}
    # a name the gazetteer does not know ("Metcalfe County", a hospital) lies in the country the
    # text puts it in, or else in the article's focus country
    country, _ = focus(chosen, {n.key: n.n for n in names}, {n.key: n.first for n in names})
    for name in names:
        if chosen[name.key].place is None and name.label != "NORP":
            quals = _qualifier_places(index, name.qualifiers)
            inside = quals[0].country_code if quals else country
            if inside:
                chosen[name.key] = Located(None, "focus", 0.0, inside)
    return chosen


def focus(chosen: dict[str, Located], counts: dict[str, int],
          firsts: dict[str, int] | None = None) -> tuple[str | None, int | None]:
    """Return the article's focus country (the one most of its place mentions lie in; on a tie,
    the one named first) and focus place (its most mentioned place below country level in that
    country; on a tie, the first named)."""
    firsts = firsts or {}
    countries: dict[str, list] = {}
    places: dict[tuple[str, int], list] = {}
    for key, located in chosen.items():
        if not located.country:
            continue
        n, first = counts.get(key, 1), firsts.get(key, 0)
        entry = countries.setdefault(located.country, [0, first])
        entry[0], entry[1] = entry[0] + n, min(entry[1], first)
        if located.place and located.place.feature_code != "PCLI":
            entry = places.setdefault((located.country, located.place.geonameid), [0, first])
            entry[0], entry[1] = entry[0] + n, min(entry[1], first)
    if not countries:
        return None, None
    country = min(countries, key=lambda cc: (-countries[cc][0], countries[cc][1], cc))
    inside = [k for k in places if k[0] == country]
    if not inside:
        return country, None
    return country, min(inside, key=lambda k: (-places[k][0], places[k][1], k[1]))[1]


def place_row(index: PlaceIndex, place: Place) -> dict:
    """Return the `places` row of a place."""
    region = index.region.get(place.admin1) if place.feature_code != "ADM1" else place
    return {"geonameid": place.geonameid, "name": place.name, "feature_class": place.feature_class,
            "feature_code": place.feature_code, "country_code": place.country_code,
            "region_code": place.admin1, "region": region.name if region else None,
            "lat": place.lat, "lon": place.lon, "population": place.population}


def article_rows(index: PlaceIndex, articles: Sequence[dict], mentions: Sequence[dict]
                 ) -> dict[str, list[dict]]:
    """Return the mention_places, article_focus and places rows of `articles` (dicts with
    article_id and text) given their mentions (dicts with article_id, model, key, text, label,
    start_char, end_char): one row per place name of an article, the article's focus, and every
    place (and country) chosen."""
    by_article: dict[str, list[dict]] = defaultdict(list)
    for m in mentions:
        by_article[m["article_id"]].append(m)
    rows: dict[str, list[dict]] = {"mention_places": [], "article_focus": [], "places": []}
    places: dict[int, Place] = {}
    for article in articles:
        found = [m for m in by_article.get(article["article_id"], ()) if placeable(article["text"], m)]
        if not found:
            continue
        model = found[0]["model"]
        chosen = locate(index, article["text"], found)
        counts = Counter(m["key"] for m in found)
        firsts: dict[str, int] = {}
        for m in found:
            firsts[m["key"]] = min(firsts.get(m["key"], m["start_char"]), m["start_char"])
        labels = {m["key"]: m["label"] for m in found}
        for key, located in sorted(chosen.items()):
            if located.place is None and labels[key] not in ("GPE", "LOC"):
                continue  # a group or a building the gazetteer does not know: no place to say
            if located.place:
                places[located.place.geonameid] = located.place
            if (country := index.country.get(located.country)) is not None:
                places[country.geonameid] = country
            rows["mention_places"].append({
                "article_id": article["article_id"], "model": model, "key": key,
                "geonameid": located.place.geonameid if located.place else None,
                "country_code": located.country, "rule": located.rule, "score": located.score,
                "n_mentions": counts[key], "first_char": firsts[key]})
        country, place = focus(chosen, counts, firsts)
        if country:
            rows["article_focus"].append({"article_id": article["article_id"], "model": model,
                                          "country_code": country, "geonameid": place})
    rows["places"] = [place_row(index, p) for _, p in sorted(places.items())]
    return rows


def place_rows(articles: Sequence[dict], mentions: Sequence[dict],
               sentences: Sequence[dict] = ()) -> dict[str, list[dict]]:
    """Return article_rows against this process's place index (on a NER worker, its own
    connection to the index file); `sentences` are not needed."""
    return article_rows(place_index(), articles, mentions)

