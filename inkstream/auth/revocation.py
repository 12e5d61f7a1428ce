"""Revocation that takes effect now: who a bearer is, checked against the session and account on every request,
cheaply, and open streams cut when their session ends.

Every revocation (logout-all, a revoked session, a password change, an admin disabling or deleting a user) writes a
row to `auth_changes`. Each API process polls that feed about once a second — one indexed query per process, not
one per request or per stream — and on a change drops what it cached about that user and re-checks that user's open
streams, which then end with a typed `error` event. Between changes a session's state is served from memory
(re-read at most every `max_age` seconds as a safety net), so the hot path costs no query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from inkstream.auth.refresh import revoked_error
from inkstream.auth.tokens import Bearer
from inkstream.errors import AccountDisabled, InkstreamError, SessionRevoked
from inkstream.periodic import run_every
from inkstream.storage.database import Database
from inkstream.storage.tables import AuthChange, AuthSession, User

log = logging.getLogger(__name__)

_CACHED = 20_000


@dataclass(frozen=True)
class Principal:
    """The caller of a request, as the account and session are now."""

    id: int
    username: str
    role: str
    session_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class StreamWatch:
    """One open stream's link to the guard: `problem` is set when its session ends, and `wake` makes the stream
    look at it at once instead of at its next event or heartbeat."""

    __slots__ = ("bearer", "wake", "problem")

    def __init__(self, bearer: Bearer, wake: Callable[[], None]) -> None:
        self.bearer = bearer
        self.wake = wake
        self.problem: InkstreamError | None = None


class SessionGuard:
    def __init__(self, db: Database, *, poll_interval: float = 1.0, max_age: float = 30.0) -> None:
        self._db = db
        self._poll_interval = poll_interval
        self._max_age = max_age
        self._states: OrderedDict[tuple[int, str | None], tuple[Principal | InkstreamError, float]] = OrderedDict()
        self._streams: dict[int, set[StreamWatch]] = defaultdict(set)
        self._last_change = 0
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async with self._db.read() as s:
            self._last_change = int(await s.scalar(select(func.max(AuthChange.id))) or 0)
        self._poller = asyncio.create_task(
            run_every(self._poll_interval, self.check_changes, "reading auth changes", log), name="session-guard")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    # --- requests ---
    async def principal(self, bearer: Bearer) -> Principal:
        """The caller, or the typed error that refuses it (session_revoked, account_disabled)."""
        key = (bearer.user_id, bearer.session_id)
        cached = self._states.get(key)
        if cached is None or time.monotonic() - cached[1] > self._max_age:
            state = await self._load(bearer)
            self._states[key] = (state, time.monotonic())
            self._states.move_to_end(key)
            if len(self._states) > _CACHED:
                self._states.popitem(last=False)
        else:
            state = cached[0]
        if isinstance(state, InkstreamError):
            raise state
        return state

    async def _load(self, bearer: Bearer) -> Principal | InkstreamError:
        async with self._db.read() as s:
            user = await s.get(User, bearer.user_id)
            session = await s.get(AuthSession, bearer.session_id) if bearer.session_id else None
        if user is None:
            return SessionRevoked("This account no longer exists.")
        if not user.is_active:
            return AccountDisabled("This account has been disabled by an administrator.")
        if bearer.session_id is not None:
            if session is None or session.user_id != user.id:
                return SessionRevoked("This session no longer exists; log in again.")
            if session.revoked_at is not None:
                error = revoked_error(session.revoked_reason)
                return error if isinstance(error, AccountDisabled) else SessionRevoked(
                    "This session was signed out; log in again.")
        return Principal(user.id, user.username, user.role, bearer.session_id)

    # --- streams ---
    def watch(self, bearer: Bearer, wake: Callable[[], None]) -> StreamWatch:
        watch = StreamWatch(bearer, wake)
        self._streams[bearer.user_id].add(watch)
        return watch

    def open_streams(self) -> int:
        return sum(len(w) for w in self._streams.values())

    def unwatch(self, watch: StreamWatch) -> None:
        watchers = self._streams.get(watch.bearer.user_id)
        if watchers is not None:
            watchers.discard(watch)
            if not watchers:
                del self._streams[watch.bearer.user_id]

    # --- the feed ---
    async def check_changes(self) -> None:
        async with self._db.read() as s:
            rows = (await s.execute(
                select(AuthChange.id, AuthChange.user_id).where(AuthChange.id > self._last_change)
                .order_by(AuthChange.id)
            )).all()
        if not rows:
            return
        self._last_change = rows[-1].id
        users = {r.user_id for r in rows}
        for key in [k for k in self._states if k[0] in users]:
            del self._states[key]
        for user_id in users:
            for watch in list(self._streams.get(user_id, ())):
                try:
                    await self.principal(watch.bearer)
                except InkstreamError as exc:
                    watch.problem = exc
                    watch.wake()
