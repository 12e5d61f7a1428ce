"""The first administrator for containers: INKSTREAM_ADMIN_USERNAME + INKSTREAM_ADMIN_PASSWORD create one on start
when no active administrator exists. An existing account of that name is never promoted: someone else may have
registered it."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from inkstream.auth.service import AuthService
from inkstream.errors import InkstreamError
from inkstream.storage.database import Database
from inkstream.storage.tables import User

log = logging.getLogger(__name__)


async def ensure_admin(db: Database, auth: AuthService, username: str, password: str) -> bool:
    """True when an administrator was created."""
    if not username or not password:
        return False
    async with db.read() as s:
        admins = await s.scalar(select(func.count()).select_from(User)
                                .where(User.role == "admin", User.is_active.is_(True)))
        taken = await s.scalar(select(User.id).where(User.username == username))
    if admins:
        return False
    if taken is not None:
        log.error("INKSTREAM_ADMIN_USERNAME %r exists as a non-admin account; not promoting it. "
                  "Use `inkstream user create --admin` with another name.", username)
        return False
    try:
        await auth.register(username, password, role="admin")
    except InkstreamError as exc:
        if exc.code == "username_taken":  # another node of the cluster created it at the same moment
            return False
        log.error("cannot create the administrator from INKSTREAM_ADMIN_USERNAME: %s", exc.message)
        return False
    log.info("created administrator %r from INKSTREAM_ADMIN_USERNAME", username)
    return True
