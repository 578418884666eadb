"""docs/openapi.yaml passes a standard OpenAPI linter (Redocly CLI, installed by scripts/install-deps)."""
import os
import subprocess

from conftest import REPO


def test_openapi_document_lints_clean():
    redocly = REPO / ".cache" / "redocly" / "node_modules" / ".bin" / "redocly"
    assert redocly.exists(), "run scripts/install-deps (it installs the pinned @redocly/cli)"
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    proc = subprocess.run([str(redocly), "lint", "--config", str(REPO / "redocly.yaml"),
                           str(REPO / "docs" / "openapi.yaml")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout + proc.stderr
