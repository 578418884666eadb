"""/metrics on a live daemon: promtool-clean, and the counters say what happened (SPEC §7)."""
import re
import shutil
import subprocess

import pytest

from test_http import curl


def value(text, series):
    m = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    assert m, f"{series} missing"
    return float(m.group(1))


def test_live_scrape_is_promtool_clean_and_counts(daemon, samples):
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: scripts/install-deps installs Debian's prometheus package")
    daemon.start()
    for i, s in enumerate(samples[:6]):
        shutil.copyfile(s, daemon.share / f"m{i}{s.suffix}")
    (daemon.share / "bad.png").write_bytes(b"not an image")
    daemon.wait_for(lambda: len(daemon.current()) == 7, what="7 results")
    assert curl(daemon.url + "/v1/status")[0] == 200
    assert curl(daemon.url + "/v1/results/abc")[0] == 400
    code, text = curl(daemon.url + "/metrics")
    assert code == 200
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == "" and check.stderr.strip() == "", \
        check.stdout + check.stderr
    assert value(text, 'inferwatch_results_total{status="ok"}') == 6
    assert value(text, 'inferwatch_results_total{status="error"}') == 1
    assert value(text, "inferwatch_files_detected_total") >= 7
    assert value(text, 'inferwatch_rescans_total{reason="startup"}') == 1
    assert value(text, "inferwatch_batch_size_sum") == 6
    assert value(text, "inferwatch_end_to_end_latency_seconds_count") == 7
    assert value(text, 'inferwatch_stage_duration_seconds_count{stage="decode"}') == 7
    assert value(text, 'inferwatch_http_requests_total{code="2xx",route="/v1/status"}') == 1
    assert value(text, 'inferwatch_http_requests_total{code="4xx",route="/v1/results/{id}"}') == 1
    assert re.search(r'^inferwatch_model_info\{device="cpu",name="demo-shapes",version="demo-shapes@[0-9a-f]{12}"\} 1$',
                     text, re.M)
    assert value(text, "process_resident_memory_bytes") > 10e6
    assert value(text, "process_open_fds") > 0
    # No unbounded label values: no file names anywhere in the exposition.
    assert "m0" not in text and "bad.png" not in text
