"""Who may register: open, closed or invite-only, the role new accounts get, and invite codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inkstream.admin.paging import PageRequest, count, iso
from inkstream.admin.versions import VersionStore
from inkstream.auth.audit_sink import Actor, AuditSink, Origin
from inkstream.auth.service import AuthService, UserInfo
from inkstream.errors import InvalidInput, InviteInvalid, InviteRequired, NotFound, RegistrationClosed
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import ROLES, Invite

MAX_INVITE_USES = 10_000
MAX_INVITE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class RegistrationConfig:
    enabled: bool
    invite_required: bool
    default_role: str

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "invite_required": self.invite_required, "default_role": self.default_role}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def invite_view(invite: Invite) -> dict[str, Any]:
    now = utcnow()
    if invite.revoked_at is not None:
        status = "revoked"
    elif invite.uses >= invite.max_uses:
        status = "used"
    elif _aware(invite.expires_at) <= now:
        status = "expired"
    else:
        status = "active"
    return {"code": invite.code, "max_uses": invite.max_uses, "uses": invite.uses,
            "uses_left": max(0, invite.max_uses - invite.uses) if status == "active" else 0,
            "expires_at": iso(invite.expires_at), "created_at": iso(invite.created_at),
            "created_by": invite.created_by, "status": status}


class Registration:
    def __init__(self, db: Database, auth: AuthService, audit: AuditSink, open_by_default: bool) -> None:
        self._db = db
        self._auth = auth
        self._audit = audit
        self._versions = VersionStore(db, "registration")
        self._default = RegistrationConfig(open_by_default, False, "user")

    # --- the setting ---
    async def config(self) -> tuple[RegistrationConfig, dict[str, Any]]:
        row = await self._versions.latest()
        if row is None:
            return self._default, {"version": 0, "updated_at": None, "updated_by": ""}
        d = row.data
        return (RegistrationConfig(bool(d["enabled"]), bool(d["invite_required"]), str(d["default_role"])),
                {"version": row.version, "updated_at": iso(row.created_at), "updated_by": row.created_by})

    async def update(self, new: RegistrationConfig, actor: Actor, origin: Origin) -> None:
        if new.default_role not in ROLES:
            raise InvalidInput("invalid_role", f"default_role must be one of {', '.join(ROLES)}.")
        before, _ = await self.config()
        await self._versions.save(new.as_dict(), actor.name)
        await self._audit.record("admin.registration.update", actor=actor, target_type="registration",
                                 origin=origin, before=before.as_dict(), after=new.as_dict())

    async def history(self, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        rows, total = await self._versions.history(page.offset, page.page_size)
        return [{"version": r.version, **r.data, "created_at": iso(r.created_at), "created_by": r.created_by}
                for r in rows], total

    # --- signing up ---
    async def register(self, username: str, password: str, invite_code: str | None, origin: Origin) -> UserInfo:
        config, _ = await self.config()
        if not config.enabled:
            raise RegistrationClosed("Registration is closed; ask an administrator for an account.")
        code = (invite_code or "").strip()
        if config.invite_required and not code:
            raise InviteRequired("Registration needs an invite code.")

        async def spend_invite(s: AsyncSession) -> None:
            # In the account's transaction, conditional: two sign-ups racing for an invite's last use cannot both win.
            spent = await s.execute(
                update(Invite).where(Invite.code == code, Invite.revoked_at.is_(None), Invite.uses < Invite.max_uses,
                                     Invite.expires_at > utcnow())
                .values(uses=Invite.uses + 1)
            )
            if spent.rowcount != 1:  # type: ignore[attr-defined]
                raise InviteInvalid("This invite code is unknown, used up, expired or revoked.")

        user = await self._auth.register(username, password, role=config.default_role,
                                         before_insert=spend_invite if config.invite_required else None)
        await self._audit.record("register", actor=Actor(user.id, user.username), target_type="user",
                                 target_id=str(user.id), origin=origin,
                                 detail={"role": user.role, "invite": code[:4] + "…" if code else None})
        return user

    # --- invites ---
    async def create_invite(self, max_uses: int, expires_in: int, actor: Actor, origin: Origin) -> dict[str, Any]:
        if not 1 <= max_uses <= MAX_INVITE_USES:
            raise InvalidInput("invalid_max_uses", f"max_uses must be 1–{MAX_INVITE_USES}.")
        if not 60 <= expires_in <= MAX_INVITE_SECONDS:
            raise InvalidInput("invalid_expires_in", "expires_in must be 60 seconds to one year.")
        now = utcnow()
        invite = Invite(code=secrets.token_urlsafe(12), max_uses=max_uses, uses=0,
                        expires_at=now + timedelta(seconds=expires_in), created_at=now, created_by=actor.name)
        async with self._db.write() as s:
            s.add(invite)
        await self._audit.record("admin.invite.create", actor=actor, target_type="invite",
                                 target_id=invite.code[:4] + "…", origin=origin,
                                 after={"max_uses": max_uses, "expires_at": iso(invite.expires_at)})
        return invite_view(invite)

    async def invites(self, status: str, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        now = utcnow()
        q = select(Invite)
        if status == "active":
            q = q.where(Invite.revoked_at.is_(None), Invite.uses < Invite.max_uses, Invite.expires_at > now)
        elif status == "revoked":
            q = q.where(Invite.revoked_at.is_not(None))
        elif status == "used":
            q = q.where(Invite.revoked_at.is_(None), Invite.uses >= Invite.max_uses)
        elif status == "expired":
            q = q.where(Invite.revoked_at.is_(None), Invite.uses < Invite.max_uses, Invite.expires_at <= now)
        async with self._db.read() as s:
            total = await count(s, q)
            rows = (await s.scalars(q.order_by(Invite.created_at.desc()).offset(page.offset)
                                    .limit(page.page_size))).all()
        return [invite_view(r) for r in rows], total

    async def revoke_invite(self, code: str, actor: Actor, origin: Origin) -> None:
        async with self._db.write() as s:
            invite = await s.get(Invite, code)
            if invite is None:
                raise NotFound("invite_not_found", "No such invite code.")
            before = invite_view(invite)
            if invite.revoked_at is None:
                invite.revoked_at = utcnow()
        await self._audit.record("admin.invite.revoke", actor=actor, target_type="invite", target_id=code[:4] + "…",
                                 origin=origin, before={"status": before["status"], "uses": before["uses"]},
                                 after={"status": "revoked"})
