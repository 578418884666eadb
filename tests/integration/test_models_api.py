"""The model lifecycle from the outside (SPEC §10, docs/models.md, docs/api.md "Models"): the REST
routes with a token, `inferwatch models` against the running daemon, a canary's share of files as
the documented path hash predicts, a candidate that degrades rolled back by the registry itself, one
that meets its policy promoted by itself, and exactly one current result per file (and one stream
message per result) while versions change.

The versions come from scripts/make-test-models (conftest's session fixture `made`)."""
import asyncio
import io
import json
import re
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request

import pytest
import websockets

from conftest import binary
from daemon import Daemon

TOKEN = "m0dels-t0ken"


def set_keys(text, section, **keys):
    """model.toml `text` with `keys` of [section] set (replaced where present, else added)."""
    lines, current, done = text.splitlines(), None, set()
    out = []
    for line in lines + ["[end-of-file]"]:
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            if current == section:  # add what the section did not have, before the next one
                out += [f"{k} = {v}" for k, v in keys.items() if k not in done]
            current = header.group(1)
        else:
            key = re.match(r"^(\w+)\s*=", line)
            if current == section and key and key.group(1) in keys:
                line = f"{key.group(1)} = {keys[key.group(1)]}"
                done.add(key.group(1))
        out.append(line)
    return "\n".join(out[:-1]) + "\n"


def make_version(made, source, target, gate=None, rollout=None):
    """Copy made version `source` to `target` with [gate]/[rollout] keys changed; model.toml last,
    through a rename, as a deployment should."""
    shutil.copytree(made / source, target, ignore=shutil.ignore_patterns("model.toml"))
    text = (made / source / "model.toml").read_text()
    text = set_keys(text, "gate", **(gate or {}))
    text = set_keys(text, "rollout", **(rollout or {}))
    (target / ".model.toml.tmp").write_text(text)
    (target / ".model.toml.tmp").rename(target / "model.toml")
    return target


def start(tmp_path, repository, token=False):
    server = '[server]\nlisten = "127.0.0.1:0"\n'
    if token:
        (tmp_path / "token").write_text(TOKEN + "\n")
        server += f'token_file = "{tmp_path / "token"}"\n'
    d = Daemon(tmp_path, server_config=server,
               extra_config=f'[model]\nrepository = "{repository}"\ndefault = "shapes"\n')
    return d.start(timeout=120)


