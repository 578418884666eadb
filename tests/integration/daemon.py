"""Run the real `inferwatch serve` in a temp folder and observe it through its files and SQLite."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

from conftest import binary


class Daemon:
    def __init__(self, tmp_path, extra_config="", server_config='[server]\nlisten = "127.0.0.1:0"\n'):
        self.dir = tmp_path
        self.share = tmp_path / "share"
        self.share.mkdir(exist_ok=True)
        self.db_path = tmp_path / "inferwatch.db"
        self.log_path = tmp_path / "serve.log"
        self.config = tmp_path / "inferwatch.toml"
        self.config.write_text(
            f'[watch]\npaths = ["{self.share}"]\nsettle_ms = 50\n'
            f'[database]\npath = "{self.db_path}"\n'
            f'[log]\nlevel = "debug"\n' + server_config + extra_config)
        self.proc = None

    def start(self, timeout=60, env=None, ready_line=None):
        """Start and wait for the "ready: ... listening on H:P" line, read from the log file or
        from `ready_line()` (for logs that go elsewhere, e.g. journald)."""
        self.log = open(self.log_path, "a")
        seen = self.log_path.stat().st_size  # a restart must not read the last run's ready line
        self.proc = subprocess.Popen([binary(), "serve", "-c", str(self.config)], stdout=self.log,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        read = ready_line or (lambda: self.log_path.read_text()[seen:])
        deadline = time.time() + timeout
        while time.time() < deadline:
            ready = re.search(r"ready: .* listening on ([^\s\"]+):(\d+)", read())
            if ready:
                self.url = f"http://127.0.0.1:{ready.group(2)}"
                self.port = int(ready.group(2))
                return self
            assert self.proc.poll() is None, self.log_path.read_text()
            time.sleep(0.05)
        raise AssertionError("daemon not ready:\n" + self.log_path.read_text())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.log.close()
        return code

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def http(self, method, path, data=None, timeout=60):
        """(status, parsed JSON body) of one request to the daemon's API."""
        request = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def metric(self, name, /, **labels):
        """The value of one sample on /metrics (0 when absent)."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=30) as response:
            text = response.read().decode()
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            series, _, value = line.rpartition(" ")
            if series == name or (want and series.startswith(name + "{")
                                  and sorted(series[len(name) + 1:-1].split(",")) == want.split(",")):
                return float(value)
        return 0.0

    def log_text(self):
        return self.log_path.read_text()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()

    def query(self, sql, *args):
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql, args).fetchall()

    def current(self):
        """path -> current result JSON (joined through files.result_id)."""
        rows = self.query("SELECT f.path, r.json FROM files f JOIN results r ON r.id = f.result_id")
        return {path: json.loads(text) for path, text in rows}

    def wait_for(self, predicate, timeout=120, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if predicate():
                    return
            except sqlite3.OperationalError:
                pass  # database not created yet
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; log tail:\n"
                             + self.log_path.read_text()[-3000:])

    def wait_for_paths(self, paths, timeout=120):
        wanted = set(paths)
        self.wait_for(lambda: wanted <= set(self.current()), timeout,
                      f"results for {len(wanted)} files")
        return self.current()


def image_files(root):
    exts = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower() in exts and not p.name.startswith("."))


def sidecar(root, rel):
    return json.loads((root / (rel + ".result.json")).read_text())


def temp_files(root):
    return [p for p in root.rglob(".*inferwatch-tmp")]
