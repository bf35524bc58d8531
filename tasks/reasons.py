"""The documented reason codes of the `rejects` table."""

REASONS: dict[str, str] = {
    "unreadable": "the file could not be read (permissions, vanished, I/O error)",
    "binary": "the file holds binary data, not text",
    "encoding": "the bytes are not valid UTF-8 text",
    "bad_json": "a JSONL line is not a JSON object",
    "empty": "no article text is left after cleaning",
    "too_long": "the article is longer than the max_chars setting",
    "unsupported_type": "the file type is not one newsner reads",
}


def reject(input_path: str, reason: str, detail: str, *, external_id: str | None = None) -> dict:
    """Return a reject record; `reason` must be one of REASONS."""
    if reason not in REASONS:
        raise ValueError(f"unknown reject reason {reason!r}")
    return {"input_path": input_path, "external_id": external_id, "reason": reason, "detail": detail}
