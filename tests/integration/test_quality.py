"""GET /v1/models/{name}/quality against the real daemon (SPEC §11, issue #15 item 2): after
confirms and corrections over REST, the accuracy, per-label precision/recall/support and the
confusion matrix equal what this test computes from the feedback it gave; only each result's
latest feedback counts; `since` filters on feedback time; the route works with the single model
and with a model repository; and the feedback metrics agree, also after a restart."""
import shutil
import urllib.request
from datetime import datetime, timedelta, timezone

from conftest import label_of
from daemon import Daemon
from test_feedback import TOKEN, call, feedback
from test_models_daemon import add_version


def start(tmp_path, extra_config=""):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    return Daemon(tmp_path, extra_config=extra_config,
                  server_config=f'[server]\nlisten = "127.0.0.1:0"\ntoken_file = "{token}"\n').start(timeout=120)


def expected_quality(pairs, labels):
    """What the API must say for (predicted, given) pairs, computed here independently."""
    extra = sorted({label for pair in pairs for label in pair} - set(labels))
    order = list(labels) + extra
    matrix = [[sum(1 for p, g in pairs if p == row and g == col) for col in order] for row in order]
    correct = sum(1 for p, g in pairs if p == g)
    per_label = []
    for i, label in enumerate(order):
        predicted, support, hit = sum(matrix[i]), sum(row[i] for row in matrix), matrix[i][i]
        per_label.append({"label": label, "support": support, "predicted": predicted, "correct": hit,
                          "precision": hit / predicted if predicted else None,
                          "recall": hit / support if support else None})
    return {"count": len(pairs), "correct": correct, "corrected": len(pairs) - correct,
            "accuracy": correct / len(pairs) if pairs else None, "labels": order,
            "per_label": per_label, "confusion": matrix}


def assert_quality(got, want):
    for key in ("count", "correct", "corrected", "labels", "confusion"):
        assert got[key] == want[key], (key, got[key], want[key])
    assert (got["accuracy"] is None) == (want["accuracy"] is None)
    if want["accuracy"] is not None:
        assert abs(got["accuracy"] - want["accuracy"]) < 1e-12
    assert len(got["per_label"]) == len(want["per_label"])
    for g, w in zip(got["per_label"], want["per_label"]):
        for key in ("label", "support", "predicted", "correct"):
            assert g[key] == w[key], (w["label"], key, g[key], w[key])
        for key in ("precision", "recall"):
            assert (g[key] is None) == (w[key] is None), (w["label"], key)
            if w[key] is not None:
                assert abs(g[key] - w[key]) < 1e-12, (w["label"], key)


