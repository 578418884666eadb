"""GET /v1/stream with a real WebSocket client (python3-websockets): replay then live with no gap
and no duplicate, filters, heartbeats, slow consumers, many clients (SPEC §6, issue #4)."""
import asyncio
import json
import shutil
import socket
import threading
import time

import pytest
import websockets

from daemon import Daemon


def ws_url(d, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return d.url.replace("http://", "ws://") + "/v1/stream" + (f"?{q}" if q else "")


def drop(d, samples, names, delay=0.0):
    for i, name in enumerate(names):
        s = samples[i % len(samples)]
        target = d.share / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(s, target)
        if delay:
            time.sleep(delay)


async def collect(url, until, timeout=120, **kw):
    """Messages from `url` until `until(results)` is true; heartbeats are kept apart."""
    results, beats = [], []
    async with websockets.connect(url, max_size=None, **kw) as ws:
        deadline = time.time() + timeout
        while not until(results):
            msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time())))
            (beats if msg.get("type") == "heartbeat" else results).append(msg)
    return results, beats


def test_replay_then_live_has_no_gap_and_no_duplicate(daemon, samples):
    daemon.start()
    drop(daemon, samples, [f"early{i:03d}.png" for i in range(40)])
    daemon.wait_for(lambda: len(daemon.current()) == 40, what="40 results")
    ids = sorted(r["id"] for r in daemon.current().values())
    after = ids[15]  # an older cursor: 24 stored results to replay
    writer = threading.Thread(target=drop, args=(daemon, samples, [f"live{i:03d}.png" for i in range(120)], 0.005))
    writer.start()  # live results arrive while the replay runs
    total_after = 24 + 120
    got, _ = asyncio.run(collect(ws_url(daemon, after=after), lambda r: len(r) >= total_after))
    writer.join()
    got_ids = [r["id"] for r in got]
    assert got_ids == sorted(set(got_ids)), "out of order or duplicated"
    stored = {r["id"] for r in daemon.current().values() if r["id"] > after}
    assert set(got_ids) == stored
    assert all(r["schema"] == "inferwatch.result/v1" for r in got)


def test_path_prefix_filter_and_heartbeat(tmp_path, samples):
    d = Daemon(tmp_path, server_config='[server]\nlisten = "127.0.0.1:0"\nws_heartbeat_s = 1\n').start()
    try:
        async def scenario():
            async with websockets.connect(ws_url(d, path_prefix="alice/")) as ws:
                drop(d, samples, ["bob/x.png", "alice/a.png", "carol/y.png", "alice/b.png"])
                seen, beat = [], None
                deadline = time.time() + 30
                while (len(seen) < 2 or beat is None) and time.time() < deadline:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if msg.get("type") == "heartbeat":
                        beat = msg
                    else:
                        seen.append(msg["path"])
                return seen, beat
        seen, beat = asyncio.run(scenario())
        assert sorted(seen) == ["alice/a.png", "alice/b.png"]
        assert beat is not None and isinstance(beat["last_id"], int)
    finally:
        d.kill()


SLOW_QUEUE = '[server]\nlisten = "127.0.0.1:0"\nws_queue_messages = 16\nws_queue_bytes = 65536\n'
SLOW_CLOSED = "closed as a slow consumer"


