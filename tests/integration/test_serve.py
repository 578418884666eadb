"""`inferwatch serve` against real inotify, real files, real SQLite (SPEC §4, issue #3)."""
import os
import shutil
import time


from daemon import image_files, sidecar, temp_files


def _assert_exactly_once(d):
    """One sidecar and one current row per image; sidecar == row; no temp files, no duplicates."""
    images = image_files(d.share)
    current = d.current()
    assert set(current) == set(images)
    for rel in images:
        side = sidecar(d.share, rel)
        assert side == current[rel], rel
        assert side["path"] == rel
    per_path = d.query("SELECT path, COUNT(*) FROM results GROUP BY path HAVING COUNT(*) > 1")
    assert per_path == [], f"duplicate results: {per_path[:5]}"
    assert temp_files(d.share) == []
    ids = [r["id"] for r in current.values()]
    assert len(ids) == len(set(ids))


def _drop_mixed(share, samples, count):
    """Direct writes, temp + rename, copies into new subdirectories, and whole trees moved in."""
    staging = share.parent / "staging"
    staging.mkdir(exist_ok=True)
    for i in range(count):
        src = samples[i % len(samples)]
        name = f"f{i:05d}{src.suffix}"
        kind = i % 4
        if kind == 0:
            shutil.copyfile(src, share / name)
        elif kind == 1:
            tmp = share / f".{name}.part"
            shutil.copyfile(src, tmp)
            os.rename(tmp, share / name)
        elif kind == 2:
            sub = share / f"user{i % 7}" / f"batch{i % 3}"
            sub.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, sub / name)
        else:
            tree = staging / f"tree{i}"
            (tree / "inner").mkdir(parents=True)
            shutil.copyfile(src, tree / "inner" / name)
            os.rename(tree, share / f"moved{i}")


def test_burst_of_files_each_gets_exactly_one_result(daemon, samples):
    daemon.start()
    _drop_mixed(daemon.share, samples, 2000)
    images = image_files(daemon.share)
    assert len(images) == 2000
    daemon.wait_for_paths(images, timeout=600)
    _assert_exactly_once(daemon)
    assert daemon.alive()
    assert daemon.stop() == 0


