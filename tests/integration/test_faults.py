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


def test_a_resuming_subscriber_gets_every_result_exactly_once_across_kill_9(daemon, samples):
    """The daemon is killed (-9) again and again during a steady stream of drops; a subscriber
    that reconnects with after=<last id it received> must end up with exactly the results that
    are in the database, in id order, none twice (ids are in commit order, SPEC §5)."""
    import asyncio
    import json
    import threading

    import websockets

    received = []
    state = {"url": None, "stop": False}

    async def follow():
        while not state["stop"]:
            url = state["url"]
            if not url:
                await asyncio.sleep(0.05)
                continue
            after = received[-1]["id"] if received else 0
            try:
                async with websockets.connect(f"{url}?after={after}", max_size=None,
                                              open_timeout=5) as ws:
                    while not state["stop"]:
                        try:
                            text = await asyncio.wait_for(ws.recv(), 0.5)
                        except asyncio.TimeoutError:
                            continue
                        msg = json.loads(text)
                        if msg.get("type") != "heartbeat":
                            received.append(msg)
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
                await asyncio.sleep(0.05)

    subscriber = threading.Thread(target=lambda: asyncio.run(follow()))
    subscriber.start()
    names = []
    try:
        for round_ in range(8):
            daemon.start()
            state["url"] = daemon.url.replace("http://", "ws://") + "/v1/stream"
            for i in range(40):
                name = f"r{round_}_{i:02d}.png"
                shutil.copyfile(samples[(round_ + i) % len(samples)], daemon.share / name)
                names.append(name)
                time.sleep(0.004)
            state["url"] = None
            daemon.kill()  # mid-stream: some files committed, some in flight, some not seen
        daemon.start()
        state["url"] = daemon.url.replace("http://", "ws://") + "/v1/stream"
        daemon.wait_for_paths(names, timeout=180)
        stored = [row[0] for row in daemon.query("SELECT id FROM results ORDER BY id")]
        deadline = time.time() + 30
        while time.time() < deadline and (not received or received[-1]["id"] < stored[-1]):
            time.sleep(0.1)
    finally:
        state["stop"] = True
        subscriber.join(timeout=30)
    got = [r["id"] for r in received]
    assert len(got) == len(set(got)), "a result was delivered twice"
    assert got == sorted(got), "results out of id order"
    missing = sorted(set(stored) - set(got))
    assert missing == [], f"{len(missing)} of {len(stored)} committed results never delivered"
    assert daemon.stop() == 0
