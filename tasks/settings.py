"""One typed settings object, built once by the CLI (or a test) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# OntoNotes labels that name things. Numeric and date labels (CARDINAL, DATE, MONEY, ...) are not
# entities a reader follows over time; add them with NEWSNER_LABELS if you want them counted.
NAMED_LABELS = (
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC",
    "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
)


class Settings(BaseSettings):
    """Run-time settings; every field can be set as NEWSNER_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSNER_", frozen=True)

    warehouse: Path = Path("warehouse")
    model: str = "en_core_web_sm"
    labels: tuple[str, ...] = NAMED_LABELS
    batch_size: int = Field(default=64, ge=1)
    n_process: int = Field(default=0, ge=0)  # 0: one process per 200 articles, up to the cores
    max_chars: int = Field(default=200_000, ge=1000)  # longer articles are rejected as too_long
    chunk_size: int = Field(default=500, ge=1)  # records read, cleaned and sent to NER at a time
    # ... or fewer: a chunk ends once its records hold this many characters of text (web pages
    # run 2-3 times as long as wire stories, and a stage's memory follows a part's text)
    chunk_chars: int = Field(default=1_000_000, ge=1)
    max_bytes: int = Field(default=5_000_000, ge=1000)  # cap on a fetched or decompressed body
    min_chars: int = Field(default=200, ge=0)  # less text extracted from a page is too_little_text
    # Web fetching: explicit timeout, bounded retries on 5xx/timeouts, redirect and size caps.
    fetch_timeout: float = Field(default=10.0, gt=0)
    fetch_retries: int = Field(default=2, ge=0, le=10)
    fetch_max_redirects: int = Field(default=5, ge=0)
    fetch_concurrency: int = Field(default=4, ge=1, le=32)
    # Fetch from loopback, private, link-local and reserved addresses (off: such URLs and
    # redirects are rejected as blocked_address).
    allow_private_network: bool = False
    # Fetch the page behind a feed item that carries only a summary: None = for URL feeds only.
    fetch_linked: bool | None = None
    # CSV/JSONL column for each field, e.g. {"text": "body", "published": "date"}.
    csv_columns: dict[str, str] = Field(default_factory=dict)
    # User knowledge: a CSV alias file (name,label,aliases) and a JSONL entity-ruler pattern file.
    aliases: Path | None = None
    patterns: Path | None = None
    # Address of a running Dask scheduler (tcp://host:8786): NER batches run on its workers.
    dask_address: str | None = None
    # Near-duplicate detection: estimated Jaccard similarity of word 3-shingles.
    story_threshold: float = Field(default=0.7, gt=0, le=1)
    # Read every input again, ignoring what the warehouse's manifest says was read (--full).
    full: bool = False
    # Seconds a reader waits for a run's commit to end (and a commit for readers to close).
    lock_wait: float = Field(default=60.0, ge=0)
