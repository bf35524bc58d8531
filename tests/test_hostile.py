"""Hostile inputs: generated files, each with the outcome it must have (a reject and its reason,
or articles stored), through one real `newsner run` as a user types it: no crash, no hang, memory
bounded, everything good processed once."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

PROSE = ("Kim Jong-un met Vladimir Putin in Moscow on {n}, and the two leaders promised closer "
         "ties between North Korea and Russia, officials in Pyongyang said.")


def cases(folder: Path) -> dict[str, tuple]:
    """Write the hostile files; return file name -> expected outcome: ("reject", reason) or
    ("stored", number of articles) or ("ignored",) for what is never read."""
    out: dict[str, tuple] = {}

    def text(name: str, body: str | bytes, expected: tuple) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
        out[name] = expected

    deep = "<div>" * 100_000 + "text" + "</div>" * 100_000
    text("nested-100k.html", f"<html><body>{deep}</body></html>", ("reject", "too_little_text"))
    text("one-line-50mb.txt", "x" * 50_000_000, ("reject", "too_large"))
    text("one-line-50mb.jsonl", '{"text": "' + "y" * 50_000_000 + '"}\n', ("reject", "too_large"))
    text("nested-100k.jsonl", "[" * 100_000 + "]" * 100_000 + "\n", ("reject", "bad_json"))
    text("nested-object.jsonl", '{"a":' * 100_000 + "1" + "}" * 100_000 + "\n",
         ("reject", "bad_json"))
    text("bomb.html.gz", gzip.compress(b"<p>" + b"a" * 200_000_000 + b"</p>"),
         ("reject", "encoding"))
    items = "".join(f"<item><title>Item {n}</title><description>Story {n}: Kim Jong-un spoke in "
                    f"Wonsan.</description><guid>item-{n}</guid></item>" for n in range(10_000))
    text("ten-thousand.rss", f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big'
         f"</title>{items}</channel></rss>", ("stored", 10_000))
    text("mixed-encodings.jsonl", json.dumps({"text": PROSE.format(n="Monday")}).encode()
         + b"\n" + '{"text": "Caf\xe9 Zurich"}\n'.encode("latin-1")
         + json.dumps({"text": PROSE.format(n="Tuesday")}).encode() + b"\n",
         ("stored", 2, "encoding"))
    text("nul-bytes.txt", b"Kim\x00Jong\x00un " * 100, ("reject", "binary"))
    text("escaped-nul.jsonl", json.dumps({"text": "Kim\u0000 Jong-un met Putin in Moscow."}) + "\n",
         ("stored", 1))
    text("bidi-and-zero-width.txt", "Kim\u200b Jong-un met \u202eVladimir Putin\u202c in "
         "Mos\u200dcow on Wednesday, and \u2066Seoul\u2069 watched.", ("stored", 1))
    text("lone-surrogate.jsonl", '{"text": "Kim Jong-un \\ud800 met Putin in Vladivostok."}\n',
         ("stored", 1))
    text("markdown-names.txt", "**Kim Jong-un** met [Vladimir Putin](javascript:alert(1)) and "
         "<script>alert('Seoul')</script> in Moscow | Pyongyang on Thursday.", ("stored", 1))
    text("html-names.jsonl", json.dumps({"title": "<img src=x onerror=alert(1)>", "text":
                                         "<b>Angela Merkel</b> met <i>Emmanuel Macron</i> in "
                                         "Berlin.", "source": "<script>x</script>"}) + "\n",
         ("stored", 1))
    text("with space in name.txt", PROSE.format(n="Friday"), ("stored", 1))
    text("Überblick über die Lage.txt", PROSE.format(n="Saturday"), ("stored", 1))
    text("新闻 报道.txt", PROSE.format(n="Sunday"), ("stored", 1))
    text("new\nline name.txt", PROSE.format(n="the 1st"), ("stored", 1))
    loop = folder / "loop"
    loop.mkdir()
    os.symlink(folder, loop / "back-to-the-top")
    os.symlink(loop, loop / "self")
    text("empty.txt", "", ("reject", "empty"))
    text("whitespace.txt", " \n\t\n  \n", ("reject", "empty"))
    text("only-byline.txt", "By Ann Lee\n", ("reject", "empty"))
    text("many-lines.txt", "\n".join(f"Line {n} of a very long file." for n in range(100_000)),
         ("reject", "too_long"))
    text("long-word.jsonl", json.dumps({"text": "z" * 1_000_000}) + "\n", ("reject", "too_long"))
    text("invalid-utf8.txt", b"Kim \xff\xfe met Putin.", ("reject", "encoding"))
    text("utf16.txt", "Kim Jong-un met Putin.".encode("utf-16"), ("reject", "binary"))
    text("huge-field.csv", "text,title\n\"" + "w " * 200_000 + "\",big\n", ("reject", "bad_csv"))
    text("open-quote.csv", 'text,title\n"never closed,t\n', ("reject", "bad_csv"))
    text("no-text-column.csv", "body,title\nKim spoke.,t\n", ("reject", "bad_csv"))
    text("nul-in.csv", b"text,title\nKim\x00 Jong-un spoke in Wonsan.,t\n", ("stored", 1))  # NUL dropped
    text("array.jsonl", '["not", "an", "object"]\n', ("reject", "bad_json"))
    text("number-text.jsonl", '{"text": 123}\n', ("reject", "empty"))
    text("empty-text.jsonl", '{"text": ""}\n', ("reject", "empty"))
    text("long-id.jsonl", json.dumps({"id": "i" * 100_000, "text": PROSE.format(n="the 2nd")})
         + "\n", ("stored", 1))
    text("duplicate-keys.jsonl", '{"text": "first", "text": "' + PROSE.format(n="the 3rd") + '"}\n',
         ("stored", 1))
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
              '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;'
              '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;'
              '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><rss version="2.0"><channel><item>'
              '<title>&lol4;</title><description>Kim met Putin.</description></item></channel>'
              "</rss>")
    text("billion-laughs.rss", laughs, ("stored", 1))
    text("empty-feed.atom", '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
         "<title>Nothing</title></feed>", ("reject", "bad_feed"))
    text("bad-dates.rss", '<?xml version="1.0"?><rss version="2.0"><channel><title>D</title><item>'
         "<title>Undated</title><pubDate>the 45th of Smarch</pubDate><description>"
         + PROSE.format(n="some day") + "</description></item></channel></rss>", ("stored", 1))
    text("script-only.html", "<html><body><script>var kim = 'Putin';</script></body></html>",
         ("reject", "too_little_text"))
    text("not-a.warc", "just some text, not WARC", ("reject", "bad_warc"))
    text("truncated.warc.gz", gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n")[:20],
         ("reject", "bad_warc"))
    text("report.docx", b"PK\x03\x04 not a document newsner reads", ("reject", "unsupported_type"))
    text("fake.html.gz", b"this is not gzip", ("reject", "encoding"))
    text("front-matter.txt", "---\nid: stolen\ntext: replaced\npublished: not a date\n---\n"
         + PROSE.format(n="the 4th"), ("stored", 1))
    text("ansi-escapes.txt", "\x1b[31mKim Jong-un\x1b[0m met \x1b[1mPutin\x1b[0m in Moscow on "
         "the 5th.", ("stored", 1))
    text("copy-a.txt", PROSE.format(n="the 6th"), ("stored", 1))
    text("copy-b.txt", PROSE.format(n="the 6th"), ("duplicate",))
    text("dir.jsonl/inside.txt", PROSE.format(n="the 7th"), ("stored", 1))
    text(".hidden.txt", PROSE.format(n="the 8th"), ("ignored",))
    return out


def peak_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    import psutil

    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], sum(p.memory_info().rss for p in
                                       [root, *root.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.2)


def test_hostile_inputs_are_rejected_with_their_reasons_and_the_rest_is_stored(prefect_server,
                                                                             tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    expected = cases(folder)
    assert len(expected) >= 40
    warehouse = tmp_path / "w"
    env = {**os.environ, "NEWSNER_FETCH_LINKED": "false", "PREFECT_API_URL": prefect_server}
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(folder), "--warehouse",
                             str(warehouse)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    stop, peak = threading.Event(), [0]
    threading.Thread(target=peak_rss, args=(proc.pid, stop, peak), daemon=True).start()
    try:
        output = proc.communicate(timeout=600)[0].decode(errors="replace")
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
    seconds = time.monotonic() - start
    print(f"\nhostile inputs: {len(expected)} cases in {seconds:.0f} s, peak RSS "
          f"{peak[0] / 2**20:.0f} MB")
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert peak[0] < 3 * 2**30  # 50 MB lines and a gzip bomb never held whole
    with duckdb.connect(str(warehouse / "newsner.duckdb"), read_only=True) as con:
        rejects = con.execute("SELECT input_path, reason FROM rejects").fetchall()
        stored = dict(con.execute("SELECT input_path, count(*) FROM articles GROUP BY ALL")
                      .fetchall())
        texts = [t for (t,) in con.execute("SELECT text FROM articles").fetchall()]
        names = [n for (n,) in con.execute("SELECT name FROM entities").fetchall()]
    by_file: dict[str, set[str]] = {}
    for path, reason in rejects:
        by_file.setdefault(str(Path(path).relative_to(folder)), set()).add(reason)
    for name, outcome in expected.items():
        path = str(folder / name)
        if outcome[0] == "reject":
            assert by_file.get(name) == {outcome[1]}, (name, by_file.get(name), stored.get(path))
            assert path not in stored, name
        elif outcome[0] == "stored":
            assert stored.get(path) == outcome[1], (name, stored.get(path), by_file.get(name))
            assert by_file.get(name, set()) == set(outcome[2:]), (name, by_file.get(name))
        else:  # a duplicate is stored once, under the other file; a hidden file is never read
            assert path not in stored and name not in by_file, name
    assert not [t for t in texts if "\x00" in t or "\u202e" in t or "\u200b" in t or "\x1b" in t]
    assert not [n for n in names if any(c in n for c in "\u200b\u202e\u2066")]
    assert "Kim Jong-un" in names
