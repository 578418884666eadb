"""`inferwatch export` against the real daemon (SPEC §11, issue #15): results confirmed or
corrected over REST become OUT/<label>/<file> (hard links to the very files, or copies) and
OUT/manifest.jsonl; a second run adds only what is new and moves a relabelled example; a file
changed, removed or swapped for a symlink since its result is left out with a reason and nothing
is written outside OUT; the README's Python snippet loads the set with torchvision's ImageFolder."""
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess

from conftest import REPO, label_of
from daemon import Daemon


def feedback(d, result_id, label, user="alice"):
    status, body = d.http("POST", f"/v1/results/{result_id}/feedback",
                          json.dumps({"label": label, "user": user}).encode())
    assert status == 200, body
    return body


def share_files(d, samples, names):
    """Copy samples[i] to the share as names[i]; wait for every result; name -> result."""
    for sample, name in zip(samples, names):
        (d.share / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, d.share / name)
    current = d.wait_for_paths(names)
    return {name: current[name] for name in names}


def export(inferwatch, d, out, *args):
    run = inferwatch("export", "-c", d.config, "--dataset", out, "--json", *args)
    summary = json.loads(run.stdout) if run.code in (0, 1) and run.stdout.strip() else None
    return run, summary


def manifest(out):
    return {e["result_id"]: e for e in map(json.loads, (out / "manifest.jsonl").read_text().splitlines())}


