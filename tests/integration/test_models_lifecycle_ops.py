"""The model lifecycle's operations beyond the API (docs/models.md): old version folders removed
by model.keep_versions (never following a link out, never the versions that may serve again),
`inferwatch models --offline` while the daemon is stopped (and refused while it runs), and
rollouts that survive a SIGTERM and a kill -9 with their state, counts and canary files, each
file keeping exactly one current result.

The versions come from scripts/make-test-models (conftest's session fixture `made`)."""
import json
import re
import signal
import subprocess

import pytest

from conftest import binary
from daemon import Daemon
from test_models_api import canary_point, drop, make_version, states


def start(tmp_path, repository, model_keys=""):
    d = Daemon(tmp_path, extra_config=f'[model]\nrepository = "{repository}"\ndefault = "shapes"\n'
                                      + model_keys)
    return d.start(timeout=120)


def models(d, *args):
    proc = subprocess.run([binary(), "models", "-c", str(d.config), *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def rollout_of(d, version):
    return json.loads(d.query("SELECT rollout_json FROM model_versions WHERE version = ?",
                              version)[0][0])


def one_current_result_per_file(d, n):
    assert d.query("SELECT file_id, COUNT(*) FROM results GROUP BY file_id, dev, inode, size, "
                   "mtime_ns HAVING COUNT(*) > 1") == []
    assert d.query("SELECT COUNT(*), COUNT(DISTINCT result_id) FROM files") == [(n, n)]
    assert d.query("SELECT COUNT(*) FROM files f JOIN results r ON r.id = f.result_id "
                   "WHERE r.file_id != f.id") == [(0,)]


# ---- retention -------------------------------------------------------------------------------

def test_old_versions_beyond_keep_versions_are_removed_without_following_links(tmp_path, made):
    repository = tmp_path / "repo"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("mine")
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository, "keep_versions = 1\n")
    try:
        # Two refused versions: the older one's folder goes, with a link out of the repository
        # inside it that must be removed as a link.
        first = repository / "shapes" / "nan"
        make_version(made, "nan", first)
        (first / "escape").symlink_to(outside, target_is_directory=True)
        d.wait_for(lambda: states(d).get("nan") == "refused", what="nan refused")
        assert first.exists()  # one old version is kept
        make_version(made, "wrong-shape", repository / "shapes" / "wrong-shape")
        d.wait_for(lambda: states(d).get("nan") == "removed", what="nan removed")
        assert states(d) == {"v1": "live", "nan": "removed", "wrong-shape": "refused"}
        assert not first.exists() and not first.is_symlink()
        assert (outside / "precious.txt").read_text() == "mine"
        assert (repository / "shapes" / "v1" / "model.toml").exists()
        assert (repository / "shapes" / "wrong-shape" / "model.toml").exists()
        assert [p.name for p in (repository / "shapes").iterdir() if p.name.startswith(".")] == []
        assert re.search(r"model shapes version nan: removed its directory .* \(it was refused; "
                         r"model\.keep_versions = 1", d.log_text())
        status, body = d.http("GET", "/v1/models")
        [m] = body["models"]
        assert {v["version"]: v["state"] for v in m["versions"]}["nan"] == "removed"

        code, out, err = models(d, "--listen", f"127.0.0.1:{d.port}", "rollback", "shapes",
                                "--to", "nan")
        assert code == 1 and "version_unusable (422)" in err and "was removed" in err, (out, err)
    finally:
        assert d.stop() == 0
    # A restart neither gates it again nor brings it back.
    d.start(timeout=120)
    try:
        assert states(d)["nan"] == "removed"
        assert d.log_text().count("version nan: refused by the gate") == 1
    finally:
        assert d.stop() == 0


# ---- offline ---------------------------------------------------------------------------------

def test_the_offline_cli_lists_promotes_and_rolls_back_while_the_daemon_is_stopped(
        tmp_path, made, samples):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository)
    make_version(made, "v2-better", repository / "shapes" / "v2",
                 rollout=dict(mode='"shadow"', min_files=100000))
    d.wait_for(lambda: states(d).get("v2") == "candidate", what="v2 in shadow")

    # While the daemon runs: list works, changes are refused with exit 2.
    code, out, err = models(d, "--offline", "list")
    assert code == 0 and "shapes: shadow, live v1, candidate v2" in out, (out, err)
    code, out, err = models(d, "--offline", "promote", "shapes")
    assert code == 2 and "stop it first" in err, (out, err)
    assert states(d) == {"v1": "live", "v2": "candidate"}
    assert d.stop() == 0

    code, out, err = models(d, "--offline", "list", "--json")
    assert code == 0, err
    [m] = json.loads(out)["models"]
    assert (m["live_version"], m["candidate_version"], m["state"]) == ("v1", "v2", "shadow")
    assert [v["gate"]["passed"] for v in m["versions"]] == [True, True]
    code, out, err = models(d, "--offline", "rollback", "shapes", "--to", "v9")
    assert code == 1 and "unknown_version (404)" in err, (out, err)
    code, out, err = models(d, "--offline", "upload", "shapes", "v3", made / "v1")
    assert code == 2 and "needs the running daemon" in err, (out, err)
    code, out, err = models(d, "--offline", "promote", "shapes")
    assert code == 0 and "shadow → promoted (manual)" in out and "live v2" in out, (out, err)
    assert states(d) == {"v1": "retired", "v2": "live"}

    d.start(timeout=120)  # the daemon picks the promotion up
    try:
        names = drop(d, samples, [f"a{i}.png" for i in range(4)])
        assert {r["model"]["version"] for r in d.wait_for_paths(names).values()} == {"shapes@v2"}
    finally:
        assert d.stop() == 0

    code, out, err = models(d, "--offline", "rollback", "shapes", "--reason", "offline undo")
    assert code == 0 and "live v1" in out, (out, err)
    assert states(d) == {"v1": "live", "v2": "rolled_back"}
    d.start(timeout=120)
    try:
        names = drop(d, samples, [f"b{i}.png" for i in range(4)])
        results = d.wait_for_paths(names)
        assert {results[rel]["model"]["version"] for rel in names} == {"shapes@v1"}
    finally:
        assert d.stop() == 0


