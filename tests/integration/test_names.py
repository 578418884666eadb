"""Names are bytes (SPEC §4 "the share is untrusted", §5): a share user can name a file anything,
including bytes that are not UTF-8 and names with newlines, quotes, tabs and backslashes. Every
text the daemon emits (sidecar, REST, WebSocket, logs, the database's text columns, `infer`) must
still decode as strict UTF-8: `path` shows each invalid byte as U+FFFD and `path_bytes` carries the
exact name in base64; lookups accept either; a name can never forge a log line."""
import asyncio
import base64
import json
import os
import re
import sqlite3
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import websockets

from conftest import SAMPLES, binary
from test_logging import journal, parse_journal_datagram  # noqa: F401 (journal is a fixture)

SAMPLE = sorted(p for p in SAMPLES.iterdir() if p.suffix == ".png")[0]

NAMES = [
    b"bad\xff\xfe.png",       # not UTF-8
    b"caf\xc3\xa9.png",       # valid UTF-8: no path_bytes
    b"new\nline.png",
    b'quo"te.png',
    b"tab\t.png",
    b"back\\slash.png",
    b"x\xff.png",             # these two share one display form, "x\ufffd.png"
    b"x\xfe.png",
]
BROKEN = b"broken\xff\n.png"  # an error result: its name shows in the error log line too


def display(name):
    """What §5 says `path` is: each byte that is not part of valid UTF-8 becomes U+FFFD."""
    return re.sub("[\udc80-\udcff]", "\ufffd", name.decode("utf-8", "surrogateescape"))


def is_utf8(name):
    try:
        name.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def drop(share, name, data):
    """Write under a hidden temp name and rename, as a careful share client does."""
    share = os.fsencode(share)
    tmp = share + b"/.drop-" + base64.b16encode(name) + b".part"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, share + b"/" + name)


