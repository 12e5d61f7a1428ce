"""Invite expiry (time must pass, so the expiry is moved into the past in a real SQLite database)."""

from __future__ import annotations

from datetime import timedelta

import pytest


async def test_an_expired_invite_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Expiry needs time to pass: the invite's expiry is moved into the past in a real SQLite database."""
    from inkstream.admin.audit import AuditLogStore
    from inkstream.admin.paging import PageRequest
    from inkstream.admin.registration import Registration, RegistrationConfig
    from inkstream.auth.audit_sink import Actor, Origin
    from inkstream.config import Settings
    from inkstream.errors import InviteInvalid
    from inkstream.services import build_auth
    from inkstream.storage.database import Database
    from inkstream.storage.db import utcnow
    from inkstream.storage.tables import Invite

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    await db.migrate()
    try:
        audit = AuditLogStore(db)
        reg = Registration(db, build_auth(Settings(data_dir=tmp_path), db, audit), audit, True)
        await reg.update(RegistrationConfig(True, True, "user"), Actor(None, "test"), Origin())
        invite = await reg.create_invite(3, 3600, Actor(None, "test"), Origin())
        async with db.write() as s:
            row = await s.get(Invite, invite["code"])
            assert row is not None
            row.expires_at = utcnow() - timedelta(seconds=1)
        with pytest.raises(InviteInvalid):
            await reg.register("late_comer", "long enough 1", invite["code"], Origin())
        items, _ = await reg.invites("expired", PageRequest())
        assert [i["code"] for i in items] == [invite["code"]] and items[0]["uses_left"] == 0
    finally:
        await db.close()
