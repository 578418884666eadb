"""The shipped Prometheus alert rules and Grafana dashboard (SPEC §8): the rules pass
`promtool check rules` and their own `promtool test rules` cases, and every metric the rules and
the dashboard query is one a live daemon exports."""
import json
import re
import subprocess
import urllib.request

import pytest
import yaml

from conftest import REPO
from daemon import Daemon

MONITORING = REPO / "packaging" / "monitoring"


def test_alert_rules_check_and_unit_tests_pass():
    check = subprocess.run(["promtool", "check", "rules", "prometheus-alerts.yml"],
                           cwd=MONITORING, capture_output=True, text=True)
    # Every rule of the file, counted from the file (several features add rules to it).
    n = sum(len(g["rules"]) for g in yaml.safe_load((MONITORING / "prometheus-alerts.yml").read_text())["groups"])
    assert n >= 10
    assert check.returncode == 0 and f"SUCCESS: {n} rules found" in check.stdout, check.stdout + check.stderr
    test = subprocess.run(["promtool", "test", "rules", "prometheus-alerts.test.yml"],
                          cwd=MONITORING, capture_output=True, text=True)
    assert test.returncode == 0 and "SUCCESS" in test.stdout, test.stdout + test.stderr
    alerts = {r["alert"] for r in yaml.safe_load((MONITORING / "prometheus-alerts.yml").read_text())
              ["groups"][0]["rules"]}
    tested = set(re.findall(r"alertname: (\w+)", (MONITORING / "prometheus-alerts.test.yml").read_text()))
    assert alerts - {"InferwatchConfigReloadFailed"} <= tested, alerts - tested


def metric_names(expr):
    """Metric names in a PromQL expression (identifiers not followed by '(' and not label names)."""
    expr = re.sub(r"\{[^}]*\}", "", expr)     # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)    # range selectors
    expr = re.sub(r"by \([^)]*\)", "", expr)  # grouping labels
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", expr))
    return {n for n in names if n.startswith(("inferwatch_", "process_"))}


def test_every_queried_metric_is_exported(tmp_path):
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    rules = yaml.safe_load((MONITORING / "prometheus-alerts.yml").read_text())
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    wanted = set().union(*map(metric_names, exprs))
    assert len(wanted) >= 14, wanted
    # The model lifecycle's series exist only for the models of a model.repository (a daemon
    # without one exports none of them): here, that the daemon defines each; test_models_api.py
    # scrapes them from a daemon with a repository.
    lifecycle = {n for n in wanted if n.startswith("inferwatch_model_")
                 and not n.startswith(("inferwatch_model_info", "inferwatch_model_reloads"))}
    assert len(lifecycle) >= 9, lifecycle
    defined = set(re.findall(r'\.Name\("(inferwatch_model_\w+)"\)',
                             (REPO / "src" / "metrics" / "metrics.cpp").read_text()))
    defined |= {d + "_bucket" for d in defined}
    assert lifecycle <= defined, lifecycle - defined
    wanted -= lifecycle
    # The feedback series exist per model version once it has feedback: here, that the daemon
    # defines each; test_quality.py scrapes them from a daemon given feedback.
    feedback = {n for n in wanted if n.startswith("inferwatch_feedback_")}
    assert len(feedback) >= 2, feedback
    defined = set(re.findall(r'\.Name\("(inferwatch_feedback_\w+)"\)',
                             (REPO / "src" / "metrics" / "metrics.cpp").read_text()))
    assert feedback <= defined, feedback - defined
    wanted -= feedback

    d = Daemon(tmp_path)
    try:
        d.start()
        assert d.http("GET", "/v1/status")[0] == 200  # request counters appear with requests
        with urllib.request.urlopen(d.url + "/metrics", timeout=30) as r:
            text = r.read().decode()
        assert d.stop() == 0
    finally:
        if d.alive():
            d.kill()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)", text, re.M))
    exported = set(types)
    histograms = {m for m, t in types.items() if t == "histogram"}
    exported |= {h + s for h in histograms for s in ("_bucket", "_sum", "_count")}
    assert wanted <= exported, wanted - exported
    # Every panel has a title and a datasource the importer can map.
    assert all(p["title"] and p["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in dashboard["panels"])
