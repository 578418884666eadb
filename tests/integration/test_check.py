"""`inferwatch check`: configs and models that must be refused, with the reason (SPEC §2, §3)."""
import torch

from conftest import REPO


def _save(module, path, example, labels=None):
    traced = torch.jit.trace(module.eval(), example)
    extra = {"labels.txt": "\n".join(labels) + "\n"} if labels else {}
    torch.jit.save(traced, str(path), _extra_files=extra)
    return path


class Classifier(torch.nn.Module):
    def __init__(self, channels=1, classes=8, nan=False):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, 4, 3)
        self.fc = torch.nn.Linear(4, classes)
        self.nan = nan

    def forward(self, x):
        y = self.fc(self.conv(x).mean((2, 3)))
        return y * float("nan") if self.nan else y


def _config(tmp_path, text, name="inferwatch.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_pass(inferwatch, tmp_path):
    run = inferwatch("check", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert "demo-shapes@" in run.stderr and "8 labels" in run.stderr


def test_packaged_config_passes(inferwatch, tmp_path):
    text = (REPO / "config" / "inferwatch.toml").read_text()
    # The packaged file points at /var/lib and /srv; check it against this machine's temp folders.
    text = text.replace("/var/lib/inferwatch/", f"{tmp_path}/").replace("/srv/cad-crops", str(tmp_path))
    run = inferwatch("check", "-c", _config(tmp_path, text))
    assert run.code == 0, run.stderr


def test_every_config_problem_is_listed_with_file_line_and_key(inferwatch, tmp_path):
    config = _config(tmp_path, "\n".join([
        "[watch]",
        "settle = 5",                      # 2: unknown key, hint
        "[preprocess]",
        'resize = "crop"',                 # 4: not an allowed value
        "size = [224]",                    # 5: malformed
        "[batching]",
        "max_batch_size = 0",              # 7: out of range
        "[server]",
        'listen = "localhost"',            # 9: no port
        "[modle]",                         # 10: unknown section, hint
        "path = 'x.pt'",
    ]) + "\n")
    run = inferwatch("check", "-c", config)
    assert run.code == 1
    err = run.stderr
    assert "6 problem(s)" in err, err
    assert f'{config}:2:1: watch.settle: unknown key (did you mean "settle_ms"?)' in err
    assert f'{config}:4:' in err and 'preprocess.resize: "crop" is not one of stretch, letterbox' in err
    assert f"{config}:5:" in err and "preprocess.size" in err
    assert f"{config}:7:" in err and "batching.max_batch_size: 0 is out of range" in err
    assert f"{config}:9:" in err and "server.listen" in err
    assert f"{config}:10:" in err and "did you mean [model]?" in err


def test_syntax_error_names_the_line(inferwatch, tmp_path):
    config = _config(tmp_path, "[watch]\nrecursive = yes\n")
    run = inferwatch("check", "-c", config)
    assert run.code == 1
    assert f"{config}:2:" in run.stderr and "TOML syntax error" in run.stderr


def test_print_config_round_trips(inferwatch, tmp_path):
    config = _config(tmp_path, '[preprocess]\nresize = "stretch"\nsize = [32, 48]\n[postprocess]\ntop_k = 5\n'
                               f'[database]\npath = "{tmp_path}/x.db"\n')
    run = inferwatch("check", "-c", config, "--print-config")
    assert run.code == 0, run.stderr
    assert 'resize = "stretch"' in run.stdout.replace("'", '"')
    printed = _config(tmp_path, run.stdout, "printed.toml")
    again = inferwatch("check", "-c", printed, "--print-config")
    assert again.code == 0, again.stderr
    assert again.stdout == run.stdout


def test_model_that_is_not_torchscript(inferwatch, tmp_path):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"PK\x03\x04 definitely not a model")
    run = inferwatch("check", "--model", bogus, cwd=tmp_path)
    assert run.code == 1
    assert f"{bogus} is not a loadable TorchScript model" in run.stderr


def test_missing_model_file(inferwatch, tmp_path):
    run = inferwatch("check", "--model", tmp_path / "nope.pt", cwd=tmp_path)
    assert run.code == 1
    assert "cannot read model" in run.stderr and "nope.pt" in run.stderr


def test_model_with_nan_output(inferwatch, tmp_path):
    model = _save(Classifier(nan=True), tmp_path / "nan.pt", torch.zeros(1, 1, 64, 64))
    run = inferwatch("check", "--model", model, cwd=tmp_path)
    assert run.code == 1
    assert "model nan@" in run.stderr and "NaN" in run.stderr


def test_model_with_wrong_input_shape(inferwatch, tmp_path):
    # Expects 3 channels; the default config feeds 1 (gray).
    model = _save(Classifier(channels=3), tmp_path / "rgb.pt", torch.zeros(1, 3, 64, 64))
    run = inferwatch("check", "--model", model, cwd=tmp_path)
    assert run.code == 1
    assert "warm-up at batch size 1 with input [1, 1, 64, 64] failed" in run.stderr, run.stderr


def test_model_whose_outputs_do_not_match_the_labels(inferwatch, tmp_path):
    model = _save(Classifier(classes=5), tmp_path / "five.pt", torch.zeros(1, 1, 64, 64),
                  labels=["a", "b", "c", "d", "e", "f"])
    run = inferwatch("check", "--model", model, cwd=tmp_path)
    assert run.code == 1
    assert "the model gives 5 scores per image but 6 labels are configured" in run.stderr


def test_labels_from_the_model_file_and_from_the_config(inferwatch, tmp_path, samples):
    model = _save(Classifier(classes=3), tmp_path / "three.pt", torch.zeros(1, 1, 64, 64),
                  labels=["x", "y", "z"])
    run = inferwatch("infer", "--model", model, samples[0], cwd=tmp_path)
    assert run.code == 0, run.stderr
    [r] = run.results()
    assert {p["label"] for p in r["predictions"]} == {"x", "y", "z"}
    assert r["model"]["name"] == "three"

    (tmp_path / "labels.txt").write_text("red\ngreen\nblue\n")
    config = _config(tmp_path, f'[model]\npath = "three.pt"\nname = "colours"\nlabels = "labels.txt"\n')
    [r] = inferwatch("infer", "-c", config, samples[0]).results()
    assert {p["label"] for p in r["predictions"]} == {"red", "green", "blue"}
    assert r["model"]["version"].startswith("colours@")


def test_environment_problems(inferwatch, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    config = _config(tmp_path, f'[watch]\npaths = ["{not_a_dir}"]\n[database]\npath = "{tmp_path}/no/such/dir/x.db"\n'
                               '[server]\nlisten = "0.0.0.0:8080"\n')
    run = inferwatch("check", "-c", config)
    assert run.code == 1
    assert "3 problem(s)" in run.stderr, run.stderr
    assert f"watch.paths: {not_a_dir} is not a directory" in run.stderr
    assert "database.path" in run.stderr and "does not exist" in run.stderr
    assert "not a loopback address and no server.token_file is set" in run.stderr
