"""Calling a remote AI provider resiliently: retries with backoff, Retry-After, and a failure the runner can judge.

Every remote generator funnels its HTTP calls through `request_with_retry`, so they all agree on what is worth
retrying (timeouts, dropped connections, 408, 429, 5xx) and what is not (any other 4xx: a bad key, a bad model
name, a rejected prompt — trying again only burns quota). `CallLimits` adds the two bounds a page needs on top:
how many calls one provider may have in flight, and how long one page may take in total.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from inkstream.generators.base import GeneratorError

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429})
AUTH_STATUS = frozenset({401, 403})
_BODY_SNIPPET = 300


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one HTTP call before giving up."""

    max_attempts: int = 3
    timeout: float = 60.0  # seconds, per HTTP request (connect + each read), not per page
    backoff_base: float = 1.0  # the first retry waits up to this long; doubles each time (full jitter)
    backoff_max: float = 20.0
    # A Retry-After longer than this is not waited out: the page timeout would fire first anyway, so we fail
    # fast with retryable=True and let the runner decide when to come back.
    retry_after_max: float = 60.0


def backoff_delay(attempt: int, policy: RetryPolicy, rng: Callable[[], float] = random.random) -> float:
    """Full-jitter delay before retry number `attempt` (1-based): uniform in [0, min(max, base * 2**(n-1))]."""
    cap = min(policy.backoff_max, policy.backoff_base * (2 ** (attempt - 1)))
    return rng() * cap


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read the same way
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    return max(0.0, (when - current).total_seconds())


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every non-trivial secret replaced, so an API key never reaches a log, an event or the UI."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _describe(response: httpx.Response, provider: str, secrets: Iterable[str]) -> str:
    try:
        body = response.text
    except Exception:  # undecodable body: the status alone must do
        body = ""
    body = " ".join(body.split())[:_BODY_SNIPPET]
    if response.status_code in AUTH_STATUS:
        # Providers sometimes echo the key (or a prefix of it) back; keep only the status and redacted text.
        what = "authentication failed; check the API key"
    else:
        what = f"HTTP {response.status_code}"
    message = f"{provider}: {what} (HTTP {response.status_code})" + (f": {body}" if body else "")
    return redact(message, secrets)


async def request_with_retry(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    policy: RetryPolicy = RetryPolicy(),
    secrets: Iterable[str] = (),
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
    stream: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying what may succeed later; return the 2xx/3xx response or raise GeneratorError.

    `kwargs` go to `client.request` (json=, files=, headers=, …); `secrets` are scrubbed from every message.
    With `stream=True` the successful response comes back unread (the caller reads and closes it); retries
    then cover everything up to the response headers, not a stream that breaks halfway.
    """
    secrets = tuple(secrets)
    last_error = ""
    for attempt in range(1, policy.max_attempts + 1):
        wait: float | None = None
        try:
            if stream:
                request = client.build_request(method, url, timeout=policy.timeout, **kwargs)
                response = await client.send(request, stream=True)
                if response.status_code >= 400:
                    await response.aread()  # the error body is small and names the problem
                    await response.aclose()
            else:
                response = await client.request(method, url, timeout=policy.timeout, **kwargs)
        except httpx.TimeoutException:
            last_error = f"{provider}: timed out after {policy.timeout:g}s"
        except httpx.TransportError as exc:  # refused, reset, DNS, protocol error: the network, not the request
            last_error = redact(f"{provider}: connection error: {type(exc).__name__}: {exc}", secrets)
        else:
            status = response.status_code
            if status < 400:
                return response
            last_error = _describe(response, provider, secrets)
            if status < 500 and status not in RETRYABLE_STATUS:
                raise GeneratorError(last_error, retryable=False)
            if status == 429:
                wait = parse_retry_after(response.headers.get("retry-after"))
                if wait is not None and wait > policy.retry_after_max:
                    raise GeneratorError(
                        f"{last_error} (server asked to wait {wait:.0f}s, more than {policy.retry_after_max:g}s)",
                        retryable=True,
                    )
        if attempt == policy.max_attempts:
            break
        delay = wait if wait is not None else backoff_delay(attempt, policy, rng)
        logger.info("%s; retry %d/%d in %.2fs", last_error, attempt, policy.max_attempts - 1, delay)
        await sleep(delay)
    raise GeneratorError(f"{last_error} (gave up after {policy.max_attempts} attempts)", retryable=True)


@dataclass
class CallLimits:
    """Per-provider bounds: at most `concurrency` calls in flight, each page done within `page_timeout` seconds."""

    concurrency: int = 15
    page_timeout: float = 180.0
    _semaphore: asyncio.Semaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._semaphore = asyncio.Semaphore(self.concurrency)

    async def run(self, provider: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call` under the semaphore; the page clock starts once a slot is ours, not while queueing."""
        async with self._semaphore:
            try:
                return await asyncio.wait_for(call(), timeout=self.page_timeout)
            except TimeoutError:
                raise GeneratorError(
                    f"{provider}: page took longer than {self.page_timeout:g}s", retryable=True
                ) from None
