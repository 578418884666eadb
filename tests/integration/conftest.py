"""Shared fixtures: the real binary, temp folders, and helpers to run it.

Run by ctest (`scripts/test`) with Debian's /usr/bin/python3; INFERWATCH_BIN names the binary.
"""
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "data" / "samples"
DEMO_MODEL = REPO / "models" / "demo" / "demo-shapes.pt"
sys.path.insert(0, str(REPO / "scripts"))


@pytest.fixture(scope="session")
def made(tmp_path_factory):
    """OUT/shapes of scripts/make-test-models (Debian's python3-torch, ~10 s, once a session): the
    model versions v1, v2-better, v2-worse, bad-preprocess, nan and wrong-shape."""
    out = tmp_path_factory.mktemp("made-models")
    proc = subprocess.run(["/usr/bin/python3", str(REPO / "scripts" / "make-test-models"), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / "shapes"


def binary():
    path = os.path.abspath(os.environ.get("INFERWATCH_BIN") or str(REPO / "build" / "src" / "inferwatch"))
    if not os.path.exists(path):
        pytest.fail(f"inferwatch binary not found at {path}; run scripts/build first")
    return path


class Run:
    """The outcome of one inferwatch invocation."""

    def __init__(self, proc):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def results(self):
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@pytest.fixture
def inferwatch():
    """Call as inferwatch("infer", "x.png", cwd=...) -> Run."""

    def run(*args, cwd=None, timeout=120):
        proc = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True,
                              cwd=cwd, timeout=timeout)
        return Run(proc)

    return run


@pytest.fixture
def daemon(tmp_path):
    """A `daemon.Daemon` in tmp_path, not started yet; killed at the end if still running."""
    from daemon import Daemon  # daemon.py imports this module

    d = Daemon(tmp_path)
    yield d
    if d.alive():
        d.kill()


@pytest.fixture
def samples():
    files = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    assert len(files) >= 24, f"expected the committed sample crops in {SAMPLES}"
    return files


def label_of(path):
    """circle_01.png -> circle; dimension_line_03.jpg -> dimension_line."""
    return path.stem.rsplit("_", 1)[0]
