"""Settings: the only place that reads environment variables (prefix INKSTREAM_, `.env` supported)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class ConfigError(Exception):
    """The settings cannot work; the message says which one and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INKSTREAM_", env_file=".env", extra="ignore")

    env: Literal["dev", "production"] = "dev"
    data_dir: Path = Path("./inkstream-data")
    database_url: str = ""  # empty: SQLite in data_dir
    redis_url: str = ""  # empty: embedded mode (in-process event fan-out and worker)
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Whether anyone may register until an admin saves a registration setting (which then rules).
    public_registration: bool = True
    # For containers: create this administrator on start when no active administrator exists.
    admin_username: str = ""
    admin_password: str = ""
    # How often each API node reads the revocation feed (revoked sessions reach open streams within about this).
    session_poll_interval: float = Field(1.0, gt=0, le=5)
    # How often a node checks for a new providers version before starting a page.
    providers_check_interval: float = Field(2.0, gt=0, le=60)
    # Browsers reach the service over HTTPS (directly or through a TLS proxy): send HSTS (and mark cookies Secure).
    https: bool = False
    hsts_max_age: int = Field(365 * 24 * 3600, ge=0)
    # The web UI keeps its refresh token in an HttpOnly cookie that only same-origin requests may use: the
    # Origin header must name the host the request came to, or one of these (JSON list, e.g.
    # '["https://ink.example.com"]') when a proxy rewrites the Host header.
    trusted_origins: list[str] = Field(default_factory=list)

    access_token_ttl: int = Field(900, ge=1)  # 15 minutes, as in the seed system
    refresh_token_ttl: int = Field(30 * 24 * 3600, ge=60)
    # A client whose refresh response was lost (network cut) presents the spent token again: within this many
    # seconds, and while its successor is still unused, that is a retry, not theft. 0 turns the grace off.
    refresh_retry_grace: int = Field(20, ge=0, le=300)
    stream_ticket_ttl: int = Field(60, ge=1, le=60)
    image_url_ttl: int = Field(24 * 3600, ge=10)

    login_max_failures: int = Field(10, ge=1)  # per username
    login_max_failures_per_ip: int = Field(50, ge=1)
    login_window_seconds: int = Field(300, ge=1)

    sse_retry_ms: int = Field(3000, ge=100)
    heartbeat_interval: float = Field(15.0, gt=0)
    # Events a stream may have unsent before it is closed (the client resumes from its last id): a slow client
    # never slows the task's other streams.
    stream_buffer_events: int = Field(256, ge=1)
    # A connection whose sent bytes stay unacknowledged this long is cut (TCP_USER_TIMEOUT): a stream client that
    # vanished without a FIN is dropped within about two heartbeat intervals. Empty: the heartbeat interval.
    dead_client_timeout: float | None = Field(None, gt=0)
    # Connections the kernel queues while the server is busy accepting (capped by net.core.somaxconn): thousands of
    # clients reconnecting at once after a restart must queue, not be refused. uvicorn's default is 2048.
    listen_backlog: int = Field(4096, ge=1)

    max_body_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    max_topic_chars: int = Field(500, ge=1)
    max_pages: int = Field(30, ge=1)
    max_page_chars: int = Field(4000, ge=1)
    max_reference_images: int = Field(5, ge=0)
    max_reference_image_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    max_running_tasks_per_user: int = Field(3, ge=1)

    # Daily pages per role, e.g. {"user": 60, "pro": 600}; a role not listed (admins, unless set) is unlimited.
    daily_page_quota: dict[str, int] = Field(default_factory=dict)
    rollup_flush_interval: float = Field(5.0, gt=0, le=60)  # how often each node writes its per-minute counts

    page_concurrency: int = Field(4, ge=1)
    page_timeout: float = Field(600.0, gt=0)

    # Distributed mode (INKSTREAM_REDIS_URL set): names in Redis, retention, workers.
    redis_prefix: str = "inkstream"
    event_retention_seconds: int = Field(3600, ge=1)  # how long a finished task's stream stays in Redis
    worker_concurrency: int = Field(8, ge=1)  # page jobs at once per `inkstream worker` process
    sweep_interval: float = Field(15.0, gt=0)  # how often workers re-queue unfinished pages
    # A running page's lease: renewed every third of it; a page whose worker died runs elsewhere about this
    # many seconds (plus lease_check_interval) later, whatever page_timeout is.
    lease_seconds: float = Field(10.0, ge=1, le=120)
    lease_check_interval: float = Field(1.0, gt=0, le=30)
    # Artificial per-page latency of the offline generators, for demos and tests that need a long task.
    offline_delay: float = Field(0.0, ge=0)
    providers_file: Path | None = None
    metrics_token: str = ""  # empty: /api/metrics answers loopback clients only

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> Settings:
        if self.env == "production" and len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ConfigError(
                "INKSTREAM_SECRET_KEY must be set to at least "
                f"{MIN_SECRET_LENGTH} random characters when INKSTREAM_ENV=production"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return _async_driver(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'inkstream.db').resolve()}"

    @property
    def tcp_user_timeout(self) -> float:
        return self.dead_client_timeout or self.heartbeat_interval

    @property
    def distributed(self) -> bool:
        return bool(self.redis_url)

    @property
    def queue_name(self) -> str:
        return f"{self.redis_prefix}:queue"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @cached_property
    def signing_key(self) -> str:
        """The secret for JWTs and signed URLs; in dev mode generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this data dir won the race
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


def _async_driver(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite://` URLs and pick the async driver for them."""
    for plain, async_ in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                          ("sqlite://", "sqlite+aiosqlite://")):
        if url.startswith(plain):
            return async_ + url[len(plain):]
    return url
