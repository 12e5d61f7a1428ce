"""Waiting for the backing services at start-up: an API node or worker whose Redis is not up yet (the usual order
problem when a cluster starts together) says so in one line per attempt and retries, instead of dying with a
traceback or serving without its queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from inkstream.config import Settings

log = logging.getLogger(__name__)


def redacted(url: str) -> str:
    """The URL without its password, for log lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def wait_for_redis(url: str, *, first_delay: float = 0.5, max_delay: float = 10.0,
                         sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """Return once Redis at `url` answers PING; until then log why not and retry with a capped backoff."""
    delay = first_delay
    attempt = 0
    while True:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            attempt += 1
            log.warning("Redis at %s is unreachable (%s); retrying in %.1f s (attempt %d). "
                        "Check INKSTREAM_REDIS_URL and that Redis is running.",
                        redacted(url), str(exc) or type(exc).__name__, delay, attempt)
        else:
            if attempt:
                log.info("Redis at %s answers after %d failed attempt(s); starting", redacted(url), attempt)
            return
        finally:
            await client.aclose()
        await sleep(delay)
        delay = min(delay * 2, max_delay)


def wait_for_services(settings: Settings) -> None:
    """Block until the distributed mode's Redis answers (nothing to wait for in embedded mode). Runs before the
    server or worker starts, where SIGTERM still simply ends the process and Ctrl-C exits quietly."""
    if not settings.distributed:
        return
    try:
        asyncio.run(wait_for_redis(settings.redis_url))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
