import json

import pytest

from tasks.ingest import InputError, discover, read_files, split_front_matter


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
    assert discover([tmp_path]) == [tmp_path / "a" / "one.txt", tmp_path / "b.jsonl"]
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
    records, rejects = read_files([path])
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
    records, rejects = read_files(sorted(tmp_path.iterdir()))
    assert [r["external_id"] for r in records] == [str(tmp_path / "good.txt")]
    assert {r["reason"] for r in rejects} == {"binary", "encoding", "unsupported_type"}
    assert all(r["detail"] for r in rejects)