def api(d, method, path, data=None, token=TOKEN):
    """(status, JSON body) of one request, with the token as a bearer unless token is None."""
    request = urllib.request.Request(d.url + path, data=data, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def shapes(d):
    status, body = api(d, "GET", "/v1/models")
    assert status == 200, body
    return next(m for m in body["models"] if m["name"] == "shapes")


def states(d):
    return dict(d.query("SELECT version, state FROM model_versions WHERE model = 'shapes'"))


def tar_of(directory, top="."):
    """A version directory as a tar.gz, entries under `top`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(directory, arcname=top)
    return buffer.getvalue()


def drop(d, samples, names):
    """Copy samples (cycling) to the share under `names`; returns the names."""
    for i, rel in enumerate(names):
        (d.share / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(samples[i % len(samples)], d.share / rel)
    return list(names)


def versions_of(d, names):
    results = d.wait_for_paths(names)
    return {results[rel]["model"]["version"] for rel in names}


def canary_point(path: bytes) -> float:
    """docs/models.md, "The canary share", as written there."""
    M = (1 << 64) - 1
    h = 0xCBF29CE484222325
    for b in path:
        h = ((h ^ b) * 0x100000001B3) & M
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & M
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & M
    h ^= h >> 31
    return (h >> 11) / 2.0**53


# ---- REST ------------------------------------------------------------------------------------

def test_rest_lists_uploads_promotes_and_rolls_back_with_the_token(tmp_path, made, samples):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository, token=True)
    try:
        m = shapes(d)
        assert (m["live_version"], m["candidate_version"], m["serving"]) == ("v1", None, True)
        [v1] = m["versions"]
        assert (v1["version"], v1["state"], v1["gate"]["passed"]) == ("v1", "live", True)
        assert v1["gate"]["numbers"]["accuracy"] == 1.0
        # The live version's labels: what feedback on its results may say (the review page's picker).
        assert v1["labels"] and v1["labels"] == api(d, "GET", "/v1/model")[1]["labels"]

        # A worse version is refused with its reasons; nothing is added, v1 keeps serving.
        status, body = api(d, "POST", "/v1/models/shapes/versions?version=v3",
                           tar_of(made / "v2-worse"))
        assert status == 422, body
        assert body["error"]["code"] == "gate_refused"
        codes = {r["code"] for r in body["error"]["reasons"]}
        assert codes == {"accuracy_below_threshold", "accuracy_drop"}, body
        assert body["verdict"]["passed"] is False and body["verdict"]["numbers"]["accuracy"] < 0.9
        assert not (repository / "shapes" / "v3").exists()
        assert list((repository / ".staging").iterdir()) == []
        assert [v["version"] for v in shapes(d)["versions"]] == ["v1"]
        assert versions_of(d, drop(d, samples, [f"a{i}.png" for i in range(4)])) == {"shapes@v1"}

        # A better one (shadow, as its model.toml says) passes and becomes the candidate; the
        # archive is the version's folder this time.
        status, body = api(d, "POST", "/v1/models/shapes/versions?version=v3",
                           tar_of(made / "v2-better", top="v2-better"))
        assert status == 201, body
        assert body["verdict"]["passed"] is True and body["verdict"]["reasons"] == []
        assert body["model"]["candidate_version"] == "v3" and body["model"]["state"] == "shadow"
        assert (repository / "shapes" / "v3" / "model.toml").is_file()
        m = shapes(d)
        assert (m["live_version"], m["candidate_version"], m["state"]) == ("v1", "v3", "shadow")
        assert m["rollout"]["policy"]["mode"] == "shadow"
        assert {v["version"]: (v["state"], v["gate"]["passed"]) for v in m["versions"]} == {
            "v1": ("live", True), "v3": ("candidate", True)}
        assert versions_of(d, drop(d, samples, [f"b{i}.png" for i in range(4)])) == {"shapes@v1"}

        status, body = api(d, "POST", "/v1/models/shapes/promote")
        assert status == 200, body
        t = body["transition"]
        assert (t["from"], t["to"], t["reason"], t["live_version"]) == ("shadow", "promoted", "manual", "v3")
        assert body["model"]["live_version"] == "v3"
        assert versions_of(d, drop(d, samples, [f"c{i}.png" for i in range(4)])) == {"shapes@v3"}

        status, body = api(d, "POST", "/v1/models/shapes/rollback",
                           json.dumps({"reason": "test: undo"}).encode())
        assert status == 200, body
        assert (body["transition"]["to"], body["transition"]["live_version"]) == ("rolled_back", "v1")
        assert versions_of(d, drop(d, samples, [f"d{i}.png" for i in range(4)])) == {"shapes@v1"}
        assert states(d) == {"v1": "live", "v3": "rolled_back"}

        # Without the token (or with a wrong one) nothing is shown or changed.
        for token in (None, "wrong"):
            assert api(d, "GET", "/v1/models", token=token)[0] == 401
            assert api(d, "POST", "/v1/models/shapes/promote", token=token)[0] == 401
            assert api(d, "POST", "/v1/models/shapes/rollback", token=token)[0] == 401
            assert api(d, "POST", "/v1/models/shapes/versions?version=v4", tar_of(made / "v2-better"),
                       token=token)[0] == 401
        assert states(d) == {"v1": "live", "v3": "rolled_back"}
        assert not (repository / "shapes" / "v4").exists()
    finally:
        assert d.stop() == 0


def test_a_malicious_archive_is_refused_and_writes_nothing_outside_staging(tmp_path, made):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    outside = tmp_path / "outside"
    outside.mkdir()
    d = start(tmp_path, repository, token=True)

    def archive(*entries):
        """A tar.gz of the good version's files plus `entries` (TarInfo, bytes or None)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(made / "v2-better", arcname=".")
            for info, data in entries:
                if data is not None:
                    info.size = len(data)
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return buffer.getvalue()

    def link(name, target, kind=tarfile.SYMTYPE):
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, target
        return info, None

    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                    if ".staging" not in p.parts)
    try:
        cases = {
            "dot-dot": archive((tarfile.TarInfo("../evil"), b"pwned")),
            "deep dot-dot": archive((tarfile.TarInfo("golden/../../../evil"), b"pwned")),
            "absolute": archive((tarfile.TarInfo(str(outside / "abs")), b"pwned")),
            "symlink": archive(link("escape", str(outside))),
            "through a symlink": archive(link("escape", str(outside)),
                                         (tarfile.TarInfo("escape/pwned"), b"pwned")),
            "hard link": archive(link("passwd", "/etc/passwd", tarfile.LNKTYPE)),
        }
        for what, body in cases.items():
            status, reply = api(d, "POST", "/v1/models/shapes/versions?version=evil", body)
            assert status == 400, (what, reply)
            assert reply["error"]["code"] == "unsafe_entry", (what, reply)
        status, reply = api(d, "POST", "/v1/models/shapes/versions?version=evil", b"not a tar")
        assert (status, reply["error"]["code"]) == (400, "archive_invalid")

        after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                       if ".staging" not in p.parts)
        assert [p for p in after if p not in before and not p.startswith("share")
                and p not in ("inferwatch.db-wal", "inferwatch.db-shm")] == []
        assert list(outside.iterdir()) == []
        assert list((repository / ".staging").iterdir()) == []
        assert states(d) == {"v1": "live"}
    finally:
        assert d.stop() == 0