def files_in(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def readme_snippet():
    """The Python block of the README's export section."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Train on the corrections"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_export_layout_manifest_hardlinks_and_the_readme_snippet(tmp_path, daemon, inferwatch, samples):
    d = daemon.start()
    # Two files with one name in two folders, one confirmed, the others corrected to their truth.
    chosen = [s for s in samples if label_of(s) in ("circle", "triangle", "arrow")][:8]
    names = [f"{'a' if i % 2 else 'b'}/crop{i // 2}{s.suffix}" for i, s in enumerate(chosen)]
    results = share_files(d, chosen, names)
    for sample, name in zip(chosen, names):
        feedback(d, results[name]["id"], label_of(sample))

    out = tmp_path / "dataset"
    run, summary = export(inferwatch, d, out)  # the daemon keeps running
    assert run.code == 0, run.stderr
    assert summary["added"] == len(chosen) and summary["hardlinked"] == len(chosen)
    assert summary["skipped"] == {}
    want = {}
    for sample, name in zip(chosen, names):
        want.setdefault(label_of(sample), []).append(name)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(want)

    entries = manifest(out)
    assert len(entries) == len(chosen)
    for sample, name in zip(chosen, names):
        rid = results[name]["id"]
        e = entries[rid]
        exported = out / e["file"]
        assert e["file"] == f"{label_of(sample)}/{rid}-{os.path.basename(name)}"
        assert e["path"] == name and e["label"] == label_of(sample) and e["user"] == "alice"
        assert e["sha256"] == hashlib.sha256(exported.read_bytes()).hexdigest() == results[name]["sha256"]
        assert e["model_version"] == results[name]["model"]["version"]
        assert e["predicted_label"] == results[name]["predictions"][0]["label"]
        assert e["predicted_score"] == results[name]["predictions"][0]["score"]
        assert e["feedback_id"] > 0 and e["feedback_at"].endswith("Z")
        assert os.stat(exported).st_ino == os.stat(d.share / name).st_ino  # one inode, no copy

    # The README's snippet, as written there, loads the set with Debian's torchvision.
    code = readme_snippet().replace('"/srv/training/shapes"', repr(str(out)))
    proc = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    counts = ast.literal_eval(proc.stdout.strip().splitlines()[-1])
    assert counts == {label: len(files) for label, files in want.items()}


def test_copy_when_asked(tmp_path, daemon, inferwatch, samples):
    d = daemon.start()
    results = share_files(d, samples[:1], ["one.png"])
    feedback(d, results["one.png"]["id"], label_of(samples[0]))
    out = tmp_path / "dataset"
    run, summary = export(inferwatch, d, out, "--copy")
    assert run.code == 0, run.stderr
    assert summary["copied"] == 1 and summary["hardlinked"] == 0
    e = next(iter(manifest(out).values()))
    assert e["method"] == "copy"
    assert os.stat(out / e["file"]).st_ino != os.stat(d.share / "one.png").st_ino
    assert (out / e["file"]).read_bytes() == (d.share / "one.png").read_bytes()


def test_changed_removed_and_symlinked_files_are_left_out(tmp_path, daemon, inferwatch, samples):
    d = daemon.start()
    names = ["keep.png", "changed.png", "removed.png", "swapped.png"]
    results = share_files(d, samples[:4], names)
    for sample, name in zip(samples, names):
        feedback(d, results[name]["id"], label_of(sample))
    d.stop()  # so the changes below stay changes, not new results
    with open(d.share / "changed.png", "ab") as f:
        f.write(b"appended")
    (d.share / "removed.png").unlink()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"not for the training set")
    (d.share / "swapped.png").unlink()
    (d.share / "swapped.png").symlink_to(outside / "secret.png")

    out = tmp_path / "dataset"
    run, summary = export(inferwatch, d, out)
    assert run.code == 0, run.stderr
    assert summary["added"] == 1
    assert summary["skipped"] == {"changed": 1, "gone": 1, "not_regular_file": 1}
    skipped = {e["path"]: e for e in map(json.loads, (out / "skipped.jsonl").read_text().splitlines())}
    assert {p: e["reason"] for p, e in skipped.items()} == {
        "changed.png": "changed", "removed.png": "gone", "swapped.png": "not_regular_file"}
    assert all(e["message"] for e in skipped.values())
    for name in ("changed.png", "removed.png", "swapped.png"):
        assert f"skipped result {results[name]['id']} {name}: " in run.stderr
    keep = results["keep.png"]["id"]
    assert files_in(out) == sorted([".inferwatch-export.lock", "manifest.jsonl", "skipped.jsonl",
                                    f"{label_of(samples[0])}/{keep}-keep.png"])
    assert sorted(os.listdir(outside)) == ["secret.png"]
    assert list(manifest(out)) == [keep]


def test_second_run_adds_only_the_new_and_moves_a_correction(tmp_path, daemon, inferwatch, samples):
    d = daemon.start()
    names = ["p1.png", "p2.png", "p3.png"]
    results = share_files(d, samples[:3], names)
    feedback(d, results["p1.png"]["id"], label_of(samples[0]))
    feedback(d, results["p2.png"]["id"], label_of(samples[1]))
    out = tmp_path / "dataset"
    run, first = export(inferwatch, d, out)
    assert run.code == 0, run.stderr
    assert first["added"] == 2
    before = manifest(out)

    # New feedback on p3; p1 corrected to another label; p2 untouched.
    feedback(d, results["p3.png"]["id"], label_of(samples[2]))
    labels = d.http("GET", "/v1/model")[1]["labels"]
    new_label = next(l for l in labels if l != label_of(samples[0]))
    feedback(d, results["p1.png"]["id"], new_label, user="bob")
    run, second = export(inferwatch, d, out)
    assert run.code == 0, run.stderr
    assert (second["added"], second["relabelled"], second["already_present"]) == (1, 1, 1)
    after = manifest(out)
    assert len(after) == 3
    p1, p2 = results["p1.png"]["id"], results["p2.png"]["id"]
    assert after[p2] == before[p2]
    assert after[p1]["label"] == new_label and after[p1]["user"] == "bob"
    assert after[p1]["file"] == f"{new_label}/{p1}-p1.png"
    assert (out / after[p1]["file"]).exists() and not (out / before[p1]["file"]).exists()

    run, third = export(inferwatch, d, out)
    assert run.code == 0 and third["added"] == 0 and third["already_present"] == 3


def test_filters_and_exit_codes(tmp_path, daemon, inferwatch, samples):
    d = daemon.start()
    out = tmp_path / "dataset"
    run, summary = export(inferwatch, d, out)
    assert run.code == 1 and summary["examples"] == 0  # no feedback yet: nothing to train on

    results = share_files(d, samples[:1], ["f.png"])
    feedback(d, results["f.png"]["id"], label_of(samples[0]))
    model = results["f.png"]["model"]["version"]
    assert export(inferwatch, d, tmp_path / "future", "--since", "2200-01-01T00:00:00Z")[0].code == 1
    assert export(inferwatch, d, tmp_path / "other", "--model", "no-such-model")[0].code == 1
    run, summary = export(inferwatch, d, tmp_path / "by-version", "--model", model,
                          "--since", "2000-01-01")
    assert run.code == 0 and summary["added"] == 1, run.stderr

    assert export(inferwatch, d, out, "--since", "yesterday")[0].code == 2
    assert export(inferwatch, d, d.share / "dataset")[0].code == 2  # inside the watched tree
    assert not (d.share / "dataset").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[database]\npath = "{tmp_path / "missing.db"}"\n')
    run = inferwatch("export", "-c", bad, "--dataset", out)
    assert run.code == 2 and "missing.db" in run.stderr
    assert not (tmp_path / "missing.db").exists()
