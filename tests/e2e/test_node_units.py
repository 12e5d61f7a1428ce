"""Runs every Node unit test file of the web UI's modules (`tests/e2e/*.test.mjs`: fakes for fetch, EventSource,
clocks and storage; no browser, no server) with `node --test`, one pytest case per file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SPECS = sorted(Path(__file__).parent.glob("*.test.mjs"))


def test_every_web_module_has_its_node_tests_here() -> None:
    assert {s.name for s in SPECS} >= {"auth_session.test.mjs", "creator_web.test.mjs", "revocation.test.mjs",
                                       "sse_manager.test.mjs", "stream_report.test.mjs"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_node_unit_tests_pass(spec: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (scripts/system-packages.sh installs nodejs)")
    run = subprocess.run([node, "--test", str(spec)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout and "# pass 0" not in run.stdout, run.stdout
