"""The documented reason codes of the `rejects` table."""

REASONS: dict[str, str] = {
    "unreadable": "the file could not be read (permissions, vanished, I/O error)",
    "binary": "the file holds binary data, not text",
    "encoding": "the bytes are not valid UTF-8 text",
    "bad_json": "a JSONL line is not a JSON object",
    "empty": "no article text is left after cleaning",
    "too_long": "the article is longer than the max_chars setting",
    "unsupported_type": "the file type is not one newsner reads",
    "bad_csv": "a CSV file without the text column, or a malformed row",
    "bad_feed": "an RSS/Atom document with no readable items",
    "too_little_text": "an HTML page with less article text than the min_chars setting",
    "bad_url": "not an http(s) URL",
    "http_error": "the server answered 4xx, or 5xx on every attempt",
    "timeout": "no answer within the fetch timeout, on every attempt",
    "network": "the connection failed on every attempt",
    "too_many_redirects": "more redirects than fetch_max_redirects",
    "too_large": "a body larger than the max_bytes setting",
    "bad_content_type": "the server sent something that is not HTML, a feed or text",
    "blocked_address": "a URL (or a redirect) to this machine or a private network, not allowed",
    "bad_html": "an HTML page the parser cannot read (for example nested too deeply)",
    "bad_warc": "a WARC file that is damaged or not WARC",
}


def reject(input_path: str, reason: str, detail: str, *, external_id: str | None = None) -> dict:
    """Return a reject record; `reason` must be one of REASONS."""
    if reason not in REASONS:
        raise ValueError(f"unknown reject reason {reason!r}")
    return {"input_path": input_path, "external_id": external_id, "reason": reason, "detail": detail}
