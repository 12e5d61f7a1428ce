"""Literal API keys are stored sealed with the secret key, never in clear, and open only with that key."""

from __future__ import annotations

from pathlib import Path

from inkstream.admin.audit import AuditLogStore
from inkstream.admin.providers import KeyBox, ProviderSettings
from inkstream.auth.audit_sink import Actor, Origin
from inkstream.storage.database import Database
from inkstream.storage.tables import ConfigVersion

KEY = "sk-live-0123456789abcdef"
CONFIG = {"image_generation": {"active_provider": "x", "providers": {
    "x": {"type": "openai_compatible", "model": "m", "api_key": KEY}}}}


async def test_keys_are_sealed_at_rest(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    await db.migrate()
    try:
        settings = ProviderSettings(db, "s" * 40, None, AuditLogStore(db))
        await settings.save(CONFIG, "", Actor(None, "t"), Origin())
        async with db.read() as s:
            row = await s.get(ConfigVersion, ("providers", 1))
        assert row is not None
        stored = row.data["image_generation"]["providers"]["x"]["api_key"]
        assert stored.startswith("enc:") and KEY not in str(row.data)
        assert settings.unsealed(row.data)["image_generation"]["providers"]["x"]["api_key"] == KEY
        assert KEY not in str(await settings.view())
        assert KeyBox("another secret key of forty characters!").open(stored) is None
    finally:
        await db.close()
