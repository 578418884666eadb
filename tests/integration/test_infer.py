"""`inferwatch infer` on real files with the built-in demo model (SPEC §2, §5)."""
import hashlib
import re
import struct
import zlib

from PIL import Image

from conftest import DEMO_MODEL, label_of


def test_every_sample_gets_its_class(inferwatch, samples):
    run = inferwatch("infer", *samples)
    assert run.code == 0, run.stderr
    results = run.results()
    assert [r["path"] for r in results] == [str(p) for p in samples]
    wrong = [(r["path"], r["predictions"][0]["label"]) for r, p in zip(results, samples)
             if r["predictions"][0]["label"] != label_of(p)]
    assert not wrong, f"misclassified: {wrong}"


def test_result_follows_the_schema(inferwatch, samples):
    sample = samples[0]
    run = inferwatch("infer", sample)
    assert run.code == 0, run.stderr
    [r] = run.results()
    assert r["schema"] == "inferwatch.result/v1"
    assert r["status"] == "ok"
    assert "id" not in r  # ids come from the database (serve/scan)
    assert r["sha256"] == hashlib.sha256(sample.read_bytes()).hexdigest()
    with Image.open(sample) as img:
        assert r["image"] == {"width": img.width, "height": img.height}
    model_sha = hashlib.sha256(DEMO_MODEL.read_bytes()).hexdigest()
    assert r["model"] == {"name": "demo-shapes", "version": f"demo-shapes@{model_sha[:12]}"}
    preds = r["predictions"]
    assert len(preds) == 3  # default top_k
    assert all(set(p) == {"label", "index", "score"} for p in preds)
    assert preds[0]["score"] >= preds[1]["score"] >= preds[2]["score"]
    assert 0.0 < sum(p["score"] for p in preds) <= 1.0 + 1e-6
    t = r["timings_ms"]
    assert set(t) == {"queue", "decode", "infer", "total"}
    assert t["total"] >= t["decode"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["created_at"])
    assert "error" not in r


def _png_claiming(width, height):
    """A tiny PNG whose header claims a huge size (the pixel limit must fire before decoding)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data
                                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def test_bad_files_get_error_results_and_good_ones_still_work(inferwatch, samples, tmp_path):
    png = next(p for p in samples if p.suffix == ".png").read_bytes()
    jpg = next(p for p in samples if p.suffix == ".jpg").read_bytes()
    bad = {
        "empty.png": (b"", "empty_file"),
        "notes.png": (b"this is a text file, not an image\n", "unsupported_format"),
        "cut.png": (png[: len(png) // 2], "truncated"),
        "cut.jpg": (jpg[: len(jpg) // 2], "truncated"),
        "huge.png": (_png_claiming(100_000, 100_000), "too_large"),
        "garbage-pixels.png": (png[:33] + b"\0\0\0\x10IDAT" + b"\xde\xad" * 8 + b"\0\0\0\0"
                               + png[-12:], "decode_failed"),
    }
    paths = []
    for name, (data, _) in bad.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    missing = tmp_path / "missing.png"
    run = inferwatch("infer", samples[0], *paths, missing, tmp_path, samples[1])
    assert run.code == 1, "some inputs failed: exit code 1"
    by_path = {r["path"]: r for r in run.results()}
    assert len(by_path) == len(bad) + 4
    for name, (_, code) in bad.items():
        r = by_path[str(tmp_path / name)]
        assert r["status"] == "error", name
        assert r["error"]["code"] == code, (name, r["error"])
        assert r["error"]["message"], name
        assert "predictions" not in r
    assert by_path[str(missing)]["error"]["code"] == "not_found"
    assert str(missing) in by_path[str(missing)]["error"]["message"]
    assert by_path[str(tmp_path)]["error"]["code"] == "read_failed"
    huge = by_path[str(tmp_path / "huge.png")]
    assert "100000" in huge["error"]["message"] and huge["image"] == {"width": 100000, "height": 100000}
    assert by_path[str(samples[0])]["status"] == "ok"
    assert by_path[str(samples[1])]["status"] == "ok"
    # Each failure is also logged, naming the file.
    assert str(missing) in run.stderr


def test_batches_larger_than_max_batch_size(inferwatch, samples, tmp_path):
    config = tmp_path / "small-batches.toml"
    config.write_text("[batching]\nmax_batch_size = 3\n")
    run = inferwatch("infer", "-c", config, *samples[:10])
    assert run.code == 0, run.stderr
    assert [r["path"] for r in run.results()] == [str(p) for p in samples[:10]]
    assert all(r["predictions"][0]["label"] == label_of(p) for r, p in zip(run.results(), samples))


def test_top_k_and_raw_output(inferwatch, samples, tmp_path):
    config = tmp_path / "raw.toml"
    config.write_text('[postprocess]\nmode = "raw"\n')
    run = inferwatch("infer", "-c", config, samples[0])
    assert run.code == 0, run.stderr
    [r] = run.results()
    assert "predictions" not in r
    assert r["output"]["shape"] == [8] and r["output"]["dtype"] == "Float"
    assert len(r["output"]["data"]) == 8

    config.write_text("[postprocess]\ntop_k = 8\n")
    [r] = inferwatch("infer", "-c", config, samples[0]).results()
    assert sorted(p["index"] for p in r["predictions"]) == list(range(8))
    assert abs(sum(p["score"] for p in r["predictions"]) - 1.0) < 1e-4


def test_bad_config_stops_infer_with_every_problem(inferwatch, samples, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[preprocess]\nresize = "crop"\nmean = [0.5, 0.5]\n')
    run = inferwatch("infer", "-c", config, samples[0])
    assert run.code == 2
    assert f"{config}:2:" in run.stderr and "preprocess.resize" in run.stderr
    assert f"{config}:3:" in run.stderr and "preprocess.mean" in run.stderr
    assert run.stdout == ""


def test_version_and_help(inferwatch):
    run = inferwatch("--version")
    assert run.code == 0
    assert re.fullmatch(r"inferwatch \d+\.\d+\.\d+ \([0-9a-f]{7,}(-dirty)?\)\n", run.stdout), run.stdout
    for command in ([], ["infer"], ["check"]):
        run = inferwatch(*command, "--help")
        assert run.code == 0 and "Usage" in run.stdout, command
    assert inferwatch("bogus-command").code == 2
    assert inferwatch("infer").code == 2  # no image
