"""create_app(settings): builds the service from its parts. Wiring only; no behaviour lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from inkstream import __version__
from inkstream.admin.bootstrap import ensure_admin
from inkstream.admin.records import AdminRecords
from inkstream.admin.registration import Registration
from inkstream.admin.users import AdminUsers
from inkstream.api import (
    admin_config_routes,
    admin_routes,
    auth_routes,
    copy_routes,
    history_routes,
    image_routes,
    metrics,
    stream_routes,
    task_routes,
    usage_routes,
)
from inkstream.api.body_limit import BodySizeLimit
from inkstream.api.deps import AdminParts, Services, UsageParts
from inkstream.api.errors import install_error_handlers
from inkstream.api.no_nul import RefuseNul
from inkstream.api.openapi_errors import install_openapi_errors
from inkstream.api.security_headers import install_security_headers
from inkstream.api.stream_opens import install_stream_opens
from inkstream.auth.revocation import SessionGuard
from inkstream.config import Settings
from inkstream.events.broadcast import Broadcaster
from inkstream.events.stream import FrameCache
from inkstream.services import build_auth, build_core, build_queue, build_tasks
from inkstream.usage.quotas import PageQuotas
from inkstream.usage.rollups import Rollups
from inkstream.usage.telemetry import ReportLimiter

WEB_DIR = Path(__file__).parent / "web"


class WebMount(Mount):
    """The browser UI at "/", which never claims an /api path: a wrong method there stays a JSON 405, not a 404."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("path", "").startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core = await build_core(settings)
        queue = build_queue(core)
        auth = build_auth(settings, core.db, core.audit, core.redis)
        tasks = build_tasks(core, queue)
        guard = SessionGuard(core.db, poll_interval=settings.session_poll_interval)
        admin = AdminParts(
            core.audit, Registration(core.db, auth, core.audit, settings.public_registration),
            AdminUsers(core.db, auth, tasks, core.audit), AdminRecords(core.db, core.images), core.providers,
            core.generators,
        )
        rollups = Rollups(core.db, "api", flush_interval=settings.rollup_flush_interval,
                          open_streams=guard.open_streams)
        usage = UsageParts(rollups, PageQuotas(settings.daily_page_quota), ReportLimiter(), core.db)
        # re-encoded well before the signed image URLs in them expire
        frames = FrameCache(max_age=min(300.0, settings.image_url_ttl / 4))
        app.state.services = Services(settings, auth, tasks, core.events, core.images, frames, guard, admin, usage)
        app.state.broadcaster = Broadcaster(core.events, frames, heartbeat_interval=settings.heartbeat_interval,
                                            buffer_size=settings.stream_buffer_events)
        await ensure_admin(core.db, auth, settings.admin_username, settings.admin_password)
        await guard.start()
        await rollups.start()
        await queue.start()
        try:
            yield
        finally:
            await queue.stop()
            await rollups.close()
            await guard.close()
            await core.close()

    app = FastAPI(title="Inkstream", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    for router in (auth_routes.router, task_routes.router, copy_routes.router, history_routes.router,
                   stream_routes.router, image_routes.router, admin_routes.router, admin_config_routes.router,
                   usage_routes.router, metrics.router):
        app.include_router(router)

    @app.get("/api/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    if (WEB_DIR / "index.html").is_file():
        app.router.routes.append(WebMount("/", app=StaticFiles(directory=WEB_DIR, html=True), name="web"))
    app.add_middleware(RefuseNul)  # inside BodySizeLimit: it reads bodies whole, so they must be bounded first
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_stream_opens(app)  # inside SecurityHeaders: stream opens get the same headers
    install_security_headers(app, settings)
    install_openapi_errors(app)
    return app
