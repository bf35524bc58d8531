"""Tone: how positively or negatively a sentence, a quote or a mention's part of its sentence reads,
from VADER's lexicon and rules (vaderSentiment, MIT: the lexicon ships in the package) with a few
words news uses that VADER lacks (tasks/data/news_tone.csv).

A mention's tone is scored on the clause of its sentence it stands in (split at ";", dashes, and
", but", "while", "although" ...), not on the whole sentence; a mention that is the speaker of a
report ("Asonye said", "said Mr. Earnest", "Conaway, the Republican running the probe, told") or
its addressee ("told Fox News", "in an interview with Chris Hayes") gets none from what is
reported: 0.0. Scores run from -1
(most negative) to 1; VADER's own cut-offs (+-0.05) make the three classes.
"""

from __future__ import annotations

import csv
import re
from functools import cache, lru_cache
from importlib import resources

POSITIVE, NEGATIVE = 0.05, -0.05   # VADER's cut-offs between negative, neutral and positive
_CLAUSE_BOUNDARY = re.compile(r"\s*(?:[;:—–]|,\s+(?:but|while|whereas|although|though|and|as)\b|"
                              r"\bbut\b|\bwhile\b|\bwhereas\b|\balthough\b)\s*")
# Verbs that report speech; _REPORTING also takes the forms a speaker rarely stands apart from.
_SPEECH_VERBS = ("said|says|told|tells|added|wrote|asked|explained|noted|argued|claimed|stated|"
                 "tweeted|warned|replied|announced|insisted|declared")
_REPORTING = re.compile(rf"\b(?:{_SPEECH_VERBS}|say|adds|writes|asks|recalled|according to)\b")
_REPORTED_BEFORE = re.compile(r"\b(?:said|says|told|added|wrote|asked|according to)\s*$")
# "Kim, the country's leader, told": an apposition between a speaker and its verb.
_APPOSITION_THEN_REPORTING = re.compile(rf"^,[^,;.\"“”]{{1,80}},\s*(?:{_SPEECH_VERBS})\b")
# "told anchor John Berman", "in an interview with Chris Hayes": whom a report is addressed to.
_ADDRESSED = re.compile(r"\b(?:told|tells|interview with|speaking (?:to|with)|spoke (?:to|with)|"
                        r"talks with|talked (?:to|with)|asked by)\s+(?:[\w’'.]+\s+){0,3}$")


@cache
def analyzer():
    """Return VADER's analyser with the news words added; built once per process."""
    text = resources.files("tasks").joinpath("data", "news_tone.csv").read_text(encoding="utf-8")
    scorer = _faster_vader()()
    scorer.lexicon.update({r["word"]: float(r["valence"]) for r in csv.DictReader(text.splitlines())})
    return scorer


def _faster_vader() -> type:
    """Return VADER's analyser with the same scores in less time: a text without emoji skips
    VADER's character-by-character emoji rewrite (which gives it back unchanged), a word outside
    the lexicon goes straight to a valence of 0, where VADER asks its rules (which give 0), and the
    negation check lowercases the three words it reads, not the whole text each time. Two thirds
    of the speech stage's time went to VADER; scores equal VADER's on 101,000 news sentences."""
    from vaderSentiment.vaderSentiment import (
        BOOSTER_DICT,
        N_SCALAR,
        NEGATE,
        SentimentIntensityAnalyzer,
        SentiText,
    )

    negations = frozenset(NEGATE)

    def negated(word: str) -> bool:
        return word in negations or "n't" in word

    class Analyzer(SentimentIntensityAnalyzer):
        @staticmethod
        def _negation_check(valence, words_and_emoticons, start_i, i):
            # VADER's own check (vaderSentiment 3.3.2), reading only the words it needs
            def word(back: int) -> str:
                return str(words_and_emoticons[i - back]).lower()

            if start_i == 0:
                if negated(word(1)):
                    valence = valence * N_SCALAR
            if start_i == 1:
                if word(2) == "never" and word(1) in ("so", "this"):
                    valence = valence * 1.25
                elif word(2) == "without" and word(1) == "doubt":
                    pass
                elif negated(word(2)):
                    valence = valence * N_SCALAR
            if start_i == 2:
                if word(3) == "never" and word(2) in ("so", "this") or word(1) in ("so", "this"):
                    valence = valence * 1.25
                elif word(3) == "without" and (word(2) == "doubt" or word(1) == "doubt"):
                    pass
                elif negated(word(3)):
                    valence = valence * N_SCALAR
            return valence

        def polarity_scores(self, text):
            if not _emoji_characters().isdisjoint(text):
                return super().polarity_scores(text)
            text = text.strip()
            sentitext = SentiText(text)
            words, lexicon = sentitext.words_and_emoticons, self.lexicon
            sentiments: list = []
            for i, item in enumerate(words):
                lower = item.lower()
                if lower in BOOSTER_DICT or lower not in lexicon or (
                        lower == "kind" and i < len(words) - 1 and words[i + 1].lower() == "of"):
                    sentiments.append(0)
                    continue
                sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
            return self.score_valence(self._but_check(words, sentiments), text)

    return Analyzer


