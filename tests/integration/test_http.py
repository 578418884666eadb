"""The REST API with a real HTTP client (curl) against the running daemon (SPEC §6, issue #4)."""
import json
import shutil
import socket
import subprocess
import time

import pytest

from daemon import Daemon


def curl(url, *args):
    """(status, body) of one request made with curl; a binary body (a thumbnail) as text with
    U+FFFD for what is not UTF-8."""
    proc = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", *args, url],
                          capture_output=True, text=True, errors="replace", timeout=30)
    body, _, code = proc.stdout.rpartition("\n")
    return int(code), body


def curl_json(url, *args):
    code, body = curl(url, *args)
    return code, json.loads(body) if body else None


@pytest.fixture
def served(daemon, samples):
    """A daemon with 12 results: 10 images (4 under alice/) and 2 bad files."""
    daemon.start()
    (daemon.share / "alice").mkdir()
    for i, s in enumerate(samples[:10]):
        shutil.copyfile(s, (daemon.share / "alice" if i < 4 else daemon.share) / s.name)
    (daemon.share / "bad1.png").write_bytes(b"nope")
    (daemon.share / "bad2.png").write_bytes(b"")
    daemon.wait_for(lambda: len(daemon.current()) == 12, what="12 results")
    return daemon


def test_health_and_readiness(served):
    assert curl_json(served.url + "/healthz") == (200, {"status": "ok"})
    assert curl_json(served.url + "/readyz") == (200, {"ready": True, "reasons": []})


