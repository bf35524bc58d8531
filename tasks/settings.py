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
    n_process: int = Field(default=1, ge=1)
    max_chars: int = Field(default=200_000, ge=1000)  # longer articles are rejected as too_long