def metrics_text(d):
    request = urllib.request.Request(d.url + "/metrics")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def metric(text, name, **labels):
    """The value of the sample `name{labels}` in `text`, or None when absent."""
    want = sorted(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series.startswith(name + "{") and sorted(series[len(name) + 1:-1].split(",")) == want:
            return float(value)
    return None


def assert_feedback_metrics(d, name, version, want, events):
    text = metrics_text(d)
    labels = dict(model=name, version=version)
    assert metric(text, "inferwatch_feedback_results", outcome="confirmed", **labels) == want["correct"]
    assert metric(text, "inferwatch_feedback_results", outcome="corrected", **labels) == want["corrected"]
    assert abs(metric(text, "inferwatch_feedback_accuracy_ratio", **labels) - want["accuracy"]) < 1e-12
    for entry in want["per_label"]:
        for key in ("precision", "recall"):
            got = metric(text, f"inferwatch_feedback_label_{key}_ratio", label=entry["label"], **labels)
            if entry[key] is None:
                assert got is None, (entry["label"], key)
            else:
                assert abs(got - entry[key]) < 1e-12, (entry["label"], key, got)
    for outcome, n in (("confirmed", sum(p == g for p, g in events)),
                       ("corrected", sum(p != g for p, g in events))):
        assert metric(text, "inferwatch_feedback_total", outcome=outcome, **labels) == n, outcome
    assert "user=" not in text and "path=" not in text


def drop_and_wait(d, samples):
    for src in samples:
        shutil.copy(src, d.share / src.name)
    names = [src.name for src in samples]
    current = d.wait_for_paths(names)
    return {name: current[name] for name in names}


def give_feedback(d, results, labels, events=None):
    events = [] if events is None else events
    """Confirm most results and correct every third to the next label; correct the first one and
    then confirm it (only that latest feedback may count). Returns the current (predicted, given)
    of each result and the last feedback's created_at; appends every feedback given to `events`
    as (predicted, given)."""
    pairs, last = {}, None
    for i, (name, result) in enumerate(sorted(results.items())):
        predicted = result["predictions"][0]["label"]
        given = labels[(labels.index(predicted) + 1) % len(labels)] if i % 3 == 2 else predicted
        if i == 0:
            wrong = labels[(labels.index(predicted) + 1) % len(labels)]
            code, body = feedback(d, result["id"], {"label": wrong, "user": "alice"})
            assert code == 200, body
            events.append((predicted, wrong))
        code, body = feedback(d, result["id"], {"label": given, "user": "bob"})
        assert code == 200, body
        events.append((predicted, given))
        pairs[result["id"]] = (predicted, given)
        last = body["feedback"]["created_at"]
    return pairs, last


def test_quality_of_the_single_model_equals_the_feedback_given(tmp_path, samples):
    d = start(tmp_path)
    try:
        model = call(d, "GET", "/v1/model")[1]
        labels, name = model["labels"], model["name"]
        version = model["version"].rsplit("@", 1)[1]
        results = drop_and_wait(d, samples[:12])
        events = []
        pairs, _ = give_feedback(d, results, labels, events)
        # The sample's own label too, for a realistic mix of predicted and given labels.
        extra = drop_and_wait(d, samples[12:18])
        for result in extra.values():
            given = label_of(d.share / result["path"])
            code, body = feedback(d, result["id"], {"label": given, "user": "carol"})
            assert code == 200, body
            pairs[result["id"]] = (result["predictions"][0]["label"], given)
            events.append(pairs[result["id"]])
        want = expected_quality(list(pairs.values()), labels)
        assert want["corrected"] >= 4  # the scenario does exercise corrections

        code, got = call(d, "GET", f"/v1/models/{name}/quality")
        assert code == 200, got
        assert (got["model"], got["version"], got["model_version"]) == (name, version, model["version"])
        assert got["live"] is True and got["since"] is None
        assert_quality(got, want)
        code, explicit = call(d, "GET", f"/v1/models/{name}/quality?version={version}")
        assert code == 200 and explicit == got

        assert call(d, "GET", f"/v1/models/{name}/quality", token=None)[0] == 401
        code, body = call(d, "GET", "/v1/models/no-such-model/quality")
        assert code == 404 and body["error"]["code"] == "unknown_model"
        code, body = call(d, "GET", f"/v1/models/{name}/quality?version=nope")
        assert code == 404 and body["error"]["code"] == "unknown_version"
        for bad in ("yesterday", "2026-13-01T00:00:00Z", "2026-11-23T10:00:00", "2026-02-30T00:00:00Z"):
            code, body = call(d, "GET", f"/v1/models/{name}/quality?since={bad}")
            assert code == 400 and body["error"]["code"] == "invalid_parameter", bad

        assert_feedback_metrics(d, name, version, want, events)
        assert d.stop() == 0
        # After a restart the gauges come from the database; the counters start again at 0.
        d = start(tmp_path)
        assert call(d, "GET", f"/v1/models/{name}/quality")[1] == got
        assert_feedback_metrics(d, name, version, want, [])
    finally:
        if d.alive():
            d.kill()


def test_since_counts_only_feedback_given_at_or_after_it(tmp_path, samples):
    d = start(tmp_path)
    try:
        model = call(d, "GET", "/v1/model")[1]
        labels, name = model["labels"], model["name"]
        results = drop_and_wait(d, samples[:9])
        first, last_at = give_feedback(d, results, labels)
        since_at = datetime.fromisoformat(last_at.replace("Z", "+00:00")) + timedelta(milliseconds=1)
        d.wait_for(lambda: datetime.now(timezone.utc) > since_at, what="the clock past the first feedback")
        since = since_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        # Re-judge three results: only they count from `since` on.
        later = {}
        for rid in sorted(first)[:3]:
            predicted, _ = first[rid]
            code, body = feedback(d, rid, {"label": predicted, "user": "dave"})
            assert code == 200 and body["feedback"]["created_at"] >= since
            later[rid] = (predicted, predicted)
        # The same instant written with an offset (+ percent-encoded in a query).
        in_paris = since_at.astimezone(timezone(timedelta(hours=1))).isoformat(timespec="milliseconds")
        code, got = call(d, "GET", f"/v1/models/{name}/quality?since={in_paris.replace('+', '%2B')}")
        assert code == 200, got
        assert got["since"] == since
        assert_quality(got, expected_quality(list(later.values()), labels))
        everything = {**first, **later}
        assert_quality(call(d, "GET", f"/v1/models/{name}/quality")[1],
                       expected_quality(list(everything.values()), labels))
    finally:
        d.kill()


def test_quality_per_version_with_a_repository(tmp_path, made, samples):
    repository = tmp_path / "repo"
    add_version(repository, made, "shapes", "v1", "v1")
    d = start(tmp_path, f'[model]\nrepository = "{repository}"\ndefault = "shapes"\n')
    try:
        results = drop_and_wait(d, samples[:9])
        assert {r["model"]["version"] for r in results.values()} == {"shapes@v1"}
        labels = call(d, "GET", "/v1/model")[1]["labels"]
        pairs, _ = give_feedback(d, results, labels)
        code, got = call(d, "GET", "/v1/models/shapes/quality")
        assert code == 200, got
        assert (got["version"], got["model_version"], got["live"]) == ("v1", "shapes@v1", True)
        assert_quality(got, expected_quality(list(pairs.values()), labels))
        assert call(d, "GET", "/v1/models/shapes/quality?version=v1")[1] == got
        code, body = call(d, "GET", "/v1/models/shapes/quality?version=v9")
        assert code == 404 and body["error"]["code"] == "unknown_version"
        code, body = call(d, "GET", "/v1/models/sketch/quality")
        assert code == 404 and body["error"]["code"] == "unknown_model"
    finally:
        d.kill()
