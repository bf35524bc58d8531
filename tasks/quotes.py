"""Who said what: quotes in an article's text, their reporting verb (cue) and their speaker.

Pure functions over an article's text and its mentions. A quote is found the way wire copy writes
one, with rules rather than a parser:

- direct: text between quotation marks (“ ”, straight quotes, the NYT's '' ''); a quote left open
  at a paragraph's end runs to it, and a paragraph that is one quote with no verb of its own
  continues the quote before it (rule `continued`). A quote split by its attribution (“A,” he
  said, “B.”) is one quote. A quotation inside a clause ("will “advance non-stop” Kim said") is a
  partial quote: direct is false.
- indirect: "X said (that) ..." and "..., X said." in a sentence without quotation marks.

The speaker is the name, pronoun or description right beside the cue ("Kim said", "said Michael
Oppenheimer", "he added", "the spokesman said"). A name is tied to the article's mention there; "he"
and "she" to the person the article named last before the quote; a description ("the spokesman"),
a relative "which" or a name the article does not give stay without an entity, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Reporting verbs, in the forms news writes them.
CUES = (
    "said", "says", "say", "saying", "added", "adds", "adding", "told", "tells", "telling", "wrote",
    "writes", "writing", "asked", "asks", "asking", "recalled", "recalls", "declared", "declares",
    "demanded", "explained", "explains", "noted", "notes", "continued", "continues", "insisted",
    "insists", "argued", "argues", "claimed", "claims", "stated", "states", "tweeted", "tweets",
    "warned", "warns", "replied", "responded", "answered", "acknowledged", "admitted", "announced",
    "boasted", "complained", "conceded", "confirmed", "cautioned", "joked", "quipped", "urged",
    "vowed", "pledged", "promised", "predicted", "suggested", "observed", "remarked", "reported",
    "reports", "shouted", "yelled", "chanted", "scolded", "mused", "countered", "stressed",
    "emphasized", "emphasised", "concluded", "agreed", "testified", "wondered", "posted",
)
_CUE = r"(?:" + "|".join(sorted(CUES, key=len, reverse=True)) + r")"
_CUE_RE = re.compile(rf"\b{_CUE}\b")
PRONOUNS = {"he": "PERSON", "she": "PERSON", "He": "PERSON", "She": "PERSON"}
OTHER_PRONOUNS = {"they", "They", "it", "It", "we", "We", "I", "you", "You"}
RELATIVES = {"which", "that", "Which", "That"}
_TITLE = r"(?:(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Prof|Rev|Lt|Col|Sgt|Capt)\.?\s+)"
_NAME = re.compile(rf"{_TITLE}?[A-Z][\w’'.-]*(?:\s+(?:[A-Z][\w’'.-]*|de|van|von|bin|al|la|le|der))*")
_DESCRIPTION = re.compile(r"(?:the|a|an|one|another|his|her|their)\s+(?:[\w’'-]+\s+){0,3}[\w’'-]+$",
                          re.IGNORECASE)
_ADVERBS = {"also", "later", "then", "once", "previously", "recently", "earlier", "further",
            "again", "simply", "bluntly", "quietly", "flatly", "sarcastically", "angrily"}
_SENTENCE_END_CANDIDATE = re.compile(r"([\w.]*)[.!?][”\"’']?\s+[A-Z“\"‘]")
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "sen", "rep", "gov", "gen", "lt", "col", "sgt",
                 "capt", "prof", "rev", "jr", "sr", "no", "inc", "corp", "co", "ltd", "vs", "u.s",
                 "a.m", "p.m", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec",
                 "d-md", "r", "d", "mt", "ft", "ave"}


class _SentenceEnd:
    """Sentence ends in running text: a full stop, question or exclamation mark (and a closing
    quotation mark) before a capital, except after an abbreviation or an initial ("Mr.", "E.")."""

    @staticmethod
    def finditer(text: str, start: int = 0, end: int | None = None):
        for found in _SENTENCE_END_CANDIDATE.finditer(text, start, len(text) if end is None else end):
            word = found.group(1).lower().rstrip(".")
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            yield found

    def search(self, text: str):
        return next(self.finditer(text), None)


_SENTENCE_END = _SentenceEnd()
OPENERS, CLOSERS = "“\"", "”\""
WINDOW = 120    # characters searched beside a quote for its attribution
MAX_GAP_WORDS = 9   # words between a quote and its cue ("Kim Jong-un, North Korea's leader, said")
MAX_APPOSITIVE_WORDS = 25  # ... when they are a name and what it is ("Scott Pruitt, the ..., said")
MIN_INDIRECT_WORDS = 4
_TOLD_THAT = re.compile(r"(?:\s+[\w’'-]+){1,4}?\s+that\s+")
_WHEN_THAT = re.compile(r"(?:\s+(?:on|in|at|last|this|earlier)\s+[\w.]+(?:\s+\w+)?)?\s*,?\s*(that\s+)?")
MAX_SPLIT_GAP_WORDS = 40  # words of attribution between the pieces of one split quote


@dataclass(frozen=True)
class Quote:
    """One quote of an article: offsets into its text."""

    start: int
    end: int
    direct: bool
    rule: str                  # after, before, split, continued, colon, unattributed, partial, indirect
    cue_start: int | None = None
    cue_end: int | None = None
    speaker_start: int | None = None
    speaker_end: int | None = None
    speaker_key: str | None = None   # the mention key of the speaker (mentions.key), if any


_TRANSCRIPT = re.compile(r"\(?([A-Z][A-Z.'’ -]{1,30}[A-Z])\)?:\s")


def _key_of(mentions: Sequence[dict], name: str) -> str | None:
    """Return the key of the person the article names `name` (a surname, any case), if one."""
    last = name.split()[-1].lower()
    known = [m for m in mentions if m["label"] == "PERSON" and m["key"].split()[-1] == last]
    return known[-1]["key"] if known else None


def _paragraphs(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for found in re.finditer(r"\n", text):
        if found.start() > start:
            out.append((start, found.start()))
        start = found.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


_MARK = re.compile(r"''|``|[“”\"]")
_KINDS = {"“": "open", "”": "close"}


def _marks(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """Return (position, length, kind) of the double quotation marks in text[start:end]; kind is
    open, close or either (straight quotes, whose side depends on what is around them)."""
    return [(m.start(), len(m.group()), _KINDS.get(m.group(), "either"))
            for m in _MARK.finditer(text, start, end)]


def _opens(text: str, pos: int, kind: str, para_start: int) -> bool:
    before = text[pos - 1] if pos > para_start else " "
    after = text[pos + 1] if pos + 1 < len(text) else " "
    if kind == "open":
        return True
    return (before.isspace() or before in "([—–-:,") and not after.isspace()


def _closes(text: str, pos: int, length: int, kind: str) -> bool:
    after = text[pos + length] if pos + length < len(text) else " "
    before = text[pos - 1] if pos > 0 else " "
    if kind == "close":
        return True
    if kind == "open":  # “ used as a closer ("... 51 percent.“")
        return before in ".,!?…" and (after.isspace() or after in ".,;:)")
    if before.isspace() and pos >= 2 and text[pos - 2] in ",.!?'’":  # ",' " he said
        return after.isspace() or after in ".,;:!?)"
    return not before.isspace() and (after.isspace() or after in ".,;:!?)—–-")


def _ends_sentence(text: str, end: int, para_end: int) -> bool:
    """True when a quote ending at `end` ends its sentence: the paragraph ends, the quote closes
    on a full stop, or a new sentence follows. A quote the sentence goes on after ("... point” to
    drive up ...") is a quotation inside a clause."""
    inner = text[max(0, end - 3):end]
    rest = text[end:para_end].lstrip()
    return not rest or any(c in inner for c in ".?!") or rest[0].isupper() or rest[0] in OPENERS


def quote_spans(text: str) -> list[tuple[int, int, bool, int, int]]:
    """Return (start, end, closed, paragraph start, paragraph end) of every span between
    quotation marks, marks included; a quote still open at its paragraph's end runs to it."""
    spans = []
    for p_start, p_end in _paragraphs(text):
        opened = None
        for pos, length, kind in _marks(text, p_start, p_end):
            if opened is None:
                if _opens(text, pos, kind, p_start) or (kind == "close" and pos == p_start):
                    opened = pos
            elif _closes(text, pos, length, kind):
                spans.append((opened, pos + length, True, p_start, p_end))
                opened = None
        if opened is not None and len(text[opened:p_end].split()) >= 3:
            spans.append((opened, p_end, False, p_start, p_end))
    return spans


def _mention_at(mentions: Sequence[dict], start: int, end: int) -> dict | None:
    """Return the mention overlapping [start, end) that ends last (the head of "X of Y")."""
    hits = [m for m in mentions if m["start_char"] < end and start < m["end_char"]
            and m["label"] in ("PERSON", "ORG", "NORP", "GPE")]
    return max(hits, key=lambda m: (m["label"] == "PERSON", m["end_char"])) if hits else None


def _last_person(mentions: Sequence[dict], before: int) -> dict | None:
    people = [m for m in mentions if m["label"] == "PERSON" and m["end_char"] <= before]
    return max(people, key=lambda m: m["start_char"]) if people else None


def _speaker(text: str, mentions: Sequence[dict], start: int, end: int, quote_start: int
             ) -> tuple[int, int, str | None] | None:
    """Return (start, end, mention key or None) of the speaker written in text[start:end] (the
    words beside a cue), or None when they name no speaker."""
    words = text[start:end].strip(" ,;—–-\n\t")
    if not words:
        return None
    offset = start + text[start:end].index(words)
    # keep the tail: "Kim Jong-un's spokesman", "and Trump": the last phrase before the cue
    words_list = words.split()
    while words_list and words_list[-1].lower() in _ADVERBS:
        words_list.pop()
    if not words_list:
        return None
    phrase = " ".join(words_list)
    s, e = offset, offset + len(phrase)
    last = words_list[-1]
    if len(words_list) == 1 and last in RELATIVES:
        return None  # "which stated that": a document, an agreement, not a person
    if len(words_list) == 1 and last in PRONOUNS:
        person = _last_person(mentions, quote_start)
        return s, e, person["key"] if person else None
    if len(words_list) == 1 and last in OTHER_PRONOUNS:
        return s, e, None
    if len(words_list) == 1 and last.lower() == "who":
        before = _mention_at(mentions, max(0, s - 60), s)
        return (before["start_char"], before["end_char"], before["key"]) if before else None
    found = _mention_at(mentions, s, e)
    if found:
        return found["start_char"], found["end_char"], found["key"]
    if re.fullmatch(r"(?:the|a|an|one|another|his|her|their)\s+[a-z][\w’'-]*(?:\s+[a-z][\w’'-]*){0,3}",
                    phrase, re.IGNORECASE):
        return s, e, None  # "The agency", "a spokesman": a speaker, but no entity
    name = [n for n in _NAME.finditer(phrase) if n.group(0) not in ("The", "A", "An", "One")]
    if name:
        n = name[-1]
        surname = n.group(0).split()[-1].lower()
        known = [m for m in mentions if m["label"] == "PERSON" and m["key"].split()[-1] == surname]
        return s + n.start(), s + n.end(), known[-1]["key"] if known else None
    if _DESCRIPTION.search(phrase):
        return s, e, None  # "the spokesman": a speaker, but no entity
    return None


def _after(text: str, mentions: Sequence[dict], end: int, limit: int, quote_start: int):
    """Attribution after a quote: "...,” Kim said" or "...,” said Kim". Return (cue start, cue end,
    speaker, end of the attribution) or None."""
    window = text[end:min(limit, end + WINDOW)]
    cue = _CUE_RE.search(window)
    if not cue:
        return None
    gap = window[:cue.start()]
    first = _mention_at(mentions, end, end + len(gap))
    appositive = first is not None and first["label"] == "PERSON" and \
        text[first["end_char"]:first["end_char"] + 2].startswith(",")
    if len(gap.split()) > (MAX_APPOSITIVE_WORDS if appositive else MAX_GAP_WORDS) or \
            _SENTENCE_END.search(gap) or any(c in gap for c in OPENERS):
        return None
    if appositive and len(gap.split()) > MAX_GAP_WORDS:  # “...,” Scott Pruitt, the ... of ..., said
        named = [m for m in mentions if m["label"] == "PERSON" and end <= m["start_char"] < end + len(gap)]
        m = min(named, key=lambda m: m["start_char"])
        return end + cue.start(), end + cue.end(), (m["start_char"], m["end_char"], m["key"]), \
            end + cue.end()
    if gap.strip(" ,;—–-\t"):
        speaker = _speaker(text, mentions, end, end + cue.start(), quote_start)
        stop = end + cue.end()
    else:  # "said Michael Oppenheimer, a professor": the speaker follows
        rest = window[cue.end():]
        near = [m for m in mentions if m["label"] in ("PERSON", "ORG")
                and end + cue.end() <= m["start_char"] < end + cue.end() + 30
                and not _SENTENCE_END.search(text[end + cue.end():m["start_char"]])]
        if near:  # "said 9/11 widow Terry Strada"
            m = min(near, key=lambda m: m["start_char"])
            speaker = (m["start_char"], m["end_char"], m["key"])
        elif (n := re.match(rf"\s+({_TITLE}?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*|"
                            r"(?:the|a|an)\s+[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})", rest)):
            s0 = end + cue.end() + n.start(1)
            speaker = _speaker(text, mentions, s0, s0 + len(n.group(1)), quote_start)
        else:
            speaker = None
        stop = speaker[1] if speaker else end + cue.end()
    return end + cue.start(), end + cue.end(), speaker, stop


def _before(text: str, mentions: Sequence[dict], start: int, para_start: int):
    """Attribution before a quote: 'Kim said: “...' or 'He added that “...'. Return (cue start,
    cue end, speaker) or None."""
    window_start = max(para_start, start - WINDOW)
    window = text[window_start:start]
    cues = list(_CUE_RE.finditer(window))
    if not cues:
        return None
    cue = cues[-1]
    tail = window[cue.end():]
    if not re.fullmatch(r"(?:\s+[\w’'-]+){0,5}?\s*[:,]?\s*(?:that\s*)?", tail):
        return None
    head = window[:cue.start()]
    ends = list(_SENTENCE_END.finditer(head))
    since = ends[-1].end() - 1 if ends else 0
    segment = head[since:]
    if "," in segment.rstrip(" ,") and segment.rsplit(",", 1)[1].strip():
        since += segment.rstrip().rfind(",") + 1  # "As a phone rang, the announcer said"
    phrase_start = window_start + since
    speaker = _speaker(text, mentions, phrase_start, window_start + cue.start(), start) \
        if head[since:].strip() else None
    if speaker is None and head[since:].strip():
        words = head[since:].split()
        if words and words[-1] in RELATIVES:
            speaker = None  # explicit: no person
    return window_start + cue.start(), window_start + cue.end(), speaker


def _clause_start(text: str, start: int, para_start: int) -> bool:
    """True when a quote starts a paragraph, a sentence or follows a colon, comma or dash: a quote
    of its own, not a quotation inside a clause."""
    before = text[para_start:start].rstrip()
    return not before or before[-1] in ".!?:,;—–-…" or before.endswith(("that", "saying"))


def find_quotes(text: str, mentions: Sequence[dict],
                sentences: Sequence[tuple[int, int]] | None = None) -> list[Quote]:
    """Return the quotes of an article, direct and indirect, in text order."""
    spans = quote_spans(text)
    quotes: list[Quote] = []
    consumed_until = -1
    previous: Quote | None = None
    previous_para: int | None = None
    last_attributed: tuple[int, int, Quote] | None = None
    stop = 0
    for i, (start, end, closed, p_start, p_end) in enumerate(spans):
        if start < consumed_until:
            continue
        own = _clause_start(text, start, p_start)
        after = _after(text, mentions, end, p_end, start) if closed else None
        rule, cue, speaker = "unattributed", None, None
        if after and after[2] is None and own and (found := _before(text, mentions, start, p_start)) \
                and found[2] is not None:  # 'Peabody said: "...," adding that ...'
            after = None
        if after:
            cue, speaker, stop = (after[0], after[1]), after[2], after[3]
            rule = "after"
            # a quote split by its attribution: “A,” he said, “B.” (and the paragraph's further
            # pieces: the attribution covers them all)
            j = i + 1
            while own and j < len(spans) and spans[j][3] == p_start and \
                    len(text[stop:spans[j][0]].split()) <= MAX_SPLIT_GAP_WORDS and \
                    not _CUE_RE.search(text[spans[j][1]:spans[j][1] + 40].split("\n")[0][:40]) and \
                    _ends_sentence(text, spans[j][1], p_end):
                end, consumed_until, rule, stop = spans[j][1], spans[j][1], "split", spans[j][1]
                j += 1
        if not after and own and (found := _before(text, mentions, start, p_start)):
            cue, speaker, rule = (found[0], found[1]), found[2], "before"
        elif not after and start == p_start and previous is not None and previous_para is not None:
            # a paragraph that opens with a quote and names no speaker continues the one before
            gap = text[previous_para:p_start]
            if previous.direct and "\n" in gap and not gap.strip("\n ").count("\n") > 1:
                speaker = ((previous.speaker_start, previous.speaker_end, previous.speaker_key)
                           if previous.speaker_start is not None else None)
                rule = "continued"
        if rule in ("unattributed", "continued") and (label := _TRANSCRIPT.match(text, start + 1)):
            # a transcript: "PENCE: Well, look, ..." names its speaker
            speaker, rule = (label.start(1), label.end(1), _key_of(mentions, label.group(1))), "transcript"
        if rule == "unattributed" and last_attributed is not None and last_attributed[0] == p_start \
                and len(text[last_attributed[1]:start].split()) <= 3:
            # “A,” she said. “B.”: the paragraph's next quote is hers too
            prior = last_attributed[2]
            speaker = (prior.speaker_start, prior.speaker_end, prior.speaker_key) \
                if prior.speaker_start is not None else None
            rule = "continued"
        if rule == "unattributed" and start == p_start and p_start > 0:
            prev_text = text[:p_start].rstrip()
            if prev_text.endswith(":"):  # 'Sanders made the following comment:' then the quote
                line_start = prev_text.rfind("\n") + 1
                head = prev_text[line_start:]
                first = _mention_at(mentions, line_start, line_start + len(head))
                if first is not None:
                    speaker, rule = (first["start_char"], first["end_char"], first["key"]), "colon"
        direct = own and rule != "unattributed" or (own and len(text[start:end].split()) >= 8)
        if not own:
            rule = "partial" if rule in ("after", "before") else rule
        if rule == "unattributed" and not direct:
            continue  # a scare quote: "losers", “Mostly True”
        quote = Quote(start, end, direct and rule != "partial", rule,
                      cue[0] if cue else None, cue[1] if cue else None,
                      speaker[0] if speaker else None, speaker[1] if speaker else None,
                      speaker[2] if speaker else None)
        quotes.append(quote)
        if quote.direct:
            previous, previous_para = quote, p_end
        if rule in ("after", "partial", "split") and cue:
            last_attributed = (p_start, max(stop, cue[1]) if rule != "split" else end, quote)
    quotes.extend(indirect_quotes(text, mentions, sentences, spans))
    return sorted(quotes, key=lambda q: q.start)


def _sentences(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for p_start, p_end in _paragraphs(text):
        start = p_start
        for found in _SENTENCE_END.finditer(text, p_start, p_end):
            out.append((start, found.start() + 1))
            start = found.end() - 1
        out.append((start, p_end))
    return out


def indirect_quotes(text: str, mentions: Sequence[dict], sentences, spans) -> list[Quote]:
    """Return the indirect quotes: "X said (that) ...", "..., X said." in sentences that hold no
    quotation marks."""
    out = []
    for s_start, s_end in sentences or _sentences(text):
        sentence = text[s_start:s_end]
        if any(c in sentence for c in "“”\"") or "''" in sentence:
            continue
        for cue in _CUE_RE.finditer(sentence):
            before, after = sentence[:cue.start()], sentence[cue.end():]
            that = _WHEN_THAT.match(after)
            content_start = cue.end() + that.end()
            if told := _TOLD_THAT.match(after):  # "told reporters that ...": after "that"
                content_start = cue.end() + told.end()
            body = sentence[content_start:].strip()
            # "X said (that) CONTENT"
            if len(body.split()) >= MIN_INDIRECT_WORDS and before.strip() and len(before.split()) <= 8:
                speaker = _speaker(text, mentions, s_start, s_start + cue.start(), s_start)
                if speaker:
                    end = s_start + len(sentence.rstrip())
                    out.append(Quote(s_start + content_start, end, False, "indirect",
                                     s_start + cue.start(), s_start + cue.end(), *speaker))
                    break
            # "CONTENT, X said."
            tail = re.fullmatch(r"\s*[\w.]*\s*\.?\s*", after)
            comma = before.rfind(",")
            if tail and comma > 0 and len(before[:comma].split()) >= MIN_INDIRECT_WORDS:
                speaker = _speaker(text, mentions, s_start + comma + 1, s_start + cue.start(), s_start)
                if speaker:
                    out.append(Quote(s_start, s_start + comma, False, "indirect",
                                     s_start + cue.start(), s_start + cue.end(), *speaker))
                    break
    return out
