"""Hot model reload (SPEC §4, §6, §8): POST /v1/model/reload and SIGHUP swap the model between
batches without losing or failing a file; a bad model is refused and the old one keeps serving;
SIGHUP re-reads the config, applies what can change live and names what needs a restart."""
import os
import shutil
import threading
import time

import pytest
import torch

from conftest import DEMO_MODEL, SAMPLES, label_of
from daemon import Daemon

GOOD = [p for p in sorted(SAMPLES.iterdir()) if p.suffix == ".png"]


def demo_variant(path, tag):
    """The demo model re-saved with an extra file: same behaviour, different bytes and version."""
    extra = {"labels.txt": ""}
    module = torch.jit.load(str(DEMO_MODEL), _extra_files=extra)
    torch.jit.save(module, str(path), _extra_files={**extra, "variant.txt": tag})
    return path


def replace(src, dst):
    """Swap a model file the way an operator should: write beside it, then rename over it."""
    tmp = dst.with_name(dst.name + ".new")
    shutil.copyfile(src, tmp)
    os.rename(tmp, dst)


@pytest.fixture
def models(tmp_path):
    d = tmp_path / "models"
    d.mkdir()
    return demo_variant(d / "a.pt", "a"), demo_variant(d / "b.pt", "b")


@pytest.fixture
def daemon(tmp_path, models):
    live = tmp_path / "model.pt"
    shutil.copyfile(models[0], live)
    d = Daemon(tmp_path, extra_config=f'[model]\npath = "{live}"\nname = "shapes"\n')
    d.model_path = live
    yield d
    if d.alive():
        d.kill()


def drop(share, name, source):
    tmp = share / ("." + name + ".part")
    shutil.copyfile(source, tmp)
    os.rename(tmp, share / name)


def test_post_reload_swaps_the_model_during_a_stream_without_losing_a_file(daemon, models):
    daemon.start()
    _, before = daemon.http("GET", "/v1/model")
    names, swapped_at = [], {}

    def writer():
        for i in range(240):
            name = f"f{i:03}_{GOOD[i % len(GOOD)].name}"
            drop(daemon.share, name, GOOD[i % len(GOOD)])
            names.append(name)
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(names) < 80:
        time.sleep(0.01)
    replace(models[1], daemon.model_path)
    status, after = daemon.http("POST", "/v1/model/reload")
    swapped_at["index"] = len(names)
    thread.join()

    assert status == 200, after
    assert after["version"] != before["version"]
    assert after["version"].startswith("shapes@")
    assert daemon.http("GET", "/v1/model")[1]["version"] == after["version"]
    current = daemon.wait_for_paths(names)
    assert len(current) == len(names)
    assert {r["status"] for r in current.values()} == {"ok"}
    versions = {r["model"]["version"] for r in current.values()}
    assert versions == {before["version"], after["version"]}, versions
    # Files dropped after the reload answered are all on the new model.
    for name in names[swapped_at["index"]:]:
        assert current[name]["model"]["version"] == after["version"], name
    # Same behaviour, so the predictions did not change with the swap.
    for name, result in current.items():
        assert result["predictions"][0]["label"] == label_of(SAMPLES / name.split("_", 1)[1])
    ids = daemon.query("SELECT COUNT(*), COUNT(DISTINCT file_id) FROM results")[0]
    assert ids[0] == ids[1] == len(names)  # exactly one result per file
    assert daemon.metric("inferwatch_model_reloads_total", result="ok") == 1
    assert daemon.metric("inferwatch_model_info", name="shapes", version=after["version"],
                         device="cpu") == 1
    assert daemon.stop() == 0