# ---- CLI -------------------------------------------------------------------------------------

def test_the_models_command_drives_the_running_daemon(tmp_path, made):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository, token=True)

    def models(*args, config=d.config, listen=None):
        proc = subprocess.run([binary(), "models", "-c", str(config), "--listen",
                               listen or f"127.0.0.1:{d.port}", *map(str, args)],
                              capture_output=True, text=True, timeout=300)
        return proc.returncode, proc.stdout, proc.stderr

    try:
        code, out, err = models("list")
        assert code == 0, err
        assert "shapes: stable, live v1, candidate -" in out
        assert re.search(r"v1\s+live\s+gate passed, accuracy 1\.0000", out), out

        code, out, err = models("promote", "shapes")
        assert code == 1 and "no_candidate (409)" in err, (out, err)

        code, out, err = models("upload", "shapes", "v3", made / "v2-worse")
        assert code == 1, (out, err)
        assert "gate_refused (422)" in err and "accuracy_below_threshold" in err, err
        assert not (repository / "shapes" / "v3").exists()

        code, out, err = models("upload", "shapes", "v3", made / "v2-better")
        assert code == 0, err
        assert "shapes v3: passed the gate" in out and "candidate v3" in out, out

        code, out, err = models("list", "--json")
        assert code == 0
        [m] = json.loads(out)["models"]
        assert (m["live_version"], m["candidate_version"]) == ("v1", "v3")

        code, out, err = models("promote", "shapes")
        assert code == 0 and "shadow → promoted (manual)" in out and "live v3" in out, (out, err)
        code, out, err = models("rollback", "shapes", "--reason", "back to v1")
        assert code == 0 and "live v1" in out, (out, err)
        assert states(d) == {"v1": "live", "v3": "rolled_back"}

        code, out, err = models("rollback", "shapes", "--to", "v9")
        assert code == 1 and "unknown_version (404)" in err, (out, err)
        code, out, err = models("rollback", "nosuch")
        assert code == 1 and "unknown_model (404)" in err, (out, err)

        # 2: usage, a wrong token, no daemon there.
        assert models("promote")[0] == 2
        wrong = tmp_path / "wrong.toml"
        (tmp_path / "wrong-token").write_text("nope\n")
        wrong.write_text(d.config.read_text().replace(str(tmp_path / "token"),
                                                      str(tmp_path / "wrong-token")))
        code, out, err = models("list", config=wrong)
        assert code == 2 and "(401)" in err, (out, err)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]  # bound, never listening: connections are refused
            assert models("list", listen=f"127.0.0.1:{closed}")[0] == 2
        assert states(d) == {"v1": "live", "v3": "rolled_back"}
    finally:
        assert d.stop() == 0


