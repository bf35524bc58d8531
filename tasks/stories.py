"""Stories: near-duplicate copies of one article (the same wire story, lightly edited) share a
`story_id`, found with MinHash signatures and LSH bands stored in the warehouse."""

from __future__ import annotations

import hashlib
import re

import numpy as np

NUM_PERM = 128
BANDS, ROWS = 16, 8          # 16 bands of 8 rows: pairs above ~0.7 similarity become candidates
SHINGLE = 3
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[bytes]:
    """Return the word 3-shingles of `text`, case-folded (the words themselves for short texts)."""
    words = _WORD.findall(text.casefold())
    if len(words) < SHINGLE:
        return {w.encode() for w in words}
    return {" ".join(words[i:i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


# MinHash as datasketch 2.0 computes it by default (scheme "affine32", seed 1), so signatures
# stored by earlier newsner runs still compare: each shingle's SHA-1 (first 4 bytes) mixed by the
# MurmurHash3 finalizer, then 128 odd-multiplier affine permutations mod 2^32.
_PERMUTATIONS = np.random.RandomState(1)
_A = _PERMUTATIONS.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
_B = _PERMUTATIONS.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signature(text: str) -> np.ndarray | None:
    """Return the MinHash signature of `text` (128 values, stored as uint64), or None when it
    has no words."""
    grams = shingles(text)
    if not grams:
        return None
    sha1 = hashlib.sha1  # each shingle's first 4 digest bytes, read as little-endian uint32
    hashes = np.frombuffer(b"".join([sha1(g).digest()[:4] for g in grams]),
                           dtype="<u4").astype(np.uint32).reshape(-1, 1)
    with np.errstate(over="ignore"):  # the arithmetic is mod 2^32 by design
        return (_fmix32(hashes) * _A + _B).min(axis=0).astype(np.uint64)


def band_keys(sig: np.ndarray) -> list[int]:
    """Return the LSH band keys of a signature: equal keys mark candidate near-duplicates."""
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(sig[band * ROWS:(band + 1) * ROWS].tobytes() + bytes([band]),
                                 digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float | np.ndarray:
    """Return the estimated Jaccard similarity of two signatures, or of each row of a matrix of
    signatures `a` with `b`."""
    agree = np.mean(a == b, axis=-1)
    return float(agree) if agree.ndim == 0 else agree


def assign_story_ids(new: list[tuple[str, np.ndarray | None]],
                     stored: list[tuple[str, str, np.ndarray]], *, threshold: float,
                     ) -> dict[str, str]:
    """Return article_id -> story_id for `new` articles, in order.

    An article joins the story of its most similar earlier article (stored or new) above
    `threshold`, the first found when several are as similar; otherwise it starts a story named
    after itself. Stored stories never change. Each article's candidates are scored in one
    array operation: a feed of templated items ("Story 1: ...", "Story 2: ...") makes every
    article a candidate of every other.
    """
    signatures = np.zeros((len(stored) + len(new), NUM_PERM), dtype=np.uint64)
    story_of: list[str] = []
    by_band: dict[int, list[int]] = {}

    def add(story_id: str, sig: np.ndarray, keys: list[int]) -> None:
        signatures[len(story_of)] = sig
        for key in keys:
            by_band.setdefault(key, []).append(len(story_of))
        story_of.append(story_id)

    for _, story_id, sig in stored:
        add(story_id, sig, band_keys(sig))
    stories: dict[str, str] = {}
    for article_id, sig in new:
        if sig is None:
            stories[article_id] = article_id
            continue
        keys = band_keys(sig)
        candidates = list(dict.fromkeys(i for key in keys for i in by_band.get(key, ())))
        story_id = article_id
        if candidates:
            scores = similarity(signatures[candidates], sig)
            best = int(scores.argmax())
            if scores[best] >= threshold:
                story_id = story_of[candidates[best]]
        stories[article_id] = story_id
        add(story_id, sig, keys)
    return stories


def story_rows(articles: list[dict], candidates, *, threshold: float,
               ) -> tuple[list[dict], list[dict], list[dict], int]:
    """Return (articles with their story_id, signature rows, band rows, how many joined a story).

    `candidates(band_keys)` returns (article_id, story_id, signature bytes) of the articles
    stored or staged before that share a band with these ones.
    """
    sigs = {a["article_id"]: signature(a["text"]) for a in articles}
    keys = sorted({k for sig in sigs.values() if sig is not None for k in band_keys(sig)})
    stored = [(a, s, np.frombuffer(blob, dtype=np.uint64)) for a, s, blob in candidates(keys)]
    stories = assign_story_ids(list(sigs.items()), stored, threshold=threshold)
    signatures = [{"article_id": a, "signature": sig.tobytes()} for a, sig in sigs.items()
                  if sig is not None]
    bands = [{"band_key": k, "article_id": a} for a, sig in sigs.items() if sig is not None
             for k in sorted(set(band_keys(sig)))]
    joined = sum(1 for a, s in stories.items() if a != s)
    return ([{**a, "story_id": stories[a["article_id"]]} for a in articles], signatures, bands,
            joined)
