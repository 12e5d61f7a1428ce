"""Runs the Node unit tests of the browser session in js/auth.js (HttpOnly refresh cookie; fakes, no browser)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_auth_session_unit_tests_pass_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (scripts/system-packages.sh installs nodejs)")
    spec = Path(__file__).with_name("auth_session.test.mjs")
    run = subprocess.run([node, "--test", str(spec)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
