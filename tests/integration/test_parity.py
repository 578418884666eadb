"""Parity with the Python reference (torchvision tensor transforms + torch.jit.load): for every
resize mode and both colour modes, the scores `inferwatch infer` prints match the reference run on
the same files — same top-1, max |Δscore| ≤ 1e-3 (issue #2, SPEC §3)."""
import pytest
import torch

from conftest import DEMO_MODEL
from pyref.preprocess import preprocess

MODES = ["stretch", "letterbox", "shorter-side+center-crop"]
TOLERANCE = 1e-3


class RgbNet(torch.nn.Module):
    """A small random 3-channel classifier, so the RGB path is checked too."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(7)
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(4))
        self.fc = torch.nn.Linear(16 * 16, 8)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1)) * 4.0  # sharpen: make top-1 meaningful


def _reference(model, files, **pre):
    out = {}
    with torch.no_grad():
        for f in files:
            x = preprocess(f, **pre)[None]
            out[str(f)] = torch.softmax(model(x)[0].double(), 0)
    return out


def _compare(inferwatch, config, files, reference):
    run = inferwatch("infer", "-c", config, *files)
    assert run.code == 0, run.stderr
    worst = 0.0
    for r in run.results():
        ref = reference[r["path"]]
        scores = torch.zeros(len(ref), dtype=torch.float64)
        for p in r["predictions"]:
            scores[p["index"]] = p["score"]
        assert len(r["predictions"]) == len(ref)
        delta = (scores - ref).abs().max().item()
        worst = max(worst, delta)
        assert r["predictions"][0]["index"] == int(ref.argmax()), (r["path"], r["predictions"][:2], ref)
        assert delta <= TOLERANCE, (r["path"], delta)
    return worst


@pytest.mark.parametrize("mode", MODES)
def test_gray_demo_model_matches_reference(inferwatch, samples, tmp_path, mode):
    config = tmp_path / "gray.toml"
    config.write_text(f'[preprocess]\nresize = "{mode}"\n[postprocess]\ntop_k = 8\nsoftmax = true\n')
    model = torch.jit.load(str(DEMO_MODEL)).eval()
    reference = _reference(model, samples, height=64, width=64, mode=mode, colour="gray",
                           mean=(0.5,), std=(0.5,), fill=1.0)
    worst = _compare(inferwatch, config, samples, reference)
    print(f"gray {mode}: max |Δscore| = {worst:.2e} over {len(samples)} files")


@pytest.mark.parametrize("mode", MODES)
def test_rgb_model_matches_reference(inferwatch, samples, tmp_path, mode):
    net = torch.jit.trace(RgbNet().eval(), torch.zeros(1, 3, 56, 72))
    model_path = tmp_path / "rgb.pt"
    torch.jit.save(net, str(model_path))
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    config = tmp_path / "rgb.toml"
    config.write_text("\n".join([
        f'[model]\npath = "{model_path}"',
        f'[preprocess]\nresize = "{mode}"\nsize = [56, 72]\ncolour = "rgb"\nshorter_side = 80',
        f"letterbox_fill = 0.25\nmean = {list(mean)}\nstd = {list(std)}",
        "[postprocess]\ntop_k = 8\nsoftmax = true\n"]))
    reference = _reference(torch.jit.load(str(model_path)).eval(), samples, height=56, width=72,
                           mode=mode, colour="rgb", mean=mean, std=std, shorter_side=80, fill=0.25)
    worst = _compare(inferwatch, config, samples, reference)
    print(f"rgb {mode}: max |Δscore| = {worst:.2e} over {len(samples)} files")
