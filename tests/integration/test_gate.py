"""`inferwatch gate DIR`: the deployment gate on real model versions (SPEC §10, docs/models.md).

The versions come from scripts/make-test-models (Debian's python3-torch, no downloads): the demo
model, a fine-tuned and a damaged retraining, expected outputs recorded with another
preprocessing, a NaN weight, an output one score short. Each good one passes with exit 0, each bad
one is refused with exit 1 and the reason a CI pipeline would need to see."""
import json
import shutil

import pytest
import torch

from pyref.preprocess import preprocess
from pyref.shapes import LABELS

PREPROCESS = dict(height=64, width=64, mode="letterbox", colour="gray", mean=(0.5,), std=(0.5,), fill=1.0)


@pytest.fixture(scope="session")
def repository(made):
    return made


def _gate(inferwatch, version_dir, *args):
    run = inferwatch("gate", version_dir, "--json", *args, timeout=300)
    verdict = json.loads(run.stdout) if run.stdout.strip() else None
    return run, verdict


def _codes(verdict):
    return [r["code"] for r in verdict["reasons"]]


def _python_accuracy(version_dir):
    """Top-1 accuracy of the version's TorchScript file on its golden set, in Python with the
    reference preprocessing."""
    model = torch.jit.load(str(version_dir / "model.pt")).eval()
    files = sorted((version_dir / "golden").glob("*/*.png"))
    with torch.no_grad():
        x = torch.stack([preprocess(f, **PREPROCESS) for f in files])
        predicted = model(x).argmax(1).tolist()
    return sum(LABELS[p] == f.parent.name for p, f in zip(predicted, files)) / len(files)


def test_v1_passes_with_the_accuracy_python_computes(inferwatch, repository):
    run, verdict = _gate(inferwatch, repository / "v1")
    assert run.code == 0, run.stdout + run.stderr
    assert verdict["passed"] is True and verdict["reasons"] == []
    n = verdict["numbers"]
    assert n["golden_images"] == 40 and n["expected_outputs"] == 40
    assert n["accuracy"] == pytest.approx(_python_accuracy(repository / "v1"), abs=1e-9)
    assert 0 <= n["max_output_diff"] <= verdict["policy"]["output_tolerance"]
    assert n["latency_samples"] == 3 * 40
    assert 0 < n["p50_ms"] <= n["p99_ms"]
    assert verdict["name"] == "shapes" and verdict["version"] == "v1"
    assert verdict["model_version"].startswith("shapes@")


def test_v2_better_passes_against_the_live_accuracy(inferwatch, repository):
    live = _python_accuracy(repository / "v1")
    run, verdict = _gate(inferwatch, repository / "v2-better", "--live-accuracy", str(live))
    assert run.code == 0, run.stdout + run.stderr
    assert verdict["numbers"]["live_accuracy"] == pytest.approx(live)
    assert verdict["numbers"]["accuracy"] == pytest.approx(_python_accuracy(repository / "v2-better"), abs=1e-9)


@pytest.mark.parametrize("version, reasons", [
    ("v2-worse", {"accuracy_below_threshold", "accuracy_drop"}),
    ("bad-preprocess", {"expected_output_mismatch"}),
    ("nan", {"non_finite_weights", "non_finite_output"}),
    ("wrong-shape", {"shape_mismatch"}),
])
def test_bad_versions_are_refused_with_their_reason(inferwatch, repository, version, reasons):
    live = _python_accuracy(repository / "v1")
    run, verdict = _gate(inferwatch, repository / version, "--live-accuracy", str(live))
    assert run.code == 1, run.stdout + run.stderr
    assert verdict["passed"] is False
    assert reasons <= set(_codes(verdict)), verdict["reasons"]
    assert all(r["message"] for r in verdict["reasons"])


def test_v2_worse_accuracy_is_what_python_computes(inferwatch, repository):
    _, verdict = _gate(inferwatch, repository / "v2-worse")
    assert verdict["numbers"]["accuracy"] == pytest.approx(_python_accuracy(repository / "v2-worse"), abs=1e-9)
    assert verdict["numbers"]["accuracy"] < 0.9


def test_a_preprocessing_mismatch_names_the_worst_file(inferwatch, repository):
    _, verdict = _gate(inferwatch, repository / "bad-preprocess")
    n = verdict["numbers"]
    assert n["max_output_diff"] > verdict["policy"]["output_tolerance"]
    assert (repository / "bad-preprocess" / "golden" / n["worst_file"]).is_file()
    mismatch = next(r for r in verdict["reasons"] if r["code"] == "expected_output_mismatch")
    assert n["worst_file"] in mismatch["message"]


def test_text_verdict_lists_every_reason(inferwatch, repository):
    run = inferwatch("gate", repository / "nan", timeout=300)
    assert run.code == 1
    assert "refused" in run.stdout.splitlines()[0]
    assert "non_finite_weights:" in run.stdout and "non_finite_output:" in run.stdout


def test_a_broken_model_toml_is_a_usage_error_with_file_and_line(inferwatch, repository, tmp_path):
    version = tmp_path / "shapes" / "v9"
    shutil.copytree(repository / "v1", version)
    text = (version / "model.toml").read_text().replace('resize = "letterbox"', 'resize = "crop"')
    (version / "model.toml").write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("resize"))
    run = inferwatch("gate", version)
    assert run.code == 2, run.stdout + run.stderr
    assert f"{version / 'model.toml'}:{line}:" in run.stderr
    assert "preprocess.resize" in run.stderr
    assert run.stdout == ""


def test_a_directory_without_model_toml_or_a_missing_one_is_a_usage_error(inferwatch, tmp_path):
    run = inferwatch("gate", tmp_path)
    assert run.code == 2
    assert "model.toml" in run.stderr
    assert inferwatch("gate", tmp_path / "absent").code == 2


def test_a_model_that_does_not_load_is_refused(inferwatch, repository, tmp_path):
    version = tmp_path / "shapes" / "v3"
    shutil.copytree(repository / "v1", version)
    (version / "model.pt").write_bytes(b"not a TorchScript archive")
    run, verdict = _gate(inferwatch, version)
    assert run.code == 1, run.stdout + run.stderr
    assert _codes(verdict) == ["load_failed"]
