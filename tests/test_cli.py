"""`inkstream user create` makes accounts the server then accepts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.server import LiveServer


def _user_create(data_dir: Path, *args: str, password: str = "a long password") -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INKSTREAM_")},
           "INKSTREAM_DATA_DIR": str(data_dir), "INKSTREAM_NEW_PASSWORD": password}
    return subprocess.run([sys.executable, "-m", "inkstream", "user", "create", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_user_create_then_login(tmp_path: Path) -> None:
    done = _user_create(tmp_path, "bob", "--admin")
    assert done.returncode == 0, done.stderr
    assert "created user bob" in done.stdout and "admin" in done.stdout
    again = _user_create(tmp_path, "bob")
    assert again.returncode == 1 and "username_taken" in again.stderr
    weak = _user_create(tmp_path, "carol", password="short")
    assert weak.returncode == 1 and "weak_password" in weak.stderr
    live = LiveServer(tmp_path).start()
    try:
        r = httpx.post(f"{live.url}/api/auth/login", json={"username": "bob", "password": "a long password"})
        assert r.status_code == 200
        me = httpx.get(f"{live.url}/api/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert me.json()["is_admin"] is True
    finally:
        live.stop()
