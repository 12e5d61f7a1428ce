"""create_app(settings): builds the service from its parts. Wiring only; no behaviour lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from inkstream import __version__
from inkstream.api import auth_routes, image_routes, stream_routes, task_routes
from inkstream.api.body_limit import BodySizeLimit
from inkstream.api.deps import Services
from inkstream.api.errors import install_error_handlers
from inkstream.auth.rate_limit import FailureLimiter
from inkstream.auth.refresh import RefreshTokens
from inkstream.auth.service import AuthService
from inkstream.auth.tokens import TokenService
from inkstream.config import Settings
from inkstream.events.sql_log import SqlEventLog
from inkstream.generators.factory import build_generators
from inkstream.storage.database import Database
from inkstream.storage.images import ImageStore
from inkstream.tasks.queue import InProcessQueue
from inkstream.tasks.runner import TaskRunner
from inkstream.tasks.service import TaskLimits, TaskService

WEB_DIR = Path(__file__).parent / "web"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.sqlalchemy_url)
        await db.migrate()
        events = SqlEventLog(db)
        images = ImageStore(settings.images_dir, settings.signing_key, settings.image_url_ttl)
        outline_gen, image_gen = build_generators(settings)
        runner = TaskRunner(db, events, images, settings.uploads_dir, outline_gen, image_gen,
                            settings.page_concurrency)
        queue = InProcessQueue(db, runner)
        tokens = TokenService(settings.signing_key, settings.access_token_ttl, settings.stream_ticket_ttl)
        auth = AuthService(db, tokens, RefreshTokens(db, settings.refresh_token_ttl),
                           FailureLimiter(settings.login_max_failures, settings.login_window_seconds),
                           FailureLimiter(settings.login_max_failures_per_ip, settings.login_window_seconds))
        limits = TaskLimits(settings.max_topic_chars, settings.max_pages, settings.max_page_chars,
                            settings.max_running_tasks_per_user)
        tasks = TaskService(db, events, queue, settings.uploads_dir, settings.images_dir, limits)
        app.state.services = Services(settings, auth, tasks, events, images)
        await queue.start()
        try:
            yield
        finally:
            await queue.stop()
            await events.close()
            await db.close()

    app = FastAPI(title="Inkstream", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    for router in (auth_routes.router, task_routes.router, stream_routes.router, image_routes.router):
        app.include_router(router)

    @app.get("/api/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    if (WEB_DIR / "index.html").is_file():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
