"""A share user who tries to break `inferwatch serve` (SPEC §4 "the share is untrusted", issue #12):
symlinks and FIFOs planted at the names the daemon reads and writes, files swapped after they
were seen, forged sidecars for crash recovery, files planted at the daemon's temp names. Each
test plants the attack for real on a real folder and asserts what a user would see."""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import time

from daemon import sidecar, temp_files


def _victim(tmp_path, text=b"precious data outside the share\n"):
    victim = tmp_path / "outside" / "victim.bin"
    victim.parent.mkdir(exist_ok=True)
    victim.write_bytes(text)
    return victim


def _db_intact(daemon):
    with sqlite3.connect(f"file:{daemon.db_path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_symlinks_at_the_sidecar_and_temp_names_are_never_written_through(daemon, samples, tmp_path):
    """The old writer created `.<sidecar>.inferwatch-tmp` with O_TRUNC and followed a symlink
    there: a user could make the daemon truncate its own database or any file it may write."""
    victim = _victim(tmp_path)
    daemon.start()
    share = daemon.share
    # Symlinks at every name a sidecar write could touch, pointing at the database and a victim.
    os.symlink(daemon.db_path, share / ".a.png.result.json.inferwatch-tmp")
    os.symlink(victim, share / "b.png.result.json")
    os.symlink(tmp_path / "outside" / "created-by-daemon", share / ".c.png.result.json.inferwatch-tmp")
    os.symlink(tmp_path / "outside" / "dangling-target", share / "c.png.result.json")
    for name, sample in (("a.png", samples[0]), ("b.png", samples[1]), ("c.png", samples[2])):
        shutil.copyfile(sample, share / name)
    current = daemon.wait_for_paths(["a.png", "b.png", "c.png"])

    assert victim.read_bytes() == b"precious data outside the share\n"
    assert sorted(os.listdir(tmp_path / "outside")) == ["victim.bin"]  # nothing created there
    _db_intact(daemon)
    assert current["a.png"]["status"] == "ok"
    assert sidecar(share, "a.png") == current["a.png"]  # written beside the image, as usual
    for name in ("b.png", "c.png"):  # a symlink at the sidecar's name is left alone
        assert current[name]["status"] == "ok" and current[name]["predictions"]
        assert current[name]["sidecar_error"]["code"] == "sidecar_failed"
        assert "symbolic link" in current[name]["sidecar_error"]["message"]
        assert os.path.islink(share / f"{name}.result.json")
    # The planted temp-name symlinks are the user's files: not the daemon's to delete.
    assert os.path.islink(share / ".a.png.result.json.inferwatch-tmp")
    assert daemon.stop() == 0
    daemon.start()  # and the daemon still starts on its database
    assert daemon.http("GET", "/readyz")[0] == 200
    assert daemon.stop() == 0


def test_a_symlink_to_a_file_outside_is_not_read(daemon, samples, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.png"
    shutil.copyfile(samples[0], secret)
    secret_sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    (outside / "inner.png").write_bytes(samples[1].read_bytes())
    daemon.start()
    os.symlink(secret, daemon.share / "leak.png")
    os.symlink(outside, daemon.share / "linked-dir")  # a directory symlink is not descended
    shutil.copyfile(samples[2], daemon.share / "fine.png")
    current = daemon.wait_for_paths(["leak.png", "fine.png"])

    leak = current["leak.png"]
    assert leak["status"] == "error"
    assert leak["error"]["code"] == "not_regular_file"
    assert "symbolic link" in leak["error"]["message"]
    assert leak["sha256"] == "" and "image" not in leak
    assert not any(r.get("sha256") == secret_sha for r in current.values())
    assert not any(p.startswith("linked-dir") for p in current)
    status, page = daemon.http("GET", "/v1/results?after=0&limit=1000")
    assert status == 200 and secret_sha not in json.dumps(page)
    assert not (outside / "secret.png.result.json").exists()
    assert daemon.stop() == 0


def test_fifos_and_sockets_at_image_names_get_one_error_and_block_nothing(daemon, samples, tmp_path):
    """A FIFO opened for reading blocks until a writer appears: the old daemon's decode workers
    hung on one forever, SIGTERM never finished and a restart stalled on the same file."""
    daemon.start()
    share = daemon.share
    os.mkfifo(share / "made.png")                   # created in place
    os.mkfifo(share.parent / "staged")
    os.rename(share.parent / "staged", share / "moved.png")  # moved in
    import socket
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(share / "sock.png"))
    shutil.copyfile(samples[0], share / "fine.png")
    current = daemon.wait_for_paths(["made.png", "moved.png", "sock.png", "fine.png"], timeout=60)
    for name in ("made.png", "moved.png", "sock.png"):
        assert current[name]["status"] == "error", name
        assert current[name]["error"]["code"] == "not_regular_file", name
    assert "FIFO" in current["made.png"]["error"]["message"]
    assert current["fine.png"]["status"] == "ok"
    assert daemon.http("GET", "/readyz")[0] == 200
    # Once per version: a restart (whose startup scan sees them again) adds no result.
    count = daemon.query("SELECT COUNT(*) FROM results")
    started = time.time()
    assert daemon.stop(timeout=20) == 0
    assert time.time() - started < 15
    daemon.start()
    shutil.copyfile(samples[1], share / "after.png")
    daemon.wait_for_paths(["after.png"])
    assert daemon.query("SELECT COUNT(*) FROM results") == [(count[0][0] + 1,)]
    assert daemon.stop(timeout=20) == 0
    sock.close()


def test_files_swapped_for_fifos_and_symlinks_after_they_were_seen(daemon, samples, tmp_path):
    """A backlog lets the attacker swap files between detection and decoding."""
    victim = _victim(tmp_path)
    daemon.start()
    share = daemon.share
    names = [f"f{i:03d}.png" for i in range(120)]
    for i, name in enumerate(names):
        shutil.copyfile(samples[i % len(samples)], share / name)
    swapped = names[-30:]
    for i, name in enumerate(swapped):
        staged = share.parent / f"swap{i}"
        if i % 2:
            os.mkfifo(staged)
        else:
            os.symlink(victim, staged)
        os.rename(staged, share / name)
    current = daemon.wait_for_paths(names, timeout=120)
    for name in swapped:
        assert current[name]["status"] == "error", (name, current[name])
        assert current[name]["error"]["code"] == "not_regular_file", (name, current[name])
    assert victim.read_bytes() == b"precious data outside the share\n"
    assert daemon.http("GET", "/readyz")[0] == 200
    started = time.time()
    assert daemon.stop(timeout=20) == 0
    assert time.time() - started < 15


def test_a_forged_sidecar_is_not_adopted_after_a_crash(daemon, samples):
    """After a crash the old daemon adopted any sidecar whose id fell in the gap of unused ids
    and whose sha256 matched the image: a user could plant the result of their choice."""
    daemon.start()
    shutil.copyfile(samples[0], daemon.share / "a.png")
    first = daemon.wait_for_paths(["a.png"])["a.png"]
    daemon.kill()  # the rest of the reserved id block is left unused
    image = daemon.share / "b.png"
    shutil.copyfile(samples[1], image)
    forged = dict(first)
    forged.update(id=first["id"] + 5, path="b.png",
                  sha256=hashlib.sha256(image.read_bytes()).hexdigest(),
                  predictions=[{"label": "forged", "index": 0, "score": 1.0}])
    (daemon.share / "b.png.result.json").write_text(json.dumps(forged))
    daemon.start()
    result = daemon.wait_for_paths(["b.png"])["b.png"]
    assert result["predictions"][0]["label"] != "forged"
    assert result["id"] != forged["id"]
    assert sidecar(daemon.share, "b.png") == result  # the forged file was replaced
    assert daemon.stop() == 0


def test_only_the_daemons_own_temp_files_are_deleted(daemon, samples):
    """Startup removes crash leftovers: only names the daemon gives, never a user's file that
    merely looks like one."""
    share = daemon.share
    lookalike = share / ".part.png.result.json.inferwatch-tmp"  # the old temp name pattern
    lookalike.write_text("a user's file")
    daemon.start()
    shutil.copyfile(samples[0], share / "a.png")
    daemon.wait_for_paths(["a.png"])
    assert daemon.stop() == 0
    assert lookalike.read_text() == "a user's file"
    assert temp_files(share) == [lookalike]


def _slow_png(path, side=8000):
    """A gray PNG that takes most of a second to decode and is 60 KB on disk."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = (b"\x00" + bytes(side)) * side
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def test_a_file_that_keeps_killing_the_daemon_gets_an_error_result(daemon, samples):
    """Stands in for a decoder crash or the OOM killer: the daemon is killed while one file is in
    flight, twice. The third start must not try it again (it would take the daemon down at every
    start), and files that were in flight beside it must not be blamed."""
    share = daemon.share
    staged = share.parent / "killer.png"
    _slow_png(staged)

    def attempts():
        rows = daemon.query("SELECT attempts FROM files WHERE path = 'killer.png'")
        return rows[0][0] if rows else 0

    daemon.start()
    for i in range(6):
        shutil.copyfile(samples[i], share / f"beside{i}.png")
    os.rename(staged, share / "killer.png")
    daemon.wait_for(lambda: attempts() == 1, what="the file to be taken into work")
    daemon.kill()  # "crash" 1: the file was in flight (its decode takes most of a second)
    assert "killer.png" not in daemon.current()

    daemon.start()
    daemon.wait_for(lambda: attempts() == 2, what="the suspect's solo try")
    daemon.kill()  # "crash" 2, while it ran alone
    assert "killer.png" not in daemon.current()
    assert "trying it alone" in daemon.log_text()

    daemon.start()
    shutil.copyfile(samples[7], share / "after.png")
    current = daemon.wait_for_paths(["killer.png", "after.png"] + [f"beside{i}.png" for i in range(6)])
    killer = current["killer.png"]
    assert killer["status"] == "error"
    assert killer["error"]["code"] == "decode_crashed"
    for name, result in current.items():
        if name != "killer.png":
            assert result["status"] == "ok", (name, result)
    assert daemon.stop() == 0
    # A new version of the file is a new chance.
    daemon.start()
    _slow_png(staged, side=64)
    os.rename(staged, share / "killer.png")
    daemon.wait_for(lambda: daemon.current()["killer.png"]["status"] == "ok", what="the new version")
    assert daemon.stop() == 0


def test_a_database_inside_the_watched_tree_is_refused(inferwatch, tmp_path):
    """Share users could replace the database, its WAL or a journal SQLite would replay."""
    share = tmp_path / "share"
    share.mkdir()
    config = tmp_path / "inside.toml"
    config.write_text(f'[watch]\npaths = ["{share}"]\n[database]\npath = "{share}/sub/iw.db"\n'
                      '[server]\nlisten = "127.0.0.1:0"\n')
    run = inferwatch("serve", "-c", config, timeout=60)
    assert run.code != 0
    assert "lies inside the watched tree" in run.stderr + run.stdout
    assert not (share / "sub" / "iw.db").exists()


def test_scan_reads_nothing_outside_the_tree_and_blocks_on_nothing(inferwatch, samples, tmp_path):
    """`inferwatch scan DIR` on a share with a symlink to a file outside, a symlinked directory
    and a FIFO: each special entry gets its error result, nothing outside is read or written."""
    tree = tmp_path / "tree"
    tree.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copyfile(samples[0], outside / "secret.png")
    shutil.copyfile(samples[1], tree / "fine.png")
    os.symlink(outside / "secret.png", tree / "leak.png")
    os.symlink(outside, tree / "linked")
    os.mkfifo(tree / "fifo.png")
    cfg = tmp_path / "scan.toml"
    cfg.write_text(f'[database]\npath = "{tmp_path}/scan.db"\n[watch]\nsettle_ms = 0\n')
    run = inferwatch("scan", "-c", cfg, tree, timeout=60)
    assert run.code == 1, run.stderr  # some files got error results
    assert "3 image(s), 3 processed (1 ok, 2 error)" in run.stderr
    assert sidecar(tree, "fine.png")["status"] == "ok"
    for name in ("leak.png", "fifo.png"):
        assert sidecar(tree, name)["error"]["code"] == "not_regular_file"
    assert sorted(os.listdir(outside)) == ["secret.png"]