def slow_socket(d):
    """A connection to the daemon on which little can be in flight. Besides the small receive
    buffer, the small segment size keeps the daemon's send buffer small: on loopback the kernel
    otherwise grows it to megabytes, and a client that reads nothing would look like one that keeps
    up until far more results than a test makes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.connect(("127.0.0.1", d.port))
    return sock


async def connect_slow(d):
    # No keepalive pings (the daemon would answer them only once it can write again) and small
    # client-side buffers: this client holds a few KiB, then stops taking data off the socket.
    return await websockets.connect(ws_url(d), sock=slow_socket(d), max_queue=1, read_limit=4096,
                                    max_size=None, ping_interval=None)


async def read_until_closed(ws, seconds):
    """Every message until the daemon closes `ws`; fails, instead of waiting on, if it has not
    closed it after `seconds` (heartbeats would otherwise keep the reads coming forever)."""
    got, deadline = [], time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            got.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
    except websockets.ConnectionClosed:
        return got
    except asyncio.TimeoutError:
        pass
    pytest.fail(f"the daemon has not closed the stream {seconds} s after it gave up on the client "
                f"({len(got)} messages read)")


def test_slow_consumer_is_closed_and_resumes_with_after(tmp_path, samples):
    d = Daemon(tmp_path, server_config=SLOW_QUEUE).start()
    try:
        async def scenario():
            ws = await connect_slow(d)
            # The client reads nothing until the daemon has found it slow, then reads at once
            # (within the daemon's grace for taking the close frame).
            await asyncio.get_running_loop().run_in_executor(None, lambda: (
                drop(d, samples, [f"s{i:04d}.png" for i in range(800)]),
                d.wait_for(lambda: SLOW_CLOSED in d.log_text(), timeout=300,
                           what="the daemon to close the client that reads nothing as slow")))
            got = await read_until_closed(ws, 60)
            return got, ws.close_code, ws.close_reason
        got, code, reason = asyncio.run(scenario())
        assert (code, reason) == (1013, "slow consumer")
        got = [r for r in got if "schema" in r]
        last = max((r["id"] for r in got), default=0)
        d.wait_for(lambda: len(d.current()) == 800, what="800 results", timeout=300)
        rest, _ = asyncio.run(collect(ws_url(d, after=last), lambda r: len(r) >= 800 - len(got)))
        ids = [r["id"] for r in got + rest]
        assert len(ids) == len(set(ids)) == 800, "resuming with after= loses nothing"
        d.wait_for(lambda: d.metric("inferwatch_websocket_disconnects_total",
                                    reason="slow_consumer") == 1,
                   timeout=30, what="one slow_consumer disconnect counted")
    finally:
        d.kill()


def test_slow_consumer_that_never_reads_is_let_go(tmp_path, samples):
    # The daemon gives a client it closes a grace to take the message in flight and the close
    # frame; one that never reads must not keep its session (and the write stuck on it) forever.
    d = Daemon(tmp_path, server_config=SLOW_QUEUE).start()
    try:
        async def scenario():
            ws = await connect_slow(d)
            # A blocking wait: the event loop does not run, so the client takes nothing more.
            drop(d, samples, [f"n{i:04d}.png" for i in range(800)])
            d.wait_for(lambda: SLOW_CLOSED in d.log_text(), timeout=300,
                       what="the daemon to close the client that reads nothing as slow")
            d.wait_for(lambda: d.metric("inferwatch_websocket_clients") == 0, timeout=90,
                       what="the daemon to let go of the client that never takes the close")
            ws.transport.abort()
        asyncio.run(scenario())
        assert d.metric("inferwatch_websocket_disconnects_total", reason="slow_consumer") == 1
    finally:
        d.kill()


def test_500_clients_all_receive_a_burst(daemon, samples):
    daemon.start()

    async def scenario():
        clients = [await websockets.connect(ws_url(daemon)) for _ in range(500)]
        drop(daemon, samples, [f"m{i:02d}.png" for i in range(20)])

        async def read20(ws):
            out = []
            while len(out) < 20:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 120))
                if "schema" in msg:
                    out.append(msg["id"])
            await ws.close()
            return out
        return await asyncio.gather(*(read20(ws) for ws in clients))

    everyone = asyncio.run(scenario())
    expected = sorted(r["id"] for r in daemon.current().values())
    assert len(everyone) == 500
    assert all(ids == expected for ids in everyone)


def test_stream_needs_the_token(tmp_path):
    token = tmp_path / "token"
    token.write_text("t0ken")
    d = Daemon(tmp_path, server_config=f'[server]\nlisten = "127.0.0.1:0"\ntoken_file = "{token}"\n').start()
    try:
        with pytest.raises(websockets.InvalidStatusCode) as refused:
            asyncio.run(collect(ws_url(d), lambda r: True))
        assert refused.value.status_code == 401
        asyncio.run(collect(ws_url(d, access_token="t0ken"), lambda r: True, timeout=5))
    finally:
        d.kill()


def test_sigterm_closes_streams_with_going_away(daemon):
    daemon.start()

    async def scenario():
        async with websockets.connect(ws_url(daemon)) as ws:
            daemon.proc.send_signal(__import__("signal").SIGTERM)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            except websockets.ConnectionClosed:
                return ws.close_code, ws.close_reason

    assert asyncio.run(scenario()) == (1001, "server shutting down")
    assert daemon.proc.wait(timeout=30) == 0


def test_client_cap_is_refused_before_the_upgrade(tmp_path):
    d = Daemon(tmp_path, server_config='[server]\nlisten = "127.0.0.1:0"\nmax_ws_clients = 2\n').start()
    try:
        async def scenario():
            a = await websockets.connect(ws_url(d))
            b = await websockets.connect(ws_url(d))
            with pytest.raises(websockets.InvalidStatusCode) as refused:
                await websockets.connect(ws_url(d))
            await a.close()
            await b.close()
            return refused.value.status_code
        assert asyncio.run(scenario()) == 503
    finally:
        d.kill()
