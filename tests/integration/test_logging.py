"""Logs (SPEC §8): journald entries with priorities and structured fields when systemd connected
stderr to the journal, one JSON object per line for log shippers, a config summary at startup,
one line per processed file at debug level and one per error at warning level."""
import errno
import json
import os
import socket
import struct

import pytest

from conftest import SAMPLES
from datagrams import DatagramListener
from daemon import Daemon

JOURNAL_SOCKET = "/run/systemd/journal/socket"
GOOD = sorted(p for p in SAMPLES.iterdir() if p.suffix == ".png")[0]


def parse_journal_datagram(data):
    """journald's native protocol: FIELD=value\\n, or FIELD\\n<u64 le length><value>\\n."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, nl + 1)
            value = data[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        fields[key.decode()] = value.decode()
    return fields


class FakeJournal(DatagramListener):
    """Listens where sd_journal_send() writes, on a machine without a running journald."""

    def __init__(self):
        self.created_dir = not os.path.isdir(os.path.dirname(JOURNAL_SOCKET))
        os.makedirs(os.path.dirname(JOURNAL_SOCKET), exist_ok=True)
        super().__init__(JOURNAL_SOCKET, parse_journal_datagram)

    @property
    def entries(self):
        return [fields for _, fields in list(self.received)]

    def messages(self):
        return "\n".join(e.get("MESSAGE", "") for e in self.entries)

    def close(self):
        super().close()
        if self.created_dir:
            os.rmdir(os.path.dirname(JOURNAL_SOCKET))


@pytest.fixture
def journal():
    if os.path.exists(JOURNAL_SOCKET):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            probe.connect(JOURNAL_SOCKET)
            pytest.skip("a real journald runs here; this test needs its socket path for itself")
        except OSError as e:
            if e.errno != errno.ECONNREFUSED:
                raise
            os.unlink(JOURNAL_SOCKET)  # a stale socket left by a dead journald
        finally:
            probe.close()
    if not os.access("/run", os.W_OK):
        pytest.skip("needs root to listen on /run/systemd/journal/socket")
    j = FakeJournal()
    yield j
    j.close()


def drop(share, name, data):
    tmp = share / ("." + name + ".part")
    tmp.write_bytes(data)
    os.rename(tmp, share / name)


def run_until_logged(d, files, logged, log_text, **start):
    """Start `d`, drop `files` (name -> bytes), wait for their results and for `logged` to show in
    `log_text()`, then stop cleanly (and kill the daemon if anything failed on the way)."""
    try:
        d.start(**start)
        for name, data in files.items():
            drop(d.share, name, data)
        d.wait_for_paths(list(files))
        d.wait_for(lambda: logged in log_text(), timeout=10, what="the error line")
        assert d.stop() == 0
    finally:
        if d.alive():
            d.kill()


def test_under_systemd_logs_go_to_journald_with_priorities_and_fields(tmp_path, journal):
    d = Daemon(tmp_path)
    d.log_path.touch()
    st = os.stat(d.log_path)
    # What systemd does for StandardError=journal: stderr is the stream JOURNAL_STREAM names.
    files = {"good.png": GOOD.read_bytes(), "broken.png": b"\x89PNG\r\n\x1a\n not really"}
    run_until_logged(d, files, "broken.png", journal.messages, ready_line=journal.messages,
                     env={"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
    entries = list(journal.entries)
    assert all(e["SYSLOG_IDENTIFIER"] == "inferwatch" for e in entries)
    by_path = {e.get("INFERWATCH_PATH"): e for e in entries if "INFERWATCH_PATH" in e}
    good, broken = by_path["good.png"], by_path["broken.png"]
    assert good["PRIORITY"] == "7" and good["INFERWATCH_STATUS"] == "ok"
    assert broken["PRIORITY"] == "4" and broken["INFERWATCH_STATUS"] == "error"
    assert broken["INFERWATCH_ERROR_CODE"] == "truncated"
    assert broken["INFERWATCH_RESULT_ID"] == str(d.current()["broken.png"]["id"])
    assert "broken.png" in broken["MESSAGE"] and "truncated" in broken["MESSAGE"]
    ready = [e for e in entries if e["MESSAGE"].startswith("ready:")]
    assert ready and ready[0]["PRIORITY"] == "6"
    assert any(e["MESSAGE"].startswith("config: watch [") for e in entries)
    # Nothing went to stderr as text: the journal has it all (libpng may still print there).
    assert "ready:" not in d.log_text()


def test_json_log_format_carries_the_same_fields(tmp_path):
    d = Daemon(tmp_path, extra_config="")
    d.config.write_text(d.config.read_text().replace('[log]\nlevel = "debug"\n',
                                                     '[log]\nlevel = "debug"\nformat = "json"\n'))
    run_until_logged(d, {"good.png": GOOD.read_bytes(), "empty.png": b""}, "empty.png", d.log_text)
    lines = [json.loads(l) for l in d.log_text().splitlines() if l.startswith("{")]
    assert lines and all({"time", "level", "message"} <= set(l) for l in lines)
    assert lines[0]["time"].endswith("Z")
    by_path = {l["path"]: l for l in lines if "path" in l}
    assert by_path["good.png"]["level"] == "debug" and by_path["good.png"]["status"] == "ok"
    empty = by_path["empty.png"]
    assert empty["level"] == "warning" and empty["error_code"] == "empty_file"
    assert empty["result_id"] == str(d.current()["empty.png"]["id"])
    summary = [l["message"] for l in lines if l["message"].startswith("config: ")]
    assert any(str(d.share) in m for m in summary) and any("database" in m for m in summary)


def test_text_logs_on_a_terminal_name_the_file_and_the_error(tmp_path):
    d = Daemon(tmp_path)
    run_until_logged(d, {"empty.png": b""}, "empty.png: result", d.log_text)
    line = next(l for l in d.log_text().splitlines() if "empty.png: result" in l)
    assert " warning " in line and "empty_file" in line
    assert "config: model built-in demo on auto" in d.log_text()


def test_journal_format_without_journald_falls_back_to_stderr(tmp_path):
    if os.path.exists(JOURNAL_SOCKET):
        pytest.skip("journald (or its socket) is present here")
    d = Daemon(tmp_path)
    d.config.write_text(d.config.read_text().replace('[log]\nlevel = "debug"\n',
                                                     '[log]\nlevel = "debug"\nformat = "journal"\n'))
    try:
        d.start()  # the ready line is found on stderr: nothing was silently dropped
        assert d.stop() == 0
    finally:
        if d.alive():
            d.kill()
    assert "/run/systemd/journal/socket does not exist (no journald); logging to stderr" in d.log_text()