# ---- restarts mid-rollout --------------------------------------------------------------------

def test_a_canary_survives_sigterm_with_its_state_counts_and_files(tmp_path, made, samples):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository)
    make_version(made, "v2-better", repository / "shapes" / "v2",
                 rollout=dict(mode='"canary"', canary_fraction=0.5, min_files=100000))
    d.wait_for(lambda: states(d).get("v2") == "candidate", what="v2 in canary")
    first = drop(d, samples, [f"c{i:03d}.png" for i in range(40)])
    before = {rel: r["model"]["version"] for rel, r in d.wait_for_paths(first).items()}
    assert d.stop() == 0  # SIGTERM: the counts are written at the stop
    stopped = rollout_of(d, "v2")
    assert stopped["state"] == "canary"
    canary = {rel for rel, v in before.items() if v == "shapes@v2"}
    assert stopped["counters"]["files"] == len(canary) > 0
    assert canary == {rel for rel in first if canary_point(rel.encode()) < 0.5}

    d.start(timeout=120)
    try:
        status, body = d.http("GET", "/v1/models")
        [m] = body["models"]
        assert (m["state"], m["live_version"], m["candidate_version"]) == ("canary", "v1", "v2")
        # Counts exactly; the latency sums to 15 significant digits (the stored JSON's precision).
        counters = m["rollout"]["counters"]
        assert counters == pytest.approx(stopped["counters"], rel=1e-14)
        assert {k: v for k, v in counters.items() if isinstance(v, int)} == \
            {k: v for k, v in stopped["counters"].items() if isinstance(v, int)}
        # Old files changed after the restart stay on their side; new files split by the hash.
        changed = first[:10]
        for i, rel in enumerate(changed):
            (d.share / rel).write_bytes(samples[(i + 1) % len(samples)].read_bytes())
        second = drop(d, samples, [f"d{i:03d}.png" for i in range(20)])
        d.wait_for(lambda: d.query("SELECT COUNT(*) FROM results")[0][0] == 70,
                   what="a result for every new file version")
        after = {rel: r["model"]["version"] for rel, r in d.wait_for_paths(first + second).items()}
        for rel in changed:
            assert after[rel] == before[rel], rel
        for rel in second:
            assert after[rel] == ("shapes@v2" if canary_point(rel.encode()) < 0.5 else "shapes@v1")
        n_canary = sum(1 for rel in changed + second if after[rel] == "shapes@v2")
        d.wait_for(lambda: d.http("GET", "/v1/models")[1]["models"][0]["rollout"]["counters"]
                   ["files"] == stopped["counters"]["files"] + n_canary,
                   what="the counts going on from where they were")
        one_current_result_per_file(d, 60)
    finally:
        assert d.stop() == 0


def test_a_shadow_rollout_survives_kill_9_with_files_in_flight(tmp_path, made, samples):
    repository = tmp_path / "repo"
    make_version(made, "v1", repository / "shapes" / "v1")
    d = start(tmp_path, repository)
    make_version(made, "v2-better", repository / "shapes" / "v2",
                 rollout=dict(mode='"shadow"', min_files=60, min_agreement=0.95,
                              max_latency_ratio=1000))
    d.wait_for(lambda: states(d).get("v2") == "candidate", what="v2 in shadow")
    names = drop(d, samples, [f"k{i:03d}.png" for i in range(100)])
    d.wait_for(lambda: d.query("SELECT COUNT(*) FROM results")[0][0] >= 10, timeout=120,
               what="some results before the kill")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(timeout=30)
    d.log.close()
    done_at_kill = d.query("SELECT COUNT(*) FROM results")[0][0]
    print(f"killed with {done_at_kill} of {len(names)} results stored")

    d.start(timeout=120)
    try:
        assert states(d) in ({"v1": "live", "v2": "candidate"}, {"v1": "retired", "v2": "live"})
        results = d.wait_for_paths(names)
        d.wait_for(lambda: states(d) == {"v1": "retired", "v2": "live"}, timeout=120,
                   what="the rollout finishing after the restart")
        one_current_result_per_file(d, len(names))
        # Only the two versions ever served; shadow results only beside v1's.
        assert {r["model"]["version"] for r in results.values()} <= {"shapes@v1", "shapes@v2"}
        served = {v for (v,) in d.query("SELECT DISTINCT model_version FROM results")}
        refused = {f"shapes@{v}" for v, s in states(d).items() if s in ("refused", "rolled_back")}
        assert not served & refused
        assert d.query("SELECT COUNT(*) FROM shadow_results s JOIN results r ON r.id = s.result_id "
                       "WHERE r.model_version != 'shapes@v1'") == [(0,)]
        print("promoted after", rollout_of(d, "v2")["counters"])
    finally:
        assert d.stop() == 0
