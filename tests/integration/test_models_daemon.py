"""The daemon with a model repository (SPEC §10, docs/models.md): routes send files to their
model, every result names the version that made it, the gate keeps a bad version from serving,
a shadow candidate's results are stored apart and agree with what Python computes, and a restart
keeps the live version.

The versions come from scripts/make-test-models (conftest's session fixture `made`)."""
import json
import re
import shutil

import pytest
import torch

from daemon import Daemon
from pyref.preprocess import preprocess
from pyref.shapes import LABELS

PREPROCESS = dict(height=64, width=64, mode="letterbox", colour="gray", mean=(0.5,), std=(0.5,), fill=1.0)


def add_version(repository, made, model, version, source, rollout=None):
    """Copy a made version in as <model>/<version> the way a deployment should: everything but
    model.toml first, model.toml last (its appearance makes the version complete)."""
    target = repository / model / version
    shutil.copytree(made / source, target, ignore=shutil.ignore_patterns("model.toml"))
    text = (made / source / "model.toml").read_text()
    if rollout:
        text = re.sub(r'(?m)^mode = "(shadow|canary|immediate)"$', f'mode = "{rollout}"', text)
        text = text.replace("min_files = 200", "min_files = 100000")  # stay in rollout
    (target / "model.toml.tmp").write_text(text)
    (target / "model.toml.tmp").rename(target / "model.toml")
    return target


def start(tmp_path, repository, routes="", default="shapes"):
    d = Daemon(tmp_path, extra_config=f'[model]\nrepository = "{repository}"\ndefault = "{default}"\n'
                                      + routes)
    return d.start(timeout=120)


def drop(d, samples, prefix="", n=8):
    names = []
    for src in samples[:n]:
        rel = prefix + src.name
        (d.share / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, d.share / rel)
        names.append(rel)
    return names


def test_routes_send_files_to_their_model_and_results_name_the_version(tmp_path, made, samples):
    repository = tmp_path / "repo"
    add_version(repository, made, "shapes", "v1", "v1")
    add_version(repository, made, "sketch", "v2-better", "v2-better")
    d = start(tmp_path, repository, routes='[[route]]\nmatch = "sketches/**"\nmodel = "sketch"\n')
    try:
        plain = drop(d, samples, "", 4)
        routed = drop(d, samples, "sketches/", 4)
        results = d.wait_for_paths(plain + routed)
        for rel in plain:
            assert results[rel]["model"]["version"] == "shapes@v1", results[rel]
        for rel in routed:
            assert results[rel]["model"]["version"] == "sketch@v2-better", results[rel]
    finally:
        assert d.stop() == 0


def test_a_version_the_gate_refuses_never_serves(tmp_path, made, samples):
    repository = tmp_path / "repo"
    add_version(repository, made, "shapes", "v1", "v1")
    d = start(tmp_path, repository)
    try:
        add_version(repository, made, "shapes", "nan", "nan", rollout="immediate")
        d.wait_for(lambda: "refused by the gate" in d.log_text(), timeout=120, what="gate refusal")
        assert "non_finite_weights" in d.log_text()
        names = drop(d, samples)
        results = d.wait_for_paths(names)
        assert {r["model"]["version"] for r in results.values()} == {"shapes@v1"}
        states = dict(d.query("SELECT version, state FROM model_versions WHERE model = 'shapes'"))
        assert states == {"v1": "live", "nan": "refused"}
    finally:
        assert d.stop() == 0


def _top1(model_file, files):
    model = torch.jit.load(str(model_file)).eval()
    with torch.no_grad():
        x = torch.stack([preprocess(f, **PREPROCESS) for f in files])
        return [LABELS[i] for i in model(x).argmax(1).tolist()]


def test_a_shadow_candidate_is_stored_apart_and_agrees_as_python_computes(tmp_path, made, samples):
    repository = tmp_path / "repo"
    add_version(repository, made, "shapes", "v1", "v1")
    d = start(tmp_path, repository)
    try:
        add_version(repository, made, "shapes", "v2-better", "v2-better", rollout="shadow")
        d.wait_for(lambda: dict(d.query("SELECT version, state FROM model_versions")).get("v2-better")
                   == "candidate", timeout=120, what="the candidate in shadow")
        names = drop(d, samples, "", 16)
        results = d.wait_for_paths(names)
        # Live results stay current and in the sidecars; the shadow's are stored apart.
        assert {r["model"]["version"] for r in results.values()} == {"shapes@v1"}
        d.wait_for(lambda: d.query("SELECT COUNT(*) FROM shadow_results")[0][0] == len(names),
                   what="a shadow result per file")
        rows = d.query("SELECT r.path, s.model_version, s.json FROM shadow_results s "
                       "JOIN results r ON r.id = s.result_id")
        shadow = {path: json.loads(text) for path, version, text in rows}
        assert {version for _, version, _ in rows} == {"shapes@v2-better"}
        for rel in names:
            sidecar = json.loads((d.share / (rel + ".result.json")).read_text())
            assert sidecar["model"]["version"] == "shapes@v1"
        files = [d.share / rel for rel in names]
        live_py = _top1(made / "v1" / "model.pt", files)
        shadow_py = _top1(made / "v2-better" / "model.pt", files)
        agree_py = sum(a == b for a, b in zip(live_py, shadow_py))
        agree = sum(results[rel]["predictions"][0]["label"] == shadow[rel]["predictions"][0]["label"]
                    for rel in names)
        assert [results[rel]["predictions"][0]["label"] for rel in names] == live_py
        assert [shadow[rel]["predictions"][0]["label"] for rel in names] == shadow_py
        assert agree == agree_py
    finally:
        assert d.stop() == 0


def test_a_restart_keeps_the_live_version_and_the_rollout(tmp_path, made, samples):
    repository = tmp_path / "repo"
    add_version(repository, made, "shapes", "v1", "v1")
    d = start(tmp_path, repository)
    add_version(repository, made, "shapes", "v2-better", "v2-better", rollout="shadow")
    d.wait_for(lambda: dict(d.query("SELECT version, state FROM model_versions")).get("v2-better")
               == "candidate", timeout=120, what="the candidate in shadow")
    assert d.stop() == 0
    d.start(timeout=120)
    try:
        states = dict(d.query("SELECT version, state FROM model_versions"))
        assert states == {"v1": "live", "v2-better": "candidate"}
        names = drop(d, samples, "", 4)
        results = d.wait_for_paths(names)
        assert {r["model"]["version"] for r in results.values()} == {"shapes@v1"}
        d.wait_for(lambda: d.query("SELECT COUNT(*) FROM shadow_results")[0][0] == len(names),
                   what="the shadow still running after the restart")
    finally:
        assert d.stop() == 0