# ---- rollouts --------------------------------------------------------------------------------

def test_a_canary_gets_the_share_of_files_the_path_hash_gives(tmp_path, made, samples):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository)
    try:
        make_version(made, "v2-better", repository / "shapes" / "v2",
                     rollout=dict(mode='"canary"', canary_fraction=0.3, min_files=100000))
        d.wait_for(lambda: states(d).get("v2") == "candidate", what="v2 in canary")
        assert shapes(d)["state"] == "canary"
        names = drop(d, samples, [f"line-{i % 4}/crop_{i:04d}{samples[i % len(samples)].suffix}"
                                  for i in range(200)])
        results = d.wait_for_paths(names)
        by_candidate = {rel for rel in names if results[rel]["model"]["version"] == "shapes@v2"}
        predicted = {rel for rel in names if canary_point(rel.encode()) < 0.3}
        assert {results[rel]["model"]["version"] for rel in names} == {"shapes@v1", "shapes@v2"}
        assert by_candidate == predicted
        share = len(by_candidate) / len(names)
        print(f"canary share: {len(by_candidate)} of {len(names)} = {share:.3f}")
        assert abs(share - 0.3) < 0.1  # 3 standard deviations of 200 draws at 0.3
        assert shapes(d)["rollout"]["counters"]["files"] == len(by_candidate)
        assert not d.query("SELECT COUNT(*) FROM shadow_results")[0][0]
    finally:
        assert d.stop() == 0


def test_a_candidate_that_disagrees_is_rolled_back_by_the_registry(tmp_path, made, samples):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository)
    try:
        # v2-worse swaps two pairs of classes: half the samples get another label. A permissive
        # gate lets it in; the rollout's agreement rule must take it out.
        make_version(made, "v2-worse", repository / "shapes" / "v2",
                     gate=dict(min_accuracy=0, max_accuracy_drop=1),
                     rollout=dict(mode='"shadow"', min_agreement=0.95, min_files=20))
        d.wait_for(lambda: states(d).get("v2") == "candidate", what="v2-worse in shadow")
        names = drop(d, samples, [f"w{i:03d}{samples[i % len(samples)].suffix}" for i in range(40)])
        d.wait_for(lambda: states(d).get("v2") == "rolled_back", what="the automatic rollback")
        assert versions_of(d, names) == {"shapes@v1"}
        assert states(d) == {"v1": "live", "v2": "rolled_back"}
        assert re.search(r"model shapes: shadow → rolled_back \(agreement\)", d.log_text())
        assert d.metric("inferwatch_model_rollbacks_total", model="shapes", reason="agreement") >= 1
        stored = json.loads(d.query("SELECT rollout_json FROM model_versions "
                                    "WHERE version = 'v2'")[0][0])
        assert (stored["state"], stored["reason"]) == ("rolled_back", "agreement")
        m = shapes(d)
        print("rolled back after", m["rollout"]["counters"])
        assert m["rollout"]["state"] == "rolled_back" and m["candidate_version"] is None
        counters = m["rollout"]["counters"]
        # More than 1 in 20 disagreeing (1 − 0.95) can no longer meet the policy: the second
        # disagreement rolls back, long before min_files.
        assert counters["compared"] - counters["agreed"] == 2 and counters["files"] < 20
        # The live version serves on after the rollback.
        assert versions_of(d, drop(d, samples, [f"after{i}.png" for i in range(4)])) == {"shapes@v1"}
    finally:
        assert d.stop() == 0


