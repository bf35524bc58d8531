"""Ingestion: find input files and read them into raw article records (one dict per article)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.reasons import reject

TEXT_SUFFIXES = {".txt", ".md"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES
METADATA_FIELDS = ("title", "source", "url", "published", "description", "authors")


class InputError(Exception):
    """A user mistake about the inputs (for example a path that does not exist)."""


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Return the input files named by `paths`, directories walked recursively, in sorted order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"input path {str(raw)!r} does not exist: give a file or a directory")
    return list(dict.fromkeys(files))


def decode(data: bytes) -> str:
    """Return `data` as text; raise UnicodeDecodeError or ValueError (binary) when it is not text."""
    if b"\x00" in data[:8192]:
        raise ValueError("NUL bytes: binary data")
    return data.decode("utf-8-sig")


def split_front_matter(text: str) -> tuple[dict, str]:
    """Return (metadata, body) of a text that may start with a `---` key: value block."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---"), None)
    if end is None:
        return {}, text
    meta: dict = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in METADATA_FIELDS and value.strip():
            meta[key] = value.strip().strip('"').strip("'")
    if "authors" in meta:
        meta["authors"] = [a.strip() for a in meta["authors"].split(",") if a.strip()]
    return meta, "\n".join(lines[end + 1:])


def read_text_file(path: Path, data: bytes) -> tuple[list[dict], list[dict]]:
    """Return ([record], []) for a wire-layout text file, or ([], [reject])."""
    try:
        text = decode(data)
    except ValueError as err:
        reason = "encoding" if isinstance(err, UnicodeDecodeError) else "binary"
        return [], [reject(str(path), reason, f"{path}: {err}", external_id=str(path))]
    meta, body = split_front_matter(text)
    return [{**meta, "external_id": str(path), "input_path": str(path), "text": body}], []


def _jsonl_record(path: Path, lineno: int, obj: dict) -> dict:
    record = {key: obj.get(key) for key in ("title", "source", "url", "published", "description")
              if isinstance(obj.get(key), str) and obj.get(key).strip()}
    authors = obj.get("authors")
    if isinstance(authors, str):
        authors = [authors]
    if isinstance(authors, list):
        record["authors"] = [a.strip() for a in authors if isinstance(a, str) and a.strip()]
    external_id = obj.get("id")
    record["external_id"] = str(external_id) if external_id not in (None, "") else f"{path}:{lineno}"
    record["input_path"] = str(path)
    record["text"] = obj.get("text")
    return record


def read_jsonl_file(path: Path, data: bytes) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) for a JSONL file: one article a line, only `text` required."""
    if b"\x00" in data[:8192]:
        return [], [reject(str(path), "binary", f"{path}: NUL bytes: binary data")]
    records, rejects = [], []
    for lineno, line in enumerate(data.splitlines(), start=1):
        where = f"{path}:{lineno}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8-sig" if lineno == 1 else "utf-8"))
        except UnicodeDecodeError as err:
            rejects.append(reject(str(path), "encoding", f"{where}: {err}", external_id=where))
            continue
        except json.JSONDecodeError as err:
            rejects.append(reject(str(path), "bad_json", f"{where}: {err}", external_id=where))
            continue
        if not isinstance(obj, dict):
            rejects.append(reject(str(path), "bad_json", f"{where}: a JSON {type(obj).__name__}, "
                                  "not an object", external_id=where))
            continue
        record = _jsonl_record(path, lineno, obj)
        if not isinstance(record["text"], str):
            rejects.append(reject(str(path), "empty", f"{where}: no string field 'text'",
                                  external_id=record["external_id"]))
            continue
        records.append(record)
    return records, rejects


def read_files(files: Iterable[Path]) -> tuple[list[dict], list[dict]]:
    """Return (records, rejects) read from `files`; a bad file becomes a reject, never an error."""
    records, rejects = [], []
    for path in files:
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            rejects.append(reject(str(path), "unsupported_type",
                                  f"{path}: {suffix or 'no suffix'} is not one of "
                                  f"{', '.join(sorted(SUPPORTED_SUFFIXES))}"))
            continue
        try:
            data = path.read_bytes()
        except OSError as err:
            rejects.append(reject(str(path), "unreadable", f"{path}: {err.strerror or err}"))
            continue
        reader = read_jsonl_file if suffix in JSONL_SUFFIXES else read_text_file
        got, bad = reader(path, data)
        records.extend(got)
        rejects.extend(bad)
    return records, rejects


@task(name="read-inputs", cache_policy=NO_CACHE)
def read_inputs(paths: list[str]) -> tuple[list[dict], list[dict]]:
    """Read every input file into raw article records and rejects."""
    files = discover(paths)
    records, rejects = read_files(files)
    get_run_logger().info("read %d files: %d articles, %d rejects", len(files), len(records),
                          len(rejects))
    return records, rejects
