"""Where the CLI keeps a login between runs: tokens (never the password) in the user's config dir, mode 0600.

The directory is `$INKSTREAM_CONFIG_DIR` when set, else platformdirs' user config dir for "inkstream".
This module (with `cli.py` for INKSTREAM_SERVER) is where the client reads environment variables.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inkstream.client.tokens import Tokens

FILE_NAME = "credentials.json"


def config_dir() -> Path:
    configured = os.environ.get("INKSTREAM_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("inkstream", appauthor=False))


def credentials_path() -> Path:
    return config_dir() / FILE_NAME


@dataclass
class Credentials:
    server: str
    username: str
    tokens: Tokens

    def to_json(self) -> dict[str, Any]:
        return {"server": self.server, "username": self.username, **self.tokens.to_dict()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credentials:
        return cls(str(data["server"]), str(data.get("username", "")), Tokens.from_dict(data))


def load(path: Path | None = None) -> Credentials | None:
    """The stored login, or None when there is none (or it is unreadable: then the user logs in again)."""
    path = path or credentials_path()
    try:
        return Credentials.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(credentials: Credentials, path: Path | None = None) -> Path:
    """Write atomically, created 0600 from the start (never readable by others, not even for a moment)."""
    path = path or credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".credentials.", dir=path.parent)  # mkstemp creates files 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(credentials.to_json(), f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def delete(path: Path | None = None) -> bool:
    path = path or credentials_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