def get_bytes(d, path_and_query):
    """(status, body bytes) of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(d.url + path_and_query, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def strict_json(data):
    return json.loads(data.decode("utf-8", "strict"))


def check_path_fields(result, name):
    assert result["path"] == display(name)
    if is_utf8(name):
        assert "path_bytes" not in result
    else:
        assert base64.b64decode(result["path_bytes"], validate=True) == name
        keys = list(result)
        assert keys.index("path_bytes") == keys.index("path") + 1


async def subscribe(url, count, timeout=120):
    """The first `count` results from the stream (strict: the client refuses invalid UTF-8)."""
    got = []
    async with websockets.connect(url, max_size=None) as ws:
        while len(got) < count:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if msg.get("type") != "heartbeat":
                got.append(msg)
    return got


def ws_url(d, **query):
    q = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    return d.url.replace("http://", "ws://") + "/v1/stream" + (f"?{q}" if q else "")


def test_every_output_is_strict_utf8_and_carries_the_exact_name(daemon):
    daemon.config.write_text(daemon.config.read_text().replace(
        '[log]\nlevel = "debug"\n', '[log]\nlevel = "debug"\nformat = "json"\n'))
    daemon.start()
    everything = NAMES + [BROKEN]

    async def live_and_files():
        # Subscribed before the files exist: every result arrives live.
        all_results = asyncio.create_task(subscribe(ws_url(daemon, after=0), len(everything)))
        x_only = asyncio.create_task(subscribe(ws_url(daemon, path_prefix="x\ufffd"), 2))
        await asyncio.sleep(0.5)  # both upgrades done (a late one would replay, also fine)
        for name in NAMES:
            drop(daemon.share, name, SAMPLE.read_bytes())
        drop(daemon.share, BROKEN, b"\x89PNG\r\n\x1a\n not really")
        return await all_results, await x_only

    live, x_live = asyncio.run(live_and_files())
    daemon.wait_for(lambda: daemon.query("SELECT COUNT(*) FROM files WHERE done = 1")[0][0]
                    == len(everything), what="every file done")

    # WebSocket: every result once, each with its exact name; the prefix filters display paths.
    by_bytes = {}
    for r in live:
        raw = base64.b64decode(r["path_bytes"]) if "path_bytes" in r else r["path"].encode()
        by_bytes[raw] = r
    assert set(by_bytes) == set(everything)
    for name in everything:
        check_path_fields(by_bytes[name], name)
    assert by_bytes[BROKEN]["status"] == "error"
    assert sorted(base64.b64decode(r["path_bytes"]) for r in x_live) == [b"x\xfe.png", b"x\xff.png"]
    # Two names with one display form got two results.
    assert by_bytes[b"x\xff.png"]["id"] != by_bytes[b"x\xfe.png"]["id"]

    # Resuming replays from the database: the same objects again.
    first = min(r["id"] for r in live)
    resumed = asyncio.run(subscribe(ws_url(daemon, after=first), len(everything) - 1))
    assert sorted(r["id"] for r in resumed) == sorted(r["id"] for r in live if r["id"] > first)
    assert all(r == next(l for l in live if l["id"] == r["id"]) for r in resumed)

    # Sidecars: strict UTF-8, the same object.
    for name in everything:
        with open(os.fsencode(daemon.share) + b"/" + name + b".result.json", "rb") as f:
            sidecar = strict_json(f.read())
        check_path_fields(sidecar, name)
        assert sidecar == by_bytes[name]

    # REST pages, strict UTF-8, small pages to walk next_after.
    seen, after = [], 0
    while True:
        status, body = get_bytes(daemon, f"/v1/results?limit=3&after={after}")
        assert status == 200
        page = strict_json(body)
        if not page["results"]:
            break
        seen += page["results"]
        after = page["next_after"]
    assert sorted(r["id"] for r in seen) == sorted(r["id"] for r in live)
    status, body = get_bytes(daemon, "/v1/results?path_prefix=x%FF")  # raw prefix: display form
    assert status == 200 and len(strict_json(body)["results"]) == 2

    # /v1/results/latest: by display path, by the raw bytes percent-encoded, by path_bytes.
    for name in everything:
        want = by_bytes[name]["id"]
        by_raw = strict_json(get_bytes(daemon, "/v1/results/latest?path="
                                       + urllib.parse.quote(name, safe=""))[1])
        assert by_raw["id"] == want
        by_b64 = strict_json(get_bytes(daemon, "/v1/results/latest?path_bytes="
                                       + urllib.parse.quote(base64.b64encode(name), safe=""))[1])
        assert by_b64["id"] == want
        status, body = get_bytes(daemon, "/v1/results/latest?path="
                                 + urllib.parse.quote(display(name), safe=""))
        assert status == 200
        if name not in (b"x\xff.png", b"x\xfe.png"):
            assert strict_json(body)["id"] == want
        else:  # one display form, two files: one of them
            assert strict_json(body)["id"] in (by_bytes[b"x\xff.png"]["id"],
                                               by_bytes[b"x\xfe.png"]["id"])
    status, body = get_bytes(daemon, "/v1/results/latest?path=nope%FF.png")
    assert status == 404 and strict_json(body)["error"]["code"] == "not_found"
    status, body = get_bytes(daemon, "/v1/results/latest?path_bytes=%FF")
    assert status == 400 and strict_json(body)["error"]["code"] == "invalid_parameter"

    # The database's text columns decode with Python's sqlite3 defaults (strict UTF-8).
    with sqlite3.connect(f"file:{daemon.db_path}?mode=ro", uri=True) as db:
        files = db.execute("SELECT path, path_bytes FROM files").fetchall()
        results = db.execute("SELECT * FROM results").fetchall()
    assert sorted(p if not b else b.decode("utf-8", "surrogateescape") for p, b in files) == \
        sorted(n.decode("utf-8", "surrogateescape") for n in everything)
    assert len(results) == len(everything)

    assert daemon.stop() == 0
    # JSON log: every line is strict UTF-8 JSON, and the error line names the broken file.
    lines = [strict_json(l) for l in daemon.log_path.read_bytes().splitlines() if l.startswith(b"{")]
    assert lines and all({"time", "level", "message"} <= set(l) for l in lines)
    assert any(l["level"] == "warning" and "broken" in json.dumps(l) for l in lines), \
        "no warning line for the broken file"


def test_a_name_cannot_forge_a_text_log_line(daemon):
    forged = "2026-01-01 00:00:00.000 error forged"
    name = ("evil\n" + forged + "\x1b[31m.png").encode()
    daemon.start()
    drop(daemon.share, name, b"")  # empty: an error result, logged as a warning with the name
    daemon.wait_for(lambda: daemon.query("SELECT COUNT(*) FROM files WHERE done = 1")[0][0] == 1,
                    what="the file done")
    assert daemon.stop() == 0  # a clean stop: every line logged is in the file
    text = daemon.log_path.read_bytes().decode("utf-8", "strict")
    assert not any(line.startswith(forged) for line in text.splitlines())
    assert "\x1b" not in text
    assert "evil\\n" + forged in text  # the name is there, escaped, within one line


def test_journald_entries_are_utf8_and_messages_one_line(daemon, journal):
    journal.parse = bytes  # keep the datagrams raw: they are decoded strictly below
    name = b"bad\xff\nname.png"
    raw = lambda: [data for _, data in list(journal.received)]  # noqa: E731
    daemon.log_path.touch()
    st = os.stat(daemon.log_path)
    # What systemd does for StandardError=journal: stderr is the stream JOURNAL_STREAM names.
    daemon.start(ready_line=lambda: b"\n".join(raw()).decode("utf-8", "replace"),
                 env={"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
    drop(daemon.share, name, b"")  # empty: an error result, logged as a warning with the name
    daemon.wait_for(lambda: daemon.query("SELECT COUNT(*) FROM files WHERE done = 1")[0][0] == 1,
                    what="the file done")
    assert daemon.stop() == 0
    entries = [parse_journal_datagram(data) for data in raw()]  # strict UTF-8, or it raises
    assert any(e.get("INFERWATCH_PATH") == display(name) for e in entries)
    assert all("\n" not in e["MESSAGE"] for e in entries)


def test_infer_prints_strict_utf8_json_for_any_name(tmp_path):
    name = b"bad\xff\xfe\n.png"
    target = os.fsencode(tmp_path) + b"/" + name
    with open(target, "wb") as f:
        f.write(SAMPLE.read_bytes())
    proc = subprocess.run([binary(), "infer", target], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [result] = [strict_json(l) for l in proc.stdout.splitlines() if l.strip()]
    assert result["status"] == "ok"
    assert result["path"] == display(target)
    assert base64.b64decode(result["path_bytes"], validate=True) == target