def test_slow_writer_is_processed_once_when_complete(daemon, samples):
    daemon.start()
    data = max(samples, key=lambda p: p.stat().st_size).read_bytes()
    target = daemon.share / "slow.png"
    with open(target, "wb") as f:
        chunk = max(1, len(data) // 10)
        for i in range(0, len(data), chunk):
            f.write(data[i:i + chunk])
            f.flush()
            time.sleep(0.3)
    results = daemon.wait_for_paths(["slow.png"])
    time.sleep(1.0)  # anything else would have arrived by now
    rows = daemon.query("SELECT status FROM results WHERE path = 'slow.png'")
    assert rows == [("ok",)]
    import hashlib
    assert results["slow.png"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_bad_files_get_error_results_and_the_daemon_keeps_going(daemon, samples):
    daemon.start()
    png = next(p for p in samples if p.suffix == ".png").read_bytes()
    bad = {"empty.png": b"", "text.png": b"hello, not an image", "cut.png": png[: len(png) // 2]}
    for name, data in bad.items():
        (daemon.share / name).write_bytes(data)
    current = daemon.wait_for_paths(list(bad))
    assert current["empty.png"]["error"]["code"] == "empty_file"
    assert current["text.png"]["error"]["code"] == "unsupported_format"
    assert current["cut.png"]["error"]["code"] == "truncated"
    assert all(r["status"] == "error" for r in current.values())
    shutil.copyfile(samples[0], daemon.share / "good.png")
    assert daemon.wait_for_paths(["good.png"])["good.png"]["status"] == "ok"
    time.sleep(0.5)
    # Not retried in a loop: still one row per bad file.
    assert daemon.query("SELECT COUNT(*) FROM results WHERE status = 'error'") == [(3,)]
    assert daemon.alive()


def test_a_modified_file_gets_a_new_result_and_sidecar(daemon, samples):
    daemon.start()
    target = daemon.share / "part.png"
    shutil.copyfile(samples[0], target)
    first = daemon.wait_for_paths(["part.png"])["part.png"]
    time.sleep(0.05)
    shutil.copyfile(samples[5], target)
    daemon.wait_for(lambda: daemon.current()["part.png"]["id"] != first["id"], what="a new result")
    second = daemon.current()["part.png"]
    assert second["id"] > first["id"]
    assert second["sha256"] != first["sha256"]
    assert sidecar(daemon.share, "part.png") == second
    assert daemon.query("SELECT COUNT(*) FROM results WHERE path = 'part.png'") == [(2,)]


def test_kill_9_mid_burst_then_restart_keeps_exactly_once(daemon, samples):
    daemon.start()
    _drop_mixed(daemon.share, samples, 400)
    daemon.wait_for(lambda: len(daemon.current()) >= 50, what="some results")
    daemon.kill()
    done_before = len(daemon.current())
    daemon.start()
    images = image_files(daemon.share)
    daemon.wait_for_paths(images, timeout=300)
    assert done_before < len(images)
    _assert_exactly_once(daemon)
    assert daemon.stop() == 0


def test_sigterm_drains_and_exits_zero(daemon, samples):
    daemon.start()
    for i in range(50):
        shutil.copyfile(samples[i % len(samples)], daemon.share / f"x{i}.png")
    started = time.time()
    assert daemon.stop(timeout=20) == 0
    assert time.time() - started < 15
    assert "SIGTERM received" in daemon.log_path.read_text()
    assert temp_files(daemon.share) == []


def test_a_sidecar_that_cannot_be_written_keeps_its_predictions_in_the_database(daemon, samples):
    daemon.start()
    # A directory where the sidecar should go: it is left alone (it is not the daemon's).
    (daemon.share / "blocked.png.result.json").mkdir()
    shutil.copyfile(samples[0], daemon.share / "blocked.png")
    shutil.copyfile(samples[1], daemon.share / "fine.png")
    current = daemon.wait_for_paths(["blocked.png", "fine.png"])
    blocked = current["blocked.png"]
    assert blocked["status"] == "ok"
    assert blocked["predictions"], blocked
    assert blocked["sidecar_error"]["code"] == "sidecar_failed"
    assert "blocked.png.result.json" in blocked["sidecar_error"]["message"]
    assert (daemon.share / "blocked.png.result.json").is_dir()
    assert current["fine.png"]["status"] == "ok"
    assert "sidecar_error" not in current["fine.png"]
    assert "cannot write sidecar" in daemon.log_path.read_text()
    assert temp_files(daemon.share) == []
    assert daemon.alive()


def test_ids_continue_without_a_gap_after_a_clean_restart(daemon, samples):
    """A clean stop gives back the unused result ids it had reserved, so the next run's first id
    follows the last one (after a crash they stay reserved: ids are never reused)."""
    daemon.start()
    shutil.copyfile(samples[0], daemon.share / "a.png")
    first = daemon.wait_for_paths(["a.png"])["a.png"]
    assert daemon.stop() == 0
    daemon.start()
    shutil.copyfile(samples[1], daemon.share / "b.png")
    assert daemon.wait_for_paths(["b.png"])["b.png"]["id"] == first["id"] + 1


def test_restart_recomputes_a_file_whose_commit_was_lost(daemon, samples):
    """A crash between the sidecar's rename and the commit leaves a sidecar the database does not
    know. A sidecar lies in the share, where anyone can write, so the next run trusts nothing in
    it: it computes that file again, commits one result and replaces the sidecar."""
    daemon.start()
    for i in range(3):
        shutil.copyfile(samples[i], daemon.share / f"a{i}.png")
    current = daemon.wait_for_paths([f"a{i}.png" for i in range(3)])
    assert daemon.stop() == 0
    last = max(current.values(), key=lambda r: r["id"])
    import sqlite3
    with sqlite3.connect(daemon.db_path) as db:  # undo the last commit, as a crash would have
        db.execute("DELETE FROM results WHERE id = ?", (last["id"],))
        db.execute("UPDATE files SET done = 0, result_id = NULL WHERE path = ?", (last["path"],))
    daemon.start()
    daemon.wait_for_paths([last["path"]])
    again = daemon.current()[last["path"]]
    assert again["predictions"] == last["predictions"]
    assert again["sha256"] == last["sha256"]
    assert daemon.query("SELECT COUNT(*) FROM results") == [(3,)]
    assert sidecar(daemon.share, last["path"]) == again


def test_without_sidecars_results_go_to_the_database_and_the_daemon_idles(tmp_path, samples):
    """results.sidecar = false: nothing is written beside the images, and an idle daemon sleeps
    (no thread polls in a loop: each waits for work or its next due time)."""
    from daemon import Daemon
    d = Daemon(tmp_path, extra_config="[results]\nsidecar = false\n")
    d.start()
    try:
        shutil.copyfile(samples[0], d.share / "a.png")
        assert d.wait_for_paths(["a.png"])["a.png"]["status"] == "ok"
        assert not (d.share / "a.png.result.json").exists()

        def cpu_seconds():
            fields = open(f"/proc/{d.proc.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        before = cpu_seconds()
        time.sleep(3)
        assert cpu_seconds() - before < 1.0, "the idle daemon keeps a core busy"
        assert d.stop() == 0
    finally:
        if d.alive():
            d.kill()
