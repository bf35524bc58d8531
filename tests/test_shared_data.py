"""Ingestion on the real corpora in ../shared/data (skipped when it is absent)."""

from __future__ import annotations

import json

import pytest

from tasks.clean import clean_records
from tasks.ingest import read_paths
from tasks.settings import Settings
from tests.test_pipeline import rows, run

SETTINGS = Settings()


def test_every_bbc_article_ingests_and_exact_duplicates_are_kept_once(shared):
    path = shared / "data" / "bbc-news" / "articles.jsonl"
    records, rejects = read_paths([path], SETTINGS)
    assert len(records) == 2225 and rejects == []
    articles, rejects, duplicates = clean_records(records, max_chars=SETTINGS.max_chars)
    assert rejects == []
    distinct = {" ".join(json.loads(line)["text"].split()) for line in path.open(encoding="utf-8")}
    assert len(articles) == len(distinct) and duplicates == 2225 - len(distinct) >= 98
    assert len({a["article_id"] for a in articles}) == len(articles)


@pytest.mark.slow
def test_real_feeds_ingest_with_titles_links_dates_and_languages(prefect_server, shared, tmp_path):
    warehouse = tmp_path / "w"
    summary = run([shared / "data" / "feeds-dev"], warehouse)
    assert summary["n_rejects"] == 0
    per_source = dict(rows(warehouse, "SELECT source, count(*) FROM articles GROUP BY ALL"))
    assert per_source == {"The Guardian": 55, "Food in Invironment on Medium": 7,
                          "heise developer neueste Meldungen": 15, "UOL Noticias": 15}
    missing = rows(warehouse, "SELECT count(*) FROM articles WHERE title IS NULL OR url IS NULL "
                              "OR published_at IS NULL OR date_method <> 'feed'")
    assert missing == [(0,)]
    uol = rows(warehouse, "SELECT title, published_at FROM articles WHERE source = 'UOL Noticias' "
                          "ORDER BY published_at DESC LIMIT 1")
    assert uol[0][0].startswith("Ibope: Bolsonaro perde de Haddad")
    assert uol[0][1].isoformat() == "2018-09-24T22:42:40"  # "Seg, 24 Set 2018 19:42:40 -0300"
    latin1 = rows(warehouse, "SELECT count(*) FROM articles WHERE source = 'UOL Noticias' AND "
                             "(title LIKE '%ç%' OR title LIKE '%ã%' OR title LIKE '%é%')")
    assert latin1[0][0] >= 3
    assert rows(warehouse, "SELECT count(*) FROM articles WHERE title LIKE '%Ã%'") == [(0,)]
    languages = dict(rows(warehouse, "SELECT source, list(DISTINCT language) FROM articles "
                                     "WHERE source IN ('UOL Noticias', "
                                     "'heise developer neueste Meldungen') GROUP BY ALL"))
    assert languages == {"UOL Noticias": ["pt"], "heise developer neueste Meldungen": ["de"]}
    foreign_mentions = rows(warehouse, "SELECT count(*) FROM mentions JOIN articles "
                                       "USING (article_id) WHERE language IN ('de', 'pt')")
    assert foreign_mentions == [(0,)] and summary["n_other_language"] == 30


# BBC articles holding the names a reader saw wrong in the top entities before (issue 9).
CASES = r"Yukos|\bEU\b|European Union|Roddick|Labour|\bTor(?:y|ies)\b|\bU\.?S\.?\b|United States|" \
        r"Brentford|Kelly Holmes|Henman"


@pytest.fixture(scope="module")
def bbc_cases(prefect_server, shared, tmp_path_factory):
    """A warehouse of the BBC articles holding CASES (up to 25 a case), run by the real flow."""
    import re

    lines = (shared / "data" / "bbc-news" / "articles.jsonl").read_text().splitlines()
    picked, per_case = [], {}
    for line in lines:
        found = {m.group(0) for m in re.finditer(CASES, json.loads(line)["text"])}
        if found and any(per_case.get(case, 0) < 25 for case in found):
            picked.append(line)
            for case in found:
                per_case[case] = per_case.get(case, 0) + 1
    root = tmp_path_factory.mktemp("bbc-cases")
    corpus = root / "bbc-cases.jsonl"
    corpus.write_text("\n".join(picked) + "\n")
    warehouse = root / "w"
    run([corpus], warehouse)
    return warehouse


@pytest.mark.slow
def test_the_top_entities_of_a_real_corpus_are_each_one_entity_named_by_its_full_form(bbc_cases):
    import re

    warehouse = bbc_cases
    top = rows(warehouse, "SELECT name, label, n_mentions FROM entities "
                          "ORDER BY n_mentions DESC, name LIMIT 60")
    names = [name for name, _, _ in top]
    assert len({n.casefold() for n in names}) == len(names)  # every entity once
    assert not [n for n in names if n == n.lower() or re.search(r"^\d|\d$| v ", n)]
    assert {"European Union", "United States", "Labour", "Yukos", "Andy Roddick"} <= set(names)
    assert not set(names) & {"EU", "US", "U.S.", "Europe Union", "ex-Yukos", "2 Andy Roddick",
                             "Tories", "Sprinter Kelly Holmes", "Briton Tim Henman"}
    assert len({n for n in names if n in ("Tory", "Tories")}) == 1
    labour = rows(warehouse, "SELECT label, n_mentions FROM entities WHERE name = 'Labour'")
    assert labour and labour[0][0] == "ORG"  # its PERSON mentions joined, the majority labels
    everyone = rows(warehouse, "SELECT name FROM entities")
    assert not [n for (n,) in everyone if n == n.lower()]  # "cts", "mln": no lowercase entity
    joined = rows(warehouse, "SELECT count(*) FROM mentions WHERE regexp_matches(text, ' v ')")
    assert joined == [(0,)]


@pytest.mark.slow
def test_the_original_seed_articles_places_resolve_and_russian_counts_for_russia(
        prefect_server, shared, tmp_path):
    from tests.test_pipeline import assert_seed_places

    run([shared / "seeds"], tmp_path / "w")
    assert_seed_places(tmp_path / "w")


@pytest.mark.slow
def test_the_report_map_of_a_real_corpus_draws_in_headless_chromium(bbc_cases, tmp_path):
    from tasks.warehouse import Warehouse
    from tests.test_report import CHROMIUM, assert_map_drawn

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (.ci/run installs it)")
    html = assert_map_drawn(Warehouse(bbc_cases), tmp_path)
    assert "every article; none has a date" in html  # BBC items carry no dates
    assert "United Kingdom" in html and "United States" in html


@pytest.mark.slow
def test_the_original_seed_articles_quotes_go_to_kim_and_the_pacts_words_to_no_one(
        prefect_server, shared, tmp_path):
    run([shared / "seeds"], tmp_path / "w")
    quotes = rows(tmp_path / "w", "SELECT quote, speaker_id, direct, rule FROM who_said_what "
                                  "ORDER BY start_char")
    kim = "person:kim jong un"

    def speaker_of(words: str):
        found = [(s, d, r) for q, s, d, r in quotes if words in q]
        assert len(found) == 1, (words, quotes)
        return found[0]

    assert speaker_of("“advance non-stop”") == (kim, False, "partial")  # inside a clause
    assert speaker_of("DPRK-Russia friendship")[0] == kim
    assert speaker_of("The years of militant fraternity") == (kim, True, "continued")
    assert speaker_of("Pyongyang will always be with Moscow") == (kim, True, "before")
    assert speaker_of("either party is in a state of war")[0] is None
