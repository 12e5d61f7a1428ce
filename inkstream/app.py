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
from inkstream.api import auth_routes, image_routes, metrics, stream_routes, task_routes
from inkstream.api.body_limit import BodySizeLimit
from inkstream.api.deps import Services
from inkstream.api.errors import install_error_handlers
from inkstream.api.openapi_errors import install_openapi_errors
from inkstream.api.security_headers import install_security_headers
from inkstream.config import Settings
from inkstream.events.stream import FrameCache
from inkstream.services import build_auth, build_core, build_queue, build_tasks

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
        app.state.services = Services(settings, build_auth(settings, core.db), build_tasks(core, queue),
                                      core.events, core.images,
                                      # re-encoded well before the signed image URLs in them expire
                                      FrameCache(max_age=min(300.0, settings.image_url_ttl / 4)))
        await queue.start()
        try:
            yield
        finally:
            await queue.stop()
            await core.close()

    app = FastAPI(title="Inkstream", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    for router in (auth_routes.router, task_routes.router, stream_routes.router, image_routes.router,
                   metrics.router):
        app.include_router(router)

    @app.get("/api/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    if (WEB_DIR / "index.html").is_file():
        app.router.routes.append(WebMount("/", app=StaticFiles(directory=WEB_DIR, html=True), name="web"))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_security_headers(app, settings)
    install_openapi_errors(app)
    return app
