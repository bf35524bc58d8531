import json
from pathlib import Path

import pytest

from tasks.errors import InputError
from tasks.ingest import read_paths
from tasks.readers import split_front_matter, url_list
from tasks.settings import Settings
from tasks.sources import discover

SETTINGS = Settings()


def test_front_matter_gives_metadata_and_body():
    meta, body = split_front_matter("---\ntitle: A: B\nsource: Wire\nauthors: A One, B Two\n"
                                    "colour: red\n---\nDek.\nBody.\n")
    assert meta == {"title": "A: B", "source": "Wire", "authors": ["A One", "B Two"]}
    assert body == "Dek.\nBody."


def test_text_without_front_matter_is_all_body():
    assert split_front_matter("Just text.\n---\n") == ({}, "Just text.\n---\n")


def test_discover_walks_directories_skips_hidden_and_rejects_missing_paths(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("x")
    (tmp_path / "b.jsonl").write_text("{}")
    (tmp_path / ".hidden.txt").write_text("x")
    assert discover([tmp_path]) == ([tmp_path / "a" / "one.txt", tmp_path / "b.jsonl"], [])
    assert discover(["https://example.org/a"]) == ([], ["https://example.org/a"])
    with pytest.raises(InputError, match="does not exist"):
        discover([tmp_path / "nope"])


def test_jsonl_lines_become_records_and_bad_lines_rejects(tmp_path):
    path = tmp_path / "export.jsonl"
    lines = [
        json.dumps({"id": "a1", "text": "Hello.", "title": "T", "authors": "Ann Lee", "x": 1}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "a4", "title": "no text"}),
        "",
        json.dumps({"text": "No id here."}),
    ]
    path.write_bytes("\n".join(lines).encode() + b"\n" + b'{"text": "bad \xff byte"}\n')
    records, rejects = read_paths([path], SETTINGS)
    assert [(r["external_id"], r["text"]) for r in records] == [("a1", "Hello."),
                                                               (f"{path}:6", "No id here.")]
    assert records[0]["authors"] == ["Ann Lee"] and records[0]["title"] == "T"
    assert "x" not in records[0]
    assert [(r["reason"], r["external_id"]) for r in rejects] == [
        ("bad_json", f"{path}:2"), ("bad_json", f"{path}:3"), ("empty", "a4"),
        ("encoding", f"{path}:7")]


def test_binary_undecodable_and_unsupported_files_are_rejected_with_reasons(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 in M\xfcnchen".encode("latin-1"))
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "good.txt").write_text("Fine text.", encoding="utf-8")
    records, rejects = read_paths(sorted(tmp_path.iterdir()), SETTINGS)
    assert [r["external_id"] for r in records] == [str(tmp_path / "good.txt")]
    assert {r["reason"] for r in rejects} == {"binary", "encoding", "unsupported_type"}
    assert all(r["detail"] for r in rejects)


def test_csv_columns_are_mapped_and_bad_rows_rejected(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text('headline,body,when\n"Kim speaks","Kim Jong-un spoke, at length.",2025-10-24\n'
                    'x,y,z,extra\n', encoding="utf-8")
    settings = Settings(csv_columns={"title": "headline", "text": "body", "published": "when"})
    records, rejects = read_paths([path], settings)
    assert [(r["title"], r["text"], r["published"]) for r in records] == [
        ("Kim speaks", "Kim Jong-un spoke, at length.", "2025-10-24")]
    assert records[0]["external_id"] == f"{path}:2"
    assert [r["reason"] for r in rejects] == ["bad_csv"]
    _, rejects = read_paths([path], SETTINGS)  # no "text" column without the mapping
    assert rejects[0]["reason"] == "bad_csv" and "--text-column" in rejects[0]["detail"]


def test_url_lists_are_recognised_and_wire_text_is_not():
    assert url_list("# list\nhttps://a.example/1\n\nhttp://b.example/2\n") == [
        "https://a.example/1", "http://b.example/2"]
    assert url_list("Kim spoke.\nhttps://a.example/1\n") is None


def test_gzipped_html_is_extracted_and_a_corrupt_gzip_rejected(tmp_path):
    import gzip

    page = (Path(__file__).parent / "fixtures" / "story.html").read_bytes()
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(page))
    (tmp_path / "bad.html.gz").write_bytes(b"\x1f\x8bnot really")
    (tmp_path / "thin.html").write_text("<html><body><p>Too short.</p></body></html>")
    records, rejects = read_paths(sorted(tmp_path.iterdir()), SETTINGS)
    assert [r["title"] for r in records] == ["Seoul and Tokyo agree on missile data sharing"]
    assert sorted(r["reason"] for r in rejects) == ["encoding", "too_little_text"]