def test_results_pages_cover_everything_once_in_order(served):
    seen, after = [], 0
    while True:
        code, page = curl_json(f"{served.url}/v1/results?after={after}&limit=5")
        assert code == 200
        if not page["results"]:
            assert page["next_after"] == after
            break
        assert len(page["results"]) <= 5
        seen += [r["id"] for r in page["results"]]
        after = page["next_after"]
        assert after == page["results"][-1]["id"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 12


def test_filters_single_result_and_latest(served):
    code, page = curl_json(served.url + "/v1/results?path_prefix=alice/")
    assert code == 200 and len(page["results"]) == 4
    assert all(r["path"].startswith("alice/") for r in page["results"])
    code, page = curl_json(served.url + "/v1/results?status=error")
    assert {r["path"] for r in page["results"]} == {"bad1.png", "bad2.png"}
    first = page["results"][0]
    assert curl_json(f"{served.url}/v1/results/{first['id']}") == (200, first)
    code, latest = curl_json(served.url + "/v1/results/latest?path=bad1.png")
    assert code == 200 and latest["path"] == "bad1.png" and latest == served.current()["bad1.png"]


@pytest.mark.parametrize("target,status,code", [
    ("/v1/results/999999", 404, "not_found"),
    ("/v1/results/latest?path=nope.png", 404, "not_found"),
    ("/v1/results/abc", 400, "invalid_parameter"),
    ("/v1/results?after=-1", 400, "invalid_parameter"),
    ("/v1/results?limit=ten", 400, "invalid_parameter"),
    ("/v1/results?status=maybe", 400, "invalid_parameter"),
    ("/v1/results/latest", 400, "invalid_parameter"),
    ("/v1/nothing-here", 404, "not_found"),
])
def test_errors_are_json_with_the_right_status(served, target, status, code):
    got, body = curl_json(served.url + target)
    assert got == status
    assert body["error"]["code"] == code and body["error"]["message"]


def test_status_and_model(served):
    code, status = curl_json(served.url + "/v1/status")
    assert code == 200
    assert status["results"] == {"ok": 10, "error": 2, "last_id": max(r["id"] for r in served.current().values())}
    assert status["watch_roots"] == [str(served.share)]
    assert status["queue"] == {"pending": 0, "in_flight": 0}
    code, model = curl_json(served.url + "/v1/model")
    assert code == 200 and model["name"] == "demo-shapes" and len(model["labels"]) == 8
    code, body = curl_json(served.url + "/v1/status", "-X", "DELETE")
    assert code == 405


def test_token_is_required_except_for_health(tmp_path, samples):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    d = Daemon(tmp_path, server_config=f'[server]\nlisten = "127.0.0.1:0"\ntoken_file = "{token}"\n').start()
    try:
        assert curl(d.url + "/healthz")[0] == 200
        assert curl(d.url + "/readyz")[0] == 200
        code, body = curl_json(d.url + "/v1/status")
        assert code == 401 and body["error"]["code"] == "unauthorized"
        assert curl(d.url + "/v1/status", "-H", "Authorization: Bearer wrong")[0] == 401
        assert curl(d.url + "/v1/status", "-H", "Authorization: Bearer s3cret-token")[0] == 200
        assert curl(d.url + "/v1/status?access_token=s3cret-token")[0] == 200
    finally:
        d.kill()


def test_non_loopback_without_token_is_refused(inferwatch, tmp_path):
    cfg = tmp_path / "open.toml"
    cfg.write_text(f'[watch]\npaths = ["{tmp_path}/share"]\n[database]\npath = "{tmp_path}/db"\n'
                   '[server]\nlisten = "0.0.0.0:0"\n')
    run = inferwatch("serve", "-c", cfg, timeout=60)
    assert run.code == 2
    assert "not a loopback address and no server.token_file" in run.stderr


def test_limits_body_garbage_and_slowloris(tmp_path, samples):
    d = Daemon(tmp_path, server_config='[server]\nlisten = "127.0.0.1:0"\nidle_timeout_s = 2\n'
                                       'max_body_bytes = 1024\n').start()
    try:
        big = tmp_path / "big.bin"
        big.write_bytes(b"x" * 10_000)
        code, body = curl_json(d.url + "/v1/results", "-X", "POST", "--data-binary", f"@{big}")
        assert code == 413 and body["error"]["code"] == "body_too_large"

        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
            reply = s.recv(4096)
            assert reply.startswith(b"HTTP/1.1 400")

        slow = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        started = time.time()
        assert curl(d.url + "/healthz")[0] == 200  # others are still served meanwhile
        assert slow.recv(4096) == b""  # cut off by the idle timeout
        assert time.time() - started < 8
        slow.close()
        assert d.alive()
    finally:
        d.kill()


def test_every_documented_path_is_served(served):
    """docs/openapi.yaml and the server agree (the OpenAPI lint itself comes with the full API)."""
    import yaml
    from conftest import REPO
    doc = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    some = next(iter(served.current().values()))
    for path, ops in doc["paths"].items():
        url = served.url + path.replace("{id}", str(some["id"]))
        if path == "/v1/results/latest":
            url += "?path=" + some["path"]
        for method in ops:
            code, _ = curl(url, "-X", method.upper())
            documented = {int(c) for c in ops[method]["responses"]}
            assert code in documented, (method, path, code)


def test_post_infer_gives_a_synchronous_result(served, samples):
    sample = next(p for p in samples if p.name.startswith("circle_"))
    code, r = curl_json(served.url + "/v1/infer", "-X", "POST", "--data-binary", f"@{sample}",
                        "-H", "Content-Type: application/octet-stream")
    assert code == 200
    assert r["schema"] == "inferwatch.result/v1" and r["status"] == "ok" and "id" not in r
    assert r["predictions"][0]["label"] == "circle"
    import hashlib
    assert r["sha256"] == hashlib.sha256(sample.read_bytes()).hexdigest()
    code, err = curl_json(served.url + "/v1/infer", "-X", "POST", "--data-binary", "not an image")
    assert code == 415 and err["error"]["code"] == "unsupported_format"
    png = next(p for p in samples if p.suffix == ".png").read_bytes()
    cut = served.dir / "cut.bin"
    cut.write_bytes(png[: len(png) // 2])
    code, err = curl_json(served.url + "/v1/infer", "-X", "POST", "--data-binary", f"@{cut}")
    assert code == 422 and err["error"]["code"] == "truncated"
    # Nothing of this is stored: the folder's results are unchanged.
    assert len(served.current()) == 12


def test_post_infer_goes_ahead_of_a_backlog(daemon, samples):
    daemon.start()
    for i in range(600):
        s = samples[i % len(samples)]
        shutil.copyfile(s, daemon.share / f"q{i:04d}{s.suffix}")
    daemon.wait_for(lambda: daemon.query("SELECT COUNT(*) FROM files WHERE done = 0")[0][0] > 100,
                    what="a backlog", timeout=60)
    code, r = curl_json(daemon.url + "/v1/infer", "-X", "POST", "--data-binary", f"@{samples[0]}")
    assert code == 200 and r["status"] == "ok"
    # Answered while the backlog is still being worked off.
    assert daemon.query("SELECT COUNT(*) FROM files WHERE done = 0")[0][0] > 0


def test_oversized_headers_are_refused(served):
    code, body = curl_json(served.url + "/v1/status", "-H", "X-Padding: " + "a" * 20000)
    assert code == 431 and body["error"]["code"] == "headers_too_large"
    assert curl(served.url + "/healthz")[0] == 200
