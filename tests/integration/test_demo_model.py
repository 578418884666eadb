"""The committed demo model meets the accuracy stated in its model card on freshly generated,
held-out crops (issue #2: ≥ 97 %)."""
import re
import subprocess

from conftest import DEMO_MODEL, REPO


def test_demo_model_accuracy_on_held_out_crops():
    proc = subprocess.run(
        ["/usr/bin/python3", str(REPO / "scripts" / "train-demo-model"), "--evaluate-only", str(DEMO_MODEL),
         "--eval", "1000", "--min-accuracy", "0.97"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    accuracy = float(re.search(r"^accuracy: ([0-9.]+)$", proc.stdout, re.M).group(1))
    assert accuracy >= 0.97
