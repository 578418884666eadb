"""POST /v1/results/{id}/feedback against the real daemon (SPEC §11, issue #15): confirm and
correct a result (stored with its history, returned with the result, pushed on the stream), and
the refusals: a label the model does not have, an unknown or superseded result, an error result,
a bad body, no token."""
import asyncio
import json
import shutil
import time
import urllib.error
import urllib.request

import websockets

from daemon import Daemon

TOKEN = "fb-t0ken"


def start(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    return Daemon(tmp_path, server_config=f'[server]\nlisten = "127.0.0.1:0"\ntoken_file = "{token}"\n').start()


def call(d, method, path, body=None, token=TOKEN):
    """(status, parsed JSON) of one request; `body` a dict (sent as JSON) or raw bytes."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(d.url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def feedback(d, result_id, body, token=TOKEN):
    return call(d, "POST", f"/v1/results/{result_id}/feedback", body, token)


def result_of(d, name, sample):
    """Copy `sample` to the share as `name` and return its new current result."""
    before = d.current().get(name, {}).get("id", 0)
    shutil.copyfile(sample, d.share / name)
    d.wait_for(lambda: d.current().get(name, {}).get("id", 0) > before, what=f"a result for {name}")
    return d.current()[name]


def test_confirm_then_correct_is_stored_returned_and_streamed(tmp_path, samples):
    d = start(tmp_path)
    try:
        result = result_of(d, "part-1.png", samples[0])
        rid, predicted = result["id"], result["predictions"][0]["label"]
        labels = call(d, "GET", "/v1/model")[1]["labels"]
        other = next(label for label in labels if label != predicted)

        async def scenario():
            url = d.url.replace("http://", "ws://") + f"/v1/stream?after={rid}&access_token={TOKEN}"
            async with websockets.connect(url) as ws:
                # The subscriber is registered once the server has accepted; a heartbeat or
                # nothing may come first, so give the accept a moment by a round trip.
                await (await ws.ping())
                confirmed = await asyncio.to_thread(
                    feedback, d, rid, {"label": predicted, "user": "alice", "comment": "ok"})
                deadline = time.time() + 30
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time())))
                    if msg.get("type") == "feedback":
                        return confirmed, msg

        (code, confirmed), event = asyncio.run(scenario())
        assert code == 200, confirmed
        assert confirmed["result_id"] == rid
        assert confirmed["feedback"]["label"] == predicted
        assert confirmed["feedback"]["user"] == "alice"
        assert confirmed["feedback"]["comment"] == "ok"
        assert confirmed["feedback"]["previous"] is None
        assert confirmed["feedback"]["history_count"] == 1
        assert event == {"type": "feedback", "result_id": rid, "feedback": confirmed["feedback"]}
        assert d.query("SELECT label, predicted_label, user FROM feedback WHERE result_id = ?", rid) == [
            (predicted, predicted, "alice")]

        code, got = call(d, "GET", f"/v1/results/{rid}")
        assert code == 200 and got["feedback"] == confirmed["feedback"]
        assert got["predictions"] == result["predictions"]  # the result itself is unchanged

        code, corrected = feedback(d, rid, {"label": other, "user": "bob"})
        assert code == 200, corrected
        assert corrected["feedback"]["label"] == other
        assert corrected["feedback"]["comment"] == ""
        assert corrected["feedback"]["history_count"] == 2
        previous = corrected["feedback"]["previous"]
        assert (previous["label"], previous["user"]) == (predicted, "alice")

        code, page = call(d, "GET", "/v1/results?after=0")
        assert code == 200
        listed = {r["id"]: r for r in page["results"]}
        assert listed[rid]["feedback"] == corrected["feedback"]
        # The stored §5 JSON stays as the pipeline wrote it.
        assert "feedback" not in json.loads(d.query("SELECT json FROM results WHERE id = ?", rid)[0][0])
    finally:
        d.kill()


def test_refusals(tmp_path, samples):
    d = start(tmp_path)
    try:
        result = result_of(d, "part-1.png", samples[0])
        rid, predicted = result["id"], result["predictions"][0]["label"]
        labels = call(d, "GET", "/v1/model")[1]["labels"]
        good = {"label": predicted, "user": "alice"}

        code, body = feedback(d, rid, good, token=None)
        assert code == 401 and body["error"]["code"] == "unauthorized"

        code, body = feedback(d, rid, {"label": "not-a-shape", "user": "alice"})
        assert code == 422 and body["error"]["code"] == "unknown_label"
        assert body["error"]["labels"] == labels
        assert "not-a-shape" in body["error"]["message"]

        code, body = feedback(d, rid + 1000, good)
        assert code == 404 and body["error"]["code"] == "not_found"

        for bad in (b"{not json", b"[1]", json.dumps({"label": predicted}).encode(),
                    json.dumps({"label": predicted, "user": 7}).encode(),
                    json.dumps({"label": predicted, "user": "x" * 129}).encode(),
                    json.dumps({"label": predicted, "user": "a", "comment": "c" * 2001}).encode()):
            code, body = feedback(d, rid, bad)
            assert code == 400 and body["error"]["code"] == "invalid_body", bad

        (d.share / "broken.png").write_bytes(b"nope")
        d.wait_for(lambda: "broken.png" in d.current(), what="the error result")
        code, body = feedback(d, d.current()["broken.png"]["id"], good)
        assert code == 422 and body["error"]["code"] == "no_prediction"

        # A newer version of the file gets a newer result: the old one is no longer current.
        newer = result_of(d, "part-1.png", samples[1])
        code, body = feedback(d, rid, good)
        assert code == 409 and body["error"]["code"] == "superseded"
        assert f"result {newer['id']}" in body["error"]["message"]

        assert d.query("SELECT COUNT(*) FROM feedback") == [(0,)]  # nothing refused was stored
    finally:
        d.kill()


def test_feedback_as_a_stream_client_message(tmp_path, samples):
    """The same feedback as the REST route, sent on the stream: the reply carries the route's
    status and body with the client's request_id, refusals are replies (the stream stays open),
    and the feedback event follows for every subscriber."""
    d = start(tmp_path)
    try:
        result = result_of(d, "part-1.png", samples[0])
        rid, predicted = result["id"], result["predictions"][0]["label"]
        labels = call(d, "GET", "/v1/model")[1]["labels"]
        other = next(label for label in labels if label != predicted)

        async def scenario():
            url = d.url.replace("http://", "ws://") + f"/v1/stream?after={rid}&access_token={TOKEN}"
            async with websockets.connect(url) as ws:
                async def send(message):
                    await ws.send(message if isinstance(message, str) else json.dumps(message))

                async def next_of(kind):
                    deadline = time.time() + 30
                    while True:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time())))
                        if msg.get("type") == kind:
                            return msg

                replies = {}
                await send({"type": "feedback", "request_id": "c1", "result_id": rid,
                            "label": other, "user": "bob", "comment": "wrong shape"})
                replies["corrected"] = await next_of("feedback_reply")
                replies["event"] = await next_of("feedback")
                await send({"type": "feedback", "request_id": 2, "result_id": rid,
                            "label": "not-a-shape", "user": "bob"})
                replies["unknown_label"] = await next_of("feedback_reply")
                await send({"type": "feedback", "request_id": 3, "result_id": rid + 1000,
                            "label": other, "user": "bob"})
                replies["unknown_result"] = await next_of("feedback_reply")
                await send("{not json")
                replies["not_json"] = await next_of("feedback_reply")
                await send({"type": "subscribe", "request_id": 5})
                replies["unknown_type"] = await next_of("feedback_reply")
                await send({"type": "feedback", "request_id": 6, "result_id": "1", "label": other,
                            "user": "bob"})
                replies["string_id"] = await next_of("feedback_reply")
                await send({"type": "feedback", "request_id": 7, "result_id": rid, "label": other})
                replies["no_user"] = await next_of("feedback_reply")
                return replies

        replies = asyncio.run(scenario())
        corrected = replies["corrected"]
        assert corrected["request_id"] == "c1" and corrected["status"] == 200, corrected
        assert corrected["result_id"] == rid
        assert corrected["feedback"]["label"] == other
        assert corrected["feedback"]["user"] == "bob"
        assert corrected["feedback"]["comment"] == "wrong shape"
        assert replies["event"]["result_id"] == rid
        assert replies["event"]["feedback"] == corrected["feedback"]

        assert replies["unknown_label"]["status"] == 422
        assert replies["unknown_label"]["error"]["code"] == "unknown_label"
        assert replies["unknown_label"]["error"]["labels"] == labels
        assert replies["unknown_result"]["status"] == 404
        assert replies["unknown_result"]["error"]["code"] == "not_found"
        for key in ("not_json", "unknown_type", "string_id"):
            assert replies[key]["status"] == 400, replies[key]
            assert replies[key]["error"]["code"] == "invalid_message", replies[key]
        assert "request_id" not in replies["not_json"]
        assert replies["unknown_type"]["request_id"] == 5
        assert replies["no_user"]["status"] == 400
        assert replies["no_user"]["error"]["code"] == "invalid_body"

        # Stored like the REST route's: the result shows it, and only the one accepted is a row.
        code, body = call(d, "GET", f"/v1/results/{rid}")
        assert code == 200 and body["feedback"]["label"] == other
        assert body["feedback"]["user"] == "bob"
        assert d.query("SELECT COUNT(*) FROM feedback") == [(1,)]
    finally:
        d.kill()


def test_readme_feedback_example_confirms_and_corrects(tmp_path, samples):
    """The README's Python example, as written there, against the real daemon."""
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    code = re.search(r"<!-- feedback-example -->\n```python\n(.*?)```", readme, re.S).group(1)
    namespace = {}
    exec(code, namespace)
    give_feedback = namespace["give_feedback"]
    d = start(tmp_path)
    try:
        result = result_of(d, "part-1.png", samples[0])
        rid, predicted = result["id"], result["predictions"][0]["label"]
        labels = call(d, "GET", "/v1/model")[1]["labels"]
        other = next(label for label in labels if label != predicted)

        confirmed = give_feedback(rid, predicted, "alice", url=d.url, token=TOKEN)
        assert confirmed["label"] == predicted and confirmed["user"] == "alice"
        corrected = give_feedback(rid, other, "bob", "not a circle", url=d.url, token=TOKEN)
        assert corrected["label"] == other and corrected["previous"]["label"] == predicted
        try:
            give_feedback(rid, "not-a-shape", "bob", url=d.url, token=TOKEN)
            raise AssertionError("an unknown label was accepted")
        except RuntimeError as e:
            assert "not-a-shape" in str(e)
        assert call(d, "GET", f"/v1/results/{rid}")[1]["feedback"]["label"] == other
    finally:
        d.kill()
