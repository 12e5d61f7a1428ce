"""Request bodies and response shapes of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginBody(Credentials):
    cookie: bool = Field(False, description="Browsers: set the refresh token as an HttpOnly cookie scoped to "
                                            "/api/auth instead of returning it (refresh and logout then read it).")


class RefreshBody(BaseModel):
    refresh_token: str | None = Field(None, min_length=1, max_length=512,
                                      description="Omit to use the HttpOnly cookie set by a cookie login.")


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str | None = Field(description="null when the refresh token went into the HttpOnly cookie")
    token_type: str
    expires_in: int


class RegisterBody(Credentials):
    invite_code: str | None = Field(None, max_length=64)


class UserOut(BaseModel):
    id: int
    username: str
    is_admin: bool
    role: str = "user"


class MeOut(UserOut):
    is_active: bool = True
    session_id: str | None = None


class RegistrationConfigOut(BaseModel):
    enabled: bool
    invite_required: bool


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class SessionOut(BaseModel):
    id: str
    created_at: str | None
    last_used_at: str | None
    ip: str
    user_agent: str
    current: bool


class SessionsOut(BaseModel):
    items: list[SessionOut]


class OutlineBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    topic: str = Field(max_length=100_000)
    images: list[str] = Field(default_factory=list, max_length=100)


class PageBody(BaseModel):
    index: int = Field(ge=0)
    type: str = Field(max_length=16)
    content: str = Field(max_length=100_000)


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    pages: list[PageBody] = Field(max_length=1000)
    full_outline: str = Field("", max_length=200_000)
    user_topic: str = Field("", max_length=100_000)
    user_images: list[str] = Field(default_factory=list, max_length=100)


class RegenerateBody(BaseModel):
    index: int = Field(ge=0)


class TicketOut(BaseModel):
    ticket: str
    expires_in: int
