"""The systemd side of `serve` (SPEC §8), against a notify socket and journald socket of our own:
READY=1 only once warm and watching, STATUS= lines, WATCHDOG=1 pings that stop while the
pipeline is stuck and resume after, RELOADING=1/READY=1 around SIGHUP, STOPPING=1."""
import shutil
import time

import pytest
import torch

from datagrams import DatagramListener
from daemon import Daemon


class NotifySocket(DatagramListener):
    """Stands in for systemd's $NOTIFY_SOCKET; each message is parsed into {key: value}."""

    def __init__(self, path):
        super().__init__(path, lambda data: dict(
            line.split("=", 1) for line in data.decode().splitlines() if "=" in line))

    @property
    def messages(self):
        return self.received

    def times(self, key, value=None):
        return [t for t, f in list(self.received) if key in f and (value is None or f[key] == value)]

    def wait_for(self, key, value=None, after=0.0, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [t for t in self.times(key, value) if t > after]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no {key}={value} after {after}; got {self.received[-5:]}")


@pytest.fixture
def notify(tmp_path):
    n = NotifySocket(tmp_path / "notify.sock")
    yield n
    n.close()


def slow_model(path):
    """A 64×64 gray, 8-class model that takes seconds (5 to 15 on 2 cores) on an all-black crop (input mean -1 after
    normalization) and microseconds on anything else, so a test can hold the batcher."""

    class Slow(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(64 * 64, 8)

        def forward(self, x):
            out = self.head(x.flatten(1))
            if bool(x.mean() < -0.9):
                y = torch.ones(256, 256) * x.mean().abs() / 256
                for _ in range(2500):
                    y = torch.tanh(y @ y)
                out = out + y.sum() * 0
            return out

    torch.jit.save(torch.jit.script(Slow().eval()), str(path))
    return path


def test_ready_status_watchdog_reload_and_stopping_notifications(tmp_path, notify):
    d = Daemon(tmp_path)
    try:
        started = time.monotonic()
        d.start(env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"})
        ready = notify.wait_for("READY", "1")
        assert ready > started
        # READY=1 comes after the watcher is armed and the model warmed: the log says so first.
        log = d.log_text()
        assert "warmed up in" in log and "full scan (startup)" in log

        # Pings at about half of WATCHDOG_USEC, while alive.
        time.sleep(2.5)
        pings = notify.times("WATCHDOG", "1")
        assert len(pings) >= 3, notify.messages
        statuses = [f["STATUS"] for _, f in notify.messages if "STATUS" in f]
        assert any("queued" in s and "model demo-shapes@" in s for s in statuses), statuses

        d.hup()
        reloading = notify.wait_for("RELOADING", "1", after=ready)
        ready_again = notify.wait_for("READY", "1", after=reloading)
        assert ready_again >= reloading

        assert d.stop() == 0
        notify.wait_for("STOPPING", "1", timeout=5)
    finally:
        if d.alive():
            d.kill()


def test_watchdog_pings_stop_while_a_forward_is_stuck_and_resume_after(tmp_path, notify):
    model = slow_model(tmp_path / "slow.pt")
    d = Daemon(tmp_path, extra_config=f'[model]\npath = "{model}"\noptimize = false\n'
                                      '[preprocess]\nresize = "stretch"\n')
    try:
        d.start(env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"})
        notify.wait_for("READY", "1")
        black = tmp_path / "black.png"
        from PIL import Image
        Image.new("L", (64, 64), 0).save(black)
        stuck_at = time.monotonic()
        shutil.copyfile(black, d.share / "black.png")

        d.wait_for(lambda: "watchdog: a model forward has been running" in d.log_text(),
                   timeout=30, what="the stall to be noticed")
        stalled_log_at = time.monotonic()
        status, body = d.http("GET", "/readyz")
        assert status == 503 and any("forward" in r for r in body["reasons"]), body
        time.sleep(1.5)
        # No ping from shortly after the stall was noticed until the forward is done.
        assert not [t for t in notify.times("WATCHDOG", "1") if stalled_log_at + 0.2 < t], \
            "pinged while stuck"

        d.wait_for(lambda: "watchdog: alive again" in d.log_text(), timeout=300,
                   what="the slow forward to finish")
        resumed = notify.wait_for("WATCHDOG", "1", after=stalled_log_at + 0.2, timeout=10)
        assert resumed > stuck_at
        assert d.wait_for_paths(["black.png"])["black.png"]["status"] == "ok"
        assert d.http("GET", "/readyz")[0] == 200
        assert d.stop() == 0
    finally:
        if d.alive():
            d.kill()
