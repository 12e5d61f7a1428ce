"""Builds the service's parts from settings, choosing each boundary's implementation once: SQLite/in-process
for the embedded default, PostgreSQL/Redis Streams/arq for the distributed mode. Used by the API and by workers."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from inkstream.auth.rate_limit import FailureLimiter
from inkstream.auth.refresh import RefreshTokens
from inkstream.auth.service import AuthService
from inkstream.auth.tokens import TokenService
from inkstream.config import Settings
from inkstream.events.log import EventLog
from inkstream.events.redis_log import RedisEventLog
from inkstream.events.sql_log import SqlEventLog
from inkstream.generators.factory import build_generators, copy_generator_for
from inkstream.storage.database import Database
from inkstream.storage.images import ImageStore
from inkstream.tasks.queue import InProcessQueue, TaskQueue
from inkstream.tasks.redis_queue import RedisQueue
from inkstream.tasks.runner import TaskRunner
from inkstream.tasks.service import TaskLimits, TaskService


@dataclass
class Core:
    """The parts both an API node and a worker need."""

    settings: Settings
    db: Database
    events: EventLog
    images: ImageStore
    runner: TaskRunner
    redis: Redis | None

    async def close(self) -> None:
        await self.events.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.close()


async def build_core(settings: Settings) -> Core:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    await db.migrate()
    redis: Redis | None = None
    events: EventLog
    if settings.distributed:
        redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2,
                               health_check_interval=10)
        redis_log = RedisEventLog(SqlEventLog(db), redis, settings.redis_prefix, settings.event_retention_seconds)
        await redis_log.start()
        events = redis_log
    else:
        events = SqlEventLog(db, single_writer=True)
    images = ImageStore(settings.images_dir, settings.signing_key, settings.image_url_ttl)
    outline_gen, image_gen = build_generators(settings)
    runner = TaskRunner(db, events, images, settings.uploads_dir, outline_gen, image_gen,
                        settings.page_concurrency, settings.page_timeout, copy_generator_for(outline_gen))
    return Core(settings, db, events, images, runner, redis)


def build_queue(core: Core) -> TaskQueue:
    if core.settings.distributed:
        return RedisQueue(core.db, core.settings.redis_url, core.settings.queue_name)
    return InProcessQueue(core.db, core.runner)


def build_auth(settings: Settings, db: Database) -> AuthService:
    tokens = TokenService(settings.signing_key, settings.access_token_ttl, settings.stream_ticket_ttl)
    return AuthService(
        db, tokens, RefreshTokens(db, settings.refresh_token_ttl, settings.refresh_retry_grace),
        FailureLimiter(settings.login_max_failures, settings.login_window_seconds),
        FailureLimiter(settings.login_max_failures_per_ip, settings.login_window_seconds),
    )


def build_tasks(core: Core, queue: TaskQueue) -> TaskService:
    s = core.settings
    limits = TaskLimits(s.max_topic_chars, s.max_pages, s.max_page_chars, s.max_running_tasks_per_user)
    return TaskService(core.db, core.events, queue, s.uploads_dir, s.images_dir, limits)
