"""`inferwatch scan DIR`: processes only what lacks a current result (issue #3)."""
import shutil
import sqlite3

from daemon import image_files, sidecar


def _config(tmp_path):
    cfg = tmp_path / "scan.toml"
    cfg.write_text(f'[database]\npath = "{tmp_path}/scan.db"\n[watch]\nsettle_ms = 0\n')
    return cfg


def test_scan_processes_only_files_without_a_result(inferwatch, samples, tmp_path):
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    for i, s in enumerate(samples[:10]):
        shutil.copyfile(s, (tree if i % 2 else tree / "a" / "b") / s.name)
    cfg = _config(tmp_path)
    first = inferwatch("scan", "-c", cfg, tree)
    assert first.code == 0, first.stderr
    assert "10 image(s), 10 processed" in first.stderr

    for s in samples[10:14]:
        shutil.copyfile(s, tree / "a" / s.name)
    second = inferwatch("scan", "-c", cfg, tree)
    assert second.code == 0, second.stderr
    assert "14 image(s), 4 processed" in second.stderr and "10 already had a result" in second.stderr

    with sqlite3.connect(tmp_path / "scan.db") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone() == (14,)
    for rel in image_files(tree):
        assert sidecar(tree, rel)["status"] == "ok"


def test_scan_exit_code_says_some_failed(inferwatch, samples, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copyfile(samples[0], tree / samples[0].name)
    (tree / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    run = inferwatch("scan", "-c", _config(tmp_path), tree)
    assert run.code == 1
    assert "1 ok, 1 error" in run.stderr
    assert sidecar(tree, "broken.png")["error"]["code"] in {"truncated", "decode_failed"}
