"""Faults an operator's bad day brings (issue #13), against the real binary: a store that is busy
or failing must lose nothing and recover by itself."""
import shutil
import sqlite3
import time


def test_a_store_locked_by_another_process_loses_no_file(daemon, samples):
    """Another process holds SQLite's write lock for 8 s (longer than the 5 s busy timeout)
    while files arrive: each of them must still get its result once the lock is gone, without
    a second decode or sidecar write, with a /readyz reason and a metric meanwhile."""
    daemon.start()
    shutil.copyfile(samples[0], daemon.share / "before.png")
    daemon.wait_for_paths(["before.png"])
    locker = sqlite3.connect(daemon.db_path, isolation_level=None, timeout=30)
    locker.execute("BEGIN IMMEDIATE")  # the write lock, as a backup tool or a stuck writer would
    locked_at = time.time()
    try:
        names = [f"locked{i}.png" for i in range(10)]
        for i, name in enumerate(names):
            shutil.copyfile(samples[(i + 1) % len(samples)], daemon.share / name)
            time.sleep(0.3)
        deadline = time.time() + 30
        reasons = []
        while time.time() < deadline and not reasons:
            status, body = daemon.http("GET", "/readyz")
            if status == 503:
                reasons = body["reasons"]
            time.sleep(0.2)
        assert any("database" in r for r in reasons), reasons
        assert daemon.metric("inferwatch_store_failures_total") >= 1
        while time.time() - locked_at < 8:
            time.sleep(0.1)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    current = daemon.wait_for_paths(names, timeout=60)
    assert all(current[n]["status"] == "ok" for n in names)
    per_path = daemon.query("SELECT path, COUNT(*) FROM results GROUP BY path HAVING COUNT(*) > 1")
    assert per_path == []
    daemon.wait_for(lambda: daemon.http("GET", "/readyz")[0] == 200, what="ready again")
    log = daemon.log_text()
    assert log.count("retrying with backoff") == 1, "one error line per episode"
    assert "store: working again" in log
    assert daemon.stop() == 0
