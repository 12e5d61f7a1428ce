"""Request bodies of the admin API (answers are the admin services' dicts, shaped as docs/admin-api.md says)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "pro", "admin"]


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    role: Role = "user"


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    password: str | None = Field(None, min_length=1, max_length=256)
    # Pages per day for this user, overriding the role's quota; null clears the override.
    daily_page_quota: int | None = Field(None, ge=0, le=1_000_000)


class UserStatus(BaseModel):
    is_active: bool


class ProvidersUpdate(BaseModel):
    config: dict[str, Any]
    comment: str = Field("", max_length=200, pattern=r"^[^\x00]*$")  # PostgreSQL text holds no NUL


class ProviderTest(BaseModel):
    section: Literal["text", "image"]
    provider: str = Field(min_length=1, max_length=64)


class RegistrationUpdate(BaseModel):
    enabled: bool
    invite_required: bool
    default_role: Role = "user"


class InviteCreate(BaseModel):
    max_uses: int = Field(1, ge=1, le=10_000)
    expires_in: int = Field(7 * 24 * 3600, ge=60, le=365 * 24 * 3600)
