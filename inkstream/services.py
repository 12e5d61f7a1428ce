"""Builds the service's parts from settings, choosing each boundary's implementation once: SQLite/in-process
for the embedded default, PostgreSQL/Redis Streams/arq for the distributed mode. Used by the API and by workers."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from inkstream.admin.audit import AuditLogStore
from inkstream.admin.providers import ProviderSettings, RuntimeGenerators
from inkstream.auth.audit_sink import AuditSink
from inkstream.auth.rate_limit import FailureCounter, FailureLimiter
from inkstream.auth.redis_rate_limit import RedisFailureLimiter
from inkstream.auth.refresh import RefreshTokens
from inkstream.auth.service import AuthService
from inkstream.auth.tokens import TokenService
from inkstream.config import Settings
from inkstream.events.log import EventLog
from inkstream.events.redis_log import RedisEventLog
from inkstream.events.sql_log import SqlEventLog
from inkstream.storage.database import Database
from inkstream.storage.images import ImageStore
from inkstream.tasks.leases import Leases, LocalLeases, RedisLeases
from inkstream.tasks.queue import InProcessQueue, TaskQueue
from inkstream.tasks.redis_queue import RedisQueue
from inkstream.tasks.runner import TaskRunner
from inkstream.tasks.service import TaskLimits, TaskService
from inkstream.usage.quotas import PageQuotas


@dataclass
class Core:
    """The parts both an API node and a worker need."""

    settings: Settings
    db: Database
    events: EventLog
    images: ImageStore
    runner: TaskRunner
    redis: Redis | None
    audit: AuditLogStore
    providers: ProviderSettings
    generators: RuntimeGenerators
    leases: Leases

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
    leases: Leases = LocalLeases()
    if settings.distributed:
        redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2,
                               health_check_interval=10)
        redis_log = RedisEventLog(SqlEventLog(db), redis, settings.redis_prefix, settings.event_retention_seconds)
        await redis_log.start()
        events = redis_log
        leases = RedisLeases(redis, settings.redis_prefix, settings.lease_seconds)
    else:
        events = SqlEventLog(db, single_writer=True)
    images = ImageStore(settings.images_dir, settings.signing_key, settings.image_url_ttl)
    audit = AuditLogStore(db)
    providers = ProviderSettings(db, settings.signing_key, settings.providers_file, audit)
    generators = RuntimeGenerators(db, providers, offline_delay=settings.offline_delay,
                                   check_interval=settings.providers_check_interval)
    runner = TaskRunner(db, events, images, settings.uploads_dir, generators,
                        settings.page_concurrency, settings.page_timeout, leases)
    return Core(settings, db, events, images, runner, redis, audit, providers, generators, leases)


def build_queue(core: Core) -> TaskQueue:
    if core.settings.distributed:
        return RedisQueue(core.db, core.settings.redis_url, core.settings.queue_name)
    return InProcessQueue(core.db, core.runner)


def build_auth(settings: Settings, db: Database, audit: AuditSink | None = None,
               redis: Redis | None = None) -> AuthService:
    tokens = TokenService(settings.signing_key, settings.access_token_ttl, settings.stream_ticket_ttl)
    per_user: FailureCounter
    per_ip: FailureCounter
    if redis is not None:  # distributed: every API node counts the same failures
        per_user = RedisFailureLimiter(redis, settings.redis_prefix, "user", settings.login_max_failures,
                                       settings.login_window_seconds)
        per_ip = RedisFailureLimiter(redis, settings.redis_prefix, "ip", settings.login_max_failures_per_ip,
                                     settings.login_window_seconds)
    else:
        per_user = FailureLimiter(settings.login_max_failures, settings.login_window_seconds)
        per_ip = FailureLimiter(settings.login_max_failures_per_ip, settings.login_window_seconds)
    return AuthService(db, tokens, RefreshTokens(db, settings.refresh_token_ttl, settings.refresh_retry_grace),
                       per_user, per_ip, audit)


def build_tasks(core: Core, queue: TaskQueue) -> TaskService:
    s = core.settings
    limits = TaskLimits(s.max_topic_chars, s.max_pages, s.max_page_chars, s.max_running_tasks_per_user)
    return TaskService(core.db, core.events, queue, s.uploads_dir, s.images_dir, limits,
                       PageQuotas(s.daily_page_quota))
