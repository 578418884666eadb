"""Drift per model version (SPEC §11, docs/models.md "Drift") with the real binary: crops drawn
like the reference keep the drift score below the alert threshold, crops of one class only push
it above; the reference is the golden set where the version has one, else its first results,
kept across a restart. Scores are read from /metrics and GET /v1/models; nothing is timed.

The versions come from scripts/make-test-models (conftest's session fixture `made`); the crops
are drawn here by scripts/pyref/shapes.py from seeds of their own."""
import random
import shutil

from daemon import Daemon
from pyref.shapes import LABELS, render

THRESHOLD = 0.25  # the alert's threshold (packaging/monitoring/prometheus-alerts.yml)
WINDOW = 160


def add_version(repository, made, source):
    """Copy a made version in as shapes/v1, model.toml last (it marks the version complete)."""
    target = repository / "shapes" / "v1"
    shutil.copytree(made / source, target, ignore=shutil.ignore_patterns("model.toml"))
    return target


def complete(target, toml_text):
    (target / "model.toml.tmp").write_text(toml_text)
    (target / "model.toml.tmp").rename(target / "model.toml")


def start(tmp_path, repository):
    d = Daemon(tmp_path, extra_config=f'[model]\nrepository = "{repository}"\ndefault = "shapes"\n'
                                      f'[drift]\nwindow = {WINDOW}\nreference = {WINDOW}\n')
    return d.start(timeout=120)


def drop_crops(d, batch, labels, n):
    """Draw n crops cycling through `labels` (each its own seed) into share/<batch>/; wait for
    their results."""
    names = []
    (d.share / batch).mkdir()
    for i in range(n):
        label = labels[i % len(labels)]
        img = render(label, random.Random(f"drift:{batch}:{i}"))
        rel = f"{batch}/{label}_{i:04d}.png"
        tmp = d.share / batch / f".{i}.tmp"
        img.save(tmp, format="PNG")
        tmp.rename(d.share / rel)  # complete when it appears
        names.append(rel)
    d.wait_for_paths(names, timeout=300)
    return names


def drift(d, version):
    scores = {s: d.metric("inferwatch_model_drift_score", model="shapes", version=version, signal=s)
              for s in ("labels", "scores")}
    return scores


def described(d, version):
    status, body = d.http("GET", "/v1/models")
    assert status == 200, body
    (shapes,) = [m for m in body["models"] if m["name"] == "shapes"]
    (entry,) = [v for v in shapes["versions"] if v["version"] == version]
    return entry["drift"]


def test_crops_like_the_golden_set_stay_below_the_threshold_and_one_class_goes_above(
        tmp_path, made):
    repository = tmp_path / "repo"
    target = add_version(repository, made, "v1")
    complete(target, (made / "v1" / "model.toml").read_text())
    d = start(tmp_path, repository)
    try:
        before = described(d, "v1")
        assert before["reference"] == {"source": "golden", "results": 40, "complete": True}
        assert before["score"] is None

        drop_crops(d, "even", LABELS, WINDOW)
        d.wait_for(lambda: described(d, "v1")["score"] is not None, what="a drift score")
        same = drift(d, "v1")
        print(f"\ngolden reference, crops like it: {same}")
        assert max(same.values()) < THRESHOLD, same
        api = described(d, "v1")["score"]
        assert api["value"] == max(api["labels"], api["scores"])
        assert abs(api["labels"] - same["labels"]) < 1e-9

        drop_crops(d, "circles", ["circle"], WINDOW)
        shifted = drift(d, "v1")
        print(f"golden reference, circles only: {shifted}")
        assert shifted["labels"] > THRESHOLD, shifted
        assert d.metric("inferwatch_model_predictions_total", model="shapes", version="v1",
                        label="circle") >= WINDOW
        assert d.metric("inferwatch_model_top1_score_count", model="shapes", version="v1") == 2 * WINDOW
    finally:
        assert d.stop() == 0


def test_without_a_golden_set_the_first_results_are_the_reference_and_survive_a_restart(
        tmp_path, made):
    repository = tmp_path / "repo"
    target = add_version(repository, made, "v1")
    shutil.rmtree(target / "golden")  # no golden set, so no min_accuracy either
    complete(target, (made / "v1" / "model.toml").read_text().replace("min_accuracy", "# min_accuracy"))
    d = start(tmp_path, repository)
    try:
        assert described(d, "v1") is None  # no result, no golden set: nothing yet
        drop_crops(d, "first", LABELS, WINDOW)
        d.wait_for(lambda: d.query("SELECT source FROM drift_references") == [("first_results",)],
                   what="the stored reference")
        assert described(d, "v1")["reference"] == {
            "source": "first_results", "results": WINDOW, "complete": True}
    finally:
        assert d.stop() == 0

    d.start(timeout=120)
    try:
        # Circles first after the restart: a rebased reference would be all circles and score 0.
        drop_crops(d, "circles", ["circle"], WINDOW)
        shifted = drift(d, "v1")
        print(f"\nfirst-results reference after a restart, circles only: {shifted}")
        assert described(d, "v1")["reference"]["results"] == WINDOW
        assert shifted["labels"] > THRESHOLD, shifted

        drop_crops(d, "even", LABELS, WINDOW)
        same = drift(d, "v1")
        print(f"first-results reference, crops like it: {same}")
        assert max(same.values()) < THRESHOLD, same
    finally:
        assert d.stop() == 0