@cache
def _emoji_characters() -> frozenset[str]:
    return frozenset(c for c in analyzer().emojis if len(c) == 1)


def _scored_words(text: str) -> bool:
    """True when VADER would find a word of its lexicon in `text` (its own tokens: split on
    spaces, outer punctuation stripped from words) or an emoji; without either its score is 0."""
    from vaderSentiment.vaderSentiment import SentiText

    lexicon = analyzer().lexicon
    return not _emoji_characters().isdisjoint(text) or any(
        SentiText._strip_punc_if_word(word).lower() in lexicon for word in text.split())


@lru_cache(maxsize=16_384)  # a mention's clause is often its whole sentence, scored already
def tone(text: str) -> float:
    """Return the tone of a piece of text, -1 to 1 (VADER's compound score)."""
    if not text.strip() or not _scored_words(text):
        return 0.0
    return round(analyzer().polarity_scores(text)["compound"], 4)


@lru_cache(maxsize=1_024)  # the mentions of a sentence come one after another
def _clause_bounds(sentence: str) -> tuple[tuple[int, int], ...]:
    return tuple((b.start(), b.end()) for b in _CLAUSE_BOUNDARY.finditer(sentence))


def clause(sentence: str, start: int, end: int) -> str:
    """Return the clause of `sentence` that holds [start, end)."""
    bounds = _clause_bounds(sentence)
    lo = max([0] + [b_end for _, b_end in bounds if b_end <= start])
    hi = min([len(sentence)] + [b_start for b_start, _ in bounds if b_start >= end])
    return sentence[lo:hi]


def is_speaker(sentence: str, start: int, end: int) -> bool:
    """True when the mention at [start, end) reports what follows or precedes it: "Asonye said",
    "Kim, the leader, told", ", said Earnest"."""
    after = sentence[end:end + 30]
    found = _REPORTING.search(after)
    if found and len(after[:found.start()].split()) <= 3 and \
            not any(c in after[:found.start()] for c in '.;"“”'):
        return True
    if _APPOSITION_THEN_REPORTING.search(sentence[end:end + 120]):
        return True
    return bool(_REPORTED_BEFORE.search(sentence[max(0, start - 20):start]))


def is_addressee(sentence: str, start: int, end: int) -> bool:
    """True when the mention at [start, end) is whom a report is told to: "told Fox News"."""
    return bool(_ADDRESSED.search(sentence[max(0, start - 40):start]))


def mention_tone(sentence: str, start: int, end: int) -> float:
    """Return the tone toward the mention at [start, end) of `sentence` (offsets into it)."""
    if is_speaker(sentence, start, end) or is_addressee(sentence, start, end):
        return 0.0
    return tone(clause(sentence, start, end))


def polarity(score: float) -> int:
    """Return -1, 0 or 1 for a tone score."""
    return 1 if score >= POSITIVE else -1 if score <= NEGATIVE else 0
