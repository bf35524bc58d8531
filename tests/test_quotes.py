"""Quotes and their speakers, tone per mention: the rules, the stage, its tables and views."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from tasks.canonical import entity_key
from tasks.quotes import find_quotes, quote_spans
from tasks.speech import find_quotes_and_tone
from tasks.tone import clause, is_speaker, mention_tone, polarity
from tasks.warehouse import Warehouse, commit_run, query, to_arrow

# An article written for these tests in the shape of the seed: a partial quote, a quote with its
# speaker after it, a paragraph that goes on with it, "He added that", a document's words.
ARTICLE = (
    "Ties between the two navies will “grow without pause” Admiral Mara Quist said on Monday.\n"
    "Quist spoke at the launch of a survey ship in Harbor City.\n"
    "“The partnership, tested in storms and in calm, is now at its strongest,” Quist said.\n"
    "“The crews who trained together will sail together, and the charts they drew will guide "
    "ships for decades to come.”\n"
    "She added that “the harbor will always be open to our friends.”\n"
    "The two navies signed a charter in 2024, which stated that “each side shall help the other "
    "in any storm without delay.”\n"
    "“It is a fine day,” said Ben Ortiz, the mayor. “We waited a long time.”\n"
    "Officials called the ship “a floating lab” in a statement.\n"
)
NAMES = [("Mara Quist", "PERSON"), ("Quist", "PERSON"), ("Harbor City", "GPE"),
         ("Ben Ortiz", "PERSON")]
QUIST, ORTIZ = "person:mara quist", "person:ben ortiz"


def mentions_of(text: str, names=NAMES) -> list[dict]:
    out, taken = [], set()
    for surface, label in names:
        for found in re.finditer(re.escape(surface), text):
            if any(found.start() < e and s < found.end() for s, e in taken):
                continue
            taken.add((found.start(), found.end()))
            key = QUIST if "Quist" in surface else entity_key(surface, label)
            out.append({"article_id": "a", "model": "m", "text": surface, "label": label,
                        "key": key, "start_char": found.start(), "end_char": found.end()})
    return sorted(out, key=lambda m: m["start_char"])


def quotes_by_text(text: str = ARTICLE) -> dict[str, tuple]:
    return {text[q.start:q.end]: (q.direct, q.rule, q.speaker_key,
                                  text[q.speaker_start:q.speaker_end] if q.speaker_start is not None
                                  else None)
            for q in find_quotes(text, mentions_of(text))}


def test_each_quote_of_the_seed_shaped_article_goes_to_its_speaker():
    found = quotes_by_text()
    assert found["“grow without pause”"] == (False, "partial", QUIST, "Mara Quist")
    assert found["“The partnership, tested in storms and in calm, is now at its strongest,”"] == \
        (True, "after", QUIST, "Quist")
    continued = [k for k in found if k.startswith("“The crews")]
    assert found[continued[0]] == (True, "continued", QUIST, "Quist")  # no verb of its own
    assert found["“the harbor will always be open to our friends.”"] == (True, "before", QUIST, "She")
    charter = [v for k, v in found.items() if k.startswith("“each side")]
    assert charter == [(True, "before", None, None)]  # "which stated": no person
    split = [v for k, v in found.items() if k.startswith("“It is a fine day")]
    assert split == [(True, "split", ORTIZ, "Ben Ortiz")]  # “A,” said X. “B.”: one quote
    assert not [k for k in found if "floating lab" in k]  # a scare quote is no quote


def test_quote_marks_of_every_kind_are_paired():
    text = "''We will win,'' he said. \"Then we rest,\" she said. He called it ‘fine’."
    assert [text[s:e] for s, e, *_ in quote_spans(text)] == ["''We will win,''", '"Then we rest,"']
    text = "“First paragraph of a long quote\n“Second paragraph, closed.”"
    spans = quote_spans(text)
    assert [(text[s:e], closed) for s, e, closed, *_ in spans] == [
        ("“First paragraph of a long quote", False), ("“Second paragraph, closed.”", True)]


def test_reported_speech_becomes_an_indirect_quote_with_its_speaker():
    text = "Ben Ortiz said that the harbor would reopen next week after repairs.\n"
    found = find_quotes(text, mentions_of(text))
    assert [(text[q.start:q.end], q.direct, q.rule, q.speaker_key) for q in found] == [
        ("the harbor would reopen next week after repairs.", False, "indirect", ORTIZ)]
    text = "The storm damaged three piers in the old port, Ben Ortiz said.\n"
    found = find_quotes(text, mentions_of(text))
    assert [(text[q.start:q.end], q.rule, q.speaker_key) for q in found] == [
        ("The storm damaged three piers in the old port", "indirect", ORTIZ)]


def test_a_description_speaks_but_names_no_entity():
    text = "“We are ready,” the spokesman said.\n"
    [quote] = find_quotes(text, [])
    assert (text[quote.speaker_start:quote.speaker_end], quote.speaker_key) == ("the spokesman", None)


def test_tone_is_scored_on_the_mentions_clause_and_not_on_what_a_speaker_reports():
    sentence = "Quist praised the brave crew, but Ortiz attacked the corrupt port board."
    quist, ortiz = sentence.index("Quist"), sentence.index("Ortiz")
    assert clause(sentence, ortiz, ortiz + 5) == "Ortiz attacked the corrupt port board."
    assert polarity(mention_tone(sentence, quist, quist + 5)) == 1
    assert polarity(mention_tone(sentence, ortiz, ortiz + 5)) == -1
    reported = "“The board is corrupt and a disgrace,” Ortiz said."
    at = reported.index("Ortiz")
    assert is_speaker(reported, at, at + 5) and mention_tone(reported, at, at + 5) == 0.0


def test_tone_equals_vaders_score_with_its_shortcut_for_texts_without_a_lexicon_word():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from tasks.tone import analyzer, tone

    texts = ["The committee met on Tuesday in Vilnius.", "A day to remember 🙂", "(Great)",
             "The port board is “corrupt”!", "No.", "kind of", "Ortiz was lambasted."]
    for text in texts:
        assert tone(text) == round(analyzer().polarity_scores(text)["compound"], 4), text
    assert tone("A day to remember 🙂") > 0 and tone("(Great)") > 0  # emoji, stripped punctuation
    assert SentimentIntensityAnalyzer().polarity_scores(texts[0])["compound"] == tone(texts[0]) == 0


def test_the_faster_analyzer_scores_every_rule_of_vader_as_vader_does():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from tasks.tone import analyzer

    stock = SentimentIntensityAnalyzer()
    stock.lexicon = dict(analyzer().lexicon)  # the same lexicon, news words included
    texts = [  # each of VADER's rules, where the faster one takes another way to the same score
        "The talks were not good.",                        # negation one word before
        "The talks were not very good.",                   # two before, through a booster
        "It isn't at all a good deal.",                    # a negation, three before
        "It couldn't've been a good deal.",                # "n't" in a word VADER does not list
        "Never so happy, he said.",                        # never so: 1.25
        "They were never this hopeful.",                   # never this
        "It was without doubt a success.",                 # without doubt: no negation
        "Without any doubt it failed.",                    # without ... doubt, three before
        "It was kind of good.", "Good. Kind of.",          # "kind of" and a last "kind"
        "No good came of it.", "There was no, or little, hope.",  # "no" before a lexicon word
        "The plan was GOOD, the critics said.",            # capitals among lower case
        "The deal was good but the price was terrible.",   # "but"
        "Prices soared!!! Investors cheered?",             # punctuation emphasis
        "What a day 😀 for the markets",                   # emoji: VADER's own way
        "  An extremely bad outcome  ", "", "at least it was good", "the least good option",
    ]
    fast = analyzer()
    assert type(fast).polarity_scores is not SentimentIntensityAnalyzer.polarity_scores
    for text in texts:
        assert fast.polarity_scores(text) == stock.polarity_scores(text), text
    assert {fast.polarity_scores(t)["compound"] for t in texts[:7]} != {0.0}  # scored, not skipped


def test_a_speaker_behind_an_apposition_and_whom_a_report_is_told_to_get_no_tone_from_it():
    sentence = ("Ortiz, the port's longest-serving pilot, told Harbor Radio host Lena Quist that the "
                "board was corrupt and a disgrace.")
    for name in ("Ortiz", "Lena Quist"):
        at = sentence.index(name)
        assert mention_tone(sentence, at, at + len(name)) == 0.0, name
    board = sentence.index("the board")
    assert polarity(mention_tone(sentence, board, board + 9)) == -1
    assert polarity(mention_tone("Ortiz was lambasted by the board.", 0, 5)) == -1  # news words


# --- the stage, its tables and views -------------------------------------------------------------

DAY1, DAY2 = datetime(2025, 10, 1, 9), datetime(2025, 10, 2, 9)


def staged_article(article_id: str, day: datetime, text: str) -> tuple[dict, list[dict], list[dict]]:
    article = {"article_id": article_id, "external_id": article_id, "source": "Wire", "authors": [],
               "published_at": day, "date_method": "metadata", "text": text,
               "word_count": len(text.split()), "input_path": "t", "extraction_method": "wire",
               "story_id": article_id, "run_id": "r"}
    sentences, start = [], 0
    for i, line in enumerate(text.split("\n")):
        if line:
            sentences.append({"article_id": article_id, "model": "m", "sentence_index": i,
                              "start_char": start, "end_char": start + len(line)})
        start += len(line) + 1
    index = {s["sentence_index"]: s for s in sentences}
    mentions = []
    for m in mentions_of(text):
        sentence = next(i for i, s in index.items() if s["start_char"] <= m["start_char"] < s["end_char"])
        mentions.append({**m, "article_id": article_id, "sentence_index": sentence,
                         "entity_id": m["key"], "name": "Mara Quist" if m["key"] == QUIST else m["text"],
                         "model_version": "1",
                         "run_id": "r"})
    return article, mentions, sentences


def stage_and_commit(w: Warehouse, run_id: str, built) -> dict:
    staging = w.staging(run_id)
    articles = [a for a, _, _ in built]
    mentions = [m for _, ms, _ in built for m in ms]
    sentences = [s for _, _, ss in built for s in ss]
    staging.write("articles", to_arrow("articles", articles))
    staging.write("ner_input", to_arrow("articles", articles).select(["article_id", "text"]))
    staging.write("mentions", to_arrow("mentions", mentions))
    staging.write("sentences", to_arrow("sentences", sentences))
    from tasks.resolve import resolve_keys
    from tasks.warehouse import compute_aggregates, resolution_inputs

    counts = find_quotes_and_tone.fn(w, staging)
    keys, acronyms, _ = resolution_inputs(w, staging)
    staging.write("entity_keys", to_arrow("entity_keys", resolve_keys(keys, acronyms, counts=keys)))
    compute_aggregates(w, staging, model="m")
    commit_run(w, staging, {"run_id": run_id, "started_at": DAY1, "finished_at": DAY1,
                            "inputs": [], "model": "m", "model_version": "1",
                            "n_inputs": len(built), "n_duplicates": 0,
                            "n_new_articles": len(built), "n_other_language": 0,
                            "n_mentions": len(mentions), "n_rejects": 0, "stage_seconds": "{}"})
    return counts


@pytest.fixture(scope="module")
def quoted(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("quotes"))
    second = "Ben Ortiz said the corrupt port board had failed the city again.\n" \
             "“A disgrace,” said Ben Ortiz. “They lied to us.”\n"
    stage_and_commit(w, "r1", [staged_article("q1", DAY1, ARTICLE), staged_article("q2", DAY2, second)])
    return w


def test_who_said_what_names_each_quotes_speaker_entity(quoted):
    _, rows = query(quoted, "SELECT article_id, speaker_name, speaker, cue, left(quote, 20), direct, "
                            "rule FROM who_said_what ORDER BY article_id, start_char")
    assert rows == [
        ("q1", "Mara Quist", "Mara Quist", "said", "“grow without pause”", False, "partial"),
        ("q1", "Mara Quist", "Quist", "said", "“The partnership, te", True, "after"),
        ("q1", "Mara Quist", "Quist", None, "“The crews who train", True, "continued"),
        ("q1", "Mara Quist", "She", "added", "“the harbor will alw", True, "before"),
        ("q1", None, None, "stated", "“each side shall hel", True, "before"),
        ("q1", "Ben Ortiz", "Ben Ortiz", "said", "“It is a fine day,” ", True, "split"),
        ("q2", "Ben Ortiz", "Ben Ortiz", "said", "the corrupt port boa", False, "indirect"),
        ("q2", "Ben Ortiz", "Ben Ortiz", "said", "“A disgrace,” said B", True, "split"),
    ]
    _, offsets = query(quoted, "SELECT count(*) FROM quotes JOIN articles USING (article_id) WHERE "
                               "substr(articles.text, start_char + 1, end_char - start_char) <> quotes.text")
    assert offsets == [(0,)]


def test_speaker_daily_counts_quotes_and_their_tone_per_entity_and_day(quoted):
    _, rows = query(quoted, "SELECT day, speaker_name, n_quotes, n_direct, tone < 0 FROM speaker_daily "
                            "ORDER BY day, speaker_name")
    assert rows == [(date(2025, 10, 1), "Ben Ortiz", 1, 1, False),
                    (date(2025, 10, 1), "Mara Quist", 4, 3, False),
                    (date(2025, 10, 2), "Ben Ortiz", 2, 1, True)]


def test_entity_tone_averages_the_tone_toward_each_entity_per_day(quoted):
    _, rows = query(quoted, "SELECT day, name, n_mentions, n_positive, n_negative FROM entity_tone "
                            "WHERE entity_id = 'person:ben ortiz' ORDER BY day")
    # Oct 1: "said Ben Ortiz" (a speaker: 0); Oct 2: the speaker twice (0)
    assert rows == [(date(2025, 10, 1), "Ben Ortiz", 1, 0, 0), (date(2025, 10, 2), "Ben Ortiz", 2, 0, 0)]
    _, board = query(quoted, "SELECT count(*) FROM mention_tones")
    _, mentions = query(quoted, "SELECT count(*) FROM mentions")
    assert board == mentions  # every mention has its tone


def test_an_older_warehouse_gains_quotes_and_tone_for_its_stored_articles_once(tmp_path):
    from tasks.warehouse import migrate, pending
    from tests.test_migrations import v1_warehouse

    w = v1_warehouse(tmp_path / "w")  # schema 001: 'Kim spoke in Seoul.' with two mentions
    migrate(w)
    assert pending(w, "speech_pending")
    counts = stage_and_commit(w, "r2", [staged_article("q9", DAY2, "Ben Ortiz said the harbor "
                                                       "would reopen next week.\n")])
    assert counts["n_backfilled_quotes"] == 1
    _, rows = query(w, "SELECT article_id, count(*) FROM mention_tones GROUP BY 1 ORDER BY 1")
    assert rows == [("a1", 2), ("q9", 1)]
    assert not pending(w, "speech_pending")


def test_the_report_lists_the_most_quoted_people_and_the_entities_whose_tone_moved(tmp_path):
    from datetime import timedelta

    from tasks.report import write_report

    w = Warehouse(tmp_path / "w")
    warm = "Ben Ortiz praised the brave and generous crew, a wonderful success.\n"
    cold = "Ben Ortiz attacked the corrupt board, a disgraceful failure.\n"
    built = [staged_article(f"t{i}", DAY1 + timedelta(days=i), warm if i < 3 else cold)
             for i in (0, 1, 2, 20, 21, 22)]
    built.append(staged_article("t9", DAY1 + timedelta(days=22), "“We will sail on,” said Ben "
                                "Ortiz. “The harbor stays open to every ship that asks.”\n"))
    stage_and_commit(w, "r1", built)
    html = write_report(w, tmp_path / "report.html").read_text()
    quoted = re.search(r'<section id="quoted">.*?</section>', html, re.DOTALL).group(0)
    assert "<td>Ben Ortiz</td><td class=\"n\">1</td><td>“We will sail on,” said Ben Ortiz." in quoted
    movers = re.search(r'<svg id="tone-movers".*?</svg>', html, re.DOTALL).group(0)
    bar = re.search(r'>Ben Ortiz \(([+-][\d.]+); now ([+-][\d.]+)\)<', movers)
    assert bar and float(bar.group(1)) < -1.0 and float(bar.group(2)) < 0  # warm, then cold
    assert 'fill="#dc2626"' in movers
