"""Start-up configuration: production refuses to run without a real secret; dev keeps a generated one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inkstream.config import ConfigError, Settings


def test_production_without_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INKSTREAM_")},
           "INKSTREAM_ENV": "production", "INKSTREAM_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "inkstream", "serve"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "INKSTREAM_SECRET_KEY" in proc.stderr


def test_production_with_short_secret_is_refused() -> None:
    with pytest.raises(ConfigError):
        Settings(env="production", secret_key="short", _env_file=None)  # type: ignore[call-arg]


def test_dev_mode_generates_and_keeps_a_private_secret(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, _env_file=None).signing_key  # type: ignore[call-arg]
    again = Settings(data_dir=tmp_path, _env_file=None).signing_key  # type: ignore[call-arg]
    assert first == again and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_urls_get_async_drivers() -> None:
    s = Settings(database_url="postgresql://u@localhost/db", _env_file=None)  # type: ignore[call-arg]
    assert s.sqlalchemy_url == "postgresql+asyncpg://u@localhost/db"