async def _stream(url, until, timeout=120):
    """Result messages from the stream at `url` until `until(messages)`."""
    got = []
    async with websockets.connect(url, max_size=None) as ws:
        deadline = time.time() + timeout
        while not until(got):
            try:
                text = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time()))
            except asyncio.TimeoutError:
                raise AssertionError(f"the stream stopped after {len(got)} results: "
                                     f"{sorted(m['path'] for m in got)}") from None
            msg = json.loads(text)
            if msg.get("type") != "heartbeat":
                got.append(msg)
    return got


def test_a_candidate_that_meets_its_policy_promotes_itself_and_each_file_keeps_one_result(
        tmp_path, made, samples):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository)
    try:
        # Latency is not what this test is about: a mean over 20 files on a shared machine is
        # noise (ratios from 0.7 to 1.6 were seen for the same model), so its limit is wide.
        make_version(made, "v2-better", repository / "shapes" / "v2",
                     rollout=dict(mode='"shadow"', min_files=20, min_agreement=0.95,
                                  max_latency_ratio=1000))
        d.wait_for(lambda: states(d).get("v2") == "candidate", what="v2-better in shadow")
        names = [f"s{i:03d}{samples[i % len(samples)].suffix}" for i in range(120)]
        before, after = names[:100], names[100:]
        url = d.url.replace("http://", "ws://") + "/v1/stream?after=0"

        failed = []

        def writer():
            # Files keep arriving while the rollout promotes (some are in flight across it); the
            # last ones only once it has promoted, so they must be the new version's.
            try:
                for i in range(0, len(before), 4):
                    drop(d, samples[i % len(samples):] + samples, before[i:i + 4])
                    time.sleep(0.02)
                d.wait_for(lambda: shapes(d)["live_version"] == "v2", what="the automatic promotion")
                drop(d, samples, after)
            except Exception as e:  # noqa: BLE001  (reported by the main thread)
                failed.append(e)

        def until(got):
            if failed:
                raise failed[0]
            return len(got) >= len(names)

        thread = threading.Thread(target=writer)
        thread.start()
        got = asyncio.run(_stream(url, until))
        thread.join()
        d.wait_for(lambda: states(d) == {"v1": "retired", "v2": "live"}, what="the catalog")
        assert re.search(r"model shapes: shadow → promoted \(policy_met\)", d.log_text())
        assert d.metric("inferwatch_model_promotions_total", model="shapes") >= 1
        m = shapes(d)
        print("promoted after", m["rollout"]["counters"])

        results = d.wait_for_paths(names)
        versions = [results[rel]["model"]["version"] for rel in names]
        assert {results[rel]["model"]["version"] for rel in after} == {"shapes@v2"}
        assert "shapes@v1" in versions[:20], versions  # the first files, before min_files
        # Exactly once: one result per file version, one current result per file, no result
        # current for two files; the stream carried each stored result once.
        assert d.query("SELECT file_id, COUNT(*) FROM results GROUP BY file_id, dev, inode, size, "
                       "mtime_ns HAVING COUNT(*) > 1") == []
        assert d.query("SELECT COUNT(*), COUNT(DISTINCT result_id) FROM files") == [(120, 120)]
        assert d.query("SELECT COUNT(*) FROM files f JOIN results r ON r.id = f.result_id "
                       "WHERE r.file_id != f.id") == [(0,)]
        stored = {i for (i,) in d.query("SELECT id FROM results")}
        ids = [r["id"] for r in got]
        assert len(ids) == len(set(ids)) == len(names)
        assert set(ids) == stored
        assert {r["path"]: r["model"]["version"] for r in got} == dict(zip(names, versions))
        # Shadow results were stored apart, never for a file the candidate served.
        assert d.query("SELECT COUNT(*) FROM shadow_results s JOIN results r ON r.id = s.result_id "
                       "WHERE r.model_version != 'shapes@v1'") == [(0,)]
    finally:
        assert d.stop() == 0