@pytest.mark.parametrize("bad,code,reason", [
    (b"this is not a TorchScript archive", "model_load_failed", "model.pt"),
    ("five_outputs", "model_invalid", "label"),
])
def test_bad_model_is_refused_and_the_old_one_keeps_serving(daemon, tmp_path, bad, code, reason):
    daemon.start()
    _, before = daemon.http("GET", "/v1/model")
    if bad == "five_outputs":
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64, 5))
        labels = {"labels.txt": "\n".join(f"class{i}" for i in range(8)) + "\n"}  # 8 names, 5 outputs
        torch.jit.save(torch.jit.trace(net.eval(), torch.zeros(1, 1, 64, 64)), str(tmp_path / "x.pt"),
                       _extra_files=labels)
        replace(tmp_path / "x.pt", daemon.model_path)
    else:
        daemon.model_path.write_bytes(bad)

    status, body = daemon.http("POST", "/v1/model/reload")
    assert status == 422, body
    assert body["error"]["code"] == code
    assert reason in body["error"]["message"]
    assert daemon.http("GET", "/v1/model")[1]["version"] == before["version"]
    assert daemon.metric("inferwatch_model_reloads_total", result="failed") == 1
    assert "model reload failed, still serving " + before["version"] in daemon.log_text()

    drop(daemon.share, "after.png", GOOD[0])
    result = daemon.wait_for_paths(["after.png"])["after.png"]
    assert result["status"] == "ok"
    assert result["model"]["version"] == before["version"]
    assert daemon.stop() == 0


def test_sighup_applies_live_keys_and_names_those_that_need_a_restart(daemon, models):
    daemon.start()
    _, before = daemon.http("GET", "/v1/model")
    text = daemon.config.read_text()
    daemon.config.write_text(
        text.replace("settle_ms = 50", "settle_ms = 70")
            .replace('level = "debug"', 'level = "info"')
            .replace(str(daemon.model_path), str(models[1]))
            .replace('name = "shapes"', 'name = "shapes-b"\n[postprocess]\ntop_k = 1'))
    daemon.hup()
    daemon.wait_for(lambda: daemon.http("GET", "/v1/model")[1]["name"] == "shapes-b",
                    what="the model from the new config")
    log = daemon.log_text()
    assert "configuration: watch.settle_ms changed; it needs a restart" in log
    assert "configuration: model.path changed" in log
    assert "configuration: postprocess.top_k changed" in log
    assert daemon.metric("inferwatch_config_reloads_total", result="ok") == 1

    drop(daemon.share, "after.png", GOOD[0])
    result = daemon.wait_for_paths(["after.png"])["after.png"]
    assert result["model"]["version"].startswith("shapes-b@")
    assert len(result["predictions"]) == 1  # postprocess.top_k applied live
    # log.level went from debug to info: no per-file debug line for the new file.
    assert "after.png: result" not in daemon.log_text()
    assert daemon.stop() == 0


def test_sighup_names_model_threads_as_needing_a_restart_and_keeps_it(daemon):
    # LibTorch's thread pool keeps the size the first model gave it, so a reload cannot apply a
    # new model.threads: the report must say so, and the reloaded model keep the running value.
    # (An explicit value: with 0, each load measures the model and may choose differently.)
    text = daemon.config.read_text()
    daemon.config.write_text(text.replace('name = "shapes"', 'name = "shapes"\nthreads = 1'))
    daemon.start()
    _, before = daemon.http("GET", "/v1/model")
    assert before["threads"] == 1
    daemon.config.write_text(text.replace('name = "shapes"', 'name = "shapes-b"\nthreads = 2'))
    daemon.hup()
    daemon.wait_for(lambda: daemon.http("GET", "/v1/model")[1]["name"] == "shapes-b",
                    what="the model from the new config")
    log = daemon.log_text()
    assert "configuration: model.threads changed; it needs a restart" in log
    assert daemon.http("GET", "/v1/model")[1]["threads"] == before["threads"]
    assert daemon.stop() == 0


def test_sighup_with_a_broken_config_keeps_everything_running(daemon):
    daemon.start()
    _, before = daemon.http("GET", "/v1/model")
    daemon.config.write_text(daemon.config.read_text() + "\n[batching]\nmax_batch_size = -3\n")
    daemon.hup()
    daemon.wait_for(lambda: daemon.metric("inferwatch_config_reloads_total", result="failed") == 1,
                    what="the failed reload to be counted")
    log = daemon.log_text()
    assert "batching.max_batch_size" in log
    assert "configuration reload failed with 1 problem(s)" in log
    drop(daemon.share, "still.png", GOOD[0])
    result = daemon.wait_for_paths(["still.png"])["still.png"]
    assert result["status"] == "ok" and result["model"]["version"] == before["version"]
    assert daemon.stop() == 0
